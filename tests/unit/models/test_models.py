import pytest
import torch

from memdissect.models import build_model, count_parameters
from memdissect.models.dcgan import Discriminator, Generator
from memdissect.study.architectures import ArchitectureError

PAPER_PARAMETER_COUNTS = {"vgg11": 9_231_114, "vgg13": 9_416_010, "resnet32": 464_154}


@pytest.mark.parametrize("name, expected", PAPER_PARAMETER_COUNTS.items())
def test_parameter_counts_at_width_one(name, expected):
    assert count_parameters(build_model(name)) == expected


def test_dcgan_parameter_counts():
    assert count_parameters(Generator()) == 3_448_576
    assert count_parameters(Discriminator()) == 2_637_312


@pytest.mark.parametrize("name", PAPER_PARAMETER_COUNTS)
@pytest.mark.parametrize("width", [0.125, 1.0])
def test_classifiers_map_pixels_to_logits(name, width):
    model = build_model(name, num_classes=7, width=width).eval()
    assert model(torch.rand(3, 3, 32, 32)).shape == (3, 7)


@pytest.mark.parametrize("name", PAPER_PARAMETER_COUNTS)
def test_width_multiplier_shrinks_the_model(name):
    assert count_parameters(build_model(name, width=0.25)) < count_parameters(build_model(name)) / 8


def test_resnet_option_a_shortcut_has_no_parameters():
    model = build_model("resnet32")
    assert not any("shortcut" in name for name, _ in model.named_parameters())


def test_dcgan_shapes_and_ranges():
    generator, discriminator = Generator(width=0.25).eval(), Discriminator(width=0.25)
    images = generator(torch.randn(5, 100))
    assert images.shape == (5, 3, 32, 32)
    assert images.abs().max() <= 1
    assert discriminator(images).shape == (5,)


def test_unknown_architecture_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown architecture 'vgg16'.*resnet32, vgg11, vgg13"):
        build_model("vgg16")


# ----------------------------------------------------------------------- outside memdissect


def test_a_torchvision_resnet_keeps_32x32_images_whole_through_its_stem():
    model = build_model("torchvision:resnet18", num_classes=7)
    assert model.network.conv1.kernel_size == (3, 3) and model.network.conv1.stride == (1, 1)
    assert isinstance(model.network.maxpool, torch.nn.Identity)
    x = torch.rand(2, 3, 32, 32)
    assert model(x).shape == (2, 7) and model.penultimate(x).shape == (2, 512)
    stem_output = model.network.conv1((x - model.mean) / model.std)
    assert stem_output.shape[-2:] == (
        32,
        32,
    )  # the original stem would give 16x16, then 8x8 after its max-pool


def test_an_outside_model_takes_pixels_and_normalizes_them_itself():
    model = build_model("torchvision:mobilenet_v3_small", num_classes=10).eval()
    x = torch.rand(3, 3, 32, 32)
    assert torch.allclose(model(x), model.network((x - model.mean) / model.std))
    assert torch.allclose(model.classifier(model.penultimate(x)), model(x), atol=1e-6)
    assert {"mean", "std"} <= set(model.state_dict())  # the normalization travels with the weights


def test_an_outside_model_whose_last_linear_is_not_its_output_is_refused(tmp_path, monkeypatch):
    (tmp_path / "oddmodels.py").write_text(
        "from torch import nn\n"
        "def head_then_softmax(num_classes):\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, num_classes), nn.Softmax(dim=1))\n"
        "def too_few(num_classes):\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 2))\n"
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ValueError, match=r"oddmodels:head_then_softmax: its last nn.Linear \(1\) is not its output"
    ):
        build_model("oddmodels:head_then_softmax", num_classes=4)
    with pytest.raises(
        ArchitectureError,
        match=r"^oddmodels:too_few: too_few\(num_classes=4\) built a network of 2 "
        r"outputs per image, not one per class; valid: a constructor whose "
        r"output layer has num_classes outputs$",
    ):
        build_model(
            "oddmodels:too_few", num_classes=4
        )  # it ignores num_classes: not a misplaced output layer
    with pytest.raises(
        ValueError, match="torchvision:vit_b_16 cannot classify a 3x32x32 image: Wrong image height"
    ):
        build_model("torchvision:vit_b_16", num_classes=4)
    with pytest.raises(ValueError, match="only memdissect's own architectures scale by width"):
        build_model("torchvision:resnet18", num_classes=4, width=0.5)
