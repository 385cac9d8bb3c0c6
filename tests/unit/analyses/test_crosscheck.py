import math

import pytest
import torch

from memdissect.analyses import crosscheck
from memdissect.analyses.crosscheck import (
    crosscheck_pair,
    disagreement_rate,
    linear_cka,
    output_kl,
)


@pytest.fixture
def features():
    return torch.randn(500, 12, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def random_orthogonal(size: int, seed: int) -> torch.Tensor:
    q, r = torch.linalg.qr(
        torch.randn(size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    )
    return q * torch.sign(torch.diagonal(r))  # Haar-distributed, not just any orthogonal matrix


def sample_space_cka(a: torch.Tensor, b: torch.Tensor) -> float:
    """Linear CKA from N x N Gram matrices, HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)): a second formula."""
    n = len(a)
    h = torch.eye(n, dtype=torch.float64) - 1.0 / n
    k, m = h @ (a @ a.T) @ h, h @ (b @ b.T) @ h
    return ((k * m).sum() / ((k * k).sum() * (m * m).sum()).sqrt()).item()


def test_cka_of_identical_features_is_one(features):
    assert linear_cka(features, features) == pytest.approx(1.0, abs=1e-12)


def test_cka_ignores_orthogonal_transforms_and_isotropic_scaling(features):
    other = torch.tanh(
        features
        @ torch.randn(12, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    )
    reference = linear_cka(features, other)
    assert 0.05 < reference < 0.95  # a case where invariance means something
    assert linear_cka(features @ random_orthogonal(12, 2), other) == pytest.approx(
        reference, abs=1e-12
    )
    assert linear_cka(features, other @ random_orthogonal(7, 3)) == pytest.approx(
        reference, abs=1e-12
    )
    assert linear_cka(3.5 * features, other) == pytest.approx(reference, abs=1e-12)
    assert linear_cka(features, 0.01 * other + 4.0) == pytest.approx(
        reference, abs=1e-12
    )  # shift: centered


def test_cka_changes_under_non_isotropic_scaling(features):
    stretched = features * torch.linspace(0.1, 10.0, 12, dtype=torch.float64)
    assert linear_cka(features, stretched) < 0.9


def test_cka_matches_the_gram_matrix_form_and_the_squared_correlation_in_one_dimension(features):
    other = features[:, :5] ** 2 + features[:, 5:10]
    assert linear_cka(features, other) == pytest.approx(
        sample_space_cka(features, other), abs=1e-10
    )
    x, y = features[:, :1], features[:, :1] + features[:, 1:2]
    correlation = torch.corrcoef(torch.cat([x, y], 1).T)[0, 1].item()
    assert linear_cka(x, y) == pytest.approx(
        correlation**2, abs=1e-12
    )  # by hand: 1/2 in expectation


def test_cka_of_a_constant_side_is_nan(features):
    assert math.isnan(linear_cka(features, torch.ones(500, 3)))


def test_disagreement_rate_by_hand():
    a = torch.tensor([[5.0, 0, 0], [0, 5, 0], [0, 0, 5], [0, 5, 0]])  # predicts 0, 1, 2, 1
    b = torch.tensor([[5.0, 0, 0], [0, 0, 5], [0, 0, 5], [5, 0, 0]])  # predicts 0, 2, 2, 0
    assert disagreement_rate(a, b) == 0.5
    assert disagreement_rate(a, a) == 0.0


def test_output_kl_is_the_mean_over_images_by_hand():
    p = torch.tensor([0.5, 0.5], dtype=torch.float64).log()
    q = torch.tensor([0.9, 0.1], dtype=torch.float64).log()
    kl_pq = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    # image 1: KL(p || q); image 2: identical outputs (shifted logits), KL 0
    assert output_kl(torch.stack([p, q]), torch.stack([q, q + 2.0])) == pytest.approx(
        kl_pq / 2, abs=1e-12
    )


def test_test_error_by_hand():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])  # predicts 0, 1, 0, 1
    assert crosscheck.test_error(logits, torch.tensor([0, 0, 0, 0])) == 0.5
    assert crosscheck.test_error(logits, torch.tensor([0, 1, 1, 1])) == 0.25


def test_crosscheck_pair_names_every_measure_and_is_zero_for_a_model_with_itself():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 4.0]])
    features = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 2, 2])
    same = crosscheck_pair((logits, features), (logits, features), labels)
    assert same == pytest.approx(
        {
            "output_kl": 0.0,
            "reverse_output_kl": 0.0,
            "disagreement": 0.0,
            "cka": 1.0,
            "test_error_a": 1 / 3,
            "test_error_b": 1 / 3,
        },
        abs=1e-6,
    )
    flipped = crosscheck_pair((logits, features), (-logits, features), labels)
    assert (
        flipped["disagreement"] == 1.0
        and flipped["output_kl"] > 0.5
        and flipped["test_error_b"] == 1.0
    )
