"""Where and how a job computes: its device, the precision it resolved and the classifiers' memory format."""

from dataclasses import dataclass

import torch

from memdissect.device import autocast, resolve_precision


def uses_channels_last(device) -> bool:
    """Train in channels_last where convolutions run faster in it: cuDNN on CUDA, and oneDNN on a CPU,
    which otherwise reorders every activation into its blocked layout and back (ResNet32 about 15% faster)."""
    return torch.device(device).type in ("cuda", "cpu")


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    precision: str  # resolved: "fp32" or "bf16"
    channels_last: bool  # the classifiers' weights and input; the DCGAN keeps the default format

    @classmethod
    def for_device(cls, device, precision: str = "auto") -> "Runtime":
        """The runtime of a job on `device` whose settings ask for `precision` (auto, fp32 or bf16)."""
        device = torch.device(device)
        return cls(device, resolve_precision(precision, device), uses_channels_last(device))

    def autocast(self):
        return autocast(self.device, self.precision)
