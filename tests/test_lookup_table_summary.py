"""What the summary says of the lookup table beside the trained f2, read from hand-made Dist rows."""

import pandas as pd

from memdissect.lookup_table_summary import LOOKUP, lookup_sentence, lookup_sentences
from memdissect.study import UNTRAINED


def dist_rows(condition: str, dists: dict) -> list[dict]:
    """One Dist summary row per f2 network (LOOKUP, UNTRAINED or a trained network) of f1 = vgg11-s1."""
    return [{"f1": f"{condition}-vgg11-s1", "f2": f2 if f2 in (LOOKUP, UNTRAINED) else f"{condition}-{f2}",
             "condition": condition, "f1_network": "vgg11-s1", "f2_network": f2, "dist_mean": dist,
             "dist_ci_low": dist - 0.1, "dist_ci_high": dist + 0.1, "relabeled_ratio": dist / 5,
             "relabeled_ratio_ci_low": dist / 5 - 0.05, "relabeled_ratio_ci_high": dist / 5 + 0.05}
            for f2, dist in dists.items()]


SUMMARY = pd.DataFrame(dist_rows("true_labels", {"vgg11-s2": 0.4, "vgg13-s1": 0.6, LOOKUP: 3.0, UNTRAINED: 2.3})
                       + dist_rows("random_labels", {"vgg11-s2": 4.0, "vgg13-s1": 4.5, LOOKUP: 1.0, UNTRAINED: 2.3})
                       + dist_rows("half", {"vgg11-s2": 2.0, LOOKUP: 2.0}))


def test_the_sentences_place_the_lookup_table_among_the_trained_f2_from_the_numbers():
    learned, memorized = lookup_sentences(SUMMARY, "vgg11-s1", "true_labels", "random_labels")
    assert learned.startswith("On X_T (true_labels), Dist(vgg11-s1, k-NN lookup table of f1's labels) = 3 [2.9, 3.1], "
                              "against 0.4 to 0.6 for the trained f2 (vgg11-s2, vgg13-s1): f1 answers on its patterns "
                              "farther from the lookup table than from any trained network")
    assert "its Dist / relabeled is 0.6 [0.55, 0.65], closer to f1 than an unrelated trained function." in learned
    assert "closer to the lookup table than to any trained network" in memorized
    assert "untrained" not in learned + memorized


def test_a_lookup_table_among_the_networks_and_a_condition_without_one():
    assert "the lookup table lies among the trained networks" in lookup_sentence(SUMMARY, "vgg11-s1", "half", "p = 0.5")
    assert lookup_sentence(SUMMARY[SUMMARY["f2"] != LOOKUP], "vgg11-s1", "half", "p = 0.5") == (
        "On p = 0.5 (half) there is no Dist of vgg11-s1 against a lookup table.")
    assert lookup_sentences(SUMMARY, "vgg11-s1", "true_labels", None) == lookup_sentences(
        SUMMARY, "vgg11-s1", "true_labels", "random_labels")[:1]
