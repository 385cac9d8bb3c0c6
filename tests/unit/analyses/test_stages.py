import math
from pathlib import Path

import pandas as pd
import pytest

from memdissect.analyses.stages import (
    detect_stages,
    lift_above_chance,
    smoothed_accuracy,
    stage_table,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "histories"
REAL_HISTORIES = sorted(FIXTURES.glob("*.parquet"))


def history(train_acc, grad_magnitude) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "epoch": range(1, len(train_acc) + 1),
            "train_acc": train_acc,
            "grad_magnitude": grad_magnitude,
        }
    )


# At chance while G falls to its minimum at epoch 4, then the climb. Smoothed accuracy S: 0.1005,
# 0.101, 0.101, 0.102, 0.11, 0.13, 0.20, 0.32, 0.50, ...; lift (S - 0.1) / 0.9 first reaches 0.2 at
# epoch 8 (0.244).
RANDOM_LABELS = history(
    train_acc=[0.100, 0.101, 0.101, 0.102, 0.11, 0.13, 0.20, 0.32, 0.50, 0.70, 0.85, 0.95, 0.99],
    grad_magnitude=[9.0, 4.0, 2.5, 2.0, 2.2, 2.8, 4.0, 6.0, 7.0, 5.0, 3.0, 1.0, 0.5],
)
# Leaves chance in the first epoch (S 0.40, lift 0.33). G is real-data noisy: it falls from epoch 1
# to 2 and rises 21% after (the former rule, "G rose above its running minimum", took that for the
# end of a hunting stage), and it spikes at the accuracy dips of epochs 11 and 14.
TRUE_LABELS = history(
    train_acc=[
        0.32,
        0.48,
        0.58,
        0.66,
        0.72,
        0.78,
        0.83,
        0.87,
        0.90,
        0.93,
        0.88,
        0.95,
        0.97,
        0.93,
        0.98,
        0.99,
    ],
    grad_magnitude=[
        1.0,
        0.7,
        0.85,
        0.75,
        0.6,
        0.55,
        0.5,
        0.45,
        0.4,
        0.35,
        0.9,
        0.3,
        0.2,
        0.7,
        0.15,
        0.1,
    ],
)
# Measured: the first 9 epochs of VGG11 (width 0.25, seed 1) on the CIFAR-10 subset with half the
# labels random. S: 0.1884, 0.2150, 0.2468, 0.2730, 0.3054, ...; lift 0.098, 0.128, 0.163, 0.192,
# 0.228: near chance for 4 epochs, G smallest at epoch 2.
HALF_RANDOM = history(
    train_acc=[0.1618, 0.2150, 0.2468, 0.2730, 0.3054, 0.3416, 0.3604, 0.4040, 0.4132],
    grad_magnitude=[140.6, 57.58, 82.21, 94.39, 118.2, 154.8, 170.2, 200.8, 203.0],
)


def test_smoothing_and_lift_by_hand():
    assert smoothed_accuracy([0.5, 0.9, 0.2, 0.9, 1.0]).tolist() == [
        0.7,
        0.5,
        0.9,
        0.9,
        0.95,
    ]  # the 0.2 dip goes
    assert lift_above_chance([0.1, 0.55, 1.0], 10).tolist() == pytest.approx([0.25, 0.5, 0.75])
    assert lift_above_chance([0.5, 0.5], 2).tolist() == [0.0, 0.0]


def test_random_label_curve_hunts_at_chance_and_fits_as_g_rises():
    stages = detect_stages(RANDOM_LABELS)
    assert stages.hunting
    assert (stages.fitting_start_epoch, stages.left_chance_epoch) == (5, 8)
    assert (stages.g_min_epoch, stages.g_min, stages.g_first, stages.train_acc_at_g_min) == (
        4,
        2.0,
        9.0,
        0.102,
    )


def test_half_random_curve_hunts_while_it_is_near_chance():
    stages = detect_stages(HALF_RANDOM)
    assert stages.hunting
    assert (stages.fitting_start_epoch, stages.left_chance_epoch, stages.g_min_epoch) == (3, 5, 2)
    assert stages.train_acc_at_g_min == 0.2150


def test_true_label_curve_with_noisy_g_has_no_hunting_stage():
    stages = detect_stages(TRUE_LABELS)
    assert not stages.hunting and stages.fitting_start_epoch is None
    assert stages.left_chance_epoch == 1
    assert (stages.g_min_epoch, stages.g_min) == (16, 0.1)


