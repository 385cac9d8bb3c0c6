"""Train the DCGAN on the training images: generator and discriminator, losses, a sample grid."""

from pathlib import Path

from job import start
from torchvision.utils import save_image

from memdissect.data.tensors import load_split
from memdissect.io import atomic_path, write_parquet
from memdissect.study.plan import maker_of
from memdissect.study.settings import GanSettings
from memdissect.training.gan import sample_grid, save_gan, train_gan

log, device = start(snakemake, needs_device=True)
settings = GanSettings.from_dict(snakemake.params.settings)
log(f"settings {settings}")
train = load_split(snakemake.input.train, made_by=maker_of(snakemake.input.train))
resume_path = Path(snakemake.params.resume)
generator, discriminator, losses = train_gan(
    settings,
    train["images"],
    device,
    resume_path=resume_path,
    log=log,
    resume_every_seconds=snakemake.config["resume_every_seconds"],
)
save_gan(generator, discriminator, settings, snakemake.output.model)
write_parquet(losses, snakemake.output.losses)
with atomic_path(snakemake.output.samples) as tmp:
    save_image(sample_grid(generator, settings, device), tmp, format="png")
resume_path.unlink(missing_ok=True)
