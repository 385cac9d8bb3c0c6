"""Learn, then memorize, from the histories: when each group of samples is fitted, and what the summary says.

Pandas only, so the jobs that read histories start without torch. The groups and the history's columns are
memdissect.training.group_metrics': the clean samples (label = true label) and the relabeled ones (label != true
label), with the relabeled ones' accuracy on their assigned label and their share predicted as their true
class.

The table has one row per model: for each group the first epoch at which its train accuracy reaches each
threshold (50% and 99%; missing where it never does), its mean G over the epochs and the epoch of its
largest G; and the peak share of relabeled samples predicted as their true class, with its epoch. A group
counts as fitted at 99% (MEMORIZED), as the labels do in the summary's accuracy table.
"""

import math

import numpy as np
import pandas as pd

from memdissect.markdown import markdown_table

MEMORIZED = 0.99  # train accuracy at which the labels count as fitted

GROUPS = {
    "clean": "clean_train_acc",
    "relabeled": "relabeled_train_acc",
}  # group: its accuracy column
THRESHOLDS = (0.5, MEMORIZED)


def threshold_name(threshold: float) -> str:
    """A threshold as the table's columns name it: 0.5 -> "50", 0.99 -> "99"."""
    return f"{100 * threshold:g}"


def first_epoch_reaching(history: pd.DataFrame, column: str, threshold: float) -> int | None:
    """The first epoch whose column is at or above threshold, or None."""
    reached = history.loc[history[column] >= threshold, "epoch"]
    return int(reached.iloc[0]) if len(reached) else None


def peak(history: pd.DataFrame, column: str) -> tuple[float, int | None]:
    """(largest value, its first epoch) of a column; (NaN, None) where it has no value."""
    values = history[column].to_numpy(dtype=np.float64)
    if not np.isfinite(values).any():
        return math.nan, None
    at = int(np.nanargmax(values))
    return float(values[at]), int(history["epoch"].iloc[at])


def group_row(history: pd.DataFrame, group: str, thresholds) -> dict:
    """One group's epochs at the thresholds, its mean G and the epoch of its largest G."""
    accuracy, grad = GROUPS[group], f"{group}_grad_magnitude"
    row = {
        f"{group}_epoch_{threshold_name(t)}": first_epoch_reaching(history, accuracy, t)
        for t in thresholds
    }
    row[f"{group}_g_mean"] = history[grad].mean()
    row[f"{group}_g_peak_epoch"] = peak(history, grad)[1]
    return row


def learning_order_row(history: pd.DataFrame, thresholds=THRESHOLDS) -> dict:
    """The table's row of one history (sorted by epoch here)."""
    history = history.sort_values("epoch")
    true_class_peak, true_class_epoch = peak(history, "relabeled_true_class")
    row = {
        "epochs": int(history["epoch"].iloc[-1]),
        "clean_samples": int(history["clean_samples"].iloc[0]),
        "relabeled_samples": int(history["relabeled_samples"].iloc[0]),
    }
    for group in GROUPS:
        row.update(group_row(history, group, thresholds))
    return {**row, "true_class_peak": true_class_peak, "true_class_peak_epoch": true_class_epoch}


def learning_order_table(histories: dict, noise_of: dict, thresholds=THRESHOLDS) -> pd.DataFrame:
    """One row per model id of histories (model: history), with its noise level (noise_of: model: p)."""
    rows = [
        {"model": model, "noise": float(noise_of[model]), **learning_order_row(history, thresholds)}
        for model, history in histories.items()
    ]
    table = pd.DataFrame(rows)
    epochs = [column for column in table.columns if "_epoch" in column]
    table[epochs] = table[epochs].astype("Int64")  # missing where a group never got there
    return table


# ----------------------------------------------------------------------- what the summary says


def fitting_order(row, threshold: float = MEMORIZED) -> tuple[str, int | None]:
    """How one model's groups reached threshold: (kind, lead), lead = relabeled epoch - clean epoch.

    Kinds: "no relabeled samples", "neither", "clean never", "relabeled never" (lead: a lower bound, from
    the run's last epoch), "clean first", "same epoch", "relabeled first".
    """
    if row["relabeled_samples"] == 0:
        return "no relabeled samples", None
    clean, relabeled = (row[f"{group}_epoch_{threshold_name(threshold)}"] for group in GROUPS)
    clean, relabeled = (None if pd.isna(epoch) else int(epoch) for epoch in (clean, relabeled))
    if clean is None:
        return ("neither" if relabeled is None else "clean never"), None
    if relabeled is None:
        return "relabeled never", row["epochs"] + 1 - clean
    lead = relabeled - clean
    return ("clean first" if lead > 0 else "same epoch" if lead == 0 else "relabeled first"), lead


def models_phrase(models: list[str]) -> str:
    return f"{len(models)} model{'s' if len(models) != 1 else ''} ({', '.join(models)})"


