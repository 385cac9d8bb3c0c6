"""Which device a job computes on: the scheduler's allocation, one GPU per local job, the CPU fallback."""

import os
import subprocess
import sys
import types

import pytest
import torch
from other_user import OTHER_UID, as_other_user, needs_root

from memdissect.training import device as device_module
from memdissect.training.device import (
    DeviceError,
    claim_free_gpu,
    claim_slot,
    gpu_allocated_by_scheduler,
    resolve_device,
    resolve_precision,
)


@pytest.mark.parametrize(
    "requested, environment, allocated",
    [
        (1, {"SLURM_JOB_ID": "42", "SLURM_JOB_GPUS": "0"}, True),
        (1, {"SLURM_JOB_ID": "42", "SLURM_STEP_GPUS": "1"}, True),
        (1, {"SLURM_JOB_ID": "42", "CUDA_VISIBLE_DEVICES": "0,1"}, True),
        (
            0,
            {"SLURM_JOB_ID": "42", "SLURM_JOB_GPUS": "0"},
            False,
        ),  # a CPU rule inside a GPU job's allocation
        (
            1,
            {"CUDA_VISIBLE_DEVICES": "0"},
            False,
        ),  # a local run: Snakemake's gpu resource is only a count
        (1, {"SLURM_JOB_ID": "42"}, False),  # a SLURM job that lists no GPU
        (1, {"SLURM_JOB_ID": "42", "SLURM_JOB_GPUS": "", "CUDA_VISIBLE_DEVICES": ""}, False),
        (1, {"SLURM_JOB_ID": "", "SLURM_JOB_GPUS": "0"}, False),
        (1, {}, False),
    ],
)
def test_gpu_allocated_by_scheduler(requested, environment, allocated):
    assert gpu_allocated_by_scheduler(requested, environment) is allocated


@pytest.fixture
def claims():
    """Releases the locks a test takes (claim_slot keeps them open for the process's lifetime)."""
    before = len(device_module._CLAIMS)
    yield
    while len(device_module._CLAIMS) > before:
        device_module._CLAIMS.pop().close()


def test_claims_in_one_process_take_one_slot_each(tmp_path, claims):
    names = ["GPU-a", "GPU-b"]
    assert claim_slot(names, tmp_path) == 0
    assert (
        claim_slot(names, tmp_path) == 1
    )  # flock is per open file: the same process conflicts with itself
    assert claim_slot(names, tmp_path) is None
    device_module._CLAIMS.pop(0).close()  # the job on GPU-a ends
    assert claim_slot(names, tmp_path) == 0


HOLD = """
import fcntl, sys
handle = open({path!r}, "w")
fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("held", flush=True)
sys.stdin.read()  # hold the lock until the test closes stdin
"""


def test_a_slot_held_by_another_process_is_skipped_until_it_ends(tmp_path, claims):
    """Another job's lock on GPU-a's file (taken as claim_slot takes it; no torch import, so cheap)."""
    script = HOLD.format(path=str(tmp_path / "memdissect-gpu-GPU-a.lock"))
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert claim_slot(["GPU-a", "GPU-b"], tmp_path) == 1
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert claim_slot(["GPU-a", "GPU-b"], tmp_path) == 0  # the holder's lock went with its process


@pytest.fixture
def two_fake_gpus(monkeypatch):
    chosen = []
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(
        torch.cuda,
        "get_device_properties",
        lambda index: types.SimpleNamespace(uuid=f"uuid-{index}"),
    )
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    return chosen


def test_local_jobs_on_a_machine_with_two_gpus_take_one_each(
    tmp_path, claims, two_fake_gpus, caplog
):
    devices = [claim_free_gpu(tmp_path) for _ in range(4)]
    assert devices == [
        torch.device("cuda", index) for index in (0, 1, 0, 1)
    ]  # the third and fourth share, spread
    assert two_fake_gpus == devices
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "memdissect-gpu-uuid-0-2.lock",
        "memdissect-gpu-uuid-0.lock",
        "memdissect-gpu-uuid-1-2.lock",
        "memdissect-gpu-uuid-1.lock",
    ]
    assert [record.getMessage() for record in caplog.records] == [
        f"all 2 job slots of the 2 GPUs are taken (more GPU jobs at once than GPUs times sharing.models): this job "
        f"is job 2 on GPU {index}"
        for index in (0, 1)
    ]


def test_with_slots_for_two_jobs_per_gpu_the_second_job_goes_to_the_other_gpu_first(
    tmp_path, claims, two_fake_gpus
):
    devices = [claim_free_gpu(tmp_path, jobs_per_gpu=2) for _ in range(6)]
    assert [device.index for device in devices] == [
        0,
        1,
        0,
        1,
        0,
        1,
    ]  # the fifth and sixth: beyond the slots
    assert sorted(path.name for path in tmp_path.iterdir())[:4] == [
        "memdissect-gpu-uuid-0-2.lock",
        "memdissect-gpu-uuid-0-3.lock",
        "memdissect-gpu-uuid-0.lock",
        "memdissect-gpu-uuid-1-2.lock",
    ]


