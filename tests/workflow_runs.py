"""Running Snakemake on a config in a temporary folder, for the workflow tests."""

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
TINY = yaml.safe_load(
    (REPO / "tests" / "configs" / "tiny.yaml").read_text()
)  # copy before changing it


RESUMED_MODEL = "random_labels-vgg11-s1"


def long_training() -> dict:
    """The tiny study trained for 30 epochs with a resume state after each: long enough to kill a training job
    between two epochs and resume it (tests/workflow/test_workflow_resume.py and the SLURM scancel test)."""
    import copy

    config = copy.deepcopy(TINY)
    config["training"]["epochs"] = 30
    config["resume_every_seconds"] = 0
    return config


def selected_parameters(session, test_name: str, parameter: str) -> list:
    """The values of `parameter` of the test function `test_name` that this session runs (after -k and -m)."""
    return [
        item.callspec.params[parameter]
        for item in session.items
        if getattr(item, "originalname", None) == test_name
    ]


def at_once(function, *arguments) -> list:
    """function over the zipped arguments in as many threads as there are cores, each call waiting on processes
    of its own (Snakemake runs): the answers in order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(function, *arguments))


def write_config(workdir: Path, config: dict, name: str = "config.yaml") -> Path:
    path = workdir / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, *arguments, config_path=None, check=True, timeout=1800, umask=None):
    """Run the workflow of this checkout in workdir; returns the completed process (stdout and stderr merged)."""
    command = ["--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    if config_path is not None:
        command += ["--configfile", str(config_path), "--replace-workflow-config"]
    return run_snakemake([*command, *arguments], check=check, timeout=timeout, umask=umask)


def run_snakemake(arguments, cwd=None, check=True, timeout=1800, umask=None):
    """`snakemake *arguments` in cwd (default: here), under umask where given; stdout and stderr merged. A process
    forked from one that has imported Snakemake (preloaded_snakemake) runs it, unless the environment would
    start a new interpreter differently (PYTHONPATH, say): then a new `python -m snakemake` does."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if umask is None:
        umask = current_umask()
    if startup_environment(environment) == FORKSERVER_STARTUP:
        result = forked_snakemake(arguments, cwd or os.getcwd(), environment, umask, timeout)
    else:
        result = subprocess.run(
            [*SNAKEMAKE, *arguments],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            env=environment,
            preexec_fn=lambda: os.umask(umask),
        )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(map(str, arguments))} failed:\n{result.stdout[-6000:]}"
        )
    return result


def current_umask() -> int:
    """This process's umask, read without setting it (os.umask would, for every thread)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^Umask:\s+([0-7]+)$", status, re.MULTILINE).group(1), 8)


def startup_environment(environment: dict) -> dict:
    """What a new interpreter reads before it runs `-m snakemake`: the PYTHON... variables."""
    return {
        key: value
        for key, value in environment.items()
        if key.startswith("PYTHON") and key != "PYTHONUNBUFFERED"
    }


FORKSERVER_STARTUP = startup_environment(os.environ)
"""The PYTHON... variables of the forkserver's interpreter: this process's, which only a run with these very
variables starts it from."""


@functools.cache
def forkserver():
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["preloaded_snakemake"])
    return context


def forked_snakemake(arguments, cwd: str, environment: dict, umask, timeout):
    """`python -m snakemake arguments` forked from the forkserver: a subprocess.CompletedProcess as
    subprocess.run's, its stdout the merged output."""
    import tempfile

    with tempfile.NamedTemporaryFile("r", prefix="snakemake-", suffix=".log") as output:
        process = forkserver().Process(
            target=snakemake_main,
            args=([*map(str, arguments)], str(cwd), environment, umask, output.name),
        )
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired([*SNAKEMAKE, *arguments], timeout, output.read())
        return subprocess.CompletedProcess(
            [*SNAKEMAKE, *arguments], process.exitcode, output.read()
        )


