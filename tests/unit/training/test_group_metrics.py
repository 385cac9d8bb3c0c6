"""The per-group totals of the training step, against direct computations on hand-made and real batches."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from memdissect.data.labels import corrupt_labels
from memdissect.models import build_model
from memdissect.study.history import GROUP_COLUMNS
from memdissect.training.group_metrics import (
    GROUP_COUNTS,
    add_group_step,
    group_epoch_metrics,
    relabeled_mask,
    sample_grad_magnitudes,
    zero_group_totals,
)
from memdissect.training.train import add_step, reset_totals, zero_totals


def batch(seed=0, size=37, classes=10):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(size, classes, generator=generator)
    true_labels = torch.randint(0, classes, (size,), generator=generator)
    relabeled = torch.rand(size, generator=generator) < 0.5
    labels = torch.where(
        relabeled,
        (true_labels + torch.randint(1, classes, (size,), generator=generator)) % classes,
        true_labels,
    )
    sample_grad = torch.rand(size, generator=generator, dtype=torch.float32)
    return logits, labels, true_labels, relabeled, sample_grad


def direct_counts(logits, labels, true_labels, relabeled, sample_grad):
    """The same sums, one sample at a time."""
    sums = {
        "clean_correct": 0,
        "clean": 0,
        "relabeled_correct": 0,
        "relabeled_true_class": 0,
        "relabeled": 0,
        "clean_grad": 0.0,
        "relabeled_grad": 0.0,
    }
    for row, label, true, is_relabeled, grad in zip(
        logits, labels, true_labels, relabeled, sample_grad
    ):
        predicted = int(row.argmax())
        group = "relabeled" if is_relabeled else "clean"
        sums[group] += 1
        sums[f"{group}_correct"] += predicted == int(label)
        sums[f"{group}_grad"] += float(grad)
        sums["relabeled_true_class"] += bool(is_relabeled) and predicted == int(true)
    return sums


def test_totals_equal_the_sums_taken_one_sample_at_a_time_over_several_steps():
    totals = zero_group_totals("cpu")
    expected = {}
    for seed in range(3):
        step = batch(seed)
        add_group_step(totals, *step)
        for name, value in direct_counts(*step).items():
            expected[name] = expected.get(name, 0) + value
    assert totals["group_counts"].tolist() == [expected[name] for name in GROUP_COUNTS]
    assert totals["group_grad"].tolist() == pytest.approx(
        [expected["clean_grad"], expected["relabeled_grad"]], rel=1e-6
    )


def test_metrics_of_a_batch_counted_by_hand():
    logits = torch.eye(4)[[0, 1, 2, 3, 0, 1]]  # predictions 0 1 2 3 0 1
    labels = torch.tensor([0, 1, 0, 3, 2, 2])
    true_labels = torch.tensor([0, 1, 0, 1, 0, 1])  # samples 3, 4, 5 relabeled
    totals = zero_group_totals("cpu")
    add_group_step(
        totals,
        logits,
        labels,
        true_labels,
        relabeled_mask(labels, true_labels),
        torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 9.0]),
    )
    metrics = group_epoch_metrics(totals, grad_recorded=True)
    assert list(metrics) == GROUP_COLUMNS
    assert metrics["clean_train_acc"] == pytest.approx(
        2 / 3
    )  # samples 0, 1 right; 2 predicted 2, label 0
    assert metrics["relabeled_train_acc"] == pytest.approx(1 / 3)  # sample 3 predicted its label 3
    assert metrics["relabeled_true_class"] == pytest.approx(
        2 / 3
    )  # samples 4 (0) and 5 (1): their true class
    assert (
        metrics["clean_grad_magnitude"] == pytest.approx(2.0)
        and metrics["relabeled_grad_magnitude"] == 6.0
    )
    assert (metrics["clean_samples"], metrics["relabeled_samples"]) == (3, 3)


def test_an_empty_group_and_unrecorded_g_are_nan():
    logits, labels, true_labels, _, sample_grad = batch()
    totals = zero_group_totals("cpu")
    add_group_step(
        totals,
        logits,
        true_labels,
        true_labels,
        torch.zeros(len(labels), dtype=torch.bool),
        sample_grad,
    )
    metrics = group_epoch_metrics(totals, grad_recorded=True)
    assert math.isnan(metrics["relabeled_train_acc"]) and math.isnan(
        metrics["relabeled_grad_magnitude"]
    )
    assert metrics["relabeled_samples"] == 0 and metrics["clean_samples"] == len(labels)
    unrecorded = group_epoch_metrics(totals, grad_recorded=False)
    assert math.isnan(unrecorded["clean_grad_magnitude"])
    assert unrecorded["clean_train_acc"] == metrics["clean_train_acc"]


def test_relabeled_are_the_corrupted_samples_whose_random_label_is_not_the_true_one():
    true_labels = torch.randint(0, 10, (2000,), generator=torch.Generator().manual_seed(0))
    table = corrupt_labels(true_labels.numpy(), 0.5, 10, 3)
    labels, true_labels = (
        torch.tensor(table["label"].to_numpy()),
        torch.tensor(table["true_label"].to_numpy()),
    )
    relabeled = relabeled_mask(labels, true_labels).numpy()
    corrupted = table["corrupted"].to_numpy()
    assert (
        relabeled <= corrupted
    ).all() and relabeled.sum() < corrupted.sum()  # about 1/10 kept their label
    assert (labels.numpy() != true_labels.numpy())[relabeled].all()


def test_the_groups_add_up_to_the_steps_own_accuracy_and_g_with_the_train_totals_in_one_dict():
    """A narrow VGG11's real step: the groups' correct predictions and G sum to what train.add_step records, and
    train.reset_totals resets the groups' totals too."""
    torch.manual_seed(0)
    model = build_model("vgg11", 10, width=0.125)
    logits, labels, true_labels, relabeled, _ = batch(size=16)
    x = torch.rand(16, 3, 32, 32, requires_grad=True)
    output = model(x)
    loss = F.cross_entropy(output, labels)
    loss.backward()
    totals = {**zero_totals("cpu"), **zero_group_totals("cpu")}
    add_step(totals, loss, output, labels, x.grad)
    add_group_step(totals, output, labels, true_labels, relabeled, sample_grad_magnitudes(x.grad))
    counts = totals["group_counts"]
    assert int(counts[0] + counts[1]) == int(totals["correct"])  # clean_correct + relabeled_correct
    assert float(totals["group_grad"].sum()) == pytest.approx(float(totals["grad"]), rel=1e-5)
    reset_totals(totals)
    assert not totals["group_counts"].any() and not totals["group_grad"].any()


