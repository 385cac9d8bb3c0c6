"""The real-data configuration end to end: config/cifar10_subset.yaml on real CIFAR-10.

About 25 minutes on 2 cores, so not part of the default run: `MEMDISSECT_REAL_DATA=1 python -m
pytest tests/test_cifar10_subset_study.py` runs it, reading ../shared/data/cifar10-jpeg.tar.gz
(unpacked by the workflow itself, as `dataset.archive`).
"""

import os

import pandas as pd
import pytest
import yaml
from conftest import SHARED_DATA
from workflow_runs import REPO, snakemake, write_config

pytestmark = [pytest.mark.workflow, pytest.mark.slow]
ARCHIVE = SHARED_DATA / "cifar10-jpeg.tar.gz"


@pytest.fixture(scope="module")
def real_data_run(tmp_path_factory):
    if os.environ.get("MEMDISSECT_REAL_DATA") != "1":
        pytest.skip("about 25 minutes: set MEMDISSECT_REAL_DATA=1 to run it")
    if not ARCHIVE.exists():
        pytest.skip(f"{ARCHIVE} is not here")
    workdir = tmp_path_factory.mktemp("cifar10-subset")
    config = yaml.safe_load((REPO / "config" / "cifar10_subset.yaml").read_text())
    config["dataset"].update(
        kind="imagefolder", root="resources/cifar10-jpeg", archive=str(ARCHIVE)
    )
    config_path = write_config(workdir, config)
    snakemake(workdir, "--cores", "2", config_path=config_path, timeout=3 * 3600)
    return workdir, config


def test_random_labels_are_memorized(real_data_run):
    workdir, _ = real_data_run
    for path in (workdir / "results/models").glob("random_labels*/history.parquet"):
        assert pd.read_parquet(path)["train_acc"].max() >= 0.99, path.parent.name


def test_dist_on_random_labels_lies_above_true_labels_with_disjoint_intervals(real_data_run):
    workdir, config = real_data_run
    summary = pd.read_parquet(workdir / "results/dist/dist_summary.parquet")
    from_reference = summary[summary["f1_network"] == config["dissection"]["reference"]]
    for f2 in config["dissection"]["compare"]:
        pair = from_reference[from_reference["f2_network"] == f2].set_index("condition")
        assert pair.loc["random_labels", "dist_ci_low"] > pair.loc["true_labels", "dist_ci_high"], (
            f2
        )
        assert (
            pair.loc["true_labels", "relabeled_ratio_ci_high"]
            < pair.loc["random_labels", "relabeled_ratio_ci_low"]
        )


def test_stages_follow_the_paper(real_data_run):
    workdir, _ = real_data_run
    stages = pd.read_csv(workdir / "results/stages/stages.csv").set_index("model")["hunting"]
    assert not stages[stages.index.str.startswith("true_labels-")].any()
    assert stages[~stages.index.str.startswith("true_labels-")].all()
