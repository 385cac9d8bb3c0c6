"""The paper's other claims run by the workflow on a tiny study: learn then memorize (a model at p = 0.5 and
two at p = 1) and paths in function space (two seeds on X_T and on X_R), then both switched off."""

import copy

import pandas as pd
import pytest
import torch
import yaml
from workflow_runs import REPO, job_counts, snakemake, write_config

from memdissect.study.history import GROUP_COLUMNS

pytestmark = pytest.mark.workflow

TINY = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
CLAIMS = ("learning_order_table", "learning_order_figure", "path_tables", "path_figure")


def claims_config() -> dict:
    config = copy.deepcopy(TINY)
    config["conditions"]["noise0.5"] = {"noise": 0.5}
    config["models"].append({"arch": "vgg11", "seeds": [1], "conditions": ["noise0.5"]})
    config["function_paths"] = {"probe_size": 50}
    return config


@pytest.fixture(scope="module")
def claims_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("claims")
    config_path = write_config(workdir, claims_config())
    snakemake(workdir, "--cores", "2", config_path=config_path)
    return workdir


def test_every_model_on_corrupted_labels_has_its_row_and_its_noise_level_a_figure(claims_run):
    table = pd.read_csv(claims_run / "results/learning_order/learning_order.csv")
    assert sorted(table["model"]) == [
        "noise0.5-vgg11-s1",
        "random_labels-vgg11-s1",
        "random_labels-vgg11-s2",
    ]
    history = pd.read_parquet(claims_run / "results/models/noise0.5-vgg11-s1/history.parquet")
    assert set(GROUP_COLUMNS) <= set(history.columns)
    row = table.set_index("model").loc["noise0.5-vgg11-s1"]
    assert row["relabeled_samples"] == history["relabeled_samples"].iloc[0] > 0
    assert set(GROUP_COLUMNS).isdisjoint(
        pd.read_parquet(claims_run / "results/models/true_labels-vgg11-s1/history.parquet").columns
    )  # p = 0: as before
    for noise in ("0.5", "1"):
        assert (
            claims_run / f"results/learning_order/learning_order_p{noise}.png"
        ).stat().st_size > 1000


def test_the_seeds_paths_are_compared_per_epoch_on_both_probes(claims_run):
    path = torch.load(
        claims_run / "results/models/true_labels-vgg11-s1/probe_path.pt", weights_only=True
    )
    assert (
        path["paths"]["train"].shape == (3, 50, 10) and path["paths"]["test"].dtype == torch.float16
    )
    by_epoch = pd.read_csv(claims_run / "results/paths/path_divergence_by_epoch.csv")
    assert set(by_epoch["condition"]) == {"true_labels", "random_labels"}  # noise0.5 has one seed
    assert set(by_epoch["split"]) == {"train", "test"} and set(by_epoch["epoch"]) == {1, 2, 3}
    assert (by_epoch["n_pairs"] == 1).all()
    fits = pd.read_csv(claims_run / "results/paths/fit_epochs.csv")
    assert set(fits["runs"]) == {2}
    assert (claims_run / "results/paths/paths_vgg11.png").stat().st_size > 1000


def test_the_summary_states_the_order_of_fitting_and_the_paths(claims_run):
    summary = (claims_run / "results/summary.md").read_text()
    assert (
        "## Learn, then memorize" in summary
        and "At p = 0.5 (1 model)" in summary
        and "At p = 1 (2 models)" in summary
    )
    assert "## Paths in function space" in summary and "vgg11, averaged over the epochs" in summary


def test_switched_off_they_plan_nothing_and_leave_the_rest_as_it_is(claims_run):
    config = claims_config()
    config["learning_order"] = {"enabled": False}
    dry = snakemake(claims_run, "-n", "--cores", "1", config_path=write_config(claims_run, config))
    counts = job_counts(dry.stdout)
    assert not any(counts.get(rule) for rule in CLAIMS[:2]) and "train_classifier" not in counts
    config["function_paths"]["enabled"] = (
        False  # the probe file leaves the training jobs' outputs: they rerun
    )
    dry = snakemake(claims_run, "-n", "--cores", "1", config_path=write_config(claims_run, config))
    counts = job_counts(dry.stdout)
    assert not any(counts.get(rule) for rule in CLAIMS) and counts.get("summary_markdown") == 1
