"""The Python API for notebooks: Dist by hand, the null baseline, loading plain state_dicts, pattern
shapes, the package staying torch-free, and the README's example run as written."""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import memdissect
from memdissect import api, inspect
from memdissect.data.synthetic import make_synthetic_dataset
from memdissect.io import ArtifactError
from memdissect.models import build_model
from memdissect.study.settings import ClassifierSettings, GanSettings
from memdissect.training.gan import build_gan
from memdissect.training.train import build_untrained_twin, save_classifier

REPO = Path(__file__).resolve().parents[2]
README_SECTION = "## Dissecting your own networks"
NUM_CLASSES = 3


@pytest.fixture(scope="module")
def generator():
    return build_gan(GanSettings(width=0.125), "cpu")[0]


def narrow_vgg(seed: int, num_classes: int = NUM_CLASSES) -> nn.Module:
    torch.manual_seed(seed)
    return build_model("vgg11", num_classes, 0.125).eval()


@pytest.fixture(scope="module")
def f1_patterns(generator):
    f1 = narrow_vgg(1)
    return f1, api.synthesize(f1, generator, starts=4, iterations=3, lr=0.1)


# ----------------------------------------------------------------------------- the package


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    return result.stdout.strip()


def test_importing_the_package_imports_no_torch():
    code = (
        "import sys, memdissect; dir(memdissect); memdissect.__all__; print('torch' in sys.modules)"
    )
    assert run_python(code) == "False"


def test_the_api_is_an_attribute_of_the_package_once_used():
    assert run_python("import memdissect; print(memdissect.dist.__module__)") == "memdissect.api"
    for name in memdissect.API:
        assert getattr(memdissect, name) is getattr(
            inspect if name in memdissect.INSPECT else api, name
        )
    assert set(memdissect.API) <= set(dir(memdissect)) and memdissect.__all__ == list(
        memdissect.API
    )


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'distance_of'"):
        memdissect.distance_of  # noqa: B018


def test_the_api_defaults_are_the_settings_defaults():
    import inspect

    search = inspect.signature(api.synthesize).parameters
    assert {
        name: search[name].default for name in ("starts", "iterations", "lr", "objective", "seed")
    } == {"starts": 100, "iterations": 1000, "lr": 0.05, "objective": "logit", "seed": 0}
    assert inspect.signature(api.train_classifier).parameters["epochs"].default == 100


# ----------------------------------------------------------------------------- Dist by hand


def test_dist_from_logits_by_hand():
    """C = 2, S = 2: f1 gives (3/4, 1/4) everywhere; f2 is uniform at start 0 and equals f1 at start 1."""
    f1 = torch.tensor([math.log(3), 0.0]).expand(2, 2, 2)
    f2 = torch.stack([torch.zeros(2, 2), f1[:, 1]], dim=1)  # C x S x C
    kl = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)  # KL((3/4, 1/4) || (1/2, 1/2))
    result = api.dist_from_logits(f1, f2, n_resamples=200)
    assert result.dist_mean == pytest.approx(kl / 2)
    assert result.dist_variance == pytest.approx(kl**2 / 2)  # Dist_s is kl, then 0
    assert result.n_starts == 2 and len(result.table) == 4
    assert 0 <= result.dist_ci_low <= result.dist_mean <= result.dist_ci_high <= kl * (1 + 1e-6)
    # relabeled f2 (C = 2: its two classes swapped) is uniform at start 0 and (1/4, 3/4) at start 1
    swapped = 0.75 * math.log(3) + 0.25 * math.log(1 / 3)
    assert result.relabeled_mean == pytest.approx((kl + swapped) / 2)
    assert result.relabeled_ratio == pytest.approx(kl / (kl + swapped))


def test_dist_from_logits_refuses_networks_with_other_classes():
    with pytest.raises(ValueError, match="differ in shape.*f2 must have f1's classes"):
        api.dist_from_logits(torch.zeros(3, 2, 3), torch.zeros(3, 2, 4))


