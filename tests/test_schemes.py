import json

import numpy as np
import pytest
from conftest import FIXTURES, OFFICIAL

from facealign.data import load_dataset
from facealign.errors import SchemeError
from facealign.schemes import BUILTIN_SCHEMES, IBUG_68, Scheme, get_scheme, load_scheme_file


@pytest.mark.parametrize("name", sorted(BUILTIN_SCHEMES))
def test_flip_perm_is_involution(name):
    s = BUILTIN_SCHEMES[name]
    perm = np.array(s.flip_perm)
    assert len(perm) == s.num_points
    assert np.array_equal(perm[perm], np.arange(s.num_points))
    # every group is within range and groups of a side map onto the other side
    for g, idx in s.groups.items():
        mirrored = {int(perm[i]) for i in idx}
        if g.startswith("right_"):
            assert mirrored == set(s.groups["left_" + g[len("right_"):]])


REAL = [
    ("300w", f"300w:{OFFICIAL / '300w'}"),
    ("wflw", f"wflw:{OFFICIAL / 'wflw'}"),
    ("cofw", f"cofw:{OFFICIAL / 'cofw' / 'COFW_test.mat'}"),
    ("lapa", f"lapa:{OFFICIAL / 'lapa'}"),
    ("aflw", f"coco:{FIXTURES / 'aflw' / 'test_aflw.json'}"),
]


@pytest.mark.parametrize("name,spec", REAL)
def test_flip_twice_is_identity_on_real_faces(name, spec):
    ds = load_dataset(spec)
    assert ds.scheme.name == name
    for s in ds:
        w = s.load_image().shape[1]
        once = ds.scheme.flip_points(s.landmarks, w)
        twice = ds.scheme.flip_points(once, w)
        assert np.array_equal(twice, s.landmarks)


@pytest.mark.parametrize("name,spec", REAL)
def test_left_right_pairs_land_on_mirrored_side(name, spec):
    """On a real face, subject-right points lie left of subject-left points in the image; after
    the flip, the same labels must again satisfy that (labels re-assigned, not just mirrored)."""
    ds = load_dataset(spec)
    sch = ds.scheme
    a, b = sch.outer_eye_corners
    for s in ds:
        w = s.load_image().shape[1]
        flipped = sch.flip_points(s.landmarks, w)
        assert s.landmarks[a, 0] < s.landmarks[b, 0], "fixture face should be roughly frontal"
        assert flipped[a, 0] < flipped[b, 0]
        # the flipped label a is the mirror of the original point b
        assert flipped[a, 0] == pytest.approx(w - 1 - s.landmarks[b, 0])
        assert flipped[a, 1] == pytest.approx(s.landmarks[b, 1])


def test_custom_scheme_yaml_and_json(tmp_path):
    y = tmp_path / "five.yaml"
    y.write_text("name: five\nnum_points: 5\nflip_pairs: [[0, 1], [3, 4]]\n"
                 "groups: {eyes: [0, 1], nose: [2], mouth: [3, 4]}\nouter_eye_corners: [0, 1]\npupils: [[0], [1]]\n")
    s = get_scheme(str(y))
    assert s.num_points == 5 and s.flip_perm == (1, 0, 2, 4, 3)
    j = tmp_path / "five.json"
    j.write_text(json.dumps(s.to_dict()))
    assert load_scheme_file(j) == s


def test_bad_schemes_are_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nnum_points: 3\nflip_perm: [1, 2, 0]\n")
    with pytest.raises(SchemeError, match="bad.yaml.*involution"):
        get_scheme(str(bad))
    bad.write_text("name: x\nnum_points: 3\nflip_perm: [0, 1, 2]\ncolour: red\n")
    with pytest.raises(SchemeError, match="unknown key.*colour"):
        get_scheme(str(bad))
    bad.write_text("name: x\nnum_points: three\n")
    with pytest.raises(SchemeError, match="num_points must be an integer"):
        get_scheme(str(bad))
    with pytest.raises(SchemeError, match="unknown scheme"):
        get_scheme("nope")
    with pytest.raises(SchemeError, match="index 7 outside"):
        Scheme("x", 3, (0, 1, 2), groups={"g": (7,)})


def test_flip_points_checks_count():
    with pytest.raises(SchemeError, match="68 points"):
        IBUG_68.flip_points(np.zeros((5, 2)), 100)
