"""Paths in function space, summarized: the seeds' divergence per epoch and along the whole run, with
bootstrap intervals over seed pairs, and the spread of the epoch at which the runs fit their labels.

Pandas only. The input is `function_paths.pairwise_path_table`'s long table (run_a, run_b, split, epoch,
disagreement, sym_kl) with the columns that name a model group added (say condition and name).

The intervals resample seed pairs, as statistics.bootstrap_over_seeds does for Dist. The pairs of N seeds
share their seeds, so they are not independent: the interval is narrower than one from resampling seeds
and reads as the spread of the pairs at hand, not as a test. With two seeds there is one pair and no
interval (NaN).
"""

import numpy as np
import pandas as pd

from memdissect.analyses.learning_order_summary import MEMORIZED, first_epoch_reaching
from memdissect.dissection.statistics import bootstrap_groups
from memdissect.markdown import markdown_table

PATH_MEASURES = ("disagreement", "sym_kl")
MEASURE_LABELS = {"disagreement": "disagreement (share of probes)", "sym_kl": "symmetric KL [nats]"}
SPLIT_LABELS = {"train": "training probe", "test": "test probe"}


def measures_long(pairs: pd.DataFrame, keys) -> pd.DataFrame:
    """One row per pair, split, epoch and measure: keys, run_a, run_b, split, epoch, measure, value."""
    return pairs.melt(
        id_vars=[*keys, "run_a", "run_b", "split", "epoch"],
        value_vars=list(PATH_MEASURES),
        var_name="measure",
        value_name="value",
    )


def path_divergence_by_epoch(
    pairs: pd.DataFrame, keys=("condition", "name"), **bootstrap
) -> pd.DataFrame:
    """Per model group (keys), split, measure and epoch: the mean over seed pairs, its bootstrap interval and
    the number of pairs; bootstrap: n_resamples, confidence, seed (statistics.bootstrap_ci)."""
    groups = [*keys, "split", "measure", "epoch"]
    return bootstrap_groups(measures_long(pairs, keys), groups, "value", **bootstrap).rename(
        columns={"n": "n_pairs"}
    )


def path_divergence_overall(
    pairs: pd.DataFrame, keys=("condition", "name"), **bootstrap
) -> pd.DataFrame:
    """Per model group, split and measure: the mean over seed pairs of each pair's mean over epochs (how far
    apart two paths run, on average along the run), with its interval over pairs."""
    long = measures_long(pairs, keys)
    per_pair = long.groupby(
        [*keys, "split", "measure", "run_a", "run_b"], as_index=False, sort=False
    )["value"].mean()
    return bootstrap_groups(per_pair, [*keys, "split", "measure"], "value", **bootstrap).rename(
        columns={"n": "n_pairs"}
    )


def fit_epoch_spread(histories: dict, threshold: float = MEMORIZED) -> dict:
    """Over the runs of one model group (histories: run: history), the first epoch at which each reaches
    threshold train accuracy: how many runs, how many got there, and the mean, standard deviation (over
    runs, ddof 1), minimum and maximum of that epoch among them."""
    epochs = [
        first_epoch_reaching(history.sort_values("epoch"), "train_acc", threshold)
        for history in histories.values()
    ]
    fitted = np.array([epoch for epoch in epochs if epoch is not None], dtype=np.float64)
    spread = {
        "fit_epoch_mean": np.nan,
        "fit_epoch_std": np.nan,
        "fit_epoch_min": np.nan,
        "fit_epoch_max": np.nan,
    }
    if len(fitted):
        spread.update(
            fit_epoch_mean=fitted.mean(), fit_epoch_min=fitted.min(), fit_epoch_max=fitted.max()
        )
    if len(fitted) > 1:
        spread["fit_epoch_std"] = fitted.std(ddof=1)
    return {"runs": len(epochs), "runs_fitted": len(fitted), **spread}


