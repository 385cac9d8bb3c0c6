"""Classifier training: the recipe of the study, with G recorded from the training step.

The training set lives on the device as one uint8 tensor; a batch is an index slice, and
augmentation runs batched per sample. All randomness (data order, augmentation) comes from
one CPU generator seeded from the model seed, so the run is the same on any device and can
resume from a checkpoint to the same bytes.
"""

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from memdissect.device import autocast, resolve_precision
from memdissect.io import ArtifactError, load_torch, save_torch, settings_hash
from memdissect.models import build_model
from memdissect.settings import FromConfig

GRAD_MODES = ("step", "exact", "off")
CLASSIFIER_FORMAT = "memdissect-classifier-v1"
RESUME_FORMAT = "memdissect-classifier-resume-v1"
EVAL_BATCH_SIZE = 1000


@dataclass(frozen=True)
class ClassifierSettings(FromConfig):
    """Everything that decides a trained classifier's weights."""

    arch: str
    width: float = 1.0
    seed: int = 1
    num_classes: int = 10
    epochs: int = 100
    batch_size: int = 128
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    augment: bool = False
    grad_mode: str = "step"
    precision: str = "auto"



class NonFiniteLossError(FloatingPointError):
    """Training diverged: the loss became NaN or infinite."""


# ----------------------------------------------------------------------- batched augmentation


