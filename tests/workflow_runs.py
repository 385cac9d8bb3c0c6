"""Running Snakemake on a config in a temporary folder, for the workflow tests."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def write_config(workdir: Path, config: dict) -> Path:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, *arguments, config_path=None, check=True, timeout=1800):
    """Run the workflow of this checkout in workdir; returns the completed process (stdout and stderr merged)."""
    command = [*SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    if config_path is not None:
        command += ["--configfile", str(config_path), "--replace-workflow-config"]
    command += list(arguments)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(arguments)} failed:\n{result.stdout[-6000:]}")
    return result


def planned_jobs(dry_run_output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of each job a dry run plans."""
    jobs = []
    for block in re.split(r"\n(?=\[.*\d{4}\]\n)", dry_run_output):
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.MULTILINE)
        if rule:
            wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.MULTILINE)
            jobs.append((rule.group(1), wildcards.group(1) if wildcards else ""))
    return jobs


def job_counts(dry_run_output: str) -> dict[str, int]:
    """The dry run's job-stats table as {rule: count}."""
    table = dry_run_output.split("Job stats:")[-1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE) if m.group(1) != "total"}


WALL_CLOCK_COLUMNS = ["seconds", "images_per_second"]
TABLES_WITH_WALL_CLOCK = ("history.parquet", "losses.parquet")


def assert_same_history(first_path: Path, second_path: Path) -> None:
    """Per-epoch tables (classifier histories, DCGAN losses) agree exactly in every column but the wall-clock ones."""
    import pandas as pd

    first = pd.read_parquet(first_path).drop(columns=WALL_CLOCK_COLUMNS, errors="ignore")
    second = pd.read_parquet(second_path).drop(columns=WALL_CLOCK_COLUMNS, errors="ignore")
    pd.testing.assert_frame_equal(first, second, check_exact=True)


def same_bytes(first_path: Path, second_path: Path) -> bool:
    return Path(first_path).read_bytes() == Path(second_path).read_bytes()


# ----------------------------------------------------------------------------- the user's data, made up


def write_image(path, seed=0):
    """A random 32x32 RGB PNG."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def write_image_folder(root: Path, classes, per_class: dict) -> Path:
    """root/<split>/<class>/<index>.png: per_class[split] random 32x32 PNGs of every class."""
    for split, count in per_class.items():
        for label, name in enumerate(classes):
            for index in range(count):
                write_image(root / split / name / f"{index}.png", seed=1000 * label + index)
    return root


CIFAR10_TRAIN_BATCHES = 5


def write_cifar10_folder(root: Path, train_per_class: int, test_per_class: int, seed=0) -> Path:
    """A tiny root/cifar-10-batches-py in torchvision's own pickle format (data_batch_1..5,
    test_batch, batches.meta): each split's labels balanced and shuffled, and image i of a split
    marked by its first two bytes (i % 256, i // 256). torchvision checks the files' md5 when
    it loads them, which these cannot pass: see cifar10_checksums_skipped."""
    import pickle

    import numpy as np

    from memdissect.classes import CIFAR10_CLASSES

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)

    def split(per_class):
        labels = rng.permutation(np.repeat(np.arange(len(CIFAR10_CLASSES)), per_class))
        data = rng.integers(0, 256, (len(labels), 3 * 32 * 32), dtype=np.uint8)  # N x 3072, channel-major
        data[:, 0], data[:, 1] = np.arange(len(labels)) % 256, np.arange(len(labels)) // 256
        return data, labels

    def dump(name, content):
        with open(folder / name, "wb") as handle:
            pickle.dump(content, handle)

    data, labels = split(train_per_class)
    for number, part in enumerate(np.array_split(np.arange(len(labels)), CIFAR10_TRAIN_BATCHES), start=1):
        dump(f"data_batch_{number}", {"batch_label": f"training batch {number} of 5", "data": data[part],
                                      "labels": labels[part].tolist()})
    data, labels = split(test_per_class)
    dump("test_batch", {"batch_label": "testing batch 1 of 1", "data": data, "labels": labels.tolist()})
    dump("batches.meta", {"label_names": list(CIFAR10_CLASSES), "num_cases_per_batch": len(labels), "num_vis": 3072})
    return root


SKIP_CIFAR10_CHECKSUMS = '''"""Tests only: torchvision's CIFAR10 accepts the fake batches of write_cifar10_folder,
whose md5 cannot be the real files'. Patched when torchvision.datasets.cifar is first imported."""
import importlib.abc
import importlib.util
import sys


class SkipCifar10Checksums(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "torchvision.datasets.cifar":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            module.check_integrity = lambda *arguments, **keywords: True

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, SkipCifar10Checksums())
'''


def cifar10_checksums_skipped(folder: Path) -> str:
    """A PYTHONPATH under which every Python process (a Snakemake job too) skips torchvision's
    CIFAR-10 md5 checks: a sitecustomize.py in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SKIP_CIFAR10_CHECKSUMS)
    return os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))


def file_digests(root: Path) -> dict[str, str]:
    """{path relative to root: sha256} of every file under root, and {path: "folder"} of every
    folder, so that a changed, added or removed entry changes the result."""
    import hashlib

    return {str(entry.relative_to(root)): hashlib.sha256(entry.read_bytes()).hexdigest() if entry.is_file()
            else "folder" for entry in sorted(root.rglob("*"))}
