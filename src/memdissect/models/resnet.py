"""ResNet32 for CIFAR (He et al. 2016, section 4.2) with parameter-free "option A" shortcuts.

| depth    | blocks per stage | channels  | parameters (C = 10, width 1) |
|----------|------------------|-----------|------------------------------|
| ResNet32 | 5                | 16/32/64  | 464,154                      |
"""

import torch.nn.functional as F
from torch import nn

from memdissect.models.normalize import Normalize
from memdissect.models.vgg import scaled_channels


class ZeroPadShortcut(nn.Module):
    """Option A: subsample by 2 and pad the new channels with zeros; no parameters."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.stride = stride
        extra = out_channels - in_channels
        self.pad = (extra // 2, extra - extra // 2)

    def forward(self, x):
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, *self.pad))


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = ZeroPadShortcut(in_channels, out_channels, stride)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, blocks_per_stage: int, num_classes: int = 10, width: float = 1.0):
        super().__init__()
        channels = [scaled_channels(c, width) for c in (16, 32, 64)]
        self.normalize = Normalize()
        self.conv1 = nn.Conv2d(3, channels[0], 3, 1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels[0])
        stages = []
        in_channels = channels[0]
        for stage, out_channels in enumerate(channels):
            stride = 1 if stage == 0 else 2
            blocks = [BasicBlock(in_channels, out_channels, stride)]
            blocks += [BasicBlock(out_channels, out_channels) for _ in range(blocks_per_stage - 1)]
            stages.append(nn.Sequential(*blocks))
            in_channels = out_channels
        self.stages = nn.Sequential(*stages)  # N x 64w x 8 x 8
        self.classifier = nn.Linear(in_channels, num_classes)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight)

    def penultimate(self, x):
        out = F.relu(self.bn1(self.conv1(self.normalize(x))))  # N x 16w x 32 x 32
        out = self.stages(out)
        return F.adaptive_avg_pool2d(out, 1).flatten(1)  # N x 64w

    def forward(self, x):
        return self.classifier(self.penultimate(x))


def resnet32(num_classes: int = 10, width: float = 1.0) -> CifarResNet:
    return CifarResNet(blocks_per_stage=5, num_classes=num_classes, width=width)
