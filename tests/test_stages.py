import math

import pandas as pd
import pytest

from memdissect.stages import detect_stages, stage_table


def history(train_acc, grad_magnitude) -> pd.DataFrame:
    return pd.DataFrame({"epoch": range(1, len(train_acc) + 1), "train_acc": train_acc,
                         "grad_magnitude": grad_magnitude})


# G falls for four epochs with accuracy at chance, bottoms out at epoch 5, then rises while
# accuracy climbs; epoch 6 is only 10% above the minimum, epoch 7 is 40% above it.
RANDOM_LABELS = history(
    train_acc=[0.10, 0.10, 0.11, 0.10, 0.11, 0.14, 0.20, 0.45, 0.80, 0.99, 1.00, 1.00],
    grad_magnitude=[9.0, 5.0, 3.0, 2.2, 2.0, 2.2, 2.8, 6.0, 9.0, 4.0, 1.0, 0.5],
)
# G falls every epoch while accuracy rises from the start.
TRUE_LABELS = history(
    train_acc=[0.35, 0.55, 0.70, 0.80, 0.88, 0.94, 0.98, 1.00, 1.00, 1.00],
    grad_magnitude=[30.0, 20.0, 15.0, 12.0, 9.0, 6.0, 3.0, 1.5, 1.0, 0.8],
)


def test_random_label_curve_fits_from_the_epoch_g_has_risen_and_accuracy_climbs():
    stages = detect_stages(RANDOM_LABELS)
    assert stages.hunting
    assert stages.fitting_start_epoch == 7
    assert (stages.g_min_epoch, stages.g_min, stages.g_first) == (5, 2.0, 9.0)
    assert stages.train_acc_at_g_min == 0.11


def test_the_thresholds_move_the_fitting_start():
    assert detect_stages(RANDOM_LABELS, g_rise=0.05).fitting_start_epoch == 6  # 2.2 >= 1.05 x 2.0, acc 0.14
    assert detect_stages(RANDOM_LABELS, g_rise=0.05, acc_rise=0.05).fitting_start_epoch == 7  # 0.14 < 0.11 + 0.05
    assert detect_stages(RANDOM_LABELS, g_rise=2.0).fitting_start_epoch == 8  # 6.0 >= 3 x 2.0
    assert detect_stages(RANDOM_LABELS.sample(frac=1.0, random_state=0)).fitting_start_epoch == 7  # order by epoch


def test_true_label_curve_has_no_hunting_stage():
    stages = detect_stages(TRUE_LABELS)
    assert not stages.hunting and stages.fitting_start_epoch is None
    assert (stages.g_min_epoch, stages.g_min) == (10, 0.8)


def test_a_late_rise_of_g_without_accuracy_to_gain_is_no_hunting_stage():
    grad = [30.0, 20.0, 15.0, 12.0, 9.0, 6.0, 3.0, 1.5, 1.0, 2.0]  # +100% at the end, accuracy already 1.0
    assert not detect_stages(history(TRUE_LABELS["train_acc"], grad)).hunting


def test_g_rising_from_the_first_epoch_is_no_hunting_stage():
    grad = [10.0, 14.0, 20.0, 18.0, 12.0, 8.0, 5.0, 3.0, 2.0, 1.5]  # never fell before rising
    assert not detect_stages(history(TRUE_LABELS["train_acc"], grad)).hunting


def test_stage_table_has_one_row_per_model_and_missing_epochs_for_runs_without_hunting():
    table = stage_table({"random": RANDOM_LABELS, "true": TRUE_LABELS})
    assert list(table.columns) == ["model", "hunting", "fitting_start_epoch", "g_min_epoch", "g_min", "g_first",
                                   "train_acc_at_g_min"]
    assert table["hunting"].tolist() == [True, False]
    assert table.loc[0, "fitting_start_epoch"] == 7 and table.loc[1, "fitting_start_epoch"] is pd.NA


def test_a_history_without_g_is_refused():
    with pytest.raises(ValueError, match="grad_magnitude"):
        detect_stages(history([0.1, 0.2], [math.nan, math.nan]))
