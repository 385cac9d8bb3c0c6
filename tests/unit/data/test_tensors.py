"""dataset.subset: a deterministic per-class draw, kept in data order, from every loader that takes one."""

import tarfile
from pathlib import Path

import pytest
import torch
from conftest import SHARED_DATA
from workflow_runs import (
    write_cifar10_folder,
    write_cifar100_folder,
    write_image,
    write_image_folder,
    write_mnist_folder,
    write_svhn_folder,
)

from memdissect.data import folders
from memdissect.data.catalogue import CIFAR10, CIFAR10_CLASSES, TORCHVISION_SETS
from memdissect.data.tensors import (
    load_image_folder_split,
    load_torchvision_split,
    per_class_subset,
    prepare_dataset,
    read_rgb_image,
    root_of,
)
from memdissect.io import DataError
from memdissect.study.plan import downloaded_folder, user_data_folder

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
    with pytest.raises(
        DataError,
        match=r"^image folder x \(train\): class 1 has 4 images, fewer than the 5 per class "
        r"that dataset\.subset asks for; valid: at most 4$",
    ):
        per_class_subset(LABELS, 5, seed=0, where="image folder x (train)")


@pytest.fixture
def image_folder(tmp_path):
    return write_image_folder(tmp_path / "images", ["cat", "dog", "eel"], {"train": 4, "test": 3})


def test_image_folder_subset_is_the_full_split_at_the_drawn_indices(image_folder):
    full = load_image_folder_split(image_folder, "train")
    part = load_image_folder_split(
        image_folder, "train", {"train_per_class": 2, "test_per_class": 1, "seed": 7}
    )
    keep = per_class_subset(full["labels"], 2, seed=7)
    assert part["labels"].tolist() == [0, 0, 1, 1, 2, 2]
    assert torch.equal(part["images"], full["images"][keep]) and torch.equal(
        part["labels"], full["labels"][keep]
    )
    assert part["classes"] == ["cat", "dog", "eel"] and part["images"].dtype == torch.uint8


def test_image_folder_subset_reads_only_the_images_it_keeps(image_folder):
    subset = {"train_per_class": 3, "test_per_class": 1, "seed": 0}
    labels = load_image_folder_split(image_folder, "train")["labels"]
    left_out = sorted(set(range(len(labels))) - set(per_class_subset(labels, 3, seed=0).tolist()))[
        0
    ]
    label = labels[left_out].item()
    index = (
        left_out - torch.nonzero(labels == label).flatten()[0].item()
    )  # files sort 0.png, 1.png, ...
    (image_folder / "train" / ["cat", "dog", "eel"][label] / f"{index}.png").write_bytes(
        b"not an image"
    )
    assert len(load_image_folder_split(image_folder, "train", subset)["labels"]) == 9
    with pytest.raises(DataError, match="cannot read image"):
        load_image_folder_split(image_folder, "train")


def test_prepare_dataset_subsets_both_splits_of_an_image_folder(image_folder):
    data = prepare_dataset(
        "imagefolder",
        root=image_folder,
        subset={"train_per_class": 3, "test_per_class": 2, "seed": 0},
    )
    assert torch.bincount(data["train"]["labels"]).tolist() == [3, 3, 3]
    assert torch.bincount(data["test"]["labels"]).tolist() == [2, 2, 2]


def test_a_split_without_a_count_is_kept_whole(image_folder):
    data = prepare_dataset(
        "imagefolder",
        root=image_folder,
        subset={"train_per_class": 2, "test_per_class": None, "seed": 0},
    )
    assert torch.bincount(data["train"]["labels"]).tolist() == [2, 2, 2]
    assert torch.bincount(data["test"]["labels"]).tolist() == [3, 3, 3]


def test_prepare_dataset_names_the_split_whose_class_is_too_small(image_folder):
    with pytest.raises(
        DataError,
        match=rf"image folder {image_folder} \(test\): class 0 has 3 images, fewer than "
        r"the 4 per class",
    ):
        prepare_dataset(
            "imagefolder",
            root=image_folder,
            subset={"train_per_class": 4, "test_per_class": 4, "seed": 0},
        )


