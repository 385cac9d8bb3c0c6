"""The cost of recording G: the trainer with grad_mode "step" against "off", alternating in one process.

"step" reads G from the training step's own backward pass (one more input gradient per
step). For scale, a third variant does what the plain way would: train with "off", then a
separate gradient pass over the training set (input_gradient_magnitude, grad_mode "exact").

    python benchmarks/grad_magnitude_overhead.py [--quick] [--arch vgg11 resnet32]
"""

from common import (
    TrainerRun,
    add_trainer_options,
    alternate,
    emit,
    machine,
    make_parser,
    paired_ratio,
    plus_minus,
    print_table,
    random_images,
    rate_summary,
)

from memdissect.study.settings import ClassifierSettings
from memdissect.training.device import resolve_device, resolve_precision
from memdissect.training.train import input_gradient_magnitude

TARGET_COST = 0.03


def with_separate_pass(train: TrainerRun):
    """Train one epoch without G, then measure G in a separate pass: the usual way to get it."""

    def run():
        train()
        input_gradient_magnitude(train.model, train.images, train.labels, train.runtime)

    return run


def main():
    parser = make_parser(__doc__.splitlines()[0])
    add_trainer_options(parser, images="128 quick, 1280 CPU, 12800 GPU", trials="4 quick, else 7")
    args = parser.parse_args()
    device = resolve_device(args.device)
    precision = resolve_precision("auto", device)
    n = args.images or (128 if args.quick else 1280 if device.type == "cpu" else 12800)
    trials = args.trials or (4 if args.quick else 7)
    images, labels = random_images(n)
    results, rows = {}, []
    for arch in args.arch:
        variants = {
            mode: TrainerRun(
                ClassifierSettings(arch=arch, grad_mode=mode), images, labels, device, precision
            )
            for mode in ("off", "step")
        }
        variants["off + separate pass"] = with_separate_pass(
            TrainerRun(
                ClassifierSettings(arch=arch, grad_mode="exact"), images, labels, device, precision
            )
        )
        print(f"\n{arch} ({precision}): rounds of {list(variants)}", flush=True)
        seconds = alternate(variants, {name: trials for name in variants}, device)
        rates = {name: rate_summary(seconds[name], n) for name in variants}
        # paired per round, so drift between rounds cancels
        cost = 1 / paired_ratio(seconds["step"], n, seconds["off"], n) - 1
        separate = 1 / paired_ratio(seconds["off + separate pass"], n, seconds["off"], n) - 1
        results[arch] = {
            "off_images_per_s": rates["off"]["median"],
            "step_images_per_s": rates["step"]["median"],
            "separate_pass_images_per_s": rates["off + separate pass"]["median"],
            "cost": cost,
            "ratio": 1 / (1 + cost),
            "separate_pass_cost": separate,
        }
        rows += [
            {
                "arch": arch,
                "grad_mode": name,
                "images/s": plus_minus(rates[name]),
                "time vs off": 1 / paired_ratio(seconds[name], n, seconds["off"], n),
            }
            for name in variants
        ]
    print_table(
        rows,
        ["arch", "grad_mode", "images/s", "time vs off"],
        title=f"recording G, {precision}, {n} images per trial, mean ± std over {trials} trials "
        f"(time vs off: from the median over rounds of each round's pair; cost = that - 1)",
    )
    emit(
        {
            "benchmark": "grad_magnitude_overhead",
            "quick": args.quick,
            "machine": machine(device),
            "precision": precision,
            "images": n,
            "trials": trials,
            "results": results,
            "ratio": {arch: results[arch]["ratio"] for arch in results},
            "cost": {arch: results[arch]["cost"] for arch in results},
            "targets_met": {
                f"{arch}_cost<={TARGET_COST}": results[arch]["cost"] <= TARGET_COST
                for arch in results
            },
        },
        args.out,
    )


if __name__ == "__main__":
    main()
