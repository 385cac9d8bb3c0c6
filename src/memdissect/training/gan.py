"""DCGAN training on the training images (labels unused), and its fixed-noise sample grid."""

import time
from functools import partial

import pandas as pd
import torch
import torch.nn.functional as F

from memdissect.models.dcgan import Discriminator, Generator, init_dcgan_weights
from memdissect.study.settings import GanSettings
from memdissect.training.batches import NonFiniteLossError, batch_bounds
from memdissect.training.checkpoints import (
    ArtifactFormat,
    cpu_state_dict,
    load_checkpoint,
    save_checkpoint,
    train_epochs,
)
from memdissect.training.optim import Adam
from memdissect.training.runtime import Runtime

GAN_CHECKPOINT = ArtifactFormat("memdissect-dcgan-v1", "a memdissect DCGAN checkpoint")
GAN_RESUME = ArtifactFormat(
    "memdissect-dcgan-resume-v3", "a DCGAN resume state"
)  # v3: memdissect.training.optim
SAMPLE_GRID_SIZE = 64


def to_gan_range(images_uint8: torch.Tensor) -> torch.Tensor:
    return images_uint8.float().div_(127.5).sub_(1.0)  # [0, 255] -> [-1, 1]


def to_pixel_range(generated: torch.Tensor) -> torch.Tensor:
    return generated.add(1.0).mul(0.5)  # [-1, 1] -> [0, 1], the classifiers' input space


def fixed_noise(settings: GanSettings, count: int = SAMPLE_GRID_SIZE) -> torch.Tensor:
    return torch.randn(
        count, settings.latent_dim, generator=torch.Generator().manual_seed(settings.seed + 1)
    )


def build_gan(settings: GanSettings, device, channels_last: bool = False):
    """The generator and discriminator, initialized from the seed, in channels_last where asked."""
    torch.manual_seed(settings.seed)
    generator = Generator(settings.latent_dim, settings.width)
    discriminator = Discriminator(settings.width)
    generator.apply(init_dcgan_weights)
    discriminator.apply(init_dcgan_weights)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return (
        generator.to(device, memory_format=memory_format),
        discriminator.to(device, memory_format=memory_format),
    )


def build_gan_optimizers(generator, discriminator, settings: GanSettings):
    betas = (settings.beta1, settings.beta2)
    return (
        Adam(generator.parameters(), lr=settings.lr, betas=betas),
        Adam(discriminator.parameters(), lr=settings.lr, betas=betas),
    )


def gan_step(generator, discriminator, optimizers, real, noise, runtime: Runtime) -> torch.Tensor:
    """One discriminator update, then one non-saturating generator update; (loss_d, loss_g, D(real), D(fake))."""
    optimizer_g, optimizer_d = optimizers
    with runtime.autocast():
        fake = generator(noise)
        real_logits = discriminator(real).float()
        fake_logits = discriminator(fake.detach()).float()
    loss_d = F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    optimizer_d.zero_grad()
    loss_d.backward()
    optimizer_d.step()
    with runtime.autocast():
        fooled_logits = discriminator(fake).float()
    loss_g = F.binary_cross_entropy_with_logits(fooled_logits, torch.ones_like(fooled_logits))
    optimizer_g.zero_grad()
    loss_g.backward()
    optimizer_g.step()
    with torch.no_grad():
        return torch.stack(
            [
                loss_d.detach(),
                loss_g.detach(),
                torch.sigmoid(real_logits).mean(),
                torch.sigmoid(fake_logits).mean(),
            ]
        )


def epoch_noise(bounds: list[tuple[int, int]], latent_dim: int, rng, device) -> torch.Tensor:
    """Every step's noise of an epoch (N x D) on the device: each step's drawn from rng as one draw of its own, as
    ever (the same numbers), into one buffer (pinned on CUDA) copied at once, not a host sync per step."""
    noise = torch.empty(bounds[-1][1], latent_dim, pin_memory=torch.device(device).type == "cuda")
    for start, stop in bounds:
        torch.randn(stop - start, latent_dim, generator=rng, out=noise[start:stop])
    return noise.to(device, non_blocking=True)


