"""Dissect your own networks from a notebook: plain tensors and nn.Modules in, results out.

Shapes: C classes of f1, S starts, D latent dimensions of the generator, images 3 x 32 x 32.
Every classifier takes pixels in [0, 1] (N x 3 x 32 x 32) and returns logits (N x C). The
defaults are the paper's, as in the workflow's config schema. The functions leave the networks
passed to them as they were (training mode, requires_grad), except that they move them to the
device they compute on.
"""

import copy
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from memdissect.dissection import distance, statistics
from memdissect.dissection import patterns as pattern_search
from memdissect.dissection.patterns import Patterns
from memdissect.io import ArtifactError, load_torch
from memdissect.study.architectures import VALID_ARCHITECTURES, check_normalization
from memdissect.study.settings import (
    BOOTSTRAP,
    ClassifierSettings,
    GanSettings,
    PatternSettings,
    defaults,
)
from memdissect.training import gan, train
from memdissect.training.imported import import_classifier, read_state_dict

TRAINING = defaults(ClassifierSettings)  # the paper's, from the one place that holds them
DCGAN = defaults(GanSettings)
SEARCH = defaults(PatternSettings)
PAIR = {"f1": "f1", "f2": "f2"}  # the key columns distance and statistics group by: one pair here


# ----------------------------------------------------------------------------- arguments and networks


def check_images(images: torch.Tensor, what: str = "images") -> None:
    """Refuse anything but uint8 images N x 3 x 32 x 32, naming what was given."""
    if (
        not isinstance(images, torch.Tensor)
        or images.dtype != torch.uint8
        or tuple(images.shape[1:]) != (3, 32, 32)
    ):
        given = (
            f"{images.dtype} {tuple(images.shape)}"
            if isinstance(images, torch.Tensor)
            else type(images).__name__
        )
        raise ValueError(
            f"{what} must be a uint8 tensor N x 3 x 32 x 32 (pixels 0-255), got {given}"
        )


def check_labels(
    labels, count: int, num_classes: int | None = None, what: str = "labels"
) -> torch.Tensor:
    """labels as int64 (N), refused unless there is one integer in 0 .. num_classes - 1 per image."""
    labels = None if labels is None else torch.as_tensor(labels)
    given = "None" if labels is None else f"{labels.dtype} {tuple(labels.shape)}"
    if (
        labels is None
        or labels.shape != (count,)
        or labels.is_floating_point()
        or labels.is_complex()
    ):
        raise ValueError(f"{what} must be {count} integers, one per image, got {given}")
    high = num_classes if num_classes is not None else float("inf")
    if count and not (0 <= labels.min() and labels.max() < high):
        raise ValueError(
            f"{what} must lie in 0 .. {high - 1} (one per class), got {labels.min()} .. {labels.max()}"
        )
    return labels.long()


def device_of(module: nn.Module, device=None) -> torch.device:
    """device where given, else where the module's parameters are (the CPU for a module without any)."""
    if device is not None:
        return torch.device(device)
    return next((p.device for p in module.parameters()), torch.device("cpu"))


@contextmanager
def restored(*modules: nn.Module):
    """Run a block that may switch modules to eval mode or freeze their parameters; undo both after."""
    modes = [(sub, sub.training) for module in modules for sub in module.modules()]
    grads = [(p, p.requires_grad) for module in modules for p in module.parameters()]
    try:
        yield
    finally:
        for sub, training in modes:
            sub.training = training
        for parameter, requires_grad in grads:
            parameter.requires_grad_(requires_grad)


def quiet(_line: str) -> None:
    pass


def load_images(folder):
    """(images, labels, classes) of an image folder `folder/<class>/<image>`, such as the train/ or test/
    folder of a data set: uint8 N x 3 x 32 x 32 (resized where not 32 x 32), int64 N in 0 .. C-1 and the C
    class names in sorted order, as the workflow's `imagefolder` data set reads them."""
    from memdissect.data.tensors import read_class_folders

    folder = Path(folder)
    if folder.is_dir() and sorted(entry.name for entry in folder.iterdir() if entry.is_dir()) == [
        "test",
        "train",
    ]:
        raise ValueError(
            f"{folder} holds train/ and test/: it is a data set's root, not a folder of classes; valid: "
            f"{folder / 'train'} or {folder / 'test'}"
        )
    split = read_class_folders(folder)
    return split["images"], split["labels"], split["classes"]


