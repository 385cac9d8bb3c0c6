"""Data sets turned once into uint8 tensors, the form training reads.

A split is a dict: images (uint8, N x 3 x 32 x 32), labels (int64, N), classes (list of str).
"""

from pathlib import Path

import torch

from memdissect.io import ArtifactError, DataError, load_torch, made_by_hint, save_torch
from memdissect.validation import CIFAR10_FOLDER, IMAGE_FOLDER_SPLITS, check_cifar10_folder, image_folder_classes

IMAGE_SIZE = 32


def per_class_subset(labels: torch.Tensor, per_class: int, seed: int, where: str = "the data set") -> torch.Tensor:
    """Indices of `per_class` examples of every class, drawn without replacement from `seed`, in data order.

    The same labels, count and seed give the same indices on every machine.
    """
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for label in torch.unique(labels).tolist():
        members = torch.nonzero(labels == label).flatten()
        if len(members) < per_class:
            raise DataError(f"{where}: class {label} has {len(members)} images, fewer than the {per_class} per class "
                            f"that dataset.subset asks for; valid: at most {len(members)}")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(chosen).sort().values


def subset_of(labels, subset: dict | None, split: str, where: str):
    """The indices that dataset.subset keeps of a split, or None to keep all."""
    per_class = (subset or {}).get(f"{split}_per_class")
    if per_class is None:
        return None
    return per_class_subset(torch.as_tensor(labels), per_class, subset.get("seed", 0), f"{where} ({split})")


def load_cifar10_split(root, split: str, subset: dict | None = None) -> dict:
    """Read torchvision's CIFAR10 from `root` (the folder holding cifar-10-batches-py)."""
    from torchvision.datasets import CIFAR10

    check_cifar10_folder(root)
    try:
        dataset = CIFAR10(str(root), train=(split == "train"), download=False)
    except RuntimeError:  # torchvision's "Dataset not found or corrupted": say which file
        raise DataError(cifar10_integrity_problem(root)) from None
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()  # N x 3 x 32 x 32
    labels = torch.tensor(dataset.targets)
    keep = subset_of(labels, subset, split, f"CIFAR-10 at {root}")
    if keep is not None:
        images, labels = images[keep].contiguous(), labels[keep]
    return {"images": images, "labels": labels, "classes": list(dataset.classes)}


def cifar10_integrity_problem(root) -> str:
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.utils import check_integrity

    folder = Path(root) / CIFAR10_FOLDER
    expected = [*CIFAR10.train_list, *CIFAR10.test_list, [CIFAR10.meta["filename"], CIFAR10.meta["md5"]]]
    corrupt = [name for name, md5 in expected if not check_integrity(str(folder / name), md5)]
    return (f"the CIFAR-10 folder {folder} has files that fail torchvision's checksum: {', '.join(corrupt) or 'none'}; "
            f"delete the folder so that the workflow downloads its own copy, or copy an intact one there")


def download_cifar10(root) -> None:
    """torchvision's CIFAR10 into root/cifar-10-batches-py; the downloaded archive is removed after."""
    from torchvision.datasets import CIFAR10

    for train in (True, False):
        CIFAR10(str(root), train=train, download=True)
    (Path(root) / CIFAR10.filename).unlink(missing_ok=True)


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
    # PIL raises SyntaxError for some broken PNG chunks
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise DataError(f"cannot read image {path}: {error}") from None


def load_image_folder_split(root, split: str, subset: dict | None = None) -> dict:
    """Read `root/<split>/<class>/*` with torchvision's ImageFolder into uint8 tensors."""
    from torchvision.datasets import ImageFolder

    classes = image_folder_classes(root)
    try:
        dataset = ImageFolder(str(Path(root) / split), loader=read_rgb_image)
    except FileNotFoundError as error:  # a class folder without a single image file
        raise DataError(f"image folder {Path(root) / split}: {error}") from None
    samples = dataset.samples
    keep = subset_of(dataset.targets, subset, split, f"image folder {root}")
    if keep is not None:  # decode only the images kept
        samples = [samples[index] for index in keep.tolist()]
    images = torch.stack([dataset.loader(path) for path, _ in samples])  # N x 3 x 32 x 32
    return {"images": images, "labels": torch.tensor([label for _, label in samples]), "classes": classes}


def prepare_dataset(kind: str, root=None, train_size=None, test_size=None, seed=0, subset=None) -> dict:
    """Both splits of a data set, by kind: "cifar10", "imagefolder" or "synthetic".

    subset: None for every image, or {"train_per_class", "test_per_class", "seed"} for a
    deterministic per-class draw (cifar10 and imagefolder); a count of None keeps that split whole.
    """
    if kind == "synthetic":
        from memdissect.synthetic import make_synthetic_dataset

        return make_synthetic_dataset(train_size, test_size, seed)
    loaders = {"cifar10": load_cifar10_split, "imagefolder": load_image_folder_split}
    if kind not in loaders:
        raise ValueError(f"unknown data set kind {kind!r}; valid: cifar10, imagefolder, synthetic")
    return {split: loaders[kind](root, split, subset) for split in IMAGE_FOLDER_SPLITS}


def save_split(split: dict, path) -> None:
    save_torch(split, path)


def load_split(path, made_by: str = "") -> dict:
    """A split saved by save_split; ArtifactError naming the file (and ``made_by``, the rule that writes it)."""
    split = load_torch(path, made_by=made_by)
    if split.get("images") is None or split["images"].dtype != torch.uint8 or split["images"].shape[1:] != (3, 32, 32):
        raise ArtifactError(f"{path} does not hold uint8 N x 3 x 32 x 32 images{made_by_hint(made_by)}; "
                            f"delete it and rerun")
    return split
