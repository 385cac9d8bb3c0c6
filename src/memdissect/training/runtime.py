"""Where and how a job computes: its device, the precision it resolved and the precision that ran, the classifiers'
memory format, each run's own random streams, and the CUDA graphs its repeated steps replay as."""

import contextlib
from dataclasses import dataclass
from functools import partial

import torch

from memdissect.training.device import autocast, resolve_precision

SELF_CHECK_TOLERANCE = {
    "fp32": 1e-3,
    "bf16": 3e-2,
}  # a first replay's largest miss, in units of the eager change


def uses_channels_last(device) -> bool:
    """Compute in channels_last where convolutions run faster in it: cuDNN on CUDA, and oneDNN on a CPU,
    which otherwise reorders every activation into its blocked layout and back (ResNet32 about 15% faster)."""
    return torch.device(device).type in ("cuda", "cpu")


# ----------------------------------------------------------------------- numerics


def make_cudnn_deterministic() -> None:
    """cuDNN picks only deterministic algorithms: the same seed gives the same weights on the same GPU."""
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def cuda_fp32_settings() -> dict:
    """PyTorch's fp32 precision setting of each CUDA library memdissect computes with, by name."""
    return {
        "cuDNN conv": torch.backends.cudnn.conv,
        "cuDNN RNN": torch.backends.cudnn.rnn,
        "cuBLAS matmul": torch.backends.cuda.matmul,
    }


def compute_fp32_in_ieee() -> None:
    """fp32 means IEEE fp32 on every GPU: PyTorch lets cuDNN convolve fp32 tensors in TF32 (a 10-bit mantissa) on
    Ampere and newer unless told not to. Set with the fp32_precision API alone, never the legacy allow_tf32 flags:
    PyTorch refuses a mix of the two (a legacy flag read after a new one was set raises)."""
    for setting in cuda_fp32_settings().values():
        setting.fp32_precision = "ieee"


def fp32_math(device) -> str:
    """How the device's libraries compute fp32 convolutions and matrix products as PyTorch is set now: "ieee", or
    "tf32" or "bf16" where a setting (or the one it inherits: its library's, then PyTorch's) lets them round."""
    backends = torch.backends
    if torch.device(device).type == "cuda":
        operations, library = (
            (backends.cudnn.conv, backends.cuda.matmul),
            backends.cudnn,
        )  # cudnn's: all of CUDA's
    else:
        operations, library = (backends.mkldnn.conv, backends.mkldnn.matmul), backends.mkldnn
    for operation in operations:
        chain = (operation.fp32_precision, library.fp32_precision, backends.fp32_precision)
        setting = next((value for value in chain if value != "none"), "ieee")
        if setting != "ieee":
            return setting
    return "ieee"


def precision_that_ran(device, precision: str) -> str:
    """What a record says: "bf16" (bf16 autocast), "fp32" (IEEE fp32), or "tf32" where fp32 ran in TF32."""
    if precision == "bf16":
        return "bf16"
    math = fp32_math(device)
    return "fp32" if math == "ieee" else math


def compute_on(device) -> torch.device:
    """The device, ready to compute on: on CUDA, cuDNN deterministic and fp32 in IEEE fp32. Every entry point that
    computes on a device passes through here (Runtime.for_device included)."""
    device = torch.device(device)
    if device.type == "cuda":
        make_cudnn_deterministic()
        compute_fp32_in_ieee()
    return device


# ----------------------------------------------------------------------- streams and random state


@contextlib.contextmanager
def on_own_stream(stream):
    """Work on a CUDA `stream`, after what the caller's stream has queued and before what it queues next; with
    None, on the caller's stream. CUDA graphs are warmed up and captured so, on the stream they capture on."""
    if stream is None:
        yield
        return
    caller = torch.cuda.current_stream(stream.device)
    stream.wait_stream(caller)
    with torch.cuda.stream(stream):
        yield
    caller.wait_stream(stream)


def cuda_generator(device) -> torch.Generator:
    """The default CUDA generator of `device`: what dropout and stochastic depth draw from there."""
    torch.cuda.init()
    index = device.index if device.index is not None else torch.cuda.current_device()
    return torch.cuda.default_generators[index]


