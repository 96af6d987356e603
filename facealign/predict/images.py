"""Turning whatever the user passes into (H, W, 3) RGB uint8 arrays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from facealign.data.images import check_image_size, read_image
from facealign.errors import ImageError


def to_rgb_array(image: Any, name: str = "<array>") -> np.ndarray:
    """Normalise one image: a path, a numpy array ((H, W), (H, W, 3) RGB or (H, W, 4) RGBA; uint8,
    uint16 or float in [0, 1]), a PIL image (turned by its EXIF orientation, as files are) or a torch
    tensor ((3, H, W), uint8 or float in [0, 1])."""
    if isinstance(image, (str, Path)):
        return read_image(image)
    try:
        from PIL import Image

        if isinstance(image, Image.Image):
            from PIL import ImageOps

            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except ImportError:  # pragma: no cover - pillow is a dependency
        pass
    if type(image).__module__.startswith("torch"):
        t = image.detach().cpu()
        if t.ndim != 3 or t.shape[0] not in (1, 3):
            raise ImageError(name, f"a torch image must be (3, H, W), got {tuple(t.shape)}")
        if t.is_floating_point() and t.element_size() < 4:
            t = t.float()  # bfloat16 has no numpy dtype
        image = t.permute(1, 2, 0).numpy()
    if not isinstance(image, np.ndarray):
        raise ImageError(name, f"cannot use a {type(image).__name__} as an image")
    a = image
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or a.shape[0] < 1 or a.shape[1] < 1:
        raise ImageError(name, f"image array must be (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    check_image_size(a.shape[1], a.shape[0], name)
    if a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise ImageError(name, "float image contains NaN or inf")
        lo, hi = float(a.min()), float(a.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise ImageError(name, f"float image values must be in [0, 1], found {lo:g} to {hi:g} "
                                   "(pass uint8 for 0..255 images)")
        a = np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise ImageError(name, f"unsupported image dtype {a.dtype}")
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.shape[2] == 4:
        a = a[:, :, :3]
    return np.ascontiguousarray(a)


def as_image_list(images: Any) -> tuple[list[tuple[np.ndarray, str | None]], bool]:
    """(list of (RGB array, source path or None), whether a single image was given)."""
    if isinstance(images, (str, Path)):
        return [(to_rgb_array(images), str(images))], True
    if type(images).__module__.startswith("torch") and getattr(images, "ndim", 0) == 4:
        return [(to_rgb_array(t, f"batch[{i}]"), None) for i, t in enumerate(images)], False
    if isinstance(images, (list, tuple)):
        return [(to_rgb_array(im, str(im) if isinstance(im, (str, Path)) else f"images[{i}]"),
                 str(im) if isinstance(im, (str, Path)) else None) for i, im in enumerate(images)], False
    return [(to_rgb_array(images), None)], True