def test_dist_of_a_network_with_itself_is_zero(f1_patterns):
    f1, patterns = f1_patterns
    result = api.dist(patterns, f1, n_resamples=100)
    assert result.dist_mean == pytest.approx(0, abs=1e-9)
    assert result.dist_ci_high == pytest.approx(0, abs=1e-9) and result.relabeled_mean > 0


def test_dist_of_two_networks_is_positive_and_its_interval_holds_it(f1_patterns):
    _, patterns = f1_patterns
    result = api.dist(patterns, narrow_vgg(2), n_resamples=500)
    assert result.dist_mean > 0 and result.n_starts == 4
    assert result.dist_ci_low <= result.dist_mean <= result.dist_ci_high
    assert result.relabeled_ratio_ci_low <= result.relabeled_ratio <= result.relabeled_ratio_ci_high
    row = result.as_row()
    assert (
        set(row) >= {"dist_mean", "dist_ci_low", "relabeled_ratio_ci_high"} and "table" not in row
    )
    assert "Dist" in str(result)


class ConfidentLinear(nn.Module):
    """A linear classifier made near-certain on any image by its scale; reset_parameters makes it ordinary."""

    def __init__(self, num_classes: int, scale: float):
        super().__init__()
        self.linear = nn.Linear(3 * 32 * 32, num_classes)
        with torch.no_grad():
            self.linear.weight.mul_(scale)

    def forward(self, x):
        return self.linear(x.flatten(1))


def test_the_null_baseline_is_near_log_c_for_a_confident_f1(generator):
    f1 = ConfidentLinear(10, scale=1000.0)
    patterns = api.synthesize(f1, generator, starts=3, iterations=2)
    assert torch.softmax(patterns.logits.double(), -1).max(-1).values.min() > 0.999  # f1 is certain
    null = api.null_baseline(patterns, f1, n_resamples=100)
    assert math.isfinite(null.dist_mean) and null.dist_mean == pytest.approx(math.log(10), abs=0.5)


def test_the_untrained_twin_is_drawn_anew_from_its_seed_and_leaves_the_model():
    model = narrow_vgg(1)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    twin, again = api.untrained_twin(model, seed=3), api.untrained_twin(model, seed=3)
    assert all(torch.equal(value, model.state_dict()[key]) for key, value in before.items())
    assert not torch.equal(twin.classifier.weight, model.classifier.weight)
    assert all(
        torch.equal(value, again.state_dict()[key]) for key, value in twin.state_dict().items()
    )
    assert not twin.training


def test_the_untrained_twin_refuses_parameters_it_cannot_draw_anew():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1))

    with pytest.raises(ValueError, match="cannot re-initialize Scaled.*reset_parameters"):
        api.untrained_twin(Scaled())


# ----------------------------------------------------------------------------- patterns


def test_synthesize_gives_every_tensor_its_shape(f1_patterns):
    _, patterns = f1_patterns
    assert patterns.num_classes == NUM_CLASSES and patterns.starts == 4  # C from f1's output
    assert patterns.x.shape == patterns.x0.shape == (NUM_CLASSES, 4, 3, 32, 32)
    assert patterns.z0.shape == patterns.z.shape == (NUM_CLASSES, 4, 100)
    assert patterns.logits.shape == (NUM_CLASSES, 4, NUM_CLASSES)
    assert patterns.objective_trace.shape == (3, NUM_CLASSES)
    assert patterns.settings["starts"] == 4 and 0 <= patterns.x.min() and patterns.x.max() <= 1


def test_synthesize_leaves_the_networks_mode_and_gradients(generator):
    f1 = narrow_vgg(1).train()
    api.synthesize(f1, generator, starts=1, iterations=1)
    assert f1.training and all(p.requires_grad for p in f1.parameters())


def test_synthesize_refuses_an_unknown_objective(generator):
    with pytest.raises(
        ValueError, match="objective must be one of logit, log_softmax, softmax, got 'margin'"
    ):
        api.synthesize(narrow_vgg(1), generator, objective="margin")


