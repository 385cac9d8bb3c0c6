"""What a memdissect artifact holds, as `memdissect describe` prints it: the formats of the files the study
writes (FORMATS), what each kind of file is (KINDS), and `describe(path)` for a checkpoint, a pattern
file, a data split, test outputs, a resume state, a plain state_dict or a table.
"""

from pathlib import Path

import pandas as pd
import torch

from memdissect.dissection import patterns as pattern_search
from memdissect.dissection.diagnostics import pattern_hits
from memdissect.io import ArtifactError, load_torch, read_parquet
from memdissect.models import build_model, count_parameters
from memdissect.study.settings import ClassifierSettings
from memdissect.training import gan, train

FORMATS = {
    file_format.tag: file_format
    for file_format in (
        train.CLASSIFIER_CHECKPOINT,
        gan.GAN_CHECKPOINT,
        pattern_search.PATTERN_FILE,
        train.CLASSIFIER_RESUME,
        gan.GAN_RESUME,
    )
}
KINDS = {
    "split": "a data split (results/data/<split>.pt)",
    "test_outputs": "a classifier's outputs on the test set",
    "state_dict": "a plain state_dict",
    "unknown": "not a memdissect artifact",
    **{tag: file_format.what for tag, file_format in FORMATS.items()},
}


def artifact_kind(artifact) -> str:
    """Which key of KINDS a loaded .pt file is: its format tag, or what its keys say it is."""
    if not isinstance(artifact, dict):
        return "unknown"
    if "format" in artifact:
        return artifact["format"] if artifact["format"] in FORMATS else "unknown"
    if {"images", "labels", "classes"} <= artifact.keys():
        return "split"
    if {"logits", "features", "labels"} <= artifact.keys():
        return "test_outputs"
    return (
        "state_dict"
        if artifact and all(isinstance(v, torch.Tensor) for v in artifact.values())
        else "unknown"
    )


def shape_of(tensor: torch.Tensor) -> str:
    return f"{' x '.join(map(str, tensor.shape))} {str(tensor.dtype).removeprefix('torch.')}"


def settings_lines(settings: dict) -> list[str]:
    return [f"  {key}: {value}" for key, value in settings.items()]


def describe_classifier(checkpoint: dict) -> list[str]:
    settings = ClassifierSettings(**checkpoint["settings"])
    parameters = count_parameters(build_model(settings.arch, settings.num_classes, settings.width))
    return [
        "settings:",
        *settings_lines(checkpoint["settings"]),
        f"parameters: {parameters:,}",
        f"classes ({len(checkpoint['classes'])}): {', '.join(checkpoint['classes'])}",
    ]


def describe_gan(checkpoint: dict) -> list[str]:
    sizes = {
        name: sum(
            p.numel()
            for key, p in checkpoint[name].items()
            if "running" not in key and "num_batches" not in key
        )
        for name in ("generator", "discriminator")
    }
    return [
        "settings:",
        *settings_lines(checkpoint["settings"]),
        f"parameters: generator {sizes['generator']:,}, discriminator {sizes['discriminator']:,}",
    ]


def describe_patterns(values: dict) -> list[str]:
    found = pattern_search.Patterns.from_dict(values)
    hit, confidence = pattern_hits(found.logits)
    classes = found.classes or [str(k) for k in range(found.num_classes)]
    return [
        "settings:",
        *settings_lines(found.settings),
        f"patterns: {found.num_classes} classes x {found.starts} starts; x {shape_of(found.x)}, "
        f"z {shape_of(found.z)}, logits {shape_of(found.logits)}",
        f"f1's argmax is the searched class on {hit.double().mean():.1%}, mean confidence {confidence.mean():.3f}",
        f"objective (mean): {found.objective_start.mean():.4g} at the start, {found.objective_end.mean():.4g} "
        f"at the end",
        f"classes ({len(classes)}): {', '.join(classes)}",
    ]


def describe_resume(state: dict) -> list[str]:
    history = state["history"]
    last = ", ".join(
        f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
        for key, value in (history[-1] if history else {}).items()
    )
    parts = [key for key in state if key not in ("format", "settings_hash", "history")]
    return [
        f"epochs finished: {len(history)}",
        f"last epoch: {last or '-'}",
        f"parts: {', '.join(parts)}",
        f"settings hash: {state['settings_hash']} (a run resumes from it only under the same settings)",
    ]


