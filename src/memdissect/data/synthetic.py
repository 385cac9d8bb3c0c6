"""The embedded synthetic data set: ten classes of simple shapes, drawn from a seed.

Each image is one shape on a plain background. The class decides only the shape; position,
scale, stripe frequency, both colours and pixel noise vary per image. A small CNN learns
the true labels in a few epochs, while random labels can only be memorized.
"""

import math

import torch

from memdissect.data.catalogue import SYNTHETIC_CLASSES as CLASSES

IMAGE_SIZE = 32


def shape_masks(labels: torch.Tensor, u: torch.Tensor, v: torch.Tensor, frequency: torch.Tensor):
    """Masks in [0, 1] of each image's shape; u, v: N x 32 x 32 coordinates in shape units."""
    radius = torch.sqrt(u**2 + v**2)
    inside_box = (u.abs() < 1) & (v.abs() < 1)
    stripes = lambda phase: torch.sin(phase * frequency) > 0  # noqa: E731
    dots = torch.zeros_like(u, dtype=torch.bool)
    for du in (-0.5, 0.5):
        for dv in (-0.5, 0.5):
            dots |= (u - du) ** 2 + (v - dv) ** 2 < 0.3**2
    per_class = torch.stack(
        [
            radius < 1,
            (radius > 0.55) & (radius < 1),
            (u.abs() < 0.8) & (v.abs() < 0.8),
            ((u.abs() < 0.28) & (v.abs() < 1)) | ((v.abs() < 0.28) & (u.abs() < 1)),
            inside_box & stripes(v),
            inside_box & stripes(u),
            inside_box & stripes((u + v) / math.sqrt(2)),
            inside_box & (stripes(u) == stripes(v)),
            (v < 0.9) & (u.abs() < (v + 1.1) / 2),
            dots,
        ]
    )  # C x N x 32 x 32
    return per_class[labels, torch.arange(len(labels))].float()


def draw_images(labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Images as uint8 N x 3 x 32 x 32 for the given labels."""
    n = len(labels)
    uniform = lambda *shape: torch.rand(*shape, generator=generator)  # noqa: E731
    center = (uniform(n, 2) - 0.5) * 0.7  # N x 2, in [-0.35, 0.35]
    scale = 0.45 + 0.35 * uniform(n)  # N, half-width in image units
    frequency = math.pi * (2.0 + 1.5 * uniform(n))  # N, stripes per shape unit
    axis = torch.linspace(-1, 1, IMAGE_SIZE)
    y, x = torch.meshgrid(axis, axis, indexing="ij")  # 32 x 32
    u = (x[None] - center[:, 0, None, None]) / scale[:, None, None]
    v = (y[None] - center[:, 1, None, None]) / scale[:, None, None]
    mask = shape_masks(labels, u, v, frequency[:, None, None])[:, None]  # N x 1 x 32 x 32
    background = uniform(n, 3, 1, 1)
    # the foreground differs from the background by at least 0.35 in mean brightness
    shift = (0.35 + 0.4 * uniform(n, 1, 1, 1)) * torch.where(
        background.mean(1, keepdim=True) > 0.5, -1.0, 1.0
    )
    foreground = (background + shift + 0.25 * (uniform(n, 3, 1, 1) - 0.5)).clamp(0, 1)
    noise = 0.06 * torch.randn(n, 3, IMAGE_SIZE, IMAGE_SIZE, generator=generator)
    image = background * (1 - mask) + foreground * mask + noise  # N x 3 x 32 x 32
    return (image.clamp(0, 1) * 255).round().to(torch.uint8)


def balanced_labels(n: int, num_classes: int, generator: torch.Generator) -> torch.Tensor:
    labels = torch.arange(n) % num_classes
    return labels[torch.randperm(n, generator=generator)]


def make_synthetic_dataset(train_size: int, test_size: int, seed: int) -> dict:
    """Train and test splits as uint8 images and int64 labels; same seed, same bytes."""
    generator = torch.Generator().manual_seed(seed)
    splits = {}
    for split, size in (("train", train_size), ("test", test_size)):
        labels = balanced_labels(size, len(CLASSES), generator)
        splits[split] = {
            "images": draw_images(labels, generator),
            "labels": labels,
            "classes": list(CLASSES),
        }
    return splits
