"""Data sets turned once into uint8 tensors, the form training reads.

A split is a dict: images (uint8, N x 3 x 32 x 32), labels (int64, N), classes (list of str).
torchvision's data sets are read as torchvision keeps them under their root (see
``memdissect.data.catalogue.TORCHVISION_SETS``). Grey images (MNIST, FashionMNIST) become 3 equal
channels, and their 28 x 28 pixels become 32 x 32 by a border of 2 zero pixels on each side, as
LeNet did: lossless, no pixel is resampled.
"""

import gzip
import math
from pathlib import Path

import torch

from memdissect.data.catalogue import IDX_FILES, TORCHVISION_SETS
from memdissect.data.folders import (
    IMAGE_FOLDER_SPLITS,
    check_torchvision_folder,
    image_folder_classes,
    stored_file,
)
from memdissect.io import ArtifactError, DataError, load_torch, made_by_hint, save_torch

IMAGE_SIZE = 32
IDX_SPLITS = {"train": IDX_FILES[:2], "test": IDX_FILES[2:]}  # (images, labels) of each split
IDX_UINT8 = 0x08  # the type byte of an idx file of unsigned bytes


def per_class_subset(
    labels: torch.Tensor, per_class: int, seed: int, where: str = "the data set"
) -> torch.Tensor:
    """Indices of `per_class` examples of every class, drawn without replacement from `seed`, in data order.

    The same labels, count and seed give the same indices on every machine.
    """
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for label in torch.unique(labels).tolist():
        members = torch.nonzero(labels == label).flatten()
        if len(members) < per_class:
            raise DataError(
                f"{where}: class {label} has {len(members)} images, fewer than the {per_class} per class "
                f"that dataset.subset asks for; valid: at most {len(members)}"
            )
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(chosen).sort().values


def subset_of(labels, subset: dict | None, split: str, where: str):
    """The indices that dataset.subset keeps of a split, or None to keep all."""
    per_class = (subset or {}).get(f"{split}_per_class")
    if per_class is None:
        return None
    return per_class_subset(
        torch.as_tensor(labels), per_class, subset.get("seed", 0), f"{where} ({split})"
    )


# ----------------------------------------------------------------------------- torchvision's data sets


def torchvision_class(kind: str):
    from torchvision import datasets

    return {
        "cifar10": datasets.CIFAR10,
        "cifar100": datasets.CIFAR100,
        "svhn": datasets.SVHN,
        "mnist": datasets.MNIST,
        "fashionmnist": datasets.FashionMNIST,
    }[kind]


def load_torchvision_split(kind: str, root, split: str, subset: dict | None = None) -> dict:
    """One split of a torchvision data set kept under `root` as torchvision keeps it, as uint8 N x 3 x 32 x 32."""
    spec = TORCHVISION_SETS[kind]
    check_torchvision_folder(kind, root)
    images, labels = SPLIT_READERS[kind](kind, Path(root), split)
    if len(labels) and not 0 <= labels.min() <= labels.max() < len(spec.classes):
        raise DataError(
            f"the {spec.title} folder {Path(root) / spec.folder} holds {split} labels from "
            f"{labels.min()} to {labels.max()}; valid: 0 to {len(spec.classes) - 1}"
        )
    keep = subset_of(labels, subset, split, f"{spec.title} at {root}")
    if keep is not None:
        images, labels = images[keep], labels[keep]
    return {"images": as_rgb32(images), "labels": labels, "classes": list(spec.classes)}


def as_rgb32(images: torch.Tensor) -> torch.Tensor:
    """uint8 N x 3 x 32 x 32 from N x C x H x W: a grey channel repeated, a smaller image framed by zeros."""
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    border = (IMAGE_SIZE - images.shape[-1]) // 2
    if border:
        images = torch.nn.functional.pad(images, (border, border, border, border))
    return images.contiguous()


def read_cifar(kind: str, root: Path, split: str):
    """CIFAR-10 or CIFAR-100 with torchvision, which checks every file's md5: N x 3 x 32 x 32 and labels."""
    try:
        dataset = torchvision_class(kind)(str(root), train=(split == "train"), download=False)
    except RuntimeError:  # torchvision's "Dataset not found or corrupted": say which file
        raise DataError(checksum_problem(kind, root)) from None
    return torch.from_numpy(dataset.data).permute(0, 3, 1, 2), torch.tensor(dataset.targets)