def describe_split(split: dict) -> list[str]:
    counts = torch.bincount(split["labels"], minlength=len(split["classes"])).tolist()
    return [
        f"images: {shape_of(split['images'])}",
        f"labels: {shape_of(split['labels'])}",
        f"classes ({len(split['classes'])}): "
        + ", ".join(f"{name} {count}" for name, count in zip(split["classes"], counts)),
    ]


def describe_test_outputs(outputs: dict) -> list[str]:
    accuracy = (outputs["logits"].argmax(-1) == outputs["labels"]).double().mean().item()
    return [
        f"logits: {shape_of(outputs['logits'])}",
        f"features: {shape_of(outputs['features'])}",
        f"labels: {shape_of(outputs['labels'])}",
        f"test accuracy: {accuracy:.2%}",
    ]


def describe_state_dict(state: dict) -> list[str]:
    matrices = [v for v in state.values() if v.dim() == 2]
    lines = [f"tensors: {len(state)}, values: {sum(v.numel() for v in state.values()):,}"]
    if matrices:
        lines.append(
            f"last 2-D weight: {shape_of(matrices[-1])} (so {matrices[-1].shape[0]} classes, if it is the "
            "output layer)"
        )
    return lines + [
        "read it with memdissect.load_classifier(path, arch=...) or `memdissect dist --f1-arch ...`"
    ]


DESCRIBERS = {
    train.CLASSIFIER_CHECKPOINT.tag: describe_classifier,
    gan.GAN_CHECKPOINT.tag: describe_gan,
    pattern_search.PATTERN_FILE.tag: describe_patterns,
    train.CLASSIFIER_RESUME.tag: describe_resume,
    gan.GAN_RESUME.tag: describe_resume,
    "split": describe_split,
    "test_outputs": describe_test_outputs,
    "state_dict": describe_state_dict,
}


def read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return read_parquet(path)
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise ArtifactError(
            f"{path} is not a readable CSV table ({type(error).__name__}: {error})"
        ) from None


def table_lines(frame: pd.DataFrame) -> list[str]:
    """What a table of the study says at a glance: a history's accuracies, a Dist summary's pairs."""
    if {"epoch", "train_acc", "test_acc"} <= set(frame.columns) and len(frame):
        last = frame.iloc[-1]
        return [
            f"history: {len(frame)} epochs; last epoch train_acc {last['train_acc']:.4f}, "
            f"test_acc {last['test_acc']:.4f}"
        ]
    if {"f1", "f2", "dist_mean"} <= set(frame.columns):
        return ["pairs:"] + [
            f"  {row.f1} vs {row.f2}: Dist {row.dist_mean:.4g}" for row in frame.itertuples()
        ]
    return []


def describe_table(path: Path) -> str:
    frame = read_table(path)
    with pd.option_context("display.width", 200, "display.max_columns", 12):
        head = frame.head().to_string(index=False)
    return "\n".join(
        [
            f"{path}: a table of {len(frame)} rows",
            f"columns: {', '.join(map(str, frame.columns))}",
            *table_lines(frame),
            "first rows:",
            head,
        ]
    )


def describe(path) -> str:
    """What a memdissect file holds and the settings that made it, as lines of text: a classifier or DCGAN
    checkpoint, a pattern file, a data split, test outputs, a resume state, a plain state_dict, or a
    .parquet/.csv table. ArtifactError for anything else, naming the file."""
    path = Path(path)
    if path.suffix in (".parquet", ".csv"):
        return describe_table(path)
    if path.suffix != ".pt":
        raise ArtifactError(
            f"{path}: describe reads .pt artifacts and .parquet or .csv tables, not "
            f"{path.suffix or 'a file without a suffix'}"
        )
    artifact = load_torch(path)
    kind = artifact_kind(artifact)
    if kind == "unknown":
        tag = artifact.get("format") if isinstance(artifact, dict) else None
        version = f" this version reads (format {tag!r})" if tag else ""
        raise ArtifactError(f"{path} is not a memdissect artifact{version}")
    try:
        lines = DESCRIBERS[kind](artifact)
    except (KeyError, TypeError, ValueError) as error:
        raise ArtifactError(
            f"{path} is {KINDS[kind]} but incomplete ({type(error).__name__}: {error})"
        ) from None
    return "\n".join([f"{path}: {KINDS[kind]}", *lines])
