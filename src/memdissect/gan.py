"""DCGAN training on the training images (labels unused), and its fixed-noise sample grid."""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from memdissect.device import autocast, resolve_precision
from memdissect.io import ArtifactError, load_torch, save_torch, settings_hash
from memdissect.models.dcgan import LATENT_DIM, Discriminator, Generator, init_dcgan_weights
from memdissect.train import NonFiniteLossError, batch_bounds
from memdissect.settings import FromConfig

GAN_FORMAT = "memdissect-dcgan-v1"
GAN_RESUME_FORMAT = "memdissect-dcgan-resume-v1"
SAMPLE_GRID_SIZE = 64


@dataclass(frozen=True)
class GanSettings(FromConfig):
    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    width: float = 1.0
    seed: int = 0
    latent_dim: int = LATENT_DIM
    precision: str = "auto"



def to_gan_range(images_uint8: torch.Tensor) -> torch.Tensor:
    return images_uint8.float().div_(127.5).sub_(1.0)  # [0, 255] -> [-1, 1]


def to_pixel_range(generated: torch.Tensor) -> torch.Tensor:
    return generated.add(1.0).mul(0.5)  # [-1, 1] -> [0, 1], the classifiers' input space


def fixed_noise(settings: GanSettings, count: int = SAMPLE_GRID_SIZE) -> torch.Tensor:
    return torch.randn(count, settings.latent_dim, generator=torch.Generator().manual_seed(settings.seed + 1))


def build_gan(settings: GanSettings, device):
    torch.manual_seed(settings.seed)
    generator = Generator(settings.latent_dim, settings.width)
    discriminator = Discriminator(settings.width)
    generator.apply(init_dcgan_weights)
    discriminator.apply(init_dcgan_weights)
    return generator.to(device), discriminator.to(device)


def build_gan_optimizers(generator, discriminator, settings: GanSettings):
    betas = (settings.beta1, settings.beta2)
    return (torch.optim.Adam(generator.parameters(), lr=settings.lr, betas=betas),
            torch.optim.Adam(discriminator.parameters(), lr=settings.lr, betas=betas))


def train_gan_epoch(generator, discriminator, optimizers, images, settings: GanSettings, rng, precision) -> dict:
    """One epoch of the standard non-saturating DCGAN updates; returns mean losses and D outputs."""
    device = images.device
    optimizer_g, optimizer_d = optimizers
    order = torch.randperm(len(images), generator=rng).to(device)
    bounds = batch_bounds(len(images), settings.batch_size)
    totals = torch.zeros(4, device=device)  # loss_d, loss_g, d_real, d_fake
    generator.train()
    discriminator.train()
    for start, stop in bounds:
        real = to_gan_range(images[order[start:stop]])
        noise = torch.randn(stop - start, settings.latent_dim, generator=rng).to(device)
        with autocast(device, precision):
            fake = generator(noise)
            real_logits = discriminator(real).float()
            fake_logits = discriminator(fake.detach()).float()
        loss_d = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                  + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        optimizer_d.step()
        with autocast(device, precision):
            fooled_logits = discriminator(fake).float()
        loss_g = F.binary_cross_entropy_with_logits(fooled_logits, torch.ones_like(fooled_logits))
        optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optimizer_g.step()
        with torch.no_grad():
            totals += torch.stack([loss_d.detach(), loss_g.detach(), torch.sigmoid(real_logits).mean(),
                                   torch.sigmoid(fake_logits).mean()])
    loss_d, loss_g, d_real, d_fake = (totals / len(bounds)).tolist()
    if not all(map(torch.isfinite, torch.tensor([loss_d, loss_g]))):
        raise NonFiniteLossError(f"GAN losses became non-finite (D {loss_d}, G {loss_g})")
    return {"loss_d": loss_d, "loss_g": loss_g, "d_real": d_real, "d_fake": d_fake}