def checksum_problem(kind: str, root) -> str:
    from torchvision.datasets.utils import check_integrity

    dataset_class, folder = torchvision_class(kind), Path(root) / TORCHVISION_SETS[kind].folder
    expected = [
        *dataset_class.train_list,
        *dataset_class.test_list,
        [dataset_class.meta["filename"], dataset_class.meta["md5"]],
    ]
    corrupt = [name for name, md5 in expected if not check_integrity(str(folder / name), md5)]
    return (
        f"the {TORCHVISION_SETS[kind].title} folder {folder} has files that fail torchvision's checksum: "
        f"{', '.join(corrupt) or 'none'}; delete the folder so that the workflow downloads its own copy, or copy "
        f"an intact one there"
    )


def read_svhn(kind: str, root: Path, split: str):
    """SVHN's <split>_32x32.mat: X is 32 x 32 x 3 x N, y is N x 1 with 10 for the digit 0, made 0 as
    torchvision does. Read with scipy directly: torchvision's SVHN accepts only the published files' md5."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    path = root / f"{split}_32x32.mat"
    try:
        content = loadmat(str(path))
        images, labels = content["X"], content["y"]
    except (
        MatReadError,
        OSError,
        ValueError,
        KeyError,
        TypeError,
    ) as error:  # a truncated or foreign file
        raise DataError(
            f"cannot read the SVHN file {path}: {error!r}; valid: an intact copy of torchvision's "
            f"{path.name}"
        ) from None
    valid_images = (
        images.dtype.name == "uint8" and images.ndim == 4 and images.shape[:3] == (32, 32, 3)
    )
    if not valid_images or labels.shape != (images.shape[-1], 1):
        raise DataError(
            f"the SVHN file {path} holds X of shape {images.shape} ({images.dtype}) and y of shape "
            f"{labels.shape}; valid: X uint8 32 x 32 x 3 x N and y N x 1"
        )
    labels = torch.from_numpy(labels.astype("int64").reshape(-1))
    return torch.from_numpy(images).permute(3, 2, 0, 1), labels.where(labels != 10, 0)


def read_idx_split(kind: str, root: Path, split: str):
    """MNIST or FashionMNIST from the idx files torchvision keeps, gzipped or not (torchvision's MNIST
    reads only the unzipped ones): N x 1 x 28 x 28 and labels."""
    folder = root / TORCHVISION_SETS[kind].folder
    image_name, label_name = IDX_SPLITS[split]
    images, labels = (
        read_idx(stored_file(folder, image_name, True)),
        read_idx(stored_file(folder, label_name, True)),
    )
    if images.dim() != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise DataError(
            f"the {TORCHVISION_SETS[kind].title} folder {folder} holds {split} images of shape "
            f"{tuple(images.shape)} and labels of shape {tuple(labels.shape)}; valid: N x 28 x 28 and N"
        )
    return images.unsqueeze(1), labels.long()


def read_idx(path: Path) -> torch.Tensor:
    """An idx file of unsigned bytes: 0, 0, the type 0x08, the number of dimensions, each dimension a
    big-endian int32, then the bytes."""
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as handle:
            content = handle.read()
    except (OSError, EOFError) as error:  # gzip's errors for a truncated or foreign file
        raise DataError(
            f"cannot read the idx file {path}: {error}; valid: an intact copy of torchvision's "
            f"{path.name}"
        ) from None
    dimensions = content[3] if len(content) >= 4 and content[:3] == bytes([0, 0, IDX_UINT8]) else 0
    header = 4 + 4 * dimensions
    if not dimensions or len(content) < header:
        raise DataError(
            f"{path} is not an idx file of unsigned bytes; valid: an intact copy of torchvision's "
            f"{path.name}"
        )
    shape = [int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions)]
    if len(content) - header != math.prod(shape):
        raise DataError(
            f"{path} is truncated or too long: its header says {' x '.join(map(str, shape))} bytes, it "
            f"holds {len(content) - header}; delete it and copy an intact one there"
        )
    return torch.frombuffer(bytearray(content[header:]), dtype=torch.uint8).reshape(shape)


SPLIT_READERS = {
    "cifar10": read_cifar,
    "cifar100": read_cifar,
    "svhn": read_svhn,
    "mnist": read_idx_split,
    "fashionmnist": read_idx_split,
}


def download_torchvision_set(kind: str, root) -> None:
    """torchvision's copy of a data set into root, where it keeps it; CIFAR's downloaded archive is removed after."""
    dataset_class = torchvision_class(kind)
    for split in IMAGE_FOLDER_SPLITS:
        arguments = {"split": split} if kind == "svhn" else {"train": split == "train"}
        dataset_class(str(root), download=True, **arguments)
    if kind in ("cifar10", "cifar100"):
        (Path(root) / dataset_class.filename).unlink(missing_ok=True)


def root_of(kind: str, source) -> Path:
    """The root torchvision reads a data set from, given its folder there (plan.user_data_folder or
    plan.downloaded_folder); for any other kind, source itself."""
    spec = TORCHVISION_SETS.get(kind)
    depth = len(Path(spec.folder).parts) if spec else 0
    return Path(source).parents[depth - 1] if depth else Path(source)


# ----------------------------------------------------------------------------- image folders


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
    image_folder_classes(root)  # both splits, with the same classes
    return read_class_folders(Path(root) / split, subset, split, f"image folder {root}")


def read_class_folders(
    folder, subset: dict | None = None, split: str = "train", where: str = ""
) -> dict:
    """`folder/<class>/<image>` with torchvision's ImageFolder: images (uint8 N x 3 x 32 x 32, resized where they
    are not 32 x 32), labels (int64 N, the classes in sorted order) and classes; subset as dataset.subset."""
    from torchvision.datasets import ImageFolder

    try:
        dataset = ImageFolder(str(folder), loader=read_rgb_image)
    except FileNotFoundError as error:  # no class folder, or one without a single image file
        raise DataError(f"image folder {folder}: {error}") from None
    samples = dataset.samples
    keep = subset_of(dataset.targets, subset, split, where or f"image folder {folder}")
    if keep is not None:  # decode only the images kept
        samples = [samples[index] for index in keep.tolist()]
    images = torch.stack([dataset.loader(path) for path, _ in samples])  # N x 3 x 32 x 32
    return {
        "images": images,
        "labels": torch.tensor([label for _, label in samples]),
        "classes": dataset.classes,
    }


def prepare_dataset(
    kind: str, root=None, train_size=None, test_size=None, seed=0, subset=None
) -> dict:
    """Both splits of a data set, by kind: one of torchvision's (TORCHVISION_SETS, read from `root` as
    torchvision keeps them), "imagefolder" (`root`/<split>/<class>/) or "synthetic".

    subset: None for every image, or {"train_per_class", "test_per_class", "seed"} for a
    deterministic per-class draw (all but synthetic); a count of None keeps that split whole.
    """
    if kind == "synthetic":
        from memdissect.data.synthetic import make_synthetic_dataset

        return make_synthetic_dataset(train_size, test_size, seed)
    if kind in TORCHVISION_SETS:
        return {
            split: load_torchvision_split(kind, root, split, subset)
            for split in IMAGE_FOLDER_SPLITS
        }
    if kind != "imagefolder":
        raise ValueError(
            f"unknown data set kind {kind!r}; valid: {', '.join(TORCHVISION_SETS)}, imagefolder, "
            f"synthetic"
        )
    return {split: load_image_folder_split(root, split, subset) for split in IMAGE_FOLDER_SPLITS}


def save_split(split: dict, path) -> None:
    save_torch(split, path)


def load_split(path, made_by: str = "") -> dict:
    """A split saved by save_split; ArtifactError naming the file (and ``made_by``, the rule that writes it)."""
    split = load_torch(path, made_by=made_by)
    if (
        split.get("images") is None
        or split["images"].dtype != torch.uint8
        or split["images"].shape[1:] != (3, 32, 32)
    ):
        raise ArtifactError(
            f"{path} does not hold uint8 N x 3 x 32 x 32 images{made_by_hint(made_by)}; "
            f"delete it and rerun"
        )
    return split
