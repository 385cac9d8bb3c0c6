"""The `memdissect` command: Dist between saved networks, what an artifact holds, a run's Dist summary, and the
checks of a node before a study (`doctor`).

Every error is one line on stderr that names the file or value and what is valid, with exit
code 2; `doctor` exits with 1 where a check failed. torch is imported only by the subcommands
that need it, so `--help` answers at once.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from memdissect.io import ArtifactError, DataError, load_torch
from memdissect.study.architectures import VALID_ARCHITECTURES, check_normalization
from memdissect.study.plan import DIST
from memdissect.study.settings import BOOTSTRAP, PatternSettings, choices, defaults

EXIT_ERROR = 2
EXIT_CHECK_FAILED = 1
RUN_SUMMARY = Path(DIST["summary_parquet"]).relative_to("results")  # under a run's results/ folder
RUN_REPORT = Path("summary.md")
TABLE_COLUMNS = [
    "dist_mean",
    "dist_variance",
    "dist_ci_low",
    "dist_ci_high",
    "relabeled_ratio",
    "relabeled_ratio_ci_low",
    "relabeled_ratio_ci_high",
    "n_starts",
]


class CliError(ValueError):
    """A bad argument or file, said in one line."""


# ----------------------------------------------------------------------------- loading networks


def load_network(path, arch, args, device):
    """(classifier, its settings or None, its class names or None) from a memdissect checkpoint, or from a plain
    state_dict when arch is given (--width, --num-classes, --mean, --std describe it)."""
    from memdissect import api, inspect
    from memdissect.training import train

    if arch is not None:
        check_normalization(arch, args.mean, args.std, ("--mean", "--std"))
        model = api.load_classifier(
            path,
            arch,
            num_classes=args.num_classes,
            width=args.width,
            mean=args.mean,
            std=args.std,
            device=device,
        )
        return model, None, None
    kind = inspect.artifact_kind(load_torch(path))
    if kind != train.CLASSIFIER_CHECKPOINT.tag:
        raise CliError(
            f"{path} is {inspect.KINDS[kind]}, not a memdissect classifier checkpoint; for a plain "
            "state_dict give its architecture (--f1-arch/--f2-arch, or --arch)"
        )
    return train.read_classifier_checkpoint(path, device)


def check_plain_options(args, *archs) -> None:
    """Refuse the options of a plain state_dict where no network is one: they would be ignored."""
    given = [
        f"--{name.replace('_', '-')}"
        for name in ("num_classes", "mean", "std")
        if getattr(args, name)
    ]
    if given and all(arch is None for arch in archs):
        raise CliError(
            f"{', '.join(given)} describe a plain state_dict, and no network here is one; "
            "give its architecture (--f1-arch/--f2-arch, or --arch) or leave them out"
        )


def pattern_settings(args) -> dict:
    return {
        "starts": args.starts,
        "iterations": args.iterations,
        "lr": args.lr,
        "objective": args.objective,
        "optimizer": args.optimizer,
        "latent_constraint": args.latent_constraint,
        "seed": args.seed,
        "chunk_size": args.chunk_size,
    }


def synthesized_patterns(f1, classes, args, device):
    """f1's patterns through --generator, with the pattern options."""
    from memdissect import api

    if args.generator is None:
        raise CliError(
            "give --generator (a memdissect DCGAN checkpoint, results/gan/dcgan.pt) or --patterns"
        )
    generator = api.load_generator(args.generator, device)
    return api.synthesize(
        f1,
        generator,
        **pattern_settings(args),
        classes=classes,
        device=device,
        log=print_progress if args.verbose else None,
    )


def print_progress(line: str) -> None:
    print(line, file=sys.stderr)


def patterns_of(f1, f1_path, args, device):
    """The patterns of --patterns FILE, refused unless f1 gives the logits stored with them."""
    from memdissect import api

    patterns = api.load_patterns(args.patterns)
    stored = patterns.logits
    gap = (
        (api.logits_on(patterns, f1, device) - stored).abs().max().item() if stored.numel() else 0.0
    )
    if gap > 1e-3 * (1 + stored.abs().max().item()):
        raise CliError(
            f"{args.patterns} holds the patterns of another network than {f1_path}: its logits on them "
            f"differ from the stored ones by up to {gap:.3g}"
        )
    return patterns


# ----------------------------------------------------------------------------- tables


