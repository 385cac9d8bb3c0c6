"""Small networks the tests build through build_model's `<module>:<function>` route ("networks:<function>"), in the
test process and in the job processes that tests/unit/training/sharing/test_together.py starts."""

from torch import nn


def dropout_mlp(num_classes: int = 10) -> nn.Module:
    """A network that draws random numbers as it trains (dropout)."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(3 * 32 * 32, 64),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(64, num_classes),
    )


class HostReading(nn.Module):
    """Reads a value back to the host in its forward pass: a step no CUDA graph can hold."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, num_classes))

    def forward(self, x):
        scale = 1.0 if x.abs().max().item() > 0 else 0.0
        return self.head(x) * scale


def host_reading_linear(num_classes: int = 10) -> nn.Module:
    return HostReading(num_classes)
