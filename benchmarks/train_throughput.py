"""Training images/s: memdissect's trainer against the plain DataLoader loop, in one process, alternating.

For each architecture, one round runs in turn: the reference loop (fp32, torch.optim.SGD),
the workflow's trainer (common.TrainerRun: a ClassifierRun, on CUDA its step replayed as a
CUDA graph) in fp32, the trainer in bf16 autocast, and a large square matrix product in each
precision (the machine's matrix-multiply peak, sampled in the same rounds, since it drifts on
a shared machine). The trainer's FLOP/s is its counted training FLOPs per image (convolutions and
linear layers, forward and backward, via FlopCounterMode) times its images/s.

    python benchmarks/train_throughput.py [--quick] [--arch vgg11 resnet32] [--channels-last on|off]
"""

import torch
from common import (
    BATCH_SIZE,
    TrainerRun,
    add_trainer_options,
    alternate,
    emit,
    machine,
    make_parser,
    matmul_run,
    paired_ratio,
    plus_minus,
    print_table,
    random_images,
    rate_summary,
    training_flops_per_image,
)
from reference import ReferenceRun

from memdissect.study.settings import ClassifierSettings
from memdissect.training.device import cpu_has_fast_bf16, resolve_device
from memdissect.training.train import build_classifier

PRECISIONS = ("fp32", "bf16")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
TARGETS = {"vgg11": {"fp32": 1.0, "bf16": 1.8}, "resnet32": {"best": 1.3}}
PEAK_FRACTION_TARGETS = {"vgg11": {"fp32": 0.85, "bf16": 0.75}}


def plan(args, device: torch.device) -> dict:
    """Images per trial and trials per variant; bf16 without native support gets a token run."""
    slow_bf16 = device.type == "cpu" and not cpu_has_fast_bf16()
    images = args.images or (256 if args.quick else 1280 if device.type == "cpu" else 12800)
    plan_ = {
        "images": images,
        "trials": args.trials or (2 if args.quick else 5),
        "slow_bf16": slow_bf16,
        "matmul_size": 8192 if device.type == "cuda" else 2048,
    }
    if slow_bf16:  # emulated bf16 is ~30x slower: one step (of 32 images in --quick), one or two trials, no warm-up
        plan_ |= {
            "bf16_images": 32 if args.quick else BATCH_SIZE,
            "bf16_trials": 1 if args.quick else 2,
            "bf16_matmul_size": 512 if args.quick else 1024,
        }
    else:
        plan_ |= {
            "bf16_images": images,
            "bf16_trials": plan_["trials"],
            "bf16_matmul_size": plan_["matmul_size"],
        }
    return plan_


def measure_architecture(arch: str, plan_: dict, device: torch.device, channels_last) -> dict:
    images, labels = random_images(plan_["images"])
    settings = ClassifierSettings(
        arch=arch
    )  # the study's recipe: batch 128, SGD lr 0.01, momentum 0.9, G recorded
    probe = build_classifier(settings, torch.device("cpu"))
    flops_per_image = training_flops_per_image(
        probe, images[:8], labels[:8], input_grad=settings.grad_mode == "step"
    )
    variants, trials, items = {}, {}, {}
    variants["reference fp32"] = ReferenceRun(settings, images, labels, device)
    for precision in PRECISIONS:
        n = plan_["images"] if precision == "fp32" else plan_["bf16_images"]
        variants[f"memdissect {precision}"] = TrainerRun(
            settings, images[:n], labels[:n], device, precision, channels_last
        )
        size = plan_["matmul_size"] if precision == "fp32" else plan_["bf16_matmul_size"]
        variants[f"matmul {precision}"], items[f"matmul {precision}"] = matmul_run(
            size, DTYPES[precision], device
        )
        items[f"memdissect {precision}"] = n
    items["reference fp32"] = plan_["images"]
    for name in variants:
        trials[name] = plan_["bf16_trials"] if "bf16" in name else plan_["trials"]
    print(
        f"\n{arch}: {flops_per_image / 1e9:.3f} GFLOP per training image; rounds of {list(variants)}",
        flush=True,
    )
    cold = [name for name in variants if "bf16" in name] if plan_["slow_bf16"] else []
    seconds = alternate(variants, trials, device, cold=cold)
    rates = {name: rate_summary(seconds[name], items[name]) for name in variants}
    baseline = "reference fp32"
    for precision in PRECISIONS:
        name = f"memdissect {precision}"
        rates[name]["ratio"] = paired_ratio(
            seconds[name], items[name], seconds[baseline], items[baseline]
        )
    return rates | {"flops_per_image": flops_per_image}


