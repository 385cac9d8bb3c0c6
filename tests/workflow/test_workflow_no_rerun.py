"""Settings that change how, not what, plan no rerun: the device, patterns.chunk_size, CUDA graphs, sharing a
process, the resume interval, the cores, and the order a config file writes its keys in (design.HOW_SETTINGS,
design.canonical)."""

import copy

import pytest
import yaml
from workflow_runs import TINY, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.workflow


def reversed_keys(value):
    """value with every mapping's keys in reversed order, recursively."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def with_chunk_size(config):
    config["patterns"]["chunk_size"] = 3  # the default is 1000: 20 rows now run in 7 chunks
    return config


def with_device_cpu(config):
    config["device"] = "cpu"  # tiny.yaml leaves it at auto
    return config


def with_gpu_settings(config):
    config.update(cuda_graphs=False, sharing={"models": 2, "on_cpu": True}, resume_every_seconds=0)
    return config


def dry_run(workdir, config, *arguments):
    return snakemake(
        workdir,
        "-n",
        "--cores",
        "2",
        *arguments,
        config_path=write_config(workdir, config, "changed.yaml"),
        timeout=300,
    )


@pytest.mark.parametrize(
    "change",
    [with_chunk_size, with_device_cpu, with_gpu_settings, reversed_keys],
    ids=lambda f: f.__name__,
)
def test_a_how_setting_plans_nothing(tiny_run, change):
    result = dry_run(tiny_run, change(copy.deepcopy(TINY)))
    assert planned_jobs(result.stdout) == [], result.stdout[-3000:]
    assert "Nothing to be done" in result.stdout


def test_reversed_keys_are_another_file(tmp_path):
    """The reversed config writes its keys in another order at every level (else the test above proves nothing)."""
    written = yaml.safe_load(write_config(tmp_path, reversed_keys(copy.deepcopy(TINY))).read_text())
    assert written == TINY
    assert list(written) == list(reversed(list(TINY)))
    assert list(written["dataset"]) == list(reversed(list(TINY["dataset"])))
    assert list(written["figures"]["figure3"]) == list(reversed(list(TINY["figures"]["figure3"])))
    assert list(written["models"][0]) == list(reversed(list(TINY["models"][0])))


def test_fewer_cores_plan_nothing(tiny_run):
    config_path = write_config(tiny_run, copy.deepcopy(TINY), "changed.yaml")
    result = snakemake(tiny_run, "-n", "--cores", "1", config_path=config_path)
    assert planned_jobs(result.stdout) == [] and "Nothing to be done" in result.stdout, (
        result.stdout[-3000:]
    )


def test_a_what_setting_plans_its_rerun(tiny_run):
    """The control: the same dry run does see a change of what patterns are made."""
    config = copy.deepcopy(TINY)
    config["patterns"]["iterations"] = 6
    rules = {rule for rule, _ in planned_jobs(dry_run(tiny_run, config).stdout)}
    assert "synthesize_patterns" in rules and "train_classifier" not in rules


def test_the_lookup_table_stands_beside_the_networks_in_the_dist_tables(tiny_run):
    """config lookup_table is on by default: each f1's patterns through the k-NN of its condition (k = 1, pixels)."""
    import math

    import pandas as pd

    lookup = pd.read_parquet(tiny_run / "results/lookup/evaluations.parquet")
    sources = [
        "true_labels-vgg11-s1",
        "random_labels-vgg11-s1",
        "random_labels-vgg11-s2",
    ]  # every f1 of tiny.yaml
    assert sorted(lookup["f1"].unique()) == sorted(sources) and (lookup["f2"] == "knn").all()
    assert len(lookup) == len(sources) * 10 * TINY["patterns"]["starts"]
    summary = pd.read_csv(tiny_run / "results/dist/dist_summary.csv")
    knn = summary[summary["f2"] == "knn"].set_index("f1")
    assert sorted(knn.index) == sorted(sources) and (knn["f2_network"] == "knn").all()
    assert (
        knn["dist_mean"].between(0, math.log(10 / 0.01)).all() and knn["dist_ci_low"].notna().all()
    )
    assert knn.loc["true_labels-vgg11-s1", "condition"] == "true_labels"
    assert knn.loc["random_labels-vgg11-s2", "noise"] == 1.0
    over_seeds = pd.read_csv(tiny_run / "results/dist/dist_over_seeds.csv")
    knn_over_seeds = over_seeds[over_seeds["f2_name"] == "knn"].set_index("condition")
    assert knn_over_seeds.loc["random_labels", "n_pairs"] == 2
    text = (tiny_run / "results/summary.md").read_text()
    assert (
        "## A lookup table as a reference, f1 = vgg11-s1" in text
        and "k = 1, votes smoothed by s = 0.01" in text
    )
    assert "| k-NN lookup table of f1's labels |" in text
    seconds = pd.read_csv(tiny_run / "results/benchmarks/evaluate_lookup_tables.tsv", sep="\t")[
        "s"
    ].iloc[0]
    assert seconds < 60


def test_a_lookup_setting_replans_the_lookup_table_and_what_reads_it_and_off_plans_none(tiny_run):
    config = copy.deepcopy(TINY)
    config["lookup_table"] = {"k": 2}
    rules = {rule for rule, _ in planned_jobs(dry_run(tiny_run, config).stdout)}
    assert {
        "evaluate_lookup_tables",
        "dist_tables",
        "summary_markdown",
        "dist_matrix_figure",
    } <= rules
    assert not rules & {"evaluate_on_patterns", "synthesize_patterns", "train_classifier"}
    config["lookup_table"] = {"enabled": False}
    rules = {rule for rule, _ in planned_jobs(dry_run(tiny_run, config).stdout)}
    assert (
        "evaluate_lookup_tables" not in rules and "dist_tables" in rules
    )  # its tables now without the kNN rows
