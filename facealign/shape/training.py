"""The shapes a shape model is fitted on: training faces in the regression codec's coordinates."""

from __future__ import annotations

import numpy as np
import torch

from facealign.codecs.regression import encode_regression
from facealign.data.crop import CropSpec, crop_matrix, face_box, transform_points
from facealign.data.sample import LandmarkSet


def training_shapes(data: LandmarkSet, spec: CropSpec, with_flips: bool = True) -> np.ndarray:
    """(N or 2N, 2K) normalised crop-space shapes of the training faces (plus their mirror images,
    because training flips faces), as the ACR shape model is fitted on.

    Args:
        data: Training faces.
        spec: The model's crop settings (a ``ModelConfig``): input size, crop scale, box type.
        with_flips: Add each face's mirror image (re-labelled with the scheme's flip permutation).
    """
    size = spec.input_size
    shapes = []
    for s in data.samples:
        pts = transform_points(s.landmarks, crop_matrix(face_box(s, spec.box), size, spec.crop_scale))  # type: ignore[arg-type]
        shapes.append(pts)
        if with_flips:
            shapes.append(data.scheme.flip_points(pts, size))
    t = torch.as_tensor(np.stack(shapes), dtype=torch.float64)
    return encode_regression(t, size).numpy()