def batch_flip_lr(images: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Mirror the images where flip (N, bool) is set."""
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def batch_crop(images: torch.Tensor, offsets: torch.Tensor, padding: int) -> torch.Tensor:
    """Zero-pad by `padding`, then cut each image's window at offsets (N x 2, row and column)."""
    n, _, height, width = images.shape
    padded = F.pad(images, (padding,) * 4)  # N x C x (H + 2p) x (W + 2p)
    rows = offsets[:, 0, None] + torch.arange(height, device=images.device)  # N x H
    cols = offsets[:, 1, None] + torch.arange(width, device=images.device)  # N x W
    batch = torch.arange(n, device=images.device)[:, None, None]
    cropped = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # N x H x W x C
    return cropped.permute(0, 3, 1, 2)


def draw_augmentation(n: int, padding: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One epoch's flips (N) and crop offsets (N x 2), drawn on the CPU."""
    flips = torch.rand(n, generator=generator) < 0.5
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator)
    return flips, offsets


# ----------------------------------------------------------------------- one epoch


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """Batch slices; a trailing batch of one example joins the one before (BatchNorm needs two)."""
    bounds = [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def as_model_input(images_uint8: torch.Tensor, channels_last: bool) -> torch.Tensor:
    x = images_uint8.float().div_(255)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def train_one_epoch(model, optimizer, images, labels, settings: ClassifierSettings, generator, precision="fp32",
                    channels_last=False) -> dict:
    """One pass over the training set; returns loss, accuracy and (grad_mode "step") G.

    G is the mean over examples of sum_j |dL_i/dx_j|, read from this step's own backward
    pass: the input gradient of the summed per-example loss (the batch mean times the batch
    size). With BatchNorm in training mode it includes the small coupling through batch
    statistics; grad_mode "exact" measures it without, in a separate pass.
    """
    device = images.device
    n = len(images)
    order = torch.randperm(n, generator=generator).to(device)
    padding = 4
    if settings.augment:
        flips, offsets = (t.to(device) for t in draw_augmentation(n, padding, generator))
    record_grad = settings.grad_mode == "step"
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    grad_sum = torch.zeros((), device=device)
    first_nonfinite_step = torch.full((), -1, device=device)  # tracked on the device: no sync per step
    model.train()
    for step, (start, stop) in enumerate(batch_bounds(n, settings.batch_size)):
        index = order[start:stop]
        x = as_model_input(images[index], channels_last)
        if settings.augment:
            x = batch_crop(batch_flip_lr(x, flips[start:stop]), offsets[start:stop], padding)
        y = labels[index]
        x.requires_grad_(record_grad)
        with autocast(device, precision):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            batch = stop - start
            loss_sum += loss.detach() * batch
            correct += (logits.argmax(1) == y).sum()
            if record_grad:
                grad_sum += x.grad.abs().sum() * batch
            nonfinite_now = (first_nonfinite_step < 0) & ~torch.isfinite(loss)
            first_nonfinite_step = torch.where(nonfinite_now, step, first_nonfinite_step)
    if first_nonfinite_step.item() >= 0:
        raise NonFiniteLossError(f"the loss became NaN or infinite at step {first_nonfinite_step.item()} "
                                 f"(batch size {settings.batch_size}, lr {settings.lr})")
    train_loss = loss_sum.item() / n
    metrics = {"train_loss": train_loss, "train_acc": correct.item() / n}
    metrics["grad_magnitude"] = grad_sum.item() / n if record_grad else math.nan
    return metrics


@torch.no_grad()
def evaluate(model, images, labels, precision="fp32", channels_last=False, batch_size=EVAL_BATCH_SIZE) -> dict:
    """Mean loss and accuracy in eval mode."""
    model.eval()
    device = images.device
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    for start in range(0, len(images), batch_size):
        x = as_model_input(images[start:start + batch_size], channels_last)
        y = labels[start:start + batch_size]
        with autocast(device, precision):
            logits = model(x).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
    n = max(len(images), 1)
    return {"loss": loss_sum.item() / n, "acc": correct.item() / n}


def input_gradient_magnitude(model, images, labels, precision="fp32", channels_last=False,
                             batch_size=EVAL_BATCH_SIZE) -> float:
    """G in eval mode: mean over examples of sum_j |dL_i/dx_j| for each example's own loss."""
    model.eval()
    total = 0.0
    for start in range(0, len(images), batch_size):
        x = as_model_input(images[start:start + batch_size], channels_last).requires_grad_(True)
        with autocast(images.device, precision):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), labels[start:start + batch_size], reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
        total += grad.abs().sum().item()
    return total / max(len(images), 1)


# ----------------------------------------------------------------------- whole run


def build_classifier(settings: ClassifierSettings, device) -> torch.nn.Module:
    torch.manual_seed(settings.seed)
    return build_model(settings.arch, settings.num_classes, settings.width).to(device)


UNTRAINED_SEED_OFFSET = 1_000_000


def build_untrained_twin(settings: ClassifierSettings, device) -> torch.nn.Module:
    """A freshly initialized network of the same architecture, width and classes: the null baseline of Dist."""
    twin = build_classifier(ClassifierSettings(**{**asdict(settings), "seed": settings.seed + UNTRAINED_SEED_OFFSET}), device)
    return twin.eval()


def uses_channels_last(device) -> bool:
    """Train in channels_last where convolutions run faster in it: cuDNN on CUDA, and oneDNN on a CPU,
    which otherwise reorders every activation into its blocked layout and back (ResNet32 about 15% faster)."""
    return torch.device(device).type in ("cuda", "cpu")


def build_optimizer(model, settings: ClassifierSettings) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum,
                           weight_decay=settings.weight_decay)


def data_order_generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(1_000_003 * seed + 17)


