"""Dist(f1, f2) = (1/C) sum_j KL(f1(x_j*) || f2(x_j*)), with reverse KL and Jensen-Shannon beside it,
and the relabeled reference: the same KL against f2 with its classes relabeled.

All divergences are in nats, from softmax outputs at temperature 1, computed in float64. This
module computes them per pattern, as a long table; `dist_table` averages that table into Dist.

The relabeled reference. Training f2 on its labels permuted by a relabeling of the classes
gives, in distribution, exactly f2 with its outputs permuted: the initialization and the
training recipe treat the classes alike. So f2 with its outputs permuted is a trained network
with f2's own confidence and features whose classes share nothing with f1's. kl_relabeled
averages KL(f1(x*) || roll(f2(x*), s)) over the C - 1 cyclic shifts s = 1 .. C-1 of f2's class
axis, which map every class to every other class exactly once. It costs no training and no
forward pass. Dist / relabeled Dist places a pair between the same function (0) and a trained
function whose classes are unrelated to f1's (1).

Where f1 is certain of class j on x_j* (probability 1), KL(f1 || q) = -log q_j, and
kl_relabeled = mean over k != j of -log q_k: large for a confident f2, about log C for a
near-uniform one. An untrained f2 is near uniform on f1's patterns, so its Dist is about
log C whatever the models learned: a scale, not evidence.
"""

import math

import pandas as pd
import torch
import torch.nn.functional as F


def kl_divergence(p_logits: torch.Tensor, q_logits: torch.Tensor) -> torch.Tensor:
    """KL(softmax(p) || softmax(q)) over the last dimension."""
    log_p = F.log_softmax(p_logits.double(), dim=-1)
    log_q = F.log_softmax(q_logits.double(), dim=-1)
    return (log_p.exp() * (log_p - log_q)).sum(-1)


def relabeled_kl_divergence(p_logits: torch.Tensor, q_logits: torch.Tensor) -> torch.Tensor:
    """The mean over the C - 1 non-identity cyclic shifts s of KL(softmax(p) || roll(softmax(q), s)).

    The shifts map each class k to every other class once, so the mean of log q over them is
    (sum_j log q_j - log q_k) / (C - 1): one pass instead of C - 1.
    """
    num_classes = q_logits.shape[-1]
    if num_classes < 2:
        raise ValueError(f"relabeling needs at least 2 classes, got {num_classes}")
    log_p = F.log_softmax(p_logits.double(), dim=-1)
    log_q = F.log_softmax(q_logits.double(), dim=-1)
    log_q_elsewhere = (log_q.sum(-1, keepdim=True) - log_q) / (num_classes - 1)
    return (log_p.exp() * (log_p - log_q_elsewhere)).sum(-1)


def js_divergence(p_logits: torch.Tensor, q_logits: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence of softmax(p) and softmax(q): bounded by log 2."""
    log_p = F.log_softmax(p_logits.double(), dim=-1)
    log_q = F.log_softmax(q_logits.double(), dim=-1)
    log_m = torch.logsumexp(torch.stack([log_p, log_q]), dim=0) - math.log(2)
    kl_pm = (log_p.exp() * (log_p - log_m)).sum(-1)
    kl_qm = (log_q.exp() * (log_q - log_m)).sum(-1)
    return 0.5 * (kl_pm + kl_qm)


def pattern_divergence_table(f1_logits: torch.Tensor, f2_logits: torch.Tensor) -> pd.DataFrame:
    """One row per (class, start): kl, reverse_kl, js and kl_relabeled of f1 and f2 on f1's pattern."""
    num_classes, starts = f1_logits.shape[:2]
    grid_class, grid_start = torch.meshgrid(
        torch.arange(num_classes), torch.arange(starts), indexing="ij"
    )
    return pd.DataFrame(
        {
            "class": grid_class.flatten().numpy(),
            "start": grid_start.flatten().numpy(),
            "kl": kl_divergence(f1_logits, f2_logits).flatten().numpy(),
            "reverse_kl": kl_divergence(f2_logits, f1_logits).flatten().numpy(),
            "js": js_divergence(f1_logits, f2_logits).flatten().numpy(),
            "kl_relabeled": relabeled_kl_divergence(f1_logits, f2_logits).flatten().numpy(),
        }
    )
