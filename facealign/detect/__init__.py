"""Face detection behind one small protocol."""

from __future__ import annotations

from facealign.detect.base import KEYPOINTS, Detections, FaceDetector
from facealign.detect.detectors import BoxesDetector, CascadeDetector, DlibHOGDetector, FullImageDetector
from facealign.detect.policy import SearchPolicy
from facealign.detect.yunet import YuNetDetector, yuface_available
from facealign.errors import FaceAlignError

DETECTORS = ("auto", "yunet", "dlib", "cascade", "full")


def dlib_available() -> bool:
    try:
        import dlib  # noqa: F401
    except ImportError:
        return False
    return True


def create_detector(name: str | FaceDetector = "auto", policy: SearchPolicy | None = None) -> FaceDetector:
    """``auto`` (YuNet when yuface is installed, else dlib's HOG detector when installed, else
    OpenCV's cascade -- the order measured in docs/detection.md), ``yunet``, ``dlib``,
    ``cascade``, ``full``; or a detector object, returned as is. ``policy``: the face sizes to
    search, in original pixels."""
    if not isinstance(name, str):
        return name
    if name == "auto":
        name = "yunet" if yuface_available() else "dlib" if dlib_available() else "cascade"
    if name == "yunet":
        return YuNetDetector(policy)
    if name == "dlib":
        return DlibHOGDetector(policy=policy)
    if name == "cascade":
        return CascadeDetector(policy=policy)
    if name == "full":
        return FullImageDetector()
    raise FaceAlignError(f"unknown detector {name!r}; choose one of {list(DETECTORS)} (or --boxes FILE)")


__all__ = ["Detections", "FaceDetector", "KEYPOINTS", "SearchPolicy", "create_detector", "YuNetDetector", "CascadeDetector",
           "DlibHOGDetector", "FullImageDetector", "BoxesDetector", "DETECTORS", "dlib_available", "yuface_available"]
