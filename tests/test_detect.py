"""The detection policy (face sizes in original pixels), YuNet with its keypoints, turned-copy
search for rolled faces, and upright crops, on real YTF-68 val faces."""

import os
import sys

import cv2
import numpy as np
import pytest
from conftest import REPO

from facealign.detect import Detections, SearchPolicy, create_detector, yuface_available
from facealign.detect.frame import roll_degrees, turned_copy, upright_boxes
from facealign.detect.policy import ALL_ROLLS, merge_same_faces, pyramid_scales, resize_by, smallest_face_searched
from facealign.errors import FaceAlignError

sys.path.insert(0, str(REPO / "benchmarks"))
from field_images import group_photo, rotated  # noqa: E402

needs_yuface = pytest.mark.skipif(not yuface_available(), reason="yuface has wheels for CPython <= 3.11 only")


def face_centre(points):
    return (points.min(0) + points.max(0)) / 2


def found(det: Detections, points) -> bool:
    c = face_centre(points)
    b = det.image_boxes()
    return bool(np.any((b[:, 0] <= c[0]) & (c[0] <= b[:, 2]) & (b[:, 1] <= c[1]) & (c[1] <= b[:, 3])))


@pytest.mark.parametrize("h,w", [(240, 320), (3024, 4032), (600, 900)])
def test_pyramid_covers_the_policy_range(h, w):
    """Every face size from the smallest searched to the image size falls in some level's range."""
    policy = SearchPolicy(min_face=20)
    scales = pyramid_scales(h, w, policy, 16, 400)
    smallest = smallest_face_searched(h, w, policy, 16)
    for face in np.geomspace(smallest, max(h, w), 40):
        assert any(16 * 0.999 <= face * s <= 400 * 1.001 for s in scales), face
    # the finest level never exceeds the pixel budget
    assert h * w * scales[0] ** 2 <= policy.max_pixels * 1.0001


def test_pixel_budget_raises_the_smallest_face_and_says_so():
    policy = SearchPolicy(min_face=20, max_pixels=2e6)
    assert smallest_face_searched(480, 640, policy, 16) == pytest.approx(20)
    big = smallest_face_searched(3024, 4032, policy, 16)
    assert big == pytest.approx(16 / np.sqrt(2e6 / (3024 * 4032)))


@pytest.mark.parametrize("kwargs,message", [
    ({"min_face": 2}, "min_face must be a number of pixels >= 4"),
    ({"min_face": 40, "max_face": 30}, "max_face must be >= min_face"),
    ({"max_pixels": 10}, "max_pixels must be >= 4096"),
    ({"rolls": (0, 400)}, "search rolls must be degrees in [-180, 180]"),
    ({"rolls": ()}, "rolls must name at least one angle"),
])
def test_bad_policy_is_one_clear_error(kwargs, message):
    with pytest.raises(FaceAlignError, match=message.replace("[", r"\[").replace("]", r"\]")):
        SearchPolicy(**kwargs)


def test_same_face_at_two_rolls_is_merged_and_the_most_confident_kept():
    boxes = np.array([[100, 100, 200, 200], [110, 95, 215, 190], [400, 400, 480, 480]], np.float32)
    keep = merge_same_faces(boxes, np.array([0.7, 0.9, 0.8]))
    assert keep.tolist() == [1, 2]


def test_upright_box_does_not_change_with_roll(ytf_val):
    pts = ytf_val.samples[0].landmarks.astype(np.float64)
    c = pts.mean(0)
    base = upright_boxes(pts[None], roll_degrees(pts[None, 36], pts[None, 45]))[0]
    for deg in (30, 90, -135):
        img = np.zeros((400, 400, 3), np.uint8)
        _, m = turned_copy(img, deg)
        turned = (pts - c) @ m[:, :2].T + c
        r = roll_degrees(turned[None, 36], turned[None, 45])
        box = upright_boxes(turned[None], r)[0]
        assert np.allclose(box[2:] - box[:2], base[2:] - base[:2], atol=1e-6)


def test_turned_boxes_give_axis_aligned_image_boxes():
    det = Detections(np.array([[0, 0, 20, 10]], np.float32), np.ones(1, np.float32), roll=np.array([90.0], np.float32))
    assert np.allclose(det.image_boxes(), [[5, -5, 15, 15]], atol=1e-5)


