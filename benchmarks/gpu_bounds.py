"""What bounds a GPU training epoch at batch 128, and what would move it; gpu_suite runs these on CUDA.

  - step_profile: wall time against GPU-busy time per training step (torch.profiler); where the
    GPU is busy for a fraction of the step, the host's kernel launches bound the epoch.
  - graph_step_epoch: the same step (input, forward, backward, SGD, G) captured once as a CUDA
    graph and replayed per batch: launch overhead removed, the GPU's own bound left.
  - concurrent_epochs: several training processes sharing the GPU, as independent jobs could.

Run as a script, it is one of concurrent_epochs' processes.
"""

import json
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from common import TrainerRun, random_images, synchronize, timed
from memdissect.batches import as_model_input, batch_bounds
from memdissect.settings import ClassifierSettings
from memdissect.train import data_order_generator

PROFILED_STEPS = 20


def step_profile(run: TrainerRun, steps: int = PROFILED_STEPS) -> dict:
    """Per training step: wall ms, GPU-busy ms (kernels and copies) and kernel count, under the profiler."""
    from torch.profiler import ProfilerActivity, profile

    images = steps * run.settings.batch_size
    run(limit=images)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as profiler:
        wall = timed(lambda: run(limit=images), run.images.device)
    busy_us = sum(event.self_device_time_total for event in profiler.key_averages())
    kernels = sum(1 for event in profiler.events() if event.device_type == torch.autograd.DeviceType.CUDA)
    return {"wall_ms_per_step": 1e3 * wall / steps, "gpu_busy_ms_per_step": busy_us / 1e3 / steps,
            "kernels_per_step": kernels / steps}


def graph_step_epoch(run: TrainerRun, epochs: int = 2) -> float:
    """Epoch seconds with the whole training step replayed as one CUDA graph (full batches, scaled to all images)."""
    batch = run.settings.batch_size
    static_images = torch.empty_like(run.images[:batch])
    static_labels = torch.empty_like(run.labels[:batch])
    grad_sum = torch.zeros((), device=run.images.device)

    def step():
        x = as_model_input(static_images, run.runtime.channels_last).requires_grad_(True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=run.runtime.precision == "bf16", cache_enabled=False):
            logits = run.model(x)
        loss = F.cross_entropy(logits.float(), static_labels)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        run.optimizer.step()
        grad_sum.add_(x.grad.abs().sum())

    static_images.copy_(run.images[:batch])
    static_labels.copy_(run.labels[:batch])
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up before capture, as torch.cuda.graph asks
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    n = len(run.images)
    full = n - n % batch
    generator = data_order_generator(run.settings.seed)

    def epoch():
        order = torch.randperm(n, generator=generator).to(run.images.device)
        for start, stop in batch_bounds(full, batch):
            static_images.copy_(run.images[order[start:stop]])
            static_labels.copy_(run.labels[order[start:stop]])
            graph.replay()
    epoch()
    return min(timed(epoch, run.images.device) for _ in range(epochs)) * n / full


def concurrent_epochs(jobs: int, arch: str, precision: str, images: int, device: torch.device) -> dict:
    """Seconds per epoch, all processes together, of `jobs` processes each training two epochs at once."""
    start_at = time.time() + 30  # every process warm and waiting before the common start
    command = [sys.executable, __file__, str(start_at), arch, precision, str(images), device.type]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(jobs)]
    spans = [json.loads(process.communicate()[0].strip().splitlines()[-1]) for process in processes]
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    return {"jobs": jobs, "wall_seconds": wall, "seconds_per_epoch_together": wall / (2 * jobs)}


def concurrent_process(start_at: float, arch: str, precision: str, images: int, device: torch.device) -> None:
    run = TrainerRun(ClassifierSettings(arch=arch), *random_images(images), device, precision)
    run(limit=20 * run.settings.batch_size)
    synchronize(device)
    time.sleep(max(0.0, start_at - time.time()))
    started = time.time()
    run()
    run()
    synchronize(device)
    print(json.dumps([started, time.time()]))


if __name__ == "__main__":
    concurrent_process(float(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), torch.device(sys.argv[5]))
