"""Face detection behind one small protocol."""

from __future__ import annotations

from facealign.detect.base import Detections, FaceDetector
from facealign.detect.detectors import BoxesDetector, CascadeDetector, DlibHOGDetector, FullImageDetector
from facealign.errors import FaceAlignError

DETECTORS = ("auto", "dlib", "cascade", "full")


def dlib_available() -> bool:
    try:
        import dlib  # noqa: F401
    except ImportError:
        return False
    return True


def create_detector(name: str | FaceDetector = "auto") -> FaceDetector:
    """``auto`` (dlib's HOG detector when installed, else OpenCV's cascade -- the order measured
    in docs/detection.md), ``dlib``, ``cascade``, ``full``; or a detector object, returned as is."""
    if not isinstance(name, str):
        return name
    if name == "auto":
        return DlibHOGDetector() if dlib_available() else CascadeDetector()
    if name == "dlib":
        return DlibHOGDetector()
    if name == "cascade":
        return CascadeDetector()
    if name == "full":
        return FullImageDetector()
    raise FaceAlignError(f"unknown detector {name!r}; choose one of {list(DETECTORS)} (or --boxes FILE)")


__all__ = ["Detections", "FaceDetector", "create_detector", "CascadeDetector", "DlibHOGDetector", "FullImageDetector",
           "BoxesDetector", "DETECTORS", "dlib_available"]