class RandomState:
    """What a run's network draws from (dropout, stochastic depth): a state of the process's CPU generator and, on
    CUDA, a state of the device's default generator of its own. Both are taken when the run starts (after
    torch.manual_seed and the build, so that a run alone draws what it always drew) and put in place around each
    of the run's steps and evaluations (`installed`), so that no other run in the process draws from them or
    reseeds them. They travel in the resume state (state_dict).

    The CUDA state is swapped in with graphsafe_set_state, never copied: a graph captured while it is in place
    registers it, and each replay advances it by what the step drew."""

    def __init__(self, device):
        self.device = torch.device(device)
        self.cpu = torch.get_rng_state()
        self.cuda = (
            cuda_generator(self.device).clone_state() if self.device.type == "cuda" else None
        )
        self.in_place = False

    @contextlib.contextmanager
    def installed(self):
        outside_cpu, outside_cuda = torch.get_rng_state(), self.swap_cuda(self.cuda)
        torch.set_rng_state(self.cpu)
        self.in_place = True
        try:
            yield
        finally:
            self.in_place = False
            self.cpu = torch.get_rng_state()
            torch.set_rng_state(outside_cpu)
            self.swap_cuda(outside_cuda)

    def swap_cuda(self, state):
        """Put `state` in the default CUDA generator; returns the one it held (None off CUDA)."""
        if self.cuda is None:
            return None
        generator = cuda_generator(self.device)
        held = generator.graphsafe_get_state()
        generator.graphsafe_set_state(state)
        return held

    def now(self) -> dict:
        """Where both streams are now (while installed)."""
        return {
            "cpu": torch.get_rng_state(),
            "cuda": None if self.cuda is None else self.cuda.get_state(),
        }

    def set_now(self, state: dict) -> None:
        torch.set_rng_state(state["cpu"])
        if self.cuda is not None:
            self.cuda.set_state(state["cuda"])

    def renew_cuda(self) -> None:
        """A fresh CUDA state at the same place: one a failed capture registered may be left in capture mode."""
        if self.cuda is None:
            return
        fresh = torch.Generator(self.device)
        fresh.set_state(self.cuda.get_state())
        self.cuda = fresh
        if self.in_place:
            cuda_generator(self.device).graphsafe_set_state(fresh)

    def state_dict(self) -> dict:
        return (
            self.now()
            if self.in_place
            else {
                "cpu": self.cpu.clone(),
                "cuda": None if self.cuda is None else self.cuda.get_state(),
            }
        )

    def load_state_dict(self, state: dict) -> None:
        """The saved streams; a CUDA state saved on a CPU (or the other way round) leaves this device's as it is."""
        self.cpu = state["cpu"].clone()
        if self.cuda is not None and state["cuda"] is not None:
            self.cuda.set_state(state["cuda"])


# ----------------------------------------------------------------------- CUDA graphs


@dataclass(frozen=True)
class GraphStatus:
    """Whether a run's repeated step replayed as a CUDA graph ("replayed", "eager", or "not applicable" off CUDA),
    and why not where it fell back: what a history row and a pattern file record."""

    graph: str
    note: str = ""

    def as_row(self) -> dict:
        return {"cuda_graph": self.graph, "cuda_graph_note": self.note}


NOT_ON_CUDA = GraphStatus("not applicable", "CUDA graphs run on CUDA only")


def end_failed_capture(graph, pool, stream, random_state: RandomState) -> None:
    """Undo what a failed capture left: the capture itself, the allocator's routing to the graph's private pool
    and the pool (unless the graph owns it, when capture_end got that far), the graph, a generator state left in
    capture mode, and the capture stream's work. PyTorch promises no clean state after that (CUDAGraph::reset),
    so no capture is tried again in the process (CudaGraphs)."""
    index = stream.device.index if stream.device.index is not None else torch.cuda.current_device()
    with contextlib.suppress(RuntimeError):
        if torch.cuda.is_current_stream_capturing():
            graph.capture_end()
    try:
        graph.pool()  # only after capture_end got so far: then reset() below releases the pool
    except RuntimeError:
        with contextlib.suppress(RuntimeError):
            torch._C._cuda_endAllocateToPool(index, pool)
        with contextlib.suppress(RuntimeError):
            torch._C._cuda_releasePool(index, pool)
    with contextlib.suppress(RuntimeError):
        graph.reset()
    random_state.renew_cuda()
    with contextlib.suppress(RuntimeError):
        stream.synchronize()


