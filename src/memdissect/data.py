"""Data sets turned once into uint8 tensors, the form training reads.

A split is a dict: images (uint8, N x 3 x 32 x 32), labels (int64, N), classes (list of str).
"""

from pathlib import Path

import torch

from memdissect.io import ArtifactError, load_torch, save_torch

IMAGE_SIZE = 32
SPLITS = ("train", "test")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def load_cifar10_split(root, split: str) -> dict:
    """Read torchvision's CIFAR10 from `root` (the folder holding cifar-10-batches-py)."""
    from torchvision.datasets import CIFAR10

    dataset = CIFAR10(str(root), train=(split == "train"), download=False)
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()  # N x 3 x 32 x 32
    return {"images": images, "labels": torch.tensor(dataset.targets), "classes": list(dataset.classes)}


def download_cifar10(root) -> None:
    from torchvision.datasets import CIFAR10

    for train in (True, False):
        CIFAR10(str(root), train=train, download=True)


def image_folder_classes(root) -> list[str]:
    """The class list of an image folder's splits; both splits must hold the same classes."""
    root = Path(root)
    classes = {}
    for split in SPLITS:
        folder = root / split
        if not folder.is_dir():
            raise FileNotFoundError(f"image folder {root} has no {split}/ folder; expected {root}/{split}/<class>/<image>")
        classes[split] = sorted(entry.name for entry in folder.iterdir() if entry.is_dir())
        if not classes[split]:
            raise FileNotFoundError(f"{folder} holds no class folders; expected {folder}/<class>/<image>")
    if classes["train"] != classes["test"]:
        only_train = sorted(set(classes["train"]) - set(classes["test"]))
        only_test = sorted(set(classes["test"]) - set(classes["train"]))
        raise ValueError(
            f"image folder {root}: train and test class lists differ "
            f"(only in train: {only_train or 'none'}; only in test: {only_test or 'none'})"
        )
    return classes["train"]


def read_rgb_image(path) -> torch.Tensor:
    """One image as uint8 3 x 32 x 32, resized if it is not 32 x 32."""
    from PIL import Image, UnidentifiedImageError
    from torchvision.transforms.functional import pil_to_tensor

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if image.size != (IMAGE_SIZE, IMAGE_SIZE):
                image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR)
            return pil_to_tensor(image)
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"cannot read image {path}: {error}") from None


def load_image_folder_split(root, split: str) -> dict:
    """Read `root/<split>/<class>/*` with torchvision's ImageFolder into uint8 tensors."""
    from torchvision.datasets import ImageFolder

    classes = image_folder_classes(root)
    dataset = ImageFolder(str(Path(root) / split), loader=read_rgb_image)
    if not dataset.samples:
        raise FileNotFoundError(f"{Path(root) / split} holds no images")
    images = torch.stack([dataset.loader(path) for path, _ in dataset.samples])  # N x 3 x 32 x 32
    return {"images": images, "labels": torch.tensor(dataset.targets), "classes": classes}


def prepare_dataset(kind: str, root=None, train_size=None, test_size=None, seed=0) -> dict:
    """Both splits of a data set, by kind: "cifar10", "imagefolder" or "synthetic"."""
    if kind == "synthetic":
        from memdissect.synthetic import make_synthetic_dataset

        return make_synthetic_dataset(train_size, test_size, seed)
    loaders = {"cifar10": load_cifar10_split, "imagefolder": load_image_folder_split}
    if kind not in loaders:
        raise ValueError(f"unknown data set kind {kind!r}; valid: cifar10, imagefolder, synthetic")
    return {split: loaders[kind](root, split) for split in SPLITS}


def save_split(split: dict, path) -> None:
    save_torch(split, path)


def load_split(path) -> dict:
    split = load_torch(path, made_by="prepare_dataset")
    if split.get("images") is None or split["images"].dtype != torch.uint8 or split["images"].shape[1:] != (3, 32, 32):
        raise ArtifactError(f"{path} does not hold uint8 N x 3 x 32 x 32 images (made by rule 'prepare_dataset'); delete it and rerun")
    return split
