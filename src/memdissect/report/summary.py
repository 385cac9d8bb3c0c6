"""results/summary.md: the study's numbers beside the paper's.

Each section shows a table only where the study has rows for it, and states only the verdicts its
rows support: a section without rows is "" and left out of the file.
"""

import pandas as pd

from memdissect.analyses.learning_order_summary import MEMORIZED
from memdissect.dissection.dist_table import (
    LOOKUP_LABEL,
    UNTRAINED_LABEL,
    relabeled_position,
)
from memdissect.markdown import interval, markdown_table, ratio_interval
from memdissect.study.design import LOOKUP, UNTRAINED

PAPER_TRAIN_ACCURACY = 1.0
PAPER_TEST_ACCURACY = {0.0: "83.73%", 1.0: "about 10%"}  # VGG11 on X_T and X_R, CIFAR-10
REFERENCE_LABELS = {
    UNTRAINED: UNTRAINED_LABEL,
    LOOKUP: LOOKUP_LABEL,
}  # the f2 that are no trained network


def percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def accuracy_section(network: str, histories: dict) -> str:
    """histories: (condition, noise) -> history of the network in that condition; "" without any."""
    if not histories:
        return ""
    rows = []
    for (condition, noise), history in histories.items():
        last = history.iloc[-1]
        paper = PAPER_TEST_ACCURACY.get(float(noise), "not reported")
        rows.append(
            {
                "condition": condition,
                "p": noise,
                "epochs": int(last["epoch"]),
                "train accuracy": percent(last["train_acc"]),
                "test accuracy": percent(last["test_acc"]),
                f"first epoch with train accuracy >= {percent(MEMORIZED)}": first_epoch_at(
                    history, MEMORIZED
                ),
                "paper (train / test)": f"{percent(PAPER_TRAIN_ACCURACY)} / {paper}",
            }
        )
    return (
        f"## Accuracy of {network}\n\n"
        + markdown_table(pd.DataFrame(rows))
        + "\n\nTrain accuracy is the "
        "running accuracy of the last epoch's training steps; at a constant learning rate it can dip for an "
        "epoch after the labels were fitted, which the first epoch at the threshold shows."
    )


def first_epoch_at(history: pd.DataFrame, threshold: float) -> str:
    """The first epoch whose train accuracy reaches threshold, or "never"."""
    reached = history[history["train_acc"] >= threshold]
    return str(int(reached["epoch"].iloc[0])) if len(reached) else "never"


def f2_label(f2_network: str) -> str:
    """The f2 as the summary shows it: the untrained network and the lookup table by what they are."""
    return REFERENCE_LABELS.get(f2_network, f2_network)


def position_sentence(condition: str, rows) -> str:
    """One sentence per condition: each f2's Dist / relabeled Dist with its interval and what it says."""
    parts = [
        f"f2 = {f2} at {row['relabeled_ratio']:.2g} [{row['relabeled_ratio_ci_low']:.2g}, "
        f"{row['relabeled_ratio_ci_high']:.2g}], "
        + relabeled_position(
            row["relabeled_ratio"], row["relabeled_ratio_ci_low"], row["relabeled_ratio_ci_high"]
        )
        for f2, row in rows
    ]
    return f"On {condition}: " + "; ".join(parts) + "."


def ordering_sentence(learned_and_memorized: list) -> str:
    """Whether Dist on X_R is above Dist on X_T for every trained f2, and where the intervals are disjoint."""
    if not learned_and_memorized:
        return "No trained f2 has a pair on both X_T and X_R: there is no ordering to compare with the paper's."
    below = [
        f2
        for f2, learned, memorized in learned_and_memorized
        if not memorized["dist_mean"] > learned["dist_mean"]
    ]
    disjoint = sum(
        memorized["dist_ci_low"] > learned["dist_ci_high"]
        for _, learned, memorized in learned_and_memorized
    )
    verdict = (
        "Dist on X_R is above Dist on X_T for every f2, as in the paper."
        if not below
        else f"Dist on X_R is NOT above Dist on X_T for f2 = {', '.join(below)}, unlike the paper."
    )
    return (
        f"{verdict} The 95% interval on X_R lies wholly above the one on X_T for {disjoint} of "
        f"{len(learned_and_memorized)} f2."
    )


