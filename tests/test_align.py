"""Aligned crops and scheme maps, on real faces (YTF-68 val and the fixtures' WFLW samples)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facealign.align import align_faces, alignment_matrices, apply_matrix, invert_matrix, template_points, umeyama
from facealign.errors import SchemeError
from facealign.schemes import get_scheme
from facealign.schemes.maps import FIVE_POINTS, SCHEME_MAPS, five_points, map_points


def test_umeyama_agrees_with_scikit_image(ytf_val):
    from skimage.transform import SimilarityTransform

    rng = np.random.default_rng(0)
    for s in ytf_val.samples[:20]:
        src = s.landmarks.astype(np.float64)
        dst = template_points(112) if rng.random() < 0.5 else src[rng.permutation(68)] * 0.7 + 5
        five = five_points(src, "300w")
        for a, b in ((five, template_points(112)), (src, dst if dst.shape == src.shape else src * 1.3 + 7)):
            oracle = SimilarityTransform.from_estimate(a, b) if hasattr(SimilarityTransform, "from_estimate") else None
            if oracle is None:
                oracle = SimilarityTransform()
                oracle.estimate(a, b)
            np.testing.assert_allclose(umeyama(a, b), oracle.params[:2], atol=1e-6)


def test_umeyama_recovers_a_known_transform_and_refuses_degenerate_points():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 100, (5, 2))
    ang, sc, t = np.deg2rad(33), 1.7, np.array([12.0, -4.0])
    rot = sc * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    m = umeyama(src, src @ rot.T + t)
    np.testing.assert_allclose(m[:, :2], rot, atol=1e-9)
    np.testing.assert_allclose(m[:, 2], t, atol=1e-9)
    np.testing.assert_allclose(apply_matrix(invert_matrix(m), apply_matrix(m, src)), src, atol=1e-9)
    with pytest.raises(ValueError, match="all at one place"):
        umeyama(np.ones((5, 2)), src)


def _turn(image: np.ndarray, points: np.ndarray, deg: float, scale: float, shift: tuple[float, float]):
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, scale)
    m[:, 2] += shift
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR), apply_matrix(m, points)


def test_a_turned_scaled_shifted_face_gives_the_same_crop(ytf_val):
    s = ytf_val.samples[3]
    img, lm = s.load_image(), s.landmarks[None].astype(np.float64)
    ref = align_faces(img, lm, "300w")
    moved_img, moved_lm = _turn(img, lm, 25.0, 1.2, (6.0, -4.0))
    moved = align_faces(moved_img, moved_lm, "300w")
    diff = np.abs(ref.crops[0].astype(float) - moved.crops[0].astype(float))
    # the same face to within resampling: the middle of the crop, away from the warped borders
    assert diff[20:92, 20:92].mean() < 6.0
    np.testing.assert_allclose(moved.five[0], apply_matrix(cv2.getRotationMatrix2D(
        (img.shape[1] / 2, img.shape[0] / 2), 25.0, 1.2) + [[0, 0, 6.0], [0, 0, -4.0]], ref.five[0]), atol=1e-6)


@pytest.mark.parametrize("size", [112, 128, 224, 256])
def test_template_points_land_on_the_template_on_real_faces(ytf_val, size):
    """The five points of real faces land on the template within 0.5 px after alignment, scaled
    to 112 px; the residual is the faces' own shape, not the fit."""
    lms = ytf_val.landmarks()[::25].astype(np.float64)
    mats, five = alignment_matrices(lms, "300w", size=size)
    landed = np.stack([apply_matrix(m, f) for m, f in zip(mats, five)])
    resid = np.linalg.norm(landed - template_points(size), axis=-1) * 112 / size
    # least squares: the mean point lands on the template's mean exactly, every point near it
    np.testing.assert_allclose(landed.mean(1), np.broadcast_to(template_points(size).mean(0), (len(lms), 2)), atol=1e-6)
    assert np.median(resid) < 4.0 and np.isfinite(resid).all()


def test_template_points_are_exact_for_a_template_shaped_face():
    five = template_points(112) * 2.5 + [40, 30]
    lm = np.zeros((1, 68, 2))
    for k, idx in enumerate(FIVE_POINTS["300w"]):
        lm[0, list(idx)] = five[k]
    mats, _ = alignment_matrices(lm, "300w")
    assert np.abs(apply_matrix(mats[0], five) - template_points(112)).max() < 0.5


def test_padding_and_ffhq_crops_show_more_of_the_head(ytf_val):
    s = ytf_val.samples[0]
    lm = s.landmarks[None].astype(np.float64)
    tight, _ = alignment_matrices(lm, "300w", size=112)
    loose, _ = alignment_matrices(lm, "300w", size=112, padding=0.25)
    ffhq, five = alignment_matrices(lm, "300w", size=256, template="ffhq")
    eye_dist = lambda m: np.linalg.norm(apply_matrix(m, five[0, 1]) - apply_matrix(m, five[0, 0]))  # noqa: E731
    assert eye_dist(loose[0]) == pytest.approx(eye_dist(tight[0]) / 1.5, rel=1e-6)
    assert 0.2 < eye_dist(ffhq[0]) / 256 < 0.3  # FFHQ: eye distance about a quarter of the side
    crops = align_faces(s.load_image(), lm, "300w", size=256, template="ffhq")
    assert crops.crops.shape == (1, 256, 256, 3) and crops.matrices.shape == (1, 2, 3)