def lead_phrase(leads: list[int]) -> str:
    """'by 6 epochs' or 'by 6 epochs (median; 4 to 9)'."""
    median = float(np.median(leads))
    text = f"by {median:g} epoch{'s' if median != 1 else ''}"
    return text if len(set(leads)) == 1 else f"{text} (median; {min(leads)} to {max(leads)})"


def order_clauses(kinds: dict, threshold: str) -> list[str]:
    """One clause per kind of fitting order that occurred, first the models where the clean samples led."""
    clauses = []
    if kinds.get("clean first"):
        models, leads = zip(*kinds["clean first"])
        clauses.append(
            f"the clean samples reached {threshold} before the relabeled ones in {len(models)} of "
            f"{sum(map(len, kinds.values()))} models, {lead_phrase(list(leads))}"
        )
    if kinds.get("relabeled never"):
        models, leads = zip(*kinds["relabeled never"])
        clauses.append(
            f"in {models_phrase(list(models))} the clean samples reached {threshold} and the relabeled "
            f"ones never did within the run (a lead of at least {min(leads)} epochs)"
        )
    if kinds.get("relabeled first"):
        models, leads = zip(*kinds["relabeled first"])
        clauses.append(
            f"in {models_phrase(list(models))} the clean samples were NOT fitted first: the relabeled "
            f"ones reached {threshold} earlier, {lead_phrase([-lead for lead in leads])}"
        )
    wording = {
        "same epoch": "both groups reached {t} in the same epoch",
        "clean never": "the clean samples never reached {t}, the relabeled ones did",
        "neither": "neither group reached {t}",
    }
    clauses += [
        f"in {models_phrase([model for model, _ in kinds[kind]])} " + text.format(t=threshold)
        for kind, text in wording.items()
        if kinds.get(kind)
    ]
    return clauses


def true_class_sentence(rows: pd.DataFrame) -> str:
    """The median peak share of relabeled samples predicted as their true class, and its epoch."""
    peaks = rows["true_class_peak"].dropna()
    if peaks.empty:
        return ""
    epochs = rows.loc[peaks.index, "true_class_peak_epoch"].astype(float)
    return (
        f" The share of relabeled samples predicted as their true class peaked at {100 * peaks.median():.0f}% "
        f"(the median over models of each one's peak; median epoch {epochs.median():g})."
    )


def fitting_kinds(rows: pd.DataFrame, threshold: float) -> dict:
    """The models of rows by their kind of fitting order at threshold: kind to [(model, lead), ...]."""
    kinds = {}
    for _, row in rows.iterrows():
        kind, lead = fitting_order(row, threshold)
        kinds.setdefault(kind, []).append((row["model"], lead))
    return kinds


def learning_order_sentence(noise: float, rows: pd.DataFrame, thresholds=THRESHOLDS) -> str:
    """What the models of one noise level show: at each threshold of train accuracy, which group of samples got
    there first and by how many epochs; then how many relabeled samples were predicted as their true class."""
    head = f"At p = {noise:g} ({len(rows)} model{'s' if len(rows) != 1 else ''})"
    if (rows["relabeled_samples"] == 0).all():
        return f"{head} no sample is relabeled: there is no order of fitting to measure."
    segments = [
        "; ".join(
            order_clauses(fitting_kinds(rows, threshold), f"{100 * threshold:g}% train accuracy")
        )
        for threshold in thresholds
    ]
    later = "".join(
        f" At {100 * threshold:g}%: {segment}."
        for threshold, segment in zip(thresholds[1:], segments[1:])
    )
    return f"{head}: {segments[0]}.{later}" + true_class_sentence(
        rows[rows["relabeled_samples"] > 0]
    )


def learning_order_sentences(table: pd.DataFrame, thresholds=THRESHOLDS) -> list[str]:
    """One sentence per noise level of the table, in increasing order of p."""
    return [
        learning_order_sentence(noise, rows, thresholds)
        for noise, rows in table.groupby("noise", sort=True)
    ]


def learning_order_section(table: pd.DataFrame, thresholds=THRESHOLDS) -> str:
    """summary.md's section: the table and one sentence per noise level; "" without rows."""
    if table.empty:
        return ""
    shown = table.astype(object).where(table.notna(), "")
    sentences = "\n\n".join(learning_order_sentences(table, thresholds))
    return (
        "## Learn, then memorize\n\nThe paper, after Arpit et al. (2017): a network fits the samples whose labels "
        "follow from the images first and memorizes the relabeled ones later. Per model trained on corrupted "
        "labels: the first epoch at which each group's train accuracy (on its assigned label) reaches each "
        "threshold, each group's mean G and the epoch of its largest G, and the peak share of relabeled samples "
        "predicted as their true class.\n\n" + markdown_table(shown) + f"\n\n{sentences}"
    )