DIST_INTRO = (
    'The paper: Dist on X_T is far below Dist on X_R for every f2 ("one way to learn, N ways to memorize"). '
    "Two references place each Dist. *Relabeled*: the same KL against f2 with its classes cyclically relabeled (the "
    "mean over the C - 1 shifts), a trained network with f2's confidence whose classes are unrelated to f1's; Dist / "
    'relabeled is 0 for the same function and 1 for an unrelated trained function. The row "{untrained}" is f1 '
    "against a freshly initialized network of its architecture: it is near log C whenever f1 is certain on its "
    "patterns, whatever the models learned, so it sets a scale and is no evidence."
)


def dist_section(summary: pd.DataFrame, reference: str, true_condition, random_condition) -> str:
    """Dist(reference, f2) with intervals and the relabeled reference: on X_T beside X_R with the paper's
    ordering where an f2 has a pair on both, else per condition; "" where the reference has no pair."""
    pairs = summary[summary["f1_network"] == reference]
    if pairs.empty:
        return ""
    on_both = [
        (f2, group.set_index("condition"))
        for f2, group in pairs.groupby("f2_network", sort=False)
        if {true_condition, random_condition} <= set(group["condition"])
    ]
    body = (
        beside_the_paper(on_both, true_condition, random_condition)
        if on_both
        else per_condition(pairs, true_condition, random_condition)
    )
    return f"## Dist(f1, f2), f1 = {reference}\n\n{DIST_INTRO.format(untrained=UNTRAINED_LABEL)}\n\n{body}"


def beside_the_paper(on_both: list, true_condition: str, random_condition: str) -> str:
    """The table of Dist on X_T and X_R per f2, the paper's ordering, and where each f2 lies."""
    rows, compared = [], []
    for f2, by_condition in on_both:
        learned, memorized = by_condition.loc[true_condition], by_condition.loc[random_condition]
        if f2 not in REFERENCE_LABELS:
            compared.append((f2, learned, memorized))
        rows.append(
            {
                "f2": f2_label(f2),
                "Dist on X_T [95% CI]": interval(learned),
                "Dist on X_R [95% CI]": interval(memorized),
                "X_R / X_T": memorized["dist_mean"] / learned["dist_mean"],
                "relabeled on X_T": learned["relabeled_mean"],
                "relabeled on X_R": memorized["relabeled_mean"],
                "Dist / relabeled on X_T [95% CI]": ratio_interval(learned),
                "Dist / relabeled on X_R [95% CI]": ratio_interval(memorized),
            }
        )
    positions = [
        position_sentence(
            f"X_T ({true_condition})", [(f2, learned) for f2, learned, _ in compared]
        ),
        position_sentence(
            f"X_R ({random_condition})", [(f2, memorized) for f2, _, memorized in compared]
        ),
    ]
    return f"{markdown_table(pd.DataFrame(rows))}\n\n{ordering_sentence(compared)}" + "".join(
        f"\n\n{sentence}" for sentence in positions if compared
    )


def per_condition(pairs: pd.DataFrame, true_condition, random_condition) -> str:
    """Where no f2 has a pair on both X_T and X_R: every pair of the reference, condition by condition, and
    where each f2 lies; no ordering, which needs both."""
    rows = [
        {
            "condition": row["condition"],
            "f2": f2_label(row["f2_network"]),
            "Dist [95% CI]": interval(row),
            "relabeled": row["relabeled_mean"],
            "Dist / relabeled [95% CI]": ratio_interval(row),
        }
        for _, row in pairs.iterrows()
    ]
    trained_pairs = pairs[~pairs["f2_network"].isin(list(REFERENCE_LABELS))]
    positions = [
        position_sentence(condition, [(row["f2_network"], row) for _, row in group.iterrows()])
        for condition, group in trained_pairs.groupby("condition", sort=False)
    ]
    missing = (
        f"X_T ({true_condition or 'no condition of noise 0'}) and X_R "
        f"({random_condition or 'no condition of noise 1'})"
    )
    return (
        f"{markdown_table(pd.DataFrame(rows))}\n\nNo f2 has a pair on both {missing}, so the study cannot test "
        f"the paper's ordering." + "".join(f"\n\n{sentence}" for sentence in positions)
    )


