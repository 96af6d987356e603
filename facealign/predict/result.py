"""The typed result of running the aligner on one image."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facealign.pose import HeadPose, head_pose
from facealign.schemes import Scheme


@dataclass
class FaceResult:
    """All faces found in one image. Shapes never change with options; N may be 0.

    Attributes:
        boxes: (N, 4) float32 face boxes x1, y1, x2, y2 (detector or user boxes), image pixels.
        landmarks: (N, K, 2) float32 (x, y) in original-image pixels (pixel centres at integers).
        scores: (N, K) float32 per-point confidence in [0, 1] (1 for regression heads, which have none).
        detection_scores: (N,) float32 detector confidence (1 for user boxes; NaN for a face a video
            tracker followed from the previous frame without running the detector: no detector
            confirmed it, and its JSON says ``"tracked": true`` and ``"detection_score": null``).
        scheme: The landmark scheme of the K points.
        image_size: (height, width) of the image.
        source: Path of the image when it came from a file, else None.

    :meth:`pose` gives each face's head pose (yaw, pitch, roll; NaN for schemes without a 3D face).
    """

    boxes: np.ndarray
    landmarks: np.ndarray
    scores: np.ndarray
    detection_scores: np.ndarray
    scheme: Scheme
    image_size: tuple[int, int]
    source: str | None = None
    _pose: HeadPose | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.boxes)

    def pose(self) -> HeadPose:
        """Head pose of every face (:func:`facealign.pose.head_pose`), computed once."""
        if self._pose is None:
            self._pose = head_pose(self.landmarks, self.scheme, self.image_size)
        return self._pose

    def to_scheme(self, target: str | Scheme) -> "FaceResult":
        """The same faces in another scheme through its declared map (``facealign.schemes.maps``):
        each point the mean of the points it maps from, its score their mean score."""
        import dataclasses

        from facealign.schemes import get_scheme
        from facealign.schemes.maps import map_points, scheme_map

        dst = get_scheme(target)
        if dst.name == self.scheme.name:
            return self
        groups = scheme_map(self.scheme, dst)
        k = len(groups)
        pts = map_points(self.landmarks, self.scheme, dst).astype(np.float32).reshape(-1, k, 2)
        sc = np.stack([self.scores[:, list(g)].mean(axis=1) for g in groups], axis=1).astype(np.float32) \
            if len(self) else np.zeros((0, k), np.float32)
        # the pose comes from the points as predicted: five points could not give it
        return dataclasses.replace(self, landmarks=pts, scores=sc, scheme=dst, _pose=self.pose())

    def to_json(self) -> dict:
        pose = self.pose()
        faces = []
        for i, (b, d, lm, sc) in enumerate(zip(self.boxes, self.detection_scores, self.landmarks, self.scores)):
            detected = bool(np.isfinite(d))
            face: dict[str, Any] = {"box": [round(float(v), 2) for v in b],
                                    "detection_score": round(float(d), 4) if detected else None,
                    "tracked": not detected,
                    "landmarks": [[round(float(x), 3), round(float(y), 3)] for x, y in lm],
                    "scores": [round(float(s), 4) for s in sc]}
            if np.isfinite(pose.angles[i]).all():
                yaw, pitch, roll = (round(float(v), 2) for v in pose.angles[i])
                face["pose"] = {"yaw": yaw, "pitch": pitch, "roll": roll,
                                "rotation_vector": [round(float(v), 5) for v in pose.rotation[i]],
                                "translation_vector_mm": [round(float(v), 1) for v in pose.translation[i]]}
            faces.append(face)
        return {
            "image": self.source,
            "height": int(self.image_size[0]),
            "width": int(self.image_size[1]),
            "scheme": self.scheme.name,
            "num_points": self.scheme.num_points,
            "faces": faces,
        }
