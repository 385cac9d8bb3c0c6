"""The plain PyTorch way to train a CIFAR classifier, the baseline the trainer is measured against.

A torchvision-style CIFAR Dataset (a uint8 H x W x C array, one PIL image per item, ToTensor
and Normalize transforms), a shuffling DataLoader, fp32, torch.optim.SGD with the settings'
lr, momentum and weight decay, and the textbook training step. The model is memdissect's own,
built from the same seed, but with its Normalize layer replaced by the identity, since the
reference normalizes in the transform.
"""

import numpy as np
import torch
import torch.nn.functional as F
from common import BATCH_SIZE, cpu_count
from PIL import Image
from torch import nn
from torchvision import transforms

from memdissect.models.normalize import CIFAR10_MEAN, CIFAR10_STD
from memdissect.study.settings import ClassifierSettings
from memdissect.training.train import build_classifier


class CifarStyleDataset(torch.utils.data.Dataset):
    """torchvision.datasets.CIFAR10 in miniature: images held as N x 32 x 32 x 3 uint8, served as PIL images."""

    def __init__(self, images_hwc: np.ndarray, targets: list[int], transform):
        self.data = images_hwc
        self.targets = targets
        self.transform = transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        image = Image.fromarray(self.data[index])
        return self.transform(image), self.targets[index]


def reference_transform(augment: bool = False):
    steps = (
        [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()] if augment else []
    )
    return transforms.Compose(
        [*steps, transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)]
    )


def reference_loader(
    images: torch.Tensor,
    labels: torch.Tensor,
    device: torch.device,
    augment: bool = False,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> torch.utils.data.DataLoader:
    """A shuffling DataLoader: by default in-process on a CPU, worker processes and pinned memory for a GPU.

    Workers persist across epochs, which favours the reference: the usual code restarts them.
    """
    dataset = CifarStyleDataset(
        images.permute(0, 2, 3, 1).numpy(), labels.tolist(), reference_transform(augment)
    )
    if workers is None:
        workers = min(8, cpu_count()) if device.type == "cuda" else 0
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,
        generator=torch.Generator().manual_seed(0),
    )


def reference_classifier(settings: ClassifierSettings, device: torch.device) -> nn.Module:
    """memdissect's model at the same seed, without the Normalize layer (the transform does it)."""
    model = build_classifier(settings, device)
    model.normalize = nn.Identity()
    return model


def reference_epoch(model, optimizer, loader, device: torch.device) -> float:
    """One epoch the textbook way; returns the mean training loss."""
    model.train()
    running_loss, seen = 0.0, 0
    for inputs, targets in loader:
        inputs = inputs.to(device, non_blocking=True)
        targets = targets.to(device, non_blocking=True)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * len(targets)
        seen += len(targets)
    return running_loss / seen


class ReferenceRun:
    """The reference set up for `images`; each call trains it one epoch."""

    def __init__(
        self, settings: ClassifierSettings, images, labels, device: torch.device, workers=None
    ):
        self.model = reference_classifier(settings, device)
        self.optimizer = torch.optim.SGD(
            self.model.parameters(),
            lr=settings.lr,
            momentum=settings.momentum,
            weight_decay=settings.weight_decay,
        )
        self.loader = reference_loader(
            images, labels, device, settings.augment, settings.batch_size, workers
        )
        self.device = device

    def __call__(self) -> float:
        return reference_epoch(self.model, self.optimizer, self.loader, self.device)