def dist_rows(f1_path, f2_path, results: dict) -> list[dict]:
    """One table row per compared network: f1, f2 and every number of its DistResult."""
    return [
        {"f1": str(f1_path), "f2": name if name == "untrained" else str(f2_path), **result.as_row()}
        for name, result in results.items()
    ]


def format_interval(low: float, high: float) -> str:
    return f"[{low:.4g}, {high:.4g}]"


def readable_table(frame, confidence: float) -> str:
    """A Dist table (dist_summary's columns) as aligned text: 4 significant digits, intervals in brackets."""
    level = f"{confidence:.0%} CI"
    shown = frame[
        [column for column in ("condition", "f1", "f2") if column in frame.columns]
    ].copy()
    shown["dist_mean"] = frame["dist_mean"].map("{:.4g}".format)
    shown["variance"] = frame["dist_variance"].map("{:.3g}".format)
    shown[level] = [
        format_interval(*pair) for pair in zip(frame["dist_ci_low"], frame["dist_ci_high"])
    ]
    shown["relabeled_ratio"] = frame["relabeled_ratio"].map("{:.4g}".format)
    shown[f"ratio {level}"] = [
        format_interval(*pair)
        for pair in zip(frame["relabeled_ratio_ci_low"], frame["relabeled_ratio_ci_high"])
    ]
    shown["starts"] = frame["n_starts"]
    return shown.to_string(index=False)


def print_table(frame, as_csv: bool, confidence: float = BOOTSTRAP["confidence"]) -> None:
    if as_csv:
        print(
            frame.to_csv(index=False), end=""
        )  # every float as repr writes it: read back, the same float
    else:
        print(readable_table(frame, confidence))


# ----------------------------------------------------------------------------- commands


def command_dist(args) -> None:
    """Dist(F1, F2) and Dist(F1, untrained twin of F1) on F1's patterns."""
    import pandas as pd

    from memdissect import api
    from memdissect.training.device import resolve_device

    check_plain_options(args, args.f1_arch, args.f2_arch)
    device = resolve_device(args.device)
    f1, _, classes = load_network(args.f1, args.f1_arch, args, device)
    f2, _, _ = load_network(args.f2, args.f2_arch, args, device)
    if args.patterns is not None:
        patterns = patterns_of(f1, args.f1, args, device)
    else:
        patterns = synthesized_patterns(f1, classes, args, device)
    bootstrap = {
        "n_resamples": args.bootstrap,
        "confidence": args.confidence,
        "seed": args.bootstrap_seed,
    }
    results = {"f2": api.dist(patterns, f2, device=device, **bootstrap)}
    if not args.no_null:
        results["untrained"] = api.null_baseline(patterns, f1, device=device, **bootstrap)
    print_table(pd.DataFrame(dist_rows(args.f1, args.f2, results)), args.csv, args.confidence)


def command_patterns(args) -> None:
    """Synthesize F1's patterns and save them as a pattern file."""
    from memdissect import api
    from memdissect.dissection.diagnostics import pattern_hits
    from memdissect.training.device import resolve_device

    check_plain_options(args, args.arch)
    device = resolve_device(args.device)
    f1, _, classes = load_network(args.f1, args.arch, args, device)
    patterns = synthesized_patterns(f1, classes, args, device)
    api.save_patterns(patterns, args.out)
    hit, _ = pattern_hits(patterns.logits)
    print(
        f"{args.out}: {patterns.num_classes} classes x {patterns.starts} starts, f1's argmax is the searched "
        f"class on {hit.double().mean().item():.1%} of them"
    )


def command_describe(args) -> None:
    from memdissect import inspect

    print(inspect.describe(args.path))


def run_results_folder(path: Path) -> Path:
    """The results/ folder of a run, given it or the folder that holds it."""
    for folder in (path, path / "results"):
        if (folder / RUN_SUMMARY).exists():
            return folder
    raise CliError(
        f"{path} holds no {RUN_SUMMARY} (nor results/{RUN_SUMMARY}): give a run's folder or its "
        "results/ folder, after the rule dist_tables has run"
    )