# ----------------------------------------------------------------------------- training and loading


def train_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    arch: str = "vgg11",
    *,
    width: float = TRAINING["width"],
    epochs: int = TRAINING["epochs"],
    batch_size: int = TRAINING["batch_size"],
    lr: float = TRAINING["lr"],
    momentum: float = TRAINING["momentum"],
    weight_decay: float = TRAINING["weight_decay"],
    augment: bool = TRAINING["augment"],
    seed: int = TRAINING["seed"],
    precision: str = TRAINING["precision"],
    test_images=None,
    test_labels=None,
    classes=None,
    save_to=None,
    device="cpu",
    log=None,
):
    """Train a classifier with the study's recipe (SGD, constant learning rate); (model in eval mode, history).

    images: uint8 N x 3 x 32 x 32; labels: int64 N in 0 .. C-1 (C = len(classes), else labels.max() + 1);
    test_images, test_labels: the same for a test set, measured after every epoch (else the
    history's test columns are NaN). history: one row per epoch (train_loss, train_acc, test_acc,
    grad_magnitude, ...). save_to: also write a memdissect classifier checkpoint there, which
    `load_classifier` and `memdissect dist` read. log: a function taking one line per epoch (print).
    """
    check_images(images)
    labels = check_labels(labels, len(images))
    classes = (
        list(classes) if classes is not None else [str(k) for k in range(int(labels.max()) + 1)]
    )
    labels = check_labels(labels, len(images), len(classes))
    settings = ClassifierSettings(
        arch=arch,
        width=width,
        seed=seed,
        num_classes=len(classes),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        momentum=momentum,
        weight_decay=weight_decay,
        augment=augment,
        precision=precision,
    )
    test = (images[:0], labels[:0]) if test_images is None else (test_images, test_labels)
    check_images(test[0], "test_images")
    test_labels = check_labels(test[1], len(test[0]), len(classes), "test_labels")
    model, history = train.train_from_settings(
        settings, images, labels, test[0], test_labels, device, log=log or quiet
    )
    if test_images is None:
        history[["test_loss", "test_acc"]] = float("nan")
    if save_to is not None:
        train.save_classifier(model, settings, classes, save_to)
    return model.eval(), history


def train_generator(
    images: torch.Tensor,
    *,
    epochs: int = DCGAN["epochs"],
    batch_size: int = DCGAN["batch_size"],
    lr: float = DCGAN["lr"],
    width: float = DCGAN["width"],
    seed: int = DCGAN["seed"],
    precision: str = DCGAN["precision"],
    save_to=None,
    device="cpu",
    log=None,
) -> nn.Module:
    """Train the study's DCGAN on uint8 images N x 3 x 32 x 32 (labels unused); the generator, in eval mode.

    The generator maps z (B x 100) to images B x 3 x 32 x 32 in [-1, 1]; `synthesize` maps them to
    [0, 1]. save_to: also write a memdissect DCGAN checkpoint there (`load_generator` reads it).
    """
    check_images(images)
    settings = GanSettings(
        epochs=epochs, batch_size=batch_size, lr=lr, width=width, seed=seed, precision=precision
    )
    generator, discriminator, _ = gan.train_gan(settings, images, device, log=log or quiet)
    if save_to is not None:
        gan.save_gan(generator, discriminator, settings, save_to)
    return generator


def load_generator(path, device="cpu") -> nn.Module:
    """The generator of a memdissect DCGAN checkpoint (results/gan/dcgan.pt), in eval mode."""
    generator, _, _ = gan.load_gan(path, device)
    return generator


