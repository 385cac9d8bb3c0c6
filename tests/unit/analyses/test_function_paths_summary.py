"""The seeds' path divergence per epoch and along the run, the spread of the fit epoch and the sentence."""

import math

import numpy as np
import pandas as pd
import pytest

from memdissect.analyses.function_paths_summary import (
    fit_epoch_spread,
    fit_epoch_table,
    path_divergence_by_epoch,
    path_divergence_overall,
    path_sentence,
)

BOOTSTRAP = {"n_resamples": 500, "confidence": 0.95, "seed": 0}


def pair_rows(condition: str, disagreement: dict, epochs=(1, 2)) -> pd.DataFrame:
    """disagreement: (run_a, run_b) -> one value per epoch (the test probe at half of it; sym_kl = 2 x it)."""
    rows = []
    for (run_a, run_b), values in disagreement.items():
        for split, scale in (("train", 1.0), ("test", 0.5)):
            rows += [
                {
                    "condition": condition,
                    "name": "vgg11",
                    "run_a": run_a,
                    "run_b": run_b,
                    "split": split,
                    "epoch": epoch,
                    "disagreement": scale * value,
                    "sym_kl": 2 * scale * value,
                }
                for epoch, value in zip(epochs, values)
            ]
    return pd.DataFrame(rows)


THREE_SEEDS = {("s1", "s2"): [0.1, 0.3], ("s1", "s3"): [0.2, 0.5], ("s2", "s3"): [0.3, 0.7]}


def test_per_epoch_mean_over_pairs_with_an_interval_that_holds_it():
    table = path_divergence_by_epoch(pair_rows("true_labels", THREE_SEEDS), **BOOTSTRAP)
    rows = table.set_index(["split", "measure", "epoch"])
    assert rows.loc[("train", "disagreement", 1), "mean"] == pytest.approx(0.2)
    assert rows.loc[("train", "disagreement", 2), "mean"] == pytest.approx(0.5)
    assert rows.loc[("test", "sym_kl", 2), "mean"] == pytest.approx(0.5)
    assert (table["n_pairs"] == 3).all() and len(table) == 2 * 2 * 2  # splits x measures x epochs
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()
    low, high = rows.loc[("train", "disagreement", 2), ["ci_low", "ci_high"]]
    assert 0.3 <= low < high <= 0.7  # within the pairs' own values


def test_one_pair_has_no_interval():
    table = path_divergence_by_epoch(
        pair_rows("true_labels", {("s1", "s2"): [0.1, 0.3]}), **BOOTSTRAP
    )
    assert table["ci_low"].isna().all() and (table["n_pairs"] == 1).all()


def test_overall_is_the_mean_over_pairs_of_each_pairs_mean_over_epochs():
    table = path_divergence_overall(pair_rows("true_labels", THREE_SEEDS), **BOOTSTRAP)
    train = table[(table["split"] == "train") & (table["measure"] == "disagreement")].iloc[0]
    assert train["mean"] == pytest.approx(np.mean([0.2, 0.35, 0.5])) and train["n_pairs"] == 3


def fit_history(train_acc) -> pd.DataFrame:
    return pd.DataFrame({"epoch": np.arange(1, len(train_acc) + 1), "train_acc": train_acc})


def test_spread_of_the_fit_epoch_over_seeds_counts_the_runs_that_never_fit():
    histories = {
        "s1": fit_history([0.5, 0.99, 1.0, 1.0]),
        "s2": fit_history([0.5, 0.7, 0.995, 1.0]),
        "s3": fit_history([0.5, 0.6, 0.7, 0.8]),
    }
    spread = fit_epoch_spread(histories)
    assert (spread["runs"], spread["runs_fitted"]) == (3, 2)
    assert spread["fit_epoch_mean"] == 2.5 and spread["fit_epoch_std"] == pytest.approx(
        math.sqrt(0.5)
    )
    assert (spread["fit_epoch_min"], spread["fit_epoch_max"]) == (2, 3)
    assert math.isnan(fit_epoch_spread({"s3": histories["s3"]})["fit_epoch_mean"])
    assert math.isnan(fit_epoch_spread({"s1": histories["s1"]})["fit_epoch_std"])
    table = fit_epoch_table({("true_labels", "vgg11"): histories})
    assert table.loc[0, ["condition", "name", "runs_fitted"]].tolist() == [
        "true_labels",
        "vgg11",
        2,
    ]


def test_sentence_reads_whether_the_random_label_paths_lie_farther_apart():
    far = {pair: [value + 0.5 for value in values] for pair, values in THREE_SEEDS.items()}
    pairs = pd.concat([pair_rows("true_labels", THREE_SEEDS), pair_rows("random_labels", far)])
    overall = path_divergence_overall(pairs, **BOOTSTRAP)
    sentence = path_sentence(overall, "vgg11", "true_labels", "random_labels")
    assert sentence.startswith(
        "vgg11, averaged over the epochs: on the training probe, two seeds disagree on 35% ["
    )
    assert "of the probes per epoch on X_T and on 85% [" in sentence
    assert "the X_R paths are farther apart (the intervals are disjoint)" in sentence
    reversed_overall = path_divergence_overall(
        pd.concat([pair_rows("true_labels", far), pair_rows("random_labels", THREE_SEEDS)]),
        **BOOTSTRAP,
    )
    assert "NOT farther apart" in path_sentence(
        reversed_overall, "vgg11", "true_labels", "random_labels"
    )
    assert "no pair of seeds" in path_sentence(overall, "vgg13", "true_labels", "random_labels")