def fit_epoch_table(
    groups: dict, threshold: float = MEMORIZED, keys=("condition", "name")
) -> pd.DataFrame:
    """One row per model group: groups maps the group's key values (a tuple in the order of keys) to its
    runs' histories."""
    rows = [
        {**dict(zip(keys, group)), **fit_epoch_spread(histories, threshold)}
        for group, histories in groups.items()
    ]
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------- what the summary says


def interval_text(row, scale: float = 1.0, unit: str = "") -> str:
    if np.isnan(row["ci_low"]):
        return f"{scale * row['mean']:.3g}{unit} (one pair: no interval)"
    return f"{scale * row['mean']:.3g}{unit} [{scale * row['ci_low']:.3g}, {scale * row['ci_high']:.3g}]"


def path_sentence(
    overall: pd.DataFrame, name: str, true_condition: str, random_condition: str
) -> str:
    """For one model group (name) on X_T and X_R: how often two seeds disagree on each probe along the run,
    and whether the X_R paths lie farther apart, intervals disjoint or not."""
    rows = overall[(overall["name"] == name) & (overall["measure"] == "disagreement")].set_index(
        ["condition", "split"]
    )
    parts = []
    for split in ("train", "test"):
        if (true_condition, split) not in rows.index or (random_condition, split) not in rows.index:
            continue
        learned, memorized = rows.loc[(true_condition, split)], rows.loc[(random_condition, split)]
        order = "farther apart" if memorized["mean"] > learned["mean"] else "NOT farther apart"
        disjoint = (
            memorized["ci_low"] > learned["ci_high"] or learned["ci_low"] > memorized["ci_high"]
        )
        parts.append(
            f"on the {SPLIT_LABELS[split]}, two seeds disagree on {interval_text(learned, 100, '%')} of the "
            f"probes per epoch on X_T and on {interval_text(memorized, 100, '%')} on X_R: the X_R paths "
            f"are {order}{' (the intervals are disjoint)' if disjoint else ''}"
        )
    if not parts:
        return f"{name}: no pair of seeds on both X_T and X_R, so there are no paths to compare."
    return f"{name}, averaged over the epochs: " + "; ".join(parts) + "."


def path_section(
    overall: pd.DataFrame, fit_epochs: pd.DataFrame, true_condition, random_condition
) -> str:
    """summary.md's section: the seeds' divergence along the run per model group, the spread of their fit
    epochs, and one sentence per model name on X_T against X_R; "" without rows."""
    if overall.empty:
        return ""
    shown = overall.assign(interval=[interval_text(row) for _, row in overall.iterrows()])
    table = shown.pivot_table(
        index=["name", "condition", "n_pairs"],
        columns=["measure", "split"],
        values="interval",
        aggfunc="first",
        sort=False,
    )
    columns = [
        (measure, split)
        for measure in PATH_MEASURES
        for split in SPLIT_LABELS
        if (measure, split) in table
    ]
    table = table[columns]
    table.columns = [f"{measure} on the {SPLIT_LABELS[split]}" for measure, split in columns]
    sentences = "\n\n".join(
        path_sentence(overall, name, true_condition, random_condition)
        for name in dict.fromkeys(overall["name"])
    )
    return (
        "## Paths in function space\n\nThe paper (Figure 4): on X_T the seeds follow similar paths, on X_R "
        "different ones. Each run's predictions on a fixed probe set of training and test images, epoch by "
        "epoch; between every two seeds of a model group, the share of probes they disagree on and the "
        "symmetric KL [nats], averaged over the epochs, mean over seed pairs [bootstrap interval over pairs; "
        "the pairs share seeds, so it reads as their spread, not as a test].\n\n"
        + markdown_table(table.reset_index())
        + "\n\nThe first epoch at which each run reaches "
        f"{100 * MEMORIZED:g}% train accuracy, over the seeds of each group:\n\n"
        + markdown_table(fit_epochs)
        + f"\n\n{sentences}"
    )
