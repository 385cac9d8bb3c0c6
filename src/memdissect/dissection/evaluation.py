"""Dist's rows for a whole study in one pass: each f2 on the patterns of every f1 it is paired with, and each
f1's patterns through its untrained twin (a freshly initialized network of f1's architecture, width and
classes: about log C when f1 is certain, a scale for Dist, not evidence).

The result is one long table, ``f1, f2, class, start, kl, reverse_kl, js, kl_relabeled, precision``: one block
of C x S rows per pair, in the order of the pairs, then one per f1 with f2 = ``design.UNTRAINED``; ``precision`` is
that of f2's logits as they ran (fp32: IEEE fp32, or tf32).
"""

from collections.abc import Callable, Mapping

import pandas as pd
import torch

from memdissect.dissection.distance import pattern_divergence_table
from memdissect.dissection.patterns import Patterns, logits_on_patterns
from memdissect.study.design import UNTRAINED
from memdissect.study.settings import ClassifierSettings
from memdissect.training.runtime import precision_that_ran
from memdissect.training.train import build_untrained_twin

COLUMNS = ["f1", "f2", "class", "start", "kl", "reverse_kl", "js", "kl_relabeled", "precision"]


def divergence_rows(
    f1: str, f2: str, patterns: Patterns, model: torch.nn.Module, device, chunk_size: int = 1000
) -> pd.DataFrame:
    """One row per (class, start) of f1's patterns: f1's outputs there against the model's (in fp32)."""
    f2_logits = logits_on_patterns(model, patterns.x, device, chunk_size)  # C x S x K
    table = pattern_divergence_table(patterns.logits, f2_logits)
    return table.assign(f1=f1, f2=f2, precision=precision_that_ran(device, "fp32"))[COLUMNS]


def mean_over_starts(rows: pd.DataFrame, column: str = "kl") -> float:
    """Dist as the summary computes it: the mean over classes per start, then over starts."""
    return rows.groupby("start")[column].mean().mean()


def evaluation_table(
    patterns: Mapping[str, Patterns],
    pairs,
    load_f2: Callable[[str], torch.nn.Module],
    settings: Mapping[str, ClassifierSettings],
    device,
    chunk_size: int = 1000,
    log=print,
) -> pd.DataFrame:
    """Every pair (f1, f2) and every f1's untrained twin on f1's patterns, as one long table.

    patterns: each f1's (``without_starting_images`` holds less); load_f2: f2's model from its name, called once per f2;
    settings: each f1's settings, from which its untrained twin is built.
    """
    pairs = [tuple(pair) for pair in pairs]
    blocks = {}
    for f2 in dict.fromkeys(f2 for _, f2 in pairs):
        model = load_f2(f2)
        for f1 in (f1 for f1, other in pairs if other == f2):
            rows = divergence_rows(f1, f2, patterns[f1], model, device, chunk_size)
            relabeled = mean_over_starts(rows, "kl_relabeled")
            log(f"Dist({f1}, {f2}) = {mean_over_starts(rows):.4f}, relabeled {relabeled:.4f}")
            blocks[f1, f2] = rows
        del model
    for f1 in patterns:
        twin = build_untrained_twin(settings[f1], device)
        rows = divergence_rows(f1, UNTRAINED, patterns[f1], twin, device, chunk_size)
        log(
            f"Dist against an untrained {settings[f1].arch} on {f1}'s patterns: {mean_over_starts(rows):.4f}"
        )
        blocks[f1, UNTRAINED] = rows
    ordered = [blocks[pair] for pair in pairs] + [blocks[f1, UNTRAINED] for f1 in patterns]
    return pd.concat(ordered, ignore_index=True) if ordered else pd.DataFrame(columns=COLUMNS)
