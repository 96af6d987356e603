"""A torch ``Dataset`` of face crops for training and evaluation."""

from __future__ import annotations

from typing import cast

import numpy as np
import torch
from torch.utils.data import Dataset

from facealign.data.augment import AugmentConfig, Geometry, flip_shift_problem, photometric, sample_geometry
from facealign.data.crop import BoxSource, CropSpec, face_box, transform_points, warp_crop
from facealign.data.sample import LandmarkSet
from facealign.schemes import landmark_box_size

__all__ = ["CropDataset", "face_box", "BoxSource"]


def _flip_shift(augment: AugmentConfig | None, points: int) -> np.ndarray | None:
    if augment is None or augment.flip_shift is None:
        return None
    problem = flip_shift_problem(augment.flip_shift, points)
    if problem:
        raise ValueError(problem)
    return np.asarray(augment.flip_shift, dtype=np.float64)


class CropDataset(Dataset):
    """Face crops of a :class:`LandmarkSet`.

    Each item is a dict:
        ``image``: (3, S, S) uint8 RGB crop (normalisation is the model's job, on the batch);
        ``landmarks``: (K, 2) float32 in crop pixels;
        ``matrix``: (2, 3) float32 image-to-crop affine map (its inverse maps predictions back);
        ``visible``: (K,) bool; ``index``: int position in the set.

    Randomness: item ``i`` of epoch ``e`` draws from a generator seeded with (seed, e, i), so the
    result does not depend on worker count or order, and a resumed run sees the same crops.
    Call :meth:`set_epoch` at the start of each epoch.

    Args:
        data: The faces.
        spec: The model's crop settings (a :class:`~facealign.models.ModelConfig`): crop side,
            box enlargement and box type.
        augment: Augmentation config for training, or None for a plain crop.
        seed: Base seed.
        box: Box type instead of ``spec.box`` (evaluation under the other protocol).
        repeat: Copies of each face per epoch: index ``i`` is face ``i % len(data)``, augmented
            with its own draw (an epoch of the ACR authors' offline-augmented copies).
    """

    def __init__(self, data: LandmarkSet, spec: CropSpec, augment: AugmentConfig | None = None, seed: int = 0,
                 box: BoxSource | None = None, repeat: int = 1):
        self.data = data
        self.repeat = int(repeat)
        self.size = int(spec.input_size)
        self.box = box or spec.box
        self.scale = float(spec.crop_scale)
        self.augment = augment
        self.seed = int(seed)
        self.epoch = 0
        self._perm = np.asarray(data.scheme.flip_perm)
        self._flip_shift = _flip_shift(augment, len(self._perm))

    def _to_mirror(self, landmarks: np.ndarray) -> np.ndarray:
        """(K, 2) image landmarks moved so that, once mirrored and permuted, point j sits
        ``flip_shift[j]`` landmark-box sizes along the mirrored image's +x (moving point i by -x
        before the mirror moves it by +x after; it becomes point perm[i])."""
        if self._flip_shift is None:
            return landmarks
        moved = landmarks.astype(np.float64, copy=True)
        moved[:, 0] -= self._flip_shift[self._perm] * landmark_box_size(landmarks)
        return moved

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.data) * self.repeat

    def __getitem__(self, index: int) -> dict:
        s = self.data[index % len(self.data)]
        img = s.load_image()
        geo = Geometry()
        rng = None
        if self.augment is not None:
            rng = np.random.default_rng((self.seed, self.epoch, index))
            geo = sample_geometry(rng, self.augment)
        m = geo.crop_matrix(face_box(s, cast(BoxSource, self.box)), self.size, self.scale)
        crop = warp_crop(img, m, self.size)
        pts = transform_points(self._to_mirror(s.landmarks) if geo.flip else s.landmarks, m).astype(np.float32)
        vis = s.visible if s.visible is not None else np.ones(len(pts), bool)
        if geo.flip:
            pts, vis = pts[self._perm], vis[self._perm]
        if rng is not None and self.augment is not None:
            crop = photometric(crop, rng, self.augment)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1))),
            "landmarks": torch.from_numpy(pts),
            "matrix": torch.from_numpy(m.astype(np.float32)),
            "visible": torch.from_numpy(np.asarray(vis, bool)),
            "index": index % len(self.data),  # the face; copies of one face share it
        }
