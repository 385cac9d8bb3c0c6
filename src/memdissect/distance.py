"""Dist(f1, f2) = (1/C) sum_j KL(f1(x_j*) || f2(x_j*)), with reverse KL and Jensen-Shannon beside it.

All divergences are in nats, from softmax outputs at temperature 1, computed in float64.
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


def js_divergence(p_logits: torch.Tensor, q_logits: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence of softmax(p) and softmax(q): bounded by log 2."""
    log_p = F.log_softmax(p_logits.double(), dim=-1)
    log_q = F.log_softmax(q_logits.double(), dim=-1)
    log_m = torch.logsumexp(torch.stack([log_p, log_q]), dim=0) - math.log(2)
    kl_pm = (log_p.exp() * (log_p - log_m)).sum(-1)
    kl_qm = (log_q.exp() * (log_q - log_m)).sum(-1)
    return 0.5 * (kl_pm + kl_qm)


def pattern_divergence_table(f1_logits: torch.Tensor, f2_logits: torch.Tensor) -> pd.DataFrame:
    """One row per (class, start): kl, reverse_kl and js of f1 and f2 on f1's pattern."""
    num_classes, starts = f1_logits.shape[:2]
    grid_class, grid_start = torch.meshgrid(torch.arange(num_classes), torch.arange(starts), indexing="ij")
    return pd.DataFrame({
        "class": grid_class.flatten().numpy(),
        "start": grid_start.flatten().numpy(),
        "kl": kl_divergence(f1_logits, f2_logits).flatten().numpy(),
        "reverse_kl": kl_divergence(f2_logits, f1_logits).flatten().numpy(),
        "js": js_divergence(f1_logits, f2_logits).flatten().numpy(),
    })


MEASURES = ("kl", "reverse_kl", "js")


def dist_per_start(long: pd.DataFrame, keys=("f1", "f2")) -> pd.DataFrame:
    """Dist_s: each measure averaged over classes, one row per pair and start."""
    return long.groupby([*keys, "start"], as_index=False)[list(MEASURES)].mean()


def summarize_dist(long: pd.DataFrame, keys=("f1", "f2")) -> pd.DataFrame:
    """Per pair: Dist as the mean over starts of Dist_s, its variance over starts, and the starts used."""
    per_start = dist_per_start(long, keys)
    grouped = per_start.groupby(list(keys), sort=False)
    summary = grouped["kl"].agg(dist_mean="mean", dist_variance="var", n_starts="count").reset_index()
    summary["reverse_kl_mean"] = grouped["reverse_kl"].mean().to_numpy()
    summary["js_mean"] = grouped["js"].mean().to_numpy()
    return summary
