"""The runtime a job computes with: device, resolved precision, the classifiers' memory format."""

import dataclasses

import pytest
import torch

from memdissect import device as device_module
from memdissect.runtime import Runtime, uses_channels_last


@pytest.mark.parametrize("fast_bf16, precision, expected", [(True, "auto", "bf16"), (False, "auto", "fp32"),
                                                            (True, "fp32", "fp32")])
def test_for_device_resolves_the_precision_and_picks_the_layout(monkeypatch, fast_bf16, precision, expected):
    monkeypatch.setattr(device_module, "cpu_has_fast_bf16", lambda: fast_bf16)
    assert Runtime.for_device("cpu", precision) == Runtime(torch.device("cpu"), expected, channels_last=True)
    with pytest.raises(ValueError, match="fp16"):
        Runtime.for_device("cpu", "fp16")


def test_channels_last_where_convolutions_gain_from_it():
    assert uses_channels_last("cpu") and uses_channels_last(torch.device("cuda", 1))
    assert not uses_channels_last("meta")


def test_the_dcgan_and_the_pattern_search_change_layout_on_cuda_only():
    assert Runtime(torch.device("cuda"), "bf16", channels_last=True).dcgan_channels_last
    assert not Runtime(torch.device("cpu"), "fp32", channels_last=True).dcgan_channels_last


def test_cuda_graphs_only_on_cuda():
    assert not Runtime.for_device("cpu", "fp32", cuda_graphs=True).cuda_graphs


@pytest.mark.parametrize("precision, dtype", [("bf16", torch.bfloat16), ("fp32", torch.float32)])
def test_autocast_runs_in_the_resolved_precision(precision, dtype):
    layer = torch.nn.Linear(4, 4)
    with Runtime(torch.device("cpu"), precision, channels_last=False).autocast():
        assert layer(torch.ones(2, 4)).dtype == dtype


def test_a_runtime_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Runtime.for_device("cpu", "fp32").precision = "bf16"
