import pandas as pd
import pytest

from memdissect.dissection.diagnostics_table import summarize_diagnostics


def test_hit_rate_and_means_per_f1_in_the_order_of_the_table():
    table = pd.DataFrame(
        {
            "f1": ["n", "n", "m", "m", "m", "m"],
            "class": [0, 1, 0, 0, 1, 1],
            "hit": [True, True, True, False, False, False],
            "confidence": [0.9, 0.7, 0.8, 0.2, 0.1, 0.3],
            "z_moved": [1.0, 3.0, 0.0, 0.0, 2.0, 6.0],
        }
    )
    summary = summarize_diagnostics(table)
    assert list(summary.columns) == [
        "f1",
        "hit_rate",
        "confidence_mean",
        "z_moved_mean",
    ]  # class is no diagnostic
    assert summary["f1"].tolist() == ["n", "m"]
    assert summary["hit_rate"].tolist() == pytest.approx([1.0, 0.25])
    assert summary["confidence_mean"].tolist() == pytest.approx([0.8, 0.35])
    assert summary["z_moved_mean"].tolist() == pytest.approx([2.0, 2.0])


def test_the_diversity_table_is_summarized_by_its_own_columns():
    diversity = pd.DataFrame(
        {"f1": "m", "class": [0, 1], "diversity": [0.2, 0.4], "start_diversity": [0.5, 0.7]}
    )
    summary = summarize_diagnostics(diversity).iloc[0]
    assert list(summary.index) == ["f1", "diversity_mean", "start_diversity_mean"]
    assert summary["diversity_mean"] == pytest.approx(0.3) and summary[
        "start_diversity_mean"
    ] == pytest.approx(0.6)
