"""The user's data set (dataset.root, dataset.archive) is only ever read: every file of it is
byte-identical after a run, a forced rerun, a forced data preparation and `--delete-all-output`.
What the workflow fetches itself lies under results/data/."""

import copy
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from workflow_runs import (
    REPO,
    at_once,
    cifar10_checksums_skipped,
    file_digests,
    selected_parameters,
    snakemake,
    write_cifar10_folder,
    write_config,
    write_image_folder,
)

from memdissect.data.tensors import load_split

pytestmark = pytest.mark.workflow

TINY = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
CLASSES = ["cat", "dog"]
TARGET = "results/data/train.pt"
RUNS = [
    ("--cores", "1", TARGET),
    ("--cores", "1", "--forceall", TARGET),
    (
        "--cores",
        "1",
        TARGET,
        "--forcerun",
        "prepare_dataset",
    ),  # --forcerun takes every rule name after it
    ("--cores", "1", "--delete-all-output", TARGET),
]


def with_dataset(dataset: dict, figure_classes) -> dict:
    config = copy.deepcopy(TINY)
    config["dataset"] = dataset
    config["figures"]["figure3"]["classes"] = list(figure_classes)
    return config


def write_archive(path, folder):
    """A .tar.gz of folder, with the folder as its one top-level entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        archive.add(folder, arcname=folder.name)


def image_folder(workdir, tmp_path):
    write_image_folder(workdir / "resources" / "jpeg", CLASSES, {"train": 3, "test": 2})
    return with_dataset(
        {"kind": "imagefolder", "root": "resources/jpeg", "num_classes": 2}, CLASSES
    )


def image_folder_and_its_archive(workdir, tmp_path):
    """The archive holds other images than the folder: unpacked over it, it would change it."""
    config = image_folder(workdir, tmp_path)
    write_image_folder(tmp_path / "staging" / "jpeg", CLASSES, {"train": 4, "test": 1})
    write_archive(workdir / "resources" / "jpeg.tar.gz", tmp_path / "staging" / "jpeg")
    config["dataset"]["archive"] = "resources/jpeg.tar.gz"
    return config


def cifar10_folder(workdir, tmp_path):
    write_cifar10_folder(workdir / "resources" / "cifar10", train_per_class=3, test_per_class=2)
    return with_dataset(
        {
            "kind": "cifar10",
            "root": "resources/cifar10",
            "num_classes": 10,
            "subset": {"train_per_class": 2, "test_per_class": 1, "seed": 0},
        },
        ["airplane", "truck"],
    )


def archive_without_its_folder(workdir, tmp_path):
    write_image_folder(tmp_path / "staging" / "jpeg", CLASSES, {"train": 3, "test": 2})
    write_archive(workdir / "resources" / "jpeg.tar.gz", tmp_path / "staging" / "jpeg")
    return with_dataset(
        {
            "kind": "imagefolder",
            "root": "resources/jpeg",
            "archive": "resources/jpeg.tar.gz",
            "num_classes": 2,
        },
        CLASSES,
    )


def file_stamps(root) -> dict:
    """{path: (inode, modification time)} of every entry under root: a file deleted and written
    again with the same bytes changes them."""
    return {
        str(path.relative_to(root)): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in root.rglob("*")
    }


TRAINING_IMAGES = {
    image_folder: 6,
    image_folder_and_its_archive: 6,
    cifar10_folder: 20,
    archive_without_its_folder: 6,
}


@dataclass
class Step:
    """One of RUNS on a user's data set, and what it left."""

    arguments: tuple
    result: subprocess.CompletedProcess
    digests: dict
    stamps: dict
    training_images: int | None  # in the prepared split, where there is one
    unpacked: bool


def run_every_step(user_data, folder: Path):
    """RUNS one after another on the data set user_data writes into folder/work, until one fails: the working
    folder, the user's files' digests and stamps before, and the steps."""
    workdir = folder / "work"
    workdir.mkdir()
    config_path = write_config(workdir, user_data(workdir, folder))
    users = workdir / "resources"
    before, stamps = file_digests(users), file_stamps(users)
    steps = []
    for arguments in RUNS:
        result = snakemake(workdir, *arguments, config_path=config_path, timeout=600, check=False)
        target = workdir / TARGET
        steps.append(
            Step(
                arguments,
                result,
                file_digests(users),
                file_stamps(users),
                len(load_split(target)["labels"]) if target.exists() else None,
                (workdir / "results" / "data" / "unpacked").is_dir(),
            )
        )
        if result.returncode != 0:
            break
    return workdir, before, stamps, steps