def test_patterns_are_saved_as_a_pattern_file(f1_patterns, tmp_path):
    _, patterns = f1_patterns
    api.save_patterns(patterns, tmp_path / "f1.pt")
    loaded = api.load_patterns(tmp_path / "f1.pt")
    torch.testing.assert_close(loaded.x, patterns.x)
    assert loaded.settings == patterns.settings and loaded.classes is None


# ----------------------------------------------------------------------------- loading and training


@pytest.mark.parametrize(
    "wrap",
    [
        lambda state: state,
        lambda state: {"state_dict": state},
        lambda state: {f"module.{key}": value for key, value in state.items()},
    ],
    ids=["plain", "under state_dict", "DataParallel"],
)
def test_load_classifier_round_trips_a_plain_state_dict(tmp_path, wrap):
    model = narrow_vgg(1)
    torch.save(wrap(model.state_dict()), tmp_path / "weights.pt")
    loaded = api.load_classifier(tmp_path / "weights.pt", "vgg11", width=0.125)
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(loaded(x), model(x))  # three classes, read from the last 2-D weight


def test_load_classifier_reads_a_memdissect_checkpoint(tmp_path):
    model = narrow_vgg(1)
    save_classifier(
        model,
        ClassifierSettings(arch="vgg11", width=0.125, num_classes=NUM_CLASSES),
        ["a", "b", "c"],
        tmp_path / "weights.pt",
    )
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(api.load_classifier(tmp_path / "weights.pt")(x), model(x))
    with pytest.raises(ValueError, match="apply only to a plain state_dict"):
        api.load_classifier(tmp_path / "weights.pt", mean=(0, 0, 0), std=(1, 1, 1))


def test_the_twin_of_a_memdissect_checkpoint_is_the_workflows_own(tmp_path):
    settings = ClassifierSettings(arch="vgg11", width=0.125, num_classes=NUM_CLASSES, seed=4)
    save_classifier(narrow_vgg(1), settings, ["a", "b", "c"], tmp_path / "weights.pt")
    twin = api.untrained_twin(api.load_classifier(tmp_path / "weights.pt"))
    workflows = build_untrained_twin(settings, "cpu")
    assert all(
        torch.equal(value, workflows.state_dict()[key]) for key, value in twin.state_dict().items()
    )
    assert not twin.training
    reset = api.untrained_twin(api.load_classifier(tmp_path / "weights.pt"), seed=0)
    assert not torch.equal(
        reset.classifier.weight, twin.classifier.weight
    )  # a seed asks for reset_parameters


def test_load_classifier_normalizes_as_told(tmp_path):
    torch.save(narrow_vgg(1).state_dict(), tmp_path / "weights.pt")
    loaded = api.load_classifier(
        tmp_path / "weights.pt", "vgg11", width=0.125, mean=(0.5, 0.5, 0.5), std=(2, 2, 2)
    )
    assert (
        loaded.normalize.mean.flatten().tolist() == [0.5] * 3
        and loaded.normalize.std.flatten().tolist() == [2] * 3
    )


def test_load_classifier_says_what_is_wrong(tmp_path, f1_patterns):
    torch.save(narrow_vgg(1).state_dict(), tmp_path / "weights.pt")
    with pytest.raises(
        ValueError, match="weights.pt is not a memdissect checkpoint; .* give its arch"
    ):
        api.load_classifier(tmp_path / "weights.pt")
    with pytest.raises(
        ArtifactError, match="weights.pt does not fit vgg11 at width 1.0 with 3 classes"
    ):
        api.load_classifier(tmp_path / "weights.pt", "vgg11")
    with pytest.raises(ValueError, match="unknown architecture 'vgg12'"):
        api.load_classifier(tmp_path / "weights.pt", "vgg12", width=0.125)
    api.save_patterns(f1_patterns[1], tmp_path / "patterns.pt")
    with pytest.raises(
        ArtifactError, match="patterns.pt is a memdissect pattern file, not a memdissect classifier"
    ):
        api.load_classifier(tmp_path / "patterns.pt")


