"""Real CIFAR-10 from the shared JPEG archive, read as an imagefolder data set; skipped without it."""

import tarfile

import pytest
import torch

from conftest import SHARED_DATA
from memdissect.data import prepare_dataset

ARCHIVE = SHARED_DATA / "cifar10-jpeg.tar.gz"
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.mark.skipif(not ARCHIVE.exists(), reason=f"{ARCHIVE} is not present")
def test_cifar10_jpeg_archive_reads_as_an_imagefolder(tmp_path):
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(tmp_path, filter="data")
    root = tmp_path if (tmp_path / "train").is_dir() else next(tmp_path.iterdir())
    data = prepare_dataset("imagefolder", root=root)
    train, test = data["train"], data["test"]
    assert train["images"].shape == (50_000, 3, 32, 32) and train["images"].dtype == torch.uint8
    assert test["images"].shape == (10_000, 3, 32, 32)
    assert train["classes"] == CIFAR10_CLASSES == test["classes"]
    assert torch.bincount(train["labels"]).tolist() == [5_000] * 10
    assert torch.bincount(test["labels"]).tolist() == [1_000] * 10