@pytest.fixture(scope="module")
def runs_on_user_data(request, tmp_path_factory) -> dict:
    """run_every_step on each data set this session selected, each in a folder of its own, as many at once as
    there are cores (mostly one process on one core each): {user_data: run_every_step's answer}."""
    selected = selected_parameters(
        request.session, "test_every_run_leaves_the_users_files_as_they_were", "user_data"
    )
    folders = [tmp_path_factory.mktemp(user_data.__name__) for user_data in selected]
    with pytest.MonkeyPatch.context() as patch:  # the fake CIFAR-10's md5, for every job
        patch.setenv("PYTHONPATH", cifar10_checksums_skipped(tmp_path_factory.mktemp("site")))
        answers = at_once(run_every_step, selected, folders)
    return dict(zip(selected, answers, strict=True))


@pytest.mark.parametrize("user_data", list(TRAINING_IMAGES), ids=lambda f: f.__name__)
def test_every_run_leaves_the_users_files_as_they_were(runs_on_user_data, user_data):
    workdir, before, stamps, steps = runs_on_user_data[user_data]
    assert any(digest != "folder" for digest in before.values())
    for step in steps:
        command = f"snakemake {' '.join(step.arguments)}"
        assert step.result.returncode == 0, f"{command} failed:\n{step.result.stdout[-6000:]}"
        assert step.digests == before, f"{command} changed the user's data"
        assert step.stamps == stamps, f"{command} rewrote the user's data"
        if "--delete-all-output" not in step.arguments:
            assert step.training_images == TRAINING_IMAGES[user_data]
            assert step.unpacked is (user_data is archive_without_its_folder), step.result.stdout[
                -3000:
            ]
    assert len(steps) == len(RUNS)
    assert not (
        workdir / TARGET
    ).exists()  # --delete-all-output did delete the workflow's own files
    if user_data is archive_without_its_folder:
        assert not (
            workdir / "resources" / "jpeg"
        ).exists()  # nothing was unpacked into dataset.root


def test_an_archive_is_unpacked_into_results_only(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    config_path = write_config(workdir, archive_without_its_folder(workdir, tmp_path))
    snakemake(workdir, "--cores", "1", TARGET, config_path=config_path, timeout=600)
    unpacked = workdir / "results" / "data" / "unpacked"
    assert sorted(
        path.relative_to(unpacked).as_posix() for path in unpacked.rglob("*.png")
    ) == sorted(
        path.relative_to(tmp_path / "staging" / "jpeg").as_posix()
        for path in (tmp_path / "staging").rglob("*.png")
    )
    assert sorted(path.name for path in (workdir / "resources").iterdir()) == ["jpeg.tar.gz"]


@pytest.mark.parametrize(
    "key, dataset",
    [
        ("dataset.root", {"kind": "imagefolder", "root": "results/jpeg", "num_classes": 2}),
        (
            "dataset.archive",
            {
                "kind": "imagefolder",
                "root": "resources/jpeg",
                "archive": "results/jpeg.tar.gz",
                "num_classes": 2,
            },
        ),
        ("dataset.root", {"kind": "cifar10", "root": "logs/cifar10", "num_classes": 10}),
    ],
    ids=["root-in-results", "archive-in-results", "cifar10-root-in-logs"],
)
def test_user_data_inside_the_workflows_own_folders_is_refused_at_plan_time(tmp_path, key, dataset):
    write_image_folder(tmp_path / "results" / "jpeg", CLASSES, {"train": 1, "test": 1})
    write_archive(tmp_path / "results" / "jpeg.tar.gz", tmp_path / "results" / "jpeg")
    before = file_digests(tmp_path / "results")
    config = with_dataset(
        dataset, ["airplane", "truck"] if dataset["kind"] == "cifar10" else CLASSES
    )
    result = snakemake(
        tmp_path, "-n", config_path=write_config(tmp_path, config), check=False, timeout=120
    )
    assert result.returncode != 0
    owned = dataset.get("archive") or dataset["root"]
    assert (
        f"config error: {key}: {owned!r} lies inside {owned.split('/')[0]}/, which the workflow owns"
        in result.stdout
    ), result.stdout[-3000:]
    assert "valid: a path outside results/, logs/, .snakemake/" in result.stdout
    assert file_digests(tmp_path / "results") == before
