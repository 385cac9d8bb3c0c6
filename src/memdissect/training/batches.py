"""What every batched loop of the study shares: batch slices, the classifiers' input, divergence."""

import torch

EVAL_BATCH_SIZE = 1000


class NonFiniteLossError(FloatingPointError):
    """Training diverged: the loss became NaN or infinite."""


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """Batch slices; a trailing batch of one example joins the one before (BatchNorm needs two)."""
    bounds = [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def as_model_input(images_uint8: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """uint8 images as the classifiers' float input in [0, 1], in the memory format asked for."""
    x = images_uint8.float().div_(255)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x