def command_summary(args) -> None:
    """The Dist summary of a finished run, optionally one condition's, and where its report is."""
    from memdissect.io import read_parquet

    results = run_results_folder(Path(args.results))
    summary = read_parquet(results / RUN_SUMMARY)
    if args.condition is not None:
        conditions = list(dict.fromkeys(summary["condition"]))
        if args.condition not in conditions:
            raise CliError(
                f"{results / RUN_SUMMARY} has no condition {args.condition!r}; valid: "
                f"{', '.join(conditions)}"
            )
        summary = summary[summary["condition"] == args.condition]
    keys = [column for column in ("condition", "f1", "f2") if column in summary.columns]
    print_table(summary[keys + TABLE_COLUMNS], args.csv)
    report = results / RUN_REPORT
    if not args.csv:
        print(f"\nreport: {report}" if report.exists() else f"\nreport: {report} (not made yet)")


# ----------------------------------------------------------------------------- doctor
# Each check is a function of the device that returns one row, (check, status, detail); DOCTOR_ROWS lists them, so
# that a check is added with one line there. A check that needs a GPU says on a CPU node that it does not apply.

OK, FAILED, INFO, NOT_HERE = "ok", "FAILED", "info", "does not apply"
SLURM_VARIABLES = (
    "SLURM_JOB_ID",
    "SLURM_JOB_PARTITION",
    "SLURM_JOB_GPUS",
    "SLURM_STEP_GPUS",
    "SLURM_GPUS_ON_NODE",
    "SLURM_CPUS_PER_TASK",
    "SLURM_MEM_PER_NODE",
    "CUDA_VISIBLE_DEVICES",
)
DROPOUT_CNN = "memdissect.cli:dropout_cnn"


def dropout_cnn(num_classes: int = 10):
    """A small CNN that draws random numbers as it trains (dropout): the doctor's network for the check that what a
    network draws stays its own; build_model builds it as `memdissect.cli:dropout_cnn`."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(4),  # 16 x 8 x 8
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(8),  # 32 x 1 x 1
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(32, num_classes),
    )


def doctor_device(requested: str):
    import torch

    from memdissect.training.device import DeviceError

    if requested == "cpu" or (requested == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DeviceError(f"--device cuda, but torch {torch.__version__} sees no CUDA device")
    return torch.device("cuda", torch.cuda.current_device())


def doctor_run(
    arch: str,
    device,
    images: int | None = None,
    batch_size: int | None = None,
    width: float = 0.25,
    seed: int = 1,
    cuda_graphs: bool = True,
    stream=None,
):
    """A one-epoch ClassifierRun on synthetic images, as a training job builds it (precision auto): by default 8
    steps of 64 on CUDA (3 warm-up steps, the capture and its check, 4 replays), 4 of 32 on a CPU."""
    from memdissect.data.synthetic import make_synthetic_dataset
    from memdissect.study.settings import ClassifierSettings
    from memdissect.training.runtime import Runtime
    from memdissect.training.train import ClassifierRun, training_data

    images = images or (512 if device.type == "cuda" else 128)
    batch_size = batch_size or images // (8 if device.type == "cuda" else 4)
    data = make_synthetic_dataset(images, 32, seed=0)
    settings = ClassifierSettings(
        arch=arch, width=width, seed=seed, epochs=1, batch_size=batch_size
    )
    runtime = Runtime.for_device(device, settings.precision, cuda_graphs)
    splits = training_data(
        data["train"]["images"],
        data["train"]["labels"],
        data["test"]["images"],
        data["test"]["labels"],
        runtime,
    )
    return ClassifierRun(settings, splits, runtime, log=lambda line: None, stream=stream)


def trained_weights(runs) -> list[tuple[list, list]]:
    """Each run's weights before and after training (the runs side by side, as memdissect.training.sharing.together trains them)."""
    import torch

    from memdissect.training.train import train_round

    def weights(run):
        if run.runtime.device.type == "cuda":
            torch.cuda.synchronize()  # what the runs' own streams queued
        return [tensor.detach().float().cpu() for tensor in run.model.state_dict().values()]

    before = [weights(run) for run in runs]
    while not all(run.done for run in runs):
        train_round(runs)
    for run in runs:
        if run.error is not None:
            raise run.error
    return [(start, weights(run)) for start, run in zip(before, runs)]


def run_tolerance(run) -> float:
    """How far two runs of the same settings may end apart: not at all on a CPU; on CUDA, as a graph's self-check."""
    from memdissect.training.runtime import SELF_CHECK_TOLERANCE

    return SELF_CHECK_TOLERANCE[run.runtime.precision] if run.runtime.device.type == "cuda" else 0.0