def test_training_saves_what_the_loaders_read(tmp_path):
    data = make_synthetic_dataset(32, 0, seed=0)["train"]
    model, history = api.train_classifier(
        data["images"],
        data["labels"],
        width=0.125,
        epochs=1,
        batch_size=16,
        precision="fp32",
        save_to=tmp_path / "f.pt",
    )
    generator = api.train_generator(
        data["images"], epochs=1, batch_size=16, width=0.125, save_to=tmp_path / "g.pt"
    )
    assert len(history) == 1 and history["test_acc"].isna().all() and not model.training
    x, z = torch.rand(2, 3, 32, 32), torch.randn(2, 100)
    torch.testing.assert_close(api.load_classifier(tmp_path / "f.pt")(x), model(x))
    torch.testing.assert_close(api.load_generator(tmp_path / "g.pt")(z), generator(z))


def test_training_refuses_labels_that_do_not_fit():
    images = torch.zeros(4, 3, 32, 32, dtype=torch.uint8)
    with pytest.raises(
        ValueError, match=r"labels must lie in 0 .. 1 \(one per class\), got 0 .. 2"
    ):
        api.train_classifier(images, torch.tensor([0, 1, 2, 0]), classes=["a", "b"])
    with pytest.raises(
        ValueError, match=r"test_labels must be 4 integers, one per image, got None"
    ):
        api.train_classifier(images, torch.tensor([0, 1, 1, 0]), test_images=images)


def test_training_refuses_images_that_are_not_uint8():
    with pytest.raises(
        ValueError,
        match=r"images must be a uint8 tensor N x 3 x 32 x 32 .*got torch.float32 \(4, 3",
    ):
        api.train_generator(torch.rand(4, 3, 32, 32))


# ----------------------------------------------------------------------------- the README's example


def readme_example(path: Path) -> str:
    """The first ```python block of the README section README_SECTION."""
    text = path.read_text()
    if README_SECTION not in text:
        pytest.fail(f"{path} has no section {README_SECTION!r}")
    section = text.split(README_SECTION, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    if block is None:
        pytest.fail(f"the section {README_SECTION!r} of {path} has no ```python block")
    return block.group(1)


def test_the_readmes_example_runs_as_written(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", readme_example(REPO / "README.md")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    number = r"(-?\d+\.\d+)"
    printed = result.stdout
    dist, low, high = map(
        float, re.search(rf"Dist\(f1, f2\) = {number} \[{number}, {number}\]", printed).groups()
    )
    untrained, log_c = map(
        float, re.search(rf"untrained network = {number} \(log C = {number}\)", printed).groups()
    )
    assert 0 < dist and low <= dist <= high
    assert "patterns: (10, 6, 3, 32, 32)" in printed
    assert dist < untrained <= log_c + 0.5 and log_c == pytest.approx(math.log(10), abs=1e-4)


# ----------------------------------------------------------------------------- one behaviour with the workflow


def test_synthesize_refuses_a_class_count_the_network_does_not_give(generator):
    five = narrow_vgg(1, num_classes=5)
    with pytest.raises(
        ValueError,
        match=r"^num_classes=10, but the classifier \(VGG\) gives 5 outputs on a generated "
        r"image; valid: num_classes=5, or leave it out$",
    ):
        api.synthesize(five, generator, num_classes=10, starts=1, iterations=1)
    assert api.synthesize(five, generator, num_classes=5, starts=1, iterations=1).num_classes == 5


def test_an_outside_network_needs_its_normalization_as_in_the_workflow(tmp_path, monkeypatch):
    from workflow_runs import USERS_MODULE

    (tmp_path / "mymodels.py").write_text(USERS_MODULE)
    monkeypatch.chdir(tmp_path)
    torch.save(build_model("mymodels:small_cnn", 10).network.state_dict(), tmp_path / "mine.pt")
    with pytest.raises(
        ValueError,
        match=r"^mymodels:small_cnn needs mean and std, the per-channel normalization its "
        r"network expects; valid: both, 3 values each \(for example CIFAR-10's",
    ):
        api.load_classifier(tmp_path / "mine.pt", "mymodels:small_cnn")
    with pytest.raises(ValueError, match=r"needs mean and std"):
        api.load_classifier(tmp_path / "mine.pt", "mymodels:small_cnn", mean=(0.5, 0.5, 0.5))
    loaded = api.load_classifier(
        tmp_path / "mine.pt", "mymodels:small_cnn", mean=(0.5,) * 3, std=(0.25,) * 3
    )
    assert (
        loaded.mean.flatten().tolist() == [0.5] * 3 and loaded.std.flatten().tolist() == [0.25] * 3
    )
    assert api.load_classifier(
        tmp_path / "mine.pt", "mymodels:small_cnn", mean=(0, 0, 0), std=(1, 1, 1)
    )


def test_a_plain_state_dict_without_arch_is_told_every_kind_of_architecture(tmp_path):
    torch.save(narrow_vgg(1).state_dict(), tmp_path / "weights.pt")
    with pytest.raises(
        ValueError,
        match=r"give its arch: vgg11, vgg13, resnet32, torchvision:<name> \(a "
        r"classification model of torchvision.models\) or <module>:<function> "
        r"\(your constructor",
    ):
        api.load_classifier(tmp_path / "weights.pt")


def write_png(path, colour):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 24), colour).save(path)


