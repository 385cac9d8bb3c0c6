"""The k-NN lookup table: votes counted by hand on one-pixel images, ties, memorization, use as an f2."""

import math

import pytest
import torch
from hand_made import hand_made_patterns
from torch import nn

from memdissect.analyses.lookup_table import (
    LookupTable,
    NetworkFeatures,
    build_lookup_table,
    lookup_table_evaluations,
)
from memdissect.analyses.lookup_table_summary import LOOKUP
from memdissect.dissection.distance import kl_divergence
from memdissect.dissection.evaluation import divergence_rows
from memdissect.dissection.patterns import logits_on_patterns
from memdissect.models import build_model
from memdissect.training.batches import as_model_input

# six one-pixel images (N x 1 x 1 x 1) at these values out of 255; images 1 and 2 are the same image
VALUES = [0, 64, 64, 128, 192, 255]
LABELS = torch.tensor([0, 1, 2, 1, 2, 0])
SMOOTHING = 0.01


def one_pixel(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.uint8).view(-1, 1, 1, 1)


def table(k: int, **chunks) -> LookupTable:
    return LookupTable(one_pixel(VALUES), LABELS, num_classes=3, k=k, smoothing=SMOOTHING, **chunks)


def vote(query: int, k: int, **chunks) -> list[float]:
    """The smoothed vote of the table on the pixel value `query` (out of 255), as probabilities."""
    log_q = table(k, **chunks)(as_model_input(one_pixel([query]), channels_last=False))
    return log_q.exp()[0].tolist()


def smoothed(*shares: float) -> list[float]:
    return [(1 - SMOOTHING) * share + SMOOTHING / 3 for share in shares]


@pytest.mark.parametrize(
    "query, k, shares",
    [
        (0, 1, (1, 0, 0)),  # itself
        (0, 2, (1 / 2, 1 / 2, 0)),  # itself, then the first of the two images at 64
        (0, 3, (1 / 3, 1 / 3, 1 / 3)),  # itself and both images at 64
        (32, 1, (1, 0, 0)),  # 32 from 0, 64 and 64: a tie of three, the lowest index wins
        (32, 2, (1 / 2, 1 / 2, 0)),
        (160, 2, (0, 1 / 2, 1 / 2)),  # 128 and 192, 32 away
        (160, 3, (1 / 3, 1 / 3, 1 / 3)),  # then 255, 95 away
        (160, 4, (1 / 4, 2 / 4, 1 / 4)),  # then the first image at 64, 96 away
    ],
)
def test_votes_counted_by_hand(query, k, shares):
    assert vote(query, k) == pytest.approx(smoothed(*shares), abs=1e-7)


def equidistant_pairs(pairs: int, dims: int = 3 * 32 * 32, seed: int = 0):
    """Float32 queries (P x D) and, per query, two float64 references 1/8 away along two pixels: equally far in
    exact arithmetic, though |q|^2 - 2 q.t + |t|^2 in float64 sets some pairs apart."""
    generator = torch.Generator().manual_seed(seed)
    queries = torch.rand(pairs, dims, generator=generator)
    pixels = torch.stack(
        [torch.randperm(dims, generator=generator)[:2] for _ in range(pairs)]
    )  # P x 2
    below, above = queries.double().clone(), queries.double().clone()
    below[torch.arange(pairs), pixels[:, 0]] -= 2**-3
    above[torch.arange(pairs), pixels[:, 1]] += 2**-3
    return queries, below, above


def test_references_equally_far_in_exact_arithmetic_tie_to_the_lowest_index():
    queries, below, above = equidistant_pairs(500)
    for first, second in ((below, above), (above, below)):
        reference = torch.stack([first, second], 1).flatten(
            0, 1
        )  # 2P x D: query k's pair at 2k and 2k + 1
        lookup = LookupTable(reference, torch.tensor([0, 1]).repeat(len(queries)), num_classes=2)
        assert (lookup(queries).argmax(1) == 0).all()  # the lower index of each pair


def test_chunk_sizes_change_nothing():
    queries = as_model_input(one_pixel(list(range(0, 256, 5))), channels_last=False)
    for k in (1, 2, 4):
        whole = table(k)(queries)
        assert torch.equal(whole, table(k, query_chunk=1, reference_chunk=1)(queries))
        assert torch.equal(whole, table(k, query_chunk=7, reference_chunk=4)(queries))


def random_condition(n=200, seed=0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=generator)
    return images, torch.randint(0, 10, (n,), generator=generator)


def test_with_k_1_the_table_answers_each_training_image_with_its_random_label():
    images, labels = random_condition()
    lookup = build_lookup_table(images, labels, 10)
    assert torch.equal(lookup(as_model_input(images, channels_last=False)).argmax(1), labels)


