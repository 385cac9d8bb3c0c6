"""Pattern search: all classes x starts as one batch (synthesize_patterns) against one start at a time.

Both run the same gradient ascent (memdissect.dissection.patterns.ascend) through a randomly initialized
DCGAN generator and VGG11, so no trained files are needed: the batched search as the workflow
runs it (on CUDA its step captured as a CUDA graph), the per-start loop as a plain loop would,
calling ascend eagerly on batches of one. With --loop-rows below classes x starts, the loop
runs on that many rows, spread over the classes, and its time is scaled up to all rows (the
table says so). The rows it ran are checked against the same rows of the batched result.

    python benchmarks/pattern_search.py [--quick] [--width 0.125] [--starts 100] [--iterations 50]
"""

from dataclasses import replace

import torch
from common import emit, machine, make_parser, print_table, timed

from memdissect.dissection.patterns import ascend, initial_latents, synthesize_patterns
from memdissect.study.settings import ClassifierSettings, GanSettings, PatternSettings
from memdissect.training.device import resolve_device
from memdissect.training.gan import build_gan
from memdissect.training.runtime import Runtime
from memdissect.training.train import build_classifier

TARGET_RATIO = 30.0
TOLERANCE = 1e-3  # relative, on z* and on the final objective


def build_networks(width: float, num_classes: int, device: torch.device):
    """A random DCGAN generator and VGG11 at `width`, frozen in eval mode as synthesize_patterns leaves them."""
    generator, _ = build_gan(GanSettings(width=width), device)
    classifier = build_classifier(
        ClassifierSettings(arch="vgg11", width=width, num_classes=num_classes), device
    )
    for network in (classifier, generator):
        network.eval().requires_grad_(False)
    return classifier, generator


def per_start(
    classifier, generator, num_classes: int, settings: PatternSettings, rows: torch.Tensor, device
):
    """z* and the final objective of the given rows of the C x S search, one start at a time."""
    z0 = initial_latents(num_classes, settings.starts, generator.latent_dim, settings.seed).flatten(
        0, 1
    )  # (C*S) x D
    target = torch.arange(num_classes).repeat_interleave(settings.starts)  # C * S
    runtime = Runtime.for_device(device, settings.precision, cuda_graphs=False)
    z_parts, end_parts = [], []
    for row in rows.tolist():
        z, trace = ascend(
            classifier,
            generator,
            z0[row : row + 1].to(device),
            target[row : row + 1].to(device),
            settings,
            runtime,
        )
        z_parts.append(z.cpu())
        end_parts.append(trace[-1].cpu())
    return torch.cat(z_parts), torch.cat(end_parts)


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()


def main():
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--width", type=float, default=0.125, help="width of both networks (the demo's 0.125)"
    )
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--starts", type=int, help="starts per class (default 20 quick, else 100)")
    parser.add_argument("--iterations", type=int, help="ascent steps (default 10 quick, else 50)")
    parser.add_argument(
        "--loop-rows", type=int, help="rows the per-start loop runs (default 40 quick, else all)"
    )
    args = parser.parse_args()
    device = resolve_device(args.device)
    starts = args.starts or (20 if args.quick else 100)
    settings = PatternSettings(
        starts=starts, iterations=args.iterations or (10 if args.quick else 50)
    )
    total_rows = args.classes * starts
    loop_rows = min(args.loop_rows or (40 if args.quick else total_rows), total_rows)
    rows = torch.linspace(0, total_rows - 1, loop_rows).round().long()  # spread over the classes
    classifier, generator = build_networks(args.width, args.classes, device)

    def quiet(*_):
        pass

    warm = replace(settings, iterations=1)  # kernel choice and allocations, outside the timings
    synthesize_patterns(classifier, generator, args.classes, warm, device, log=quiet)
    per_start(classifier, generator, args.classes, warm, rows[:2], device)
    batched = []
    batched_seconds = timed(
        lambda: batched.append(
            synthesize_patterns(classifier, generator, args.classes, settings, device, log=quiet)
        ),
        device,
    )
    looped = {}
    loop_seconds = timed(
        lambda: looped.update(
            zip(
                ("z", "end"), per_start(classifier, generator, args.classes, settings, rows, device)
            )
        ),
        device,
    )
    loop_seconds_all = loop_seconds * total_rows / loop_rows
    ratio = loop_seconds_all / batched_seconds
    z_difference = relative_difference(looped["z"], batched[0].z.flatten(0, 1)[rows])
    end_difference = relative_difference(looped["end"], batched[0].objective_end.flatten()[rows])
    agree = z_difference <= TOLERANCE and end_difference <= TOLERANCE
    scaled = (
        f" (timed on {loop_rows} rows, scaled x{total_rows / loop_rows:.3g})"
        if loop_rows < total_rows
        else ""
    )
    print_table(
        [
            {
                "method": "batched (synthesize_patterns)",
                "seconds": batched_seconds,
                "rows/s": total_rows / batched_seconds,
                "ratio": ratio,
            },
            {
                "method": f"one start at a time{scaled}",
                "seconds": loop_seconds_all,
                "rows/s": total_rows / loop_seconds_all,
                "ratio": 1.0,
            },
        ],
        ["method", "seconds", "rows/s", "ratio"],
        title=f"pattern search, {args.classes} classes x {starts} starts x {settings.iterations} iterations, "
        f"DCGAN generator + VGG11 at width {args.width:g}, {settings.precision}",
    )
    print(
        f"agreement on the {loop_rows} looped rows: max relative difference of z* {z_difference:.2e}, "
        f"of the final objective {end_difference:.2e} (tolerance {TOLERANCE:g}): {'ok' if agree else 'DIFFER'}"
    )
    emit(
        {
            "benchmark": "pattern_search",
            "quick": args.quick,
            "machine": machine(device),
            "width": args.width,
            "classes": args.classes,
            "starts": starts,
            "iterations": settings.iterations,
            "loop_rows": loop_rows,
            "batched_seconds": batched_seconds,
            "per_start_seconds": loop_seconds_all,
            "per_start_scaled_from_rows": loop_rows,
            "ratio": ratio,
            "z_relative_difference": z_difference,
            "objective_relative_difference": end_difference,
            "agree": agree,
            "targets_met": {f"ratio>={TARGET_RATIO:g}": ratio >= TARGET_RATIO, "agree": agree},
        },
        args.out,
    )


if __name__ == "__main__":
    main()
