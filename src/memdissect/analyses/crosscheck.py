"""Cross-checks of two classifiers on the test images, beside Dist on the patterns.

Dist compares f1 and f2 where f1 is most confident (its own patterns). These measures compare
them on natural images instead: how far their softmax outputs are apart (mean KL in nats),
how often their predictions differ, and how alike their penultimate representations are
(linear CKA, from "Similarity of Neural Network Representations Revisited", 2019).

Each model's outputs are computed once, by the job that trains or imports it
(memdissect.training.train.test_outputs), so a study of N models needs N passes over the
test set, and every pair is then a cheap function of two stored outputs.
"""

import pandas as pd
import torch

from memdissect.dissection.distance import kl_divergence


def output_kl(logits_a: torch.Tensor, logits_b: torch.Tensor) -> float:
    """Mean over images of KL(softmax a || softmax b), in nats; logits are N x C."""
    return kl_divergence(logits_a, logits_b).mean().item()


def disagreement_rate(logits_a: torch.Tensor, logits_b: torch.Tensor) -> float:
    """The fraction of images on which the two predicted classes differ."""
    return (logits_a.argmax(-1) != logits_b.argmax(-1)).double().mean().item()


def test_error(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of images whose predicted class is not the label."""
    return (logits.argmax(-1) != labels).double().mean().item()


test_error.__test__ = False  # a measure, not a test, for pytest's collector


def linear_cka(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Linear CKA of N x D1 and N x D2 features: ||B'A||_F^2 / (||A'A||_F ||B'B||_F), columns centered.

    The feature-space (D x D) form: memory and time grow with N linearly, not as N x N Gram
    matrices. Computed in float64. In [0, 1]; 1 when one side is an orthogonal transform of
    the other times a scalar; NaN when either side is constant over the images.
    """
    a = features_a.double() - features_a.double().mean(0)  # N x D1
    b = features_b.double() - features_b.double().mean(0)  # N x D2
    cross = (b.T @ a).square().sum()  # ||B'A||_F^2
    scale = torch.linalg.matrix_norm(a.T @ a) * torch.linalg.matrix_norm(b.T @ b)
    return (cross / scale).item() if scale > 0 else float("nan")


def crosscheck_pair(
    outputs_a: tuple[torch.Tensor, torch.Tensor],
    outputs_b: tuple[torch.Tensor, torch.Tensor],
    labels: torch.Tensor,
) -> dict:
    """Every measure for one pair, from each model's (logits, features) on the same images."""
    (logits_a, features_a), (logits_b, features_b) = outputs_a, outputs_b
    return {
        "output_kl": output_kl(logits_a, logits_b),
        "reverse_output_kl": output_kl(logits_b, logits_a),
        "disagreement": disagreement_rate(logits_a, logits_b),
        "cka": linear_cka(features_a, features_b),
        "test_error_a": test_error(logits_a, labels),
        "test_error_b": test_error(logits_b, labels),
    }


def crosscheck_table(
    outputs: dict, pairs: list[tuple[str, str]], labels: torch.Tensor
) -> pd.DataFrame:
    """One row per pair (f1, f2) with the measures of `crosscheck_pair`; outputs maps model id to (logits, features)."""
    rows = [
        {"f1": f1, "f2": f2, **crosscheck_pair(outputs[f1], outputs[f2], labels)}
        for f1, f2 in pairs
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "f1",
            "f2",
            "output_kl",
            "reverse_output_kl",
            "disagreement",
            "cka",
            "test_error_a",
            "test_error_b",
        ],
    )
