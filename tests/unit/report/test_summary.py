import pandas as pd

from memdissect.dissection.dist_table import LOOKUP_LABEL, UNTRAINED_LABEL
from memdissect.report.summary import (
    crosscheck_section,
    dist_section,
    noise_section,
    stage_section,
    summary_markdown,
)
from memdissect.study.design import LOOKUP, UNTRAINED


def pair(condition, f2_network, dist, ratio, ratio_low, ratio_high, dist_low=None, dist_high=None):
    """One row of the Dist summary with f1 = vgg11-s1; relabeled_mean follows from dist / ratio."""
    return {
        "f1_network": "vgg11-s1",
        "f2": f"{condition}-{f2_network}",
        "f2_network": f2_network,
        "condition": condition,
        "dist_mean": dist,
        "dist_ci_low": dist if dist_low is None else dist_low,
        "dist_ci_high": dist if dist_high is None else dist_high,
        "relabeled_mean": dist / ratio,
        "relabeled_ratio": ratio,
        "relabeled_ratio_ci_low": ratio_low,
        "relabeled_ratio_ci_high": ratio_high,
    }


def summary_of(*rows) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    for reference in (UNTRAINED, LOOKUP):
        table.loc[table["f2_network"] == reference, "f2"] = reference
    return table


def test_dist_section_reads_its_verdicts_from_the_numbers():
    summary = summary_of(
        pair("true_labels", "vgg11-s2", 0.5, 0.1, 0.08, 0.12, 0.4, 0.6),
        pair("random_labels", "vgg11-s2", 4.0, 0.95, 0.9, 1.02, 3.5, 4.5),
        pair("true_labels", "vgg13-s1", 0.8, 0.2, 0.15, 0.25, 0.7, 0.9),
        pair("random_labels", "vgg13-s1", 0.9, 0.3, 0.25, 0.35, 0.85, 0.95),
        pair("true_labels", UNTRAINED, 2.3, 1.0, 1.0, 1.0),
        pair("random_labels", UNTRAINED, 2.3, 1.0, 1.0, 1.0),
    )
    text = dist_section(summary, "vgg11-s1", "true_labels", "random_labels")
    assert "Dist on X_R is above Dist on X_T for every f2, as in the paper." in text
    assert "lies wholly above the one on X_T for 1 of 2 f2" in text  # vgg13: 0.85 < 0.9
    assert (
        "On X_T (true_labels): f2 = vgg11-s2 at 0.1 [0.08, 0.12], closer to f1 than an unrelated trained "
        "function; f2 = vgg13-s1 at 0.2 [0.15, 0.25], closer" in text
    )
    assert (
        "On X_R (random_labels): f2 = vgg11-s2 at 0.95 [0.9, 1], no closer to f1 than an unrelated"
        in text
    )
    assert f"| {UNTRAINED_LABEL} | 2.3 [2.3, 2.3] |" in text
    assert "null baseline" not in text and "well above" not in text
    assert (
        "untrained network at" not in text
    )  # no position sentence for the untrained network: it is a scale


def test_dist_section_says_so_when_the_ordering_fails():
    summary = summary_of(
        pair("true_labels", "vgg11-s2", 0.5, 0.1, 0.08, 0.12),
        pair("random_labels", "vgg11-s2", 0.4, 0.1, 0.08, 0.12),
        pair("true_labels", "vgg13-s1", 0.5, 0.1, 0.08, 0.12),
        pair("random_labels", "vgg13-s1", 0.9, 0.2, 0.15, 0.25),
    )
    text = dist_section(summary, "vgg11-s1", "true_labels", "random_labels")
    assert "Dist on X_R is NOT above Dist on X_T for f2 = vgg11-s2, unlike the paper." in text
    assert "above Dist on X_T for every f2" not in text


def test_dist_section_without_trained_pairs_makes_no_claim():
    summary = summary_of(
        pair("true_labels", UNTRAINED, 2.3, 1.0, 1.0, 1.0),
        pair("random_labels", UNTRAINED, 2.3, 1.0, 1.0, 1.0),
    )
    text = dist_section(summary, "vgg11-s1", "true_labels", "random_labels")
    assert "there is no ordering to compare" in text and "as in the paper." not in text
    assert "On X_T" not in text


def test_noise_section_reads_growth_of_dist_and_of_the_ratio_from_the_numbers():
    summary = summary_of(
        pair("true_labels", "vgg11-s2", 0.5, 0.1, 0.08, 0.12),
        pair("half", "vgg11-s2", 1.0, 0.5, 0.4, 0.6),
        pair(
            "random_labels", "vgg11-s2", 4.0, 0.4, 0.3, 0.5
        ),  # Dist grows, the ratio falls at p = 1
        pair(
            "random_labels", UNTRAINED, 0.1, 1.0, 1.0, 1.0
        ),  # left out: its fall would break the growth
    )
    text = noise_section(
        summary, "vgg11-s1", {"true_labels": 0.0, "half": 0.5, "random_labels": 1.0}
    )
    assert "Dist grows with the noise level for every f2, as in the paper." in text
    assert (
        "Dist / relabeled does NOT grow monotonically with the noise level for f2 = vgg11-s2."
        in text
    )
    assert UNTRAINED not in text


