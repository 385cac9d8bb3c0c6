"""The class names and data-set layouts the plan knows, held against their sources."""

import pytest
from config_checks import demo_config, validate_config
from workflow_runs import write_cifar100_folder

from memdissect.data import catalogue, folders
from memdissect.data.catalogue import CIFAR10, CIFAR100, FASHIONMNIST, MNIST, SVHN, TORCHVISION_SETS
from memdissect.study import schema


def test_known_class_counts_and_cifar10_files_agree_with_their_sources():
    from torchvision.datasets import CIFAR10 as TorchvisionCIFAR10

    from memdissect.data.synthetic import CLASSES

    assert catalogue.CLASS_COUNTS["synthetic"] == len(CLASSES)
    names = [name for name, _ in TorchvisionCIFAR10.train_list + TorchvisionCIFAR10.test_list]
    assert sorted(CIFAR10.files) == sorted(names + [TorchvisionCIFAR10.meta["filename"]])
    assert CIFAR10.folder == TorchvisionCIFAR10.base_folder


def test_cifar100_fine_labels_are_what_torchvision_reads_from_a_meta_file(tmp_path, monkeypatch):
    import torchvision.datasets.cifar
    from torchvision.datasets import CIFAR100 as TorchvisionCIFAR100

    monkeypatch.setattr(
        torchvision.datasets.cifar, "check_integrity", lambda *arguments, **keywords: True
    )
    read = TorchvisionCIFAR100(str(write_cifar100_folder(tmp_path, 1, 1)), train=False)
    assert read.classes == list(CIFAR100.classes) and len(set(read.classes)) == 100
    assert read.classes == sorted(
        read.classes
    )  # CIFAR-100's fine labels are numbered alphabetically
    assert read.classes[:3] == ["apple", "aquarium_fish", "baby"] and read.classes[-1] == "worm"
    names = [name for name, _ in TorchvisionCIFAR100.train_list + TorchvisionCIFAR100.test_list]
    assert sorted(CIFAR100.files) == sorted(names + [TorchvisionCIFAR100.meta["filename"]])
    assert CIFAR100.folder == TorchvisionCIFAR100.base_folder


def test_digits_and_fashion_classes_and_files_are_torchvisions():
    from torchvision.datasets import MNIST as TorchvisionMNIST
    from torchvision.datasets import SVHN as TorchvisionSVHN
    from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

    assert list(FASHIONMNIST.classes) == TorchvisionFashionMNIST.classes
    assert list(MNIST.classes) == [
        name.split(" - ")[0] for name in TorchvisionMNIST.classes
    ]  # "0 - zero"
    assert list(SVHN.classes) == [str(digit) for digit in range(10)]
    for spec, dataset_class in ((MNIST, TorchvisionMNIST), (FASHIONMNIST, TorchvisionFashionMNIST)):
        assert list(spec.files) == [name.removesuffix(".gz") for name, _ in dataset_class.resources]
        assert spec.folder == f"{dataset_class.__name__}/raw"
    assert list(SVHN.files) == [TorchvisionSVHN.split_list[split][1] for split in ("train", "test")]


@pytest.mark.parametrize("kind", list(TORCHVISION_SETS))
def test_class_sizes_add_up_to_the_split_sizes(kind):
    spec = TORCHVISION_SETS[kind]
    for split, sizes in (spec.class_sizes or {}).items():
        assert len(sizes) == len(spec.classes) and sum(sizes) == spec.split_sizes[split]
    assert catalogue.CLASS_COUNTS[kind] == len(spec.classes)


@pytest.mark.parametrize(
    "kind, num_classes, valid", [("mnist", 100, 10), ("cifar100", 10, 100), ("svhn", 2, 10)]
)
def test_a_class_count_unlike_the_data_sets_is_refused_naming_both(
    tmp_path, kind, num_classes, valid
):
    config = demo_config()
    config["dataset"] = {"kind": kind, "root": "resources/data", "num_classes": num_classes}
    config["figures"]["figure3"]["classes"] = [0, 1]
    with pytest.raises(
        schema.ConfigError,
        match=rf"^dataset.num_classes: {num_classes} does not match the data "
        rf"set; valid: {valid} \(the classes of the {kind} data set",
    ):
        validate_config(config, tmp_path)


@pytest.mark.parametrize(
    "kind, num_classes", [("mnist", 10), ("cifar100", 100), ("fashionmnist", 10), ("svhn", 10)]
)
def test_each_kind_with_its_class_count_passes_without_its_folder(tmp_path, kind, num_classes):
    config = demo_config()
    config["dataset"] = {
        "kind": kind,
        "root": "resources/data",
        "num_classes": num_classes,
        "subset": {"train_per_class": 5, "test_per_class": 2},
    }
    config["figures"]["figure3"]["classes"] = [0, 1]
    validate_config(config, tmp_path)
    assert folders.split_sizes(config["dataset"], tmp_path) == {
        "train": 5 * num_classes,
        "test": 2 * num_classes,
    }
