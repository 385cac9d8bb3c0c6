"""The data sets whose classes are known before any image is read (torch-free): their class
names, and for torchvision's data sets where torchvision keeps them and how many images they hold.
"""

from dataclasses import dataclass

SYNTHETIC_CLASSES = (
    "disk",
    "ring",
    "square",
    "cross",
    "horizontal_stripes",
    "vertical_stripes",
    "diagonal_stripes",
    "checkerboard",
    "triangle",
    "four_dots",
)
# torchvision's CIFAR10.classes, in label order
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_SPLIT_SIZES = {"train": 50000, "test": 10000}  # per split; the classes are balanced
# torchvision's CIFAR100.classes (the fine labels), in label order
CIFAR100_CLASSES = (
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
)
DIGITS = tuple(
    str(digit) for digit in range(10)
)  # SVHN (torchvision maps its label 10 to 0) and MNIST
# torchvision's FashionMNIST.classes, in label order
FASHIONMNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# MNIST's images per class, in label order; its classes are not balanced
MNIST_CLASS_SIZES = {
    "train": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
}
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True)
class TorchvisionSet:
    """A data set torchvision downloads: where it keeps it under its root, what it reads there, its
    classes in label order and its images per split (and per class, in label order, where known)."""

    title: str  # as messages name it
    folder: str  # under the root; "" where the files lie in the root itself
    files: tuple[str, ...]  # in the folder
    classes: tuple[str, ...]
    split_sizes: dict
    class_sizes: dict | None  # None where only reading the files tells
    gzip_allowed: bool = False  # each file may be kept as <name>.gz instead


def balanced(split_sizes: dict, classes) -> dict:
    return {split: (size // len(classes),) * len(classes) for split, size in split_sizes.items()}


CIFAR100_SPLIT_SIZES = {"train": 50000, "test": 10000}
MNIST_SPLIT_SIZES = {"train": 60000, "test": 10000}
CIFAR10 = TorchvisionSet(
    title="CIFAR-10",
    folder="cifar-10-batches-py",
    files=(
        "data_batch_1",
        "data_batch_2",
        "data_batch_3",
        "data_batch_4",
        "data_batch_5",
        "test_batch",
        "batches.meta",
    ),
    classes=CIFAR10_CLASSES,
    split_sizes=CIFAR10_SPLIT_SIZES,
    class_sizes=balanced(CIFAR10_SPLIT_SIZES, CIFAR10_CLASSES),
)
CIFAR100 = TorchvisionSet(
    title="CIFAR-100",
    folder="cifar-100-python",
    files=("train", "test", "meta"),
    classes=CIFAR100_CLASSES,
    split_sizes=CIFAR100_SPLIT_SIZES,
    class_sizes=balanced(CIFAR100_SPLIT_SIZES, CIFAR100_CLASSES),
)
SVHN = TorchvisionSet(
    title="SVHN",
    folder="",
    files=("train_32x32.mat", "test_32x32.mat"),
    classes=DIGITS,
    split_sizes={"train": 73257, "test": 26032},
    class_sizes=None,
)
MNIST = TorchvisionSet(
    title="MNIST",
    folder="MNIST/raw",
    files=IDX_FILES,
    gzip_allowed=True,
    classes=DIGITS,
    split_sizes=MNIST_SPLIT_SIZES,
    class_sizes=MNIST_CLASS_SIZES,
)
FASHIONMNIST = TorchvisionSet(
    title="FashionMNIST",
    folder="FashionMNIST/raw",
    files=IDX_FILES,
    gzip_allowed=True,
    classes=FASHIONMNIST_CLASSES,
    split_sizes=MNIST_SPLIT_SIZES,
    class_sizes=balanced(MNIST_SPLIT_SIZES, FASHIONMNIST_CLASSES),
)
# dataset.kind: the data set; each is read in place under dataset.root, else downloaded by rule download_dataset
TORCHVISION_SETS = {
    "cifar10": CIFAR10,
    "cifar100": CIFAR100,
    "svhn": SVHN,
    "mnist": MNIST,
    "fashionmnist": FASHIONMNIST,
}

KNOWN_CLASSES = {
    "synthetic": SYNTHETIC_CLASSES,
    **{kind: spec.classes for kind, spec in TORCHVISION_SETS.items()},
}

CLASS_COUNTS = {kind: len(classes) for kind, classes in KNOWN_CLASSES.items()}
