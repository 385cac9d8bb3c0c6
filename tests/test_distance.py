import math

import pandas as pd
import pytest
import torch

from memdissect.distance import js_divergence, kl_divergence, pattern_divergence_table, summarize_dist


def logits_of(probabilities):
    return torch.tensor(probabilities, dtype=torch.float64).log()


def test_kl_of_two_coins_by_hand():
    p, q = logits_of([0.5, 0.5]), logits_of([0.9, 0.1])
    # KL(p||q) = 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1)
    assert kl_divergence(p, q).item() == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(5), abs=1e-12)
    # reverse: 0.9 ln(0.9/0.5) + 0.1 ln(0.1/0.5)
    assert kl_divergence(q, p).item() == pytest.approx(0.9 * math.log(1.8) + 0.1 * math.log(0.2), abs=1e-12)


def test_js_by_hand_and_its_bounds():
    p, q = logits_of([1.0, 1e-300]), logits_of([1e-300, 1.0])
    assert js_divergence(p, q).item() == pytest.approx(math.log(2), abs=1e-9)  # disjoint supports
    p, q = logits_of([0.5, 0.5]), logits_of([0.9, 0.1])
    m = [0.7, 0.3]
    expected = 0.5 * (0.5 * math.log(0.5 / 0.7) + 0.5 * math.log(0.5 / 0.3)) + 0.5 * (
        0.9 * math.log(0.9 / 0.7) + 0.1 * math.log(0.1 / 0.3))
    assert js_divergence(p, q).item() == pytest.approx(expected, abs=1e-12)
    assert js_divergence(p, q).item() == pytest.approx(js_divergence(q, p).item(), abs=1e-15)


def test_divergences_vanish_for_equal_outputs_and_ignore_logit_shifts():
    logits = torch.randn(4, 5, 10)
    assert kl_divergence(logits, logits + 3.0).abs().max() < 1e-12
    assert js_divergence(logits, logits).abs().max() < 1e-12


def test_pattern_table_has_one_row_per_class_and_start():
    f1, f2 = torch.randn(3, 4, 3), torch.randn(3, 4, 3)
    table = pattern_divergence_table(f1, f2)
    assert list(table.columns) == ["class", "start", "kl", "reverse_kl", "js"]
    assert len(table) == 12
    row = table[(table["class"] == 2) & (table["start"] == 1)].iloc[0]
    assert row["kl"] == pytest.approx(kl_divergence(f1[2, 1], f2[2, 1]).item())
    assert row["reverse_kl"] == pytest.approx(kl_divergence(f2[2, 1], f1[2, 1]).item())


def test_summary_averages_classes_per_start_then_starts():
    long = pd.DataFrame({
        "f1": "a", "f2": "b",
        "class": [0, 1, 0, 1],
        "start": [0, 0, 1, 1],
        "kl": [1.0, 3.0, 5.0, 7.0],  # Dist_0 = 2, Dist_1 = 6
        "reverse_kl": 0.0, "js": 0.0,
    })
    summary = summarize_dist(long).iloc[0]
    assert summary["dist_mean"] == 4.0
    assert summary["dist_variance"] == pytest.approx(8.0)  # sample variance of (2, 6)
    assert summary["n_starts"] == 2
