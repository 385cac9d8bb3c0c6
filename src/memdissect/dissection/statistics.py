"""Percentile-bootstrap confidence intervals for Dist: over pattern starts, and over seeds.

Resampling is deterministic: every call draws from numpy's PCG64 generator seeded with `seed`,
and every group of a table is resampled with the same seed, so a group's interval does not
depend on which other groups share the table or on their order.
"""

import numpy as np
import pandas as pd

from memdissect.dissection.dist_table import dist_per_start, summarize_dist
from memdissect.study.settings import BOOTSTRAP

MAX_RESAMPLED_VALUES = 2**22  # values drawn per block of resamples: bounds memory for long inputs


def resample_statistics(
    values: np.ndarray, statistic, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """The statistic of n_resamples resamples (with replacement) of the rows of values, drawn in blocks."""
    n = len(values)
    rows_per_block = max(1, MAX_RESAMPLED_VALUES // values.size)
    parts = []
    for done in range(0, n_resamples, rows_per_block):
        index = rng.integers(0, n, size=(min(rows_per_block, n_resamples - done), n))  # R x n
        parts.append(np.asarray(statistic(values[index], axis=1)))  # values[index]: R x n (x k)
    return np.concatenate(parts)


def ratio_of_means(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """mean(numerator) / mean(denominator) of rows (numerator, denominator) along axis."""
    means = np.mean(values, axis=axis)
    return means[..., 0] / means[..., 1]


def bootstrap_ci(
    values,
    statistic=np.mean,
    n_resamples: int = BOOTSTRAP["n_resamples"],
    confidence: float = BOOTSTRAP["confidence"],
    seed: int = BOOTSTRAP["seed"],
) -> tuple[float, float, float]:
    """(estimate, low, high): the statistic of values and its percentile-bootstrap interval.

    values: n values, or n rows of k values that are resampled together (as `ratio_of_means`
    needs). statistic must take an `axis` keyword, as np.mean and np.median do, and reduce the
    rows along it. With fewer than two rows there is nothing to resample and the interval is
    (NaN, NaN).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be positive, got {n_resamples!r}")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (1, 2) or len(values) == 0:
        raise ValueError(
            f"values must be a non-empty sequence of values or of rows, got shape {values.shape}"
        )
    estimate = float(statistic(values[None], axis=1)[0])
    if len(values) < 2:
        return estimate, float("nan"), float("nan")
    rng = np.random.Generator(np.random.PCG64(seed))
    resampled = resample_statistics(values, statistic, n_resamples, rng)
    alpha = 1 - confidence
    low, high = np.quantile(resampled, [alpha / 2, 1 - alpha / 2])
    return estimate, float(low), float(high)


def bootstrap_groups(
    table: pd.DataFrame, keys: list[str], value, statistic=np.mean, **bootstrap
) -> pd.DataFrame:
    """Per group of keys: the statistic of value (a column, or a list of columns resampled together as
    rows), its bootstrap interval and the number of rows resampled."""
    rows = []
    for group, rows_of_group in table.groupby(keys, sort=False):
        estimate, low, high = bootstrap_ci(rows_of_group[value].to_numpy(), statistic, **bootstrap)
        rows.append(
            {
                **dict(zip(keys, group)),
                "mean": estimate,
                "ci_low": low,
                "ci_high": high,
                "n": len(rows_of_group),
            }
        )
    return pd.DataFrame(rows, columns=[*keys, "mean", "ci_low", "ci_high", "n"])


def bootstrap_dist_over_starts(
    long: pd.DataFrame,
    keys=("f1", "f2"),
    measure: str = "kl",
    n_resamples: int = BOOTSTRAP["n_resamples"],
    confidence: float = BOOTSTRAP["confidence"],
    seed: int = BOOTSTRAP["seed"],
) -> pd.DataFrame:
    """Per pair: the intervals of Dist (the mean over starts of Dist_s) and of relabeled_ratio (Dist over
    the relabeled reference, a ratio of two means over starts) from resampling whole starts.

    The long table has one row per (pair, class, start); Dist_s averages the classes of one
    start first, so a resample keeps each start's classes together, and a start's Dist_s and
    relabeled Dist_s stay paired. Columns: the keys, dist_ci_low, dist_ci_high,
    relabeled_ratio_ci_low, relabeled_ratio_ci_high; they merge onto `summarize_dist`'s table by the keys.
    """
    per_start = dist_per_start(long, keys)
    bootstrap = {"n_resamples": n_resamples, "confidence": confidence, "seed": seed}
    dist = bootstrap_groups(per_start, list(keys), measure, **bootstrap)
    ratio = bootstrap_groups(
        per_start, list(keys), [measure, "kl_relabeled"], ratio_of_means, **bootstrap
    )
    return pd.DataFrame(
        {
            **{key: dist[key] for key in keys},
            "dist_ci_low": dist["ci_low"],
            "dist_ci_high": dist["ci_high"],
            "relabeled_ratio_ci_low": ratio["ci_low"],
            "relabeled_ratio_ci_high": ratio["ci_high"],
        }
    )


def dist_summary_with_intervals(long: pd.DataFrame, keys=("f1", "f2"), **bootstrap) -> pd.DataFrame:
    """Per pair: `summarize_dist`'s numbers and `bootstrap_dist_over_starts`' intervals, the columns of
    dist_summary; the one assembly of a Dist summary, for the workflow's table and the API's DistResult."""
    return summarize_dist(long, keys).merge(
        bootstrap_dist_over_starts(long, keys, **bootstrap), on=list(keys)
    )


def bootstrap_over_seeds(
    summary: pd.DataFrame,
    group_keys,
    value: str = "dist_mean",
    n_resamples: int = BOOTSTRAP["n_resamples"],
    confidence: float = BOOTSTRAP["confidence"],
    seed: int = BOOTSTRAP["seed"],
) -> pd.DataFrame:
    """Per group (say condition and f2 network): the mean of value over its pairs and its interval
    from resampling the pairs. Columns: the group keys, mean, ci_low, ci_high, n_pairs; a group
    of one pair has no interval (NaN).
    """
    ci = bootstrap_groups(
        summary, list(group_keys), value, n_resamples=n_resamples, confidence=confidence, seed=seed
    )
    return ci.rename(columns={"n": "n_pairs"})
