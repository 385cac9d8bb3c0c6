"""Patterns made by hand for the tests of what reads them: the tensors a test sets, the rest empty."""

import torch

from memdissect.dissection.patterns import Patterns


def hand_made_patterns(x: torch.Tensor, logits: torch.Tensor, **tensors) -> Patterns:
    """Patterns with x* (C x S x 3 x 32 x 32) and f1's logits (C x S x K); z0, z, x0 and the objectives as given,
    empty otherwise."""
    empty = torch.zeros(0)
    fields = dict.fromkeys(
        ("z0", "z", "x0", "objective_trace", "objective_start", "objective_end"), empty
    )
    return Patterns(settings={}, x=x, logits=logits, **{**fields, **tensors})
