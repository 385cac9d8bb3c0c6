"""Choosing the device and the numeric precision a job runs with."""

import logging
import os
from pathlib import Path

import torch

from memdissect.training.sharing.private_folders import PrivateFolderError, private_folder, try_lock

DEVICE_CHOICES = ("auto", "cuda", "cpu")


class DeviceError(RuntimeError):
    """The job cannot run on the device it was given or asked for."""


def resolve_device(
    requested: str = "auto", gpu_allocated: bool = False, jobs_per_gpu: int = 1
) -> torch.device:
    """cpu, or cuda when present; a job given a GPU (or asked for cuda) fails without CUDA."""
    if requested not in DEVICE_CHOICES:
        raise DeviceError(f"device must be one of {', '.join(DEVICE_CHOICES)}, got {requested!r}")
    if requested == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return claim_free_gpu(jobs_per_gpu=jobs_per_gpu)
    if requested == "cuda" or gpu_allocated:
        reason = (
            "this job was allocated a GPU" if gpu_allocated else "the config asks for device: cuda"
        )
        raise DeviceError(
            f"{reason}, but torch sees no CUDA device (torch {torch.__version__}, "
            f"CUDA build: {torch.version.cuda or 'no'}). Install a CUDA build of PyTorch on the GPU "
            f"nodes, or set device: cpu in the config to run on CPUs."
        )
    return torch.device("cpu")


def gpu_allocated_by_scheduler(requested_gpus: int, environment=os.environ) -> bool:
    """True when a scheduler gave this job GPUs: SLURM lists them for the job. A local run's
    `gpu` resource is only a count that Snakemake keeps, not an allocation."""
    listed = any(
        environment.get(name)
        for name in ("SLURM_JOB_GPUS", "SLURM_STEP_GPUS", "CUDA_VISIBLE_DEVICES")
    )
    return requested_gpus > 0 and bool(environment.get("SLURM_JOB_ID")) and listed


_CLAIMS = []  # open lock files: a claim lasts as long as the job's process
EXTRA_ROUNDS = 64  # slots per GPU beyond sharing.models, taken once every GPU's are: more jobs than that are absurd


def claim_slot(names, lock_dir) -> int | None:
    """The index of the first name whose lock file no other process holds, now held by this one; None if all are.
    A lock file that cannot be opened counts as held, and the log says so."""
    unopened = []
    for index, name in enumerate(names):  # noqa: B007 (index is the answer, read after the loop)
        lock = Path(lock_dir) / f"memdissect-gpu-{name}.lock"
        try:
            handle = try_lock(lock)
        except OSError as error:
            unopened.append(f"{lock.name} ({error.strerror})")
            continue
        if handle is not None:
            _CLAIMS.append(handle)
            break
    else:
        index = None
    if unopened:
        logging.getLogger(__name__).warning(
            "%d GPU slot lock(s) in %s cannot be opened and count as taken: %s",
            len(unopened),
            lock_dir,
            ", ".join(unopened[:3]),
        )
    return index


def gpu_slots(names: list[str], jobs_per_gpu: int) -> list[str]:
    """The lock names of each GPU's job slots, in the order jobs take them: one job on every GPU before a
    second on any."""
    return [
        name if slot == 0 else f"{name}-{slot + 1}"
        for slot in range(jobs_per_gpu)
        for name in names
    ]


def claim_free_gpu(lock_dir=None, jobs_per_gpu: int = 1) -> torch.device:
    """A GPU with a job slot that no other memdissect job of this user on this machine holds, where it sees several.

    A workflow run on one machine with a GPU resource of K runs at most K GPU jobs at once but does
    not say which GPU each gets; each job claims the first free slot by a lock named by the GPU's UUID,
    in the user's private folder of GPU slots (memdissect.training.sharing.private_folders). Every GPU has `jobs_per_gpu`
    slots (the training jobs on one GPU train in one process: memdissect.training.sharing.together), taken one per GPU in
    turn; once all are taken, further slots in the same turn, so that the GPUs stay evenly loaded.
    """
    count = torch.cuda.device_count()
    if count <= 1:
        return torch.device("cuda")
    names = [str(torch.cuda.get_device_properties(index).uuid) for index in range(count)]
    device = torch.device("cuda", choose_gpu(names, max(1, jobs_per_gpu), lock_dir))
    torch.cuda.set_device(device)
    return device


def choose_gpu(names: list[str], jobs_per_gpu: int, lock_dir=None) -> int:
    """The index of the GPU of the slot this job now holds (where all are taken, one beyond them); without a
    slot (no private folder, or no lock that opens), one chosen by process id, so that such jobs spread too."""
    log = logging.getLogger(__name__)
    try:
        folder = Path(lock_dir) if lock_dir else private_folder("gpu-slots")
        slot = claim_slot(gpu_slots(names, jobs_per_gpu + EXTRA_ROUNDS), folder)
        if slot is None:
            raise PrivateFolderError(f"no lock in {folder} could be taken")
    except PrivateFolderError as error:
        log.warning(
            "no GPU slot claimed, so GPU %d, chosen by process id: %s",
            os.getpid() % len(names),
            error,
        )
        return os.getpid() % len(names)
    if slot >= jobs_per_gpu * len(names):
        log.warning(
            "all %d job slots of the %d GPUs are taken (more GPU jobs at once than GPUs times "
            "sharing.models): this job is job %d on GPU %d",
            jobs_per_gpu * len(names),
            len(names),
            slot // len(names) + 1,
            slot % len(names),
        )
    return slot % len(names)


def cpu_has_fast_bf16() -> bool:
    """True where oneDNN has native bf16 kernels (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slow."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


NATIVE_BF16_CAPABILITY = (
    8,
    0,
)  # Ampere: cuDNN has no bf16 convolution engines before it, torch only emulates bf16


def auto_precision(device: torch.device) -> tuple[str, str]:
    """What "auto" gives on `device`, and why: bf16 where the hardware runs it natively, else fp32.

    On CUDA that is compute capability 8.0 or newer; torch.cuda.is_bf16_supported() would also answer True on a
    V100 or T4, where bf16 is emulated (slow, or no cuDNN engine at all)."""
    device = torch.device(device)
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        if (major, minor) >= NATIVE_BF16_CAPABILITY:
            return "bf16", f"compute capability {major}.{minor} runs bf16 natively (8.0 or newer)"
        return "fp32", f"compute capability {major}.{minor} only emulates bf16 (native from 8.0)"
    if cpu_has_fast_bf16():
        return "bf16", "the CPU runs bf16 natively (AVX512-BF16 or AMX)"
    return "fp32", "the CPU only emulates bf16 (no AVX512-BF16 or AMX)"


def resolve_precision(precision: str, device: torch.device) -> str:
    """ "fp32" or "bf16"; "auto" picks bf16 where the hardware runs it natively (auto_precision)."""
    if precision in ("fp32", "bf16"):
        return precision
    if precision != "auto":
        raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    return auto_precision(device)[0]


def autocast(device: torch.device, precision: str, cache_enabled: bool = True):
    """bf16 autocast where precision is "bf16"; a region captured in a CUDA graph needs cache_enabled False."""
    return torch.autocast(
        device.type,
        dtype=torch.bfloat16,
        enabled=(precision == "bf16"),
        cache_enabled=cache_enabled,
    )
