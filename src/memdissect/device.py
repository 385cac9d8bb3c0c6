"""Choosing the device and the numeric precision a job runs with."""

import torch

DEVICE_CHOICES = ("auto", "cuda", "cpu")
PRECISION_CHOICES = ("auto", "fp32", "bf16")


class DeviceError(RuntimeError):
    """The job cannot run on the device it was given or asked for."""


def resolve_device(requested: str = "auto", gpu_allocated: bool = False) -> torch.device:
    """cpu, or cuda when present; a job given a GPU (or asked for cuda) fails without CUDA."""
    if requested not in DEVICE_CHOICES:
        raise DeviceError(f"device must be one of {', '.join(DEVICE_CHOICES)}, got {requested!r}")
    if requested == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if requested == "cuda" or gpu_allocated:
        reason = "this job was allocated a GPU" if gpu_allocated else "the config asks for device: cuda"
        raise DeviceError(
            f"{reason}, but torch sees no CUDA device (torch {torch.__version__}, "
            f"CUDA build: {torch.version.cuda or 'no'}). Install a CUDA build of PyTorch on the GPU "
            f"nodes, or set device: cpu in the config to run on CPUs."
        )
    return torch.device("cpu")


def cpu_has_fast_bf16() -> bool:
    """True where oneDNN has native bf16 kernels (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slow."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """"fp32" or "bf16"; "auto" picks bf16 where the hardware runs it natively."""
    if precision not in PRECISION_CHOICES:
        raise ValueError(f"precision must be one of {', '.join(PRECISION_CHOICES)}, got {precision!r}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_fast_bf16() else "fp32"


def autocast(device: torch.device, precision: str):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=(precision == "bf16"))
