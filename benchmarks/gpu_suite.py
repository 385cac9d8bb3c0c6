"""One GPU, under 8 minutes: epoch times, pattern search, the reference loop, and the full study projected.

Measures, on CIFAR-10 (50,000 training images) at batch 128 with memdissect's trainer as
train_classifier runs it (bf16 autocast and channels_last on CUDA):
  - the training epoch and the per-epoch test evaluation of VGG11, VGG13 and ResNet32,
    and VGG11 with augmentation and with cudnn.benchmark;
  - a DCGAN epoch;
  - the pattern search of the paper config (10 classes x 100 starts x 1000 iterations,
    full-width DCGAN generator + VGG11, random weights) and f2's evaluation on the patterns;
  - the reference DataLoader loop on VGG11, for comparison;
then projects the GPU-hours of config/config.yaml from these figures. On CUDA it goes on to
what bounds the epoch and what would move it (gpu_bounds.py: a step profile, the step as one
CUDA graph, jobs sharing the GPU, each projected), and last VGG11 with torch.compile.

The data come from a copy of the CIFAR-10 JPEG tarball inside the checkout (--data, default
data/cifar10-jpeg.tar.gz, an ignored folder), so a GPU host needs no internet and no ../shared;
without it the suite says so and times random images of the same shape. It needs python3 with
torch, torchvision, numpy, pandas, pyarrow, pillow and pyyaml; memdissect is imported from src/
and snakemake is not needed.

    python benchmarks/gpu_suite.py [--out results.json]        # on the GPU host
    python benchmarks/gpu_suite.py --quick --device cpu         # tiny sizes: proves the code path here
"""

import json
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

from common import (REPO, TrainerRun, emit, machine, make_parser, matmul_peak, print_table,
                    random_images, synchronize, timed, write_json)
from gpu_bounds import concurrent_epochs, graph_step_epoch, step_profile
from memdissect.data import load_image_folder_split
from memdissect.device import resolve_device, resolve_precision
from memdissect.gan import build_gan, build_gan_optimizers, train_gan_epoch
from memdissect.patterns import logits_on_patterns, synthesize_patterns
from memdissect.runtime import Runtime
from memdissect.settings import ClassifierSettings, GanSettings, PatternSettings
from memdissect.study import dissection_pairs, expand_classifiers, pattern_sources
from memdissect.train import build_classifier, evaluate
from reference import ReferenceRun

ARCHS = ("vgg11", "vgg13", "resnet32")
CIFAR10_TRAIN_SIZE = 50_000
TARGETS = {"vgg11_epoch_seconds": 1.5, "projected_gpu_hours": 2.0}


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


