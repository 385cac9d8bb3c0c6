"""CIFAR VGG with BatchNorm and a single Linear(512, C) head, built from one table.

| depth | parameters (C = 10, width 1) |
|-------|------------------------------|
| VGG11 | 9,231,114                    |
| VGG13 | 9,416,010                    |
"""

from torch import nn

from memdissect.models.normalize import Normalize

LAYER_PLANS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
}


def scaled_channels(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


class VGG(nn.Module):
    def __init__(self, plan: list, num_classes: int = 10, width: float = 1.0):
        super().__init__()
        self.normalize = Normalize()
        layers: list[nn.Module] = []
        in_channels = 3
        for entry in plan:
            if entry == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                continue
            out_channels = scaled_channels(entry, width)
            layers += [
                nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
            ]
            in_channels = out_channels
        self.features = nn.Sequential(*layers)  # N x 512w x 1 x 1 after five poolings
        self.classifier = nn.Linear(in_channels, num_classes)

    def penultimate(self, x):
        return self.features(self.normalize(x)).flatten(1)  # N x 512w

    def forward(self, x):
        return self.classifier(self.penultimate(x))


def vgg11(num_classes: int = 10, width: float = 1.0) -> VGG:
    return VGG(LAYER_PLANS["vgg11"], num_classes, width)


def vgg13(num_classes: int = 10, width: float = 1.0) -> VGG:
    return VGG(LAYER_PLANS["vgg13"], num_classes, width)
