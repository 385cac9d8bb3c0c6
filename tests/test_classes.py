"""The class names the plan knows, held against their sources."""

from memdissect import validation


def test_known_class_counts_and_cifar10_files_agree_with_their_sources():
    from torchvision.datasets import CIFAR10

    from memdissect.synthetic import CLASSES

    assert validation.CLASS_COUNTS["synthetic"] == len(CLASSES)
    names = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list] + [CIFAR10.meta["filename"]]
    assert sorted(validation.CIFAR10_FILES) == sorted(names)