@pytest.mark.parametrize("unopenable", ["a folder", "a symbolic link"])
def test_a_lock_that_cannot_be_opened_is_a_slot_taken(tmp_path, claims, caplog, unopenable):
    lock = tmp_path / "memdissect-gpu-GPU-a.lock"
    if unopenable == "a folder":
        lock.mkdir()
    else:
        lock.symlink_to(tmp_path / "elsewhere")
    assert claim_slot(["GPU-a", "GPU-b"], tmp_path) == 1
    assert (
        caplog.records[0]
        .getMessage()
        .startswith(
            f"1 GPU slot lock(s) in {tmp_path} cannot be opened and count as taken: memdissect-gpu-GPU-a.lock ("
        )
    )
    assert not (tmp_path / "elsewhere").exists()


OTHER_USERS_JOB = """
import types, torch
torch.cuda.device_count = lambda: 2
torch.cuda.get_device_properties = lambda index: types.SimpleNamespace(uuid=f"uuid-{index}")
torch.cuda.set_device = lambda device: None
from memdissect.training.device import claim_free_gpu
print(claim_free_gpu())
"""


@needs_root
def test_two_users_jobs_on_one_machine_each_get_a_slot_in_a_folder_of_their_own(
    node_temp, claims, two_fake_gpus
):
    assert [claim_free_gpu() for _ in range(2)] == [
        torch.device("cuda", 0),
        torch.device("cuda", 1),
    ]
    assert (
        as_other_user(OTHER_USERS_JOB).stdout.strip() == "cuda:0"
    )  # it does not see this user's slots
    mine, others = (
        node_temp / f"memdissect-{uid}" / "gpu-slots" for uid in (os.geteuid(), OTHER_UID)
    )
    assert sorted(path.name for path in mine.iterdir()) == [
        "memdissect-gpu-uuid-0.lock",
        "memdissect-gpu-uuid-1.lock",
    ]
    assert [(path.name, path.stat().st_uid) for path in others.iterdir()] == [
        ("memdissect-gpu-uuid-0.lock", OTHER_UID)
    ]


def test_without_a_private_folder_for_the_slots_a_job_takes_a_gpu_by_its_process_id(
    node_temp, claims, two_fake_gpus, caplog
):
    base = node_temp / f"memdissect-{os.geteuid()}"
    base.mkdir()
    base.chmod(0o777)
    assert claim_free_gpu() == torch.device("cuda", os.getpid() % 2)
    (message,) = [record.getMessage() for record in caplog.records]
    assert message.startswith(
        f"no GPU slot claimed, so GPU {os.getpid() % 2}, chosen by process id: {base} can be "
        f"written by other users"
    )


def test_one_gpu_needs_no_claim(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert claim_free_gpu(tmp_path) == torch.device("cuda")
    assert not any(tmp_path.iterdir())


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("requested", ["cpu", "auto"])
def test_cpu_without_cuda(no_cuda, requested):
    assert resolve_device(requested) == torch.device("cpu")


def test_cpu_requested_even_when_a_gpu_is_allocated(no_cuda):
    assert resolve_device("cpu", gpu_allocated=True) == torch.device("cpu")


@pytest.mark.parametrize(
    "requested, gpu_allocated, reason",
    [
        ("cuda", False, "the config asks for device: cuda"),
        ("auto", True, "this job was allocated a GPU"),
    ],
)
def test_no_cuda_where_a_gpu_is_needed_fails_saying_why(no_cuda, requested, gpu_allocated, reason):
    with pytest.raises(
        DeviceError, match=f"^{reason}, but torch sees no CUDA device .*set device: cpu"
    ):
        resolve_device(requested, gpu_allocated=gpu_allocated)


def test_unknown_device_is_refused():
    with pytest.raises(DeviceError, match="device must be one of auto, cuda, cpu, got 'gpu'"):
        resolve_device("gpu")


@pytest.mark.parametrize(
    "precision, fast_bf16, expected",
    [
        ("auto", True, "bf16"),
        ("auto", False, "fp32"),  # auto: bf16 only where the CPU runs it natively
        ("fp32", True, "fp32"),
        ("bf16", False, "bf16"),  # a named precision is kept
    ],
)
def test_precision_on_a_cpu(monkeypatch, precision, fast_bf16, expected):
    monkeypatch.setattr(device_module, "cpu_has_fast_bf16", lambda: fast_bf16)
    assert resolve_precision(precision, torch.device("cpu")) == expected


def test_unknown_precision_is_refused_naming_the_valid_ones():
    with pytest.raises(ValueError, match=r"auto, fp32 or bf16, got 'fp16'"):
        resolve_precision("fp16", torch.device("cpu"))


@pytest.mark.parametrize(
    "capability, expected",
    [
        ((6, 0), "fp32"),
        ((7, 0), "fp32"),
        ((7, 5), "fp32"),  # P100, V100, T4: bf16 only emulated
        ((8, 0), "bf16"),
        ((8, 6), "bf16"),
        ((9, 0), "bf16"),  # A100, A10/RTX 30, H100/H200: native
    ],
)
def test_auto_on_a_gpu_is_bf16_from_compute_capability_8_only(monkeypatch, capability, expected):
    """torch.cuda.is_bf16_supported() answers True where bf16 is emulated too; the capability decides."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert resolve_precision("auto", torch.device("cuda")) == expected
    assert resolve_precision("bf16", torch.device("cuda")) == "bf16"  # asked for, it is kept