def load_data(args, device) -> tuple[dict, str]:
    """Train and test splits as uint8 tensors, and where they came from."""
    tarball = Path(args.data)
    if tarball.exists():
        with tempfile.TemporaryDirectory() as folder:
            extract_cifar10(tarball, Path(folder), per_class=args.per_class)
            splits = {split: load_image_folder_split(folder, split) for split in ("train", "test")}
        return splits, f"CIFAR-10 from {tarball}"
    print(f"NOTE: {tarball} is missing; timing random images of CIFAR-10's shape instead "
          f"(copy the tarball there for real data; the timings do not depend on the pixels)")
    train_size = 10 * args.per_class if args.per_class else CIFAR10_TRAIN_SIZE
    train, test = random_images(train_size, seed=0), random_images(train_size // 5, seed=1)
    return {"train": {"images": train[0], "labels": train[1]},
            "test": {"images": test[0], "labels": test[1]}}, "random images (no tarball)"


# ----------------------------------------------------------------------- measurements


def warm_up_count(n: int, batch_size: int = 128) -> int:
    """Images for a warm-up of 20 steps that also meets the epoch's short last batch (a new shape to compile)."""
    return min(n, 20 * batch_size + n % batch_size)


def epoch_seconds(run, epochs: int, device) -> float:
    """The median epoch time of `run` over `epochs` timed epochs."""
    return statistics.median(timed(run, device) for _ in range(epochs))


def classifier_epoch(arch: str, data: dict, args, device, precision: str, **settings) -> dict:
    """Training epoch and test evaluation seconds of one architecture, after a short warm-up."""
    run = TrainerRun(ClassifierSettings(arch=arch, width=args.width, **settings), data["train"]["images"],
                     data["train"]["labels"], device, precision)
    if args.compile:
        run.model = torch.compile(run.model)
    started = time.perf_counter()
    run(limit=warm_up_count(len(run.images)))  # kernel choice (and with compile, the compilation)
    synchronize(device)
    warm_up = time.perf_counter() - started
    test_images, test_labels = data["test"]["images"].to(device), data["test"]["labels"].to(device)
    evaluate(run.model, test_images, test_labels, run.runtime)
    return {"epoch": epoch_seconds(run, args.epochs, device), "warm_up": warm_up,
            "evaluate": timed(lambda: evaluate(run.model, test_images, test_labels, run.runtime),
                              device)}


def gan_epoch(data: dict, args, device, precision: str) -> float:
    settings = GanSettings(width=args.width)
    generator, discriminator = build_gan(settings, device)
    optimizers = build_gan_optimizers(generator, discriminator, settings)
    rng = torch.Generator().manual_seed(0)
    runtime = Runtime.for_device(device, precision)
    images = data["train"]["images"].to(device)
    train_gan_epoch(generator, discriminator, optimizers, images[:warm_up_count(len(images))], settings, rng,
                    runtime)  # warm-up
    return epoch_seconds(lambda: train_gan_epoch(generator, discriminator, optimizers, images, settings, rng,
                                                 runtime), args.epochs, device)


def pattern_search(arch: str, settings: PatternSettings, args, device) -> dict:
    """Seconds of synthesize_patterns (random full networks) and of one f2 evaluation on its patterns."""
    generator, _ = build_gan(GanSettings(width=args.width), device)
    classifier = build_classifier(ClassifierSettings(arch=arch, width=args.width), device)

    def quiet(*_):
        pass
    synthesize_patterns(classifier, generator, args.classes, replace(settings, iterations=2), device, log=quiet)
    patterns = {}
    seconds = timed(lambda: patterns.update(synthesize_patterns(classifier, generator, args.classes, settings, device,
                                                                log=quiet)), device)
    evaluation = timed(lambda: logits_on_patterns(classifier, patterns["x"], device, settings.chunk_size), device)
    return {"seconds": seconds, "evaluate_seconds": evaluation, "precision": settings.precision}


def reference_epoch_seconds(data: dict, args, device) -> dict:
    """The reference loop's VGG11 epoch; in-process loading if the host's worker processes fail (a small /dev/shm)."""
    def warm_run(workers):
        run = ReferenceRun(ClassifierSettings(arch="vgg11", width=args.width), data["train"]["images"],
                           data["train"]["labels"], device, workers)
        run()  # warm-up epoch: starts the workers (they persist, which favours the reference)
        return run
    try:
        run = warm_run(None)
    except RuntimeError as error:
        print(f"the reference loop's worker processes failed ({error}); loading in-process instead")
        run = warm_run(0)
    return {"seconds": epoch_seconds(run, 1, device), "workers": run.loader.num_workers}


def job_start_seconds(device) -> float:
    """A fresh process importing torch and touching the device: the start-up every job pays."""
    command = [sys.executable, "-c", f"import torch; torch.zeros(1, device='{device.type}').sum().item()"]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


# ----------------------------------------------------------------------- projection


def project(config: dict, figures: dict, train_size: int) -> dict:
    """GPU-seconds of the config: classifiers, DCGAN, pattern searches, evaluations and job start-ups."""
    classifiers = expand_classifiers(config)
    pairs = dissection_pairs(config, classifiers)
    sources = pattern_sources(pairs)
    scale = CIFAR10_TRAIN_SIZE / train_size  # epoch times per 50,000 images
    training = 0.0
    for classifier in classifiers.values():
        arch = figures["classifiers"][classifier.arch]
        per_epoch = arch["epoch"] * scale + arch["evaluate"]
        if classifier.settings.get("augment", False):
            per_epoch += figures["augment_extra_per_epoch"] * scale
        training += classifier.settings.get("epochs", 100) * per_epoch
    gan = config.get("gan", {}).get("epochs", 30) * figures["dcgan_epoch"] * scale
    patterns = sum(figures["pattern_search"][classifiers[source].arch]["seconds"] for source in sources)
    evaluations = len(pairs) * figures["pattern_search"]["vgg11"]["evaluate_seconds"]
    jobs = len(classifiers) + 1 + len(sources) + len(pairs)
    start_ups = jobs * figures["job_start"]
    total = training + gan + patterns + evaluations + start_ups
    return {"classifiers": len(classifiers), "pattern_sources": len(sources), "pairs": len(pairs), "jobs": jobs,
            "training_hours": training / 3600, "gan_hours": gan / 3600, "patterns_hours": patterns / 3600,
            "evaluations_hours": evaluations / 3600, "job_start_hours": start_ups / 3600,
            "gpu_hours": total / 3600}


# ----------------------------------------------------------------------- the suite


def parse_args():
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO / "data" / "cifar10-jpeg.tar.gz"))
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    parser.add_argument("--no-compile", dest="try_compile", action="store_false",
                        help="skip the torch.compile variant (it is skipped off CUDA anyway)")
    parser.add_argument("--shared-jobs", type=int, default=4, help="training processes sharing the GPU at once")
    parser.add_argument("--budget", type=float, default=480,
                        help="seconds the suite may take; the torch.compile variant, measured last, is skipped "
                             "when under 150 s of them are left")
    args = parser.parse_args()
    quick = {"width": 0.125, "per_class": 40, "epochs": 1, "starts": 2, "iterations": 3, "classes": 10}
    full = {"width": 1.0, "per_class": None, "epochs": 2, "starts": None, "iterations": None, "classes": 10}
    for key, value in (quick if args.quick else full).items():
        setattr(args, key, value)
    args.compile = False
    return args


