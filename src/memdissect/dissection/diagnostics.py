"""Diagnostics of a pattern file: did the search reach its class, how far it moved, how alike and
how natural the patterns are.

A pattern file (from `synthesize_patterns`) holds z0 and z* (C x S x D), x0 = G(z0) and
x* = G(z*) (C x S x 3 x 32 x 32, pixels in [0, 1]) and f1's logits at x* (C x S x C); row j
of each was searched for class j. Per (class, start): whether f1 predicts j at x* (hit), f1's
softmax probability of j (confidence), the latent distances, and the DCGAN discriminator's
probability that x* is a real image. Per class: the diversity of the S patterns.
`diagnostics_table` summarizes them per f1, without torch.
"""

import pandas as pd
import torch
from torch import nn

from memdissect.dissection.patterns import Patterns, logits_on_patterns


def pattern_hits(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """hit (argmax is the searched class j) and confidence (softmax probability of j), each C x S."""
    target = torch.arange(logits.shape[0])[:, None]  # C x 1: row j was searched for class j
    hit = logits.argmax(-1) == target
    confidence = torch.softmax(logits.double(), -1).gather(
        -1, target.expand(logits.shape[:2])[..., None]
    )
    return hit, confidence.squeeze(-1)


def latent_movement(z0: torch.Tensor, z: torch.Tensor) -> dict[str, torch.Tensor]:
    """||z* - z0||, ||z0|| and ||z*||, each C x S."""
    z0, z = z0.double(), z.double()
    return {"z_moved": (z - z0).norm(dim=-1), "z0_norm": z0.norm(dim=-1), "z_norm": z.norm(dim=-1)}


def pattern_diversity(x: torch.Tensor) -> torch.Tensor:
    """Per class (C), the mean over pairs of distinct starts of the RMS pixel distance of their images."""
    flat = x.double().flatten(2)  # C x S x P
    starts, pixels = flat.shape[1:]
    if starts < 2:
        return torch.full((flat.shape[0],), float("nan"), dtype=torch.float64)
    distances = torch.cdist(
        flat, flat, compute_mode="donot_use_mm_for_euclid_dist"
    )  # C x S x S, zero diagonal
    return distances.sum(dim=(1, 2)) / (starts * (starts - 1)) / pixels**0.5


class PixelRangeDiscriminator(nn.Module):
    """The DCGAN discriminator on pixels in [0, 1]: one logit per image, as N x 1."""

    def __init__(self, discriminator: nn.Module):
        super().__init__()
        self.discriminator = discriminator

    def forward(self, x):
        return self.discriminator(x * 2 - 1)[:, None]  # [0, 1] -> [-1, 1], the GAN's range


def discriminator_scores(
    discriminator, x: torch.Tensor, device, chunk_size: int = 1000
) -> torch.Tensor:
    """sigmoid(D(x)): the discriminator's probability that each pattern is a real image, C x S."""
    logits = logits_on_patterns(
        PixelRangeDiscriminator(discriminator), x, device, chunk_size
    )  # C x S x 1
    return torch.sigmoid(logits.double().squeeze(-1))


def class_start_frame(columns: dict[str, torch.Tensor]) -> pd.DataFrame:
    """A long table from C x S tensors: columns class and start, then one per tensor."""
    num_classes, starts = next(iter(columns.values())).shape
    grid_class, grid_start = torch.meshgrid(
        torch.arange(num_classes), torch.arange(starts), indexing="ij"
    )
    frame = {"class": grid_class.flatten().numpy(), "start": grid_start.flatten().numpy()}
    return pd.DataFrame(
        {**frame, **{name: values.flatten().numpy() for name, values in columns.items()}}
    )


def pattern_diagnostics(
    patterns: Patterns, discriminator, device, chunk_size: int = 1000
) -> pd.DataFrame:
    """One row per (class, start): class, start, hit, confidence, z_moved, z0_norm, z_norm, discriminator_score."""
    hit, confidence = pattern_hits(patterns.logits)
    return class_start_frame(
        {
            "hit": hit,
            "confidence": confidence,
            **latent_movement(patterns.z0, patterns.z),
            "discriminator_score": discriminator_scores(
                discriminator, patterns.x, device, chunk_size
            ),
        }
    )


def diversity_table(patterns: Patterns) -> pd.DataFrame:
    """Per class: the diversity of the patterns x* and, for scale, of their starting images x0."""
    return pd.DataFrame(
        {
            "class": range(patterns.x.shape[0]),
            "diversity": pattern_diversity(patterns.x).numpy(),
            "start_diversity": pattern_diversity(patterns.x0).numpy(),
        }
    )
