"""dataset.subset: a deterministic per-class draw, kept in data order, from every loader that takes one."""

import tarfile

import pytest
import torch

from conftest import SHARED_DATA
from memdissect import validation
from memdissect.classes import CIFAR10_CLASSES
from memdissect.data import (load_cifar10_split, load_image_folder_split, per_class_subset, prepare_dataset,
                             read_rgb_image)
from memdissect.io import DataError
from workflow_runs import write_cifar10_folder, write_image, write_image_folder

# 3 classes in a shuffled order, with 5, 4 and 6 members
LABELS = torch.tensor([2, 0, 1, 2, 0, 0, 1, 2, 2, 1, 0, 2, 1, 0, 2])


def test_subset_takes_the_asked_count_of_every_class():
    keep = per_class_subset(LABELS, 3, seed=0)
    assert torch.bincount(LABELS[keep]).tolist() == [3, 3, 3]
    assert len(set(keep.tolist())) == 9


def test_subset_keeps_the_data_order():
    keep = per_class_subset(LABELS, 2, seed=5)
    assert keep.tolist() == sorted(keep.tolist())


def test_subset_of_a_whole_class_is_the_whole_class():
    keep = per_class_subset(LABELS, 4, seed=3)
    assert set(torch.nonzero(LABELS == 1).flatten().tolist()) <= set(keep.tolist())


def test_subset_is_the_same_for_the_same_seed_and_another_for_another_seed():
    labels = torch.arange(10).repeat(50)  # 10 classes of 50
    first = per_class_subset(labels, 5, seed=1)
    assert torch.equal(first, per_class_subset(labels, 5, seed=1))
    assert not torch.equal(first, per_class_subset(labels, 5, seed=2))


def test_a_class_smaller_than_the_subset_is_named_with_its_size():
    with pytest.raises(DataError, match=r"^image folder x \(train\): class 1 has 4 images, fewer than the 5 per class "
                                        r"that dataset\.subset asks for; valid: at most 4$"):
        per_class_subset(LABELS, 5, seed=0, where="image folder x (train)")


@pytest.fixture
def image_folder(tmp_path):
    return write_image_folder(tmp_path / "images", ["cat", "dog", "eel"], {"train": 4, "test": 3})


def test_image_folder_subset_is_the_full_split_at_the_drawn_indices(image_folder):
    full = load_image_folder_split(image_folder, "train")
    part = load_image_folder_split(image_folder, "train", {"train_per_class": 2, "test_per_class": 1, "seed": 7})
    keep = per_class_subset(full["labels"], 2, seed=7)
    assert part["labels"].tolist() == [0, 0, 1, 1, 2, 2]
    assert torch.equal(part["images"], full["images"][keep]) and torch.equal(part["labels"], full["labels"][keep])
    assert part["classes"] == ["cat", "dog", "eel"] and part["images"].dtype == torch.uint8


def test_image_folder_subset_reads_only_the_images_it_keeps(image_folder):
    subset = {"train_per_class": 3, "test_per_class": 1, "seed": 0}
    labels = load_image_folder_split(image_folder, "train")["labels"]
    left_out = sorted(set(range(len(labels))) - set(per_class_subset(labels, 3, seed=0).tolist()))[0]
    label = labels[left_out].item()
    index = left_out - torch.nonzero(labels == label).flatten()[0].item()  # files sort 0.png, 1.png, ...
    (image_folder / "train" / ["cat", "dog", "eel"][label] / f"{index}.png").write_bytes(b"not an image")
    assert len(load_image_folder_split(image_folder, "train", subset)["labels"]) == 9
    with pytest.raises(DataError, match="cannot read image"):
        load_image_folder_split(image_folder, "train")


def test_prepare_dataset_subsets_both_splits_of_an_image_folder(image_folder):
    data = prepare_dataset("imagefolder", root=image_folder, subset={"train_per_class": 3, "test_per_class": 2,
                                                                     "seed": 0})
    assert torch.bincount(data["train"]["labels"]).tolist() == [3, 3, 3]
    assert torch.bincount(data["test"]["labels"]).tolist() == [2, 2, 2]


def test_a_split_without_a_count_is_kept_whole(image_folder):
    data = prepare_dataset("imagefolder", root=image_folder, subset={"train_per_class": 2, "test_per_class": None,
                                                                     "seed": 0})
    assert torch.bincount(data["train"]["labels"]).tolist() == [2, 2, 2]
    assert torch.bincount(data["test"]["labels"]).tolist() == [3, 3, 3]


def test_prepare_dataset_names_the_split_whose_class_is_too_small(image_folder):
    with pytest.raises(DataError, match=rf"image folder {image_folder} \(test\): class 0 has 3 images, fewer than "
                                        r"the 4 per class"):
        prepare_dataset("imagefolder", root=image_folder, subset={"train_per_class": 4, "test_per_class": 4,
                                                                  "seed": 0})


