"""Classifier and GAN architectures, and the one place that builds them by name.

- dcgan: DCGAN for 32x32 RGB images.
- external: Classifiers from outside memdissect, behind its input contract: pixels in [0, 1], the normalization
  inside the model.
- normalize: Per-channel input normalization as a model's first operation.
- resnet: ResNet32 for CIFAR (He et al. 2016, section 4.2) with parameter-free "option A" shortcuts.
- vgg: CIFAR VGG with BatchNorm and a single Linear(512, C) head, built from one table.
"""

from torch import nn

from memdissect.models.resnet import resnet32
from memdissect.models.vgg import vgg11, vgg13

ARCHITECTURES = {"vgg11": vgg11, "vgg13": vgg13, "resnet32": resnet32}


def build_model(name: str, num_classes: int = 10, width: float = 1.0) -> nn.Module:
    """Build a classifier by name: memdissect's "vgg11", "vgg13", "resnet32" at a width multiplier, or
    "torchvision:<name>" / "<module>:<function>" (memdissect.models.external; width 1 only)."""
    if ":" in name:
        from memdissect.models.external import build_external

        if width != 1.0:
            raise ValueError(
                f"{name}: only memdissect's own architectures scale by width; valid: width 1.0"
            )
        return build_external(name, num_classes)
    if name not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {name!r}; valid: {', '.join(sorted(ARCHITECTURES))}, "
            f"torchvision:<name>, <module>:<function>"
        )
    if not width > 0:
        raise ValueError(f"width must be positive, got {width!r}")
    return ARCHITECTURES[name](num_classes=num_classes, width=width)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