def start_training(settings: ClassifierSettings, device, channels_last: bool):
    """A fresh model (in channels_last where asked), its optimizer and its data-order generator."""
    model = build_classifier(settings, device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model, build_optimizer(model, settings), data_order_generator(settings.seed)


def training_images_on(images: torch.Tensor, device, channels_last: bool) -> torch.Tensor:
    """The uint8 training images on the device, in the memory format the model trains in."""
    images = images.to(device)
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images


def train_classifier(settings: ClassifierSettings, train_images, train_labels, test_images, test_labels,
                     device, resume_path=None, log=print):
    """Train one classifier; returns (model, history). With resume_path, resume from and save to it."""
    precision = resolve_precision(settings.precision, device)
    channels_last = uses_channels_last(device)
    model, optimizer, generator = start_training(settings, device, channels_last)
    history: list[dict] = []
    if resume_path is not None and Path(resume_path).exists():
        history = restore_training_state(resume_path, settings, model, optimizer, generator, log)
    train_images, train_labels = training_images_on(train_images, device, channels_last), train_labels.to(device)
    test_images, test_labels = test_images.to(device), test_labels.to(device)
    for epoch in range(len(history) + 1, settings.epochs + 1):
        started = time.perf_counter()
        try:
            train = train_one_epoch(model, optimizer, train_images, train_labels, settings, generator,
                                    precision, channels_last)
        except NonFiniteLossError as error:
            raise NonFiniteLossError(f"training diverged in epoch {epoch}: {error}") from None
        if settings.grad_mode == "exact":
            train["grad_magnitude"] = input_gradient_magnitude(model, train_images, train_labels, precision,
                                                               channels_last)
        test = evaluate(model, test_images, test_labels, precision, channels_last)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        history.append({
            "epoch": epoch, **train, "test_loss": test["loss"], "test_acc": test["acc"], "lr": settings.lr,
            "seconds": seconds, "images_per_second": len(train_images) / seconds,
            "grad_mode": settings.grad_mode, "device": device.type, "precision": precision,
        })
        log(f"epoch {epoch}/{settings.epochs} train_loss {train['train_loss']:.4f} train_acc {train['train_acc']:.4f} "
            f"test_acc {test['acc']:.4f} G {train['grad_magnitude']:.4g} {seconds:.1f}s")
        if resume_path is not None:
            save_training_state(resume_path, settings, model, optimizer, generator, history)
    return model, history_frame(history)


HISTORY_COLUMNS = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "grad_magnitude", "lr",
                   "seconds", "images_per_second", "grad_mode", "device", "precision"]


def history_frame(history: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(history, columns=HISTORY_COLUMNS)


# ----------------------------------------------------------------------- checkpoints


def save_training_state(path, settings, model, optimizer, generator, history) -> None:
    """The per-epoch resume checkpoint: weights, optimizer, RNG state and history so far."""
    save_torch({
        "format": RESUME_FORMAT,
        "settings_hash": settings_hash(asdict(settings)),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "generator": generator.get_state(),
        "history": history,
    }, path)


def restore_training_state(path, settings, model, optimizer, generator, log) -> list[dict]:
    state = load_torch(path, made_by="train_classifier")
    if state.get("format") != RESUME_FORMAT or state.get("settings_hash") != settings_hash(asdict(settings)):
        log(f"ignoring {path}: it was made under other settings; training from the start")
        return []
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    log(f"resuming from {path} after epoch {len(state['history'])}")
    return state["history"]


def classifier_checkpoint(model, settings: ClassifierSettings, classes: list[str]) -> dict:
    """The self-describing final checkpoint: weights plus the settings that made them."""
    return {
        "format": CLASSIFIER_FORMAT,
        "settings": asdict(settings),
        "settings_hash": settings_hash(asdict(settings)),
        "classes": list(classes),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
    }


def load_classifier(path, device="cpu", expected_settings: ClassifierSettings | None = None):
    """(model in eval mode, its settings, its class names) from a checkpoint; refuse one made under other settings."""
    checkpoint = load_torch(path, made_by="train_classifier")
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CLASSIFIER_FORMAT:
        raise ArtifactError(f"{path} is not a memdissect classifier checkpoint (made by rule 'train_classifier')")
    settings = ClassifierSettings(**checkpoint["settings"])
    if expected_settings is not None and settings_hash(asdict(expected_settings)) != checkpoint["settings_hash"]:
        raise ArtifactError(
            f"{path} was trained under other settings than the config now gives "
            f"({checkpoint['settings']} vs {asdict(expected_settings)}); rerun rule 'train_classifier'"
        )
    model = build_model(settings.arch, settings.num_classes, settings.width)
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval(), settings, checkpoint["classes"]
