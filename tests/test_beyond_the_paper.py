"""The analyses beyond the paper: self-Dist, the full matrix, cross-checks, intervals, null, diagnostics, stages."""

import math

import pandas as pd
import pytest
import torch

from memdissect.distance import pattern_divergence_table, summarize_dist
from memdissect.figures import average_linkage_order
from memdissect.gan import GanSettings, build_gan
from memdissect.patterns import PatternSettings, logits_on_patterns, synthesize_patterns
from memdissect.train import ClassifierSettings, build_classifier, build_untrained_twin


def test_dist_of_a_model_with_itself_is_zero():
    generator, _ = build_gan(GanSettings(width=0.125), "cpu")
    settings = ClassifierSettings(arch="vgg11", width=0.125)
    model = build_classifier(settings, "cpu")
    patterns = synthesize_patterns(model, generator, 10, PatternSettings(starts=3, iterations=4), "cpu",
                                   log=lambda *_: None)
    table = pattern_divergence_table(patterns["logits"], logits_on_patterns(model, patterns["x"], "cpu"))
    assert table[["kl", "reverse_kl", "js"]].abs().max().max() < 1e-6
    other = pattern_divergence_table(patterns["logits"],
                                     logits_on_patterns(build_untrained_twin(settings, "cpu"), patterns["x"], "cpu"))
    assert other["kl"].mean() > 1e-3  # a different network is not at distance zero


def test_untrained_twin_has_the_architecture_but_not_the_weights():
    settings = ClassifierSettings(arch="resnet32", width=0.25, seed=3)
    model, twin = build_classifier(settings, "cpu"), build_untrained_twin(settings, "cpu")
    assert [p.shape for p in model.parameters()] == [p.shape for p in twin.parameters()]
    assert not torch.equal(next(model.parameters()), next(twin.parameters()))


def test_clustering_order_puts_close_models_together():
    distance = torch.tensor([[0, 9, 1, 9], [9, 0, 9, 1], [1, 9, 0, 9], [9, 1, 9, 0]], dtype=torch.float64).numpy()
    order = average_linkage_order(distance)
    assert sorted(order) == [0, 1, 2, 3]
    assert abs(order.index(0) - order.index(2)) == 1 and abs(order.index(1) - order.index(3)) == 1


@pytest.mark.workflow
def test_demo_shows_the_analyses_beyond_the_paper(demo_run):
    workdir, _ = demo_run
    for condition in ("true_labels", "random_labels"):
        assert (workdir / f"results/figures/dist_matrix_{condition}.png").stat().st_size > 1000
    assert (workdir / "results/figures/crosscheck.png").exists()
    summary = pd.read_parquet(workdir / "results/dist/dist_summary.parquet")
    pairs = summary[summary["f2"] != "untrained"]
    assert ((pairs["dist_ci_low"] <= pairs["dist_mean"]) & (pairs["dist_mean"] <= pairs["dist_ci_high"])).all()
    true_members = summary[(summary["condition"] == "true_labels") & (summary["f2"] != "untrained")]
    assert len(true_members) == 4 * 3  # the full matrix: every ordered pair of 4 models
    untrained = summary[summary["f2"] == "untrained"]["dist_mean"]
    # KL(f1 || near-uniform) = log C - H(f1): at most log C, near it only where f1 is certain
    assert (untrained <= math.log(10) + 0.05).all()
    assert (true_members["relabeled_ratio_ci_high"] < 1).all()  # X_T pairs: closer than an unrelated function
    random_members = summary[(summary["condition"] == "random_labels") & (summary["f2"] != "untrained")]
    assert random_members["relabeled_ratio"].min() > true_members["relabeled_ratio"].max()
    crosscheck = pd.read_csv(workdir / "results/crosscheck/crosscheck.csv")
    assert {"output_kl", "disagreement", "cka", "test_error_a", "test_error_b"} <= set(crosscheck.columns)
    learned = crosscheck[crosscheck["condition"] == "true_labels"]
    memorized = crosscheck[crosscheck["condition"] == "random_labels"]
    assert learned["cka"].mean() > memorized["cka"].mean()
    assert learned["disagreement"].mean() < memorized["disagreement"].mean()
    diagnostics = pd.read_csv(workdir / "results/patterns/diagnostics_summary.csv")
    assert (diagnostics["hit_rate"] > 0.5).all() and diagnostics["discriminator_score_mean"].between(0, 1).all()
    stages = pd.read_csv(workdir / "results/stages/stages.csv")
    hunting = dict(zip(stages["model"], stages["hunting"]))
    assert all(hunting[model] for model in hunting if model.startswith("random_labels-"))
    assert not any(hunting[model] for model in hunting if model.startswith("true_labels-"))
    text = (workdir / "results/summary.md").read_text()
    assert "83.73%" in text and "Dist on X_R is above Dist on X_T for every f2" in text


def test_summary_of_a_pair_with_itself_is_zero():
    logits = torch.randn(4, 5, 10)
    table = pattern_divergence_table(logits, logits).assign(f1="a", f2="a")
    assert summarize_dist(table)["dist_mean"].item() == pytest.approx(0.0, abs=1e-12)
