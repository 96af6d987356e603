"""Typing examples of the public API, checked by mypy (``mypy``, run by .ci/run), never run: what
a user's type checker infers from facealign's annotations (the package ships ``py.typed``)."""

from __future__ import annotations

from pathlib import Path
from typing import assert_type

import numpy as np

from facealign import FaceAligner, FaceResult, __version__, list_models
from facealign.data import LandmarkSet, load_dataset, read_image
from facealign.metrics import nme
from facealign.zoo import ZooEntry


def one_image_gives_one_result(aligner: FaceAligner, image: np.ndarray) -> None:
    assert_type(aligner.predict("photo.jpg"), FaceResult)
    assert_type(aligner.predict(Path("photo.jpg")), FaceResult)
    assert_type(aligner.predict(image), FaceResult)
    assert_type(aligner.predict(image).landmarks, np.ndarray)


def a_list_gives_a_list(aligner: FaceAligner, images: list[np.ndarray]) -> None:
    assert_type(aligner.predict(images), list[FaceResult])
    assert_type(aligner.predict(["a.jpg", "b.jpg"]), list[FaceResult])


def the_rest(path: str) -> None:
    assert_type(__version__, str)
    assert_type(list_models(), list[ZooEntry])
    assert_type(read_image(path), np.ndarray)
    data = load_dataset("csv:landmarks.csv")
    assert_type(data, LandmarkSet)
    assert_type(nme(data.landmarks(), data.landmarks(), data.scheme), np.ndarray)
