"""Classifier training: the recipe of the study, with G recorded from the training step.

The training set lives on the device as one uint8 tensor; a batch is an index slice, and
augmentation runs batched per sample. All randomness (data order, augmentation) comes from
one CPU generator seeded from the model seed, so the run is the same on any device and can
resume from a checkpoint to the same bytes.
"""

import math
import time
from dataclasses import replace
from functools import partial

import pandas as pd
import torch
import torch.nn.functional as F

from memdissect.batches import EVAL_BATCH_SIZE, NonFiniteLossError, as_model_input, batch_bounds
from memdissect.checkpoints import ArtifactFormat, cpu_state_dict, load_checkpoint, save_checkpoint, train_epochs
from memdissect.models import build_model
from memdissect.runtime import Runtime
from memdissect.settings import ClassifierSettings

CLASSIFIER_CHECKPOINT = ArtifactFormat("memdissect-classifier-v1", "a memdissect classifier checkpoint")
CLASSIFIER_RESUME = ArtifactFormat("memdissect-classifier-resume-v1", "a classifier resume state")
CROP_PADDING = 4
UNTRAINED_SEED_OFFSET = 1_000_000
HISTORY_COLUMNS = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "grad_magnitude", "lr",
                   "seconds", "images_per_second", "grad_mode", "device", "precision"]


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


def epoch_batches(images, labels, settings: ClassifierSettings, generator, runtime: Runtime):
    """(input, labels) of every step of one epoch; order and augmentation are drawn first, on the CPU."""
    device = images.device
    order = torch.randperm(len(images), generator=generator).to(device)
    if settings.augment:
        flips, offsets = (t.to(device) for t in draw_augmentation(len(images), CROP_PADDING, generator))
    for start, stop in batch_bounds(len(images), settings.batch_size):
        index = order[start:stop]
        x = as_model_input(images[index], runtime.channels_last)
        if settings.augment:
            x = batch_crop(batch_flip_lr(x, flips[start:stop]), offsets[start:stop], CROP_PADDING)
        yield x, labels[index]


def zero_totals(device) -> dict:
    """Sums over an epoch's steps, kept on the device so that no step waits for it."""
    return {"loss": torch.zeros((), device=device), "correct": torch.zeros((), device=device, dtype=torch.long),
            "grad": torch.zeros((), device=device), "first_nonfinite_step": torch.full((), -1, device=device)}


@torch.no_grad()
def add_step(totals: dict, step: int, loss, logits, labels, input_grad) -> None:
    """One step's loss, correct predictions and (input_grad not None) G into the totals."""
    batch = len(labels)
    totals["loss"] += loss.detach() * batch
    totals["correct"] += (logits.argmax(1) == labels).sum()
    if input_grad is not None:
        totals["grad"] += input_grad.abs().sum() * batch
    nonfinite_now = (totals["first_nonfinite_step"] < 0) & ~torch.isfinite(loss)
    totals["first_nonfinite_step"] = torch.where(nonfinite_now, step, totals["first_nonfinite_step"])


def epoch_metrics(totals: dict, n: int, settings: ClassifierSettings) -> dict:
    """Mean loss, accuracy and G of the epoch; a NaN or infinite loss at any step is an error."""
    if totals["first_nonfinite_step"].item() >= 0:
        raise NonFiniteLossError(f"the loss became NaN or infinite at step {totals['first_nonfinite_step'].item()} "
                                 f"(batch size {settings.batch_size}, lr {settings.lr})")
    grad_magnitude = totals["grad"].item() / n if settings.grad_mode == "step" else math.nan
    return {"train_loss": totals["loss"].item() / n, "train_acc": totals["correct"].item() / n,
            "grad_magnitude": grad_magnitude}


def train_one_epoch(model, optimizer, images, labels, settings: ClassifierSettings, generator,
                    runtime: Runtime) -> dict:
    """One pass over the training set; returns loss, accuracy and (grad_mode "step") G.

    G is the mean over examples of sum_j |dL_i/dx_j|, read from this step's own backward
    pass: the input gradient of the summed per-example loss (the batch mean times the batch
    size). With BatchNorm in training mode it includes the small coupling through batch
    statistics; grad_mode "exact" measures it without, in a separate pass.
    """
    record_grad = settings.grad_mode == "step"
    totals = zero_totals(images.device)
    model.train()
    for step, (x, y) in enumerate(epoch_batches(images, labels, settings, generator, runtime)):
        x.requires_grad_(record_grad)
        with runtime.autocast():
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        add_step(totals, step, loss, logits, y, x.grad if record_grad else None)
    return epoch_metrics(totals, len(images), settings)


@torch.no_grad()
def evaluate(model, images, labels, runtime: Runtime, batch_size=EVAL_BATCH_SIZE) -> dict:
    """Mean loss and accuracy in eval mode."""
    model.eval()
    device = images.device
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    for start in range(0, len(images), batch_size):
        x = as_model_input(images[start:start + batch_size], runtime.channels_last)
        y = labels[start:start + batch_size]
        with runtime.autocast():
            logits = model(x).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
    n = max(len(images), 1)
    return {"loss": loss_sum.item() / n, "acc": correct.item() / n}


