"""The probe set and the predictions a run records on it, epoch by epoch, on cases known by hand."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from memdissect.io import ArtifactError
from memdissect.training.checkpoints import part_states, restore_parts
from memdissect.training.probe_path import (
    PROBE_DTYPE,
    ProbePath,
    compact_log_probs,
    load_probe_path,
    probe_indices,
    probe_log_probs,
    save_probe_path,
)
from memdissect.training.runtime import Runtime

CPU_FP32 = Runtime(torch.device("cpu"), "fp32", channels_last=False)
SIZES = {"train": 5000, "test": 1000}


def test_the_probe_set_is_the_same_for_every_call_and_every_model_of_a_study():
    first = probe_indices(SIZES, size=300, seed=4)
    again = probe_indices(dict(SIZES), size=300, seed=4)  # another model's job computes it anew
    assert first.keys() == again.keys() == {"train", "test"}
    for split, n in SIZES.items():
        assert np.array_equal(first[split], again[split])
        assert len(np.unique(first[split])) == 300 and (np.diff(first[split]) > 0).all()
        assert 0 <= first[split].min() and first[split].max() < n
    assert np.array_equal(
        first["train"], probe_indices({"train": 5000, "test": 77}, 300, 4)["train"]
    )
    assert not np.array_equal(first["train"], probe_indices(SIZES, 300, 5)["train"])


def test_a_probe_larger_than_its_split_takes_the_whole_split_and_an_empty_one_is_refused():
    assert np.array_equal(probe_indices({"train": 40, "test": 10}, 1000)["test"], np.arange(10))
    with pytest.raises(ValueError, match="at least 1, got 0"):
        probe_indices(SIZES, 0)


def test_stored_log_probabilities_are_float16_finite_and_close_to_log_softmax():
    logits = torch.tensor([[0.0, 1.0, 2.0], [1e5, 0.0, -1e5], [3.0, 3.0, 3.0]])
    stored = compact_log_probs(logits)
    assert stored.dtype == PROBE_DTYPE and torch.isfinite(stored).all()
    assert torch.allclose(stored[0].float(), torch.log_softmax(logits[0], 0), rtol=1e-3)
    assert stored[1, 2] == torch.finfo(torch.float16).min  # -2e5 clamped to float16's range
    assert torch.allclose(stored[2].float(), torch.full((3,), -math.log(3)), rtol=1e-3)


def linear_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))


def test_a_models_probe_predictions_are_its_log_softmax_on_the_images_in_eval_mode():
    images = torch.randint(
        0, 256, (23, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )
    model = nn.Sequential(
        linear_model(), nn.Dropout(0.5)
    ).train()  # dropout would show if it stayed in train mode
    recorded = probe_log_probs(model, images, CPU_FP32, batch_size=7)
    expected = torch.log_softmax(model.eval()(images.float() / 255), dim=1)
    assert recorded.shape == (23, 10) and recorded.dtype == PROBE_DTYPE
    assert torch.allclose(recorded.float(), expected, rtol=2e-3, atol=1e-3)


def probe_path(models, images, indices):
    path = ProbePath({"train": images, "test": images.flip(0)}, indices, CPU_FP32)
    for model in models:
        path.record(model)
    return path


def test_a_path_file_holds_every_epoch_and_its_probes_and_survives_a_resume(tmp_path):
    images = torch.randint(
        0, 256, (6, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(1)
    )
    indices = {"train": np.array([0, 2, 3, 5]), "test": np.array([1, 4])}
    path = probe_path([linear_model(0), linear_model(1), linear_model(2)], images, indices)
    resumed = probe_path([], images, indices)
    restore_parts(
        {"probe_path": resumed}, part_states({"probe_path": path})
    )  # as ResumableRun does
    save_probe_path(resumed.as_file(), tmp_path / "path.pt")
    loaded = load_probe_path(tmp_path / "path.pt")
    assert loaded["epochs"].tolist() == [1, 2, 3]
    assert loaded["paths"]["train"].shape == (3, 4, 10) and loaded["paths"]["test"].shape == (
        3,
        2,
        10,
    )
    assert torch.equal(
        loaded["paths"]["train"][1],
        probe_log_probs(linear_model(1), images[[0, 2, 3, 5]], CPU_FP32),
    )
    assert torch.equal(
        loaded["paths"]["test"][2],
        probe_log_probs(linear_model(2), images.flip(0)[[1, 4]], CPU_FP32),
    )
    assert loaded["indices"]["test"].tolist() == [1, 4]


def test_a_resume_state_recorded_on_other_probes_is_refused():
    images = torch.zeros(6, 3, 32, 32, dtype=torch.uint8)
    recorded = probe_path(
        [linear_model(0)], images, {"train": np.array([0, 1]), "test": np.array([2])}
    )
    other = probe_path([], images, {"train": np.array([0, 3]), "test": np.array([2])})
    with pytest.raises(ArtifactError, match="recorded on other probe images"):
        restore_parts({"probe_path": other}, part_states({"probe_path": recorded}))