@pytest.fixture
def cifar10_folder(tmp_path, monkeypatch):
    """A tiny fake cifar-10-batches-py: 6 training and 3 test images of each class."""
    import torchvision.datasets.cifar

    monkeypatch.setattr(
        torchvision.datasets.cifar, "check_integrity", lambda *arguments, **keywords: True
    )
    return write_cifar10_folder(tmp_path / "cifar", train_per_class=6, test_per_class=3)


def marks(images):
    """The index each fake CIFAR-10 image was written with (write_cifar10_folder)."""
    return (images[:, 0, 0, 0].long() + 256 * images[:, 0, 0, 1].long()).tolist()


def test_cifar10_subset_is_drawn_from_all_five_batches_in_data_order(cifar10_folder):
    full = load_torchvision_split("cifar10", cifar10_folder, "train")
    assert marks(full["images"]) == list(range(60))
    part = load_torchvision_split(
        "cifar10", cifar10_folder, "train", {"train_per_class": 2, "test_per_class": 1, "seed": 3}
    )
    keep = per_class_subset(full["labels"], 2, seed=3)
    assert marks(part["images"]) == keep.tolist()
    assert torch.equal(part["labels"], full["labels"][keep])
    assert torch.bincount(part["labels"]).tolist() == [2] * 10
    assert part["classes"][:2] == ["airplane", "automobile"] and part["images"].is_contiguous()


def test_cifar10_subset_of_both_splits_and_too_many(cifar10_folder):
    data = prepare_dataset(
        "cifar10",
        root=cifar10_folder,
        subset={"train_per_class": 6, "test_per_class": 1, "seed": 0},
    )
    assert torch.bincount(data["train"]["labels"]).tolist() == [6] * 10
    assert torch.bincount(data["test"]["labels"]).tolist() == [1] * 10
    with pytest.raises(
        DataError,
        match=rf"CIFAR-10 at {cifar10_folder} \(train\): class 0 has 6 images, fewer than "
        r"the 7 per class that dataset.subset asks for; valid: at most 6",
    ):
        load_torchvision_split(
            "cifar10",
            cifar10_folder,
            "train",
            {"train_per_class": 7, "test_per_class": 1, "seed": 0},
        )


def test_no_subset_keeps_every_image(cifar10_folder):
    assert len(prepare_dataset("cifar10", root=cifar10_folder, subset=None)["test"]["labels"]) == 30


def test_image_folder_class_lists_that_differ_are_named(tmp_path):
    for split, name in (("train", "cat"), ("train", "dog"), ("test", "cat"), ("test", "bird")):
        (tmp_path / split / name).mkdir(parents=True)
    with pytest.raises(
        DataError,
        match=r"train and test class lists differ \(only in train: \['dog'\]; "
        r"only in test: \['bird'\]\)",
    ) as refused:
        folders.image_folder_classes(tmp_path)
    assert str(tmp_path) in str(refused.value)


