"""The workflow run for real on the demo config, then edited, linted and dry-run at full scale."""

import math

import pandas as pd
import pytest
import torch
import yaml
from workflow_runs import job_counts, planned_jobs, snakemake, write_config

from memdissect.study.design import LOOKUP, UNTRAINED
from memdissect.study.history import HISTORY_COLUMNS

pytestmark = pytest.mark.workflow


def test_every_artifact_is_written(demo_run):
    workdir, _ = demo_run
    for number in range(1, 6):
        for extension in ("pdf", "png"):
            assert (workdir / f"results/figures/figure{number}.{extension}").stat().st_size > 1000
    for table in ("dist_long.parquet", "dist_summary.parquet", "dist_summary.csv"):
        assert (workdir / "results/dist" / table).exists()
    assert (workdir / "results/gan/samples.png").exists()
    assert not (workdir / "results/resume").exists() or not any(
        (workdir / "results/resume").rglob("*.pt")
    )


def test_dist_on_random_labels_is_clearly_above_true_labels(demo_run):
    """The paper's effect: one way to learn, N ways to memorize, for every compared network."""
    workdir, config_path = demo_run
    summary = pd.read_csv(workdir / "results/dist/dist_summary.csv")
    config = yaml.safe_load(config_path.read_text())
    from_reference = summary[summary["f1_network"] == config["dissection"]["reference"]]
    for f2 in config["dissection"]["compare"]:
        pair = from_reference[from_reference["f2_network"] == f2]
        learned = pair[pair["condition"] == "true_labels"]["dist_mean"].item()
        memorized = pair[pair["condition"] == "random_labels"]["dist_mean"].item()
        assert memorized > 1.5 * learned, (
            f"f2 = {f2}: Dist on X_R {memorized:.3f} vs X_T {learned:.3f}"
        )


def test_history_has_one_row_per_epoch_with_the_recorded_columns(demo_run):
    workdir, _ = demo_run
    history = pd.read_parquet(workdir / "results/models/true_labels-vgg11-s1/history.parquet")
    assert list(history.columns) == HISTORY_COLUMNS  # true labels: no relabeled samples
    assert history["epoch"].tolist() == list(range(1, len(history) + 1))
    assert history["train_acc"].iloc[-1] == 1.0  # true labels are fitted
    random = pd.read_parquet(workdir / "results/models/random_labels-vgg11-s1/history.parquet")
    assert (
        random["train_acc"].iloc[-1] > 0.95 and random["test_acc"].iloc[-1] < 0.3
    )  # random labels memorized


def test_checkpoint_describes_itself_and_loads_with_weights_only(demo_run):
    workdir, _ = demo_run
    checkpoint = torch.load(
        workdir / "results/models/random_labels-vgg13-s1/weights.pt", weights_only=True
    )
    assert checkpoint["settings"]["arch"] == "vgg13"
    assert checkpoint["settings"]["weight_decay"] == 0.0
    assert len(checkpoint["classes"]) == 10 and "state_dict" in checkpoint


def test_one_label_file_per_noise_level_shared_by_every_model(demo_run):
    workdir, config_path = demo_run
    config = yaml.safe_load(config_path.read_text())
    noise_levels = {spec["noise"] for spec in config["conditions"].values()}
    files = sorted(path.name for path in (workdir / "results/labels").glob("*.parquet"))
    assert files == sorted(f"noise{noise:g}-seed0.parquet" for noise in noise_levels)
    random = pd.read_parquet(workdir / "results/labels/noise1-seed0.parquet")
    assert random["corrupted"].all() and len(random) == config["dataset"]["train_size"]


def test_nothing_is_left_to_do_after_a_run(demo_run):
    workdir, config_path = demo_run
    assert "Nothing to be done" in snakemake(workdir, "-n", config_path=config_path).stdout


MODEL_LEVEL_RULES = {
    "prepare_dataset",
    "make_labels",
    "train_classifier",
    "train_gan",
    "synthesize_patterns",
    "evaluate_on_patterns",
}


def test_editing_one_model_replans_only_that_model_and_what_depends_on_it(demo_run, tmp_path):
    workdir, config_path = demo_run
    config = yaml.safe_load(config_path.read_text())
    edited_model = "noise0.5-vgg11-s2"  # f2 of one pair, in no figure of its own
    config["overrides"] = {edited_model: {"epochs": config["training"]["epochs"] + 1}}
    jobs = planned_jobs(snakemake(workdir, "-n", config_path=write_config(tmp_path, config)).stdout)
    assert sorted(job for job in jobs if job[0] in MODEL_LEVEL_RULES) == [
        (
            "evaluate_on_patterns",
            "",
        ),  # one job for the study: every f2 on its pairs' patterns, every f1's twin
        ("train_classifier", f"model={edited_model}"),
    ]
    replanned = {rule for rule, _ in jobs}
    assert not replanned & {"figure1", "figure3", "figure4"}, (
        "figures that do not show the model were replanned"
    )
    assert {"dist_tables", "figure2", "figure5", "crosscheck_table", "stage_table"} <= replanned