def input_gradient_magnitude(model, images, labels, runtime: Runtime, batch_size=EVAL_BATCH_SIZE) -> float:
    """G in eval mode: mean over examples of sum_j |dL_i/dx_j| for each example's own loss."""
    model.eval()
    total = 0.0
    for start in range(0, len(images), batch_size):
        x = as_model_input(images[start:start + batch_size], runtime.channels_last).requires_grad_(True)
        with runtime.autocast():
            logits = model(x)
        loss = F.cross_entropy(logits.float(), labels[start:start + batch_size], reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
        total += grad.abs().sum().item()
    return total / max(len(images), 1)


# ----------------------------------------------------------------------- whole run


def build_classifier(settings: ClassifierSettings, device) -> torch.nn.Module:
    torch.manual_seed(settings.seed)
    return build_model(settings.arch, settings.num_classes, settings.width).to(device)


def build_untrained_twin(settings: ClassifierSettings, device) -> torch.nn.Module:
    """A freshly initialized network of the same architecture, width and classes: the null baseline of Dist."""
    return build_classifier(replace(settings, seed=settings.seed + UNTRAINED_SEED_OFFSET), device).eval()


def build_optimizer(model, settings: ClassifierSettings) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum,
                           weight_decay=settings.weight_decay)


def data_order_generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(1_000_003 * seed + 17)


def start_training(settings: ClassifierSettings, runtime: Runtime):
    """A fresh model (in the runtime's memory format), its optimizer and its data-order generator."""
    model = build_classifier(settings, runtime.device)
    if runtime.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model, build_optimizer(model, settings), data_order_generator(settings.seed)


def training_images_on(images: torch.Tensor, runtime: Runtime) -> torch.Tensor:
    """The uint8 training images on the device, in the memory format the model trains in."""
    images = images.to(runtime.device)
    return images.contiguous(memory_format=torch.channels_last) if runtime.channels_last else images


def classifier_epoch(epoch: int, model, optimizer, generator, data: dict, settings: ClassifierSettings,
                     runtime: Runtime, log) -> dict:
    """Train one epoch, measure G ("exact") and the test set; the history row, also logged."""
    started = time.perf_counter()
    train = train_one_epoch(model, optimizer, *data["train"], settings, generator, runtime)
    if settings.grad_mode == "exact":
        train["grad_magnitude"] = input_gradient_magnitude(model, *data["train"], runtime)
    test = evaluate(model, *data["test"], runtime)
    if runtime.device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    log(f"epoch {epoch}/{settings.epochs} train_loss {train['train_loss']:.4f} train_acc {train['train_acc']:.4f} "
        f"test_acc {test['acc']:.4f} G {train['grad_magnitude']:.4g} {seconds:.1f}s")
    return {"epoch": epoch, **train, "test_loss": test["loss"], "test_acc": test["acc"], "lr": settings.lr,
            "seconds": seconds, "images_per_second": len(data["train"][0]) / seconds,
            "grad_mode": settings.grad_mode, "device": runtime.device.type, "precision": runtime.precision}


def train_classifier(settings: ClassifierSettings, train_images, train_labels, test_images, test_labels,
                     device, resume_path=None, log=print):
    """Train one classifier; returns (model, history). With resume_path, resume from and save to it."""
    runtime = Runtime.for_device(device, settings.precision)
    model, optimizer, generator = start_training(settings, runtime)
    data = {"train": (training_images_on(train_images, runtime), train_labels.to(runtime.device)),
            "test": (test_images.to(runtime.device), test_labels.to(runtime.device))}
    one_epoch = partial(classifier_epoch, model=model, optimizer=optimizer, generator=generator, data=data,
                        settings=settings, runtime=runtime, log=log)
    parts = {"model": model, "optimizer": optimizer, "generator": generator}
    history = train_epochs(settings, parts, one_epoch, resume_path, CLASSIFIER_RESUME, log)
    return model, history_frame(history)


def history_frame(history: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(history, columns=HISTORY_COLUMNS)


# ----------------------------------------------------------------------- the trained classifier


def save_classifier(model, settings: ClassifierSettings, classes: list[str], path) -> None:
    """The self-describing final checkpoint: weights plus the settings that made them."""
    save_checkpoint(path, CLASSIFIER_CHECKPOINT, settings,
                    {"classes": list(classes), "state_dict": cpu_state_dict(model)})


def load_classifier(path, device="cpu", expected_settings: ClassifierSettings | None = None, made_by: str = ""):
    """(model in eval mode, its settings, its class names) from a checkpoint; refuse one made under other settings."""
    checkpoint = load_checkpoint(path, CLASSIFIER_CHECKPOINT, expected_settings, made_by)
    settings = ClassifierSettings(**checkpoint["settings"])
    model = build_model(settings.arch, settings.num_classes, settings.width)
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval(), settings, checkpoint["classes"]
