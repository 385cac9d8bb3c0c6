"""The distance between two paths in function space, on cases known by hand."""

import math

import numpy as np
import pytest
import torch

from memdissect.analyses.function_paths import pairwise_path_table
from memdissect.io import ArtifactError
from memdissect.training.probe_path import compact_log_probs


def path_file(path: torch.Tensor, indices=(0, 1, 2)) -> dict:
    """A path file of E x N x C log-probabilities, the same path on both splits."""
    splits = ("train", "test")
    return {
        "epochs": torch.arange(1, len(path) + 1),
        "indices": {split: torch.tensor(indices) for split in splits},
        "paths": {split: path for split in splits},
    }


def confident_path(classes_per_epoch) -> torch.Tensor:
    """Each epoch's probes predicted 0.9 on the given class (of 2), as stored log-probabilities."""
    probabilities = torch.tensor(
        [[[0.9, 0.1] if c == 0 else [0.1, 0.9] for c in row] for row in classes_per_epoch]
    )
    return compact_log_probs(probabilities.log())


def test_two_identical_paths_are_zero_apart_and_two_disjoint_ones_fully_apart():
    a = confident_path([[0, 1, 0], [1, 1, 0]])
    b = confident_path(
        [[1, 0, 1], [0, 0, 1]]
    )  # every probe predicted the other class, at every epoch
    table = pairwise_path_table(
        {"a": path_file(a), "same": path_file(a.clone()), "b": path_file(b)}
    )
    same = table[(table["run_a"] == "a") & (table["run_b"] == "same")]
    disjoint = table[(table["run_a"] == "a") & (table["run_b"] == "b")]
    assert (same["disagreement"] == 0).all() and np.allclose(same["sym_kl"], 0, atol=1e-12)
    assert (disjoint["disagreement"] == 1).all()
    assert np.allclose(
        disjoint["sym_kl"], 0.8 * math.log(9), rtol=1e-3
    )  # KL(0.9/0.1 || 0.1/0.9) both ways
    assert len(table) == 3 * 2 * 2  # 3 pairs x 2 splits x 2 epochs
    assert table[["run_a", "run_b"]].drop_duplicates().values.tolist() == [
        ["a", "same"],
        ["a", "b"],
        ["same", "b"],
    ]


def test_partial_disagreement_is_the_share_of_probes_per_epoch():
    a = confident_path([[0, 0, 0, 0], [0, 0, 0, 0]])
    b = confident_path([[0, 0, 0, 1], [0, 1, 1, 1]])
    table = pairwise_path_table({"a": path_file(a, (0, 1, 2, 3)), "b": path_file(b, (0, 1, 2, 3))})
    train = table[table["split"] == "train"]
    assert train["epoch"].tolist() == [1, 2] and train["disagreement"].tolist() == [0.25, 0.75]


def test_paths_on_other_probes_or_a_single_run_are_refused():
    a = confident_path([[0, 1, 0]])
    with pytest.raises(ArtifactError, match="the probe paths of a and b differ in indices/train"):
        pairwise_path_table({"a": path_file(a), "b": path_file(a, (0, 1, 3))})
    with pytest.raises(ValueError, match="at least two runs"):
        pairwise_path_table({"a": path_file(a)})
