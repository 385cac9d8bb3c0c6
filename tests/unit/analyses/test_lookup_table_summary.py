"""What the summary says of the lookup table beside the trained f2, read from hand-made Dist rows."""

import pandas as pd

from memdissect.analyses.lookup_table_summary import (
    LOOKUP,
    lookup_section,
    lookup_sentence,
    lookup_sentences,
    resemblance_sentence,
)
from memdissect.study.design import UNTRAINED


def dist_rows(condition: str, dists: dict) -> list[dict]:
    """One Dist summary row per f2 network (LOOKUP, UNTRAINED or a trained network) of f1 = vgg11-s1."""
    return [
        {
            "f1": f"{condition}-vgg11-s1",
            "f2": f2 if f2 in (LOOKUP, UNTRAINED) else f"{condition}-{f2}",
            "condition": condition,
            "f1_network": "vgg11-s1",
            "f2_network": f2,
            "dist_mean": dist,
            "dist_ci_low": dist - 0.1,
            "dist_ci_high": dist + 0.1,
            "relabeled_ratio": dist / 5,
            "relabeled_ratio_ci_low": dist / 5 - 0.05,
            "relabeled_ratio_ci_high": dist / 5 + 0.05,
        }
        for f2, dist in dists.items()
    ]


SUMMARY = pd.DataFrame(
    dist_rows("true_labels", {"vgg11-s2": 0.4, "vgg13-s1": 0.6, LOOKUP: 3.0, UNTRAINED: 2.3})
    + dist_rows("random_labels", {"vgg11-s2": 4.0, "vgg13-s1": 4.5, LOOKUP: 1.0, UNTRAINED: 2.3})
    + dist_rows("half", {"vgg11-s2": 2.0, LOOKUP: 2.0})
)


def test_the_sentences_place_the_lookup_table_among_the_trained_f2_from_the_numbers():
    learned, memorized = lookup_sentences(SUMMARY, "vgg11-s1", "true_labels", "random_labels")
    assert learned.startswith(
        "On X_T (true_labels), Dist(vgg11-s1, k-NN lookup table of f1's labels) = 3 [2.9, 3.1], "
        "against 0.4 to 0.6 for the trained f2 (vgg11-s2, vgg13-s1): f1 answers on its patterns "
        "farther from the lookup table than from any trained network"
    )
    assert (
        "its Dist / relabeled is 0.6 [0.55, 0.65], closer to f1 than an unrelated trained function."
        in learned
    )
    assert "closer to the lookup table than to any trained network" in memorized
    assert "untrained" not in learned + memorized


def test_a_lookup_table_among_the_networks_and_a_condition_without_one():
    assert "the lookup table lies among the trained networks" in lookup_sentence(
        SUMMARY, "vgg11-s1", "half", "p = 0.5"
    )
    assert lookup_sentence(SUMMARY[SUMMARY["f2"] != LOOKUP], "vgg11-s1", "half", "p = 0.5") == (
        "On p = 0.5 (half) there is no Dist of vgg11-s1 against a lookup table."
    )
    assert (
        lookup_sentences(SUMMARY, "vgg11-s1", "true_labels", None)
        == lookup_sentences(SUMMARY, "vgg11-s1", "true_labels", "random_labels")[:1]
    )


TABLE = {"enabled": True, "k": 1, "smoothing": 0.01, "features": "pixels"}


def test_the_section_sets_the_lookup_table_beside_the_networks_on_x_t_and_x_r():
    text = lookup_section(SUMMARY, "vgg11-s1", "true_labels", "random_labels", TABLE)
    assert text.startswith("## A lookup table as a reference, f1 = vgg11-s1\n\n")
    assert "k = 1, votes smoothed by s = 0.01, distances in pixels" in text
    assert "same function by construction" in text
    assert (
        "farther from the lookup table than from any trained network" in text
    )  # X_T: 3 against 0.4 to 0.6
    assert (
        "closer to the lookup table than to any trained network" in text
    )  # X_R: 1 against 4 to 4.5
    # 3 / mean(0.4, 0.6) on X_T, 1 / mean(4, 4.5) on X_R
    assert resemblance_sentence(SUMMARY, "vgg11-s1", "true_labels", "random_labels").endswith(
        "as from another trained network): 6 on X_T, 0.235 on X_R."
    )
    in_features = lookup_section(
        SUMMARY,
        "vgg11-s1",
        "true_labels",
        "random_labels",
        {**TABLE, "features": "true_labels-vgg13-s1"},
    )
    assert "distances in the penultimate features of true_labels-vgg13-s1" in in_features


def test_no_section_without_a_lookup_row_of_the_reference():
    assert (
        lookup_section(
            SUMMARY[SUMMARY["f2"] != LOOKUP], "vgg11-s1", "true_labels", "random_labels", TABLE
        )
        == ""
    )
    assert lookup_section(SUMMARY, "vgg13-s1", "true_labels", "random_labels", TABLE) == ""
