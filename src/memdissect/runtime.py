"""Where and how a job computes: its device, the precision it resolved, the classifiers' memory format,
and whether its repeated steps replay as CUDA graphs."""

import contextlib
from dataclasses import dataclass

import torch

from memdissect.device import autocast, resolve_precision


def uses_channels_last(device) -> bool:
    """Compute in channels_last where convolutions run faster in it: cuDNN on CUDA, and oneDNN on a CPU,
    which otherwise reorders every activation into its blocked layout and back (ResNet32 about 15% faster)."""
    return torch.device(device).type in ("cuda", "cpu")


def make_cudnn_deterministic() -> None:
    """cuDNN picks only deterministic algorithms: the same seed gives the same weights on the same GPU."""
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


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


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    precision: str  # resolved: "fp32" or "bf16"
    channels_last: bool  # the networks' weights and input
    cuda_graphs: bool = False  # training and pattern-search steps captured once and replayed (CUDA only)

    @classmethod
    def for_device(cls, device, precision: str = "auto", cuda_graphs: bool = True) -> "Runtime":
        """The runtime of a job on `device` whose settings ask for `precision` (auto, fp32 or bf16);
        cuda_graphs takes effect on CUDA only."""
        device = torch.device(device)
        if device.type == "cuda":
            make_cudnn_deterministic()
        return cls(device, resolve_precision(precision, device), uses_channels_last(device),
                   cuda_graphs and device.type == "cuda")

    @property
    def dcgan_channels_last(self) -> bool:
        """The DCGAN's training and the pattern search through its generator compute in channels_last on CUDA
        only. On a CPU oneDNN would save about 15% there, but its other order of sums gives another GAN and
        other patterns (both amplify the last bit over their steps); the default layout keeps those of every
        earlier study."""
        return self.channels_last and self.device.type == "cuda"

    def autocast(self, cache_enabled: bool = True):
        return autocast(self.device, self.precision, cache_enabled)
