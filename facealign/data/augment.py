"""On-the-fly training augmentation: geometry (folded into the crop matrix, so each image is warped
once) and photometry (on the crop). Everything draws from a ``numpy.random.Generator``, so a seed
fixes the result."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facealign.data.crop import crop_matrix


@dataclass
class AugmentConfig:
    """Probabilities and ranges of each augmentation. Set a probability to 0 to turn one off.

    Attributes:
        scale: Range of the multiplier on the crop side (>1 zooms out).
        rotation: Maximum rotation in degrees (uniform in +-rotation), applied with ``rotation_prob``.
        translate: Maximum shift of the crop centre, as a fraction of the crop side.
        flip: Probability of a horizontal flip (labels permuted with the scheme).
        flip_shift: For labels that are not mirror-symmetric, one value per landmark: how far a
            mirrored crop's label moves along the mirrored image's +x, in landmark-box sizes
            (sqrt(w h) of the face's landmark box), so that mirrored faces carry the labels' own
            convention instead of its mirror image. None: mirror as is. ``tools/label_bias.py MODEL
            DATA --mirror`` measures it with a model trained without flips (YTF-68: docs/data.md).
        color: Probability of brightness/contrast/saturation jitter (each +- ``color_strength``).
        gamma: Probability of a gamma change with gamma in ``gamma_range``.
        blur: Probability of a Gaussian or median blur.
        noise: Probability of Gaussian noise with std up to ``noise_std`` grey levels.
        grayscale: Probability of converting to grey.
        occlusion: Probability of pasting 1 to ``max_occluders`` filled rectangles, each side
            ``occluder_size`` (fraction of the crop side).
    """

    scale: tuple[float, float] = (0.9, 1.1)
    rotation: float = 20.0
    rotation_prob: float = 0.6
    translate: float = 0.04
    flip: float = 0.5
    flip_shift: tuple[float, ...] | None = None
    color: float = 0.5
    color_strength: float = 0.25
    gamma: float = 0.3
    gamma_range: tuple[float, float] = (0.6, 1.6)
    blur: float = 0.1
    noise: float = 0.1
    noise_std: float = 8.0
    grayscale: float = 0.05
    occlusion: float = 0.2
    max_occluders: int = 2
    occluder_size: tuple[float, float] = (0.1, 0.35)


def flip_shift_problem(flip_shift: object, points: int, key: str = "augment.flip_shift") -> str | None:
    """Why ``flip_shift`` is not a valid :attr:`AugmentConfig.flip_shift` (or ``ModelConfig.flip_shift``)
    for ``points`` landmarks, or None; the message names the value as ``key``."""
    try:
        shift = np.asarray(flip_shift, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{key} must be a list of {points} numbers, got {flip_shift!r:.80}"
    if shift.shape != (points,):
        return f"{key} must hold one value per landmark ({points}), got shape {shift.shape}"
    if not np.isfinite(shift).all() or np.abs(shift).max() > 0.5:
        return f"{key} values are landmark-box sizes and must be finite and within +-0.5"
    return None


@dataclass
class Geometry:
    """One random draw of the geometric augmentation."""

    scale: float = 1.0
    rotation_deg: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)
    flip: bool = False

    def crop_matrix(self, box: np.ndarray, size: int, crop_scale: float) -> np.ndarray:
        """The (2, 3) image-to-crop matrix of ``box`` under this draw (landmarks of a flipped
        crop must then be permuted with the scheme's ``flip_perm``)."""
        return crop_matrix(box, size, crop_scale * self.scale, self.rotation_deg, self.shift, self.flip)


def sample_geometry(rng: np.random.Generator, cfg: AugmentConfig) -> Geometry:
    scale = float(rng.uniform(*cfg.scale))
    rot = float(rng.uniform(-cfg.rotation, cfg.rotation)) if rng.random() < cfg.rotation_prob else 0.0
    shift = (float(rng.uniform(-cfg.translate, cfg.translate)), float(rng.uniform(-cfg.translate, cfg.translate)))
    return Geometry(scale, rot, shift, bool(rng.random() < cfg.flip))


def photometric(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Colour, gamma, blur, noise, grey and occlusion on an (S, S, 3) uint8 crop; returns uint8."""
    img = image
    if rng.random() < cfg.color:
        s = cfg.color_strength
        f = img.astype(np.float32)
        f = f * rng.uniform(1 - s, 1 + s) + rng.uniform(-s, s) * 64.0  # contrast, brightness
        grey = f.mean(axis=2, keepdims=True)
        f = grey + (f - grey) * rng.uniform(1 - s, 1 + s)  # saturation
        img = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < cfg.gamma:
        g = rng.uniform(*cfg.gamma_range)
        lut = np.clip(((np.arange(256) / 255.0) ** g) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        img = cv2.LUT(img, lut)
    if rng.random() < cfg.blur:
        if rng.random() < 0.5:
            img = cv2.GaussianBlur(img, (0, 0), sigmaX=float(rng.uniform(0.5, 1.5)))
        else:
            img = cv2.medianBlur(np.ascontiguousarray(img), 3)
    if rng.random() < cfg.noise:
        n = rng.normal(0.0, rng.uniform(1.0, cfg.noise_std), img.shape).astype(np.float32)
        img = np.clip(img.astype(np.float32) + n, 0, 255).astype(np.uint8)
    if rng.random() < cfg.grayscale:
        grey_img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        img = np.repeat(grey_img[:, :, None], 3, axis=2)
    if rng.random() < cfg.occlusion:
        img = img.copy()
        size = img.shape[0]
        for _ in range(int(rng.integers(1, cfg.max_occluders + 1))):
            w = int(rng.uniform(*cfg.occluder_size) * size)
            h = int(rng.uniform(*cfg.occluder_size) * size)
            x = int(rng.integers(0, max(1, size - w)))
            y = int(rng.integers(0, max(1, size - h)))
            img[y:y + h, x:x + w] = rng.integers(0, 256, 3, dtype=np.uint8)
    return img
