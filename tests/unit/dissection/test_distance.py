import math

import pytest
import torch

from memdissect.dissection.dist_table import summarize_dist
from memdissect.dissection.distance import (
    js_divergence,
    kl_divergence,
    pattern_divergence_table,
    relabeled_kl_divergence,
)
from memdissect.dissection.patterns import logits_on_patterns, synthesize_patterns
from memdissect.study.settings import ClassifierSettings, GanSettings, PatternSettings
from memdissect.training.gan import build_gan
from memdissect.training.train import build_classifier, build_untrained_twin


def logits_of(probabilities):
    return torch.tensor(probabilities, dtype=torch.float64).log()


def test_kl_of_two_coins_by_hand():
    p, q = logits_of([0.5, 0.5]), logits_of([0.9, 0.1])
    # KL(p||q) = 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1)
    assert kl_divergence(p, q).item() == pytest.approx(
        0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(5), abs=1e-12
    )
    # reverse: 0.9 ln(0.9/0.5) + 0.1 ln(0.1/0.5)
    assert kl_divergence(q, p).item() == pytest.approx(
        0.9 * math.log(1.8) + 0.1 * math.log(0.2), abs=1e-12
    )


def test_js_by_hand_and_its_bounds():
    p, q = logits_of([1.0, 1e-300]), logits_of([1e-300, 1.0])
    assert js_divergence(p, q).item() == pytest.approx(math.log(2), abs=1e-9)  # disjoint supports
    p, q = logits_of([0.5, 0.5]), logits_of([0.9, 0.1])
    m = [0.7, 0.3]  # the mixture (p + q) / 2
    expected = 0.5 * (0.5 * math.log(0.5 / m[0]) + 0.5 * math.log(0.5 / m[1])) + 0.5 * (
        0.9 * math.log(0.9 / m[0]) + 0.1 * math.log(0.1 / m[1])
    )
    assert js_divergence(p, q).item() == pytest.approx(expected, abs=1e-12)
    assert js_divergence(p, q).item() == pytest.approx(js_divergence(q, p).item(), abs=1e-15)


def test_divergences_vanish_for_equal_outputs_and_ignore_logit_shifts():
    logits = torch.randn(4, 5, 10)
    assert kl_divergence(logits, logits + 3.0).abs().max() < 1e-12
    assert js_divergence(logits, logits).abs().max() < 1e-12


def test_pattern_table_has_one_row_per_class_and_start():
    f1, f2 = torch.randn(3, 4, 3), torch.randn(3, 4, 3)
    table = pattern_divergence_table(f1, f2)
    assert list(table.columns) == ["class", "start", "kl", "reverse_kl", "js", "kl_relabeled"]
    assert len(table) == 12
    row = table[(table["class"] == 2) & (table["start"] == 1)].iloc[0]
    assert row["kl"] == pytest.approx(kl_divergence(f1[2, 1], f2[2, 1]).item())
    assert row["reverse_kl"] == pytest.approx(kl_divergence(f2[2, 1], f1[2, 1]).item())
    assert row["kl_relabeled"] == pytest.approx(relabeled_kl_divergence(f1[2, 1], f2[2, 1]).item())


def test_relabeled_kl_of_three_classes_by_hand():
    p, q = logits_of([0.5, 0.3, 0.2]), logits_of([0.6, 0.3, 0.1])
    # the two non-identity cyclic shifts of q: (0.1, 0.6, 0.3) and (0.3, 0.1, 0.6)
    shift_1 = 0.5 * math.log(0.5 / 0.1) + 0.3 * math.log(0.3 / 0.6) + 0.2 * math.log(0.2 / 0.3)
    shift_2 = 0.5 * math.log(0.5 / 0.3) + 0.3 * math.log(0.3 / 0.1) + 0.2 * math.log(0.2 / 0.6)
    assert relabeled_kl_divergence(p, q).item() == pytest.approx((shift_1 + shift_2) / 2, abs=1e-12)


def test_relabeled_kl_of_a_certain_f1_is_the_mean_surprise_of_the_other_classes():
    p = logits_of([1.0, 1e-300, 1e-300, 1e-300])  # f1 certain of class 0
    q = logits_of([0.97, 0.01, 0.01, 0.01])  # a confident f2 that agrees
    assert kl_divergence(p, q).item() == pytest.approx(-math.log(0.97), abs=1e-9)
    # each shift puts one of q's 0.01 on class 0: -log 0.01, far above the agreeing pair's KL
    assert relabeled_kl_divergence(p, q).item() == pytest.approx(-math.log(0.01), abs=1e-9)
    uniform = torch.zeros(4, dtype=torch.float64)
    assert relabeled_kl_divergence(p, uniform).item() == pytest.approx(
        math.log(4), abs=1e-9
    )  # = KL: log C


def test_relabeled_kl_of_a_function_with_itself_is_not_zero_and_one_class_is_refused():
    logits = torch.randn(3, 5, 10)
    assert kl_divergence(logits, logits).abs().max() < 1e-12
    assert (relabeled_kl_divergence(logits, logits) > 0.01).all()
    with pytest.raises(ValueError, match="at least 2 classes"):
        relabeled_kl_divergence(torch.zeros(2, 1), torch.zeros(2, 1))


def test_relabeled_kl_equals_the_mean_over_every_non_identity_cyclic_shift():
    generator = torch.Generator().manual_seed(0)
    p, q = torch.randn(3, 4, 7, generator=generator), torch.randn(3, 4, 7, generator=generator)
    shifted = torch.stack([kl_divergence(p, q.roll(shift, dims=-1)) for shift in range(1, 7)]).mean(
        0
    )
    torch.testing.assert_close(relabeled_kl_divergence(p, q), shifted, rtol=0, atol=1e-12)


def test_dist_of_a_model_with_itself_is_zero():
    generator, _ = build_gan(GanSettings(width=0.125), "cpu")
    settings = ClassifierSettings(arch="vgg11", width=0.125)
    model = build_classifier(settings, "cpu")
    patterns = synthesize_patterns(
        model, generator, 10, PatternSettings(starts=3, iterations=4), "cpu", log=lambda *_: None
    )
    table = pattern_divergence_table(patterns.logits, logits_on_patterns(model, patterns.x, "cpu"))
    assert table[["kl", "reverse_kl", "js"]].abs().max().max() < 1e-6
    other = pattern_divergence_table(
        patterns.logits,
        logits_on_patterns(build_untrained_twin(settings, "cpu"), patterns.x, "cpu"),
    )
    assert other["kl"].mean() > 1e-3  # a different network is not at distance zero


def test_summary_of_a_pair_with_itself_is_zero():
    logits = torch.randn(4, 5, 10)
    table = pattern_divergence_table(logits, logits).assign(f1="a", f2="a")
    assert summarize_dist(table)["dist_mean"].item() == pytest.approx(0.0, abs=1e-12)
