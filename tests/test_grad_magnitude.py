"""G(x) = sum_j |dL/dx_j| on a linear softmax classifier, whose input gradient is W^T (softmax(Wx + b) - e_y)."""

import pytest
import torch
from torch import nn

from memdissect.train import ClassifierSettings, input_gradient_magnitude, train_one_epoch


def linear_classifier(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10)).double()


def closed_form_g(model, images_uint8, labels):
    linear = model[1]
    x = images_uint8.double().flatten(1) / 255
    residual = torch.softmax(x @ linear.weight.T + linear.bias, dim=1)
    residual[torch.arange(len(labels)), labels] -= 1  # softmax - one-hot
    return (residual @ linear.weight).abs().sum(dim=1).mean().item()


@pytest.fixture
def batch():
    generator = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (37, 3, 32, 32), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (37,), generator=generator)
    return images, labels


def test_exact_mode_matches_the_closed_form(batch, monkeypatch):
    monkeypatch.setattr("memdissect.train.as_model_input", lambda images, _: images.double().div(255))
    model = linear_classifier()
    assert input_gradient_magnitude(model, *batch, batch_size=8) == pytest.approx(closed_form_g(model, *batch), rel=1e-6)


def test_training_step_records_the_same_g(batch, monkeypatch):
    """With lr 0 the weights stay put, so the G read from each step's backward equals the closed form."""
    monkeypatch.setattr("memdissect.train.as_model_input", lambda images, _: images.double().div(255))
    model = linear_classifier()
    expected = closed_form_g(model, *batch)
    settings = ClassifierSettings(arch="linear", batch_size=10, lr=0.0, momentum=0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    metrics = train_one_epoch(model, optimizer, *batch, settings, torch.Generator().manual_seed(0))
    assert metrics["grad_magnitude"] == pytest.approx(expected, rel=1e-6)


def test_g_scales_with_the_weights(batch, monkeypatch):
    """Doubling W and b changes G: a check that G is not a constant of the data."""
    monkeypatch.setattr("memdissect.train.as_model_input", lambda images, _: images.double().div(255))
    model = linear_classifier()
    before = input_gradient_magnitude(model, *batch)
    with torch.no_grad():
        model[1].weight.mul_(2)
    assert input_gradient_magnitude(model, *batch) != pytest.approx(before, rel=1e-3)
