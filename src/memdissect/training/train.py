"""Classifier training: the recipe of the study, with G recorded from the training step.

The training set lives on the device as one uint8 tensor; a batch is an index slice, and
augmentation runs batched per sample. The data order and augmentation come from one CPU
generator seeded from the model seed, so the run is the same on any device; what the network
itself draws (dropout, stochastic depth) comes from the run's own random state
(runtime.RandomState). Both are in the resume state, so a run resumes to the same bytes.
"""

import contextlib
import itertools
import math
import time
from dataclasses import replace

import pandas as pd
import torch
import torch.nn.functional as F

from memdissect.models import build_model
from memdissect.study.history import GROUP_COLUMNS, HISTORY_COLUMNS
from memdissect.study.settings import ClassifierSettings
from memdissect.training.batches import (
    EVAL_BATCH_SIZE,
    NonFiniteLossError,
    as_model_input,
    batch_bounds,
)
from memdissect.training.checkpoints import (
    ArtifactFormat,
    ResumableRun,
    cpu_state_dict,
    diverged_in,
    load_checkpoint,
    save_checkpoint,
)
from memdissect.training.group_metrics import (
    add_group_step,
    group_epoch_metrics,
    relabeled_mask,
    sample_grad_magnitudes,
    zero_group_totals,
)
from memdissect.training.optim import SGD
from memdissect.training.probe_path import ProbePath
from memdissect.training.runtime import CUDA_GRAPHS, RandomState, ReplayedStep, Runtime

CLASSIFIER_CHECKPOINT = ArtifactFormat(
    "memdissect-classifier-v1", "a memdissect classifier checkpoint"
)
CLASSIFIER_RESUME = ArtifactFormat(
    "memdissect-classifier-resume-v3", "a classifier resume state"
)  # v3: random state
CROP_PADDING = 4
UNTRAINED_SEED_OFFSET = 1_000_000


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


def draw_augmentation(
    n: int, padding: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """One epoch's flips (N) and crop offsets (N x 2), drawn on the CPU."""
    flips = torch.rand(n, generator=generator) < 0.5
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator)
    return flips, offsets


# ----------------------------------------------------------------------- one step


def batch_input(
    images, index, flips, offsets, settings: ClassifierSettings, runtime: Runtime
) -> torch.Tensor:
    """The model's input for the training images at `index` (device tensors), augmented per sample when asked."""
    x = as_model_input(images[index], runtime.channels_last)
    if settings.augment:
        x = batch_crop(batch_flip_lr(x, flips), offsets, CROP_PADDING)
    return x


def zero_totals(device, groups: bool = False) -> dict:
    """Sums over an epoch's steps, kept on the device so that no step waits for them, and updated in place,
    so that a step captured in a CUDA graph adds to the same tensors every epoch; with `groups`, also the
    clean and relabeled samples' (memdissect.training.group_metrics)."""
    return {
        **(zero_group_totals(device) if groups else {}),
        "loss": torch.zeros((), device=device),
        "correct": torch.zeros((), device=device, dtype=torch.long),
        "grad": torch.zeros((), device=device),
        "steps": torch.zeros((), device=device, dtype=torch.long),
        "first_nonfinite_step": torch.full((), -1, device=device, dtype=torch.long),
    }


def reset_totals(totals: dict) -> None:
    for name, total in totals.items():
        total.fill_(-1 if name == "first_nonfinite_step" else 0)


@torch.no_grad()
def add_step(totals: dict, loss, logits, labels, input_grad, groups=None) -> None:
    """One step's loss, correct predictions and (input_grad not None) G into the totals; with groups (the batch's
    true labels and relabeled mask), the per-group sums too."""
    if groups is not None:
        add_group_step(
            totals,
            logits,
            labels,
            *groups,
            None if input_grad is None else sample_grad_magnitudes(input_grad),
        )
    batch = len(labels)
    totals["loss"] += loss.detach() * batch
    totals["correct"] += (logits.argmax(1) == labels).sum()
    if input_grad is not None:
        totals["grad"] += input_grad.abs().sum() * batch
    nonfinite_now = (totals["first_nonfinite_step"] < 0) & ~torch.isfinite(loss)
    totals["first_nonfinite_step"].copy_(
        torch.where(nonfinite_now, totals["steps"], totals["first_nonfinite_step"])
    )
    totals["steps"] += 1