def test_lint_finds_nothing(demo_run):
    workdir, config_path = demo_run
    output = snakemake(workdir, "--lint", config_path=config_path).stdout
    assert "Lints for" not in output, output


def test_paper_config_plans_the_full_study(tmp_path, repo):
    output = snakemake(tmp_path, "-n", config_path=repo / "config" / "config.yaml").stdout
    counts = job_counts(output)
    assert counts["train_classifier"] == 40
    assert counts["train_gan"] == 1
    assert counts["synthesize_patterns"] == 8
    assert counts["evaluate_on_patterns"] == 1 and "null_baseline" not in counts
    assert counts["dist_tables"] == 1
    assert all(counts[f"figure{n}"] == 1 for n in range(1, 6))
    assert counts["make_labels"] == 6
    assert counts["download_dataset"] == 1


def test_report_holds_the_figures_tables_and_config(demo_run):
    workdir, config_path = demo_run
    snakemake(workdir, "--report", "report.html", config_path=config_path)
    report = (workdir / "report.html").read_text(errors="replace")
    for item in (
        "figure1.png",
        "figure5.png",
        "dist_matrix_random_labels.png",
        "crosscheck.png",
        "dist_summary.csv",
        "stages.csv",
        "diagnostics_summary.csv",
        "summary.md",
        "study_config.yaml",
    ):
        assert item in report, f"{item} is not in the report"


@pytest.mark.workflow
def test_demo_shows_the_analyses_beyond_the_paper(demo_run):
    workdir, _ = demo_run
    for condition in ("true_labels", "random_labels"):
        assert (workdir / f"results/figures/dist_matrix_{condition}.png").stat().st_size > 1000
    assert (workdir / "results/figures/crosscheck.png").exists()
    summary = pd.read_parquet(workdir / "results/dist/dist_summary.parquet")
    pairs = summary[summary["f2"] != "untrained"]
    assert (
        (pairs["dist_ci_low"] <= pairs["dist_mean"]) & (pairs["dist_mean"] <= pairs["dist_ci_high"])
    ).all()
    networks = summary[~summary["f2"].isin([UNTRAINED, LOOKUP])]
    true_members = networks[networks["condition"] == "true_labels"]
    assert len(true_members) == 4 * 3  # the full matrix: every ordered pair of 4 models
    lookup = summary[summary["f2"] == LOOKUP]
    assert sorted(lookup["f1"]) == sorted(
        summary.loc[summary["f2"] == UNTRAINED, "f1"]
    )  # one per f1
    untrained = summary[summary["f2"] == "untrained"]["dist_mean"]
    # KL(f1 || near-uniform) = log C - H(f1): at most log C, near it only where f1 is certain
    assert (untrained <= math.log(10) + 0.05).all()
    assert (
        true_members["relabeled_ratio_ci_high"] < 1
    ).all()  # X_T pairs: closer than an unrelated function
    random_members = networks[networks["condition"] == "random_labels"]
    assert random_members["relabeled_ratio"].min() > true_members["relabeled_ratio"].max()
    crosscheck = pd.read_csv(workdir / "results/crosscheck/crosscheck.csv")
    assert {"output_kl", "disagreement", "cka", "test_error_a", "test_error_b"} <= set(
        crosscheck.columns
    )
    learned = crosscheck[crosscheck["condition"] == "true_labels"]
    memorized = crosscheck[crosscheck["condition"] == "random_labels"]
    assert learned["cka"].mean() > memorized["cka"].mean()
    assert learned["disagreement"].mean() < memorized["disagreement"].mean()
    diagnostics = pd.read_csv(workdir / "results/patterns/diagnostics_summary.csv")
    assert (diagnostics["hit_rate"] > 0.5).all() and diagnostics[
        "discriminator_score_mean"
    ].between(0, 1).all()
    stages = pd.read_csv(workdir / "results/stages/stages.csv")
    hunting = dict(zip(stages["model"], stages["hunting"]))
    assert all(hunting[model] for model in hunting if model.startswith("random_labels-"))
    assert not any(hunting[model] for model in hunting if model.startswith("true_labels-"))
    text = (workdir / "results/summary.md").read_text()
    assert "83.73%" in text and "Dist on X_R is above Dist on X_T for every f2" in text