def load_classifier(
    path,
    arch: str | None = None,
    *,
    num_classes: int | None = None,
    width: float = 1.0,
    mean=None,
    std=None,
    device="cpu",
) -> nn.Module:
    """A classifier taking pixels in [0, 1] (N x 3 x 32 x 32 -> N x C logits), in eval mode.

    path: a memdissect classifier checkpoint (results/models/<model>/weights.pt), which knows its
    architecture and normalization; or, with arch, a plain state_dict (also under a "state_dict"
    key, or with DataParallel's "module." prefix) of a network `memdissect.models.build_model(arch,
    num_classes, width)` builds: vgg11, vgg13, resnet32, torchvision:<name> or <module>:<function>
    (importable from the working directory, called as function(num_classes=C)). num_classes defaults
    to the rows of the state_dict's last 2-D weight. mean, std (3 values each): the per-channel
    normalization the network was trained with, required for torchvision's and your own networks
    (as in the workflow); memdissect's own normalize with CIFAR-10's unless told otherwise.
    """
    from memdissect.inspect import KINDS

    artifact = load_torch(path)
    if isinstance(artifact, dict) and "format" in artifact:
        if artifact["format"] != train.CLASSIFIER_CHECKPOINT.tag:
            what = KINDS.get(artifact["format"], f"a file of format {artifact['format']!r}")
            raise ArtifactError(f"{path} is {what}, not a memdissect classifier checkpoint")
        if mean is not None or std is not None or arch is not None:
            raise ValueError(
                f"{path} is a memdissect checkpoint: it knows its architecture and normalization; "
                "arch, mean and std apply only to a plain state_dict"
            )
        return train.read_classifier_checkpoint(path, device)[0]
    if arch is None:
        raise ValueError(
            f"{path} is not a memdissect checkpoint; to read it as a plain state_dict, give its arch: "
            f"{VALID_ARCHITECTURES}"
        )
    check_normalization(arch, mean, std)
    state = read_state_dict(path)
    if num_classes is None:
        num_classes = (
            [value for value in state.values() if value.dim() == 2][-1].shape[0] if state else 10
        )
    settings = ClassifierSettings(arch=arch, width=width, num_classes=num_classes)
    normalization = None if mean is None and std is None else {"mean": mean, "std": std}
    return import_classifier(path, settings, normalization).to(device).eval()


# ----------------------------------------------------------------------------- patterns


def load_patterns(path) -> Patterns:
    """A pattern file of the workflow (results/patterns/<f1>.pt) or of `save_patterns`."""
    return pattern_search.read_pattern_file(path)


def save_patterns(patterns: Patterns, path) -> None:
    """Write patterns as a pattern file (atomically), as the workflow writes them: readable by `load_patterns`,
    `memdissect dist --patterns` and `memdissect describe`."""
    pattern_search.write_pattern_file(patterns, path)


@torch.no_grad()
def count_classes(classifier: nn.Module, generator: nn.Module, device) -> int:
    """C: the length of the classifier's output on one generated image."""
    classifier.eval()
    generator.eval()
    z = torch.zeros(1, generator.latent_dim, device=device)
    return classifier(gan.to_pixel_range(generator(z))).shape[-1]


