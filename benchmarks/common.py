"""What every benchmark script shares: arguments, timing, tables, the JSON line, machine peaks.

Importing this module puts the checkout's src/ first on sys.path, so the scripts run from a
plain checkout where memdissect is not installed (a GPU host, say).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

import torch  # noqa: E402

from memdissect.training.device import DEVICE_CHOICES, cpu_has_fast_bf16  # noqa: E402

BATCH_SIZE = 128


def schema_default(key: str):
    """A top-level config key's default, from the workflow's schema: what a run does unless told otherwise."""
    import yaml

    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    return schema["properties"][key]["default"]


RESUME_EVERY_SECONDS = schema_default(
    "resume_every_seconds"
)  # a resume state at most this often, as in the workflow


# ----------------------------------------------------------------------- arguments and output


def make_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short run on tiny sizes (a few minutes at most on a 2-core CPU)",
    )
    parser.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    parser.add_argument("--out", help="also write the JSON result to this file")
    return parser


def add_trainer_options(parser: argparse.ArgumentParser, images: str, trials: str) -> None:
    """--arch, --images and --trials, with their defaults described."""
    parser.add_argument("--arch", nargs="+", default=["vgg11", "resnet32"])
    parser.add_argument("--images", type=int, help=f"images per trial (default {images})")
    parser.add_argument("--trials", type=int, help=f"timed trials per variant (default {trials})")


def emit(result: dict, out=None) -> None:
    """The JSON line, always the last line a script prints; with `out`, the same object as a file."""
    write_json(result, out)
    print(json.dumps(result, default=float), flush=True)


def write_json(result: dict, out=None) -> None:
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, default=float) + "\n")


def print_table(rows: list[dict], columns: list[str], title: str = "") -> None:
    """A plain text table of the given columns; floats printed with 4 significant digits."""
    cells = [[format_cell(row.get(column, "")) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)
    ]
    if title:
        print(f"\n{title}")
    print("  ".join(column.ljust(width) for column, width in zip(columns, widths)))
    print("  ".join("-" * width for width in widths))
    for line in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)))
    sys.stdout.flush()


def format_cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def machine(device: torch.device) -> dict:
    """What the figures were measured on."""
    info = {
        "cpu": cpu_model(),
        "cpu_threads": torch.get_num_threads(),
        "cpu_fast_bf16": cpu_has_fast_bf16(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device.type,
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ----------------------------------------------------------------------- timing


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run, device: torch.device) -> float:
    """Seconds that run() takes, the device's queued work included."""
    synchronize(device)
    started = time.perf_counter()
    run()
    synchronize(device)
    return time.perf_counter() - started


def alternate(
    variants: dict, trials: dict, device: torch.device, warmup: int = 1, cold=(), log=print
) -> dict:
    """Seconds per trial of each variant, run in turn (A B C A B C ...) after warm-up rounds.

    `trials` gives each variant's number of timed trials; a variant with fewer sits out the
    later rounds. Variants named in `cold` skip the warm-up (a slow one whose start-up cost
    is negligible). Interleaving spreads the drift of a shared machine over all variants alike.
    """
    for _ in range(warmup):
        for name, run in variants.items():
            if name not in cold:
                run()
    seconds = {name: [] for name in variants}
    for round_ in range(max(trials.values())):
        for name, run in variants.items():
            if round_ < trials[name]:
                seconds[name].append(timed(run, device))
                log(f"  round {round_ + 1}: {name} {seconds[name][-1]:.3f}s")
    return seconds


def rate_summary(seconds: list[float], items: int) -> dict:
    """Items per second over trials: median, mean and standard deviation."""
    rates = [items / s for s in seconds]
    return {
        "median": statistics.median(rates),
        "mean": statistics.fmean(rates),
        "std": statistics.stdev(rates) if len(rates) > 1 else 0.0,
        "trials": len(rates),
    }


def paired_ratio(
    seconds: list[float], items: int, baseline_seconds: list[float], baseline_items: int
) -> float:
    """Rate over baseline rate, the median over rounds of each round's pair, so drift between rounds cancels."""
    return statistics.median(
        (items / s) / (baseline_items / b) for s, b in zip(seconds, baseline_seconds)
    )


def plus_minus(summary: dict) -> str:
    return f"{summary['mean']:.4g} ± {summary['std']:.2g}"


# ----------------------------------------------------------------------- the machine's limit


def matmul_run(size: int, dtype: torch.dtype, device: torch.device, repeats: int = 3):
    """A callable doing `repeats` square matrix products of `size` in `dtype`, and the FLOPs of one call."""
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(size, size, generator=generator).to(device, dtype) for _ in range(2))

    def run():
        for _ in range(repeats):
            a @ b

    return run, 2 * size**3 * repeats


