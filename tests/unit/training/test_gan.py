"""DCGAN training: the final checkpoint, its load, divergence and resuming to the same bytes."""

import pytest
import torch

from memdissect.data.synthetic import make_synthetic_dataset
from memdissect.io import ArtifactError, load_torch
from memdissect.study.settings import ClassifierSettings, GanSettings
from memdissect.training.batches import NonFiniteLossError, batch_bounds
from memdissect.training.gan import (
    build_gan,
    epoch_noise,
    load_gan,
    sample_grid,
    save_gan,
    train_gan,
)
from memdissect.training.train import build_classifier, save_classifier

SETTINGS = GanSettings(epochs=3, batch_size=16, width=0.125)


def quiet(*_):
    pass


@pytest.fixture(scope="module")
def images():
    return make_synthetic_dataset(48, 1, seed=0)["train"]["images"]


def test_checkpoint_layout_and_load(tmp_path):
    generator, discriminator = build_gan(SETTINGS, "cpu")
    save_gan(generator, discriminator, SETTINGS, tmp_path / "dcgan.pt")
    checkpoint = load_torch(tmp_path / "dcgan.pt")
    assert list(checkpoint) == ["format", "settings", "settings_hash", "generator", "discriminator"]
    assert (
        checkpoint["format"] == "memdissect-dcgan-v1"
        and checkpoint["settings"]["latent_dim"] == 100
    )
    loaded_g, loaded_d, settings = load_gan(tmp_path / "dcgan.pt")
    assert settings == SETTINGS and not loaded_g.training and not loaded_d.training
    torch.testing.assert_close(
        sample_grid(loaded_g, settings, "cpu"), sample_grid(generator, SETTINGS, "cpu")
    )


def test_a_classifier_checkpoint_is_not_a_dcgan(tmp_path):
    settings = ClassifierSettings(arch="vgg11", width=0.125)
    save_classifier(
        build_classifier(settings, "cpu"), settings, ["a"] * 10, tmp_path / "weights.pt"
    )
    with pytest.raises(
        ArtifactError,
        match=r"weights.pt is not a memdissect DCGAN checkpoint \(made by rule "
        r"'train_gan'\)",
    ):
        load_gan(tmp_path / "weights.pt", made_by="train_gan")
    with pytest.raises(
        ArtifactError, match=r"weights.pt is not a memdissect DCGAN checkpoint; delete it and rerun"
    ):
        load_gan(tmp_path / "weights.pt")


def test_losses_per_epoch(images):
    _, _, losses = train_gan(SETTINGS, images, torch.device("cpu"), log=quiet)
    assert list(losses.columns) == [
        "epoch",
        "loss_d",
        "loss_g",
        "d_real",
        "d_fake",
        "seconds",
        "device",
        "precision",
    ]
    assert losses["epoch"].tolist() == [1, 2, 3] and losses["d_real"].between(0, 1).all()


def test_an_epochs_noise_is_drawn_step_by_step_as_before_and_copied_at_once():
    """Each step's noise is the draw of its own it always was; on CUDA the buffer is pinned and copied once."""
    bounds = batch_bounds(53, 16)  # 16, 16, 21: the trailing one joins
    noise = epoch_noise(bounds, 100, torch.Generator().manual_seed(3), "cpu")
    steps = torch.Generator().manual_seed(3)
    assert torch.equal(
        noise,
        torch.cat([torch.randn(stop - start, 100, generator=steps) for start, stop in bounds]),
    )


def test_a_diverging_gan_names_the_epoch(images):
    diverging = GanSettings(epochs=2, batch_size=16, width=0.125, lr=1e30)
    with pytest.raises(
        NonFiniteLossError, match=r"diverged in epoch \d+: GAN losses became non-finite"
    ):
        train_gan(diverging, images, torch.device("cpu"), log=quiet)


def test_a_run_stopped_after_an_epoch_resumes_to_the_same_bytes(tmp_path, images):
    """The data order and the noise draw from one generator: it must resume where it was."""
    generator, discriminator, losses = train_gan(SETTINGS, images, torch.device("cpu"), log=quiet)
    save_gan(generator, discriminator, SETTINGS, tmp_path / "whole.pt")
    resume = tmp_path / "resume.pt"

    def stop_after_epoch_2(message):
        if message.startswith("epoch 2/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_gan(SETTINGS, images, torch.device("cpu"), resume_path=resume, log=stop_after_epoch_2)
    messages = []
    generator, discriminator, resumed = train_gan(
        SETTINGS, images, torch.device("cpu"), resume_path=resume, log=messages.append
    )
    save_gan(generator, discriminator, SETTINGS, tmp_path / "resumed.pt")
    assert messages[0] == f"resuming from {resume} after epoch 1"
    assert (tmp_path / "whole.pt").read_bytes() == (tmp_path / "resumed.pt").read_bytes()
    assert resumed.drop(columns="seconds").equals(losses.drop(columns="seconds"))


@pytest.mark.cuda
def test_on_cuda_an_epochs_noise_is_the_cpus_numbers(images):
    bounds = batch_bounds(300, 128)
    on_cuda = epoch_noise(bounds, 100, torch.Generator().manual_seed(3), "cuda")
    assert on_cuda.device.type == "cuda"
    assert torch.equal(
        on_cuda.cpu(), epoch_noise(bounds, 100, torch.Generator().manual_seed(3), "cpu")
    )
