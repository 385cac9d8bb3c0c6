"""The runtime a job computes with: device, resolved precision and the precision that ran, the classifiers'
memory format, a run's own random state, and the CUDA graph path (torch's capture mocked; replays emulated)."""

import contextlib
import dataclasses
import types
import warnings

import pytest
import torch

from memdissect.training import device as device_module
from memdissect.training.runtime import (
    SELF_CHECK_TOLERANCE,
    CudaGraphs,
    RandomState,
    ReplayedStep,
    Runtime,
    capture_cuda_graph,
    compute_fp32_in_ieee,
    cuda_fp32_settings,
    fp32_math,
    replay_deviation,
    uses_channels_last,
)


@pytest.mark.parametrize(
    "fast_bf16, precision, expected",
    [(True, "auto", "bf16"), (False, "auto", "fp32"), (True, "fp32", "fp32")],
)
def test_for_device_resolves_the_precision_and_picks_the_layout(
    monkeypatch, fast_bf16, precision, expected
):
    monkeypatch.setattr(device_module, "cpu_has_fast_bf16", lambda: fast_bf16)
    assert Runtime.for_device("cpu", precision) == Runtime(
        torch.device("cpu"), expected, channels_last=True
    )
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


# ----------------------------------------------------------------------- fp32 is IEEE fp32 on CUDA


@pytest.fixture
def fp32_settings():
    """PyTorch's fp32 precision settings as the process had them, put back after the test."""
    settings = [
        torch.backends.cudnn,
        torch.backends.cudnn.conv,
        torch.backends.cudnn.rnn,
        torch.backends.cuda.matmul,
    ]  # CUDA's own first: setting it sets the three below it
    saved = [setting.fp32_precision for setting in settings]
    deterministic, benchmark = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    yield
    for setting, value in zip(settings, saved):
        setting.fp32_precision = value
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = deterministic, benchmark


@pytest.fixture
def an_ampere_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 0))


def test_a_job_on_cuda_computes_fp32_in_ieee_fp32_set_with_the_new_api_alone(
    fp32_settings, an_ampere_gpu
):
    """PyTorch's default lets cuDNN convolve fp32 in TF32; the legacy allow_tf32 flags are left untouched, since
    PyTorch refuses a mix of the two APIs."""
    assert torch.backends.cudnn.conv.fp32_precision == "tf32"  # PyTorch's default
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runtime = Runtime.for_device("cuda", "fp32")
    assert [setting.fp32_precision for setting in cuda_fp32_settings().values()] == ["ieee"] * 3
    assert fp32_math("cuda") == "ieee" and runtime.precision_that_ran == "fp32"


def test_the_record_says_tf32_where_fp32_ran_as_tf32(fp32_settings):
    cuda = Runtime(torch.device("cuda"), "fp32", channels_last=True)
    torch.backends.cudnn.conv.fp32_precision = "tf32"
    assert fp32_math("cuda") == "tf32" and cuda.precision_that_ran == "tf32"
    assert Runtime(torch.device("cuda"), "bf16", channels_last=True).precision_that_ran == "bf16"
    torch.backends.cudnn.conv.fp32_precision = "none"  # inherits cuDNN's, then PyTorch's, setting
    torch.backends.cudnn.fp32_precision = "tf32"
    assert cuda.precision_that_ran == "tf32"
    compute_fp32_in_ieee()
    assert (
        cuda.precision_that_ran == "fp32"
        and Runtime(torch.device("cpu"), "fp32", True).precision_that_ran == "fp32"
    )


# ----------------------------------------------------------------------- a run's own random state


def test_a_random_state_is_its_runs_alone_and_goes_on_where_it_stopped():
    torch.manual_seed(5)
    expected = torch.rand(6)  # what a run seeded with 5 draws, alone
    torch.manual_seed(5)
    mine = RandomState("cpu")
    torch.manual_seed(7)  # another run starts, and reseeds the process's generator
    other = RandomState("cpu")
    outside = torch.get_rng_state()
    drawn = []
    for _ in range(3):
        with mine.installed():
            drawn.append(torch.rand(2))
        with other.installed():
            torch.rand(5)
    assert torch.equal(torch.cat(drawn), expected)
    assert torch.equal(
        torch.get_rng_state(), outside
    )  # neither run drew from the process's generator
    restored = RandomState("cpu")
    restored.load_state_dict(mine.state_dict())  # as a resumed run
    with mine.installed():
        following = torch.rand(4)
    with restored.installed():
        assert torch.equal(torch.rand(4), following)


# ----------------------------------------------------------------------- capture, and a capture that fails


class FakeGraph:
    """torch.cuda.CUDAGraph's part that capture_cuda_graph uses, recording its calls; `fail_end` makes capture_end
    fail as torch's does after an error inside the captured region."""

    def __init__(self, calls, fail_end):
        self.calls, self.fail_end, self.ended = calls, fail_end, False

    def register_generator_state(self, state):
        self.calls.append("register the run's generator state")

    def capture_begin(self, pool):
        self.calls.append(("begin", pool))

    def capture_end(self):
        self.calls.append("end")
        if self.fail_end:
            raise RuntimeError(
                "CUDA error: operation failed due to a previous error during capture"
            )
        self.ended = True

    def pool(self):
        if not self.ended:
            raise RuntimeError("Called CUDAGraph::pool() without a preceding successful capture.")
        return (0, 7)

    def reset(self):
        self.calls.append("reset")