def synthesize(
    classifier: nn.Module,
    generator: nn.Module,
    num_classes: int | None = None,
    *,
    starts: int = SEARCH["starts"],
    iterations: int = SEARCH["iterations"],
    lr: float = SEARCH["lr"],
    objective: str = SEARCH["objective"],
    optimizer: str = SEARCH["optimizer"],
    latent_constraint: str = SEARCH["latent_constraint"],
    seed: int = SEARCH["seed"],
    chunk_size: int = SEARCH["chunk_size"],
    classes=None,
    device=None,
    log=None,
) -> Patterns:
    """f1's patterns: for each class j and start s, z* = argmax_z objective_j(f1(G(z))) from z0, x* = G(z*).

    classifier (f1): pixels in [0, 1] -> N x C logits; generator: z (B x D, D its int attribute latent_dim)
    -> B x 3 x 32 x 32 in [-1, 1]. num_classes: C, the length of f1's output (another is refused). objective:
    logit, log_softmax or softmax; optimizer: sgd or adam; latent_constraint: none, clamp (|z| <= 3)
    or sphere (|z| = sqrt(D)). seed draws z0. chunk_size: rows optimized at once (memory, not result).
    device: by default the classifier's. Returns `Patterns` (x: C x S x 3 x 32 x 32, logits: C x S x C).
    """
    settings = PatternSettings(
        starts=starts,
        iterations=iterations,
        lr=lr,
        objective=objective,
        optimizer=optimizer,
        latent_constraint=latent_constraint,
        seed=seed,
        chunk_size=chunk_size,
    )
    if not isinstance(getattr(generator, "latent_dim", None), int):
        raise ValueError(
            f"the generator ({type(generator).__name__}) needs an int attribute latent_dim: D, "
            "the length of the z it takes"
        )
    device = device_of(classifier, device)
    with restored(classifier.to(device), generator.to(device)):
        outputs = count_classes(classifier, generator, device)
        if num_classes not in (None, outputs):
            raise ValueError(
                f"num_classes={num_classes}, but the classifier ({type(classifier).__name__}) gives "
                f"{outputs} outputs on a generated image; valid: num_classes={outputs}, or leave it out"
            )
        num_classes = outputs
        return pattern_search.synthesize_patterns(
            classifier, generator, num_classes, settings, device, log=log or quiet, classes=classes
        )


# ----------------------------------------------------------------------------- Dist


@dataclass(frozen=True)
class DistResult:
    """Dist(f1, f2) on f1's patterns, in nats.

    dist_mean: the mean over starts of Dist_s, the class-mean KL(f1(x*) || f2(x*)) of start s;
    dist_variance: its variance over starts (NaN for one start); dist_ci_low, dist_ci_high: its percentile
    bootstrap interval over starts at `confidence`. reverse_kl_mean, js_mean: the other divergences.
    relabeled_mean: Dist against f2 with its classes relabeled (mean over the C - 1 cyclic shifts);
    relabeled_ratio = dist_mean / relabeled_mean (0: the same function, 1: as far as a trained
    function whose classes are unrelated to f1's) and its interval. table: one row per
    (class, start): class, start, kl, reverse_kl, js, kl_relabeled (C * S rows).
    """

    dist_mean: float
    dist_variance: float
    dist_ci_low: float
    dist_ci_high: float
    confidence: float
    n_starts: int
    reverse_kl_mean: float
    js_mean: float
    relabeled_mean: float
    relabeled_ratio: float
    relabeled_ratio_ci_low: float
    relabeled_ratio_ci_high: float
    table: pd.DataFrame

    def as_row(self) -> dict:
        """Every number of the result (no table), as one row of a table: dist_summary's columns and confidence."""
        return {key: value for key, value in asdict(self).items() if key != "table"}

    def __str__(self) -> str:
        level = f"{self.confidence:.0%}"
        return (
            f"Dist {self.dist_mean:.4f} [{level} CI {self.dist_ci_low:.4f}, {self.dist_ci_high:.4f}] over "
            f"{self.n_starts} starts; relabeled ratio {self.relabeled_ratio:.3f} "
            f"[{self.relabeled_ratio_ci_low:.3f}, {self.relabeled_ratio_ci_high:.3f}]"
        )


def dist_from_logits(
    f1_logits: torch.Tensor,
    f2_logits: torch.Tensor,
    n_resamples: int = BOOTSTRAP["n_resamples"],
    confidence: float = BOOTSTRAP["confidence"],
    seed: int = BOOTSTRAP["seed"],
) -> DistResult:
    """Dist and its references from f1's and f2's logits on f1's patterns (each C x S x C)."""
    if f1_logits.shape != f2_logits.shape:
        raise ValueError(
            f"f1's and f2's logits on the patterns differ in shape: {tuple(f1_logits.shape)} vs "
            f"{tuple(f2_logits.shape)}; f2 must have f1's classes"
        )
    table = distance.pattern_divergence_table(f1_logits, f2_logits)
    long = table.assign(**PAIR)
    summary = statistics.dist_summary_with_intervals(
        long, n_resamples=n_resamples, confidence=confidence, seed=seed
    ).iloc[0]
    numbers = {
        name: float(summary[name])
        for name in (
            "dist_mean",
            "dist_variance",
            "reverse_kl_mean",
            "js_mean",
            "relabeled_mean",
            "relabeled_ratio",
        )
    }
    intervals = {
        name: float(summary[name])
        for name in (
            "dist_ci_low",
            "dist_ci_high",
            "relabeled_ratio_ci_low",
            "relabeled_ratio_ci_high",
        )
    }
    return DistResult(
        **numbers,
        **intervals,
        confidence=confidence,
        n_starts=int(summary["n_starts"]),
        table=table,
    )


