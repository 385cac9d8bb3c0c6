"""summary.md's sections of the paper's other claims, and the pairs of every model group, on hand-made cases."""

import pandas as pd
import pytest
import torch
from test_function_paths_summary import BOOTSTRAP, THREE_SEEDS, pair_rows
from test_learning_order_summary import CLEAN_FIRST, NEVER_MEMORIZED

from memdissect.analyses.function_paths import group_pair_table
from memdissect.analyses.function_paths_summary import (
    fit_epoch_table,
    path_divergence_overall,
    path_section,
)
from memdissect.analyses.learning_order_summary import learning_order_section, learning_order_table


def test_the_learning_order_section_holds_the_table_and_a_sentence_per_noise_level():
    table = learning_order_table({"a": CLEAN_FIRST, "b": NEVER_MEMORIZED}, {"a": 0.5, "b": 1.0})
    section = learning_order_section(table)
    assert section.startswith("## Learn, then memorize\n")
    assert "| model | noise | epochs |" in section
    assert (
        "At p = 0.5 (1 model): the clean samples reached 50% train accuracy before the relabeled ones in 1 of 1 "
        "models, by 2 epochs." in section
    )
    assert "At p = 1 (1 model)" in section and "never did within the run" in section
    assert learning_order_section(table.iloc[:0]) == ""


def test_the_path_section_holds_each_groups_divergence_its_fit_epochs_and_the_sentence():
    far = {pair: [value + 0.5 for value in values] for pair, values in THREE_SEEDS.items()}
    overall = path_divergence_overall(
        pd.concat([pair_rows("true_labels", THREE_SEEDS), pair_rows("random_labels", far)]),
        **BOOTSTRAP,
    )
    history = pd.DataFrame({"epoch": [1, 2, 3], "train_acc": [0.5, 0.995, 1.0]})
    fits = fit_epoch_table({("true_labels", "vgg11"): {"s1": history, "s2": history}})
    section = path_section(overall, fits, "true_labels", "random_labels")
    assert section.startswith("## Paths in function space\n")
    assert (
        "| name | condition | n_pairs | disagreement on the training probe | disagreement on the test probe | "
        "sym_kl on the training probe | sym_kl on the test probe |"
    ) in section
    # the pairs' means over epochs 0.2, 0.35, 0.5 on X_T, each + 0.5 on X_R; the test probe half, sym_kl twice
    assert (
        "| vgg11 | true_labels | 3 | 0.35 [" in section
        and "| vgg11 | random_labels | 3 | 0.85 [" in section
    )
    assert "] | 0.425 [" in section and "] | 1.7 [" in section
    assert "| true_labels | vgg11 | 2 | 2 | 2 |" in section  # both runs fit at epoch 2
    assert "the X_R paths are farther apart (the intervals are disjoint)" in section
    assert path_section(overall.iloc[:0], fits, "true_labels", "random_labels") == ""


def path_file(predictions: list[list[int]], indices=(0, 1)) -> dict:
    """A probe path file whose runs predict the given classes (one list per epoch) with certainty, 3 classes."""
    log_probs = torch.log(
        torch.nn.functional.one_hot(torch.tensor(predictions), 3).float() * 0.98 + 0.01
    )
    return {
        "epochs": torch.arange(1, len(predictions) + 1),
        "indices": {"train": torch.tensor(indices)},
        "paths": {"train": log_probs.half()},
    }


def test_each_groups_pairs_carry_the_group_and_disagree_where_counted_by_hand():
    groups = {
        ("true_labels", "vgg11"): {
            "s1": path_file([[0, 1], [0, 1]]),
            "s2": path_file([[0, 2], [0, 1]]),
        },
        ("random_labels", "vgg11"): {
            "s1": path_file([[0, 1], [2, 2]]),
            "s2": path_file([[1, 0], [2, 2]]),
            "s3": path_file([[1, 0], [2, 0]]),
        },
    }
    table = group_pair_table(groups)
    assert list(table.columns[:5]) == ["condition", "name", "run_a", "run_b", "split"]
    learned = table[table["condition"] == "true_labels"]
    assert learned["disagreement"].tolist() == [0.5, 0.0]  # epoch 1: probe 1 differs; epoch 2: none
    memorized = table[table["condition"] == "random_labels"].set_index(["run_a", "run_b", "epoch"])
    assert len(memorized) == 3 * 2 and memorized.loc[("s1", "s2", 1), "disagreement"] == 1.0
    assert memorized.loc[("s2", "s3", 2), "disagreement"] == 0.5
    assert (memorized["sym_kl"] >= 0).all() and memorized.loc[
        ("s1", "s2", 2), "sym_kl"
    ] == pytest.approx(0, abs=1e-3)