def capture_cuda_graph(step, stream, random_state: RandomState) -> torch.cuda.CUDAGraph:
    """step() captured as a CUDA graph on `stream`, with the run's CUDA generator state registered (each replay
    advances it). Where the capture fails, the error raised inside the captured region is raised, not
    capture_end's (which would hide it), after end_failed_capture."""
    graph, pool = torch.cuda.CUDAGraph(), torch.cuda.graph_pool_handle()
    if random_state.cuda is not None:
        graph.register_generator_state(random_state.cuda)
    torch.cuda.synchronize(stream.device)
    with torch.cuda.stream(stream):
        try:
            graph.capture_begin(pool=pool)
            step()
            graph.capture_end()
        except BaseException:
            end_failed_capture(graph, pool, stream, random_state)
            raise
    return graph


class EagerGraph:
    """The graph of a step where none can be captured (a CPU): each replay runs the step eagerly. With it
    (CudaGraphs.emulate) tests and measurements run every line of the graph path there but torch's capture."""

    def __init__(self, step):
        self.step = step

    def replay(self) -> None:
        self.step()


def capture_eagerly(step, stream, random_state) -> EagerGraph:
    return EagerGraph(step)


class CudaGraphs:
    """This process's CUDA graphs: how a step is captured (`capture`: torch's on CUDA, capture_eagerly where
    `emulated`), and whether captures are still tried. The first capture that fails switches them off for the rest
    of the process, training and pattern search alike, and `off_because` names its cause: after a failed capture
    PyTorch's allocator and generators may hold what it left (CUDAGraph::reset says as much)."""

    def __init__(self, capture=capture_cuda_graph, emulated: bool = False):
        self.capture, self.emulated, self.off_because = capture, emulated, ""

    def can_capture_on(self, device) -> bool:
        return torch.device(device).type == "cuda" or self.emulated

    def emulate(self, capture=capture_eagerly) -> None:
        """Capture on any device with `capture` (by default each replay runs the step eagerly), captures on again."""
        self.capture, self.emulated, self.off_because = capture, True, ""

    def try_capture(self, step, stream, random_state: RandomState):
        """step's graph, or None where it could not be captured (then off_because says why)."""
        if self.off_because:
            return None
        try:
            return self.capture(step, stream, random_state)
        except Exception as error:  # noqa: BLE001  (the eager step, which works, goes on)
            message = str(error).strip().splitlines()
            self.off_because = f"{type(error).__name__}: {message[0] if message else ''}".rstrip(
                ": "
            )
            return None


CUDA_GRAPHS = CudaGraphs()  # the process's; on a CPU, emulate() it to run the graph path