def test_two_tables_of_one_condition_are_the_same_function():
    images, labels = random_condition()
    patterns = torch.rand(30, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    first = build_lookup_table(images, labels, 10, k=5)
    second = build_lookup_table(images.clone(), labels.clone(), 10, k=5)
    assert torch.equal(first(patterns), second(patterns))
    other_labels = build_lookup_table(images, (labels + 1) % 10, 10, k=5)
    assert not torch.equal(first(patterns), other_labels(patterns))


def test_kl_against_the_table_is_finite_and_at_most_log_c_over_s_for_a_certain_f1():
    images, labels = random_condition()
    patterns = torch.rand(40, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    lookup_logits = build_lookup_table(images, labels, 10, smoothing=SMOOTHING)(patterns)
    certain = torch.full((40, 10), -1e4).scatter(
        1, torch.arange(40)[:, None] % 10, 0.0
    )  # f1 sure of class i % 10
    kl = kl_divergence(certain, lookup_logits)
    assert torch.isfinite(kl).all() and kl.max() <= math.log(10 / SMOOTHING) + 1e-6
    assert torch.allclose(lookup_logits.exp().sum(1), torch.ones(40), atol=1e-6)


def test_the_table_stands_where_an_f2_does_whatever_precision_the_caller_asks():
    images, labels = random_condition()
    lookup = build_lookup_table(images, labels, 10, k=3)
    patterns = hand_made_patterns(
        x=torch.rand(10, 4, 3, 32, 32, generator=torch.Generator().manual_seed(3)),
        logits=torch.randn(10, 4, 10, generator=torch.Generator().manual_seed(4)),
    )  # C x S x ...
    rows = divergence_rows("f1", "knn", patterns, lookup, "cpu", chunk_size=7)
    assert len(rows) == 40 and rows[["kl", "reverse_kl", "js", "kl_relabeled"]].notna().all().all()
    expected = kl_divergence(patterns.logits, lookup(patterns.x.flatten(0, 1)).view(10, 4, 10))
    assert rows["kl"].tolist() == pytest.approx(expected.flatten().tolist(), rel=1e-12)
    fp32 = logits_on_patterns(lookup, patterns.x, "cpu", chunk_size=7, precision="fp32")
    assert torch.equal(
        fp32, logits_on_patterns(lookup, patterns.x, "cpu", chunk_size=7, precision="bf16")
    )


def test_every_f1_meets_the_table_of_its_own_condition_built_once_per_condition():
    images, labels = random_condition()
    tables = {
        "true": build_lookup_table(images, labels, 10),
        "random": build_lookup_table(images, labels.flip(0), 10),
    }
    generator = torch.Generator().manual_seed(5)
    patterns = {
        f1: hand_made_patterns(
            x=torch.rand(10, 2, 3, 32, 32, generator=generator),
            logits=torch.randn(10, 2, 10, generator=generator),
        )
        for f1 in ("t1", "r1", "t2")
    }
    condition_of = {"t1": "true", "r1": "random", "t2": "true"}
    built = []
    table = lookup_table_evaluations(
        patterns, condition_of, lambda c: built.append(c) or tables[c], "cpu", log=lambda _: None
    )
    assert built == ["true", "random"]
    assert table["f1"].unique().tolist() == ["t1", "t2", "r1"] and (table["f2"] == LOOKUP).all()
    for f1, condition in condition_of.items():
        expected = divergence_rows(f1, LOOKUP, patterns[f1], tables[condition], "cpu")
        assert table[table["f1"] == f1].reset_index(drop=True).equals(expected)


def test_a_fixed_networks_features_as_the_space():
    images, labels = random_condition(60)
    torch.manual_seed(0)
    network = build_model("vgg11", 10, width=0.125)
    lookup = build_lookup_table(images, labels, 10, feature_network=network)
    lookup.train()  # a caller that puts the table in train mode does not touch the network's BatchNorm
    assert not lookup.features.network.training
    x = as_model_input(images, channels_last=False)
    assert torch.equal(lookup(x).argmax(1), labels)
    assert lookup.reference.shape == (60, network.classifier.in_features)
    assert torch.allclose(lookup.reference, network.eval().penultimate(x), atol=1e-5)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"k": 0}, "k must lie between 1 and the 6 training images, got 0"),
        ({"k": 7}, "k must lie between 1 and the 6 training images, got 7"),
        ({"smoothing": 0.0}, "smoothing must lie in \\(0, 1\\], got 0.0"),
        ({"labels": torch.tensor([0, 1, 2, 1, 2, 3])}, "labels must lie in \\[0, 3\\), got 0 to 3"),
        ({"labels": torch.tensor([0, 1])}, "the lookup table has 6 training images but 2 labels"),
    ],
)
def test_bad_tables_are_refused_in_one_line(arguments, message):
    arguments = {"labels": LABELS, "num_classes": 3, **arguments}
    with pytest.raises(ValueError, match=message):
        LookupTable(one_pixel(VALUES), **arguments)


def test_a_feature_network_without_penultimate_features_is_refused():
    with pytest.raises(
        ValueError, match="a feature network must have a penultimate\\(x\\) method.*Linear has none"
    ):
        NetworkFeatures(nn.Linear(3, 2))
