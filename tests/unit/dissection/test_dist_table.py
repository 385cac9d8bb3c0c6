import math

import pandas as pd
import pytest

from memdissect.dissection.dist_table import dist_per_start, relabeled_position, summarize_dist


def test_summary_averages_classes_per_start_then_starts():
    long = pd.DataFrame(
        {
            "f1": "a",
            "f2": "b",
            "class": [0, 1, 0, 1],
            "start": [0, 0, 1, 1],
            "kl": [1.0, 3.0, 5.0, 7.0],  # Dist_0 = 2, Dist_1 = 6
            "reverse_kl": 0.0,
            "js": 0.0,
            "kl_relabeled": [6.0, 10.0, 6.0, 10.0],  # relabeled Dist_0 = Dist_1 = 8
        }
    )
    summary = summarize_dist(long).iloc[0]
    assert summary["dist_mean"] == 4.0
    assert summary["dist_variance"] == pytest.approx(8.0)  # sample variance of (2, 6)
    assert summary["n_starts"] == 2
    assert summary["relabeled_mean"] == 8.0
    assert (
        summary["relabeled_ratio"] == 0.5
    )  # Dist halfway between the same function and a relabeled f2


def test_a_table_without_the_relabeled_column_is_refused_by_name():
    long = pd.DataFrame(
        {
            "f1": "a",
            "f2": "b",
            "class": [0],
            "start": [0],
            "kl": [1.0],
            "reverse_kl": [1.0],
            "js": [0.1],
        }
    )
    with pytest.raises(ValueError, match="kl_relabeled"):
        dist_per_start(long)


def test_position_between_the_same_function_and_an_unrelated_trained_function():
    assert relabeled_position(0.2, 0.1, 0.3) == "closer to f1 than an unrelated trained function"
    assert relabeled_position(1.3, 1.1, 1.5) == "farther from f1 than an unrelated trained function"
    assert relabeled_position(0.9, 0.7, 1.1).startswith(
        "no closer to f1 than an unrelated trained function"
    )
    assert relabeled_position(0.9, math.nan, math.nan).startswith("below 1 by its estimate alone")
