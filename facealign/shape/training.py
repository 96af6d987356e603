"""The shapes a shape model is fitted on: training faces in the regression codec's coordinates."""

from __future__ import annotations

import numpy as np
import torch

from facealign.codecs.regression import encode_regression
from facealign.data.augment import AugmentConfig, sample_geometry
from facealign.data.crop import CropSpec, crop_matrix, face_box, transform_points
from facealign.data.sample import LandmarkSet


def training_shapes(data: LandmarkSet, spec: CropSpec, with_flips: bool = True, augment: AugmentConfig | None = None,
                    draws: int = 0, seed: int = 0) -> np.ndarray:
    """(N * (1 + with_flips + draws), 2K) normalised crop-space shapes of the training faces, as
    the ACR shape model is fitted on: each face as it is, its mirror image (when training flips
    faces), and ``draws`` copies under random draws of the training run's geometric augmentation
    (rotation, scale, shift, flip), so that the shape model spans the shapes training shows the
    loss.

    Args:
        data: Training faces.
        spec: The model's crop settings (a ``ModelConfig``): input size, crop scale, box type.
        with_flips: Add each face's mirror image (re-labelled with the scheme's flip permutation).
        augment: The geometric augmentation the draws come from (photometric settings unused).
        draws: Augmented copies per face (0 without ``augment``).
        seed: Seed of the draws (face ``i`` draws from a generator seeded with (seed, i)).
    """
    size = spec.input_size
    perm = np.asarray(data.scheme.flip_perm)
    shapes = []
    for i, s in enumerate(data.samples):
        box = face_box(s, spec.box)  # type: ignore[arg-type]
        pts = transform_points(s.landmarks, crop_matrix(box, size, spec.crop_scale))
        shapes.append(pts)
        if with_flips:
            shapes.append(data.scheme.flip_points(pts, size))
        if augment is None or draws <= 0:
            continue
        rng = np.random.default_rng((seed, i))
        for _ in range(draws):
            geo = sample_geometry(rng, augment)
            moved = transform_points(s.landmarks, geo.crop_matrix(box, size, spec.crop_scale))
            shapes.append(moved[perm] if geo.flip else moved)
    t = torch.as_tensor(np.stack(shapes), dtype=torch.float64)
    return encode_regression(t, size).numpy()
