"""One GPU, in about 7 minutes: the workflow's trainer, models trained together, pattern search, the config projected.

Measures, on CIFAR-10 (50,000 training images) at batch 128, with the workflow's own code: bf16
autocast and channels_last on CUDA, each training step replayed as one CUDA graph after 3 eager
steps (memdissect.training.train.ClassifierRun and train_round, as train_from_settings runs them):
  - the training epoch of VGG11, VGG13 and ResNet32; each one's test evaluation, resume state and
    whole round (train_round: steps, metrics, evaluation, history row, resume state); VGG11 with
    the eager step (for the ratio) and with augmentation;
  - the cost of the first replay's self-check (once per run) against a replay and an eager step
    (on a CPU with the replays emulated, each an eager step);
  - K VGG11 models trained together in one process, each a ClassifierRun on its own CUDA stream,
    all advanced by train_round, as memdissect.training.sharing.together trains the jobs that meet on a GPU
    (K = 1, 2, 4, and 8 time allowing), against one model alone with the eager step; VGG13 and
    ResNet32 at the best K, time allowing;
  - the pattern search of the paper config (10 classes x 100 starts x 1000 iterations, full-width
    DCGAN generator + VGG11, random weights) through synthesize_patterns, in the config's precision
    and in bf16, and f2's evaluation on the patterns;
  - a DCGAN epoch, the reference DataLoader loop on VGG11 (fp32, torch.optim.SGD), a job's start-up;
  - what bounds an eager step (gpu_bounds.step_profile), time allowing;
then projects the GPU time of config/config.yaml (`project` states the formula).

The data come from a copy of the CIFAR-10 JPEG tarball inside the checkout (--data, default
data/cifar10-jpeg.tar.gz, an ignored folder), so a GPU host needs no internet and no ../shared;
without it the suite says so and times random images of the same shape. It needs python3 with
torch, torchvision, numpy, pandas, pyarrow, pillow and pyyaml; memdissect is imported from src/
and snakemake is not needed. Each figure is written to --out as soon as it is measured.

    python benchmarks/gpu_suite.py [--out results.json]        # on the GPU host
    python benchmarks/gpu_suite.py --quick --device cpu         # tiny sizes: proves the code path here
    python benchmarks/gpu_suite.py --self-check 7 --device cpu  # only the self-check's cost, replays emulated
"""

import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
import yaml
from common import (
    REPO,
    RESUME_EVERY_SECONDS,
    TrainerRun,
    emit,
    free_memory,
    machine,
    make_parser,
    matmul_peak,
    print_table,
    random_images,
    step_kind,
    synchronize,
    timed,
    write_json,
)
from gpu_bounds import step_profile
from reference import ReferenceRun

from memdissect.data.tensors import load_image_folder_split
from memdissect.dissection.patterns import logits_on_patterns, synthesize_patterns
from memdissect.study.design import dissection_pairs, expand_classifiers, pattern_sources, trained
from memdissect.study.settings import ClassifierSettings, GanSettings, PatternSettings
from memdissect.training import runtime
from memdissect.training.device import resolve_device, resolve_precision
from memdissect.training.gan import build_gan, build_gan_optimizers, train_gan_epoch
from memdissect.training.runtime import Runtime
from memdissect.training.train import (
    ClassifierRun,
    build_classifier,
    evaluate,
    train_round,
    training_data,
)

ARCHS = ("vgg11", "vgg13", "resnet32")
CIFAR10_TRAIN_SIZE = 50_000
TARGETS = {
    "gpu_minutes": 20.0,
    "vgg11_epoch_seconds": 0.5,
    "together_models": 4,
    "together_vs_eager_alone": 5.0,
    "pattern_search_bf16_seconds": 2.0,
}
OPTIONAL_RESERVE = 90  # seconds of --budget an optional measurement needs left to start


# ----------------------------------------------------------------------- data


def extract_cifar10(tarball: Path, destination: Path, per_class: int | None = None) -> None:
    """Unpack train/<class>/*.jpg and test/<class>/*.jpg; with per_class, only that many of each."""
    kept: dict[tuple[str, str], int] = {}
    with tarfile.open(tarball) as archive:
        for member in archive:
            parts = Path(member.name).parts
            if member.isfile() and len(parts) == 3:
                key = parts[:2]
                if per_class is not None and kept.get(key, 0) >= per_class:
                    continue
                kept[key] = kept.get(key, 0) + 1
            archive.extract(member, destination, filter="data")


