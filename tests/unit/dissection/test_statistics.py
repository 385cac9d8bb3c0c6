import math

import numpy as np
import pandas as pd
import pytest

from memdissect.dissection.statistics import (
    bootstrap_ci,
    bootstrap_dist_over_starts,
    bootstrap_over_seeds,
    ratio_of_means,
)


def test_percentile_interval_covers_a_known_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(12345)
    mu, repetitions = 1.7, 200
    covered = 0
    for repetition in range(repetitions):
        sample = rng.normal(mu, 1.0, size=40)
        estimate, low, high = bootstrap_ci(sample, n_resamples=1000, seed=repetition)
        assert estimate == pytest.approx(sample.mean())
        assert low < estimate < high
        covered += low <= mu <= high
    assert (
        0.88 <= covered / repetitions <= 0.99
    )  # a percentile interval at n = 40 runs slightly short of 95%


def test_interval_width_follows_the_confidence_and_the_statistic():
    sample = np.random.default_rng(0).normal(0.0, 1.0, size=60)
    _, low_90, high_90 = bootstrap_ci(sample, confidence=0.90)
    _, low_99, high_99 = bootstrap_ci(sample, confidence=0.99)
    assert low_99 < low_90 < high_90 < high_99
    assert high_90 - low_90 == pytest.approx(
        2 * 1.645 / math.sqrt(60), rel=0.2
    )  # normal theory, sd 1
    median, _, _ = bootstrap_ci(sample, statistic=np.median)
    assert median == pytest.approx(np.median(sample))


def test_same_seed_same_interval_other_seed_other_interval():
    sample = np.random.default_rng(1).exponential(size=25)
    assert bootstrap_ci(sample, seed=3) == bootstrap_ci(sample, seed=3)
    assert bootstrap_ci(sample, seed=3) != bootstrap_ci(sample, seed=4)


def test_a_single_value_has_no_interval_and_bad_arguments_are_refused():
    estimate, low, high = bootstrap_ci([2.5])
    assert estimate == 2.5 and math.isnan(low) and math.isnan(high)
    with pytest.raises(ValueError):
        bootstrap_ci([])
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 2.0], confidence=95)


def long_table(pair_kl: dict, pair_relabeled: dict | None = None) -> pd.DataFrame:
    """A long Dist table from {(f1, f2): kl as a classes x starts list}, and kl_relabeled alike (default 1)."""
    rows = []
    for (f1, f2), kl in pair_kl.items():
        relabeled = (pair_relabeled or {}).get((f1, f2), np.ones_like(kl))
        for class_index, per_start in enumerate(kl):
            for start, value in enumerate(per_start):
                rows.append(
                    {
                        "f1": f1,
                        "f2": f2,
                        "class": class_index,
                        "start": start,
                        "kl": value,
                        "reverse_kl": 0.0,
                        "js": 0.0,
                        "kl_relabeled": relabeled[class_index][start],
                    }
                )
    return pd.DataFrame(rows)


def test_interval_over_starts_by_hand():
    long = long_table(
        {
            # Dist_s = (2, 6): resampled means are 2, 4, 6 with probability 1/4, 1/2, 1/4
            ("a", "b"): [[1.0, 5.0], [3.0, 7.0]],
            # every start averages to 4 though single rows differ: resampling starts, not rows, gives no spread
            ("a", "c"): [[1.0, 7.0, 4.0], [7.0, 1.0, 4.0]],
        }
    )
    ci = bootstrap_dist_over_starts(long).set_index(["f1", "f2"])
    assert list(ci.columns) == [
        "dist_ci_low",
        "dist_ci_high",
        "relabeled_ratio_ci_low",
        "relabeled_ratio_ci_high",
    ]
    assert tuple(ci.loc[("a", "b")]) == (
        2.0,
        6.0,
        2.0,
        6.0,
    )  # relabeled Dist_s = 1: the ratio is Dist
    assert tuple(ci.loc[("a", "c")]) == pytest.approx((4.0, 4.0, 4.0, 4.0))


def test_interval_of_the_relabeled_ratio_resamples_starts_with_their_reference_by_hand():
    long = long_table({("a", "b"): [[2.0, 2.0]]}, {("a", "b"): [[1.0, 4.0]]})
    # starts (Dist_s, relabeled Dist_s) = (2, 1) and (2, 4): a resample of both starts twice gives 2/1 or
    # 2/4 (probability 1/4 each), of one of each (2 + 2) / (1 + 4) = 0.8 (probability 1/2); the mean of
    # the per-start ratios, 1.25, would be the wrong estimate
    ci = bootstrap_dist_over_starts(long).iloc[0]
    assert (ci["relabeled_ratio_ci_low"], ci["relabeled_ratio_ci_high"]) == (0.5, 2.0)
    assert (ci["dist_ci_low"], ci["dist_ci_high"]) == (2.0, 2.0)


def test_ratio_of_means_by_hand_and_over_rows():
    rows = np.array([[2.0, 1.0], [2.0, 4.0]])
    assert ratio_of_means(rows) == pytest.approx(0.8)
    assert bootstrap_ci(rows, ratio_of_means)[0] == pytest.approx(0.8)
    assert ratio_of_means(np.stack([rows, rows[::-1] * 2]), axis=1).tolist() == pytest.approx(
        [0.8, 0.8]
    )


def test_interval_over_starts_is_deterministic_and_independent_of_other_pairs():
    rng = np.random.default_rng(7)
    long = long_table(
        {
            ("a", "b"): rng.exponential(size=(3, 30)).tolist(),
            ("a", "c"): rng.exponential(size=(3, 30)).tolist(),
        }
    )
    both = bootstrap_dist_over_starts(long, seed=5)
    pd.testing.assert_frame_equal(both, bootstrap_dist_over_starts(long, seed=5))
    alone = bootstrap_dist_over_starts(long[long["f2"] == "c"], seed=5)
    pd.testing.assert_frame_equal(alone, both[both["f2"] == "c"].reset_index(drop=True))
    assert not both.equals(bootstrap_dist_over_starts(long, seed=6))


def test_interval_over_seeds_resamples_the_pairs_of_each_group():
    summary = pd.DataFrame(
        {
            "condition": ["true", "true", "true", "random", "random", "random"],
            "f2_network": ["vgg11-s2", "vgg11-s2", "vgg13-s1", "vgg11-s2", "vgg11-s2", "vgg13-s1"],
            "dist_mean": [1.0, 3.0, 0.5, 8.0, 8.0, 9.0],
        }
    )
    table = bootstrap_over_seeds(summary, ["condition", "f2_network"]).set_index(
        ["condition", "f2_network"]
    )
    assert list(table.columns) == ["mean", "ci_low", "ci_high", "n_pairs"]
    assert tuple(table.loc[("true", "vgg11-s2")]) == (2.0, 1.0, 3.0, 2)
    assert tuple(table.loc[("random", "vgg11-s2")]) == (8.0, 8.0, 8.0, 2)
    lone = table.loc[("true", "vgg13-s1")]
    assert lone["mean"] == 0.5 and math.isnan(lone["ci_low"]) and lone["n_pairs"] == 1