def test_image_folder_without_a_split_names_the_folder(tmp_path):
    (tmp_path / "train" / "cat").mkdir(parents=True)
    with pytest.raises(DataError, match=f"image folder {tmp_path} has no test/ folder"):
        folders.image_folder_classes(tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_unreadable_image_names_the_file(tmp_path, damage):
    path = tmp_path / "broken.png"
    write_image(path)
    data = path.read_bytes()
    path.write_bytes(b"not an image" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(DataError, match=f"cannot read image {path}"):
        read_rgb_image(path)


def test_incomplete_cifar10_folder_names_the_missing_files(tmp_path):
    folder = tmp_path / CIFAR10.folder
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(b"")
    with pytest.raises(
        DataError, match=r"is incomplete: data_batch_2, .*test_batch, batches.meta missing"
    ):
        load_torchvision_split("cifar10", tmp_path, "train")


def test_corrupt_cifar10_folder_names_the_files_that_fail_the_checksum(tmp_path):
    folder = tmp_path / CIFAR10.folder
    folder.mkdir()
    for name in CIFAR10.files:
        (folder / name).write_bytes(b"not a pickle")
    with pytest.raises(
        DataError, match=f"{folder} has files that fail torchvision's checksum: data_batch_1, "
    ):
        load_torchvision_split("cifar10", tmp_path, "test")


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


# ----------------------------------------------------------------------------- CIFAR-100, SVHN, MNIST, FashionMNIST


def write_mnist_gzipped(root, train_per_class, test_per_class):
    return write_mnist_folder(root, train_per_class, test_per_class, gzipped=True)


def write_fashionmnist_folder(root, train_per_class, test_per_class):
    return write_mnist_folder(root, train_per_class, test_per_class, folder="FashionMNIST")


# each writes a tiny copy in the data set's own format: (kind, writer, classes)
TINY_COPIES = {
    "cifar100": ("cifar100", write_cifar100_folder, 100),
    "svhn": ("svhn", write_svhn_folder, 10),
    "mnist": ("mnist", write_mnist_folder, 10),
    "mnist-gz": ("mnist", write_mnist_gzipped, 10),
    "fashionmnist": ("fashionmnist", write_fashionmnist_folder, 10),
}
GREY = {"mnist", "fashionmnist"}


@pytest.fixture
def cifar_checksums_skipped(monkeypatch):
    import torchvision.datasets.cifar

    monkeypatch.setattr(
        torchvision.datasets.cifar, "check_integrity", lambda *arguments, **keywords: True
    )


def written_marks(kind, images):
    """(index % 256, index // 256, label) that made_up_split wrote into each image, read back."""
    at = 2 if kind in GREY else 0  # 28 x 28 images sit inside a border of 2 zero pixels
    return images[:, 0, at, at : at + 3].long()


@pytest.mark.parametrize("copy", list(TINY_COPIES))
def test_a_torchvision_data_set_becomes_uint8_rgb_32x32_with_its_classes(
    tmp_path, cifar_checksums_skipped, copy
):
    kind, write, num_classes = TINY_COPIES[copy]
    data = prepare_dataset(kind, root=write(tmp_path / "data", 3, 2))
    for split, per_class in (("train", 3), ("test", 2)):
        images, labels = data[split]["images"], data[split]["labels"]
        assert images.dtype == torch.uint8 and images.shape == (per_class * num_classes, 3, 32, 32)
        assert images.is_contiguous() and labels.dtype == torch.int64
        assert torch.bincount(labels).tolist() == [per_class] * num_classes
        assert data[split]["classes"] == list(TORCHVISION_SETS[kind].classes)
        marks = written_marks(kind, images)
        assert marks[:, 0].tolist() == [
            index % 256 for index in range(len(labels))
        ]  # in the file's order
        assert torch.equal(
            marks[:, 2], labels
        )  # each image with its own label (SVHN's 10 read as 0)


@pytest.mark.parametrize("kind", sorted(GREY))
def test_grey_28x28_images_become_three_equal_channels_inside_a_zero_border(tmp_path, kind):
    folder = {"mnist": "MNIST", "fashionmnist": "FashionMNIST"}[kind]
    images = prepare_dataset(kind, root=write_mnist_folder(tmp_path, 2, 1, folder=folder))["train"][
        "images"
    ]
    assert torch.equal(images[:, 0], images[:, 1]) and torch.equal(images[:, 0], images[:, 2])
    inside = torch.zeros(32, 32, dtype=torch.bool)
    inside[2:30, 2:30] = True
    assert not images[:, :, ~inside].any() and images[:, :, inside].any()


def test_gzipped_and_plain_idx_files_read_the_same(tmp_path):
    plain = prepare_dataset("mnist", root=write_mnist_folder(tmp_path / "plain", 2, 1))
    gzipped = prepare_dataset("mnist", root=write_mnist_folder(tmp_path / "gz", 2, 1, gzipped=True))
    for split in ("train", "test"):
        assert torch.equal(plain[split]["images"], gzipped[split]["images"])
        assert torch.equal(plain[split]["labels"], gzipped[split]["labels"])


@pytest.mark.parametrize("copy", list(TINY_COPIES))
def test_a_torchvision_subset_is_the_full_split_at_the_drawn_indices(
    tmp_path, cifar_checksums_skipped, copy
):
    kind, write, num_classes = TINY_COPIES[copy]
    root = write(tmp_path / "data", 4, 3)
    subset = {"train_per_class": 2, "test_per_class": 1, "seed": 5}
    full, part = prepare_dataset(kind, root=root), prepare_dataset(kind, root=root, subset=subset)
    for split, per_class in (("train", 2), ("test", 1)):
        keep = per_class_subset(full[split]["labels"], per_class, seed=5)
        assert torch.equal(part[split]["images"], full[split]["images"][keep])
        assert torch.bincount(part[split]["labels"]).tolist() == [per_class] * num_classes
    assert part["train"]["classes"] == full["train"]["classes"]


def test_a_subset_larger_than_a_class_names_the_data_set_and_class(tmp_path):
    root = write_mnist_folder(tmp_path, 3, 1)
    with pytest.raises(
        DataError,
        match=rf"MNIST at {root} \(train\): class 0 has 3 images, fewer than the 4 per "
        r"class that dataset.subset asks for; valid: at most 3",
    ):
        prepare_dataset(
            "mnist", root=root, subset={"train_per_class": 4, "test_per_class": None, "seed": 0}
        )


def test_svhn_and_idx_files_read_as_torchvision_reads_them(tmp_path, monkeypatch):
    import torchvision.datasets.svhn
    from torchvision.datasets import MNIST, SVHN

    monkeypatch.setattr(
        torchvision.datasets.svhn, "check_integrity", lambda *arguments, **keywords: True
    )
    svhn = SVHN(str(write_svhn_folder(tmp_path / "svhn", 2, 1)), split="test")
    ours = load_torchvision_split("svhn", tmp_path / "svhn", "test")
    assert (
        torch.equal(ours["images"], torch.from_numpy(svhn.data))
        and ours["labels"].tolist() == svhn.labels.tolist()
    )
    mnist = MNIST(str(write_mnist_folder(tmp_path / "mnist", 2, 1)), train=True)
    ours = load_torchvision_split("mnist", tmp_path / "mnist", "train")
    assert torch.equal(ours["images"][:, 0, 2:30, 2:30], mnist.data) and torch.equal(
        ours["labels"], mnist.targets
    )


@pytest.mark.parametrize(
    "kind, write, remove, message",
    [
        (
            "mnist",
            write_mnist_folder,
            "MNIST/raw/t10k-labels-idx1-ubyte",
            r"MNIST folder .*MNIST/raw is incomplete: t10k-labels-idx1-ubyte missing \(gzipped or not\); delete the folder",
        ),
        (
            "svhn",
            write_svhn_folder,
            "test_32x32.mat",
            r"SVHN folder .* is incomplete: test_32x32.mat missing; delete train_32x32.mat so that rule 'download_dataset'",
        ),
        (
            "cifar100",
            write_cifar100_folder,
            "cifar-100-python/meta",
            r"CIFAR-100 folder .*cifar-100-python is incomplete: meta missing",
        ),
    ],
)
def test_an_incomplete_torchvision_folder_names_the_missing_file(
    tmp_path, kind, write, remove, message
):
    write(tmp_path, 1, 1)
    (tmp_path / remove).unlink()
    with pytest.raises(DataError, match=message):
        prepare_dataset(kind, root=tmp_path)


def test_a_missing_torchvision_folder_is_named(tmp_path):
    with pytest.raises(
        DataError,
        match=rf"the FashionMNIST folder {tmp_path}/FashionMNIST/raw does not exist; rule "
        r"'download_dataset' makes the workflow's own copy",
    ):
        prepare_dataset("fashionmnist", root=tmp_path)


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte", "train-labels-idx1-ubyte.gz"])
@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_idx_file_is_named(tmp_path, name, damage):
    write_mnist_folder(tmp_path, 2, 1, gzipped=name.endswith(".gz"))
    path = tmp_path / "MNIST" / "raw" / name
    content = path.read_bytes()
    path.write_bytes(b"not an idx file" if damage == "garbage" else content[: len(content) - 7])
    with pytest.raises(DataError, match=f"{path}"):
        prepare_dataset("mnist", root=tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_svhn_file_is_named(tmp_path, damage):
    path = write_svhn_folder(tmp_path, 2, 1) / "train_32x32.mat"
    content = path.read_bytes()
    path.write_bytes(
        b"not a mat file" * 20 if damage == "garbage" else content[: len(content) // 2]
    )
    with pytest.raises(DataError, match=f"SVHN file {path}"):
        prepare_dataset("svhn", root=tmp_path)


def test_corrupt_cifar100_folder_names_the_files_that_fail_the_checksum(tmp_path):
    folder = write_cifar100_folder(tmp_path, 1, 1) / "cifar-100-python"
    with pytest.raises(
        DataError,
        match=f"CIFAR-100 folder {folder} has files that fail torchvision's checksum: "
        "train, test, meta; delete the folder",
    ):
        prepare_dataset("cifar100", root=tmp_path)


@pytest.mark.parametrize(
    "kind, source, root",
    [
        (
            "cifar10",
            "results/data/download/cifar10/cifar-10-batches-py",
            "results/data/download/cifar10",
        ),
        ("mnist", "resources/data/MNIST/raw", "resources/data"),
        ("svhn", "resources/svhn", "resources/svhn"),
        ("imagefolder", "resources/jpeg", "resources/jpeg"),
    ],
)
def test_the_root_of_a_source_folder_is_what_torchvision_is_given(kind, source, root):
    assert root_of(kind, source) == Path(root)
    assert root_of(kind, user_data_folder({"kind": kind, "root": "a/b"})) == Path("a/b")


@pytest.mark.parametrize("kind", list(TORCHVISION_SETS))
def test_each_downloaded_copy_has_a_root_of_its_own(kind):
    assert root_of(kind, downloaded_folder(kind)) == Path("results/data/download") / kind


def test_an_svhn_file_of_other_arrays_is_named_with_their_shapes(tmp_path):
    import numpy as np
    from scipy.io import savemat

    write_svhn_folder(tmp_path, 1, 1)
    savemat(
        tmp_path / "test_32x32.mat",
        {"X": np.zeros((28, 28, 1, 4), np.uint8), "y": np.ones((4, 1), np.uint8)},
    )
    with pytest.raises(
        DataError,
        match=r"test_32x32.mat holds X of shape \(28, 28, 1, 4\) \(uint8\) and y of shape "
        r"\(4, 1\); valid: X uint8 32 x 32 x 3 x N and y N x 1",
    ):
        prepare_dataset("svhn", root=tmp_path)


def test_labels_outside_the_classes_are_refused(tmp_path):
    import numpy as np
    from scipy.io import savemat

    write_svhn_folder(tmp_path, 1, 1)
    labels = np.array([[3], [11]], np.uint8)
    savemat(tmp_path / "test_32x32.mat", {"X": np.zeros((32, 32, 3, 2), np.uint8), "y": labels})
    with pytest.raises(
        DataError,
        match=rf"the SVHN folder {tmp_path} holds test labels from 3 to 11; valid: 0 to 9",
    ):
        prepare_dataset("svhn", root=tmp_path)


def fake_downloads(monkeypatch, kind):
    """torchvision's downloads of `kind` replaced by writing a tiny copy where torchvision would put it."""
    import torchvision.datasets.cifar
    import torchvision.datasets.mnist
    import torchvision.datasets.svhn

    def cifar(url, root, filename, md5):
        write_cifar10_folder(Path(root), 2, 1) if kind == "cifar10" else write_cifar100_folder(
            Path(root), 2, 1
        )
        (Path(root) / filename).write_bytes(b"the downloaded archive")

    def idx(url, download_root, filename, md5):  # once per file; the first writes all four
        if not (Path(download_root) / filename.removesuffix(".gz")).exists():
            write_mnist_folder(
                Path(download_root).parents[1], 2, 1, folder=Path(download_root).parent.name
            )

    for module in (
        torchvision.datasets.cifar,
        torchvision.datasets.svhn,
    ):  # the file is there, whatever its md5
        monkeypatch.setattr(module, "check_integrity", lambda path, md5=None: Path(path).is_file())
    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", cifar)
    monkeypatch.setattr(
        torchvision.datasets.svhn,
        "download_url",
        lambda url, root, filename, md5: write_svhn_folder(Path(root), 2, 1),
    )
    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", idx)


@pytest.mark.parametrize("kind", list(TORCHVISION_SETS))
def test_a_download_lands_where_the_plan_reads_it(tmp_path, monkeypatch, kind):
    from memdissect.data.tensors import download_torchvision_set

    fake_downloads(monkeypatch, kind)
    folder = tmp_path / downloaded_folder(kind)  # what rule download_dataset must make
    download_torchvision_set(kind, root_of(kind, folder))
    assert folder.is_dir()
    assert sorted(path.name for path in folder.parent.iterdir()) == sorted(
        [folder.name]
    )  # no archive left over
    data = prepare_dataset(kind, root=root_of(kind, folder))
    assert data["train"]["images"].shape[1:] == (3, 32, 32)
    assert len(data["test"]["labels"]) == len(
        TORCHVISION_SETS[kind].classes
    )  # 1 test image a class
