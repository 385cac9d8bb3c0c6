"""A lookup table as the reference of pure memorization: a k-nearest-neighbour classifier of one condition,
usable wherever an f2 is.

The paper (Introduction): "Given training examples and corresponding hyperparameters, the built k-NN model
is unique ... there is a qualitative difference between neural networks and k-NN". A k-NN of a condition's
training images and labels stands beside the trained f2 in Dist: does a network that memorized X_R answer
on its patterns as a lookup table of X_R does?

The classifier. Each query's k nearest training images, by Euclidean distance in a feature space, vote:
the soft vote v is the share of the k votes per class. It is smoothed towards uniform,
q = (1 - s) v + s / C, so that every class keeps at least s / C and KL(f1 || q) is finite (at most
log(C / s) nats above f1's entropy). The module takes pixels in [0, 1] (N x 3 x H x W, as every
classifier of the study) and returns log q (N x C) as its logits: softmax(log q) = q.

Defaults. Pixels as the feature space; k = 1, the lookup table itself: it answers every training image with
its own label, as a network that memorized its labels does (X_R included), where a larger k averages over
neighbours and no longer reproduces random labels. s = 0.01: a class no neighbour voted for keeps
s / C = 0.001 at C = 10, and KL against a class f1 is certain of is then log(C / s) = 6.9 nats. A fixed
network's penultimate features (`NetworkFeatures`) are the other feature space.

Determinism. Distances are computed in float64 as |q|^2 - 2 q.t + |t|^2 and rounded to a grid of 1e-12 of
the training features' mean squared norm, so that distances equal in exact arithmetic compare equal (the
expansion's rounding, some 1e-15 of |q|^2 + |t|^2, sets two such distances apart in about one query of a
hundred at 3,072 pixels). Distances closer than the grid count as equal: on CIFAR pixels the grid is about
1e-9, where squared distances between images are of order 10 to 1000. The neighbours are chosen as a set:
every training image closer than the k-th smallest distance, then those at exactly that distance by
increasing index until there are k. Ties go to the lowest index whatever the order of the computation or
the chunk sizes. Nothing is drawn at random and nothing is trained: two tables
of one condition (the same images, labels, k, smoothing and features) are the same function.

Memory: a block of queries holds query_chunk x N distances (float64, with a boolean and an int64 copy:
about 17 bytes each; 256 queries against 50,000 images: 220 MB); the training features are read in blocks
of reference_chunk rows.
"""

from collections.abc import Callable, Mapping

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from memdissect.analyses.lookup_table_summary import LOOKUP
from memdissect.dissection.evaluation import COLUMNS, divergence_rows, mean_over_starts
from memdissect.dissection.patterns import Patterns
from memdissect.training.batches import EVAL_BATCH_SIZE, as_model_input

DEFAULT_K = 1
DEFAULT_SMOOTHING = 0.01
DISTANCE_RESOLUTION = (
    1e-12  # of the training features' mean squared norm: 1000 times float64's rounding there
)
QUERY_CHUNK = 256
REFERENCE_CHUNK = 4096


class PixelFeatures(nn.Module):
    """Pixels in [0, 1] as features: each image flattened (N x 3HW)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


class NetworkFeatures(nn.Module):
    """A fixed network's penultimate features (N x D) of pixels in [0, 1]; the network stays in eval mode."""

    def __init__(self, network: nn.Module):
        super().__init__()
        if not callable(getattr(network, "penultimate", None)):
            raise ValueError(
                f"a feature network must have a penultimate(x) method, as memdissect's classifiers do; "
                f"{type(network).__name__} has none"
            )
        self.network = network.eval().requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self.network.eval()  # fixed: BatchNorm keeps its running statistics whatever mode the table is put in
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network.penultimate(x).flatten(1)


def as_features(rows: torch.Tensor) -> torch.Tensor:
    """Stored training features in float64, N x D: uint8 images as the classifiers see them (float32 pixels in
    [0, 1]), so that a query equal to a training image's model input is at distance 0."""
    if rows.dtype == torch.uint8:
        rows = as_model_input(rows, channels_last=False)
    return rows.flatten(1).double()


def nearest_k(distances: torch.Tensor, k: int) -> torch.Tensor:
    """The k nearest of each row (Q x N distances) as a Q x N mask; ties at the k-th distance go to the lowest
    indices."""
    kth = distances.topk(k, dim=1, largest=False).values[:, -1:]  # Q x 1
    closer = distances < kth
    tied = distances == kth
    room = k - closer.sum(1, keepdim=True)  # how many of the tied ones still fit
    return closer | (tied & (tied.cumsum(1) <= room))


def check_table(
    reference: torch.Tensor, labels: torch.Tensor, num_classes: int, k: int, smoothing: float
) -> None:
    """ValueError naming the bad value unless the table can be built."""
    if len(labels) != len(reference):
        raise ValueError(
            f"the lookup table has {len(reference)} training images but {len(labels)} labels"
        )
    if not 1 <= k <= len(reference):
        raise ValueError(
            f"k must lie between 1 and the {len(reference)} training images, got {k!r}"
        )
    if not 0 < smoothing <= 1:
        raise ValueError(
            f"smoothing must lie in (0, 1], got {smoothing!r}: at 0 a class without votes has "
            "probability 0 and KL against it is infinite"
        )
    if len(labels) and not (0 <= int(labels.min()) and int(labels.max()) < num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}), got {int(labels.min())} to {int(labels.max())}"
        )