def noise_table(rows: pd.DataFrame, value: str) -> pd.DataFrame:
    """value per noise level p (rows) and f2 (columns)."""
    return rows.pivot_table(index="p", columns="f2_network", values=value).sort_index()


def growth_sentence(table: pd.DataFrame, measure: str, paper_reports_it: bool) -> str:
    """Whether measure grows with the noise level for every f2 measured at two levels or more, naming the f2
    where it does not."""
    measured = [column for column in table.columns if table[column].notna().sum() > 1]
    if not measured:
        return f"No f2 has {measure} at two noise levels: there is no growth to read."
    flat = [column for column in measured if not table[column].dropna().is_monotonic_increasing]
    if not flat:
        every = (
            "every f2"
            if len(measured) == len(table.columns)
            else f"every f2 measured at two levels or more ({', '.join(map(str, measured))})"
        )
        return f"{measure} grows with the noise level for {every}{', as in the paper' if paper_reports_it else ''}."
    return (
        f"{measure} does NOT grow monotonically with the noise level for f2 = {', '.join(flat)}"
        f"{', unlike the paper' if paper_reports_it else ''}."
    )


def noise_section(summary: pd.DataFrame, reference: str, noise_of: dict) -> str:
    """Dist and Dist / relabeled against the noise level per f2, and whether they grow as the paper reports;
    "" where the reference's pairs span fewer than two noise levels."""
    rows = summary[
        (summary["f1_network"] == reference)
        & summary["condition"].isin(list(noise_of))
        & ~summary["f2"].isin(list(REFERENCE_LABELS))
    ].copy()
    rows["p"] = rows["condition"].map(noise_of)
    if rows["p"].nunique() < 2:
        return ""
    dist, ratio = noise_table(rows, "dist_mean"), noise_table(rows, "relabeled_ratio")
    return (
        "## Dist against the noise level\n\n"
        + markdown_table(dist.reset_index())
        + f"\n\n{growth_sentence(dist, 'Dist', True)}\n\nDist / relabeled (0: the same function, 1: an unrelated "
        f"trained function):\n\n"
        + markdown_table(ratio.reset_index())
        + f"\n\n{growth_sentence(ratio, 'Dist / relabeled', False)}"
    )


def crosscheck_section(crosscheck: pd.DataFrame) -> str:
    if crosscheck.empty:
        return ""
    columns = [
        "condition",
        "f1_network",
        "f2_network",
        "output_kl",
        "disagreement",
        "test_error_a",
        "test_error_b",
        "cka",
    ]
    return (
        "## Cross-checks on the test images\n\nThe disagreement of two models on test images should be near "
        "their test error; linear CKA compares their penultimate features.\n\n"
        + markdown_table(crosscheck[columns])
    )


STAGE_COLUMNS = [
    "model",
    "hunting",
    "fitting_start_epoch",
    "left_chance_epoch",
    "g_min_epoch",
    "train_acc_at_g_min",
]


def stage_section(stages: pd.DataFrame) -> str:
    """The stage table, and how many models hunt and which never left chance, counted from it; "" without rows."""
    if stages.empty:
        return ""
    table = stages[[column for column in STAGE_COLUMNS if column in stages.columns]]
    hunting = stages[stages["hunting"].astype(bool)]
    unfitted = hunting[hunting["fitting_start_epoch"].isna()]["model"].tolist()
    counts = f"{len(hunting)} of {len(stages)} models have a hunting stage (the rule is in memdissect.analyses.stages)."
    if unfitted:
        counts += f" Train accuracy never left chance level, so fitting never started, for {', '.join(map(str, unfitted))}."
    return (
        "## Hunting stage\n\n"
        + markdown_table(table.astype(object).where(table.notna(), ""))
        + f"\n\n{counts}"
    )


def summary_markdown(sections: list[str]) -> str:
    """The file: its title, then each section that has rows."""
    return (
        "# memdissect: this study beside the paper\n\n" + "\n\n".join(filter(None, sections)) + "\n"
    )
