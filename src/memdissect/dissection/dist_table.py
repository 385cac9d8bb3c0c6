"""Dist from the long table of divergences that `distance.pattern_divergence_table` writes: per start,
and per pair with its relabeled reference.

Pandas only, so the jobs that read and draw these tables start without torch.
"""

import math

import pandas as pd

UNTRAINED_LABEL = (
    "untrained network (≈ log C when f1 is certain)"  # how tables and figures name that f2
)
LOOKUP_LABEL = "k-NN lookup table of f1's labels"  # how tables and figures name the lookup table (design.LOOKUP)
MEASURES = ("kl", "reverse_kl", "js", "kl_relabeled")


def dist_per_start(long: pd.DataFrame, keys=("f1", "f2")) -> pd.DataFrame:
    """Dist_s: each measure averaged over classes, one row per pair and start."""
    missing = [measure for measure in MEASURES if measure not in long.columns]
    if missing:
        raise ValueError(
            f"the Dist table lacks the columns {missing}; it needs {list(MEASURES)} (a table made "
            "before kl_relabeled existed must be made again)"
        )
    return long.groupby([*keys, "start"], as_index=False)[list(MEASURES)].mean()


def summarize_dist(long: pd.DataFrame, keys=("f1", "f2")) -> pd.DataFrame:
    """Per pair: Dist as the mean over starts of Dist_s, its variance over starts, the starts used, the
    mean reverse KL and JS, the relabeled reference relabeled_mean and relabeled_ratio = dist_mean /
    relabeled_mean (0: the same function, 1: as far apart as f2 with its classes relabeled)."""
    per_start = dist_per_start(long, keys)
    grouped = per_start.groupby(list(keys), sort=False)
    summary = (
        grouped["kl"].agg(dist_mean="mean", dist_variance="var", n_starts="count").reset_index()
    )
    summary["reverse_kl_mean"] = grouped["reverse_kl"].mean().to_numpy()
    summary["js_mean"] = grouped["js"].mean().to_numpy()
    summary["relabeled_mean"] = grouped["kl_relabeled"].mean().to_numpy()
    summary["relabeled_ratio"] = summary["dist_mean"] / summary["relabeled_mean"]
    return summary


def relabeled_position(ratio: float, low: float, high: float) -> str:
    """Where a pair lies between the same function (ratio 0) and an unrelated trained function (1), read
    from Dist / relabeled Dist and its interval."""
    if math.isnan(low) or math.isnan(high):
        return f"{'below' if ratio < 1 else 'at or above'} 1 by its estimate alone (one start: no interval)"
    if high < 1:
        return "closer to f1 than an unrelated trained function"
    if low > 1:
        return "farther from f1 than an unrelated trained function"
    return "no closer to f1 than an unrelated trained function (the interval holds 1)"