def epoch_metrics(totals: dict, n: int, settings: ClassifierSettings) -> dict:
    """Mean loss, accuracy and G of the epoch; a NaN or infinite loss at any step is an error."""
    if totals["first_nonfinite_step"].item() >= 0:
        raise NonFiniteLossError(
            f"the loss became NaN or infinite at step {totals['first_nonfinite_step'].item()} "
            f"(batch size {settings.batch_size}, lr {settings.lr})"
        )
    grad_magnitude = totals["grad"].item() / n if settings.grad_mode == "step" else math.nan
    groups = (
        group_epoch_metrics(totals, settings.grad_mode == "step")
        if "group_counts" in totals
        else {}
    )
    return {
        "train_loss": totals["loss"].item() / n,
        "train_acc": totals["correct"].item() / n,
        "grad_magnitude": grad_magnitude,
        **groups,
    }


class TrainingStep:
    """One SGD step of a classifier on the batch at given indices of the training set (on the device), adding
    its loss, accuracy and G to the epoch's totals.

    G is the mean over examples of sum_j |dL_i/dx_j|, read from this step's own backward pass: the input
    gradient of the summed per-example loss (the batch mean times the batch size). With BatchNorm in training
    mode it includes the small coupling through batch statistics; grad_mode "exact" measures it without, in
    a separate pass. With `groups` (the training set's true labels and relabeled mask, on the device), it adds
    up accuracy and G of the clean and the relabeled samples apart (memdissect.training.group_metrics).
    """

    def __init__(
        self,
        model,
        optimizer,
        images,
        labels,
        settings: ClassifierSettings,
        runtime: Runtime,
        groups: tuple | None = None,
    ):
        self.model, self.optimizer, self.images, self.labels = model, optimizer, images, labels
        self.settings, self.runtime, self.groups = settings, runtime, groups
        self.totals = zero_totals(images.device, groups is not None)

    def __call__(self, index, flips=None, offsets=None, capturing: bool = False) -> None:
        record_grad = self.settings.grad_mode == "step"
        x = batch_input(
            self.images, index, flips, offsets, self.settings, self.runtime
        ).requires_grad_(record_grad)
        y = self.labels[index]
        with self.runtime.autocast(cache_enabled=not capturing):
            logits = self.model(x)
        loss = F.cross_entropy(logits.float(), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        groups = None if self.groups is None else tuple(values[index] for values in self.groups)
        add_step(self.totals, loss, logits, y, x.grad if record_grad else None, groups)


class GraphedStep:
    """A TrainingStep whose full batches run as one CUDA graph: each batch's indices, flips and offsets are copied
    into fixed buffers, which the step reads, captured once and replayed (runtime.ReplayedStep: three eager steps,
    the capture, a first replay checked against the eager step, then one launch per step instead of some hundred
    kernels). A batch of another size (the epoch's last) runs eagerly; where the capture fails or the check finds
    the replay off, every step does, and the log and status() say why.

    Where no step can be captured (a CPU, unless runtime.CUDA_GRAPHS is emulated) it reads its batches from the same
    fixed buffers and runs the step eagerly on them: the buffer logic, which tests/unit/training/test_train.py holds to the plain
    step on a CPU.
    """

    def __init__(self, step: TrainingStep, random_state: RandomState, log):
        self.step, self.runtime = step, step.runtime
        device, batch = step.images.device, step.settings.batch_size
        self.index = torch.zeros(batch, dtype=torch.long, device=device)
        self.flips = torch.zeros(batch, dtype=torch.bool, device=device)
        self.offsets = torch.zeros(batch, 2, dtype=torch.long, device=device)
        self.replayed = None
        if CUDA_GRAPHS.can_capture_on(device):
            stream = torch.cuda.Stream(device) if device.type == "cuda" else None
            self.replayed = ReplayedStep(
                self.buffered_step,
                self.state,
                random_state,
                self.runtime.precision,
                stream,
                log,
                "training",
            )

    @property
    def totals(self) -> dict:
        return self.step.totals

    @property
    def graph(self):
        """The captured graph the full batches replay, or None."""
        return None if self.replayed is None else self.replayed.graph

    def __call__(self, index, flips=None, offsets=None) -> None:
        if len(index) != len(self.index):
            return self.step(index, flips, offsets)
        self.index.copy_(index)
        if self.step.settings.augment:
            self.flips.copy_(flips)
            self.offsets.copy_(offsets)
        if self.replayed is None:
            return self.buffered_step()
        self.replayed()

    def buffered_step(self, capturing: bool = False) -> None:
        self.step(self.index, self.flips, self.offsets, capturing)

    def state(self) -> list[torch.Tensor]:
        """Every tensor a step changes: the network's weights and buffers, the optimizer's state, the totals."""
        momentum = [buffer for buffer in self.step.optimizer.momentum_buffers if buffer is not None]
        return [*self.step.model.state_dict().values(), *momentum, *self.totals.values()]

    def status(self):
        return (
            self.runtime.status_without_graphs()
            if self.replayed is None
            else self.replayed.status()
        )


# ----------------------------------------------------------------------- one classifier's run


def draw_epoch(n: int, settings: ClassifierSettings, generator: torch.Generator) -> dict:
    """One epoch's data order and (with augmentation) flips and crop offsets, drawn on the CPU."""
    plan = {"order": torch.randperm(n, generator=generator)}
    if settings.augment:
        plan["flips"], plan["offsets"] = draw_augmentation(n, CROP_PADDING, generator)
    return plan


def epoch_batches(plan: dict, settings: ClassifierSettings, device) -> list[tuple]:
    """(index, flips, offsets) of every step of the epoch, as slices of the plan on the device."""
    on_device = {name: values.to(device) for name, values in plan.items()}
    return [
        tuple(
            on_device[name][start:stop] if name in on_device else None
            for name in ("order", "flips", "offsets")
        )
        for start, stop in batch_bounds(len(plan["order"]), settings.batch_size)
    ]


def train_one_epoch(
    model, optimizer, images, labels, settings: ClassifierSettings, generator, runtime: Runtime
) -> dict:
    """One eager pass over the training set; returns loss, accuracy and (grad_mode "step") G."""
    step = TrainingStep(model, optimizer, images, labels, settings, runtime)
    model.train()
    for batch in epoch_batches(
        draw_epoch(len(images), settings, generator), settings, images.device
    ):
        step(*batch)
    return epoch_metrics(step.totals, len(images), settings)


@torch.no_grad()
def evaluate(model, images, labels, runtime: Runtime, batch_size=EVAL_BATCH_SIZE) -> dict:
    """Mean loss and accuracy in eval mode."""
    model.eval()
    device = images.device
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    for start in range(0, len(images), batch_size):
        x = as_model_input(images[start : start + batch_size], runtime.channels_last)
        y = labels[start : start + batch_size]
        with runtime.autocast():
            logits = model(x).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
    n = max(len(images), 1)
    return {"loss": loss_sum.item() / n, "acc": correct.item() / n}


def input_gradient_magnitude(
    model, images, labels, runtime: Runtime, batch_size=EVAL_BATCH_SIZE
) -> float:
    """G in eval mode: mean over examples of sum_j |dL_i/dx_j| for each example's own loss."""
    model.eval()
    total = torch.zeros(
        (), dtype=torch.float64, device=images.device
    )  # summed on the device: no sync per batch
    for start in range(0, len(images), batch_size):
        x = as_model_input(
            images[start : start + batch_size], runtime.channels_last
        ).requires_grad_(True)
        with runtime.autocast():
            logits = model(x)
        loss = F.cross_entropy(logits.float(), labels[start : start + batch_size], reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
        total += (
            grad.abs().sum()
        )  # in float64, as the sum of Python floats it replaces: the same G to the bit
    return total.item() / max(len(images), 1)


def build_classifier(settings: ClassifierSettings, device) -> torch.nn.Module:
    torch.manual_seed(settings.seed)
    return build_model(settings.arch, settings.num_classes, settings.width).to(device)


def build_untrained_twin(settings: ClassifierSettings, device) -> torch.nn.Module:
    """A freshly initialized network of the same architecture, width and classes: the null baseline of Dist."""
    return build_classifier(
        replace(settings, seed=settings.seed + UNTRAINED_SEED_OFFSET), device
    ).eval()


def build_optimizer(model, settings: ClassifierSettings) -> SGD:
    return SGD(
        model.parameters(),
        lr=settings.lr,
        momentum=settings.momentum,
        weight_decay=settings.weight_decay,
    )


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


class ClassifierRun:
    """One classifier in training: its model, optimizer, data order, step and resume state, one epoch at a time.

    `data` holds the training images and this run's labels ("train") and the test images and labels ("test"),
    on the device, and where the labels have relabeled samples their true labels and relabeled mask ("groups",
    `training_data`): the history then has the columns of study.history.GROUP_COLUMNS. With `probe_indices`
    (probe_path.probe_indices of the two splits) it records its predictions on those images after each
    epoch (`probes`, a part of the resume state). With a `stream` (CUDA), all of the run's work goes to it, so
    that the GPU can run several runs' steps at once. What its network draws comes from its own random state,
    put in place around each of its steps and evaluations: alone, beside other runs, resumed or replayed as a
    graph, it draws the same numbers.
    """

    def __init__(
        self,
        settings: ClassifierSettings,
        data: dict,
        runtime: Runtime,
        resume_path=None,
        log=print,
        stream=None,
        resume_every_seconds: float = 0.0,
        probe_indices: dict | None = None,
    ):
        self.settings, self.data, self.runtime, self.log, self.stream = (
            settings,
            data,
            runtime,
            log,
            stream,
        )
        if stream is not None:
            stream.wait_stream(
                torch.cuda.current_stream(runtime.device)
            )  # the data it reads were copied there
        with self.on_stream():
            self.model, self.optimizer, self.generator = start_training(settings, runtime)
            self.random = RandomState(
                runtime.device
            )  # after the seed and the build: what the network draws
            parts = {
                "model": self.model,
                "optimizer": self.optimizer,
                "generator": self.generator,
                "random": self.random,
            }
            self.probes = None
            if probe_indices is not None:
                self.probes = ProbePath(
                    {split: data[split][0] for split in probe_indices}, probe_indices, runtime
                )
                parts["probes"] = self.probes
            self.lifecycle = ResumableRun(
                settings, parts, resume_path, CLASSIFIER_RESUME, log, resume_every_seconds
            )
            step = TrainingStep(
                self.model, self.optimizer, *data["train"], settings, runtime, data.get("groups")
            )
            self.step = GraphedStep(step, self.random, log) if runtime.cuda_graphs else step
        self.batches, self.started, self.error = [], None, None

    def on_stream(self):
        return (
            torch.cuda.stream(self.stream) if self.stream is not None else contextlib.nullcontext()
        )

    @contextlib.contextmanager
    def computing(self):
        """On the run's stream, with its random state in place."""
        with self.on_stream(), self.random.installed():
            yield

    @property
    def done(self) -> bool:
        return self.error is not None or self.lifecycle.finished

    def begin_epoch(self) -> None:
        self.started = time.perf_counter()
        with self.on_stream():
            images = self.data["train"][0]
            self.batches = epoch_batches(
                draw_epoch(len(images), self.settings, self.generator), self.settings, images.device
            )
            reset_totals(self.step.totals)
            self.model.train()

    def take_step(self, batch: tuple) -> None:
        with self.computing():
            self.step(*batch)

    def end_epoch(self) -> None:
        """The epoch's metrics, G ("exact"), the test set and the history row; a diverged run ends with its error."""
        epoch = self.lifecycle.next_epoch
        with self.computing():
            try:
                row = self.epoch_row(epoch)
            except NonFiniteLossError as error:
                self.error = diverged_in(epoch, error)
                return
            if (
                self.probes is not None
            ):  # after the epoch's timing: `seconds` stays the training's and the test's
                self.probes.record(self.model)
        self.lifecycle.record(row)

    def epoch_row(self, epoch: int) -> dict:
        settings, runtime, (train_images, train_labels) = (
            self.settings,
            self.runtime,
            self.data["train"],
        )
        train = epoch_metrics(self.step.totals, len(train_images), settings)
        if settings.grad_mode == "exact":
            train["grad_magnitude"] = input_gradient_magnitude(
                self.model, train_images, train_labels, runtime
            )
        test = evaluate(self.model, *self.data["test"], runtime)
        if runtime.device.type == "cuda":
            torch.cuda.current_stream().synchronize()
        seconds = time.perf_counter() - self.started
        self.log(
            f"epoch {epoch}/{settings.epochs} train_loss {train['train_loss']:.4f} "
            f"train_acc {train['train_acc']:.4f} test_acc {test['acc']:.4f} G {train['grad_magnitude']:.4g} "
            f"{seconds:.1f}s"
        )
        return {
            "epoch": epoch,
            **train,
            "test_loss": test["loss"],
            "test_acc": test["acc"],
            "lr": settings.lr,
            "seconds": seconds,
            "images_per_second": len(train_images) / seconds,
            "grad_mode": settings.grad_mode,
            "device": runtime.device.type,
            "precision": runtime.precision_that_ran,
            **self.graph_status().as_row(),
        }

    def graph_status(self):
        """Whether the run's full batches replay as a CUDA graph, and why not where they do not."""
        return (
            self.step.status()
            if isinstance(self.step, GraphedStep)
            else self.runtime.status_without_graphs()
        )

    def history(self) -> pd.DataFrame:
        return history_frame(self.lifecycle.history, groups="groups" in self.data)

    def probe_path_file(self) -> dict | None:
        """The content of the run's probe path file (probe_path.PATH_FILE), or None without probes."""
        return None if self.probes is None else self.probes.as_file()


def train_round(runs: list[ClassifierRun]) -> None:
    """One epoch of each run that is not done, their steps interleaved: step k of every run, then step k + 1."""
    active = [run for run in runs if not run.done]
    for run in active:
        run.begin_epoch()
    for steps in itertools.zip_longest(*(run.batches for run in active)):
        for run, batch in zip(active, steps):
            if batch is not None:
                run.take_step(batch)
    for run in active:
        run.end_epoch()


def training_data(
    train_images, train_labels, test_images, test_labels, runtime: Runtime, true_labels=None
) -> dict:
    """The splits on the device, the training images in the runtime's memory format; with true_labels (the
    training set's) where some labels differ from them, "groups": the true labels and the relabeled mask."""
    data = {
        "train": (training_images_on(train_images, runtime), train_labels.to(runtime.device)),
        "test": (test_images.to(runtime.device), test_labels.to(runtime.device)),
    }
    return with_groups(data, true_labels)


def with_groups(data: dict, true_labels=None) -> dict:
    """data with "groups", the true labels and the relabeled mask on the labels' device, where true_labels is
    given and some training labels differ from it: then the history has study.history.GROUP_COLUMNS."""
    labels = data["train"][1]
    if true_labels is not None:
        true_labels = true_labels.to(labels.device)
        relabeled = relabeled_mask(labels, true_labels)
        if relabeled.any():
            data["groups"] = (true_labels, relabeled)
    return data


def train_from_settings(
    settings: ClassifierSettings,
    train_images,
    train_labels,
    test_images,
    test_labels,
    device,
    resume_path=None,
    log=print,
    cuda_graphs: bool = True,
    resume_every_seconds: float = 0.0,
    true_labels=None,
    probe_indices: dict | None = None,
):
    """Train one classifier; returns (model, history). With resume_path, resume from and save to it (after
    every epoch, or after the first epoch `resume_every_seconds` after the last save: ResumableRun). With
    true_labels, the history has the groups' columns (ClassifierRun); with probe_indices, returns (model,
    history, probe path file)."""
    runtime = Runtime.for_device(device, settings.precision, cuda_graphs)
    data = training_data(train_images, train_labels, test_images, test_labels, runtime, true_labels)
    run = ClassifierRun(
        settings,
        data,
        runtime,
        resume_path,
        log,
        resume_every_seconds=resume_every_seconds,
        probe_indices=probe_indices,
    )
    train_to_end(run)
    if probe_indices is not None:
        return run.model, run.history(), run.probe_path_file()
    return run.model, run.history()


def train_to_end(run: ClassifierRun) -> None:
    """Train one run alone to its last epoch; a diverged run raises its error."""
    while not run.done:
        train_round([run])
    if run.error is not None:
        raise run.error


def history_frame(history: list[dict], groups: bool = False) -> pd.DataFrame:
    return pd.DataFrame(history, columns=HISTORY_COLUMNS + (GROUP_COLUMNS if groups else []))


# ----------------------------------------------------------------------- the trained classifier


def save_classifier(model, settings: ClassifierSettings, classes: list[str], path) -> None:
    """The self-describing final checkpoint: weights plus the settings that made them."""
    save_checkpoint(
        path,
        CLASSIFIER_CHECKPOINT,
        settings,
        {"classes": list(classes), "state_dict": cpu_state_dict(model)},
    )


def read_classifier_checkpoint(
    path, device="cpu", expected_settings: ClassifierSettings | None = None, made_by: str = ""
):
    """(model in eval mode, its settings, its class names) from a checkpoint; refuse one made under other settings."""
    checkpoint = load_checkpoint(path, CLASSIFIER_CHECKPOINT, expected_settings, made_by)
    settings = ClassifierSettings(**checkpoint["settings"])
    model = build_model(settings.arch, settings.num_classes, settings.width)
    model.load_state_dict(checkpoint["state_dict"])
    model.classifier_settings = settings  # what untrained_twin builds the workflow's own twin from
    return model.to(device).eval(), settings, checkpoint["classes"]


@torch.no_grad()
def model_outputs(
    model,
    images_uint8: torch.Tensor,
    device,
    batch_size: int = EVAL_BATCH_SIZE,
    precision: str = "fp32",
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits N x C, penultimate features N x D) of a classifier in eval mode, on the CPU in float32 (computed in IEEE
    fp32 unless asked for bf16)."""
    runtime = Runtime.for_device(device, precision, cuda_graphs=False)
    model.eval()
    logits, features = [], []
    for start in range(0, len(images_uint8), batch_size):
        x = as_model_input(
            images_uint8[start : start + batch_size].to(runtime.device), channels_last=False
        )
        with runtime.autocast():
            penultimate = model.penultimate(x)  # B x D
            logits.append(model.classifier(penultimate).float().cpu())  # B x C
        features.append(penultimate.float().cpu())
    return torch.cat(logits), torch.cat(features)


def test_outputs(model, test: dict, device) -> dict:
    """What the cross-checks keep of a classifier: its logits and (half-precision) penultimate features on the
    test images of a split dict, and the test labels."""
    logits, features = model_outputs(model, test["images"], device)
    return {"logits": logits, "features": features.half(), "labels": test["labels"]}