def versions_row(device) -> tuple[str, str, str]:
    import torch

    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return (
        "torch and CUDA",
        INFO,
        (
            f"torch {torch.__version__}, CUDA {torch.version.cuda or 'none (a CPU build)'}, "
            f"cuDNN {cudnn or 'none'}"
        ),
    )


def device_row(device) -> tuple[str, str, str]:
    import torch

    from memdissect.training.device import gpu_allocated_by_scheduler

    if device.type == "cuda":
        properties = torch.cuda.get_device_properties(device)
        return (
            "device",
            OK,
            (
                f"{device} {properties.name}, compute capability {properties.major}."
                f"{properties.minor}, {properties.total_memory / 2**30:.0f} GiB; "
                f"{torch.cuda.device_count()} GPU(s) visible"
            ),
        )
    if torch.cuda.is_available():
        return (
            "device",
            INFO,
            (
                f"the CPU, as --device asks (torch sees {torch.cuda.device_count()} CUDA "
                f"device(s)), so the checks that need one do not apply"
            ),
        )
    if gpu_allocated_by_scheduler(1):
        return (
            "device",
            FAILED,
            (
                f"SLURM gave this job GPUs, but torch {torch.__version__} sees no CUDA device: "
                f"install a CUDA build of PyTorch on the GPU nodes"
            ),
        )
    return (
        "device",
        INFO,
        "the CPU; torch sees no CUDA device here, so the checks that need one do not apply",
    )


def precision_row(device) -> tuple[str, str, str]:
    from memdissect.training.device import auto_precision

    precision, why = auto_precision(device)
    return "precision: auto", OK, f"{precision}: {why}"


def tf32_row(device) -> tuple[str, str, str]:
    from memdissect.training.runtime import compute_on, cuda_fp32_settings, fp32_math

    if device.type != "cuda":
        return "TF32", NOT_HERE, f"CUDA only (fp32 computes as {fp32_math(device)} here)"
    compute_on(device)
    settings = ", ".join(
        f"{name} {setting.fp32_precision}" for name, setting in cuda_fp32_settings().items()
    )
    math = fp32_math(device)
    return (
        "TF32",
        OK if math == "ieee" else FAILED,
        f"fp32 computes as {math} ({settings}); memdissect's is ieee",
    )


def graph_row(device) -> tuple[str, str, str]:
    """A small VGG11 whose steps replay as a CUDA graph (its first replay checked against the eager step), and its
    weights after an epoch against those of the same run eager."""
    from memdissect.training.runtime import replay_deviation

    if device.type != "cuda":
        return "CUDA graphs", NOT_HERE, "CUDA only"
    graphed = doctor_run("vgg11", device)
    ((start, replayed),) = trained_weights([graphed])
    ((_, eager),) = trained_weights([doctor_run("vgg11", device, cuda_graphs=False)])
    status, miss, tolerance = (
        graphed.graph_status(),
        replay_deviation(start, eager, replayed),
        run_tolerance(graphed),
    )
    good = status.graph == "replayed" and miss <= tolerance
    return (
        "CUDA graphs",
        OK if good else FAILED,
        (
            f"VGG11 step {status.graph} ({status.note}); after an epoch "
            f"within {miss:.2g} of the eager run (tolerance {tolerance:g})"
        ),
    )


def side_by_side_row(device) -> tuple[str, str, str]:
    """A CNN with dropout and a VGG11 trained side by side (on CUDA each on its stream, replayed as graphs), against
    each alone. The VGG11 starts second: its seed must not reseed what the first draws."""
    import torch

    from memdissect.training.runtime import replay_deviation

    members = [(DROPOUT_CNN, 1.0, 1), ("vgg11", 0.25, 2)]

    def stream():
        return torch.cuda.Stream(device) if device.type == "cuda" else None

    runs = [
        doctor_run(arch, device, width=width, seed=seed, stream=stream())
        for arch, width, seed in members
    ]
    together = trained_weights(runs)
    alone = [
        trained_weights([doctor_run(arch, device, width=width, seed=seed)])[0]
        for arch, width, seed in members
    ]
    misses = [
        replay_deviation(start, reference, found)
        for (start, found), (_, reference) in zip(together, alone)
    ]
    tolerance = run_tolerance(runs[0])
    return (
        "two runs side by side",
        OK if max(misses) <= tolerance else FAILED,
        (
            f"a CNN with dropout and a VGG11, trained together, within {misses[0]:.2g} and {misses[1]:.2g} of each "
            f"alone (tolerance {tolerance:g})"
        ),
    )


