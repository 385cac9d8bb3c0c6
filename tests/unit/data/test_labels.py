import numpy as np
import pandas as pd
import pytest

from memdissect.data.labels import check_label_table, corrupt_labels
from memdissect.io import DataError
from memdissect.study.design import label_set_name

TRUE_LABELS = np.arange(1000) % 10


@pytest.mark.parametrize("noise", [0.0, 0.2, 0.5, 1.0])
def test_exactly_the_fraction_p_is_corrupted(noise):
    table = corrupt_labels(TRUE_LABELS, noise, 10, seed=3)
    assert table["corrupted"].sum() == round(noise * len(TRUE_LABELS))
    untouched = table[~table["corrupted"]]
    assert (untouched["label"] == untouched["true_label"]).all()


def test_corrupted_labels_are_uniform_so_about_one_in_ten_stays_true():
    table = corrupt_labels(np.arange(100_000) % 10, 1.0, 10, seed=0)
    assert (table["label"] == table["true_label"]).mean() == pytest.approx(0.1, abs=0.005)
    assert np.bincount(table["label"], minlength=10) / len(table) == pytest.approx(
        np.full(10, 0.1), abs=0.005
    )


def test_same_seed_same_labels_other_seed_other_labels():
    first, second = (
        corrupt_labels(TRUE_LABELS, 0.4, 10, seed=7),
        corrupt_labels(TRUE_LABELS, 0.4, 10, seed=7),
    )
    assert first.equals(second)
    assert not first.equals(corrupt_labels(TRUE_LABELS, 0.4, 10, seed=8))


def test_corrupted_sets_are_nested_across_noise_levels():
    low, high = corrupt_labels(TRUE_LABELS, 0.2, 10, 0), corrupt_labels(TRUE_LABELS, 0.6, 10, 0)
    assert (high["corrupted"] | ~low["corrupted"]).all()
    assert (high["label"][low["corrupted"]] == low["label"][low["corrupted"]]).all()


def test_noise_outside_the_unit_interval_is_refused():
    with pytest.raises(ValueError, match=r"noise level must lie in \[0, 1\], got 1.5"):
        corrupt_labels(TRUE_LABELS, 1.5, 10, 0)


def test_label_set_file_name_depends_on_noise_and_seed_only():
    assert label_set_name(1.0, 0) == "noise1-seed0"
    assert label_set_name(0.2, 3) == "noise0.2-seed3"
    assert label_set_name(0, 0) == "noise0-seed0"


def test_label_file_of_another_length_names_the_file_and_the_rule():
    table = pd.DataFrame({"label": np.zeros(9, dtype=np.int64)})
    with pytest.raises(
        DataError,
        match=r"label file results/labels/noise1-seed0.parquet has 9 rows but the data set "
        r"has 10 training examples; delete it and rerun rule 'make_labels'",
    ):
        check_label_table(table, 10, "results/labels/noise1-seed0.parquet", made_by="make_labels")
