"""The cost of recording train accuracy and G per group (clean, relabeled) in the training step.

The plain step (memdissect.training.train.TrainingStep, grad_mode "step") against the same step given the label set's
groups, which adds memdissect.analyses.learning_order's per-group totals in train.add_step: the groups' labels and masks
gathered at the batch's indices, the per-sample |x.grad| sums, one stacked count and one G product. The
variants alternate step by step in one process, on the same random images and a label set with half its
labels random; the ratio is the median over rounds of each round's step time with groups over the plain
step's. On a shared machine that ratio is noisy, so the added work is also timed alone, on one step's
tensors, many times over (`extra per step`), and set against the plain step's median time (`extra / step`).

    python benchmarks/group_totals_overhead.py [--quick] [--width 0.125 0.25] [--precision auto fp32]
"""

import itertools
import statistics

import torch
from common import (
    alternate,
    emit,
    machine,
    make_parser,
    paired_ratio,
    plus_minus,
    print_table,
    random_images,
    rate_summary,
    timed,
)

from memdissect.analyses.learning_order import (
    add_group_step,
    sample_grad_magnitudes,
)
from memdissect.study.settings import ClassifierSettings
from memdissect.training.device import resolve_device, resolve_precision
from memdissect.training.runtime import Runtime
from memdissect.training.train import TrainingStep, start_training, training_images_on

TARGET_COST = 0.03
NOISE = 0.5


class GroupedStep(TrainingStep):
    """The workflow's training step given the label set's groups, as train.ClassifierRun builds it where the
    labels have relabeled samples; true_labels and relabeled kept for `extra_alone`."""

    def __init__(self, *args, true_labels, relabeled):
        super().__init__(*args, groups=(true_labels, relabeled))
        self.true_labels, self.relabeled = true_labels, relabeled


def one_step_of(step, batches):
    """A callable that trains one step on the next batch of the cycle."""
    upcoming = itertools.cycle(batches)
    step.model.train()

    def run():
        step(next(upcoming))

    return run


def extra_alone(step: GroupedStep, repeats: int = 200) -> float:
    """Seconds per step of the added work alone: one batch's gathers, per-sample |x.grad| sums and group totals."""
    index = torch.arange(step.settings.batch_size, device=step.images.device)
    logits = torch.randn(len(index), 10, device=index.device)
    input_grad = torch.randn(len(index), 3, 32, 32, device=index.device).contiguous(
        memory_format=torch.channels_last
    )
    labels = step.labels[index]

    def run():
        for _ in range(repeats):
            add_group_step(
                step.totals,
                logits,
                labels,
                step.true_labels[index],
                step.relabeled[index],
                sample_grad_magnitudes(input_grad),
            )

    run()
    return min(timed(run, index.device) for _ in range(5)) / repeats


def variants_at(width: float, precision: str, n: int, device) -> dict:
    images, true_labels = random_images(n)
    generator = torch.Generator().manual_seed(1)
    relabeled = torch.rand(n, generator=generator) < NOISE
    labels = torch.where(
        relabeled, (true_labels + torch.randint(1, 10, (n,), generator=generator)) % 10, true_labels
    )
    settings = ClassifierSettings(arch="vgg11", width=width, precision=precision)
    runtime = Runtime.for_device(device, precision, cuda_graphs=False)
    train_images = training_images_on(images, runtime)
    batches = [
        index.to(device)
        for index in torch.randperm(n, generator=generator).split(settings.batch_size)
    ]
    steps = {}
    for name in ("plain step", "with groups"):
        model, optimizer, _ = start_training(settings, runtime)
        parts = (model, optimizer, train_images, labels.to(device), settings, runtime)
        steps[name] = (
            TrainingStep(*parts)
            if name == "plain step"
            else GroupedStep(
                *parts, true_labels=true_labels.to(device), relabeled=relabeled.to(device)
            )
        )
    return {name: one_step_of(step, batches) for name, step in steps.items()}, extra_alone(
        steps["with groups"]
    )


def main():
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--width", type=float, nargs="+", default=[0.125, 0.25])
    parser.add_argument("--precision", nargs="+", default=["auto", "fp32"])
    parser.add_argument(
        "--images", type=int, help="training images the steps cycle through (default 1280)"
    )
    parser.add_argument(
        "--trials", type=int, help="timed steps per variant (default 20 quick, else 200)"
    )
    args = parser.parse_args()
    device = resolve_device(args.device)
    n = args.images or 1280
    trials = args.trials or (20 if args.quick else 200)
    rows, results = [], {}
    for precision in dict.fromkeys(resolve_precision(p, device) for p in args.precision):
        for width in args.width:
            variants, extra = variants_at(width, precision, n, device)
            seconds = alternate(
                variants, {name: trials for name in variants}, device, log=lambda *_: None
            )
            time_ratio = 1 / paired_ratio(seconds["with groups"], 1, seconds["plain step"], 1)
            key = f"vgg11 width {width:g} {precision}"
            step_seconds = statistics.median(seconds["plain step"])
            results[key] = {
                "ratio": time_ratio,
                "cost": time_ratio - 1,
                "extra_seconds_per_step": extra,
                "plain_seconds_per_step": step_seconds,
                "extra_over_step": extra / step_seconds,
                **{
                    f"{name} images/s": rate_summary(seconds[name], 128)["median"]
                    for name in variants
                },
            }
            rows += [
                {
                    "model": key,
                    "variant": name,
                    "images/s": plus_minus(rate_summary(seconds[name], 128)),
                    "time vs plain": 1 / paired_ratio(seconds[name], 1, seconds["plain step"], 1),
                    "extra per step": f"{1e6 * extra:.0f} us" if name != "plain step" else "",
                    "extra / step": extra / step_seconds if name != "plain step" else "",
                }
                for name in variants
            ]
    print_table(
        rows,
        ["model", "variant", "images/s", "time vs plain", "extra per step", "extra / step"],
        title=f"per-group totals, batch 128, mean ± std over {trials} steps per variant, alternating "
        "(time vs plain: the median over rounds of each round's pair of steps)",
    )
    emit(
        {
            "benchmark": "group_totals_overhead",
            "quick": args.quick,
            "machine": machine(device),
            "images": n,
            "trials": trials,
            "results": results,
            "ratio": {key: r["ratio"] for key, r in results.items()},
            "targets_met": {
                f"{key} extra/step<={TARGET_COST}": r["extra_over_step"] <= TARGET_COST
                for key, r in results.items()
            },
        },
        args.out,
    )


if __name__ == "__main__":
    main()