def test_no_face_gives_empty_arrays():
    res = align_faces(np.zeros((50, 50, 3), np.uint8), np.zeros((0, 68, 2)), "300w", size=128)
    assert res.crops.shape == (0, 128, 128, 3) and res.matrices.shape == (0, 2, 3) and len(res) == 0


# ---- scheme maps ------------------------------------------------------------------------------
@pytest.mark.parametrize("pair", sorted(SCHEME_MAPS))
def test_maps_commute_with_mirroring(pair):
    """Mirror then map = map then mirror: every declared map keeps left and right apart."""
    src, dst = pair
    k = get_scheme(src).num_points
    pts = np.random.default_rng(0).uniform(0, 200, (3, k, 2))
    mirrored = get_scheme(src).flip_points(pts, 200)
    a = map_points(mirrored, src, dst)
    b = map_points(pts, src, dst)
    b[..., 0] = 199 - b[..., 0]
    if dst == "five":
        b = b[:, [1, 0, 2, 4, 3]]
    else:
        b = get_scheme(dst).flip_points(map_points(pts, src, dst), 200)
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_wflw_to_68_on_real_wflw_faces(fixture_wflw):
    """WFLW faces mapped to 68 points: the parts sit where the 68-point mark-up puts them."""
    for s in fixture_wflw.samples:
        p = map_points(s.landmarks, "wflw", "300w")
        assert p.shape == (68, 2)
        assert p[36:42, 0].mean() < p[42:48, 0].mean()            # image-left eye left of the other
        assert p[36:48, 1].mean() < p[30, 1] < p[48:68, 1].mean()  # eyes above the nose tip above the mouth
        assert p[8, 1] > p[57, 1]                                   # chin below the lower lip
        np.testing.assert_allclose(p[0], s.landmarks[0])
        np.testing.assert_allclose(p[16], s.landmarks[32])


def test_undeclared_maps_are_refused_by_name():
    with pytest.raises(SchemeError, match="no map from scheme 'lapa' to '300w' is declared"):
        map_points(np.zeros((106, 2)), "lapa", "300w")


def test_cli_crop_writes_a_png_per_face_and_matrices(tmp_path, capsys):
    import json

    from conftest import ASTRONAUT

    from facealign.cli.main import main

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.jpg").write_bytes(ASTRONAUT.read_bytes())
    (src / "b.jpg").write_bytes(ASTRONAUT.read_bytes())
    out = tmp_path / "out"
    assert main(["crop", str(src), "--out", str(out), "--size", "128"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a_crops.json", "a_face0.png", "b_crops.json", "b_face0.png"]
    rec = json.loads((out / "a_crops.json").read_text())
    face = rec["faces"][0]
    assert rec["size"] == 128 and face["crop"] == "a_face0.png"
    landed = apply_matrix(np.array(face["matrix"]), np.array(face["five_points"]))
    assert np.abs(landed - template_points(128)).max() < 12  # a real face: its own shape, near the template
    assert cv2.imread(str(out / "a_face0.png")).shape == (128, 128, 3)
    (out / "b_crops.json").unlink()
    capsys.readouterr()
    assert main(["crop", str(src), "--out", str(out), "--size", "128", "--skip-existing"]) == 0
    assert "1 images, 1 faces" in capsys.readouterr().out and (out / "b_crops.json").is_file()
    (out / "a_face0.png").write_bytes(ASTRONAUT.read_bytes())  # someone else's file at an output path
    assert main(["crop", str(src), "--out", str(out)]) == 2
    assert "a_face0.png: exists and was not written by facealign" in capsys.readouterr().err


def test_evaluate_scores_a_98_point_model_on_68_point_data(tmp_path, capsys):
    import json

    from conftest import YTF, subset_csv

    from facealign.cli.main import main
    from facealign.models import create_model, save_model

    m = save_model(create_model("mobilenetv2", scheme="wflw", input_size=64), tmp_path / "wflw.safetensors")
    data = subset_csv(tmp_path, "val", 8)
    assert main(["evaluate", "--data", f"csv:{data}", "--images", str(YTF / "val" / "images"), "--model", str(m),
                 "--json"]) == 0
    out = capsys.readouterr()
    assert "wflw points mapped to 300w by the declared scheme map" in out.err
    assert json.loads(out.out)["n"] == 8


def test_predict_scheme_out(tmp_path, capsys):
    import json

    from conftest import ASTRONAUT

    from facealign.cli.main import main

    assert main(["predict", str(ASTRONAUT), "--scheme-out", "five", "--out", str(tmp_path)]) == 0
    rec = json.loads((tmp_path / "astronaut.json").read_text())
    assert rec["scheme"] == "five" and rec["num_points"] == 5 and len(rec["faces"][0]["landmarks"]) == 5
    eyes = np.array(rec["faces"][0]["landmarks"][:2])
    assert eyes[0, 0] < eyes[1, 0]
    capsys.readouterr()
    assert main(["predict", str(ASTRONAUT), "--scheme-out", "wflw", "--out", str(tmp_path / "b")]) == 2
    assert "no map from scheme '300w' to 'wflw' is declared" in capsys.readouterr().err
