"""Learn, then memorize: train accuracy and G of the clean and of the relabeled samples, from the training step.

The paper (Section 4, after Arpit et al. 2017): a network first fits the samples whose labels follow from
the images, and memorizes the rest later. On a label set with corrupted samples the training step already
sees every sample's prediction and input gradient; these functions add them up per group, on the device,
so that the epoch's history can hold one column per group beside `train_acc` and `grad_magnitude`.

The groups. A sample is *relabeled* where its assigned label differs from its true label, *clean*
elsewhere. A corrupted sample keeps its true label with probability 1/C (memdissect.data.labels): for the
network it is a clean sample, and counting it as corrupted would make "accuracy on the assigned label" and
"predicted as the true class" overlap by 1/C. `relabeled_mask` gives that mask; any other boolean mask
(the label table's `corrupted`, say) works the same way.

The columns, per epoch (`GROUP_COLUMNS`), read from the steps' own predictions as `train_acc` is (the
running accuracy over the epoch, with augmentation where training uses it):

    clean_train_acc            clean samples predicted as their label
    relabeled_train_acc        relabeled samples predicted as their assigned (random) label
    relabeled_true_class       relabeled samples predicted as their true class
    clean_grad_magnitude       G of the clean samples: the mean over them of sum_j |dL_i/dx_j|
    relabeled_grad_magnitude   G of the relabeled samples
    clean_samples, relabeled_samples   the sizes of the groups

A group without samples has NaN accuracies and G; without G recorded (grad_mode other than "step") the
G columns are NaN.
"""

import math

import torch

GROUP_COUNTS = (
    "clean_correct",
    "relabeled_correct",
    "relabeled_true_class",
    "clean",
    "relabeled",
)  # sizes last


def relabeled_mask(labels: torch.Tensor, true_labels: torch.Tensor) -> torch.Tensor:
    """Where the assigned label is not the true one (N, bool)."""
    return labels != true_labels


def zero_group_totals(device) -> dict:
    """The per-group sums of an epoch, on the device: counts in the order of GROUP_COUNTS and G of the clean
    and of the relabeled samples. Names apart from train.zero_totals', so that one dict can hold both."""
    return {
        "group_counts": torch.zeros(len(GROUP_COUNTS), device=device, dtype=torch.long),
        "group_grad": torch.zeros(2, device=device),
    }


def sample_grad_magnitudes(input_grad: torch.Tensor) -> torch.Tensor:
    """sum_j |dL_i/dx_j| per sample (B) from the input gradient of a step whose loss is the batch mean
    (B x C x H x W): each sample's share is scaled back by the batch size, as train.add_step does for G."""
    return input_grad.abs().sum(dim=(1, 2, 3)) * len(input_grad)


@torch.no_grad()
def add_group_step(totals: dict, logits, labels, true_labels, relabeled, sample_grad=None) -> None:
    """One step's per-group counts and (sample_grad, B, not None) G into the totals, in place and without a
    read back to the host, so that a step captured in a CUDA graph adds to the same tensors every epoch.

    logits: B x C; labels (assigned), true_labels: B; relabeled: B, bool.
    """
    predicted = logits.argmax(1)
    clean = ~relabeled
    correct = predicted == labels
    flags = torch.stack(
        [
            correct & clean,
            correct & relabeled,
            (predicted == true_labels) & relabeled,
            clean,
            relabeled,
        ]
    )  # 5 x B, in the order of GROUP_COUNTS
    totals["group_counts"] += flags.sum(1)
    if (
        sample_grad is not None
    ):  # a slice, not an index list: no host-to-device copy in a captured step
        totals["group_grad"] += flags[3:].to(sample_grad.dtype) @ sample_grad  # 2: clean, relabeled


def share(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def group_epoch_metrics(totals: dict, grad_recorded: bool) -> dict:
    """The epoch's GROUP_COLUMNS from the totals (two reads from the device)."""
    counts = dict(zip(GROUP_COUNTS, totals["group_counts"].tolist()))
    clean_grad, relabeled_grad = (
        totals["group_grad"].tolist() if grad_recorded else (math.nan, math.nan)
    )
    return {
        "clean_train_acc": share(counts["clean_correct"], counts["clean"]),
        "relabeled_train_acc": share(counts["relabeled_correct"], counts["relabeled"]),
        "relabeled_true_class": share(counts["relabeled_true_class"], counts["relabeled"]),
        "clean_grad_magnitude": share(clean_grad, counts["clean"]),
        "relabeled_grad_magnitude": share(relabeled_grad, counts["relabeled"]),
        "clean_samples": counts["clean"],
        "relabeled_samples": counts["relabeled"],
    }
