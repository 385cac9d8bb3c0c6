"""What bounds an eager GPU training step at batch 128; gpu_suite runs this on CUDA.

step_profile: wall time against GPU-busy time per training step (torch.profiler). Where the GPU
is busy for a fraction of the step, the host's kernel launches bound the epoch, which is what
the workflow's graphed step (memdissect.training.train.GraphedStep) and its models trained together
(memdissect.training.sharing.together) remove; gpu_suite measures those through the workflow's own trainer.
"""

import torch
from common import TrainerRun, timed

PROFILED_STEPS = 20


def step_profile(run: TrainerRun, steps: int = PROFILED_STEPS) -> dict:
    """Per training step: wall ms, GPU-busy ms (kernels and copies) and kernel count, under the profiler."""
    from torch.profiler import ProfilerActivity, profile

    images = steps * run.settings.batch_size
    run(limit=images)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as profiler:
        wall = timed(lambda: run(limit=images), run.images.device)
    busy_us = sum(event.self_device_time_total for event in profiler.key_averages())
    kernels = sum(
        1 for event in profiler.events() if event.device_type == torch.autograd.DeviceType.CUDA
    )
    return {
        "wall_ms_per_step": 1e3 * wall / steps,
        "gpu_busy_ms_per_step": busy_us / 1e3 / steps,
        "kernels_per_step": kernels / steps,
        "step": run.step_kind,
    }