class LookupTable(nn.Module):
    """k-NN of training features (N x ..., uint8 images or float features of `features`) and their labels (N):
    pixels in [0, 1] in, log of the smoothed soft vote (N x C, float32) out."""

    def __init__(
        self,
        reference: torch.Tensor,
        labels: torch.Tensor,
        num_classes: int,
        k: int = DEFAULT_K,
        smoothing: float = DEFAULT_SMOOTHING,
        features: nn.Module | None = None,
        query_chunk: int = QUERY_CHUNK,
        reference_chunk: int = REFERENCE_CHUNK,
    ):
        super().__init__()
        check_table(reference, labels, num_classes, k, smoothing)
        self.k, self.smoothing, self.num_classes = k, smoothing, num_classes
        self.query_chunk, self.reference_chunk = query_chunk, reference_chunk
        self.features = features if features is not None else PixelFeatures()
        norms = torch.cat(
            [as_features(part).square().sum(1) for part in reference.split(reference_chunk)]
        )  # N
        self.register_buffer("reference", reference, persistent=False)
        self.register_buffer("reference_norms", norms, persistent=False)
        self.register_buffer(
            "votes", F.one_hot(labels.long(), num_classes).double(), persistent=False
        )  # N x C
        self.resolution = DISTANCE_RESOLUTION * max(
            norms.mean().item(), torch.finfo(torch.float64).tiny
        )

    def distances(self, queries: torch.Tensor) -> torch.Tensor:
        """Squared distances (Q x N, float64) of query features (Q x D) to every training image, on the grid."""
        parts = [
            self.reference_norms[start : start + len(part)] - 2 * queries @ as_features(part).T
            for start, part in zip(
                range(0, len(self.reference), self.reference_chunk),
                self.reference.split(self.reference_chunk),
            )
        ]
        squared = torch.cat(parts, dim=1) + queries.square().sum(1, keepdim=True)
        return torch.round(squared.clamp(min=0) / self.resolution)

    def log_vote(self, queries: torch.Tensor) -> torch.Tensor:
        """log q of query features (Q x D): Q x C, float64."""
        shares = nearest_k(self.distances(queries), self.k).double() @ self.votes / self.k  # Q x C
        return ((1 - self.smoothing) * shares + self.smoothing / self.num_classes).log()

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(
            x.device.type, enabled=False
        ):  # float64 distances whatever precision the caller runs in
            queries = self.features(x.float()).flatten(1).double()  # Q x D
            parts = [self.log_vote(block) for block in queries.split(self.query_chunk)]
        return torch.cat(parts).float() if parts else x.new_zeros(0, self.num_classes)


@torch.no_grad()
def network_features_of(
    features: NetworkFeatures, images_uint8: torch.Tensor, device, batch_size: int = EVAL_BATCH_SIZE
) -> torch.Tensor:
    """A fixed network's features of uint8 images (N x D, float32, on the device), in batches."""
    parts = [
        features(as_model_input(part.to(device), channels_last=False)).float()
        for part in images_uint8.split(batch_size)
    ]
    return torch.cat(parts)


def build_lookup_table(
    images_uint8: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    k: int = DEFAULT_K,
    smoothing: float = DEFAULT_SMOOTHING,
    feature_network: nn.Module | None = None,
    device="cpu",
) -> LookupTable:
    """The k-NN of one condition on the device: its training images (uint8, N x 3 x H x W) and labels (N), in
    pixel space, or in the penultimate features of feature_network (a classifier, moved to the device)."""
    if feature_network is None:
        return LookupTable(
            images_uint8.to(device), labels.to(device), num_classes, k, smoothing
        ).to(device)
    features = NetworkFeatures(feature_network.to(device))
    reference = network_features_of(features, images_uint8, device)
    return LookupTable(reference, labels.to(device), num_classes, k, smoothing, features).to(device)


def lookup_table_evaluations(
    patterns: Mapping[str, Patterns],
    condition_of: Mapping[str, str],
    build_table: Callable[[str], LookupTable],
    device,
    chunk_size: int = 1000,
    log=print,
) -> pd.DataFrame:
    """Each f1's patterns through the lookup table of its condition, as evaluation.COLUMNS rows with f2 = LOOKUP.

    patterns: each f1's, ``patterns.without_starting_images`` holding less; condition_of: each f1's condition; build_table: the
    lookup table of a condition, called once per condition, in the order of the f1s.
    """
    blocks = []
    for condition in dict.fromkeys(condition_of[f1] for f1 in patterns):
        table = build_table(condition)
        for f1 in (f1 for f1 in patterns if condition_of[f1] == condition):
            rows = divergence_rows(f1, LOOKUP, patterns[f1], table, device, chunk_size)
            log(
                f"Dist({f1}, the lookup table of {condition}) = {mean_over_starts(rows):.4f}, relabeled "
                f"{mean_over_starts(rows, 'kl_relabeled'):.4f}"
            )
            blocks.append(rows)
        del table
    return pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=COLUMNS)
