"""The one face crop used by training, evaluation and inference.

A face box (x1, y1, x2, y2) -- from the landmarks ("P1") or from the data set / a detector ("P2")
-- becomes a square of side ``scale * max(w, h)`` (w = x2 - x1) around the box centre, warped to
``size x size`` pixels. The map is an affine matrix ``M`` (2 x 3) from image pixels to crop pixels
in the library's pixel convention (centres at integers), so the box centre lands on the crop
centre ``(size - 1) / 2``, and points map back exactly with the inverse of ``M``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Protocol

import cv2
import numpy as np

from facealign.constants import CROP_SCALE
from facealign.errors import DataError

if TYPE_CHECKING:
    from facealign.data.sample import Sample

DEFAULT_CROP_SCALE = CROP_SCALE
BoxSource = Literal["landmarks", "dataset"]


class CropSpec(Protocol):
    """How a model sees a face: what :class:`facealign.models.ModelConfig` carries about its crop.

    Attributes:
        input_size: Crop side S in pixels.
        crop_scale: Box enlargement.
        box: ``landmarks`` (P1) or ``dataset`` (P2): the box the model was trained with.
    """

    input_size: int
    crop_scale: float
    box: str


def face_box(sample: "Sample", box: BoxSource) -> np.ndarray:
    """The (4,) box a crop is built from: the landmarks' tight box ("P1") or the data set's ("P2")."""
    if box == "landmarks":
        return sample.landmark_box()
    if box == "dataset":
        if sample.box is None:
            raise DataError(sample.source, "this face has no box in the data set; use box='landmarks'")
        return sample.box
    raise ValueError(f"box must be 'landmarks' or 'dataset', got {box!r}")


def crop_matrix(box: np.ndarray, size: int, scale: float = DEFAULT_CROP_SCALE, rotation_deg: float = 0.0,
                shift: tuple[float, float] = (0.0, 0.0), flip: bool = False) -> np.ndarray:
    """Affine map from image pixels to the ``size`` x ``size`` crop of ``box``.

    Args:
        box: (4,) x1, y1, x2, y2 in image pixels.
        size: Output side S in pixels.
        scale: Enlargement of the box's longer side (1.25 = 25 % context).
        rotation_deg: Rotation of the image content about the box centre, counter-clockwise.
        shift: Offset of the crop centre in units of the crop side (augmentation).
        flip: Mirror the crop horizontally (x' -> S - 1 - x'); landmark labels must then be
            permuted with the scheme's ``flip_perm``.

    Returns:
        (2, 3) float64 matrix ``M`` with ``crop_xy = M @ [x, y, 1]``.

    Raises:
        ValueError: the box has zero, negative or non-finite size.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    if not (math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0):
        raise ValueError(f"face box {[x1, y1, x2, y2]} has zero, negative or non-finite size")
    side = scale * max(w, h)
    k = size / side
    cx, cy = (x1 + x2) / 2.0 + shift[0] * side, (y1 + y2) / 2.0 + shift[1] * side
    a = math.radians(rotation_deg)
    cos, sin = math.cos(a) * k, math.sin(a) * k
    # rotation by +a (counter-clockwise on screen, where y points down) about the centre
    lin = np.array([[cos, sin], [-sin, cos]])
    if flip:
        lin = np.array([[-1.0, 0.0], [0.0, 1.0]]) @ lin
    c_out = (size - 1) / 2.0
    t = np.array([c_out, c_out]) - lin @ np.array([cx, cy])
    return np.concatenate([lin, t[:, None]], axis=1)


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a (2, 3) affine matrix (or a (..., 2, 3) stack)."""
    m = np.asarray(m, dtype=np.float64)
    lin, t = m[..., :2], m[..., 2:]
    inv = np.linalg.inv(lin)
    return np.concatenate([inv, -inv @ t], axis=-1)


def transform_points(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine map to (..., K, 2) points (numpy)."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ m[:, :2].T + m[:, 2]


def warp_crop(image: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    """Warp ``image`` with the crop matrix ``m`` to (size, size, C).

    Areas outside the image become black. When the crop shrinks the face by more than 2x, the
    region is first reduced with area averaging so that the result is not aliased (a plain
    bilinear warp samples only 4 of the many source pixels behind each output pixel).
    """
    lin = m[:, :2]
    k = math.sqrt(abs(np.linalg.det(lin)))
    if k < 0.5:
        small, to_small = _area_shrunk_region(image, m, size, k)
        if small is not None:
            m = m @ np.vstack([invert_affine(to_small), [0, 0, 1]])
            image = small
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=0)


def _area_shrunk_region(image: np.ndarray, m: np.ndarray, size: int, k: float
                        ) -> tuple[np.ndarray | None, np.ndarray]:
    """The region of ``image`` a crop of scale ``k`` < 0.5 covers, area-averaged by n = 2^j, the
    least power of two with k * n >= 0.5 (a bilinear step of 1-2x is left); and the (2, 3) map
    image -> that small region. Returns (None, _) when the region is under two pixels.

    Halvings because OpenCV's area resize has a fast path for exactly 2x: a 672 px face region
    shrunk 4x in two halvings took 0.11 ms, in one 4x step 0.58 ms, 3x 0.82 ms, and 672 -> 256 px
    2.0 ms on a 2-core EPYC (the result is the same block average, within rounding); a group
    photo's 20 faces and their refine pass spent ~60 ms of a 530 ms call here (docs/speed.md)."""
    j = math.ceil(math.log2(0.5 / k))
    n = 2 ** j
    inv = invert_affine(m)
    corners = np.array([[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1]], np.float64)
    src = transform_points(corners, inv)
    h, w = image.shape[:2]
    pad = 2 * n  # the bilinear step reads one small pixel beyond the corners; trimming below drops < n
    x0 = max(int(math.floor(src[:, 0].min())) - pad, 0)
    y0 = max(int(math.floor(src[:, 1].min())) - pad, 0)
    nw = (min(int(math.ceil(src[:, 0].max())) + pad, w) - x0) // n
    nh = (min(int(math.ceil(src[:, 1].max())) + pad, h) - y0) // n
    if nw < 2 or nh < 2:
        return None, m
    small = image[y0:y0 + nh * n, x0:x0 + nw * n]
    for step in range(j):
        side = 2 ** (j - step - 1)
        small = cv2.resize(small, (nw * side, nh * side), interpolation=cv2.INTER_AREA)
    # small-pixel q (centre convention) <- image pixel p: q = (p - x0 + 0.5) / n - 0.5
    f = 1.0 / n
    return small, np.array([[f, 0, (0.5 - x0) * f - 0.5], [0, f, (0.5 - y0) * f - 0.5]])