def logits_on(patterns: Patterns, model: nn.Module, device=None) -> torch.Tensor:
    """A model's logits on the patterns x (C x S x 3 x 32 x 32), as C x S x K, computed as the workflow does."""
    device = device_of(model, device)
    with restored(model.to(device)):
        return pattern_search.logits_on_patterns(
            model, patterns.x, device, patterns.settings["chunk_size"]
        )


def dist(
    patterns: Patterns,
    f2: nn.Module,
    *,
    n_resamples: int = BOOTSTRAP["n_resamples"],
    confidence: float = BOOTSTRAP["confidence"],
    seed: int = BOOTSTRAP["seed"],
    device=None,
) -> DistResult:
    """Dist(f1, f2) on f1's patterns (from `synthesize(f1, ...)` or `load_patterns`): f2's outputs on x*
    against f1's logits stored with the patterns. n_resamples, confidence, seed: the bootstrap over starts."""
    return dist_from_logits(
        patterns.logits, logits_on(patterns, f2, device), n_resamples, confidence, seed
    )


def untrained_twin(model: nn.Module, seed: int | None = None) -> nn.Module:
    """The null baseline's network: an untrained network of model's architecture, in eval mode, on model's device.

    A classifier of a memdissect checkpoint (`load_classifier`) knows the settings that made it: its twin is
    the workflow's own (`train.build_untrained_twin`), so that `null_baseline` reproduces a run's untrained
    row. Any other model (or one given a seed) is copied with every parameter drawn anew by each module's own
    reset_parameters() (resetting BatchNorm statistics too), on the CPU under seed (0 unless given), so the
    twin is the same on any device. That is PyTorch's default initialization of each layer, which may differ
    from an architecture's own init (ResNet32's Kaiming normal): build a fresh network yourself and pass it
    to `dist` to use another.
    """
    settings = getattr(model, "classifier_settings", None)
    if seed is None and settings is not None:
        return train.build_untrained_twin(settings, device_of(model))
    owners = [
        name or type(model).__name__
        for name, module in model.named_modules()
        if not hasattr(module, "reset_parameters")
        and any(True for _ in module.parameters(recurse=False))
    ]
    if owners:
        raise ValueError(
            f"cannot re-initialize {', '.join(owners)}: they hold parameters but have no "
            "reset_parameters(); build an untrained network yourself and pass it to dist()"
        )
    device = device_of(model)
    twin = copy.deepcopy(model).cpu()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0 if seed is None else seed)
        for module in twin.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return twin.to(device).eval()


def null_baseline(
    patterns: Patterns,
    f1: nn.Module,
    *,
    init_seed: int | None = None,
    n_resamples: int = BOOTSTRAP["n_resamples"],
    confidence: float = BOOTSTRAP["confidence"],
    seed: int = BOOTSTRAP["seed"],
    device=None,
) -> DistResult:
    """Dist(f1, untrained twin of f1) on f1's patterns: about log C where f1 is certain (a scale, not evidence).

    The twin is `untrained_twin(f1, init_seed)`: for a memdissect checkpoint the workflow's own, so the result
    is the run's untrained row; n_resamples, confidence, seed: the bootstrap over starts.
    """
    return dist(
        patterns,
        untrained_twin(f1, init_seed),
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        device=device,
    )