def train_gan(settings: GanSettings, images, device, resume_path=None, log=print):
    """Train the DCGAN; returns (generator, discriminator, losses per epoch)."""
    precision = resolve_precision(settings.precision, device)
    generator, discriminator = build_gan(settings, device)
    optimizers = build_gan_optimizers(generator, discriminator, settings)
    rng = torch.Generator().manual_seed(settings.seed + 2)
    losses: list[dict] = []
    if resume_path is not None and Path(resume_path).exists():
        losses = restore_gan_state(resume_path, settings, generator, discriminator, optimizers, rng, log)
    images = images.to(device)
    for epoch in range(len(losses) + 1, settings.epochs + 1):
        started = time.perf_counter()
        try:
            row = train_gan_epoch(generator, discriminator, optimizers, images, settings, rng, precision)
        except NonFiniteLossError as error:
            raise NonFiniteLossError(f"GAN training diverged in epoch {epoch}: {error}") from None
        losses.append({"epoch": epoch, **row, "seconds": time.perf_counter() - started,
                       "device": device.type, "precision": precision})
        log(f"epoch {epoch}/{settings.epochs} loss_d {row['loss_d']:.4f} loss_g {row['loss_g']:.4f} "
            f"D(real) {row['d_real']:.3f} D(fake) {row['d_fake']:.3f}")
        if resume_path is not None:
            save_gan_state(resume_path, settings, generator, discriminator, optimizers, rng, losses)
    return generator.eval(), discriminator.eval(), pd.DataFrame(losses)


@torch.no_grad()
def sample_grid(generator, settings: GanSettings, device) -> torch.Tensor:
    """The fixed noise batch through the generator, as a make_grid image in [0, 1]."""
    from torchvision.utils import make_grid

    generator.eval()
    images = to_pixel_range(generator(fixed_noise(settings).to(device))).float().cpu()
    return make_grid(images, nrow=8, padding=2)


def save_gan_state(path, settings, generator, discriminator, optimizers, rng, losses) -> None:
    save_torch({
        "format": GAN_RESUME_FORMAT,
        "settings_hash": settings_hash(asdict(settings)),
        "generator": generator.state_dict(),
        "discriminator": discriminator.state_dict(),
        "optimizer_g": optimizers[0].state_dict(),
        "optimizer_d": optimizers[1].state_dict(),
        "rng": rng.get_state(),
        "losses": losses,
    }, path)


def restore_gan_state(path, settings, generator, discriminator, optimizers, rng, log) -> list[dict]:
    state = load_torch(path, made_by="train_gan")
    if state.get("format") != GAN_RESUME_FORMAT or state.get("settings_hash") != settings_hash(asdict(settings)):
        log(f"ignoring {path}: it was made under other settings; training from the start")
        return []
    generator.load_state_dict(state["generator"])
    discriminator.load_state_dict(state["discriminator"])
    optimizers[0].load_state_dict(state["optimizer_g"])
    optimizers[1].load_state_dict(state["optimizer_d"])
    rng.set_state(state["rng"])
    log(f"resuming from {path} after epoch {len(state['losses'])}")
    return state["losses"]


def gan_checkpoint(generator, discriminator, settings: GanSettings) -> dict:
    return {
        "format": GAN_FORMAT,
        "settings": asdict(settings),
        "settings_hash": settings_hash(asdict(settings)),
        "generator": {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()},
        "discriminator": {k: v.detach().cpu().contiguous() for k, v in discriminator.state_dict().items()},
    }


def load_gan(path, device="cpu"):
    """(generator, discriminator, settings) from a checkpoint, both in eval mode."""
    checkpoint = load_torch(path, made_by="train_gan")
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != GAN_FORMAT:
        raise ArtifactError(f"{path} is not a memdissect DCGAN checkpoint (made by rule 'train_gan')")
    settings = GanSettings(**checkpoint["settings"])
    generator = Generator(settings.latent_dim, settings.width)
    discriminator = Discriminator(settings.width)
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    return generator.to(device).eval(), discriminator.to(device).eval(), settings
