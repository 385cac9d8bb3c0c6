"""Facts of a data set's folder that the plan and data preparation both read: whether the user's own copy is
there, its classes and images per class, the images training will read, and whether a torchvision data set's
folder is complete. Pure Python without torch.
"""

import functools
from pathlib import Path

from memdissect.data.catalogue import TORCHVISION_SETS
from memdissect.io import DataError

IMAGE_FOLDER_SPLITS = ("train", "test")
# the files torchvision's ImageFolder reads as images (its IMG_EXTENSIONS)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def user_copy_exists(dataset: dict, workdir=".") -> bool:
    """Whether dataset.root holds the user's own copy, read in place: the image folder, or any file of a
    torchvision data set where torchvision keeps it (else the workflow downloads or unpacks its own)."""
    root = Path(workdir) / dataset["root"]
    spec = TORCHVISION_SETS.get(dataset["kind"])
    if spec is None:
        return root.is_dir()
    return any(
        stored_file(root / spec.folder, name, spec.gzip_allowed) is not None for name in spec.files
    )


def subset_in_use(dataset: dict):
    """dataset.subset with its seed, or None where it keeps every image of both splits."""
    subset = dataset.get("subset") or {}
    if all(subset.get(f"{split}_per_class") is None for split in IMAGE_FOLDER_SPLITS):
        return None
    return {
        "train_per_class": subset.get("train_per_class"),
        "test_per_class": subset.get("test_per_class"),
        "seed": subset.get("seed", 0),
    }


def class_sizes(dataset: dict, workdir: Path):
    """{split: {class: images}} of the data set where the plan can count them, else None."""
    kind, root = dataset["kind"], workdir / dataset["root"]
    spec = TORCHVISION_SETS.get(kind)
    if (
        spec is not None and spec.class_sizes is not None
    ):  # SVHN's are not known before reading its labels
        return {split: dict(zip(spec.classes, sizes)) for split, sizes in spec.class_sizes.items()}
    if kind == "imagefolder" and root.is_dir():
        return count_images(str(root.resolve()))
    return None


@functools.cache
def count_images(root: str) -> dict:
    """{split: {class: image files}} of an image folder, counted once per process: the plan asks
    twice (the subset check, the jobs' wall times), and every SLURM job parses the plan again."""
    return {
        split: {
            folder.name: sum(
                1
                for entry in folder.iterdir()
                if entry.is_file() and entry.suffix.lower() in IMAGE_EXTENSIONS
            )
            for folder in (Path(root) / split).iterdir()
            if folder.is_dir()
        }
        for split in IMAGE_FOLDER_SPLITS
    }


def split_sizes(dataset: dict, workdir=".") -> dict:
    """{"train": N, "test": M} images that training will read, for the jobs' wall times.

    Counted where the plan can; torchvision's data sets by their known sizes; an image folder still in its
    archive counts as CIFAR-10's size.
    """
    if dataset["kind"] == "synthetic":
        return {"train": dataset["train_size"], "test": dataset["test_size"]}
    subset = subset_in_use(dataset) or {}
    drawn = {
        split: subset[f"{split}_per_class"] * dataset["num_classes"]
        for split in IMAGE_FOLDER_SPLITS
        if subset.get(f"{split}_per_class") is not None
    }
    if len(drawn) == len(IMAGE_FOLDER_SPLITS):
        return drawn
    counted = class_sizes(dataset, Path(workdir))
    known = TORCHVISION_SETS.get(dataset["kind"], TORCHVISION_SETS["cifar10"]).split_sizes
    sizes = (
        dict(known) if counted is None else {split: sum(c.values()) for split, c in counted.items()}
    )
    return {**sizes, **drawn}


def image_folder_classes(root) -> list[str]:
    """The class list of an image folder's splits; both splits must hold the same classes."""
    root = Path(root)
    classes = {}
    for split in IMAGE_FOLDER_SPLITS:
        folder = root / split
        if not folder.is_dir():
            raise DataError(
                f"image folder {root} has no {split}/ folder; expected {root}/{split}/<class>/<image>"
            )
        classes[split] = sorted(entry.name for entry in folder.iterdir() if entry.is_dir())
        if not classes[split]:
            raise DataError(f"{folder} holds no class folders; expected {folder}/<class>/<image>")
    if classes["train"] != classes["test"]:
        only_train = sorted(set(classes["train"]) - set(classes["test"]))
        only_test = sorted(set(classes["test"]) - set(classes["train"]))
        raise DataError(
            f"image folder {root}: train and test class lists differ "
            f"(only in train: {only_train or 'none'}; only in test: {only_test or 'none'})"
        )
    return classes["train"]


def stored_file(folder: Path, name: str, gzip_allowed: bool = False):
    """folder/name, or folder/name.gz where the data set may keep it gzipped; None where neither is a file."""
    candidates = [folder / name] + ([folder / f"{name}.gz"] if gzip_allowed else [])
    return next((path for path in candidates if path.is_file()), None)


def check_torchvision_folder(kind: str, root) -> None:
    """Raise DataError unless root holds every file torchvision reads of the data set, where torchvision keeps it."""
    spec = TORCHVISION_SETS[kind]
    folder = Path(root) / spec.folder
    if not folder.is_dir():
        raise DataError(
            f"the {spec.title} folder {folder} does not exist; rule 'download_dataset' makes the "
            f"workflow's own copy, or copy torchvision's {spec.folder or ' and '.join(spec.files)} there"
        )
    missing = [name for name in spec.files if stored_file(folder, name, spec.gzip_allowed) is None]
    if missing:
        gzipped = " (gzipped or not)" if spec.gzip_allowed else ""
        delete = (
            "the folder"
            if spec.folder
            else " and ".join(name for name in spec.files if name not in missing)
        )
        raise DataError(
            f"the {spec.title} folder {folder} is incomplete: {', '.join(missing)} missing{gzipped}; "
            f"delete {delete} so that rule 'download_dataset' fetches the workflow's own copy, or copy "
            f"the complete one there"
        )