@needs_yuface
def test_yunet_finds_val_faces_with_keypoints_on_the_eyes(ytf_val):
    det = create_detector("yunet")
    for s in ytf_val.samples[:40:8]:
        d = det.detect(s.load_image())
        assert found(d, s.landmarks)
        j = 0  # largest face; YTF-68 frames have one annotated face, sometimes people behind it
        eyes = d.keypoints[j, :2]
        gt_eyes = np.stack([s.landmarks[36:42].mean(0), s.landmarks[42:48].mean(0)])
        iod = np.linalg.norm(gt_eyes[1] - gt_eyes[0])
        assert np.linalg.norm(eyes - gt_eyes, axis=1).max() < 0.35 * iod


@needs_yuface
@pytest.mark.parametrize("width", [1200, 4032])
def test_yunet_finds_the_group_photo_faces_at_phone_size(ytf_val, width):
    image, faces = group_photo(ytf_val, width)
    d = create_detector("yunet").detect(image)
    assert sum(found(d, f) for f in faces) >= 19
    assert len(d) <= 22  # no flood of false faces on the upscaled canvas
    if width == 4032:
        assert d.min_face_searched > 20  # the pixel budget raised it, and it says so


@needs_yuface
def test_rolled_faces_get_landmarks_as_good_as_upright(ytf_val):
    """Val faces turned by 90 and 45 degrees: the turned-copy search finds them and the upright
    crops give the same accuracy as the faces as they are (within 0.3 points of NME)."""
    from facealign.detect import YuNetDetector
    from facealign.metrics.nme import nme
    from facealign.predict import FaceAligner

    al = FaceAligner("default", detector=YuNetDetector(SearchPolicy(rolls=ALL_ROLLS)), refine=1)
    samples = ytf_val.samples[5:200:20]
    errors = {}
    for angle in (0, 45, 90):
        pred, gt = [], []
        for s in samples:
            img, pts = rotated(s, angle) if angle else (s.load_image(), s.landmarks)
            res = al.predict(img)
            j = int(np.argmin([np.linalg.norm(face_centre(lm) - face_centre(pts)) for lm in res.landmarks]))
            pred.append(res.landmarks[j])
            gt.append(pts)
        errors[angle] = float(np.mean(nme(np.array(pred), np.array(gt, np.float32), ytf_val.scheme)))
    assert errors[0] < 0.06
    assert errors[45] < errors[0] + 0.003 and errors[90] < errors[0] + 0.003, errors


@needs_yuface
def test_a_lone_rolled_face_is_found_by_the_fallback_search(ytf_val):
    s = ytf_val.samples[24]
    img, pts = rotated(s, 90)
    d = create_detector("yunet").detect(img)
    assert found(d, pts) and abs(d.roll[0] + 90) < 1e-6


def test_turned_copy_keeps_the_whole_image():
    img = np.zeros((100, 200, 3), np.uint8)
    img[0, 0] = img[-1, -1] = 255
    out, m = turned_copy(img, 45)
    corners = np.array([[0, 0], [199, 99]], np.float64) @ m[:, :2].T + m[:, 2]
    assert (corners >= -0.5).all() and (corners[:, 0] <= out.shape[1] - 0.5).all() and (corners[:, 1] <= out.shape[0] - 0.5).all()
    assert cv2.countNonZero(out[..., 0]) > 0


def _linear_faces(rng, n, weights):
    """n faces whose landmark box follows ``weights`` exactly from box + keypoints features."""
    from facealign.detect.calibration import keypoint_features

    c = rng.uniform(100, 300, (n, 2))
    side = rng.uniform(40, 120, n)
    boxes = np.concatenate([c - side[:, None] / 2, c + side[:, None] / 2], axis=1)
    template = np.array([[-0.2, -0.1], [0.2, -0.1], [0.0, 0.05], [-0.15, 0.2], [0.15, 0.2]])
    kp = c[:, None] + (template + rng.normal(0, 0.03, (n, 5, 2))) * side[:, None, None]
    y = keypoint_features(boxes, kp) @ weights
    lc = c + y[:, :2] * side[:, None]
    half = np.exp(y[:, 2]) * side / 2
    return boxes, kp, np.concatenate([lc - half[:, None], lc + half[:, None]], axis=1)