def snakemake_main(arguments: list, cwd: str, environment: dict, umask, output: str) -> None:
    """In the forked process: stdout and stderr to the file output, then `snakemake.cli.main(arguments)` in cwd
    with environment and umask and the sys.path and sys.argv a new `python -m snakemake` has; exits with its
    exit status."""
    import tempfile

    import snakemake
    import snakemake.cli
    from preloaded_snakemake import FRESH_SYS_PATH

    descriptor = os.open(output, os.O_WRONLY | os.O_TRUNC)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.close(descriptor)
    sys.stdout.reconfigure(write_through=True)
    sys.stderr.reconfigure(write_through=True)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environment)
    tempfile.tempdir = None  # read again from TMPDIR
    os.umask(umask)
    sys.path[:] = [cwd, *FRESH_SYS_PATH]
    sys.argv[:] = [str(Path(snakemake.__file__).with_name("__main__.py")), *arguments]
    try:
        snakemake.cli.main(arguments)
        status = 0
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def file_modes(root: Path) -> dict[str, int]:
    """{path relative to root: permission bits} of every file under root."""
    return {
        str(path.relative_to(root)): path.stat().st_mode & 0o777
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


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
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)
        if m.group(1) != "total"
    }


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


def result_hashes(workdir: Path) -> dict[str, str]:
    """sha256 of every result but the per-epoch tables (their wall-clock columns differ) and Snakemake's timings."""
    import hashlib

    return {
        str(path.relative_to(workdir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((workdir / "results").rglob("*"))
        if path.is_file()
        and path.name not in TABLES_WITH_WALL_CLOCK
        and "benchmarks" not in path.parts
    }


def assert_same_results(first: Path, second: Path) -> None:
    """Two runs of one study wrote the same results: byte for byte, the per-epoch tables but their wall-clock
    columns."""
    first_hashes, second_hashes = result_hashes(first), result_hashes(second)
    differing = sorted(
        name for name in first_hashes if first_hashes[name] != second_hashes.get(name)
    )
    assert not differing and first_hashes.keys() == second_hashes.keys(), (
        f"differ between runs: {differing}"
    )
    tables = [path for name in TABLES_WITH_WALL_CLOCK for path in first.glob(f"results/**/{name}")]
    assert any(path.name == "losses.parquet" for path in tables) and any(
        path.name == "history.parquet" for path in tables
    )
    for table in tables:
        assert_same_history(table, second / table.relative_to(first))


# ----------------------------------------------------------------------------- the user's data, made up

USERS_MODULE = """
from torch import nn


def small_cnn(num_classes):
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                         nn.Linear(128, 32), nn.ReLU(), nn.Linear(32, num_classes))
"""


def write_users_networks(folder: Path, weights: dict, module="mymodels") -> None:
    """What a user brings: their module (folder/<module>.py, small_cnn) and state_dicts saved by plain PyTorch
    from another process, {path relative to folder: seed}."""
    (folder / f"{module}.py").write_text(USERS_MODULE)
    saves = "; ".join(
        f"torch.manual_seed({seed}); torch.save({module}.small_cnn(10).state_dict(), {path!r})"
        for path, seed in weights.items()
    )
    for path in weights:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-c", f"import torch, {module}; {saves}"],
        cwd=folder,
        check=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(folder), os.environ.get("PYTHONPATH")])
            ),
        },
    )


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


def made_up_split(rng, num_classes: int, per_class: int, channels=3, size=32):
    """uint8 images N x channels x size x size and their labels, balanced and shuffled; image i
    marked by its first three values: i % 256, i // 256 and its label."""
    import numpy as np

    labels = rng.permutation(np.repeat(np.arange(num_classes), per_class))
    images = rng.integers(0, 256, (len(labels), channels, size, size), dtype=np.uint8)
    images[:, 0, 0, 0], images[:, 0, 0, 1] = (
        np.arange(len(labels)) % 256,
        np.arange(len(labels)) // 256,
    )
    images[:, 0, 0, 2] = labels
    return images, labels


def dump_pickle(path: Path, content) -> None:
    import pickle

    with open(path, "wb") as handle:
        pickle.dump(content, handle)


def write_cifar10_folder(root: Path, train_per_class: int, test_per_class: int, seed=0) -> Path:
    """A tiny root/cifar-10-batches-py in torchvision's own pickle format (data_batch_1..5,
    test_batch, batches.meta), its images as made_up_split makes them. torchvision checks the
    files' md5 when it loads them, which these cannot pass: see cifar10_checksums_skipped."""
    import numpy as np

    from memdissect.data.catalogue import CIFAR10_CLASSES

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    images, labels = made_up_split(rng, len(CIFAR10_CLASSES), train_per_class)
    data = images.reshape(len(labels), -1)  # N x 3072, channel-major
    for number, part in enumerate(
        np.array_split(np.arange(len(labels)), CIFAR10_TRAIN_BATCHES), start=1
    ):
        dump_pickle(
            folder / f"data_batch_{number}",
            {
                "batch_label": f"training batch {number} of 5",
                "data": data[part],
                "labels": labels[part].tolist(),
            },
        )
    images, labels = made_up_split(rng, len(CIFAR10_CLASSES), test_per_class)
    dump_pickle(
        folder / "test_batch",
        {
            "batch_label": "testing batch 1 of 1",
            "data": images.reshape(len(labels), -1),
            "labels": labels.tolist(),
        },
    )
    dump_pickle(
        folder / "batches.meta",
        {"label_names": list(CIFAR10_CLASSES), "num_cases_per_batch": len(labels), "num_vis": 3072},
    )
    return root