@pytest.fixture
def mocked_capture(monkeypatch):
    """torch's capture machinery as a script of calls: the graph, its pool, the streams and the allocator."""
    calls = []
    state = {"fail_end": False}
    monkeypatch.setattr(torch.cuda, "CUDAGraph", lambda: FakeGraph(calls, state["fail_end"]))
    monkeypatch.setattr(torch.cuda, "graph_pool_handle", lambda: (0, 7))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append("synchronize"))
    monkeypatch.setattr(torch.cuda, "stream", lambda stream: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "is_current_stream_capturing", lambda: calls[-1] != "end")
    monkeypatch.setattr(
        torch._C, "_cuda_endAllocateToPool", lambda device, pool: calls.append(("unroute", pool))
    )
    monkeypatch.setattr(
        torch._C, "_cuda_releasePool", lambda device, pool: calls.append(("release", pool))
    )
    stream = types.SimpleNamespace(
        device=torch.device("cuda", 0), synchronize=lambda: calls.append("sync stream")
    )
    random_state = types.SimpleNamespace(
        cuda="state", renew_cuda=lambda: calls.append("renew the generator state")
    )
    return calls, state, stream, random_state


def test_a_capture_registers_the_runs_generator_state_and_captures_the_step(mocked_capture):
    calls, _, stream, random_state = mocked_capture
    graph = capture_cuda_graph(lambda: calls.append("step"), stream, random_state)
    assert isinstance(graph, FakeGraph)
    assert calls == [
        "register the run's generator state",
        "synchronize",
        ("begin", (0, 7)),
        "step",
        "end",
    ]


def test_a_failed_capture_raises_the_error_inside_the_region_after_cleaning_up(mocked_capture):
    """Not capture_end's message: the step's own error. Then the capture is ended, the allocator routed away from the
    graph's pool and the pool released (the graph never owned it), the graph reset, the generator state renewed."""
    calls, state, stream, random_state = mocked_capture
    state["fail_end"] = True

    def step():
        calls.append("step")
        raise RuntimeError("CUDA error: operation not permitted when stream is capturing")

    with pytest.raises(RuntimeError, match="operation not permitted when stream is capturing"):
        capture_cuda_graph(step, stream, random_state)
    assert calls[calls.index("step") + 1 :] == [
        "end",
        ("unroute", (0, 7)),
        ("release", (0, 7)),
        "reset",
        "renew the generator state",
        "sync stream",
    ]


def test_the_first_failed_capture_switches_captures_off_naming_the_cause():
    attempts = []

    def capture(step, stream, random_state):
        attempts.append(step)
        raise ValueError("the step read a value back to the host\nmore lines")

    graphs = CudaGraphs(capture)
    assert graphs.try_capture("step", None, None) is None
    assert graphs.off_because == "ValueError: the step read a value back to the host"
    assert graphs.try_capture("another step", None, None) is None and attempts == ["step"]


# ----------------------------------------------------------------------- the first replay's check


def test_replay_deviation_in_units_of_the_eager_steps_change():
    before = [torch.tensor([1.0, 2.0]), torch.tensor([5, 5])]
    eager = [torch.tensor([1.5, 2.0]), torch.tensor([6, 5])]  # changes 0.5 and 1
    assert replay_deviation(before, eager, [t.clone() for t in eager]) == 0.0
    assert replay_deviation(
        before, eager, [torch.tensor([1.5, 2.1]), torch.tensor([6, 5])]
    ) == pytest.approx(0.2)
    assert replay_deviation(before, eager, [torch.tensor([1.5, 2.0]), torch.tensor([7, 5])]) == 1.0
    nan = [torch.tensor([float("nan")])]
    assert replay_deviation([torch.zeros(1)], nan, nan) == 0.0


class Counter:
    """A step that adds noise drawn from the installed random state to a total."""

    def __init__(self):
        self.total = torch.zeros(3)

    def __call__(self, capturing=False):
        self.total += torch.rand(3)


def counted(steps=6, graphed=True):
    """Counter's total after `steps` steps (graphed: through the process's CUDA graphs, else plain eager steps), the
    replayed step and its log."""
    torch.manual_seed(0)
    counter, lines, random_state = Counter(), [], RandomState("cpu")
    step = ReplayedStep(
        counter, lambda: [counter.total], random_state, "fp32", None, lines.append, "counting"
    )
    with random_state.installed():
        for _ in range(steps):
            (step if graphed else counter)()
    return counter.total, step, lines


def test_a_replayed_step_draws_and_adds_what_its_eager_steps_do_and_says_so(emulated_graphs):
    total, step, lines = counted()
    assert torch.equal(total, counted(graphed=False)[0])
    assert step.status().graph == "replayed" and not lines
    assert (
        step.status().note
        == f"first replay within 0 of the eager step (tolerance {SELF_CHECK_TOLERANCE['fp32']:g})"
    )


def test_a_first_replay_off_the_eager_step_leaves_the_eager_result_and_the_steps_eager(
    graphs_a_step_off,
):
    total, step, lines = counted()
    assert torch.equal(total, counted(graphed=False)[0])
    assert step.status().graph == "eager" and lines == [f"counting eagerly: {step.status().note}"]
    assert step.status().note.startswith("its first replay differs from the eager step by ")


def test_steps_warm_up_eagerly_before_the_capture(emulated_graphs):
    _, step, lines = counted(steps=2)
    assert (
        step.status().graph == "eager"
        and step.status().note == "warming up: 2 of 3 eager steps before the capture"
    )