def slurm_row(device) -> tuple[str, str, str]:
    given = {name: os.environ[name] for name in SLURM_VARIABLES if os.environ.get(name)}
    if "SLURM_JOB_ID" not in given:
        return (
            "SLURM",
            INFO,
            "not a SLURM job" + "".join(f"; {name}={value}" for name, value in given.items()),
        )
    return "SLURM", INFO, ", ".join(f"{name}={value}" for name, value in given.items())


def private_folders_row(device) -> tuple[str, str, str]:
    """The folders where this user's jobs on the node claim GPU slots and meet to train together
    (memdissect.training.sharing.private_folders); one another user could reach is refused, and the jobs then go on without it."""
    from memdissect.training.sharing.private_folders import (
        PURPOSES,
        PrivateFolderError,
        private_folder,
    )

    check = "GPU slots and rooms"
    try:
        folders = [private_folder(purpose) for purpose in PURPOSES]
    except PrivateFolderError as error:
        unused = device.type != "cuda"
        return (
            check,
            INFO if unused else FAILED,
            str(error) + ("; jobs on a CPU use it only with sharing.on_cpu" if unused else ""),
        )
    return check, OK, ", ".join(map(str, folders)) + " (mode 0700, this user's own)"


def throughput_row(device) -> tuple[str, str, str]:
    """The first training steps of VGG11 (full width at batch 128 on CUDA; narrow on a CPU, to stay quick)."""
    import torch

    def finished() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter()

    width, batch_size, steps = (1.0, 128, 40) if device.type == "cuda" else (0.25, 32, 10)
    run = doctor_run("vgg11", device, images=batch_size * steps, batch_size=batch_size, width=width)
    run.begin_epoch()
    started = time.perf_counter()
    for index, batch in enumerate(run.batches):
        if index == 5:  # after the warm-up, the capture and its check
            first, started = finished() - started, time.perf_counter()
        run.take_step(batch)
    rate = batch_size * (steps - 5) / (finished() - started)
    return (
        "throughput",
        INFO,
        (
            f"VGG11 width {width:g}, batch {batch_size}, {run.runtime.precision}, CUDA graph "
            f"{run.graph_status().graph}: steps 1-5 {first:.2f} s, steps 6-{steps} {rate:.0f} "
            f"images/s"
        ),
    )


DOCTOR_ROWS = (
    versions_row,
    device_row,
    precision_row,
    tf32_row,
    graph_row,
    side_by_side_row,
    slurm_row,
    private_folders_row,
    throughput_row,
)


def doctor_row(row, device) -> tuple[str, str, str]:
    """A check's row; one that raises fails, saying what it raised."""
    try:
        return row(device)
    except Exception as error:  # noqa: BLE001  (the table goes on; the failure is its row)
        message = (str(error).strip().splitlines() or [""])[0]
        return (
            row.__name__.removesuffix("_row").replace("_", " "),
            FAILED,
            f"{type(error).__name__}: {message}",
        )


def doctor_table(rows: list[tuple[str, str, str]]) -> str:
    rows = [("check", "status", "detail"), *rows]
    widths = [max(len(row[column]) for row in rows) for column in (0, 1)]
    return "\n".join(
        f"{check:<{widths[0]}}  {status:<{widths[1]}}  {detail}" for check, status, detail in rows
    )


def command_doctor(args) -> int:
    """Every check of DOCTOR_ROWS as a table; exit code 1 where one failed."""
    started = time.perf_counter()
    os.environ.setdefault(
        "CUDA_DEVICE_ORDER", "PCI_BUS_ID"
    )  # as a job numbers GPUs (workflow/scripts/job.py)
    device = doctor_device(args.device)
    rows = [doctor_row(row, device) for row in DOCTOR_ROWS]
    print(doctor_table(rows))
    failed = [check for check, status, _ in rows if status == FAILED]
    print(
        f"\n{len(rows)} checks in {time.perf_counter() - started:.0f} s on {device}: "
        + (f"{len(failed)} failed ({', '.join(failed)})" if failed else "none failed")
    )
    return EXIT_CHECK_FAILED if failed else 0


# ----------------------------------------------------------------------------- the parser