def write_cifar100_folder(root: Path, train_per_class: int, test_per_class: int, seed=0) -> Path:
    """A tiny root/cifar-100-python (train, test, meta) in torchvision's pickle format, with the
    100 fine labels of memdissect.data.catalogue; md5 as for write_cifar10_folder."""
    import numpy as np

    from memdissect.data.catalogue import CIFAR100_CLASSES

    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for name, per_class in (("train", train_per_class), ("test", test_per_class)):
        images, labels = made_up_split(rng, len(CIFAR100_CLASSES), per_class)
        dump_pickle(
            folder / name,
            {
                "filenames": [f"{i}.png" for i in range(len(labels))],
                "batch_label": name,
                "fine_labels": labels.tolist(),
                "coarse_labels": (labels // 5).tolist(),
                "data": images.reshape(len(labels), -1),
            },
        )
    dump_pickle(
        folder / "meta",
        {
            "fine_label_names": list(CIFAR100_CLASSES),
            "coarse_label_names": [f"superclass{k}" for k in range(20)],
        },
    )
    return root


def write_svhn_folder(root: Path, train_per_class: int, test_per_class: int, seed=0) -> Path:
    """A tiny root/train_32x32.mat and root/test_32x32.mat as SVHN keeps them: X uint8 32 x 32 x 3
    x N, y uint8 N x 1 with 10 for the digit 0."""
    import numpy as np
    from scipy.io import savemat

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name, per_class in (("train", train_per_class), ("test", test_per_class)):
        images, labels = made_up_split(rng, 10, per_class)
        digits = np.where(labels == 0, 10, labels).astype(np.uint8).reshape(-1, 1)
        savemat(root / f"{name}_32x32.mat", {"X": images.transpose(2, 3, 1, 0), "y": digits})
    return root


def idx_bytes(array) -> bytes:
    """An idx file of unsigned bytes: 0, 0, 0x08, the number of dimensions, each a big-endian int32, the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.tobytes()


def write_mnist_folder(
    root: Path, train_per_class: int, test_per_class: int, folder="MNIST", gzipped=False, seed=0
) -> Path:
    """A tiny root/<folder>/raw of 28 x 28 grey images as torchvision keeps MNIST (folder "MNIST")
    and FashionMNIST ("FashionMNIST"): train-images-idx3-ubyte, train-labels-idx1-ubyte,
    t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each gzipped (.gz) if asked."""
    import gzip

    import numpy as np

    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, per_class in (("train", train_per_class), ("t10k", test_per_class)):
        images, labels = made_up_split(rng, 10, per_class, channels=1, size=28)
        for name, array in (
            (f"{prefix}-images-idx3-ubyte", images[:, 0]),
            (f"{prefix}-labels-idx1-ubyte", labels.astype(np.uint8)),
        ):
            content = idx_bytes(array)
            (raw / (name + ".gz" if gzipped else name)).write_bytes(
                gzip.compress(content) if gzipped else content
            )
    return root


SKIP_CIFAR10_CHECKSUMS = '''"""Tests only: torchvision's CIFAR10 and CIFAR100 accept the fake batches of
write_cifar10_folder and write_cifar100_folder, whose md5 cannot be the real files'. Patched when
torchvision.datasets.cifar is first imported."""
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
    CIFAR-10 and CIFAR-100 md5 checks: a sitecustomize.py in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SKIP_CIFAR10_CHECKSUMS)
    return os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))


def file_digests(root: Path) -> dict[str, str]:
    """{path relative to root: sha256} of every file under root, and {path: "folder"} of every
    folder, so that a changed, added or removed entry changes the result."""
    import hashlib

    return {
        str(entry.relative_to(root)): hashlib.sha256(entry.read_bytes()).hexdigest()
        if entry.is_file()
        else "folder"
        for entry in sorted(root.rglob("*"))
    }