def matmul_peak(device: torch.device, dtype: torch.dtype, size: int, repeats: int = 5) -> float:
    """FLOP/s of the best of `repeats` square matrix products of `size` in `dtype`."""
    run, flops = matmul_run(size, dtype, device, repeats=1)
    run()  # warm-up: library load and kernel choice
    return flops / min(timed(run, device) for _ in range(repeats))


def training_flops_per_image(
    model, images: torch.Tensor, labels: torch.Tensor, input_grad: bool
) -> float:
    """Matrix-multiply FLOPs (convolutions, linear layers) of one training step, forward and backward, per image."""
    from torch.utils.flop_counter import FlopCounterMode

    x = images.float().div(255).requires_grad_(input_grad)
    with FlopCounterMode(display=False) as counter:
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(images)


def random_images(
    n: int, num_classes: int = 10, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random uint8 images (N x 3 x 32 x 32) and labels: the speed of training does not depend on content."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=generator)
    return images, torch.randint(0, num_classes, (n,), generator=generator)


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# ----------------------------------------------------------------------- memdissect's trainer


class TrainerRun:
    """The workflow's trainer: a ClassifierRun built as memdissect.training.train.train_from_settings builds it.

    Each call trains one epoch over `images` (its steps and the read of its totals); `round()` runs
    one epoch as the workflow does (train_round: the steps, the metrics, the test evaluation on
    `test`, the history row and, with a resume path, the resume state). With cuda_graphs (the
    workflow's default) the runtime replays the whole training step as one CUDA graph on CUDA;
    cuda_graphs=False keeps the eager step, so that a benchmark can report graphed against eager.
    Off CUDA the step is eager either way, as in the workflow.
    """

    def __init__(
        self,
        settings,
        images: torch.Tensor,
        labels: torch.Tensor,
        device: torch.device,
        precision: str,
        channels_last: bool | None = None,
        cuda_graphs: bool = True,
        test=None,
        resume_path=None,
    ):
        from dataclasses import replace

        from memdissect.training.runtime import Runtime
        from memdissect.training.train import ClassifierRun, training_data

        self.settings = replace(settings, precision=precision)
        self.runtime = Runtime.for_device(device, precision, cuda_graphs)
        if channels_last is not None:
            self.runtime = replace(self.runtime, channels_last=channels_last)
        test_images, test_labels = test if test is not None else (images[:0], labels[:0])
        data = training_data(images, labels, test_images, test_labels, self.runtime)
        self.messages: list[str] = []  # the run's log
        self.run = ClassifierRun(
            self.settings,
            data,
            self.runtime,
            resume_path,
            log=self.messages.append,
            resume_every_seconds=RESUME_EVERY_SECONDS,
        )
        self.model, self.optimizer = self.run.model, self.run.optimizer
        self.images, self.labels = data["train"]

    def __call__(self, limit: int | None = None) -> dict:
        """One training epoch over the images, or over the first `limit` of them (a warm-up)."""
        from memdissect.training.train import epoch_metrics

        run, whole = self.run, self.run.data
        if limit is not None:
            run.data = {**whole, "train": tuple(part[:limit] for part in whole["train"])}
        try:
            run.begin_epoch()
            for batch in run.batches:
                run.take_step(batch)
            with run.on_stream():
                return epoch_metrics(run.step.totals, len(run.data["train"][0]), self.settings)
        finally:
            run.data = whole

    def round(self) -> dict:
        """One epoch as the workflow trains it (train_round); returns its history row."""
        from memdissect.training.train import train_round

        if self.run.done:
            raise RuntimeError(f"the run has trained its {self.settings.epochs} epochs")
        train_round([self.run])
        if self.run.error is not None:
            raise self.run.error
        return self.run.lifecycle.history[-1]

    def write_resume_state(self) -> None:
        """What a round writes after its epoch: the run's resume state (ResumableRun.record, without a new row)."""
        from memdissect.training.checkpoints import part_states, save_resume_state
        from memdissect.training.train import CLASSIFIER_RESUME

        lifecycle = self.run.lifecycle
        save_resume_state(
            lifecycle.resume_path,
            CLASSIFIER_RESUME,
            self.settings,
            {**part_states(lifecycle.parts), "history": lifecycle.history},
        )

    @property
    def step_kind(self) -> str:
        """How the run's full batches train: "cuda graph" (captured), or "eager" and, where the capture failed,
        why (the run's log line)."""
        return step_kind(self.run, self.messages)


def step_kind(run, messages: list[str]) -> str:
    """ "cuda graph" where the ClassifierRun's step replays a captured graph; else "eager", with the reason the
    run's log gives where a capture failed."""
    from memdissect.training.train import GraphedStep

    if isinstance(run.step, GraphedStep) and run.step.graph is not None:
        return "cuda graph"
    reasons = [message for message in messages if "eagerly" in message]
    return f"eager ({reasons[0]})" if reasons else "eager"


def free_memory(device: torch.device) -> None:
    """Release what the last measurement left: its cycles, and on CUDA the cached blocks and graph pools."""
    import gc

    gc.collect()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