CROP_CONVENTIONS = ("facealign", "h3r", "acr")
ACR_MARGIN_PX = 10  # the ACR toolkit's fixed margin around the landmark box (300-W protocol)


def h3r_crop(image: np.ndarray, box: np.ndarray, size: int, scale: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """The H3R authors' crop (their ``api.py``), for models imported from them: a square of side
    ``scale * max(w + 1, h + 1)`` about the box centre, computed in float32, cut by Pillow (which
    rounds it to whole pixels, so it may come out a pixel off square), resized bilinearly to
    ``size``; the returned (2, 3) matrix maps the *unrounded* square to the crop, as their inverse
    map does (a <= 0.5 px inconsistency that is theirs, kept so that their numbers reproduce).

    Returns:
        ((size, size, 3) uint8 crop, (2, 3) image-to-crop matrix).
    """
    from PIL import Image

    x1, y1, x2, y2 = (np.float32(v) for v in box)
    one, two = np.float32(1), np.float32(2)
    side = np.float32(scale) * max(x2 - x1 + one, y2 - y1 + one)
    x0, y0 = (x1 + x2 - side + one) / two, (y1 + y2 - side + one) / two
    rect = (float(x0), float(y0), float(x0 + side), float(y0 + side))
    crop = Image.fromarray(image).crop(rect).resize((size, size), Image.Resampling.BILINEAR)
    k = size / float(side)
    return np.asarray(crop), np.array([[k, 0.0, -k * rect[0]], [0.0, k, -k * rect[1]]])


def acr_crop(image: np.ndarray, box: np.ndarray, size: int, jpeg_round_trip: bool = True
             ) -> tuple[np.ndarray, np.ndarray]:
    """The ACR authors' test crop (their FLD-DD toolkit), for models imported from them: the box
    in 1-based ``.pts`` pixels (rounded to 3 decimals) widened by 10 px on every side, truncated to
    integers and clipped at the top-left image border, sliced (end exclusive, so clipped at the
    bottom-right too) and stretched *anisotropically* to ``size x size`` with scikit-image's
    anti-aliased bilinear resize (reproduced here with SciPy, the calls scikit-image makes), then
    stored as a quality-75 JPEG and read back, as their toolkit stores the crops that their test
    script reads (Pillow's encoder and decoder give their network inputs bit for bit).

    Args:
        image: (H, W, 3) uint8 RGB.
        box: (4,) x1, y1, x2, y2 in facealign's 0-based pixels (the landmarks' tight box).
        size: Output side S.
        jpeg_round_trip: False: the crop before the JPEG step (for checking the resize alone).

    Returns:
        ((size, size, 3) uint8 crop, (2, 3) image-to-crop matrix; x and y scales differ).
    """
    from scipy import ndimage

    x1, y1, x2, y2 = (float(np.round(float(v) + 1.0, 3)) for v in box)
    xmin, ymin = int(max(0.0, x1 - ACR_MARGIN_PX)), int(max(0.0, y1 - ACR_MARGIN_PX))
    xmax, ymax = int(x2 + ACR_MARGIN_PX), int(y2 + ACR_MARGIN_PX)
    cut = image[ymin:ymax, xmin:xmax]
    if min(cut.shape[:2]) < 2:  # a box (almost) off the image: black, as the other conventions
        cut = np.zeros((max(ymax - ymin, 2), max(xmax - xmin, 2), image.shape[2]), image.dtype)
    h, w = cut.shape[:2]
    src = np.multiply(cut, 1.0 / 255.0, dtype=np.float64)  # as scikit-image converts uint8
    factors = np.array([h / size, w / size, 1.0])
    sigma = np.maximum(0.0, (factors - 1.0) / 2.0)  # scikit-image's anti-aliasing sigma
    # scikit-image's mode "reflect" is SciPy's "mirror"; resize samples cell centres (grid_mode)
    filtered = ndimage.gaussian_filter(src, sigma, mode="mirror")
    out = ndimage.zoom(filtered, 1.0 / factors, order=1, mode="mirror", grid_mode=True)
    out = np.clip(out, src.min(), src.max())
    crop = np.round(out * 255.0).astype(np.uint8)
    if jpeg_round_trip:
        crop = _jpeg_round_trip(crop)
    kx, ky = size / w, size / h
    # their map back: x_pts = xmin + x_crop * w / S, with x_pts = x + 1 in facealign's pixels
    return crop, np.array([[kx, 0.0, (1.0 - xmin) * kx], [0.0, ky, (1.0 - ymin) * ky]])


def _jpeg_round_trip(crop: np.ndarray, quality: int = 75) -> np.ndarray:
    """``crop`` saved as a JPEG (Pillow's default quality, 75) and decoded again."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(crop).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


def cut_face(image: np.ndarray, box: np.ndarray, spec: "CropSpec", rotation_deg: float = 0.0
             ) -> tuple[np.ndarray, np.ndarray]:
    """The model's crop of one face in the model's crop convention (``spec.crop``, default
    facealign's affine warp; ``h3r`` and ``acr`` have no rotation, so ``rotation_deg`` is ignored
    there).

    Returns:
        ((S, S, 3) uint8 crop, (2, 3) image-to-crop matrix).
    """
    if getattr(spec, "crop", "facealign") == "h3r":
        return h3r_crop(image, box, spec.input_size, spec.crop_scale)
    if getattr(spec, "crop", "facealign") == "acr":
        return acr_crop(image, box, spec.input_size)
    m = crop_matrix(box, spec.input_size, spec.crop_scale, rotation_deg=rotation_deg)
    return warp_crop(image, m, spec.input_size), m


def model_crops(samples: Sequence["Sample"], spec: CropSpec, box: BoxSource | None = None
                ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Cut each sample's face the way a model with crop settings ``spec`` sees it (numpy/OpenCV only).

    Args:
        samples: Samples of a LandmarkSet.
        spec: The model's crop settings (a ``ModelConfig``).
        box: ``landmarks`` (P1) or ``dataset`` (P2); default ``spec.box``.

    Returns:
        ((N, S, S, 3) uint8 RGB crops, N (2, 3) image-to-crop matrices).
    """
    cuts = [cut_face(x.load_image(), face_box(x, box or spec.box), spec) for x in samples]  # type: ignore[arg-type]
    return np.stack([c for c, _ in cuts]), [m for _, m in cuts]