def snapshot(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    return [tensor.detach().clone() for tensor in tensors]


@torch.no_grad()
def restore(tensors: list[torch.Tensor], saved: list[torch.Tensor]) -> None:
    """Copy saved values back in place: a captured graph reads and writes these very tensors."""
    for tensor, value in zip(tensors, saved, strict=True):
        tensor.copy_(value)


@torch.no_grad()
def replay_deviation(before, eager, replayed) -> float:
    """The largest difference between the replayed and the eager step's results, each tensor's in units of the most
    the eager step changed it (0: the same result, 1: a whole step off); equal values (NaN and NaN too) agree."""
    ratios = []
    for start, expected, found in zip(before, eager, replayed, strict=True):
        if found.numel():
            expected, found = expected.float(), found.float()  # no copy of what is fp32 already
            agree = (found == expected) | (expected.isnan() & found.isnan())
            miss = torch.where(agree, 0.0, found - expected).abs().max()
            change = (expected - start.float()).nan_to_num(nan=0.0).abs().max()
            ratios.append(miss / change.clamp_min(1e-30))
    return torch.stack(ratios).max().item() if ratios else 0.0


class ReplayedStep:
    """A step run WARM_UP_STEPS times eagerly (which creates the optimizer's state and lets the libraries pick their
    kernels), then captured as a CUDA graph and replayed, one launch instead of some hundred kernels.

    The first replay checks itself: from one state (`state()`, every tensor the step changes, and the random
    streams) the step runs eagerly, that state is put back, the graph replays, and the two must agree within
    SELF_CHECK_TOLERANCE of the precision. Where the capture fails, the two disagree, or CUDA graphs are off in
    the process, the step runs eagerly from then on, and the log (`what` eagerly: why) and status() say why.

    `step(capturing=False)` runs one step. Warm-up and capture run on `stream` (a side stream, as capture asks);
    the replays on the caller's stream."""

    WARM_UP_STEPS = 3

    def __init__(
        self, step, state, random_state: RandomState, precision: str, stream, log, what: str
    ):
        self.step, self.state, self.random_state, self.precision = (
            step,
            state,
            random_state,
            precision,
        )
        self.stream, self.log, self.what = stream, log, what
        self.graph, self.warm_up_steps, self.checked = None, 0, False
        self.eager_because, self.check_note = "", ""

    def __call__(self) -> None:
        if self.eager_because:
            self.step()
        elif self.graph is None:
            self.warm_up_or_capture()
        elif not self.checked:
            self.checked_replay()
        else:
            self.graph.replay()

    def warm_up_or_capture(self) -> None:
        if CUDA_GRAPHS.off_because:
            return self.fall_back(
                f"CUDA graphs are off in this process since a capture failed "
                f"({CUDA_GRAPHS.off_because})"
            )
        with on_own_stream(self.stream):
            if self.warm_up_steps < self.WARM_UP_STEPS:
                self.warm_up_steps += 1
                return self.step()
            self.graph = CUDA_GRAPHS.try_capture(
                partial(self.step, capturing=True), self.stream, self.random_state
            )
        if self.graph is None:
            return self.fall_back(
                f"the step could not be captured as a CUDA graph ({CUDA_GRAPHS.off_because})"
            )
        self.checked_replay()

    def fall_back(self, reason: str) -> None:
        """Eagerly from now on, this step included."""
        self.graph, self.eager_because = None, reason
        self.log(f"{self.what} eagerly: {reason}")
        self.step()

    def checked_replay(self) -> None:
        """The first replay, against the eager step from the same state; kept where they agree, else the eager
        step's result is, and the step runs eagerly from then on."""
        self.checked = True
        tensors = self.state()
        before, random_before = snapshot(tensors), self.random_state.now()
        self.step()
        eager, random_eager = snapshot(tensors), self.random_state.now()
        restore(tensors, before)
        self.random_state.set_now(random_before)
        self.graph.replay()
        deviation, tolerance = (
            replay_deviation(before, eager, tensors),
            SELF_CHECK_TOLERANCE[self.precision],
        )
        if deviation <= tolerance:
            self.check_note = (
                f"first replay within {deviation:.2g} of the eager step (tolerance {tolerance:g})"
            )
            return
        restore(tensors, eager)
        self.random_state.set_now(random_eager)
        self.graph, self.eager_because = (
            None,
            (
                f"its first replay differs from the eager step by {deviation:.3g} "
                f"of the step's change (tolerance {tolerance:g} in {self.precision})"
            ),
        )
        self.log(f"{self.what} eagerly: {self.eager_because}")

    def status(self) -> GraphStatus:
        if self.eager_because:
            return GraphStatus("eager", self.eager_because)
        if self.graph is None:
            return GraphStatus(
                "eager",
                f"warming up: {self.warm_up_steps} of {self.WARM_UP_STEPS} eager steps "
                f"before the capture",
            )
        return GraphStatus("replayed", self.check_note)


# ----------------------------------------------------------------------- the runtime


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    precision: str  # resolved: "fp32" or "bf16"
    channels_last: bool  # the networks' weights and input
    cuda_graphs: bool = (
        False  # training and pattern-search steps captured once and replayed (CUDA only)
    )

    @classmethod
    def for_device(cls, device, precision: str = "auto", cuda_graphs: bool = True) -> "Runtime":
        """The runtime of a job on `device` whose settings ask for `precision` (auto, fp32 or bf16); cuda_graphs
        takes effect where steps can be captured (CUDA, or a CPU with CUDA_GRAPHS emulated). On CUDA, cuDNN is
        deterministic and fp32 is IEEE fp32 (compute_on)."""
        device = compute_on(device)
        return cls(
            device,
            resolve_precision(precision, device),
            uses_channels_last(device),
            cuda_graphs and CUDA_GRAPHS.can_capture_on(device),
        )

    @property
    def dcgan_channels_last(self) -> bool:
        """The DCGAN's training and the pattern search through its generator compute in channels_last on CUDA
        only. On a CPU oneDNN would save about 15% there, but its other order of sums gives another GAN and
        other patterns (both amplify the last bit over their steps); the default layout keeps those of every
        earlier study."""
        return self.channels_last and self.device.type == "cuda"

    @property
    def precision_that_ran(self) -> str:
        return precision_that_ran(self.device, self.precision)

    def status_without_graphs(self) -> GraphStatus:
        """The graph status of a step never captured: off CUDA it does not apply; on CUDA graphs were switched off."""
        return (
            GraphStatus("eager", "cuda_graphs is false")
            if self.device.type == "cuda"
            else NOT_ON_CUDA
        )

    def autocast(self, cache_enabled: bool = True):
        return autocast(self.device, self.precision, cache_enabled)