def vgg11_variants(data: dict, args, device, precision: str) -> dict:
    """VGG11 epochs with augmentation, and on CUDA with cudnn.benchmark."""
    variants = {"augment": classifier_epoch("vgg11", data, args, device, precision, augment=True)}
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        variants["cudnn_benchmark"] = classifier_epoch("vgg11", data, args, device, precision)
        torch.backends.cudnn.benchmark = False
    return variants


def compiled_vgg11(data: dict, args, device, precision: str) -> dict:
    """VGG11 with torch.compile; measured last, since compiling takes a while."""
    args.compile = True
    try:
        return classifier_epoch("vgg11", data, args, device, precision)
    except Exception as error:  # a compiler missing on the host must not cost the rest of the suite
        return {"error": f"{type(error).__name__}: {error}"[:300]}
    finally:
        args.compile = False


def pattern_searches(config: dict, settings: PatternSettings, args, device) -> dict:
    """The config's search with VGG11 as f1; the config's other f1 architectures at a tenth of the steps, scaled."""
    classifiers = expand_classifiers(config)
    source_archs = {classifiers[source].arch for source in pattern_sources(dissection_pairs(config, classifiers))}
    searches = {"vgg11": pattern_search("vgg11", settings, args, device)}
    if device.type == "cuda" and settings.precision != "bf16":  # what the precision setting would give
        searches["vgg11, bf16"] = pattern_search("vgg11", replace(settings, precision="bf16"), args, device)
    short = replace(settings, iterations=max(1, settings.iterations // 10))
    for arch in sorted(source_archs - {"vgg11"}):
        timing = pattern_search(arch, short, args, device)
        searches[arch] = {**timing, "seconds": timing["seconds"] * settings.iterations / short.iterations}
    return searches


def bounds(data: dict, args, device, precision: str, config: dict, figures: dict, train_size: int) -> dict:
    """What bounds the epoch (a step profile) and what would move it: CUDA graphs, jobs sharing the GPU."""
    def trainer(arch):
        return TrainerRun(ClassifierSettings(arch=arch, width=args.width), data["train"]["images"],
                          data["train"]["labels"], device, precision)
    found = {"vgg11_step_profile": step_profile(trainer("vgg11"))}
    epochs = {arch: figures["classifiers"][arch]["epoch"] for arch in ARCHS}
    try:
        graphs = {arch: graph_step_epoch(trainer(arch)) for arch in ("vgg11", "resnet32")}
        graphs["vgg13"] = epochs["vgg13"] * graphs["vgg11"] / epochs["vgg11"]  # as VGG11 gains
        found["cuda_graph_epoch"] = graphs
        found["projected_gpu_hours_cuda_graphs"] = project(
            config, with_epochs(figures, graphs), train_size)["gpu_hours"]
    except Exception as error:  # an optional measurement: its failure must not cost the rest of the suite
        found["cuda_graph_epoch"] = {"error": f"{type(error).__name__}: {error}"[:300]}
    shared = concurrent_epochs(args.shared_jobs, "vgg11", precision, train_size, device)
    factor = shared["seconds_per_epoch_together"] / epochs["vgg11"]
    found[f"{args.shared_jobs}_jobs_sharing_the_gpu"] = shared
    found[f"projected_gpu_hours_{args.shared_jobs}_jobs_per_gpu"] = project(
        config, with_epochs(figures, {arch: seconds * factor for arch, seconds in epochs.items()}),
        train_size)["gpu_hours"]
    return found


def with_epochs(figures: dict, epochs: dict) -> dict:
    """The figures with other training epoch times per architecture."""
    classifiers = {arch: {**f, "epoch": epochs[arch]} for arch, f in figures["classifiers"].items()}
    return {**figures, "classifiers": classifiers}


def main():
    args = parse_args()
    device = resolve_device(args.device)
    precision = resolve_precision("auto", device)
    result = {"benchmark": "gpu_suite", "quick": args.quick, "machine": machine(device), "precision": precision}
    suite_started = time.perf_counter()

    def save(section: str, value):
        """Keep each figure as it comes, so a run cut short still leaves what it measured."""
        result[section] = value
        write_json(result, args.out)
        print(f"{section} ({time.perf_counter() - suite_started:.0f}s): {json.dumps(value, default=float)}", flush=True)
        return value

    if device.type == "cuda":
        save("matmul_peak_bf16_tflops", matmul_peak(device, torch.bfloat16, 8192) / 1e12)
    started = time.perf_counter()
    data, source = load_data(args, device)
    train_size = len(data["train"]["images"])
    save("data", {"source": source, "train_images": train_size, "test_images": len(data["test"]["images"]),
                  "load_seconds": time.perf_counter() - started})
    classifiers = save("classifiers", {arch: classifier_epoch(arch, data, args, device, precision) for arch in ARCHS})
    variants = save("vgg11_variants", vgg11_variants(data, args, device, precision))
    save("dcgan_epoch", gan_epoch(data, args, device, precision))
    config = yaml.safe_load(Path(args.config).read_text())
    pattern_settings = PatternSettings.from_dict({**config.get("patterns", {}), **(
        {"starts": args.starts, "iterations": args.iterations} if args.quick else {})})
    searches = save("pattern_search", pattern_searches(config, pattern_settings, args, device))
    save("reference_vgg11_epoch", reference_epoch_seconds(data, args, device))
    save("job_start", job_start_seconds(device))
    figures = {"classifiers": classifiers, "dcgan_epoch": result["dcgan_epoch"], "pattern_search": searches,
               "job_start": result["job_start"],
               "augment_extra_per_epoch": max(0.0, variants["augment"]["epoch"] - classifiers["vgg11"]["epoch"])}
    projection = save("projection", project(config, figures, train_size))
    result["ratio"] = {"vgg11_vs_reference": result["reference_vgg11_epoch"]["seconds"] / classifiers["vgg11"]["epoch"]}
    vgg11_target, hours_target = TARGETS["vgg11_epoch_seconds"], TARGETS["projected_gpu_hours"]
    result["targets_met"] = {f"vgg11_epoch<={vgg11_target}s": classifiers["vgg11"]["epoch"] <= vgg11_target,
                             f"gpu_hours<={hours_target}": projection["gpu_hours"] <= hours_target}
    if device.type == "cuda":
        save("bounds", bounds(data, args, device, precision, config, figures, train_size))
    if device.type == "cuda" and args.try_compile:
        if time.perf_counter() - suite_started < args.budget - 150:
            variants["compile"] = compiled_vgg11(data, args, device, precision)
        else:
            variants["compile"] = {"error": f"skipped: under 150 s left of the {args.budget:.0f} s budget"}
        save("vgg11_variants", variants)
    result["snakemake_imported"] = "snakemake" in sys.modules
    result["suite_seconds"] = time.perf_counter() - suite_started
    print_report(result, train_size, pattern_settings, args)
    emit(result, args.out)


def print_report(result: dict, train_size: int, pattern_settings: PatternSettings, args) -> None:
    projection = result["projection"]
    rows = training_rows(result, train_size) + pattern_rows(result, pattern_settings, args.classes) + [
        {"measure": "job start-up (python, torch, device)", "seconds": result["job_start"]},
        {"measure": f"projected: full config ({projection['jobs']} GPU jobs)",
         "seconds": projection["gpu_hours"] * 3600, "note": f"{projection['gpu_hours']:.2f} GPU-hours"},
    ] + bound_rows(result.get("bounds", {}), args)
    print_table(rows, ["measure", "seconds", "images/s", "note"],
                title=f"{result['machine'].get('gpu', result['machine']['cpu'])}, {result['precision']}, "
                      f"{result['data']['source']} ({train_size} training images), width {args.width:g}")
    print("projection, hours: " + ", ".join(f"{key[:-6]} {value:.3f}" for key, value in projection.items()
                                            if key.endswith("_hours")))


def training_rows(result: dict, train_size: int) -> list[dict]:
    def epoch_row(measure: str, seconds: float, note: str = "") -> dict:
        return {"measure": measure, "seconds": seconds, "images/s": train_size / seconds, "note": note}

    rows = [epoch_row(f"{arch} epoch (train)", f["epoch"]) for arch, f in result["classifiers"].items()]
    rows += [{"measure": f"{arch} test evaluation", "seconds": f["evaluate"]}
             for arch, f in result["classifiers"].items()]
    for name, f in result["vgg11_variants"].items():
        rows.append(epoch_row(f"vgg11 epoch, {name}", f["epoch"], f"warm-up {f['warm_up']:.1f}s") if "epoch" in f
                    else {"measure": f"vgg11 epoch, {name}", "note": f["error"]})
    rows.append(epoch_row("dcgan epoch", result["dcgan_epoch"]))
    reference = result["reference_vgg11_epoch"]
    rows.append(epoch_row("reference DataLoader loop, vgg11 fp32 epoch", reference["seconds"],
                          f"{reference['workers']} workers; memdissect {result['ratio']['vgg11_vs_reference']:.2f}x"))
    return rows


def pattern_rows(result: dict, settings: PatternSettings, classes: int) -> list[dict]:
    searches = result["pattern_search"]
    rows = [{"measure": f"pattern search, f1 {name}: {classes} x {settings.starts} x {settings.iterations}",
             "seconds": f["seconds"],
             "note": f["precision"] + ("" if name.startswith("vgg11") else ", scaled from a tenth of the iterations")}
            for name, f in searches.items()]
    rows.append({"measure": "f2 on the patterns (one pair)", "seconds": searches["vgg11"]["evaluate_seconds"]})
    return rows


def bound_rows(found: dict, args) -> list[dict]:
    """The table's rows of what bounds the epoch and what would move it (CUDA only)."""
    if not found:
        return []
    profile = found["vgg11_step_profile"]
    rows = [{"measure": "bound: vgg11 training step under the profiler", "seconds": profile["wall_ms_per_step"] / 1e3,
             "note": f"GPU busy {profile['gpu_busy_ms_per_step']:.2f} ms of {profile['wall_ms_per_step']:.2f} ms, "
                     f"{profile['kernels_per_step']:.0f} kernels"}]
    for arch, seconds in found["cuda_graph_epoch"].items():
        rows.append({"measure": f"would move it: {arch} epoch, whole step as one CUDA graph", "seconds": seconds,
                     "note": "scaled as vgg11" if arch == "vgg13" else ""} if arch != "error"
                    else {"measure": "would move it: whole step as one CUDA graph", "note": seconds})
    if "projected_gpu_hours_cuda_graphs" in found:
        hours = found["projected_gpu_hours_cuda_graphs"]
        rows.append({"measure": "would move it: projected with CUDA-graph steps", "seconds": hours * 3600,
                     "note": f"{hours:.2f} GPU-hours"})
    shared = found[f"{args.shared_jobs}_jobs_sharing_the_gpu"]
    hours = found[f"projected_gpu_hours_{args.shared_jobs}_jobs_per_gpu"]
    rows.append({"measure": f"would move it: vgg11 epoch, {shared['jobs']} jobs sharing the GPU",
                 "seconds": shared["seconds_per_epoch_together"], "note": "per epoch, all jobs together"})
    rows.append({"measure": f"would move it: projected with {shared['jobs']} jobs per GPU", "seconds": hours * 3600,
                 "note": f"{hours:.2f} GPU-hours"})
    return rows


if __name__ == "__main__":
    main()
