"""The study's one evaluation pass (memdissect.dissection.evaluation): every pair's f2 and every f1's untrained twin on f1's
patterns, checked against the per-pair table computed on its own."""

import pandas as pd
import pytest
import torch
from hand_made import hand_made_patterns

from memdissect.dissection.distance import pattern_divergence_table
from memdissect.dissection.evaluation import COLUMNS, evaluation_table
from memdissect.dissection.patterns import logits_on_patterns, without_starting_images
from memdissect.study.design import UNTRAINED
from memdissect.study.settings import ClassifierSettings
from memdissect.training.train import build_classifier, build_untrained_twin

NUM_CLASSES, STARTS = 3, 2


@pytest.fixture(scope="module")
def study():
    """Two narrow VGG11 f1 (seeds 1, 2) with patterns, one f2 (seed 3) compared with both, and f1 seed 1 as the
    f2 of seed 2: pairs (a, c), (b, c), (b, a)."""
    settings = {
        name: ClassifierSettings(arch="vgg11", width=0.125, num_classes=NUM_CLASSES, seed=seed)
        for name, seed in (("a", 1), ("b", 2), ("c", 3))
    }
    models = {name: build_classifier(values, "cpu").eval() for name, values in settings.items()}
    generator = torch.Generator().manual_seed(0)
    patterns = {}
    for f1 in ("a", "b"):
        x = torch.rand(NUM_CLASSES, STARTS, 3, 32, 32, generator=generator)  # C x S x 3 x 32 x 32
        patterns[f1] = hand_made_patterns(
            x=x, logits=logits_on_patterns(models[f1], x, "cpu"), x0=x.clone()
        )
    return settings, models, patterns


def test_one_block_per_pair_in_pair_order_then_each_f1s_untrained_twin(study):
    settings, models, patterns = study
    pairs, loaded, lines = [["a", "c"], ["b", "c"], ["b", "a"]], [], []

    def load_f2(f2):
        loaded.append(f2)
        return models[f2]

    kept = {f1: without_starting_images(values) for f1, values in patterns.items()}
    assert kept["a"].x0 is None and kept["a"].x is patterns["a"].x
    table = evaluation_table(kept, pairs, load_f2, settings, "cpu", chunk_size=4, log=lines.append)
    assert loaded == ["c", "a"]  # each f2 loaded once
    assert list(table.columns) == COLUMNS and len(table) == 5 * NUM_CLASSES * STARTS
    assert (table["precision"] == "fp32").all()  # f2's logits, as they ran
    blocks = list(dict.fromkeys(zip(table["f1"], table["f2"])))
    assert blocks == [("a", "c"), ("b", "c"), ("b", "a"), ("a", UNTRAINED), ("b", UNTRAINED)]
    for f1, f2 in blocks:
        model = build_untrained_twin(settings[f1], "cpu") if f2 == UNTRAINED else models[f2]
        f2_logits = logits_on_patterns(
            model, patterns[f1].x, "cpu", chunk_size=4
        )  # as the table chunks them
        expected = pattern_divergence_table(patterns[f1].logits, f2_logits)
        rows = table[(table["f1"] == f1) & (table["f2"] == f2)].drop(
            columns=["f1", "f2", "precision"]
        )
        rows = rows.reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, expected, check_exact=True)
    assert lines[0].startswith("Dist(a, c) = ") and ", relabeled " in lines[0] and len(lines) == 5
    assert lines[3].startswith("Dist against an untrained vgg11 on a's patterns: ")


def test_a_model_against_itself_is_at_distance_zero(study):
    settings, models, patterns = study
    table = evaluation_table(
        {"a": patterns["a"]}, [("a", "a")], models.get, settings, "cpu", log=lambda line: None
    )
    assert table[table["f2"] == "a"]["kl"].abs().max() < 1e-6
