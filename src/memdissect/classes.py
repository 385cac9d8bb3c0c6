"""The class names of the data sets whose classes are known before any image is read (torch-free)."""

SYNTHETIC_CLASSES = (
    "disk", "ring", "square", "cross", "horizontal_stripes",
    "vertical_stripes", "diagonal_stripes", "checkerboard", "triangle", "four_dots",
)
# torchvision's CIFAR10.classes, in label order
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_SPLIT_SIZES = {"train": 50000, "test": 10000}  # per split; the classes are balanced

KNOWN_CLASSES = {"synthetic": SYNTHETIC_CLASSES, "cifar10": CIFAR10_CLASSES}
