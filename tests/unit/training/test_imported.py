"""Classifiers trained elsewhere, read from a plain state_dict or a memdissect checkpoint."""

import pytest
import torch
from torch import nn

from memdissect.io import ArtifactError
from memdissect.study.settings import ClassifierSettings
from memdissect.training.imported import import_classifier, read_state_dict
from memdissect.training.train import build_classifier, save_classifier

RESNET = ClassifierSettings(arch="torchvision:resnet18", num_classes=10)


def test_a_plain_state_dict_is_read_as_saved_also_under_state_dict_or_from_data_parallel(tmp_path):
    weights = {"layer.weight": torch.ones(2, 2)}
    torch.save(weights, tmp_path / "plain.pt")
    torch.save({"state_dict": weights, "epoch": 3}, tmp_path / "wrapped.pt")
    torch.save({f"module.{key}": value for key, value in weights.items()}, tmp_path / "parallel.pt")
    for name in ("plain.pt", "wrapped.pt", "parallel.pt"):
        assert list(read_state_dict(tmp_path / name)) == ["layer.weight"]
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ArtifactError, match=r"list.pt holds no state_dict"):
        read_state_dict(tmp_path / "list.pt")


def test_a_torchvision_network_from_elsewhere_computes_what_it_did_there(tmp_path):
    from torchvision.models import resnet18

    from memdissect.models.external import adapt_to_small_images

    torch.manual_seed(3)
    elsewhere = adapt_to_small_images(resnet18(num_classes=10)).eval()
    torch.save(elsewhere.state_dict(), tmp_path / "resnet.pt")
    model = import_classifier(
        tmp_path / "resnet.pt", RESNET, {"mean": [0.5, 0.4, 0.3], "std": [0.2, 0.2, 0.25]}
    )
    pixels = torch.rand(2, 3, 32, 32)
    normalized = (pixels - torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)) / torch.tensor(
        [0.2, 0.2, 0.25]
    ).view(1, 3, 1, 1)
    with torch.no_grad():
        assert torch.allclose(model(pixels), elsewhere(normalized), atol=1e-5)


def test_weights_of_another_architecture_are_refused_naming_the_keys(tmp_path):
    torch.save(nn.Linear(4, 2).state_dict(), tmp_path / "linear.pt")
    with pytest.raises(
        ArtifactError,
        match=r"linear.pt does not fit torchvision:resnet18 at width 1.0 with 10 classes: "
        r"122 missing tensor\(s\): conv1.weight, bn1.weight, .* \(122 in all\); "
        r"2 unexpected tensor\(s\): weight, bias; valid: ",
    ):
        import_classifier(tmp_path / "linear.pt", RESNET)


def test_weights_of_another_shape_are_refused_naming_every_tensor_that_does_not_fit(tmp_path):
    small, wide = (
        ClassifierSettings(arch="vgg11", width=0.125),
        ClassifierSettings(arch="vgg11", width=0.25),
    )
    save_classifier(build_classifier(wide, "cpu"), small, ["a"] * 10, tmp_path / "wider.pt")
    own, stored = (
        build_classifier(small, "cpu").state_dict(),
        build_classifier(wide, "cpu").state_dict(),
    )
    resized = [key for key in own if own[key].shape != stored[key].shape]
    with pytest.raises(ArtifactError) as refused:
        import_classifier(tmp_path / "wider.pt", small)
    message = str(refused.value)
    assert message.startswith(
        f"{tmp_path / 'wider.pt'} does not fit vgg11 at width 0.125 with 10 classes: "
        f"{len(resized)} tensor(s) of another shape: features.0.weight 16 x 3 x 3 x 3 (the "
        f"network's 8 x 3 x 3 x 3), "
    )
    assert len(resized) > 40 and all(f"{key} " in message for key in resized)
    assert (
        "classifier.weight 10 x 128 (the network's 10 x 64); valid: the weights of exactly this network"
        in message
    )
    assert ".;" not in message and "\n" not in message and "torch.Size" not in message


def test_a_network_of_other_classes_is_refused_naming_both_of_its_output_tensors(tmp_path):
    torch.save(
        build_classifier(
            ClassifierSettings(arch="vgg11", width=0.125, num_classes=5), "cpu"
        ).state_dict(),
        tmp_path / "five.pt",
    )
    with pytest.raises(
        ArtifactError,
        match=r"five.pt does not fit vgg11 at width 0.125 with 10 classes: 2 tensor\(s\) "
        r"of another shape: classifier.weight 5 x 64 \(the network's 10 x 64\), "
        r"classifier.bias 5 \(the network's 10\); valid: ",
    ):
        import_classifier(tmp_path / "five.pt", ClassifierSettings(arch="vgg11", width=0.125))


def test_a_memdissect_checkpoint_of_another_study_is_imported_whole(tmp_path):
    settings = ClassifierSettings(arch="vgg11", width=0.125, seed=4)
    trained = build_classifier(settings, "cpu").eval()
    save_classifier(trained, settings, [str(c) for c in range(10)], tmp_path / "weights.pt")
    model = import_classifier(tmp_path / "weights.pt", settings)
    pixels = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(pixels), trained(pixels))
