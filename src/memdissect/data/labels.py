"""Label sets: the true labels with a fraction p replaced by uniformly random ones.

For a label seed, one permutation of the examples and one random label per example are drawn
whatever p is; the first round(p * N) examples of the permutation are corrupted. So the
corrupted sets are nested across noise levels, p = 0 is X_T and p = 1 is X_R. A corrupted
example keeps its true label with probability 1/C, as a uniformly random label would.
NumPy's PCG64 makes the draw the same on every platform, without importing torch.
"""

import numpy as np
import pandas as pd

from memdissect.io import DataError


def corrupt_labels(true_labels, noise: float, num_classes: int, seed: int) -> pd.DataFrame:
    """The label table: index, true_label, label, corrupted (one row per training example)."""
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise level must lie in [0, 1], got {noise!r}")
    true_labels = np.asarray(true_labels, dtype=np.int64)
    n = len(true_labels)
    rng = np.random.Generator(np.random.PCG64(seed))
    order = rng.permutation(n)
    random_labels = rng.integers(0, num_classes, size=n, dtype=np.int64)
    corrupted = np.zeros(n, dtype=bool)
    corrupted[order[: round(noise * n)]] = True
    return pd.DataFrame(
        {
            "index": np.arange(n, dtype=np.int64),
            "true_label": true_labels,
            "label": np.where(corrupted, random_labels, true_labels),
            "corrupted": corrupted,
        }
    )


def check_label_table(
    table: pd.DataFrame, expected_length: int, path="", made_by: str = ""
) -> None:
    """DataError naming the file (and ``made_by``, the rule that writes it) unless it has one row per example."""
    if len(table) != expected_length:
        raise DataError(
            f"label file {path} has {len(table)} rows but the data set has {expected_length} training "
            f"examples; delete it and rerun{f' rule {made_by!r}' if made_by else ''}"
        )