def pattern_options() -> argparse.ArgumentParser:
    """The options of pattern search, shared by `dist` and `patterns`; defaults are the paper's."""
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("pattern search (defaults: the paper's)")
    group.add_argument(
        "--generator", metavar="G", help="a memdissect DCGAN checkpoint (results/gan/dcgan.pt)"
    )
    default = defaults(PatternSettings)
    group.add_argument(
        "--starts",
        type=int,
        default=default["starts"],
        help="random starts per class (default: %(default)s)",
    )
    group.add_argument(
        "--iterations",
        type=int,
        default=default["iterations"],
        help="ascent steps (default: %(default)s)",
    )
    group.add_argument(
        "--lr", type=float, default=default["lr"], help="ascent step size (default: %(default)s)"
    )
    group.add_argument(
        "--objective",
        default=default["objective"],
        choices=choices(PatternSettings, "objective"),
        help="what is maximized for class j (default: %(default)s)",
    )
    group.add_argument(
        "--optimizer",
        default=default["optimizer"],
        choices=choices(PatternSettings, "optimizer"),
        help="(default: %(default)s)",
    )
    group.add_argument(
        "--latent-constraint",
        default=default["latent_constraint"],
        choices=choices(PatternSettings, "latent_constraint"),
        help="clamp: |z| <= 3, sphere: |z| = sqrt(D) (default: %(default)s)",
    )
    group.add_argument(
        "--seed",
        type=int,
        default=default["seed"],
        help="seed of the starting latents (default: %(default)s)",
    )
    group.add_argument(
        "--chunk-size",
        type=int,
        default=default["chunk_size"],
        help="rows optimized at once (default: %(default)s)",
    )
    group.add_argument(
        "--verbose", action="store_true", help="print the search's progress on stderr"
    )
    return options