def architecture_figures(arch: str, rates: dict) -> dict:
    reference = rates["reference fp32"]["median"]
    figures = {
        "reference_fp32_images_per_s": reference,
        "flops_per_image": rates["flops_per_image"],
    }
    for precision in PRECISIONS:
        trainer = rates[f"memdissect {precision}"]["median"]
        peak = rates[f"matmul {precision}"]["median"]
        figures |= {
            f"memdissect_{precision}_images_per_s": trainer,
            f"ratio_{precision}": rates[f"memdissect {precision}"]["ratio"],
            f"matmul_peak_{precision}_flops": peak,
            f"achieved_{precision}_flops": trainer * rates["flops_per_image"],
            f"fraction_of_peak_{precision}": trainer * rates["flops_per_image"] / peak,
        }
    figures["ratio_best"] = max(figures[f"ratio_{p}"] for p in PRECISIONS)
    return figures


def table_rows(arch: str, rates: dict, figures: dict) -> list[dict]:
    rows = [
        {
            "arch": arch,
            "variant": "reference (DataLoader, fp32)",
            "images/s": plus_minus(rates["reference fp32"]),
            "ratio": 1.0,
        }
    ]
    for precision in PRECISIONS:
        rows.append(
            {
                "arch": arch,
                "variant": f"memdissect {precision}",
                "images/s": plus_minus(rates[f"memdissect {precision}"]),
                "ratio": figures[f"ratio_{precision}"],
                "GFLOP/s": figures[f"achieved_{precision}_flops"] / 1e9,
                "peak GFLOP/s": figures[f"matmul_peak_{precision}_flops"] / 1e9,
                "of peak": f"{100 * figures[f'fraction_of_peak_{precision}']:.0f}%",
            }
        )
    return rows


def target_checks(results: dict) -> dict:
    checks = {}
    for arch, wanted in TARGETS.items():
        if arch in results:
            for precision, target in wanted.items():
                checks[f"{arch}_{precision}_ratio>={target}"] = (
                    results[arch][f"ratio_{precision}"] >= target
                )
    for arch, wanted in PEAK_FRACTION_TARGETS.items():
        if arch in results:
            for precision, target in wanted.items():
                checks[f"{arch}_{precision}_peak>={target}"] = (
                    results[arch][f"fraction_of_peak_{precision}"] >= target
                )
    return checks


def main():
    parser = make_parser(__doc__.splitlines()[0])
    add_trainer_options(parser, images="256 quick, 1280 CPU, 12800 GPU", trials="2 quick, else 5")
    parser.add_argument(
        "--channels-last",
        choices=("auto", "on", "off"),
        default="auto",
        help="the trainer's memory format; auto does what train_classifier does",
    )
    args = parser.parse_args()
    device = resolve_device(args.device)
    channels_last = {"auto": None, "on": True, "off": False}[args.channels_last]
    plan_ = plan(args, device)
    if plan_["slow_bf16"]:
        print(
            f"note: this CPU has no native bf16, so bf16 runs emulated and slow; it is timed on "
            f"{plan_['bf16_images']} images x {plan_['bf16_trials']} trial(s), and precision 'auto' picks fp32 here"
        )
    results, rows = {}, []
    for arch in args.arch:
        rates = measure_architecture(arch, plan_, device, channels_last)
        results[arch] = architecture_figures(arch, rates)
        rows += table_rows(arch, rates, results[arch])
    print_table(
        rows,
        ["arch", "variant", "images/s", "ratio", "GFLOP/s", "peak GFLOP/s", "of peak"],
        title=f"training throughput, batch {BATCH_SIZE}, {plan_['images']} images per trial, mean ± std "
        f"over trials (ratio: the median over rounds of each round's pair)",
    )
    if plan_["slow_bf16"]:
        print(
            "note: bf16 matrix products are emulated on this CPU and run slower than its bf16 convolutions, so "
            "the bf16 'peak' bounds nothing here; the fraction is printed for completeness"
        )
    emit(
        {
            "benchmark": "train_throughput",
            "quick": args.quick,
            "machine": machine(device),
            "plan": plan_,
            "channels_last": args.channels_last,
            "results": results,
            "ratio": {
                f"{arch}_{p}": results[arch][f"ratio_{p}"] for arch in results for p in PRECISIONS
            },
            "targets_met": target_checks(results),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
