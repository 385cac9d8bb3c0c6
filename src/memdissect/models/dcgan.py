"""DCGAN for 32x32 RGB images.

| network       | layers                                  | parameters (width 1) |
|---------------|-----------------------------------------|----------------------|
| Generator     | 100 -> 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x3 | 3,448,576  |
| Discriminator | 3 -> 128 -> 256 -> 512 -> 1 (logit)     | 2,637,312            |

Convolutions have no bias; the generator ends in tanh, so its images lie in [-1, 1].
"""

from torch import nn

from memdissect.models.vgg import scaled_channels

LATENT_DIM = 100


class Generator(nn.Module):
    def __init__(self, latent_dim: int = LATENT_DIM, width: float = 1.0):
        super().__init__()
        c512, c256, c128 = (scaled_channels(c, width) for c in (512, 256, 128))
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, c512, 4, 1, 0, bias=False),
            nn.BatchNorm2d(c512),
            nn.ReLU(True),
            # state size: 512 x 4 x 4
            nn.ConvTranspose2d(c512, c256, 4, 2, 1, bias=False),
            nn.BatchNorm2d(c256),
            nn.ReLU(True),
            # state size: 256 x 8 x 8
            nn.ConvTranspose2d(c256, c128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(c128),
            nn.ReLU(True),
            # state size: 128 x 16 x 16
            nn.ConvTranspose2d(c128, 3, 4, 2, 1, bias=False),
            nn.Tanh(),
            # state size: 3 x 32 x 32
        )

    def forward(self, z):
        return self.net(z.view(z.shape[0], self.latent_dim, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, width: float = 1.0):
        super().__init__()
        c128, c256, c512 = (scaled_channels(c, width) for c in (128, 256, 512))
        self.net = nn.Sequential(
            nn.Conv2d(3, c128, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size: 128 x 16 x 16
            nn.Conv2d(c128, c256, 4, 2, 1, bias=False),
            nn.BatchNorm2d(c256),
            nn.LeakyReLU(0.2, inplace=True),
            # state size: 256 x 8 x 8
            nn.Conv2d(c256, c512, 4, 2, 1, bias=False),
            nn.BatchNorm2d(c512),
            nn.LeakyReLU(0.2, inplace=True),
            # state size: 512 x 4 x 4
            nn.Conv2d(c512, 1, 4, 1, 0, bias=False),
            # state size: 1 x 1 x 1, a logit
        )

    def forward(self, x):
        return self.net(x).flatten()


def init_dcgan_weights(module: nn.Module) -> None:
    """N(0, 0.02) for convolutions, N(1, 0.02) for BatchNorm scales."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