def common_options() -> argparse.ArgumentParser:
    """The device and the description of a plain state_dict, shared by the commands that load classifiers."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to compute (default: auto, CUDA where present)",
    )
    plain = options.add_argument_group("a plain state_dict instead of a memdissect checkpoint")
    plain.add_argument(
        "--width", type=float, default=1.0, help="its width multiplier (default: %(default)s)"
    )
    plain.add_argument(
        "--num-classes",
        type=int,
        metavar="C",
        help="its classes (default: the rows of its last 2-D weight)",
    )
    for statistic in ("mean", "std"):
        plain.add_argument(
            f"--{statistic}",
            type=float,
            nargs=3,
            metavar=("R", "G", "B"),
            help=f"the per-channel {statistic} it was trained with: required for torchvision:<name> and "
            f"<module>:<function>; memdissect's own use CIFAR-10's unless given",
        )
    return options


def csv_option() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--csv",
        action="store_true",
        help="print CSV instead of a table, every number as stored (it reads back to the same float)",
    )
    return options


def add_command(
    commands, name: str, run, summary: str, description: str, parents=()
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, parents=list(parents), help=summary, description=description)
    parser.set_defaults(run=run)
    return parser


ARCH_HELP = f"is a plain state_dict of this architecture: {VALID_ARCHITECTURES}"


def add_dist_parser(commands, parents) -> None:
    parser = add_command(
        commands,
        "dist",
        command_dist,
        "Dist(f1, f2) between two saved classifiers",
        "Dist(F1, F2) = mean over classes of KL(F1(x*) || F2(x*)) on F1's patterns x*, with its variance and "
        "bootstrap interval over starts, the relabeled ratio, and F1 against an untrained network of its "
        "architecture (about log C: a scale, not evidence). F1 and F2 are memdissect classifier checkpoints "
        "(results/models/<model>/weights.pt) or, with --f1-arch/--f2-arch, plain state_dicts.",
        parents,
    )
    parser.add_argument(
        "f1", metavar="F1", help="the reference network, whose patterns are searched"
    )
    parser.add_argument("f2", metavar="F2", help="the network compared with F1")
    parser.add_argument(
        "--patterns",
        metavar="FILE",
        help="reuse F1's pattern file (results/patterns/<f1>.pt) "
        "instead of searching; the pattern options are then unused",
    )
    parser.add_argument("--f1-arch", metavar="ARCH", help=f"F1 {ARCH_HELP}")
    parser.add_argument("--f2-arch", metavar="ARCH", help=f"F2 {ARCH_HELP}")
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=BOOTSTRAP["n_resamples"],
        metavar="N",
        help="bootstrap resamples over starts (default: %(default)s)",
    )
    parser.add_argument(
        "--confidence",
        type=float,
        default=BOOTSTRAP["confidence"],
        metavar="LEVEL",
        help="interval level (default: %(default)s)",
    )
    parser.add_argument(
        "--bootstrap-seed",
        type=int,
        default=BOOTSTRAP["seed"],
        metavar="SEED",
        help="seed of the resampling (default: %(default)s)",
    )
    parser.add_argument("--no-null", action="store_true", help="leave out the untrained network")


def add_patterns_parser(commands, parents) -> None:
    parser = add_command(
        commands,
        "patterns",
        command_patterns,
        "synthesize a classifier's patterns into a pattern file",
        "Search F1's patterns through a DCGAN (x* = G(z*), z* = argmax_z F1_j(G(z)) for every class j and start) "
        "and save them as a pattern file, which `memdissect dist --patterns` and `memdissect describe` read.",
        parents,
    )
    parser.add_argument(
        "f1",
        metavar="F1",
        help="a memdissect classifier checkpoint (or, with --arch, a state_dict)",
    )
    parser.add_argument("--arch", help=f"F1 {ARCH_HELP}")
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="where to write the pattern file (.pt)"
    )


def add_describe_parser(commands) -> None:
    parser = add_command(
        commands,
        "describe",
        command_describe,
        "what a memdissect artifact holds and the settings that made it",
        "Describe a memdissect file: a classifier checkpoint, the DCGAN, a pattern file, a data split "
        "(results/data/*.pt), a model's test outputs, a resume state, a plain state_dict, or a parquet/CSV table "
        "(with the epochs and final accuracies of a history, the pairs of a Dist summary).",
    )
    parser.add_argument("path", metavar="PATH")


def add_summary_parser(commands, parents) -> None:
    parser = add_command(
        commands,
        "summary",
        command_summary,
        "the Dist summary table of a finished run",
        "Print results/dist/dist_summary.parquet of a finished run as a table (Dist with its interval over starts, "
        "the relabeled ratio with its interval; f2 'untrained' is the null baseline), and the path of "
        "results/summary.md.",
        parents,
    )
    parser.add_argument(
        "results", metavar="RESULTS_DIR", help="the run's folder or its results/ folder"
    )
    parser.add_argument("--condition", help="only this condition's pairs")


def add_doctor_parser(commands) -> None:
    parser = add_command(
        commands,
        "doctor",
        command_doctor,
        "check a node before a study: device, precision, TF32, CUDA graphs",
        "Check the node a study will run on, before it spends an allocation (on a GPU node, `srun --gpus=1 "
        "memdissect doctor`; under a minute there): torch and CUDA versions, the device and its compute "
        "capability, what precision auto picks and why, whether fp32 runs as TF32, a small VGG11 step captured as "
        "a CUDA graph against the eager one, two runs side by side against each alone, what SLURM gave the job, "
        "and the first training steps' throughput. Prints a table; exit code 1 where a check failed. On a CPU node "
        "the checks that need a GPU say that they do not apply.",
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to check (default: auto, CUDA where present)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memdissect",
        description="Neural network memorization dissection: Dist between classifiers on the "
        "patterns a DCGAN-regularized search finds, and the artifacts of a run.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    networks, csv = [common_options(), pattern_options()], csv_option()
    add_dist_parser(commands, [*networks, csv])
    add_patterns_parser(commands, networks)
    add_describe_parser(commands)
    add_summary_parser(commands, [csv])
    add_doctor_parser(commands)
    return parser


def is_users_error(error: Exception) -> bool:
    """Whether an error says what is wrong with a file or value (one line for the user), not a bug."""
    from memdissect.training.device import (
        DeviceError,  # imports torch, which a command raising it has imported anyway
    )

    return isinstance(
        error,
        (ArtifactError, DataError, CliError, DeviceError, ValueError, OSError, FloatingPointError),
    )


def one_line(message: str) -> str:
    """An error message on one line: one that quotes a library's text over several lines is cut before the quote."""
    lines = message.strip().splitlines()
    return lines[0].split(" (", 1)[0] if len(lines) > 1 else message


def main(argv=None) -> int:
    """Run one command; 0 on success, 2 with one line on stderr where a file or value is wrong, 1 where a check of
    `doctor` failed."""
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
    except Exception as error:
        if not is_users_error(error):
            raise
        print(f"memdissect {args.command}: error: {one_line(str(error))}", file=sys.stderr)
        return EXIT_ERROR
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
