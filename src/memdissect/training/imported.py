"""Classifiers trained elsewhere, read into memdissect's form: a plain state_dict (as torch.save of
``model.state_dict()`` writes it, also under a "state_dict" key or with DataParallel's "module."
prefix) or a memdissect checkpoint, loaded into the configured architecture; a file that does not fit it is
refused naming every tensor that does not."""

import torch
from torch import nn

from memdissect.io import ArtifactError, load_torch
from memdissect.models.external import ExternalClassifier
from memdissect.models.normalize import Normalize
from memdissect.study.schema import listing
from memdissect.study.settings import ClassifierSettings
from memdissect.training.train import CLASSIFIER_CHECKPOINT, build_classifier


def read_state_dict(path) -> dict:
    """The tensors of a weights file, by parameter name: a plain state_dict, one under a "state_dict" key (as
    training scripts often save it beside the optimizer and the epoch), or a memdissect checkpoint's;
    DataParallel's and DistributedDataParallel's "module." prefix removed."""
    stored = load_torch(path)
    if isinstance(stored, dict) and stored.get("format") == CLASSIFIER_CHECKPOINT.tag:
        stored = stored["state_dict"]
    elif isinstance(stored, dict) and isinstance(stored.get("state_dict"), dict):
        stored = stored["state_dict"]
    if not isinstance(stored, dict) or not all(
        isinstance(value, torch.Tensor) for value in stored.values()
    ):
        raise ArtifactError(
            f"{path} holds no state_dict (a mapping of parameter names to tensors); valid: the file "
            f"torch.save(model.state_dict(), path) writes, or a memdissect checkpoint"
        )
    return {key.removeprefix("module."): value for key, value in stored.items()}


def shape_of(tensor: torch.Tensor) -> str:
    return " x ".join(map(str, tensor.shape)) or "a scalar"


def mismatches(module: nn.Module, state: dict) -> str:
    """Every tensor of state that does not fit module: each of another shape, with both shapes, then the missing
    and unexpected names (at most schema.LISTED of each); "" where all fit."""
    own = module.state_dict()
    resized = [
        f"{key} {shape_of(state[key])} (the network's {shape_of(own[key])})"
        for key in own
        if key in state and state[key].shape != own[key].shape
    ]
    missing, unexpected = (
        [key for key in own if key not in state],
        [key for key in state if key not in own],
    )
    parts = [f"{len(resized)} tensor(s) of another shape: {', '.join(resized)}"] if resized else []
    parts += [
        f"{len(keys)} {label} tensor(s): {listing(keys)}"
        for label, keys in (("missing", missing), ("unexpected", unexpected))
        if keys
    ]
    return "; ".join(parts)


def load_into(module: nn.Module, state: dict, path, settings: ClassifierSettings) -> None:
    """Load state into module, or raise an ArtifactError naming the file and every tensor that does not fit."""
    problems = mismatches(module, state)
    if problems:
        raise ArtifactError(
            f"{path} does not fit {settings.arch} at width {settings.width} with "
            f"{settings.num_classes} classes: {problems}; valid: the weights of exactly this "
            f"network (the arch, width and number of classes they were trained with)"
        )
    module.load_state_dict(state)


def import_classifier(
    path, settings: ClassifierSettings, normalization: dict | None = None
) -> torch.nn.Module:
    """The classifier of a weights file, in eval mode on the CPU, taking pixels in [0, 1], behind the
    normalization its network expects (normalization: {"mean": [3], "std": [3]}, or None for the model's own)."""
    model = build_classifier(settings, "cpu")
    state = read_state_dict(path)
    wrapped = isinstance(model, ExternalClassifier) and not any(
        key.startswith("network.") for key in state
    )
    load_into(model.network if wrapped else model, state, path, settings)
    if normalization:
        model = with_normalization(model, normalization["mean"], normalization["std"])
    return model.eval()


def with_normalization(model: nn.Module, mean, std) -> nn.Module:
    """model normalizing its [0, 1] input with mean and std (3 values each): its own normalization replaced
    (a memdissect architecture's Normalize, an external one's mean and std buffers), or a Normalize put first."""
    if mean is None and std is None:
        return model
    if mean is None or std is None or len(mean) != 3 or len(std) != 3:
        raise ValueError(
            f"mean and std must both be given, 3 values each (one per channel), got {mean!r}, {std!r}"
        )
    if isinstance(getattr(model, "normalize", None), Normalize):
        model.normalize = Normalize(tuple(mean), tuple(std))
    elif all(isinstance(getattr(model, name, None), torch.Tensor) for name in ("mean", "std")):
        model.mean.copy_(torch.tensor(mean).view_as(model.mean))
        model.std.copy_(torch.tensor(std).view_as(model.std))
    else:
        model = nn.Sequential(Normalize(tuple(mean), tuple(std)), model)
    return model
