"""The cost of recording each epoch's predictions on the probe set (paths in function space).

A demo-sized run (the synthetic set's 1000 training and 300 test images, VGG11 at width 0.125, batch 128,
the demo's recipe) trains epoch by epoch as the workflow does (train_round: the steps, the metrics, the test
evaluation); after each epoch the probe recording (function_paths.ProbePath.record, as ClassifierRun calls it)
is timed for each probe size. The ratio is the median over epochs of (epoch + recording) / epoch. Also: the
bytes of the probe path file of the demo's 25 epochs and of the paper's 100 epochs on CIFAR-10.

    python benchmarks/probe_path_overhead.py [--quick] [--sizes 300 1000] [--epochs 6]
"""

import io
import statistics
import time

import torch
from common import emit, machine, make_parser, print_table

from memdissect.analyses.function_paths import PATH_FILE, ProbePath, probe_indices
from memdissect.data.synthetic import make_synthetic_dataset
from memdissect.study.settings import ClassifierSettings
from memdissect.training.device import resolve_device
from memdissect.training.runtime import Runtime
from memdissect.training.train import ClassifierRun, train_round, training_data


def file_bytes(epochs: int, sizes: dict, num_classes: int) -> int:
    """The size of a probe path file of `epochs` epochs on probes of sizes (split: images), as torch.save writes it."""
    indices = probe_indices(sizes, max(sizes.values()), 0)
    content = {
        "format": PATH_FILE.tag,
        "epochs": torch.arange(1, epochs + 1),
        "indices": {split: torch.as_tensor(index) for split, index in indices.items()},
        "paths": {
            split: torch.zeros(epochs, len(index), num_classes, dtype=torch.float16)
            for split, index in indices.items()
        },
    }
    buffer = io.BytesIO()
    torch.save(content, buffer)
    return buffer.getbuffer().nbytes


def main():
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--epochs", type=int, help="epochs timed (default 3 quick, else 8)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    epochs = args.epochs or (3 if args.quick else 8)
    data = make_synthetic_dataset(1000, 300, seed=0)
    settings = ClassifierSettings(
        arch="vgg11", width=0.125, epochs=epochs + 1, batch_size=128, precision="fp32"
    )
    runtime = Runtime.for_device(device, settings.precision, cuda_graphs=True)
    splits = training_data(
        data["train"]["images"],
        data["train"]["labels"],
        data["test"]["images"],
        data["test"]["labels"],
        runtime,
    )
    run = ClassifierRun(settings, splits, runtime, log=lambda *_: None)
    probes = {
        size: ProbePath(
            {split: splits[split][0] for split in ("train", "test")},
            probe_indices({"train": 1000, "test": 300}, size, 0),
            runtime,
        )
        for size in args.sizes
    }
    train_round([run])  # a warm-up epoch
    epoch_seconds, record_seconds = [], {size: [] for size in args.sizes}
    for _ in range(epochs):
        start = time.perf_counter()
        train_round([run])
        epoch_seconds.append(time.perf_counter() - start)
        for size, path in probes.items():
            start = time.perf_counter()
            with run.computing():
                path.record(run.model)
            record_seconds[size].append(time.perf_counter() - start)
    results = {
        size: {
            "ratio": statistics.median(
                (e + r) / e for e, r in zip(epoch_seconds, record_seconds[size])
            ),
            "record_seconds": statistics.median(record_seconds[size]),
        }
        for size in args.sizes
    }
    epoch = statistics.median(epoch_seconds)
    rows = [
        {
            "probes per split": size,
            "epoch [s]": epoch,
            "recording [s]": result["record_seconds"],
            "(epoch + recording) / epoch": result["ratio"],
        }
        for size, result in results.items()
    ]
    print_table(
        rows,
        list(rows[0]),
        title=f"probe recording after a demo epoch, median over {epochs} epochs",
    )
    storage = {
        "demo 25 epochs, 300 + 300 probes, 10 classes": file_bytes(
            25, {"train": 300, "test": 300}, 10
        ),
        "paper 100 epochs, 1000 + 1000 probes, 10 classes": file_bytes(
            100, {"train": 1000, "test": 1000}, 10
        ),
        "CIFAR-100 100 epochs, 1000 + 1000 probes": file_bytes(
            100, {"train": 1000, "test": 1000}, 100
        ),
    }
    for what, size in storage.items():
        print(f"{what}: {size:,} B")
    emit(
        {
            "benchmark": "probe_path_overhead",
            "quick": args.quick,
            "machine": machine(device),
            "epochs": epochs,
            "epoch_seconds": epoch,
            "results": results,
            "bytes_per_model": storage,
        },
        args.out,
    )


if __name__ == "__main__":
    main()