def test_keypoint_fit_recovers_a_linear_framing_and_ignores_outliers():
    from facealign.detect.calibration import BoxCalibration, fit_keypoint_calibration

    rng = np.random.default_rng(0)
    weights = rng.normal(0, 0.2, (12, 3))
    boxes, kp, lm_boxes = _linear_faces(rng, 400, weights)
    wrong = lm_boxes.copy()
    wrong[:20] += 50  # wrong matches: landmark boxes of other faces
    fit = fit_keypoint_calibration(boxes, kp, wrong)
    framed = BoxCalibration(keypoint_fit=tuple(map(tuple, fit))).apply(boxes, keypoints=kp)
    assert np.abs(framed[20:] - lm_boxes[20:]).max() < 1e-3 * np.abs(lm_boxes).max()
    # a face without keypoints falls back to the constants
    no_kp = kp.copy()
    no_kp[0, 2] = np.nan
    framed = BoxCalibration(dx=0.0, dy=0.1, scale=0.8, keypoint_fit=tuple(map(tuple, fit))).apply(boxes[:1], keypoints=no_kp[:1])
    side = boxes[0, 2] - boxes[0, 0]
    np.testing.assert_allclose((framed[0, :2] + framed[0, 2:]) / 2, (boxes[0, :2] + boxes[0, 2:]) / 2 + [0, 0.1 * side], atol=1e-3)
    np.testing.assert_allclose(framed[0, 2] - framed[0, 0], 0.8 * side, rtol=1e-5)


def test_keypoint_framing_turns_with_the_face():
    """A box and keypoints found in a copy turned by r give the same framing, turned by r."""
    from facealign.detect.calibration import BoxCalibration
    from facealign.detect.frame import rotate

    rng = np.random.default_rng(1)
    boxes, kp, _ = _linear_faces(rng, 3, np.zeros((12, 3)))
    cal = BoxCalibration(keypoint_fit=tuple(map(tuple, rng.normal(0, 0.2, (12, 3)))))
    upright = cal.apply(boxes, keypoints=kp)
    for r in (30.0, -90.0):
        c = (boxes[:, :2] + boxes[:, 2:]) / 2
        turned_kp = rotate(kp - c[:, None], np.full(3, r)) + c[:, None]
        turned = cal.apply(boxes, np.full(3, r), turned_kp)
        want = rotate(((upright[:, :2] + upright[:, 2:]) / 2 - c)[:, None], np.full(3, r))[:, 0] + c
        np.testing.assert_allclose((turned[:, :2] + turned[:, 2:]) / 2, want, atol=1e-3)
        np.testing.assert_allclose(turned[:, 2] - turned[:, 0], upright[:, 2] - upright[:, 0], rtol=1e-5)


@needs_yuface
def test_shipped_keypoint_fit_frames_val_faces_closer_than_the_box_alone(ytf_val):
    """The keypoint fit in calibration.json (fitted on YTF-68 train) places val faces' landmark
    boxes closer than the box constants do: centre error and side error, on 60 val faces."""
    from dataclasses import replace

    from facealign.detect.calibration import calibration_for
    from facealign.train.detector_boxes import face_of

    cal = calibration_for("yunet")
    assert cal.keypoint_fit is not None
    det = create_detector("yunet")
    errors = {"fit": [], "box": []}
    for s in ytf_val.samples[::12]:
        d = det.detect(s.load_image())
        lm = s.landmark_box()
        j = face_of(lm, d.boxes)
        side = max(lm[2] - lm[0], lm[3] - lm[1])
        for name, c in (("fit", cal), ("box", replace(cal, keypoint_fit=None))):
            b = c.apply(d.boxes[j:j + 1], keypoints=d.keypoints[j:j + 1])[0]
            centre_err = np.linalg.norm((b[:2] + b[2:]) / 2 - (lm[:2] + lm[2:]) / 2) / side
            errors[name].append(centre_err + abs(np.log((b[2] - b[0]) / side)))
    assert len(errors["fit"]) >= 60
    assert np.mean(errors["fit"]) < 0.9 * np.mean(errors["box"])