def test_load_images_reads_a_folder_of_class_folders_as_the_workflow_does(tmp_path):
    from memdissect.data.tensors import load_image_folder_split

    for split in ("train", "test"):
        for index, (name, colour) in enumerate((("dog", (250, 0, 0)), ("cat", (0, 0, 250)))):
            for number in range(2 + index):
                write_png(tmp_path / "pets" / split / name / f"{number}.png", colour)
    images, labels, classes = memdissect.load_images(tmp_path / "pets" / "train")
    assert images.dtype == torch.uint8 and images.shape == (5, 3, 32, 32)  # resized from 40 x 24
    assert classes == ["cat", "dog"] and labels.tolist() == [0, 0, 0, 1, 1]
    assert images[0, 2].float().mean() > 200 and images[-1, 0].float().mean() > 200
    workflows = load_image_folder_split(tmp_path / "pets", "train")
    assert torch.equal(images, workflows["images"]) and torch.equal(labels, workflows["labels"])
    model, _ = api.train_classifier(
        images, labels, width=0.125, epochs=1, batch_size=4, precision="fp32", classes=classes
    )
    assert model(images[:1].float() / 255).shape == (1, 2)
    with pytest.raises(
        ValueError,
        match=r"pets holds train/ and test/: it is a data set's root, not a folder of "
        r"classes; valid: .*pets/train or .*pets/test",
    ):
        memdissect.load_images(tmp_path / "pets")


@pytest.fixture(params=[0o022, 0o002], ids=["umask-022", "umask-002"])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_the_apis_saves_get_the_mode_a_plain_open_gives(tmp_path, umask, f1_patterns):
    data = make_synthetic_dataset(16, 0, seed=0)["train"]
    api.train_classifier(
        data["images"],
        data["labels"],
        width=0.125,
        epochs=1,
        batch_size=16,
        precision="fp32",
        save_to=tmp_path / "f.pt",
    )
    api.train_generator(
        data["images"], epochs=1, batch_size=16, width=0.125, save_to=tmp_path / "g.pt"
    )
    api.save_patterns(f1_patterns[1], tmp_path / "patterns.pt")
    (tmp_path / "plain.txt").write_text("")
    modes = {path.name: path.stat().st_mode & 0o777 for path in tmp_path.iterdir()}
    assert modes == dict.fromkeys(["f.pt", "g.pt", "patterns.pt", "plain.txt"], 0o666 & ~umask)
