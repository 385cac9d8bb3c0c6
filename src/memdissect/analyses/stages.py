"""The hunting stage: G falls while train accuracy is still near chance; fitting starts as G rises.

The paper: a run on random labels starts with a *hunting stage*, where G is small and the
model hardly improves; then G rises as the *fitting stage* begins and train accuracy climbs.
A run on true labels fits at once, without a hunting stage.

G alone cannot tell them apart on real data with a constant learning rate. In every run G
falls from the first epoch to the second, true labels included, and once fitting has begun G
spikes whenever train accuracy dips, so "G rose above its running minimum" fires for every
run. What tells them apart is where train accuracy stands while G falls: still at chance
(1/C) on random labels, already well above it on true labels.

The rule, on a history sorted by epoch (A = train_acc in [0, 1], G = grad_magnitude,
chance = 1 / num_classes, epochs e_1 < e_2 < ...):

1. Smooth A with a centered running median over 3 epochs (2 at the ends): S. A one-epoch
   dip or spike goes. The *lift* of an epoch is (S - chance) / (1 - chance): the fraction of
   the way from chance to a perfect fit.
2. The *near-chance epochs* are the leading epochs e_1 .. e_w whose lift is below
   chance_band; e_{w+1}, the first epoch at or above it, is left_chance_epoch.
3. The run has a hunting stage when G falls while it is near chance: the smallest G of the
   near-chance epochs, at e_k, is not in the first epoch (k > 1). The hunting stage is
   e_1 .. e_k (g_min_epoch = e_k) and the fitting stage starts at e_{k+1}, where G rises
   again. A run whose every epoch is near chance hunted throughout: fitting_start_epoch is
   None.
4. Otherwise the run has no hunting stage: fitting_start_epoch is None and g_min_epoch is
   the epoch of the run's smallest G.

Defaults: num_classes 10, chance_band 0.2, justified by these numbers. On the CIFAR-10 subset
(500 training images per class, VGG11 and VGG13 at width 0.25, SGD with a constant lr of 0.01;
tests/fixtures/histories) G's first minimum is at epoch 2 in every run, where it is 0.17 to 0.20
of its first-epoch value on random labels, 0.41 on half-random labels (noise 0.5) and 0.40 to
0.57 on true labels: too close to separate the runs. The lift there is 0.008 on random labels,
0.13 on half-random labels and 0.35 to 0.38 on true labels; 0.2 lies near the geometric mean
(0.21) of 0.13 and 0.35, 1.6 and 1.7 times from either side. True-label runs are above the
band from the first epoch (lift 0.30 to 0.32), so none of their epochs is near chance.
Random-label runs stay near chance for 8 to 10 epochs and the half-random runs for 4, and all
of them fit from epoch 3. A true-label run would need two epochs below the band to be taken for hunting: in the demo
(synthetic shapes, 25 epochs) its lift is 0.22 in the first epoch and 0.33 in the second, while
the random-label runs are near chance for 3 epochs with G smallest at epoch 3 (lift 0.11 to
0.14) and the half-random run for 2.
"""

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Stages:
    hunting: bool
    fitting_start_epoch: (
        int | None
    )  # None without a hunting stage, or when the run never left chance
    left_chance_epoch: (
        int | None
    )  # the first epoch with lift >= chance_band; None if the run never got there
    g_min_epoch: int  # the end of the hunting stage, or the run's G minimum without one
    g_min: float
    g_first: float  # G in the first epoch
    train_acc_at_g_min: float


def smoothed_accuracy(train_acc) -> np.ndarray:
    """The centered running median of train accuracy over 3 epochs (2 at the ends)."""
    return (
        pd.Series(train_acc, dtype=np.float64)
        .rolling(3, center=True, min_periods=1)
        .median()
        .to_numpy()
    )


def lift_above_chance(train_acc, num_classes: int) -> np.ndarray:
    """(S - chance) / (1 - chance) of the smoothed train accuracy S: 0 at chance, 1 at a perfect fit."""
    chance = 1 / num_classes
    return (smoothed_accuracy(train_acc) - chance) / (1 - chance)


def near_chance_epochs(lift: np.ndarray, chance_band: float) -> int:
    """How many leading epochs have a lift below chance_band."""
    above = np.flatnonzero(lift >= chance_band)
    return int(above[0]) if len(above) else len(lift)


def check_history(g: np.ndarray, acc: np.ndarray) -> None:
    if len(g) == 0 or not np.isfinite(g).all():
        raise ValueError(
            "the history needs a finite grad_magnitude in every epoch (was it trained with "
            "grad_mode 'off'?)"
        )
    if not np.isfinite(acc).all() or (acc < 0).any() or (acc > 1).any():
        raise ValueError(
            f"train_acc must be a fraction in [0, 1] in every epoch, got {acc.tolist()}"
        )


def detect_stages(history: pd.DataFrame, num_classes: int = 10, chance_band: float = 0.2) -> Stages:
    """The hunting and fitting stages of one run, by the rule in this module's docstring."""
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")
    if not 0 < chance_band < 1:
        raise ValueError(f"chance_band must lie in (0, 1), got {chance_band!r}")
    history = history.sort_values("epoch")
    epochs = history["epoch"].to_numpy()
    g = history["grad_magnitude"].to_numpy(dtype=np.float64)
    acc = history["train_acc"].to_numpy(dtype=np.float64)
    check_history(g, acc)
    near_chance = near_chance_epochs(lift_above_chance(acc, num_classes), chance_band)
    left_chance = int(epochs[near_chance]) if near_chance < len(epochs) else None
    low = int(np.argmin(g[:near_chance])) if near_chance else 0
    if low == 0:
        low = int(np.argmin(g))
        return Stages(
            False, None, left_chance, int(epochs[low]), float(g[low]), float(g[0]), float(acc[low])
        )
    fitting_start = int(epochs[low + 1]) if left_chance is not None else None
    return Stages(
        True,
        fitting_start,
        left_chance,
        int(epochs[low]),
        float(g[low]),
        float(g[0]),
        float(acc[low]),
    )


def stage_table(histories: dict, **thresholds) -> pd.DataFrame:
    """One row per model id with the fields of `Stages`; thresholds go to `detect_stages`."""
    rows = [
        {"model": model, **asdict(detect_stages(history, **thresholds))}
        for model, history in histories.items()
    ]
    table = pd.DataFrame(rows, columns=["model", *Stages.__dataclass_fields__])
    for column in ("fitting_start_epoch", "left_chance_epoch"):
        table[column] = table[column].astype("Int64")  # missing where there is no such epoch
    return table