def test_stage_section_counts_from_the_table():
    stages = pd.DataFrame(
        {
            "model": ["true_labels-vgg11-s1", "random_labels-vgg11-s1", "random_labels-vgg11-s2"],
            "hunting": [False, True, True],
            "fitting_start_epoch": pd.array([None, 3, None], "Int64"),
            "left_chance_epoch": pd.array([1, 9, None], "Int64"),
            "g_min_epoch": [20, 2, 4],
            "g_min": [0.1, 0.2, 0.3],
            "g_first": [1.0, 1.0, 1.0],
            "train_acc_at_g_min": [1.0, 0.1, 0.1],
        }
    )
    text = stage_section(stages)
    assert "2 of 3 models have a hunting stage" in text
    assert "never left chance level, so fitting never started, for random_labels-vgg11-s2." in text
    assert "| true_labels-vgg11-s1 | False |  | 1 | 20 | 1 |" in text
    assert "| g_min |" not in text and "g_first" not in text


def test_accuracy_section_gives_the_first_epoch_at_which_the_labels_were_fitted():
    from memdissect.report.summary import accuracy_section, first_epoch_at

    history = pd.DataFrame(
        {"epoch": [1, 2, 3, 4], "train_acc": [0.1, 0.995, 1.0, 0.97], "test_acc": [0.1] * 4}
    )
    assert first_epoch_at(history, 0.99) == "2"
    assert first_epoch_at(history, 0.999) == "3"
    assert first_epoch_at(history.iloc[:1], 0.99) == "never"
    text = accuracy_section("vgg11-s1", {("random_labels", 1.0): history})
    assert "| random_labels | 1 | 4 | 97.00% | 10.00% | 2 | 100.00% / about 10% |" in text


def test_dist_section_without_a_pair_on_both_x_t_and_x_r_lists_every_pair_per_condition():
    summary = summary_of(
        pair("true_labels", "theirs-s1", 0.5, 0.1, 0.08, 0.12, 0.4, 0.6),
        pair("true_labels", UNTRAINED, 2.3, 1.0, 1.0, 1.0),
    )
    text = dist_section(summary, "vgg11-s1", "true_labels", None)
    assert "| condition | f2 | Dist [95% CI] | relabeled | Dist / relabeled [95% CI] |" in text
    assert "| true_labels | theirs-s1 | 0.5 [0.4, 0.6] | 5 | 0.1 [0.08, 0.12] |" in text
    assert f"| true_labels | {UNTRAINED_LABEL} | 2.3 [2.3, 2.3] |" in text
    assert (
        "No f2 has a pair on both X_T (true_labels) and X_R (no condition of noise 1), so the study cannot test "
        "the paper's ordering." in text
    )
    assert (
        "On true_labels: f2 = theirs-s1 at 0.1 [0.08, 0.12], closer to f1 than an unrelated trained"
        in text
    )
    assert "|  |" not in text and "as in the paper" not in text and "NOT above" not in text


def test_a_section_without_rows_is_left_out_of_the_summary():
    one_level = summary_of(pair("true_labels", "vgg11-s2", 0.5, 0.1, 0.08, 0.12))
    assert (
        noise_section(one_level, "vgg11-s1", {"true_labels": 0.0}) == ""
    )  # one noise level: no growth to read
    assert (
        dist_section(one_level, "resnet32-s1", "true_labels", "random_labels") == ""
    )  # no pair of this f1
    assert crosscheck_section(pd.DataFrame(columns=["condition", "f1_network"])) == ""
    assert stage_section(pd.DataFrame(columns=["model", "hunting", "fitting_start_epoch"])) == ""
    assert summary_markdown(["## A\n\nrows", "", "## B\n\nrows"]) == (
        "# memdissect: this study beside the paper\n\n## A\n\nrows\n\n## B\n\nrows\n"
    )


def test_growth_is_read_only_for_an_f2_measured_at_two_noise_levels():
    summary = summary_of(
        pair("true_labels", "vgg11-s2", 0.5, 0.1, 0.08, 0.12),
        pair("random_labels", "vgg11-s2", 4.0, 0.9, 0.8, 1.0),
        pair("true_labels", "vgg13-s1", 0.9, 0.2, 0.1, 0.3),
    )  # vgg13: one level only
    text = noise_section(summary, "vgg11-s1", {"true_labels": 0.0, "random_labels": 1.0})
    assert (
        "Dist grows with the noise level for every f2 measured at two levels or more (vgg11-s2)"
        in text
    )
    only_one = summary_of(
        pair("true_labels", "vgg11-s2", 0.5, 0.1, 0.08, 0.12),
        pair("random_labels", "vgg13-s1", 4.0, 0.9, 0.8, 1.0),
    )
    text = noise_section(only_one, "vgg11-s1", {"true_labels": 0.0, "random_labels": 1.0})
    assert (
        "No f2 has Dist at two noise levels: there is no growth to read." in text
        and "grows with" not in text
    )


def test_the_lookup_table_is_a_labelled_row_of_the_dist_table_and_in_no_verdict():
    summary = summary_of(
        pair("true_labels", "vgg11-s2", 0.5, 0.1, 0.08, 0.12, 0.4, 0.6),
        pair("random_labels", "vgg11-s2", 4.0, 0.95, 0.9, 1.02, 4.1, 4.5),
        pair("true_labels", LOOKUP, 3.0, 0.6, 0.5, 0.7),
        pair(
            "random_labels", LOOKUP, 1.0, 0.2, 0.1, 0.3
        ),  # below X_T: it would break the paper's ordering
    )
    text = dist_section(summary, "vgg11-s1", "true_labels", "random_labels")
    assert f"| {LOOKUP_LABEL} | 3 [3, 3] | 1 [1, 1] |" in text
    assert "Dist on X_R is above Dist on X_T for every f2, as in the paper." in text
    assert "for 1 of 1 f2" in text and f"f2 = {LOOKUP}" not in text
    noise = noise_section(summary, "vgg11-s1", {"true_labels": 0.0, "random_labels": 1.0})
    assert LOOKUP not in noise and "Dist grows with the noise level for every f2" in noise