def test_sample_magnitudes_are_each_samples_own_loss_gradient():
    """x.grad of the batch-mean loss, scaled back per sample, is sum_j |dL_i/dx_j| of each sample alone."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 5)).double()
    x = torch.rand(6, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 5, (6,))
    F.cross_entropy(model(x), labels).backward()
    for i in range(6):
        (alone,) = torch.autograd.grad(F.cross_entropy(model(x[i : i + 1]), labels[i : i + 1]), x)
        assert sample_grad_magnitudes(x.grad)[i].item() == pytest.approx(
            alone.abs().sum().item(), rel=1e-12
        )


@pytest.mark.cuda
def test_on_cuda_the_step_adds_to_the_same_totals_when_replayed_as_a_graph():
    device = torch.device("cuda")
    logits, labels, true_labels, relabeled, sample_grad = (part.to(device) for part in batch())
    totals = zero_group_totals(device)
    stream = torch.cuda.Stream(device)
    stream.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(stream):
        add_group_step(
            totals, logits, labels, true_labels, relabeled, sample_grad
        )  # warm-up, outside the graph
    torch.cuda.current_stream(device).wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=stream):  # a read back to the host would fail the capture
        add_group_step(totals, logits, labels, true_labels, relabeled, sample_grad)
    reset_totals(totals)  # the warm-up's and the capture's sums
    for _ in range(3):
        graph.replay()
    expected = direct_counts(
        *(part.cpu() for part in (logits, labels, true_labels, relabeled, sample_grad))
    )
    assert totals["group_counts"].tolist() == [3 * expected[name] for name in GROUP_COUNTS]
    assert totals["group_grad"].tolist() == pytest.approx(
        [3 * expected["clean_grad"], 3 * expected["relabeled_grad"]], rel=1e-5
    )