def test_a_bad_keypoint_fit_in_the_calibration_file_is_one_clear_error(tmp_path, monkeypatch):
    import json

    from facealign.detect import calibration

    bad = tmp_path / "calibration.json"
    bad.write_text(json.dumps({"detectors": {"yunet": {"dx": 0, "dy": 0, "scale": 1, "keypoint_fit": [[0.0] * 3] * 5}}}))
    monkeypatch.setattr(calibration, "CALIBRATION_FILE", bad)
    with pytest.raises(ValueError, match=r"calibration.json: yunet.keypoint_fit must be 12 rows of 3 finite numbers"):
        calibration.calibration_for("yunet")


@needs_yuface
def test_the_pipeline_frames_faces_with_the_keypoints(ytf_val):
    """FaceAligner.frame_faces uses the keypoint fit where YuNet gives keypoints, the box constants
    where it does not, and, with axis-aligned crops, ignores keypoints of a face found turned."""
    from dataclasses import replace

    from facealign.detect.calibration import calibration_for
    from facealign.predict import FaceAligner

    det = create_detector("yunet").detect(ytf_val.samples[0].load_image())
    assert len(det) and np.isfinite(det.keypoints).all()
    cal = calibration_for("yunet")
    al = FaceAligner("default", detector="yunet", backend="onnx")
    boxes, _ = al.frame_faces(det)
    np.testing.assert_allclose(boxes, cal.apply(det.boxes, det.roll, det.keypoints), atol=1e-4)
    assert not np.allclose(boxes, replace(cal, keypoint_fit=None).apply(det.boxes, det.roll), atol=0.5)
    no_kp = Detections(det.boxes, det.scores)
    np.testing.assert_allclose(al.frame_faces(no_kp)[0], replace(cal, keypoint_fit=None).apply(det.boxes), atol=1e-4)
    al.upright = False
    turned = Detections(det.boxes, det.scores, det.keypoints, roll=np.full(len(det), 90.0, np.float32))
    np.testing.assert_allclose(al.frame_faces(turned)[0], replace(cal, keypoint_fit=None).apply(turned.image_boxes()),
                               atol=1e-4)


@pytest.mark.parametrize("shape,scale", [((1613, 2016), 0.3924), ((1001, 777), 0.25), ((640, 480), 0.5), ((222, 213), 0.8),
                                         ((100, 90), 1.6)])
def test_resize_by_matches_one_area_resize(shape, scale):
    """Halving first (OpenCV's fast path) gives the size and, within rounding, the pixels of one
    area resize, and keeps content where the scale maps it: x' = (x + 0.5) * scale - 0.5."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    p = np.array([w * 0.37 + 0.3, h * 0.61 - 0.2])
    blob = np.exp(-((xx - p[0]) ** 2 + (yy - p[1]) ** 2) / (2 * (min(h, w) / 15) ** 2))
    img = np.repeat((blob * 250).astype(np.uint8)[:, :, None], 3, axis=2)
    out = resize_by(img, scale)
    size = (round(w * scale), round(h * scale))
    one = cv2.resize(img, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    assert out.shape == one.shape
    assert np.abs(out.astype(float) - one).mean() < 0.5
    level = out[..., 0].astype(float)
    ys, xs = np.mgrid[0:out.shape[0], 0:out.shape[1]]
    centroid = np.array([(xs * level).sum(), (ys * level).sum()]) / level.sum()
    np.testing.assert_allclose(centroid, (p + 0.5) * np.array([size[0] / w, size[1] / h]) - 0.5, atol=0.6)


@pytest.mark.skipif(not yuface_available(), reason="yuface not installed")
@pytest.mark.parametrize("detector", ["auto", "yunet"])
def test_openmp_wait_policy_is_set_before_yuface_loads(detector):
    """yuface's OpenMP runtime reads OMP_WAIT_POLICY when yuface is first imported: the default
    detector set it only after its availability check had imported yuface (so it was ignored)."""
    import subprocess

    code = (
        "import os, sys\n"
        "seen = []\n"
        "class Hook:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'yuface':\n"
        "            seen.append(os.environ.get('OMP_WAIT_POLICY'))\n"
        "        return None\n"
        "sys.meta_path.insert(0, Hook())\n"
        "from facealign.predict import FaceAligner\n"
        f"FaceAligner(detector={detector!r})\n"
        "print(seen)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "['PASSIVE']"