@pytest.fixture
def cifar10_folder(tmp_path, monkeypatch):
    """A tiny fake cifar-10-batches-py: 6 training and 3 test images of each class."""
    import torchvision.datasets.cifar

    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *arguments, **keywords: True)
    return write_cifar10_folder(tmp_path / "cifar", train_per_class=6, test_per_class=3)


def marks(images):
    """The index each fake CIFAR-10 image was written with (write_cifar10_folder)."""
    return (images[:, 0, 0, 0].long() + 256 * images[:, 0, 0, 1].long()).tolist()


def test_cifar10_subset_is_drawn_from_all_five_batches_in_data_order(cifar10_folder):
    full = load_cifar10_split(cifar10_folder, "train")
    assert marks(full["images"]) == list(range(60))
    part = load_cifar10_split(cifar10_folder, "train", {"train_per_class": 2, "test_per_class": 1, "seed": 3})
    keep = per_class_subset(full["labels"], 2, seed=3)
    assert marks(part["images"]) == keep.tolist()
    assert torch.equal(part["labels"], full["labels"][keep])
    assert torch.bincount(part["labels"]).tolist() == [2] * 10
    assert part["classes"][:2] == ["airplane", "automobile"] and part["images"].is_contiguous()


def test_cifar10_subset_of_both_splits_and_too_many(cifar10_folder):
    data = prepare_dataset("cifar10", root=cifar10_folder, subset={"train_per_class": 6, "test_per_class": 1,
                                                                   "seed": 0})
    assert torch.bincount(data["train"]["labels"]).tolist() == [6] * 10
    assert torch.bincount(data["test"]["labels"]).tolist() == [1] * 10
    with pytest.raises(DataError, match=rf"CIFAR-10 at {cifar10_folder} \(train\): class 0 has 6 images, fewer than "
                                        r"the 7 per class that dataset.subset asks for; valid: at most 6"):
        load_cifar10_split(cifar10_folder, "train", {"train_per_class": 7, "test_per_class": 1, "seed": 0})


def test_no_subset_keeps_every_image(cifar10_folder):
    assert len(prepare_dataset("cifar10", root=cifar10_folder, subset=None)["test"]["labels"]) == 30


def test_image_folder_class_lists_that_differ_are_named(tmp_path):
    for split, name in (("train", "cat"), ("train", "dog"), ("test", "cat"), ("test", "bird")):
        (tmp_path / split / name).mkdir(parents=True)
    with pytest.raises(DataError, match=r"train and test class lists differ \(only in train: \['dog'\]; "
                                        r"only in test: \['bird'\]\)") as refused:
        validation.image_folder_classes(tmp_path)
    assert str(tmp_path) in str(refused.value)


def test_image_folder_without_a_split_names_the_folder(tmp_path):
    (tmp_path / "train" / "cat").mkdir(parents=True)
    with pytest.raises(DataError, match=f"image folder {tmp_path} has no test/ folder"):
        validation.image_folder_classes(tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_unreadable_image_names_the_file(tmp_path, damage):
    path = tmp_path / "broken.png"
    write_image(path)
    data = path.read_bytes()
    path.write_bytes(b"not an image" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(DataError, match=f"cannot read image {path}"):
        read_rgb_image(path)


def test_incomplete_cifar10_folder_names_the_missing_files(tmp_path):
    folder = tmp_path / validation.CIFAR10_FOLDER
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(b"")
    with pytest.raises(DataError, match=r"is incomplete: data_batch_2, .*test_batch, batches.meta missing"):
        load_cifar10_split(tmp_path, "train")


def test_corrupt_cifar10_folder_names_the_files_that_fail_the_checksum(tmp_path):
    folder = tmp_path / validation.CIFAR10_FOLDER
    folder.mkdir()
    for name in validation.CIFAR10_FILES:
        (folder / name).write_bytes(b"not a pickle")
    with pytest.raises(DataError, match=f"{folder} has files that fail torchvision's checksum: data_batch_1, "):
        load_cifar10_split(tmp_path, "test")


ARCHIVE = SHARED_DATA / "cifar10-jpeg.tar.gz"


@pytest.mark.skipif(not ARCHIVE.exists(), reason=f"{ARCHIVE} is not present")
def test_cifar10_jpeg_archive_reads_as_an_imagefolder(tmp_path):
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(tmp_path, filter="data")
    root = tmp_path if (tmp_path / "train").is_dir() else next(tmp_path.iterdir())
    data = prepare_dataset("imagefolder", root=root)
    train, test = data["train"], data["test"]
    assert train["images"].shape == (50_000, 3, 32, 32) and train["images"].dtype == torch.uint8
    assert test["images"].shape == (10_000, 3, 32, 32)
    assert train["classes"] == list(CIFAR10_CLASSES) == test["classes"]
    assert torch.bincount(train["labels"]).tolist() == [5_000] * 10
    assert torch.bincount(test["labels"]).tolist() == [1_000] * 10
