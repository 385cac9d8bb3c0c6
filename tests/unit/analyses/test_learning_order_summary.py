"""When each group of samples is fitted, and the summary's sentence, on hand-made histories."""

import math

import numpy as np
import pandas as pd
import pytest

from memdissect.analyses.learning_order_summary import (
    fitting_order,
    learning_order_row,
    learning_order_sentences,
    learning_order_table,
)


def history(
    clean, relabeled, true_class, clean_g=None, relabeled_g=None, relabeled_samples=450
) -> pd.DataFrame:
    epochs = np.arange(1, len(clean) + 1)
    clean_g = clean_g if clean_g is not None else np.linspace(1, 0.1, len(clean))
    relabeled_g = relabeled_g if relabeled_g is not None else np.full(len(clean), 2.0)
    return pd.DataFrame(
        {
            "epoch": epochs,
            "train_acc": np.asarray(clean) * 0.5 + np.asarray(relabeled) * 0.5,
            "clean_train_acc": clean,
            "relabeled_train_acc": relabeled,
            "relabeled_true_class": true_class,
            "clean_grad_magnitude": clean_g,
            "relabeled_grad_magnitude": relabeled_g,
            "clean_samples": 550,
            "relabeled_samples": relabeled_samples,
        }
    )


# clean fitted first: 50% at epoch 2, 99% at epoch 4; relabeled 50% at 4, 99% at 6; true class peaks at 2
CLEAN_FIRST = history(
    [0.30, 0.60, 0.90, 0.995, 1.0, 1.0],
    [0.10, 0.10, 0.20, 0.50, 0.90, 0.995],
    [0.50, 0.60, 0.40, 0.20, 0.05, 0.0],
    relabeled_g=[0.5, 0.7, 3.0, 2.0, 1.0, 0.4],
)
# the relabeled samples reach 99% at epoch 3, the clean ones only at 5
RELABELED_FIRST = history(
    [0.30, 0.60, 0.90, 0.95, 0.99, 1.0],
    [0.20, 0.70, 0.99, 1.0, 1.0, 1.0],
    [0.10, 0.10, 0.0, 0.0, 0.0, 0.0],
)
# the relabeled samples never get to 99% in the run's 6 epochs
NEVER_MEMORIZED = history(
    [0.30, 0.60, 0.99, 1.0, 1.0, 1.0],
    [0.10, 0.10, 0.20, 0.30, 0.40, 0.50],
    [0.40, 0.50, 0.60, 0.50, 0.40, 0.30],
)
TRUE_LABELS = history(
    [0.30, 0.60, 0.99, 1.0, 1.0, 1.0],
    [np.nan] * 6,
    [np.nan] * 6,
    relabeled_g=[np.nan] * 6,
    relabeled_samples=0,
)


def test_row_of_a_history_whose_clean_samples_are_fitted_first():
    row = learning_order_row(CLEAN_FIRST.sample(frac=1, random_state=0))  # rows in any order
    assert (row["clean_epoch_50"], row["clean_epoch_99"]) == (2, 4)
    assert (row["relabeled_epoch_50"], row["relabeled_epoch_99"]) == (4, 6)
    assert (row["true_class_peak"], row["true_class_peak_epoch"]) == (0.6, 2)
    assert row["clean_g_mean"] == pytest.approx(0.55) and row["clean_g_peak_epoch"] == 1
    assert row["relabeled_g_mean"] == pytest.approx(7.6 / 6) and row["relabeled_g_peak_epoch"] == 3
    assert (row["epochs"], row["clean_samples"], row["relabeled_samples"]) == (6, 550, 450)


def test_orders_of_fitting():
    table = learning_order_table(
        {"a": CLEAN_FIRST, "b": RELABELED_FIRST, "c": NEVER_MEMORIZED, "d": TRUE_LABELS},
        {"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.0},
    ).set_index("model")
    assert fitting_order(table.loc["a"]) == ("clean first", 2)
    assert fitting_order(table.loc["b"]) == ("relabeled first", -2)
    assert fitting_order(table.loc["c"]) == (
        "relabeled never",
        4,
    )  # at least epochs 3 .. 6 and one more
    assert fitting_order(table.loc["d"]) == ("no relabeled samples", None)
    assert fitting_order(table.loc["a"], threshold=0.5) == ("clean first", 2)
    assert (
        pd.isna(table.loc["c", "relabeled_epoch_99"])
        and str(table["relabeled_epoch_99"].dtype) == "Int64"
    )
    assert math.isnan(table.loc["d", "true_class_peak"]) and pd.isna(
        table.loc["d", "true_class_peak_epoch"]
    )


def test_sentence_states_the_clean_samples_fitted_first_and_by_how_many_epochs():
    later = history(
        [0.30, 0.60, 0.995, 1.0, 1.0, 1.0, 1.0],
        [0.1, 0.1, 0.2, 0.5, 0.9, 0.95, 0.995],
        [0.5, 0.4, 0.3, 0.2, 0.1, 0.0, 0.0],
    )  # 99%: clean at 3, relabeled at 7: 4 epochs
    [sentence] = learning_order_sentences(
        learning_order_table({"a": CLEAN_FIRST, "b": later}, {"a": 0.5, "b": 0.5})
    )
    assert sentence == (
        "At p = 0.5 (2 models): the clean samples reached 50% train accuracy before the relabeled ones "
        "in 2 of 2 models, by 2 epochs. At 99%: the clean samples reached 99% train accuracy before "
        "the relabeled ones in 2 of 2 models, by 3 epochs (median; 2 to 4). The share of relabeled "
        "samples predicted as their true class peaked at 55% (the median over models of each one's "
        "peak; median epoch 1.5)."
    )  # the peaks: 60% at epoch 2 and 50% at epoch 1


def test_sentence_says_so_when_the_clean_samples_are_not_fitted_first_or_a_group_never_is():
    table = learning_order_table(
        {"b": RELABELED_FIRST, "c": NEVER_MEMORIZED, "d": TRUE_LABELS},
        {"b": 0.8, "c": 0.8, "d": 0.0},
    )
    no_order, mixed = learning_order_sentences(table)
    assert (
        no_order
        == "At p = 0 (1 model) no sample is relabeled: there is no order of fitting to measure."
    )
    assert mixed == (
        "At p = 0.8 (2 models): the clean samples reached 50% train accuracy before the relabeled ones "
        "in 1 of 2 models, by 4 epochs; in 1 model (b) both groups reached 50% train accuracy in the same "
        "epoch. At 99%: in 1 model (c) the clean samples reached 99% train accuracy and the relabeled ones "
        "never did within the run (a lead of at least 4 epochs); in 1 model (b) the clean samples were NOT "
        "fitted first: the relabeled ones reached 99% train accuracy earlier, by 2 epochs. The share of "
        "relabeled samples predicted as their true class peaked at 35% (the median over models of each "
        "one's peak; median epoch 2)."
    )


def test_sentence_when_neither_group_is_fitted():
    unfitted = history([0.3, 0.4, 0.5], [0.1, 0.1, 0.1], [0.3, 0.3, 0.3])
    [sentence] = learning_order_sentences(learning_order_table({"e": unfitted}, {"e": 1.0}))
    assert "At 99%: in 1 model (e) neither group reached 99% train accuracy." in sentence
