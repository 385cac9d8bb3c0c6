import pytest
import torch

from memdissect.models import build_model, count_parameters
from memdissect.models.dcgan import Discriminator, Generator

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