def load_data(args) -> tuple[dict, str]:
    """Train and test splits as uint8 tensors, and where they came from."""
    tarball = Path(args.data)
    if tarball.exists():
        with tempfile.TemporaryDirectory() as folder:
            extract_cifar10(tarball, Path(folder), per_class=args.per_class)
            splits = {split: load_image_folder_split(folder, split) for split in ("train", "test")}
        return splits, f"CIFAR-10 from {tarball}"
    print(
        f"NOTE: {tarball} is missing; timing random images of CIFAR-10's shape instead "
        f"(copy the tarball there for real data; the timings do not depend on the pixels)"
    )
    train_size = 10 * args.per_class if args.per_class else CIFAR10_TRAIN_SIZE
    train, test = random_images(train_size, seed=0), random_images(train_size // 5, seed=1)
    return {
        "train": {"images": train[0], "labels": train[1]},
        "test": {"images": test[0], "labels": test[1]},
    }, "random images (no tarball)"


def splits_of(data: dict) -> tuple:
    """(train images, train labels, test images, test labels), as training_data takes them."""
    return (
        data["train"]["images"],
        data["train"]["labels"],
        data["test"]["images"],
        data["test"]["labels"],
    )


# ----------------------------------------------------------------------- one model in the workflow's trainer


def warm_up_count(n: int, batch_size: int = 128) -> int:
    """Images for a warm-up of 20 steps (3 eager, the graph's capture, replays) that also meets the epoch's
    short last batch."""
    return min(n, 20 * batch_size + n % batch_size)


def epoch_seconds(run, epochs: int, device) -> float:
    """The median epoch time of `run` over `epochs` timed epochs."""
    return statistics.median(timed(run, device) for _ in range(epochs))


def classifier_epoch(
    arch: str,
    data: dict,
    args,
    device,
    precision: str,
    cuda_graphs: bool = True,
    whole: bool = True,
    **settings,
) -> dict:
    """One model in the workflow's trainer: its training epoch (the median of args.epochs, after a warm-up of
    warm_up_count images); with `whole`, also its test evaluation, its resume state and one whole round."""
    _, _, test_images, test_labels = splits_of(data)
    with tempfile.TemporaryDirectory() as folder:
        run = TrainerRun(
            ClassifierSettings(arch=arch, width=args.width, **settings),
            data["train"]["images"],
            data["train"]["labels"],
            device,
            precision,
            cuda_graphs=cuda_graphs,
            test=(test_images, test_labels),
            resume_path=Path(folder) / "resume.pt",
        )
        started = time.perf_counter()
        run(limit=warm_up_count(len(run.images)))
        synchronize(device)
        figures = {
            "warm_up": time.perf_counter() - started,
            "epoch": epoch_seconds(run, args.epochs, device),
            "step": run.step_kind,
        }
        if whole:
            test = run.run.data["test"]
            evaluate(run.model, *test, run.runtime)  # warm-up: the evaluation batch's kernels
            figures["evaluate"] = timed(lambda: evaluate(run.model, *test, run.runtime), device)
            figures["resume_state"] = timed(run.write_resume_state, device)
            figures["round"] = timed(run.round, device)
            del test
        run = None  # its memory freed below; the lambdas above have run
    free_memory(device)
    return figures


# ----------------------------------------------------------------------- models trained together


def models_together(
    arch: str, k: int, data: dict, args, device, precision: str, cuda_graphs: bool = True
) -> dict:
    """Rounds of k models of `arch` in one process, as memdissect.training.sharing.together's leader trains the jobs that meet on
    a GPU: each a ClassifierRun with its own resume state and (on CUDA) its own stream, all reading one copy of
    the splits on the device, advanced by train_round (their steps interleaved, then each one's metrics, test
    evaluation and, at the workflow's default interval, resume state). Seconds per round: the median of
    args.rounds after a warm-up round, which also captures the graphs."""
    runtime = Runtime.for_device(device, precision, cuda_graphs)
    shared = training_data(*splits_of(data), runtime)
    messages: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        runs = [
            ClassifierRun(
                ClassifierSettings(arch=arch, width=args.width, seed=seed, precision=precision),
                shared,
                runtime,
                Path(folder) / f"model-{seed}.pt",
                log=messages.append,
                stream=torch.cuda.Stream(device) if device.type == "cuda" else None,
                resume_every_seconds=RESUME_EVERY_SECONDS,
            )
            for seed in range(1, k + 1)
        ]
        warm_up = timed(lambda: train_round(runs), device)
        seconds = [timed(lambda: train_round(runs), device) for _ in range(args.rounds)]
        failed = [
            f"{type(run.error).__name__}: {run.error}" for run in runs if run.error is not None
        ]
        steps = sorted({step_kind(run, messages) for run in runs})
        runs = shared = None  # their memory freed below; the lambdas above have run
    free_memory(device)
    if failed:  # a run that stopped would leave the later rounds with fewer models
        raise RuntimeError(f"{len(failed)} of {k} runs failed; the first: {failed[0]}")
    round_ = statistics.median(seconds)
    n = len(data["train"]["images"])
    return {
        "models": k,
        "round": round_,
        "per_model_epoch": round_ / k,
        "images_per_s": k * n / round_,
        "warm_up": warm_up,
        "step": steps,
    }


def measured(entry) -> bool:
    return isinstance(entry, dict) and "round" in entry


def try_together(
    arch: str, k: int, data: dict, args, device, precision: str, cuda_graphs: bool = True
) -> dict:
    """models_together, or its error: one pack's failure must not cost the rest of the suite."""
    try:
        return models_together(arch, k, data, args, device, precision, cuda_graphs)
    except Exception as error:  # noqa: BLE001
        free_memory(device)
        return {"models": k, "error": f"{type(error).__name__}: {error}"[:300]}


def together_ratios(together: dict) -> dict:
    """VGG11's images/s of each pack against one model alone in the same (graphed) trainer and against one
    alone with the eager step; the best K (most images/s)."""
    packs = {k: entry for k, entry in together["vgg11"].items() if measured(entry)}
    alone, eager = packs.get(1), together.get("vgg11_eager_alone")
    ratios = {
        "vs_graphed_alone": {
            k: entry["images_per_s"] / alone["images_per_s"] for k, entry in packs.items()
        }
        if alone
        else {},
        "vs_eager_alone": {
            k: entry["images_per_s"] / eager["images_per_s"] for k, entry in packs.items()
        }
        if measured(eager)
        else {},
    }
    ratios["best_models"] = max(packs, key=lambda k: packs[k]["images_per_s"]) if packs else 1
    return ratios


def round_seconds(arch: str, k: int, figures: dict) -> tuple[float, str]:
    """Seconds of one round of k models of `arch` together: measured, or the architecture's single-model round
    times VGG11's gain (VGG11's round of k over its round of one)."""
    together = figures["together"]
    if measured(together.get(arch, {}).get(k)):
        return together[arch][k]["round"], "measured"
    vgg11 = {j: entry["round"] for j, entry in together["vgg11"].items() if measured(entry)}
    vgg11.setdefault(1, figures["classifiers"]["vgg11"]["round"])
    alone = figures["classifiers"][arch]["round"]
    if k not in vgg11:
        return alone * k, "not measured: k rounds of one"
    return alone * vgg11[k] / vgg11[1], "scaled as vgg11's gain"


# ----------------------------------------------------------------------- the first replay's self-check


@contextlib.contextmanager
def graph_path_on(device):
    """The graph path where steps can be captured: CUDA, or on a CPU runtime.CUDA_GRAPHS emulated (each replay an
    eager step) for the duration."""
    graphs = runtime.CUDA_GRAPHS
    saved = (graphs.capture, graphs.emulated, graphs.off_because)
    if device.type != "cuda":
        graphs.emulate()
    try:
        yield
    finally:
        graphs.capture, graphs.emulated, graphs.off_because = saved


def self_check_cost(data: dict, args, device, precision: str, steps: int = 10) -> dict:
    """What the first replay's check costs (runtime.ReplayedStep.checked_replay: snapshot, an eager step, the state
    put back, the replay, the comparison) against one replay and one eager step of VGG11 at batch 128 (fewer where
    the data hold fewer than `steps` batches): its seconds, and its extra cost over a replay in eager steps (on a CPU
    the replays are emulated: each an eager step). A replay and an eager step: the fastest of five."""
    batch_size = min(128, len(data["train"]["images"]) // steps)
    with graph_path_on(device):
        run = TrainerRun(
            ClassifierSettings(arch="vgg11", width=args.width, batch_size=batch_size),
            data["train"]["images"][: batch_size * steps],
            data["train"]["labels"][: batch_size * steps],
            device,
            precision,
        )
        replayed, seconds = run.run.step.replayed, {}
        check = replayed.checked_replay
        replayed.checked_replay = lambda: seconds.setdefault("check", timed(check, device))
        run()  # 3 warm-up steps, the capture, the checked first replay, replays
        with run.run.computing():
            seconds["replay"] = min(timed(replayed.graph.replay, device) for _ in range(5))
            seconds["eager_step"] = min(timed(replayed.step, device) for _ in range(5))
        status = run.run.graph_status()
        del run
    free_memory(device)
    return {
        **{f"{name}_seconds": value for name, value in seconds.items()},
        "batch_size": batch_size,
        "graph": status.graph,
        "note": status.note,
        "extra_in_eager_steps": (seconds["check"] - seconds["replay"]) / seconds["eager_step"],
        "emulated": device.type != "cuda",
    }


# ----------------------------------------------------------------------- the other stages


def gan_epoch(data: dict, args, device, precision: str) -> float:
    """A DCGAN epoch as train_gan runs it (the runtime's memory format, eager steps)."""
    settings = GanSettings(width=args.width)
    runtime = Runtime.for_device(device, precision)
    generator, discriminator = build_gan(settings, device, runtime.channels_last)
    optimizers = build_gan_optimizers(generator, discriminator, settings)
    rng = torch.Generator().manual_seed(0)
    images = data["train"]["images"].to(device)
    if runtime.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    train_gan_epoch(
        generator,
        discriminator,
        optimizers,
        images[: warm_up_count(len(images))],
        settings,
        rng,
        runtime,
    )  # warm-up
    seconds = epoch_seconds(
        lambda: train_gan_epoch(
            generator, discriminator, optimizers, images, settings, rng, runtime
        ),
        args.epochs,
        device,
    )
    generator = discriminator = optimizers = images = (
        None  # memory freed below; the lambdas above have run
    )
    free_memory(device)
    return seconds


def pattern_search(arch: str, settings: PatternSettings, args, device) -> dict:
    """Seconds of the workflow's synthesize_patterns (random full networks, the step captured as a CUDA graph
    on CUDA, as the workflow does) and of one f2 evaluation on its patterns."""
    generator, _ = build_gan(GanSettings(width=args.width), device)
    classifier = build_classifier(ClassifierSettings(arch=arch, width=args.width), device)

    def quiet(*_):
        pass

    synthesize_patterns(
        classifier, generator, args.classes, replace(settings, iterations=2), device, log=quiet
    )
    searched = []
    seconds = timed(
        lambda: searched.append(
            synthesize_patterns(classifier, generator, args.classes, settings, device, log=quiet)
        ),
        device,
    )
    evaluation = timed(
        lambda: logits_on_patterns(classifier, searched[0].x, device, settings.chunk_size), device
    )
    generator = classifier = searched = None  # memory freed below; the lambdas above have run
    free_memory(device)
    return {"seconds": seconds, "evaluate_seconds": evaluation, "precision": settings.precision}


def pattern_searches(config: dict, settings: PatternSettings, args, device) -> dict:
    """The config's search with VGG11 as f1, in the config's precision and in bf16; the config's other f1
    architectures at a tenth of the iterations, scaled."""
    classifiers = expand_classifiers(config)
    source_archs = {
        classifiers[source].arch
        for source in pattern_sources(dissection_pairs(config, classifiers))
    }
    searches = {"vgg11": pattern_search("vgg11", settings, args, device)}
    if settings.precision != "bf16":
        searches["vgg11, bf16"] = pattern_search(
            "vgg11", replace(settings, precision="bf16"), args, device
        )
    short = replace(settings, iterations=max(1, settings.iterations // 10))
    for arch in sorted(source_archs - {"vgg11"}):
        timing = pattern_search(arch, short, args, device)
        searches[arch] = {
            **timing,
            "seconds": timing["seconds"] * settings.iterations / short.iterations,
        }
    return searches


def reference_epoch_seconds(data: dict, args, device) -> dict:
    """The reference loop's VGG11 epoch; in-process loading if the host's worker processes fail (a small /dev/shm)."""

    def warm_run(workers):
        run = ReferenceRun(
            ClassifierSettings(arch="vgg11", width=args.width),
            data["train"]["images"],
            data["train"]["labels"],
            device,
            workers,
        )
        run()  # warm-up epoch: starts the workers (they persist, which favours the reference)
        return run

    try:
        run = warm_run(None)
    except RuntimeError as error:
        print(f"the reference loop's worker processes failed ({error}); loading in-process instead")
        run = warm_run(0)
    figures = {"seconds": epoch_seconds(run, 1, device), "workers": run.loader.num_workers}
    del run
    free_memory(device)
    return figures


def job_start_seconds(device) -> float:
    """A fresh process importing torch and the package's GPU-job modules and touching the device: the start-up
    every GPU job pays (Snakemake's own start of the job not included)."""
    code = (
        "import torch, memdissect.training.sharing.together, memdissect.dissection.patterns, memdissect.dissection.evaluation; "
        f"torch.zeros(1, device='{device.type}').sum().item()"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - started


# ----------------------------------------------------------------------- projection


def project(config: dict, figures: dict, k: int, train_size: int) -> dict:
    """GPU-seconds of the config on one GPU, from what the workflow does, with k models trained together:

        training    = sum over trained classifiers m of  epochs_m * (R_a(k) / k + A_m) + F_a
        gan         = gan epochs * DCGAN epoch
        patterns    = sum over pattern sources (every f1) of one synthesize_patterns, in the config's precision
        evaluation  = (pairs + sources) * one f2 evaluation on one f1's patterns (evaluate_on_patterns)
        start-ups   = (ceil(classifiers / k) + 1 + sources + 1) * one job's start-up

    R_a(k): seconds of one train_round of k models of m's architecture a in one process (the graphed steps,
    then each model's metrics, test evaluation and resume state), measured, or for an architecture not
    measured at k, its single-model round times VGG11's R(k) / R(1) (`round_seconds`; the JSON says which).
    A_m: for an augmented model, what augmentation adds to one graphed VGG11 epoch alone (not divided by k:
    an upper bound). F_a: the model's outputs on the test set when it is done (one evaluation). Epoch and
    round times are scaled to 50,000 training images (a factor of 1 on CIFAR-10). Training jobs that meet on
    a GPU start together, so their start-ups count once per pack. Jobs are summed as if run one after
    another: an upper bound where the GAN, the searches and the training share the GPU at once.
    """
    classifiers = expand_classifiers(config)
    pairs = dissection_pairs(config, classifiers)
    sources = pattern_sources(pairs)
    models = [classifiers[model] for model in trained(classifiers)]
    scale = CIFAR10_TRAIN_SIZE / train_size
    rounds = {arch: round_seconds(arch, k, figures) for arch in sorted({c.arch for c in models})}
    training = 0.0
    for classifier in models:
        per_epoch = rounds[classifier.arch][0] * scale / k
        if classifier.settings.get("augment", False):
            per_epoch += figures["augment_extra_per_epoch"] * scale
        training += classifier.settings.get("epochs", 100) * per_epoch
        training += figures["classifiers"][classifier.arch]["evaluate"]
    gan = config.get("gan", {}).get("epochs", 30) * figures["dcgan_epoch"] * scale
    patterns = sum(
        figures["pattern_search"][classifiers[source].arch]["seconds"] for source in sources
    )
    evaluations = (len(pairs) + len(sources)) * figures["pattern_search"]["vgg11"][
        "evaluate_seconds"
    ]
    jobs = math.ceil(len(models) / k) + 1 + len(sources) + 1
    start_ups = jobs * figures["job_start"]
    total = training + gan + patterns + evaluations + start_ups
    return {
        "models_together": k,
        "classifiers": len(models),
        "pattern_sources": len(sources),
        "pairs": len(pairs),
        "job_starts": jobs,
        "round_seconds": {
            arch: {"seconds": seconds, "source": source}
            for arch, (seconds, source) in rounds.items()
        },
        "training_minutes": training / 60,
        "gan_minutes": gan / 60,
        "patterns_minutes": patterns / 60,
        "evaluations_minutes": evaluations / 60,
        "job_start_minutes": start_ups / 60,
        "gpu_minutes": total / 60,
    }


def projections(config: dict, figures: dict, train_size: int) -> dict:
    """The projection at the best K measured, and its GPU-minutes at every K measured."""
    ratios = together_ratios(figures["together"])
    best = ratios["best_models"]
    by_k = {
        k: project(config, figures, k, train_size)["gpu_minutes"]
        for k, entry in figures["together"]["vgg11"].items()
        if measured(entry)
    }
    sharing = config.get("sharing", {}).get(
        "models", 4
    )  # the schema's default where the config has none
    note = f"at the best K measured ({best}); the config trains up to sharing.models = {sharing} models together"
    if best > sharing:
        note += f", so K = {best} needs sharing.models >= {best} (a profile setting)"
    return {
        **project(config, figures, best, train_size),
        "gpu_minutes_by_models_together": by_k,
        "note": note,
    }


def target_checks(result: dict) -> dict:
    """The issue's rows for the GPU suite (absolute times hold on a GPU only: see targets_apply)."""
    ratios = result["together"]["ratios"]["vs_eager_alone"]
    k = TARGETS["together_models"]
    bf16 = next(
        (f["seconds"] for f in result["pattern_search"].values() if f["precision"] == "bf16"),
        math.inf,
    )
    return {
        f"gpu_minutes<={TARGETS['gpu_minutes']:g}": result["projection"]["gpu_minutes"]
        <= TARGETS["gpu_minutes"],
        f"vgg11_epoch<={TARGETS['vgg11_epoch_seconds']:g}s": result["classifiers"]["vgg11"]["epoch"]
        <= TARGETS["vgg11_epoch_seconds"],
        f"vgg11_{k}_models_vs_eager_alone>={TARGETS['together_vs_eager_alone']:g}": ratios[k]
        >= TARGETS["together_vs_eager_alone"]
        if k in ratios
        else None,
        f"pattern_search_bf16<={TARGETS['pattern_search_bf16_seconds']:g}s": bf16
        <= TARGETS["pattern_search_bf16_seconds"],
    }


# ----------------------------------------------------------------------- the suite


def parse_args():
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO / "data" / "cifar10-jpeg.tar.gz"))
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    parser.add_argument(
        "--budget",
        type=float,
        default=420,
        help=f"seconds the suite may take after its imports; an optional measurement (more models "
        f"together, the other architectures together, the step profile) starts only with "
        f"{OPTIONAL_RESERVE} s of them left",
    )
    parser.add_argument(
        "--self-check",
        type=int,
        metavar="TRIALS",
        help="measure only the first replay's self-check: TRIALS runs of VGG11 at batch 128 (width 1, "
        "or the quick suite's) in fp32 and in bf16, the fastest of each part (on a CPU with the "
        "replays emulated)",
    )
    args = parser.parse_args()
    quick = {
        "width": 0.125,
        "per_class": 20,
        "epochs": 1,
        "rounds": 1,
        "starts": 2,
        "iterations": 3,
        "classes": 10,
        "together": (1, 2),
        "together_optional": (4,),
        "together_archs": ("vgg13",),
    }
    full = {
        "width": 1.0,
        "per_class": None,
        "epochs": 2,
        "rounds": 2,
        "starts": None,
        "iterations": None,
        "classes": 10,
        "together": (1, 2, 4),
        "together_optional": (8,),
        "together_archs": ("vgg13", "resnet32"),
    }
    for key, value in (quick if args.quick else full).items():
        setattr(args, key, value)
    return args


def self_check_trials(args, device) -> dict:
    """--self-check: the check's cost in each precision, from the fastest of args.self_check trials of each part."""
    images, labels = random_images(128 * 10, seed=0)
    data, figures = {"train": {"images": images, "labels": labels}}, {}
    for precision in ("fp32", "bf16"):
        trials = [self_check_cost(data, args, device, precision) for _ in range(args.self_check)]
        fastest = {
            part: min(trial[f"{part}_seconds"] for trial in trials)
            for part in ("check", "replay", "eager_step")
        }
        each = [trial["extra_in_eager_steps"] for trial in trials]
        figures[precision] = {
            **fastest,
            "extra_in_eager_steps": (fastest["check"] - fastest["replay"]) / fastest["eager_step"],
            "median_of_trials": statistics.median(each),
            "each_trial": each,
            "notes": sorted({trial["note"] for trial in trials}),
        }
    return {
        "benchmark": "gpu_suite --self-check",
        "machine": machine(device),
        "width": args.width,
        "emulated": device.type != "cuda",
        "self_check": figures,
    }


def main():
    args = parse_args()
    device = resolve_device(args.device)
    if args.self_check:
        return emit(self_check_trials(args, device), args.out)
    precision = resolve_precision("auto", device)
    result = {
        "benchmark": "gpu_suite",
        "quick": args.quick,
        "machine": machine(device),
        "precision": precision,
        "targets_apply": device.type == "cuda" and not args.quick,
    }
    suite_started = time.perf_counter()

    def time_left() -> float:
        return args.budget - (time.perf_counter() - suite_started)

    def save(section: str, value):
        """Keep each figure as it comes, so a run cut short still leaves what it measured."""
        result[section] = value
        write_json(result, args.out)
        print(
            f"{section} ({time.perf_counter() - suite_started:.0f}s): {json.dumps(value, default=float)}",
            flush=True,
        )
        return value

    if device.type == "cuda":
        save("matmul_peak_bf16_tflops", matmul_peak(device, torch.bfloat16, 8192) / 1e12)
    started = time.perf_counter()
    data, source = load_data(args)
    train_size = len(data["train"]["images"])
    save(
        "data",
        {
            "source": source,
            "train_images": train_size,
            "test_images": len(data["test"]["images"]),
            "load_seconds": time.perf_counter() - started,
        },
    )
    classifiers = save(
        "classifiers",
        {arch: classifier_epoch(arch, data, args, device, precision) for arch in ARCHS},
    )
    variants = save(
        "vgg11_variants",
        {
            "eager": classifier_epoch(
                "vgg11", data, args, device, precision, cuda_graphs=False, whole=False
            ),
            "augment": classifier_epoch(
                "vgg11", data, args, device, precision, whole=False, augment=True
            ),
        },
    )
    save("self_check", self_check_cost(data, args, device, precision))
    together = {"vgg11": {}}
    for k in args.together:
        together["vgg11"][k] = try_together("vgg11", k, data, args, device, precision)
        save("together", together)
    together["vgg11_eager_alone"] = try_together(
        "vgg11", 1, data, args, device, precision, cuda_graphs=False
    )
    together["ratios"] = together_ratios(together)
    save("together", together)
    config = yaml.safe_load(Path(args.config).read_text())
    pattern_settings = PatternSettings.from_dict(
        {
            **config.get("patterns", {}),
            **({"starts": args.starts, "iterations": args.iterations} if args.quick else {}),
        }
    )
    searches = save("pattern_search", pattern_searches(config, pattern_settings, args, device))
    save("dcgan_epoch", gan_epoch(data, args, device, precision))
    save("reference_vgg11_epoch", reference_epoch_seconds(data, args, device))
    save("job_start", job_start_seconds(device))
    figures = {
        "classifiers": classifiers,
        "together": together,
        "dcgan_epoch": result["dcgan_epoch"],
        "pattern_search": searches,
        "job_start": result["job_start"],
        "augment_extra_per_epoch": max(
            0.0, variants["augment"]["epoch"] - classifiers["vgg11"]["epoch"]
        ),
    }

    def conclude():
        together["ratios"] = together_ratios(together)
        save("together", together)
        save("projection", projections(config, figures, train_size))
        result["ratio"] = {
            "vgg11_graphed_vs_eager_epoch": variants["eager"]["epoch"]
            / classifiers["vgg11"]["epoch"],
            "vgg11_vs_reference": result["reference_vgg11_epoch"]["seconds"]
            / classifiers["vgg11"]["epoch"],
            **{
                f"vgg11_{k}_models_vs_eager_alone": r
                for k, r in together["ratios"]["vs_eager_alone"].items()
            },
        }
        save("targets_met", target_checks(result))

    conclude()
    for k in args.together_optional:  # more models together, time allowing
        if time_left() >= OPTIONAL_RESERVE:
            together["vgg11"][k] = try_together("vgg11", k, data, args, device, precision)
        else:
            together["vgg11"][k] = {
                "models": k,
                "error": f"skipped: under {OPTIONAL_RESERVE} s of the budget left",
            }
        conclude()
    best = max(2, together["ratios"]["best_models"])
    for (
        arch
    ) in args.together_archs:  # the other architectures at the best K, else scaled as VGG11's gain
        if time_left() >= OPTIONAL_RESERVE:
            together[arch] = {best: try_together(arch, best, data, args, device, precision)}
            conclude()
    if device.type == "cuda" and time_left() >= OPTIONAL_RESERVE:
        save(
            "eager_step_profile",
            optional(
                lambda: step_profile(
                    TrainerRun(
                        ClassifierSettings(arch="vgg11", width=args.width),
                        data["train"]["images"],
                        data["train"]["labels"],
                        device,
                        precision,
                        cuda_graphs=False,
                    )
                ),
                device,
            ),
        )
    result["snakemake_imported"] = "snakemake" in sys.modules
    result["suite_seconds"] = time.perf_counter() - suite_started
    print_report(result, train_size, pattern_settings, args)
    emit(result, args.out)


def optional(measure, device):
    """measure(), or its error: an optional measurement's failure must not cost the rest of the suite."""
    try:
        return measure()
    except Exception as error:  # noqa: BLE001
        return {"error": f"{type(error).__name__}: {error}"[:300]}
    finally:
        free_memory(device)


# ----------------------------------------------------------------------- the report


def print_report(result: dict, train_size: int, pattern_settings: PatternSettings, args) -> None:
    projection = result["projection"]
    rows = (
        training_rows(result, train_size)
        + together_rows(result, train_size)
        + pattern_rows(result, pattern_settings, args.classes)
        + [
            {
                "measure": "job start-up (python, torch, memdissect, device)",
                "seconds": result["job_start"],
            },
            self_check_row(result["self_check"]),
            {
                "measure": f"projected: full config, K = {projection['models_together']} together",
                "seconds": projection["gpu_minutes"] * 60,
                "note": f"{projection['gpu_minutes']:.1f} GPU-minutes",
            },
        ]
        + profile_rows(result.get("eager_step_profile"))
    )
    print_table(
        rows,
        ["measure", "seconds", "images/s", "note"],
        title=f"{result['machine'].get('gpu', result['machine']['cpu'])}, {result['precision']}, "
        f"{result['data']['source']} ({train_size} training images), width {args.width:g}",
    )
    print(
        "projection, GPU-minutes: "
        + ", ".join(
            f"{key[:-8]} {value:.2f}"
            for key, value in projection.items()
            if key.endswith("_minutes")
        )
    )
    print(
        "projection at each K: "
        + ", ".join(
            f"K={k} {minutes:.1f}"
            for k, minutes in projection["gpu_minutes_by_models_together"].items()
        )
    )
    print(
        "targets met"
        + ("" if result["targets_apply"] else " (absolute times hold on a GPU only)")
        + ": "
        + ", ".join(f"{name} {met}" for name, met in result["targets_met"].items())
    )


def epoch_row(measure: str, seconds: float, images: int, note: str = "") -> dict:
    return {"measure": measure, "seconds": seconds, "images/s": images / seconds, "note": note}


def training_rows(result: dict, train_size: int) -> list[dict]:
    rows = []
    for arch, f in result["classifiers"].items():
        rows += [
            epoch_row(
                f"{arch} epoch (train)",
                f["epoch"],
                train_size,
                f"{f['step']}; warm-up {f['warm_up']:.1f}s",
            ),
            {"measure": f"{arch} test evaluation", "seconds": f["evaluate"]},
            {"measure": f"{arch} resume state", "seconds": f["resume_state"]},
            epoch_row(
                f"{arch} round (train_round, one model)",
                f["round"],
                train_size,
                "train, metrics, evaluation, resume state",
            ),
        ]
    for name, f in result["vgg11_variants"].items():
        rows.append(
            epoch_row(
                f"vgg11 epoch, {name}",
                f["epoch"],
                train_size,
                f"{f['step']}; warm-up {f['warm_up']:.1f}s",
            )
        )
    rows.append(epoch_row("dcgan epoch", result["dcgan_epoch"], train_size))
    reference = result["reference_vgg11_epoch"]
    rows.append(
        epoch_row(
            "reference DataLoader loop, vgg11 fp32 epoch",
            reference["seconds"],
            train_size,
            f"{reference['workers']} workers; memdissect {result['ratio']['vgg11_vs_reference']:.2f}x",
        )
    )
    return rows


def together_rows(result: dict, train_size: int) -> list[dict]:
    together, ratios = result["together"], result["together"]["ratios"]
    rows = []
    for arch in ARCHS:
        for k, f in together.get(arch, {}).items():
            measure = f"{arch}, {k} model(s) together: round"
            if not measured(f):
                rows.append({"measure": measure, "note": f["error"]})
                continue
            note = " / ".join(f["step"])
            if arch == "vgg11":
                note += (
                    f"; {ratios['vs_graphed_alone'].get(k, math.nan):.2f}x alone, "
                    f"{ratios['vs_eager_alone'].get(k, math.nan):.2f}x eager alone"
                )
            rows.append(
                {
                    "measure": measure,
                    "seconds": f["round"],
                    "images/s": f["images_per_s"],
                    "note": note,
                }
            )
    eager = together["vgg11_eager_alone"]
    rows.append(
        {
            "measure": "vgg11, one model alone, eager step: round",
            "seconds": eager.get("round"),
            "images/s": eager.get("images_per_s"),
            "note": eager.get("error", ""),
        }
    )
    return rows


def pattern_rows(result: dict, settings: PatternSettings, classes: int) -> list[dict]:
    searches = result["pattern_search"]
    rows = [
        {
            "measure": f"pattern search, f1 {name}: {classes} x {settings.starts} x {settings.iterations}",
            "seconds": f["seconds"],
            "note": f["precision"]
            + ("" if name.startswith("vgg11") else ", scaled from a tenth of the iterations"),
        }
        for name, f in searches.items()
    ]
    rows.append(
        {
            "measure": "f2 on the patterns (one pair)",
            "seconds": searches["vgg11"]["evaluate_seconds"],
        }
    )
    return rows


def self_check_row(check: dict) -> dict:
    replays = "emulated replays" if check["emulated"] else "replays"
    return {
        "measure": f"vgg11 first replay's self-check, once per run (batch {check['batch_size']})",
        "seconds": check["check_seconds"],
        "note": f"{check['extra_in_eager_steps']:.2f} eager steps more than a replay ({replays}); {check['note']}",
    }


def profile_rows(profile) -> list[dict]:
    """What bounds an eager step (CUDA only)."""
    if not profile:
        return []
    if "error" in profile:
        return [{"measure": "eager vgg11 step under the profiler", "note": profile["error"]}]
    return [
        {
            "measure": "eager vgg11 step under the profiler",
            "seconds": profile["wall_ms_per_step"] / 1e3,
            "note": f"GPU busy {profile['gpu_busy_ms_per_step']:.2f} ms of {profile['wall_ms_per_step']:.2f} ms, "
            f"{profile['kernels_per_step']:.0f} kernels",
        }
    ]


if __name__ == "__main__":
    main()
