"""torchvision's data sets as dataset.kind: the user's copy under dataset.root is read in place and
left as it was; only where it is missing does the plan download the workflow's own (rule
download_dataset, into results/data/download/<kind>)."""

import pytest
from config_checks import demo_config
from workflow_runs import (
    cifar10_checksums_skipped,
    file_digests,
    job_counts,
    planned_jobs,
    snakemake,
    write_cifar100_folder,
    write_config,
    write_mnist_folder,
    write_svhn_folder,
)

from memdissect.data.tensors import load_split
from memdissect.study import plan

pytestmark = pytest.mark.workflow
TARGET = "results/data/train.pt"
# kind: (its class count, two of its class names for figure 3, a writer of a tiny copy with 2 training images a class)
KINDS = {
    "mnist": (10, ["0", "7"], lambda root: write_mnist_folder(root, 2, 1, gzipped=True)),
    "fashionmnist": (
        10,
        ["T-shirt/top", "Bag"],
        lambda root: write_mnist_folder(root, 2, 1, folder="FashionMNIST"),
    ),
    "cifar100": (100, ["apple", "worm"], lambda root: write_cifar100_folder(root, 2, 1)),
    "svhn": (10, ["0", "9"], lambda root: write_svhn_folder(root, 2, 1)),
}


def config_for(kind: str, **dataset) -> dict:
    num_classes, figure_classes, _ = KINDS[kind]
    config = demo_config()
    config["dataset"] = {
        "kind": kind,
        "root": "resources/data",
        "num_classes": num_classes,
        **dataset,
    }
    config["figures"]["figure3"]["classes"] = figure_classes
    return config


def dry_run(workdir, config, *targets):
    return snakemake(
        workdir, "-n", *targets, config_path=write_config(workdir, config), timeout=300
    ).stdout


@pytest.mark.parametrize("kind", ["mnist", "cifar100"])
def test_the_whole_study_plans_the_download_once_when_the_users_copy_is_missing(tmp_path, kind):
    output = dry_run(tmp_path, config_for(kind))
    assert job_counts(output)["download_dataset"] == 1, output[-3000:]
    assert plan.downloaded_folder(kind) in output


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_users_copy_is_read_in_place_and_none_is_downloaded(tmp_path, kind):
    KINDS[kind][2](tmp_path / "resources" / "data")
    output = dry_run(tmp_path, config_for(kind), TARGET)
    assert [rule for rule, _ in planned_jobs(output)] == ["prepare_dataset"], output[-3000:]


def test_an_svhn_root_without_its_files_is_no_copy_of_svhn(tmp_path):
    (tmp_path / "resources" / "data").mkdir(parents=True)
    (tmp_path / "resources" / "data" / "notes.txt").write_text("SVHN is not here yet")
    output = dry_run(tmp_path, config_for("svhn"), TARGET)
    assert sorted(rule for rule, _ in planned_jobs(output)) == [
        "download_dataset",
        "prepare_dataset",
    ]
    assert "results/data/download/svhn" in output


def test_a_class_count_unlike_the_data_sets_stops_the_dry_run(tmp_path):
    config = config_for("mnist", num_classes=100)
    result = snakemake(
        tmp_path, "-n", config_path=write_config(tmp_path, config), check=False, timeout=300
    )
    assert result.returncode != 0
    assert (
        "config error: dataset.num_classes: 100 does not match the data set; valid: 10"
        in result.stdout
    )


@pytest.mark.parametrize("kind", ["mnist", "cifar100", "svhn"])
def test_preparing_reads_the_users_copy_and_leaves_it_byte_identical(tmp_path, monkeypatch, kind):
    monkeypatch.setenv(
        "PYTHONPATH", cifar10_checksums_skipped(tmp_path / "site")
    )  # the fake CIFAR-100's md5
    workdir = tmp_path / "work"
    users = KINDS[kind][2](workdir / "resources" / "data")
    before = file_digests(users)
    config = config_for(kind, subset={"train_per_class": 1, "test_per_class": 1, "seed": 0})
    snakemake(
        workdir, "--cores", "1", TARGET, config_path=write_config(workdir, config), timeout=600
    )
    assert file_digests(users) == before
    assert not (workdir / plan.DOWNLOADS).exists()
    train = load_split(workdir / TARGET)
    assert train["images"].shape == (KINDS[kind][0], 3, 32, 32) and train["classes"][0] in (
        "0",
        "apple",
    )
