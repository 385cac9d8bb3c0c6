"""results/summary.md: the study's numbers beside the paper's."""

import math

import pandas as pd

from memdissect.study import UNTRAINED

PAPER_TRAIN_ACCURACY = 1.0
PAPER_TEST_ACCURACY = {0.0: "83.73%", 1.0: "about 10%"}  # VGG11 on X_T and X_R, CIFAR-10


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table; floats with 4 significant digits."""
    def cell(value):
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.4g}"
        return str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def accuracy_section(network: str, histories: dict) -> str:
    """histories: (condition, noise) -> history of the network in that condition."""
    rows = []
    for (condition, noise), history in histories.items():
        last = history.iloc[-1]
        paper = PAPER_TEST_ACCURACY.get(float(noise), "not reported")
        rows.append({"condition": condition, "p": noise, "epochs": int(last["epoch"]),
                     "train accuracy": percent(last["train_acc"]), "test accuracy": percent(last["test_acc"]),
                     "paper (train / test)": f"{percent(PAPER_TRAIN_ACCURACY)} / {paper}"})
    return f"## Accuracy of {network}\n\n" + markdown_table(pd.DataFrame(rows))


def dist_section(summary: pd.DataFrame, reference: str, true_condition: str, random_condition: str) -> str:
    """Dist(reference, f2) on X_T and X_R with intervals, the null baselines, and the paper's ordering."""
    rows, ordered = [], []
    pairs = summary[summary["f1_network"] == reference]
    for f2, group in pairs.groupby("f2_network", sort=False):
        by_condition = group.set_index("condition")
        if true_condition not in by_condition.index or random_condition not in by_condition.index:
            continue
        learned, memorized = by_condition.loc[true_condition], by_condition.loc[random_condition]
        if f2 != UNTRAINED:
            ordered.append(memorized["dist_mean"] > learned["dist_mean"])
        rows.append({"f2": f2,
                     "Dist on X_T [95% CI]": interval(learned),
                     "Dist on X_R [95% CI]": interval(memorized),
                     "X_R / X_T": memorized["dist_mean"] / learned["dist_mean"]})
    verdict = ("Dist on X_R is above Dist on X_T for every f2, as in the paper." if ordered and all(ordered)
               else "Dist on X_R is NOT above Dist on X_T for every f2, unlike the paper.")
    null = pairs[(pairs["f2"] == UNTRAINED) & (pairs["condition"] == true_condition)]["dist_mean"]
    learned_pairs = pairs[(pairs["f2"] != UNTRAINED) & (pairs["condition"] == true_condition)]["dist_mean"]
    if len(null) and len(learned_pairs):
        verdict += (f" On X_T the null baseline ({null.iloc[0]:.4g}) is {null.iloc[0] / learned_pairs.max():.2g} times "
                    f"the largest Dist of a trained pair ({learned_pairs.max():.4g}).")
    return (f"## Dist(f1, f2), f1 = {reference}\n\nThe paper: Dist on X_T is far below Dist on X_R for every f2 "
            f"(\"one way to learn, N ways to memorize\"). The f2 \"{UNTRAINED}\" is the null baseline: a freshly "
            f"initialized network of f1's architecture.\n\n{markdown_table(pd.DataFrame(rows))}\n\n{verdict}")


def interval(row) -> str:
    return f"{row['dist_mean']:.4g} [{row['dist_ci_low']:.4g}, {row['dist_ci_high']:.4g}]"


def noise_section(summary: pd.DataFrame, reference: str, noise_of: dict) -> str:
    """Dist against the noise level per f2, and whether it grows as the paper reports."""
    rows = summary[(summary["f1_network"] == reference) & summary["condition"].isin(list(noise_of))
                   & (summary["f2"] != UNTRAINED)].copy()
    rows["p"] = rows["condition"].map(noise_of)
    table = rows.pivot_table(index="p", columns="f2_network", values="dist_mean").sort_index()
    grows = all(table[column].dropna().is_monotonic_increasing for column in table.columns)
    verdict = ("Dist grows with the noise level for every f2, as in the paper." if grows
               else "Dist does NOT grow monotonically with the noise level for every f2, unlike the paper.")
    return "## Dist against the noise level\n\n" + markdown_table(table.reset_index()) + f"\n\n{verdict}"


def crosscheck_section(crosscheck: pd.DataFrame) -> str:
    columns = ["condition", "f1_network", "f2_network", "output_kl", "disagreement", "test_error_a", "test_error_b", "cka"]
    return ("## Cross-checks on the test images\n\nThe disagreement of two models on test images should be near "
            "their test error; linear CKA compares their penultimate features.\n\n"
            + markdown_table(crosscheck[columns]))


def stage_section(stages: pd.DataFrame) -> str:
    table = stages[["model", "hunting", "fitting_start_epoch", "g_min_epoch"]] if "model" in stages.columns else stages
    return "## Hunting stage\n\n" + markdown_table(table.astype(object).where(table.notna(), ""))


def summary_markdown(sections: list[str]) -> str:
    return "# memdissect: this study beside the paper\n\n" + "\n\n".join(sections) + "\n"
