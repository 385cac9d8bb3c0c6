"""Classifiers from outside memdissect, behind its input contract: pixels in [0, 1], the
normalization inside the model.

``torchvision:<name>`` is built by torchvision's constructor with ``num_classes`` and no
pretrained weights. Where the constructor's stem would shrink a 32x32 image away (ResNet,
ResNeXt and Wide ResNet: a 7x7 stride-2 convolution, then a stride-2 max-pool, leave 8x8 before
the first block), the stem becomes a 3x3 stride-1 convolution without the max-pool, as in the
CIFAR ResNets. ``<module>:<function>`` is called as ``function(num_classes=C)``.

The network must give C outputs, and its last ``nn.Linear`` must be its output layer: its input
is the penultimate feature vector that the cross-checks compare (linear CKA). A network that
breaks this contract is refused when it is built, before any training, with an ArchitectureError
that says what it gives.
"""

import importlib

import torch
from torch import nn

from memdissect.models.normalize import CIFAR10_MEAN, CIFAR10_STD
from memdissect.study.architectures import (
    TORCHVISION_PREFIX,
    ArchitectureError,
    importable_from,
    is_torchvision,
)

PROBE_SIZE = 32


class ExternalClassifier(nn.Module):
    """A network that expects normalized input, given pixels in [0, 1]; mean and std travel in its state_dict."""

    def __init__(self, network: nn.Module, mean=CIFAR10_MEAN, std=CIFAR10_STD):
        super().__init__()
        self.network = network
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        self.head_name = output_layer_name(network)

    @property
    def classifier(self) -> nn.Linear:
        return self.network.get_submodule(self.head_name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network((x - self.mean) / self.std)

    def penultimate(self, x: torch.Tensor) -> torch.Tensor:
        """The input of the output layer, B x D."""
        captured = []
        hook = self.classifier.register_forward_hook(
            lambda module, inputs, output: captured.append(inputs[0])
        )
        try:
            self(x)
        finally:
            hook.remove()
        return captured[-1].flatten(1)


def output_layer_name(network: nn.Module) -> str:
    linear = [name for name, module in network.named_modules() if isinstance(module, nn.Linear)]
    if not linear:
        raise ArchitectureError(
            f"{type(network).__name__} has no nn.Linear; valid: a network whose output layer is "
            f"one (memdissect reads the penultimate features at its input)"
        )
    return linear[-1]


def adapt_to_small_images(network: nn.Module) -> nn.Module:
    """Replace a ResNet-style 7x7 stride-2 stem and its max-pool by a 3x3 stride-1 convolution."""
    stem = getattr(network, "conv1", None)
    if (
        isinstance(stem, nn.Conv2d)
        and stem.kernel_size == (7, 7)
        and isinstance(getattr(network, "maxpool", None), nn.MaxPool2d)
    ):
        network.conv1 = nn.Conv2d(
            stem.in_channels, stem.out_channels, kernel_size=3, stride=1, padding=1, bias=False
        )
        network.maxpool = nn.Identity()
    return network


def build_network(arch: str, num_classes: int) -> nn.Module:
    """The bare network of `torchvision:<name>` or `<module>:<function>`."""
    if is_torchvision(arch):
        from torchvision import models

        network = models.get_model(
            arch.removeprefix(TORCHVISION_PREFIX), weights=None, num_classes=num_classes
        )
        return adapt_to_small_images(network)
    module, _, function = arch.partition(":")
    importable_from(".")
    constructor = getattr(importlib.import_module(module), function)
    try:
        network = constructor(num_classes=num_classes)
    except TypeError as error:  # a constructor that takes no num_classes
        raise ArchitectureError(
            f"{arch} cannot be called as {function}(num_classes={num_classes}): {error}; valid: "
            f"a function that takes num_classes and returns an nn.Module"
        ) from None
    if not isinstance(network, nn.Module):
        raise ArchitectureError(
            f"{arch} returned a {type(network).__name__}; valid: a function that returns an "
            f"nn.Module"
        )
    return network


def check_output_layer(model: ExternalClassifier, arch: str, num_classes: int) -> None:
    """The network must give C logits on a 32x32 image, and its last nn.Linear must give them."""
    model_was_training = model.training
    model.eval()
    probe = torch.rand(2, 3, PROBE_SIZE, PROBE_SIZE, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        try:
            logits = model(probe)
        except (
            RuntimeError,
            AssertionError,
            ValueError,
        ) as error:  # torch's shape errors; torchvision's asserts
            raise ArchitectureError(
                f"{arch} cannot classify a 3x{PROBE_SIZE}x{PROBE_SIZE} image: "
                f"{str(error).strip().splitlines()[0]}"
            ) from None
        through_head = model.classifier(model.penultimate(probe))
    model.train(model_was_training)
    if logits.shape != (2, num_classes):
        outputs = " x ".join(map(str, logits.shape[1:]))
        raise ArchitectureError(
            f"{arch}: {arch.rsplit(':', 1)[-1]}(num_classes={num_classes}) built a network of "
            f"{outputs} outputs per image, not one per class; valid: a constructor whose output "
            f"layer has num_classes outputs"
        )
    if not torch.allclose(logits, through_head, atol=1e-5, rtol=1e-4):
        raise ArchitectureError(
            f"{arch}: its last nn.Linear ({model.head_name}) is not its output layer (the "
            f"network computes more after it); valid: a network whose last nn.Linear gives the "
            f"logits, as memdissect reads the penultimate features at that layer's input"
        )


def build_external(arch: str, num_classes: int) -> ExternalClassifier:
    model = ExternalClassifier(build_network(arch, num_classes))
    check_output_layer(model, arch, num_classes)
    return model
