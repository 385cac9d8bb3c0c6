"""The lookup table beside the networks in Dist, as the summary states it. Pandas only.

The k-NN of a condition (memdissect.analyses.lookup_table) is an f2 named LOOKUP in the Dist tables, one per
condition, as the untrained twin is one per f1. Where f1 is certain of class j on its pattern, KL(f1 || kNN)
is about -log q_j: near 0 where all k neighbours vote j, log(C / s) where none does. So with k = 1, Dist(f1,
kNN) is about the share of f1's patterns whose nearest training image is labelled otherwise, in units of
log(C / s): how far what f1 answers on its patterns is from what its labels' lookup table answers there.
"""

import pandas as pd

from memdissect.dissection.dist_table import LOOKUP_LABEL, relabeled_position
from memdissect.markdown import interval, ratio_interval
from memdissect.study.design import LOOKUP, LOOKUP_PIXELS, UNTRAINED


def standing_among(value: float, networks: pd.DataFrame) -> str:
    """Where the lookup table's Dist stands against the trained f2's (their Dist from the same f1)."""
    if networks.empty:
        return "there is no trained f2 on these patterns to set it beside"
    low, high = networks["dist_mean"].min(), networks["dist_mean"].max()
    names = ", ".join(networks["f2_network"])
    span = f"{low:.4g}" if len(networks) == 1 else f"{low:.4g} to {high:.4g}"
    if value < low:
        verdict = (
            "f1 answers on its patterns closer to the lookup table than to any trained network"
        )
    elif value > high:
        verdict = (
            "f1 answers on its patterns farther from the lookup table than from any trained network"
        )
    else:
        verdict = "the lookup table lies among the trained networks"
    return f"against {span} for the trained f2 ({names}): {verdict}"


def lookup_sentence(summary: pd.DataFrame, reference: str, condition: str, role: str) -> str:
    """One sentence: Dist(reference, kNN) in a condition with its interval, beside the trained f2, and its
    Dist / relabeled. summary: the Dist summary (f1_network, condition, f2, f2_network, dist_mean and the
    interval and relabeled columns)."""
    rows = summary[(summary["f1_network"] == reference) & (summary["condition"] == condition)]
    lookup = rows[rows["f2"] == LOOKUP]
    if lookup.empty:
        return f"On {role} ({condition}) there is no Dist of {reference} against a lookup table."
    row = lookup.iloc[0]
    networks = rows[~rows["f2"].isin([LOOKUP, UNTRAINED])]
    position = relabeled_position(
        row["relabeled_ratio"], row["relabeled_ratio_ci_low"], row["relabeled_ratio_ci_high"]
    )
    return (
        f"On {role} ({condition}), Dist({reference}, {LOOKUP_LABEL}) = {interval(row)}, "
        f"{standing_among(row['dist_mean'], networks)}; its Dist / relabeled is {ratio_interval(row)}, "
        f"{position}."
    )


def lookup_sentences(
    summary: pd.DataFrame, reference: str, true_condition: str, random_condition: str
) -> list[str]:
    """The lookup table on X_T and on X_R."""
    return [
        lookup_sentence(summary, reference, condition, role)
        for condition, role in ((true_condition, "X_T"), (random_condition, "X_R"))
        if condition
    ]


LOOKUP_INTRO = (
    "The paper: given the training examples and its hyperparameters, the built k-NN model is unique, where networks "
    "memorize in N ways. Each trained f1's patterns go through the k-NN lookup table of its condition's training "
    'images and labels ({table}; f2 = "{lookup}" in the Dist tables). Two lookup tables of one condition are the '
    "same function by construction (nothing is drawn at random, nothing is trained): Dist between them is 0, so the "
    "table shows where f1 answers on its patterns against what its labels' lookup table answers there, beside the "
    "trained f2."
)


def describe_table(spec: dict) -> str:
    """The lookup table's settings in words: spec is config lookup_table."""
    space = (
        "pixels"
        if spec["features"] == LOOKUP_PIXELS
        else f"the penultimate features of {spec['features']}"
    )
    return f"k = {spec['k']}, votes smoothed by s = {spec['smoothing']:g}, distances in {space}"


def against_the_networks(summary: pd.DataFrame, reference: str, condition: str):
    """Dist(reference, kNN) over the mean Dist(reference, trained f2) in a condition; None without both."""
    rows = summary[(summary["f1_network"] == reference) & (summary["condition"] == condition)]
    lookup, networks = rows[rows["f2"] == LOOKUP], rows[~rows["f2"].isin([LOOKUP, UNTRAINED])]
    if lookup.empty or networks.empty:
        return None
    return lookup["dist_mean"].iloc[0] / networks["dist_mean"].mean()


def resemblance_sentence(
    summary: pd.DataFrame, reference: str, true_condition: str, random_condition: str
) -> str:
    """Whether f1 is as far from its labels' lookup table as from another trained network, on X_T beside X_R."""
    ratios = {
        role: against_the_networks(summary, reference, condition)
        for role, condition in (("X_T", true_condition), ("X_R", random_condition))
        if condition
    }
    measured = {role: ratio for role, ratio in ratios.items() if ratio is not None}
    if not measured:
        return ""
    parts = [f"{ratio:.3g} on {role}" for role, ratio in measured.items()]
    return (
        "Dist(f1, lookup table) over the mean Dist(f1, trained f2) (1: f1 is as far from its labels' lookup "
        f"table as from another trained network): {', '.join(parts)}."
    )


def lookup_section(
    summary: pd.DataFrame, reference: str, true_condition, random_condition, spec: dict
) -> str:
    """The lookup table beside the networks on X_T and X_R; "" where the reference has no lookup row."""
    if summary[(summary["f1_network"] == reference) & (summary["f2"] == LOOKUP)].empty:
        return ""
    sentences = lookup_sentences(summary, reference, true_condition, random_condition)
    sentences.append(resemblance_sentence(summary, reference, true_condition, random_condition))
    intro = LOOKUP_INTRO.format(table=describe_table(spec), lookup=LOOKUP)
    return f"## A lookup table as a reference, f1 = {reference}\n\n{intro}\n\n" + "\n\n".join(
        filter(None, sentences)
    )