def test_the_thresholds_move_the_stage():
    assert not detect_stages(
        HALF_RANDOM, chance_band=0.1
    ).hunting  # only epoch 1 (lift 0.098) is near chance
    wide = detect_stages(
        TRUE_LABELS, chance_band=0.4
    )  # epochs 1 and 2 (lift 0.33, 0.42 > 0.4): only epoch 1
    assert not wide.hunting and wide.left_chance_epoch == 2
    wider = detect_stages(
        TRUE_LABELS, chance_band=0.45
    )  # epochs 1 and 2 near chance and G falls: 1.0 -> 0.7
    assert (wider.hunting, wider.fitting_start_epoch, wider.left_chance_epoch) == (True, 3, 3)
    assert (
        detect_stages(RANDOM_LABELS.sample(frac=1.0, random_state=0)).fitting_start_epoch == 5
    )  # order by epoch


def test_chance_comes_from_the_number_of_classes():
    # with 2 classes chance is 0.5: the true-label curve starts below it, near chance, while G falls;
    # S = 0.58 at epoch 3 (lift 0.16), 0.66 at epoch 4 (lift 0.32)
    stages = detect_stages(TRUE_LABELS, num_classes=2)
    assert (
        stages.hunting,
        stages.g_min_epoch,
        stages.fitting_start_epoch,
        stages.left_chance_epoch,
    ) == (True, 2, 3, 4)


def test_g_rising_while_near_chance_is_no_hunting_stage():
    rising = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 4.0, 3.0, 2.0, 1.0]
    stages = detect_stages(history(RANDOM_LABELS["train_acc"], rising))
    assert not stages.hunting and stages.g_min_epoch == 1


def test_a_run_that_never_leaves_chance_hunts_for_all_its_epochs():
    flat = history([0.10, 0.11, 0.10, 0.12, 0.11, 0.10], [1.0, 0.6, 0.4, 0.3, 0.35, 0.3])
    stages = detect_stages(flat)
    assert (
        stages.hunting and stages.fitting_start_epoch is None and stages.left_chance_epoch is None
    )
    assert stages.g_min_epoch == 4


def test_stage_table_has_one_row_per_model_and_missing_epochs_where_there_are_none():
    table = stage_table({"random": RANDOM_LABELS, "true": TRUE_LABELS}, num_classes=10)
    assert list(table.columns) == [
        "model",
        "hunting",
        "fitting_start_epoch",
        "left_chance_epoch",
        "g_min_epoch",
        "g_min",
        "g_first",
        "train_acc_at_g_min",
    ]
    assert table["hunting"].tolist() == [True, False]
    assert table.loc[0, "fitting_start_epoch"] == 5 and table.loc[1, "fitting_start_epoch"] is pd.NA
    assert table["left_chance_epoch"].tolist() == [8, 1]


def test_bad_histories_and_thresholds_are_refused():
    with pytest.raises(ValueError, match="grad_magnitude"):
        detect_stages(history([0.1, 0.2], [math.nan, math.nan]))
    with pytest.raises(ValueError, match="train_acc"):
        detect_stages(history([10.0, 20.0], [1.0, 0.5]))  # percent, not a fraction
    with pytest.raises(ValueError, match="num_classes"):
        detect_stages(RANDOM_LABELS, num_classes=1)
    with pytest.raises(ValueError, match="chance_band"):
        detect_stages(RANDOM_LABELS, chance_band=20)


# --- real histories: the CIFAR-10 subset (500 training images per class, narrow VGG, lr 0.01)


def condition_of(path: Path) -> str:
    return path.stem.rsplit("-", 2)[0]


def test_the_real_histories_hold_both_kinds_of_run():
    conditions = {condition_of(path) for path in REAL_HISTORIES}
    assert "true_labels" in conditions and any(c != "true_labels" for c in conditions), sorted(
        conditions
    )


@pytest.mark.parametrize(
    "path", [p for p in REAL_HISTORIES if condition_of(p) == "true_labels"], ids=lambda p: p.stem
)
def test_real_true_label_runs_have_no_hunting_stage(path):
    stages = detect_stages(pd.read_parquet(path))
    assert not stages.hunting and stages.fitting_start_epoch is None
    assert stages.left_chance_epoch == 1


@pytest.mark.parametrize(
    "path", [p for p in REAL_HISTORIES if condition_of(p) != "true_labels"], ids=lambda p: p.stem
)
def test_real_random_and_partly_random_runs_hunt_then_fit(path):
    run = pd.read_parquet(path).sort_values("epoch").set_index("epoch")
    stages = detect_stages(run.reset_index())
    assert stages.hunting
    fitting = stages.fitting_start_epoch
    assert 2 <= fitting <= 10  # within the first tenth of a 100-epoch run
    assert run.loc[fitting, "grad_magnitude"] > run.loc[fitting - 1, "grad_magnitude"]  # G rises
    assert run.loc[: fitting - 1, "train_acc"].max() < 0.1 + 0.2 * 0.9  # near chance while hunting
    assert fitting <= stages.left_chance_epoch < 20
