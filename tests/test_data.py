"""dataset.subset: a deterministic per-class draw, kept in data order, from every loader that takes one."""

import pytest
import torch

from memdissect.data import load_cifar10_split, load_image_folder_split, per_class_subset, prepare_dataset
from memdissect.io import DataError
from workflow_runs import write_cifar10_folder, write_image_folder

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