def train_gan_epoch(
    generator, discriminator, optimizers, images, settings: GanSettings, rng, runtime: Runtime
) -> dict:
    """One epoch of the standard DCGAN updates; returns mean losses and D outputs."""
    device = images.device
    order = torch.randperm(len(images), generator=rng).to(device)
    bounds = batch_bounds(len(images), settings.batch_size)
    noise = epoch_noise(bounds, settings.latent_dim, rng, device)  # N x D
    totals = torch.zeros(4, device=device)  # loss_d, loss_g, d_real, d_fake
    generator.train()
    discriminator.train()
    for start, stop in bounds:
        real = to_gan_range(images[order[start:stop]])
        totals += gan_step(generator, discriminator, optimizers, real, noise[start:stop], runtime)
    loss_d, loss_g, d_real, d_fake = (totals / len(bounds)).tolist()
    if not all(map(torch.isfinite, torch.tensor([loss_d, loss_g]))):
        raise NonFiniteLossError(f"GAN losses became non-finite (D {loss_d}, G {loss_g})")
    return {"loss_d": loss_d, "loss_g": loss_g, "d_real": d_real, "d_fake": d_fake}


def gan_epoch(
    epoch: int,
    generator,
    discriminator,
    optimizers,
    images,
    settings: GanSettings,
    rng,
    runtime: Runtime,
    log,
) -> dict:
    """Train one epoch; the loss row, also logged."""
    started = time.perf_counter()
    row = train_gan_epoch(generator, discriminator, optimizers, images, settings, rng, runtime)
    log(
        f"epoch {epoch}/{settings.epochs} loss_d {row['loss_d']:.4f} loss_g {row['loss_g']:.4f} "
        f"D(real) {row['d_real']:.3f} D(fake) {row['d_fake']:.3f}"
    )
    return {
        "epoch": epoch,
        **row,
        "seconds": time.perf_counter() - started,
        "device": runtime.device.type,
        "precision": runtime.precision_that_ran,
    }


def train_gan(
    settings: GanSettings,
    images,
    device,
    resume_path=None,
    log=print,
    resume_every_seconds: float = 0.0,
):
    """Train the DCGAN; returns (generator, discriminator, losses per epoch). With resume_path, resume from and
    save to it (checkpoints.ResumableRun)."""
    runtime = Runtime.for_device(device, settings.precision)
    channels_last = runtime.dcgan_channels_last
    generator, discriminator = build_gan(settings, runtime.device, channels_last)
    optimizers = build_gan_optimizers(generator, discriminator, settings)
    rng = torch.Generator().manual_seed(settings.seed + 2)
    images = images.to(runtime.device)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    one_epoch = partial(
        gan_epoch,
        generator=generator,
        discriminator=discriminator,
        optimizers=optimizers,
        images=images,
        settings=settings,
        rng=rng,
        runtime=runtime,
        log=log,
    )
    parts = {
        "generator": generator,
        "discriminator": discriminator,
        "optimizer_g": optimizers[0],
        "optimizer_d": optimizers[1],
        "rng": rng,
    }
    losses = train_epochs(
        settings, parts, one_epoch, resume_path, GAN_RESUME, log, resume_every_seconds
    )
    return generator.eval(), discriminator.eval(), pd.DataFrame(losses)


@torch.no_grad()
def sample_grid(generator, settings: GanSettings, device) -> torch.Tensor:
    """The fixed noise batch through the generator, as a make_grid image in [0, 1]."""
    from torchvision.utils import make_grid

    generator.eval()
    images = to_pixel_range(generator(fixed_noise(settings).to(device))).float().cpu()
    return make_grid(images, nrow=8, padding=2)


def save_gan(generator, discriminator, settings: GanSettings, path) -> None:
    save_checkpoint(
        path,
        GAN_CHECKPOINT,
        settings,
        {"generator": cpu_state_dict(generator), "discriminator": cpu_state_dict(discriminator)},
    )


def load_gan(path, device="cpu", made_by: str = ""):
    """(generator, discriminator, settings) from a checkpoint, both in eval mode."""
    checkpoint = load_checkpoint(path, GAN_CHECKPOINT, made_by=made_by)
    settings = GanSettings(**checkpoint["settings"])
    generator = Generator(settings.latent_dim, settings.width)
    discriminator = Discriminator(settings.width)
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    return generator.to(device).eval(), discriminator.to(device).eval(), settings
