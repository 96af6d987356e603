import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACEALIGN_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
FIXTURES = DATA / "fixtures" / "benchmark-samples"
OFFICIAL = FIXTURES / "official-layouts"
YTF = DATA / "ytf68"


def pytest_configure(config):
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def ytf_val():
    from facealign.data import load_dataset

    return load_dataset(f"csv:{YTF / 'val' / 'landmarks.csv'}")


@pytest.fixture(scope="session")
def ytf_train():
    from facealign.data import load_dataset

    return load_dataset(f"csv:{YTF / 'train' / 'landmarks.csv'}")
