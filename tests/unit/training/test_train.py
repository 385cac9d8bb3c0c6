"""Classifier training: G by hand, divergence, the final checkpoint and resuming to the same bytes
(killed in the workflow: test_workflow_resume.py), runs side by side, a network's own random draws, the graph path
(emulated on a CPU, for real with `pytest -m cuda`)."""

import re

import pytest
import torch
from torch import nn

from memdissect.data.synthetic import make_synthetic_dataset
from memdissect.dissection.patterns import synthesize_patterns
from memdissect.io import ArtifactError, load_torch
from memdissect.models import build_model
from memdissect.study.history import HISTORY_COLUMNS
from memdissect.study.settings import ClassifierSettings, GanSettings, PatternSettings
from memdissect.training import runtime
from memdissect.training.batches import NonFiniteLossError
from memdissect.training.gan import build_gan, save_gan
from memdissect.training.runtime import Runtime
from memdissect.training.train import (
    ClassifierRun,
    build_classifier,
    build_untrained_twin,
    input_gradient_magnitude,
    model_outputs,
    read_classifier_checkpoint,
    save_classifier,
    train_from_settings,
    train_one_epoch,
    train_round,
    training_data,
)

SETTINGS = ClassifierSettings(arch="vgg11", width=0.125, epochs=1, batch_size=32)
DROPOUT = ClassifierSettings(
    arch="networks:dropout_mlp", epochs=3, batch_size=16
)  # tests/networks.py
CPU_FP32 = Runtime(torch.device("cpu"), "fp32", channels_last=False)


def quiet(*_):
    pass


@pytest.fixture(scope="module")
def data():
    return make_synthetic_dataset(64, 16, seed=0)


def train(settings, data, **options):
    return train_from_settings(
        settings,
        data["train"]["images"],
        data["train"]["labels"],
        data["test"]["images"],
        data["test"]["labels"],
        torch.device("cpu"),
        **options,
    )


# ----------------------------------------------------------------------- G by hand
# G(x) = sum_j |dL/dx_j| on a linear softmax classifier, whose input gradient is W^T (softmax(Wx + b) - e_y).


def linear_classifier(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10)).double()


def closed_form_g(model, images_uint8, labels):
    linear = model[1]
    x = images_uint8.double().flatten(1) / 255
    residual = torch.softmax(x @ linear.weight.T + linear.bias, dim=1)
    residual[torch.arange(len(labels)), labels] -= 1  # softmax - one-hot
    return (residual @ linear.weight).abs().sum(dim=1).mean().item()


@pytest.fixture
def batch(monkeypatch):
    monkeypatch.setattr(
        "memdissect.training.train.as_model_input", lambda images, _: images.double().div(255)
    )
    generator = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (37, 3, 32, 32), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (37,), generator=generator)
    return images, labels


def test_exact_mode_matches_the_closed_form(batch):
    model = linear_classifier()
    assert input_gradient_magnitude(model, *batch, CPU_FP32, batch_size=8) == pytest.approx(
        closed_form_g(model, *batch), rel=1e-6
    )


def test_training_step_records_the_same_g(batch):
    """With lr 0 the weights stay put, so the G read from each step's backward equals the closed form."""
    model = linear_classifier()
    expected = closed_form_g(model, *batch)
    settings = ClassifierSettings(arch="linear", batch_size=10, lr=0.0, momentum=0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    metrics = train_one_epoch(
        model, optimizer, *batch, settings, torch.Generator().manual_seed(0), CPU_FP32
    )
    assert metrics["grad_magnitude"] == pytest.approx(expected, rel=1e-6)


def test_exact_g_reads_one_value_back_to_the_host_not_one_per_batch(batch, monkeypatch):
    model, reads = linear_classifier(), []
    item = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda tensor: reads.append(tensor) or item(tensor))
    input_gradient_magnitude(model, *batch, CPU_FP32, batch_size=8)  # 37 examples: 5 batches
    assert len(reads) == 1


def test_g_scales_with_the_weights(batch):
    """Doubling W and b changes G: a check that G is not a constant of the data."""
    model = linear_classifier()
    before = input_gradient_magnitude(model, *batch, CPU_FP32)
    with torch.no_grad():
        model[1].weight.mul_(2)
    assert input_gradient_magnitude(model, *batch, CPU_FP32) != pytest.approx(before, rel=1e-3)


@pytest.mark.parametrize("grad_mode", ["step", "exact", "off"])
def test_every_grad_mode_fills_the_history(data, grad_mode):
    _, history = train(
        ClassifierSettings(**{**SETTINGS.__dict__, "epochs": 2, "grad_mode": grad_mode}),
        data,
        log=quiet,
    )
    assert history["epoch"].tolist() == [1, 2] and (history["grad_mode"] == grad_mode).all()
    assert history["grad_magnitude"].isna().all() == (grad_mode == "off")
    assert history["precision"].isin(["fp32", "bf16"]).all() and (history["device"] == "cpu").all()
    assert list(history.columns) == HISTORY_COLUMNS
    assert (history["cuda_graph"] == "not applicable").all()  # a CPU
    assert (history["cuda_graph_note"] == "CUDA graphs run on CUDA only").all()


# ----------------------------------------------------------------------- divergence


def test_nan_loss_stops_training_naming_epoch_and_step(data):
    diverging = ClassifierSettings(
        arch="vgg11", width=0.125, epochs=3, batch_size=16, lr=1e12, momentum=0.9
    )
    with pytest.raises(NonFiniteLossError, match=r"epoch \d+.*step \d+"):
        train(diverging, data, log=quiet)


# ----------------------------------------------------------------------- the final checkpoint


def test_checkpoint_layout(tmp_path):
    """The weights.pt of every study so far: its keys in this order, CPU tensors in the default layout."""
    model = build_classifier(SETTINGS, "cpu").to(memory_format=torch.channels_last)
    save_classifier(model, SETTINGS, ["a"] * 10, tmp_path / "weights.pt")
    checkpoint = load_torch(tmp_path / "weights.pt")
    assert list(checkpoint) == ["format", "settings", "settings_hash", "classes", "state_dict"]
    assert (
        checkpoint["format"] == "memdissect-classifier-v1"
        and checkpoint["settings"] == SETTINGS.__dict__
    )
    assert all(
        t.device.type == "cpu" and t.is_contiguous() for t in checkpoint["state_dict"].values()
    )


def test_loaded_classifier_is_the_saved_one_in_eval_mode(tmp_path):
    model = build_classifier(SETTINGS, "cpu")
    save_classifier(model, SETTINGS, [f"c{i}" for i in range(10)], tmp_path / "weights.pt")
    loaded, settings, classes = read_classifier_checkpoint(
        tmp_path / "weights.pt", expected_settings=SETTINGS
    )
    assert not loaded.training and settings == SETTINGS and classes[3] == "c3"
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(loaded(x), model.eval()(x), rtol=0, atol=0)


def test_truncated_checkpoint_names_the_file_and_its_rule(tmp_path):
    path = tmp_path / "weights.pt"
    save_classifier(build_classifier(SETTINGS, "cpu"), SETTINGS, ["a"] * 10, path)
    broken = tmp_path / "broken-weights.pt"
    broken.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ArtifactError, match=rf"{broken}.*truncated.*rule 'train_classifier'"):
        read_classifier_checkpoint(broken, made_by="train_classifier")


def test_a_dcgan_checkpoint_is_not_a_classifier(tmp_path):
    save_gan(
        *build_gan(GanSettings(width=0.125), "cpu"), GanSettings(width=0.125), tmp_path / "dcgan.pt"
    )
    with pytest.raises(
        ArtifactError,
        match=r"dcgan.pt is not a memdissect classifier checkpoint \(made by rule "
        r"'train_classifier'\)",
    ):
        read_classifier_checkpoint(tmp_path / "dcgan.pt", made_by="train_classifier")


def test_checkpoint_from_other_settings_is_refused(tmp_path):
    path = tmp_path / "weights.pt"
    save_classifier(build_classifier(SETTINGS, "cpu"), SETTINGS, ["a"] * 10, path)
    read_classifier_checkpoint(path, expected_settings=SETTINGS)  # the same settings load
    other = ClassifierSettings(**{**SETTINGS.__dict__, "lr": 0.1})
    with pytest.raises(
        ArtifactError, match="made under other settings.*rerun rule 'train_classifier'"
    ):
        read_classifier_checkpoint(path, expected_settings=other, made_by="train_classifier")


def test_model_outputs_are_the_eval_mode_logits_and_features_in_batches():
    torch.manual_seed(0)
    model = build_model("vgg11", num_classes=4, width=0.125)
    images = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8)
    model.train()
    logits, features = model_outputs(model, images, "cpu", batch_size=2)  # batches of 2, 2, 1
    assert not model.training
    assert logits.shape == (5, 4) and features.shape == (5, 64)
    with torch.no_grad():
        expected = model(images.float() / 255)
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(model.classifier(features).detach(), logits, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------- the step in fixed buffers, and runs side by side
# On CUDA a full batch's step is replayed as a CUDA graph reading its batch from fixed buffers; on a CPU the same
# buffers are used without the capture, so these tests hold every line but the capture and replay to the plain step.

CPU_BUFFERED = Runtime(torch.device("cpu"), "fp32", channels_last=True, cuda_graphs=True)
CPU_PLAIN = Runtime(torch.device("cpu"), "fp32", channels_last=True, cuda_graphs=False)


def run_of(settings, data, runtime, labels=None, resume_path=None):
    splits = training_data(
        data["train"]["images"],
        data["train"]["labels"] if labels is None else labels,
        data["test"]["images"],
        data["test"]["labels"],
        runtime,
    )
    return ClassifierRun(settings, splits, runtime, resume_path, log=quiet)


def trained_alone(settings, data, runtime, labels=None):
    run = run_of(settings, data, runtime, labels)
    while not run.done:
        train_round([run])
    return run


def assert_same_run(first: ClassifierRun, second: ClassifierRun):
    for (key, a), (_, b) in zip(
        first.model.state_dict().items(), second.model.state_dict().items()
    ):
        assert torch.equal(a, b), key
    wall_clock = ["seconds", "images_per_second"]
    assert (
        first.history().drop(columns=wall_clock).equals(second.history().drop(columns=wall_clock))
    )


@pytest.mark.parametrize("augment", [False, True])
def test_the_step_reading_fixed_buffers_trains_the_weights_of_the_plain_step(data, augment):
    """64 images at batch 24: two full batches through the buffers, then a batch of 16 eagerly."""
    settings = ClassifierSettings(
        **{**SETTINGS.__dict__, "epochs": 2, "batch_size": 24, "augment": augment}
    )
    buffered, plain = (
        trained_alone(settings, data, CPU_BUFFERED),
        trained_alone(settings, data, CPU_PLAIN),
    )
    assert (
        type(buffered.step).__name__ == "GraphedStep"
        and type(plain.step).__name__ == "TrainingStep"
    )
    assert_same_run(buffered, plain)
    assert buffered.step.index.abs().sum() > 0  # the full batches did pass through the buffers


def test_models_trained_side_by_side_get_the_weights_each_gets_alone(data):
    """Runs of other batch sizes, epochs, augmentation, G mode and labels, interleaved step by step."""
    shuffled = data["train"]["labels"][
        torch.randperm(64, generator=torch.Generator().manual_seed(3))
    ]
    members = [
        (ClassifierSettings(**{**SETTINGS.__dict__, "epochs": 3, "batch_size": 16}), None),
        (
            ClassifierSettings(**{**SETTINGS.__dict__, "epochs": 2, "seed": 2, "augment": True}),
            shuffled,
        ),
        (
            ClassifierSettings(
                **{**SETTINGS.__dict__, "epochs": 1, "seed": 3, "grad_mode": "exact"}
            ),
            None,
        ),
    ]
    together = [run_of(settings, data, CPU_BUFFERED, labels) for settings, labels in members]
    rounds = 0
    while not all(run.done for run in together):
        train_round(together)
        rounds += 1
    assert rounds == 3
    for run, (settings, labels) in zip(together, members):
        assert_same_run(run, trained_alone(settings, data, CPU_PLAIN, labels))


def test_a_diverging_run_stops_alone_and_its_companions_train_on(data):
    diverging = ClassifierSettings(
        **{**SETTINGS.__dict__, "epochs": 2, "batch_size": 16, "lr": 1e12}
    )
    healthy = ClassifierSettings(**{**SETTINGS.__dict__, "epochs": 2, "seed": 2})
    runs = [run_of(diverging, data, CPU_BUFFERED), run_of(healthy, data, CPU_BUFFERED)]
    while not all(run.done for run in runs):
        train_round(runs)
    assert isinstance(runs[0].error, NonFiniteLossError) and "training diverged in epoch" in str(
        runs[0].error
    )
    assert runs[1].error is None
    assert_same_run(runs[1], trained_alone(healthy, data, CPU_PLAIN))


# ----------------------------------------------------------------------- a network that draws random numbers
# Each run owns what its network draws (dropout here): alone, beside other runs, resumed and replayed as a graph it
# draws the same numbers and ends with the same weights.


def trained(runs):
    while not all(run.done for run in runs):
        train_round(runs)
    return runs


def test_a_dropout_network_beside_other_runs_gets_the_weights_it_gets_alone(data):
    """Started after it and trained step by step beside it, a VGG11 and a second dropout network draw nothing from
    its stream and do not reseed it."""
    together = trained(
        [
            run_of(DROPOUT, data, CPU_PLAIN),
            run_of(SETTINGS, data, CPU_PLAIN),
            run_of(ClassifierSettings(**{**DROPOUT.__dict__, "seed": 2}), data, CPU_PLAIN),
        ]
    )
    assert_same_run(together[0], trained_alone(DROPOUT, data, CPU_PLAIN))
    assert_same_run(together[2], trained_alone(together[2].settings, data, CPU_PLAIN))


def test_a_dropout_network_stopped_after_an_epoch_resumes_to_the_same_bytes(tmp_path, data):
    model, history = train(DROPOUT, data, log=quiet)
    save_classifier(model, DROPOUT, ["a"] * 10, tmp_path / "whole.pt")
    resume = tmp_path / "resume.pt"
    with pytest.raises(KeyboardInterrupt):
        train(DROPOUT, data, resume_path=resume, log=stop_after_epoch(2))
    model, resumed = train(DROPOUT, data, resume_path=resume, log=quiet)
    save_classifier(model, DROPOUT, ["a"] * 10, tmp_path / "resumed.pt")
    assert (tmp_path / "whole.pt").read_bytes() == (tmp_path / "resumed.pt").read_bytes()
    assert resumed.drop(columns=WALL_CLOCK).equals(history.drop(columns=WALL_CLOCK))


# ----------------------------------------------------------------------- the graph path on a CPU
# runtime.CUDA_GRAPHS emulated (tests/conftest.py): every line of the graph path runs (warm-up, capture, the first replay's check, the
# fallbacks, the process-wide switch), with replays that run the step eagerly.

CPU_GRAPHED = Runtime(torch.device("cpu"), "fp32", channels_last=True, cuda_graphs=True)
WALL_CLOCK = ["seconds", "images_per_second"]


def eagerly(messages):
    return [message for message in messages if "eagerly" in message]


def logged_run(settings, data, runtime_=CPU_GRAPHED):
    messages = []
    splits = training_data(
        data["train"]["images"],
        data["train"]["labels"],
        data["test"]["images"],
        data["test"]["labels"],
        runtime_,
    )
    return ClassifierRun(settings, splits, runtime_, log=messages.append), messages


def test_a_replayed_step_checks_its_first_replay_and_trains_the_eager_steps_bytes(
    data, emulated_graphs
):
    """Dropout included: the check puts the random state back before the replay, which draws the eager step's masks."""
    graphed, messages = logged_run(DROPOUT, data)
    trained([graphed])
    assert_same_run_but_graph_columns(graphed, trained_alone(DROPOUT, data, CPU_PLAIN))
    history = (
        graphed.history()
    )  # 4 batches of 16 per epoch: epoch 1 warms up 3 steps, captures and checks the 4th
    assert history["cuda_graph"].tolist() == ["replayed"] * 3 and not eagerly(messages)
    assert (
        history["cuda_graph_note"] == "first replay within 0 of the eager step (tolerance 0.001)"
    ).all()


def test_a_first_replay_off_the_eager_step_is_dropped_and_the_run_goes_on_eagerly(
    data, graphs_a_step_off
):
    graphed, messages = logged_run(DROPOUT, data)
    trained([graphed])
    assert_same_run_but_graph_columns(graphed, trained_alone(DROPOUT, data, CPU_PLAIN))
    (fallback,) = eagerly(messages)
    assert re.fullmatch(
        r"training eagerly: its first replay differs from the eager step by [1-9][0-9.]* of the "
        r"step's change \(tolerance 0.001 in fp32\)",
        fallback,
    )  # a whole step or more off
    assert (graphed.history()["cuda_graph"] == "eager").all()
    assert (
        graphed.history()["cuda_graph_note"] == fallback.removeprefix("training eagerly: ")
    ).all()


def assert_same_run_but_graph_columns(first, second):
    graph_columns = ["cuda_graph", "cuda_graph_note"]
    for (key, a), (_, b) in zip(
        first.model.state_dict().items(), second.model.state_dict().items()
    ):
        assert torch.equal(a, b), key
    assert (
        first.history()
        .drop(columns=WALL_CLOCK + graph_columns)
        .equals(second.history().drop(columns=WALL_CLOCK + graph_columns))
    )


def test_a_failed_capture_switches_graphs_off_for_the_process_naming_its_cause(
    data, emulated_graphs, monkeypatch
):
    """The first run's capture fails: it trains eagerly; a second run and a pattern search in the same process try
    no capture, and each log names the cause."""
    attempts = []

    def failing_capture(step, stream, random_state):
        attempts.append(step)
        raise RuntimeError(
            "CUDA error: operation not permitted when stream is capturing\nCUDA kernel errors ..."
        )

    monkeypatch.setattr(emulated_graphs, "capture", failing_capture)
    cause = "RuntimeError: CUDA error: operation not permitted when stream is capturing"
    first, first_log = logged_run(DROPOUT, data)
    trained([first])
    assert eagerly(first_log) == [
        f"training eagerly: the step could not be captured as a CUDA graph ({cause})"
    ]
    assert_same_run_but_graph_columns(first, trained_alone(DROPOUT, data, CPU_PLAIN))
    second, second_log = logged_run(SETTINGS, data)
    trained([second])
    off = f"CUDA graphs are off in this process since a capture failed ({cause})"
    assert eagerly(second_log) == [f"training eagerly: {off}"] and len(attempts) == 1
    assert (second.history()["cuda_graph_note"] == off).all()
    search_log = []
    generator, _ = build_gan(GanSettings(width=0.125), "cpu")
    patterns = synthesize_patterns(
        build_classifier(SETTINGS, "cpu"),
        generator,
        10,
        PatternSettings(starts=1, iterations=6, chunk_size=10),
        "cpu",
        log=search_log.append,
    )
    assert f"searching eagerly: {off}" in search_log and len(attempts) == 1
    assert patterns.cuda_graph == "eager" and patterns.cuda_graph_note == off


# On a GPU (`python -m pytest -m cuda`): the captured step and the runs on their own streams.


def cuda_run(settings, data, cuda_graphs, labels=None, stream=None, precision="fp32", log=quiet):
    runtime_ = Runtime.for_device("cuda", precision, cuda_graphs)
    splits = training_data(
        data["train"]["images"],
        data["train"]["labels"] if labels is None else labels,
        data["test"]["images"],
        data["test"]["labels"],
        runtime_,
    )
    return ClassifierRun(settings, splits, runtime_, log=log, stream=stream)


def train_together(runs):
    while not all(run.done for run in runs):
        train_round(runs)
    torch.cuda.synchronize()
    return runs


def assert_close_runs(first: ClassifierRun, second: ClassifierRun, rtol=1e-4, atol=1e-5):
    """The same weights and history within floating-point tolerance (the GPU may sum in another order)."""
    for (key, a), (_, b) in zip(
        first.model.state_dict().items(), second.model.state_dict().items()
    ):
        assert torch.allclose(a.float(), b.float(), rtol=rtol, atol=atol), key
    columns = ["train_loss", "train_acc", "grad_magnitude", "test_loss", "test_acc"]
    assert torch.allclose(
        torch.tensor(first.history()[columns].values),
        torch.tensor(second.history()[columns].values),
        rtol=rtol,
        atol=atol,
        equal_nan=True,
    )


BF16_CLOSE = {"rtol": 2e-2, "atol": 2e-3}
DROPOUT_ON_CUDA = ClassifierSettings(
    **{**DROPOUT.__dict__, "epochs": 3, "batch_size": 8}
)  # 8 steps an epoch


@pytest.mark.cuda
@pytest.mark.parametrize("augment", [False, True])
def test_on_cuda_the_replayed_graph_trains_the_eager_steps_weights_and_the_same_bytes_twice(
    data, augment
):
    """64 images at batch 24: warm-up, capture and replay of the full batches, the last batch of 16 eagerly."""
    settings = ClassifierSettings(
        **{**SETTINGS.__dict__, "epochs": 3, "batch_size": 24, "augment": augment}
    )
    graphed, again, eager = (
        train_together([cuda_run(settings, data, graphs)])[0] for graphs in (True, True, False)
    )
    assert graphed.step.graph is not None and graphed.graph_status().graph == "replayed"
    assert (
        graphed.history()["cuda_graph"].iloc[1:] == "replayed"
    ).all()  # epoch 1 warms up, captures, checks
    assert type(eager.step).__name__ == "TrainingStep"
    assert_same_run(graphed, again)
    assert_close_runs(graphed, eager)


@pytest.mark.cuda
def test_on_cuda_models_on_their_own_streams_get_the_weights_each_gets_alone(data):
    shuffled = data["train"]["labels"][
        torch.randperm(64, generator=torch.Generator().manual_seed(3))
    ]
    members = [
        (ClassifierSettings(**{**SETTINGS.__dict__, "epochs": 3, "batch_size": 8}), None),
        (
            ClassifierSettings(
                **{**SETTINGS.__dict__, "epochs": 2, "batch_size": 8, "seed": 2, "augment": True}
            ),
            shuffled,
        ),
        (
            ClassifierSettings(
                **{**SETTINGS.__dict__, "epochs": 2, "seed": 3, "grad_mode": "exact"}
            ),
            None,
        ),
    ]
    together = train_together(
        [
            cuda_run(settings, data, True, labels, torch.cuda.Stream())
            for settings, labels in members
        ]
    )
    for run, (settings, labels) in zip(together, members):
        assert_close_runs(run, train_together([cuda_run(settings, data, True, labels)])[0])


# ----------------------------------------------------------------------- resuming


def stop_after_epoch(epoch):
    def log(message):
        if message.startswith(f"epoch {epoch}/"):
            raise KeyboardInterrupt

    return log


def test_a_run_stopped_after_an_epoch_resumes_to_the_same_bytes(tmp_path, data):
    """Augmentation and the data order draw from the run's generator: both must resume where they were."""
    settings = ClassifierSettings(
        **{**SETTINGS.__dict__, "epochs": 3, "batch_size": 16, "augment": True}
    )
    model, history = train(settings, data, log=quiet)
    save_classifier(model, settings, ["a"] * 10, tmp_path / "whole.pt")
    resume = tmp_path / "resume.pt"
    with pytest.raises(KeyboardInterrupt):
        train(settings, data, resume_path=resume, log=stop_after_epoch(2))
    assert len(load_torch(resume)["history"]) == 1
    messages = []
    model, resumed = train(settings, data, resume_path=resume, log=messages.append)
    save_classifier(model, settings, ["a"] * 10, tmp_path / "resumed.pt")
    assert messages[0] == f"resuming from {resume} after epoch 1"
    assert (tmp_path / "whole.pt").read_bytes() == (tmp_path / "resumed.pt").read_bytes()
    wall_clock = ["seconds", "images_per_second"]
    assert resumed.drop(columns=wall_clock).equals(history.drop(columns=wall_clock))


def test_a_resume_state_from_other_settings_is_not_used(tmp_path, data):
    resume = tmp_path / "resume.pt"
    other = ClassifierSettings(**{**SETTINGS.__dict__, "epochs": 2, "lr": 0.02})
    with pytest.raises(KeyboardInterrupt):
        train(other, data, resume_path=resume, log=stop_after_epoch(2))
    messages = []
    train(SETTINGS, data, resume_path=resume, log=messages.append)
    assert (
        messages[0]
        == f"ignoring {resume}: it was made under other settings; training from the start"
    )
    assert not any("resuming" in message for message in messages)


def test_untrained_twin_has_the_architecture_but_not_the_weights():
    settings = ClassifierSettings(arch="resnet32", width=0.25, seed=3)
    model, twin = build_classifier(settings, "cpu"), build_untrained_twin(settings, "cpu")
    assert [p.shape for p in model.parameters()] == [p.shape for p in twin.parameters()]
    assert not torch.equal(next(model.parameters()), next(twin.parameters()))


@pytest.mark.cuda
@pytest.mark.parametrize("settings", [SETTINGS, DROPOUT], ids=["vgg11", "dropout"])
def test_on_cuda_a_bf16_step_replays_checked_to_the_eager_weights(data, settings):
    """bf16, what auto gives on compute capability 8.0 or newer, under capture; dropout draws from the run's
    registered generator state, advanced by every replay."""
    settings = ClassifierSettings(**{**settings.__dict__, "epochs": 3, "batch_size": 8})
    graphed, eager = (
        train_together([cuda_run(settings, data, graphs, precision="bf16")])[0]
        for graphs in (True, False)
    )
    assert graphed.graph_status().graph == "replayed", graphed.graph_status().note
    assert graphed.graph_status().note.startswith("first replay within ")
    assert (graphed.history()["precision"] == "bf16").all()
    assert_close_runs(graphed, eager, **BF16_CLOSE)


@pytest.mark.cuda
def test_on_cuda_runs_side_by_side_at_bf16_get_the_weights_each_gets_alone(data):
    members = [
        DROPOUT_ON_CUDA,
        ClassifierSettings(**{**SETTINGS.__dict__, "epochs": 2, "batch_size": 8, "seed": 2}),
        ClassifierSettings(**{**DROPOUT_ON_CUDA.__dict__, "seed": 3, "augment": True}),
    ]
    together = train_together(
        [
            cuda_run(settings, data, True, stream=torch.cuda.Stream(), precision="bf16")
            for settings in members
        ]
    )
    for run, settings in zip(together, members):
        assert run.graph_status().graph == "replayed", run.graph_status().note
        assert_close_runs(
            run, train_together([cuda_run(settings, data, True, precision="bf16")])[0], **BF16_CLOSE
        )


@pytest.mark.cuda
def test_on_cuda_a_failed_capture_is_undone_and_switches_graphs_off_naming_its_cause(
    data, monkeypatch
):
    """A network that reads a value back to the host cannot be captured: the log names that error, not
    capture_end's; a dropout run after it in the same process captures nothing and draws and trains as eagerly."""
    monkeypatch.setattr(runtime.CUDA_GRAPHS, "off_because", "")
    failing_log, second_log = [], []
    failing = ClassifierSettings(arch="networks:host_reading_linear", epochs=2, batch_size=8)
    train_together([cuda_run(failing, data, True, log=failing_log.append)])
    (cause,) = eagerly(failing_log)
    assert (
        "could not be captured" in cause and "capturing" in cause and "previous error" not in cause
    ), cause
    second = train_together([cuda_run(DROPOUT_ON_CUDA, data, True, log=second_log.append)])[0]
    assert eagerly(second_log) == [
        f"training eagerly: CUDA graphs are off in this process since a capture failed "
        f"({runtime.CUDA_GRAPHS.off_because})"
    ]
    assert_close_runs(second, train_together([cuda_run(DROPOUT_ON_CUDA, data, False)])[0])


class DoubledReplay:
    def __init__(self, graph):
        self.graph = graph

    def replay(self):
        self.graph.replay()
        self.graph.replay()


@pytest.mark.cuda
def test_on_cuda_a_first_replay_off_the_eager_step_is_caught(data, monkeypatch):
    monkeypatch.setattr(runtime.CUDA_GRAPHS, "off_because", "")
    monkeypatch.setattr(
        runtime.CUDA_GRAPHS,
        "capture",
        lambda step, stream, random_state: DoubledReplay(
            runtime.capture_cuda_graph(step, stream, random_state)
        ),
    )
    lines = []
    checked = train_together([cuda_run(DROPOUT_ON_CUDA, data, True, log=lines.append)])[0]
    (fallback,) = eagerly(lines)
    assert fallback.startswith("training eagerly: its first replay differs from the eager step by ")
    assert_close_runs(checked, train_together([cuda_run(DROPOUT_ON_CUDA, data, False)])[0])


@pytest.mark.cuda
def test_on_cuda_every_entry_point_computes_fp32_in_ieee_fp32(data):
    """PyTorch's default TF32 convolutions, set back before each entry point, are off after it."""
    from memdissect.dissection.patterns import generate, logits_on_patterns

    model = build_classifier(SETTINGS, "cuda").eval()
    generator, _ = build_gan(GanSettings(width=0.125), "cuda")
    entry_points = [
        lambda: logits_on_patterns(model, torch.rand(2, 1, 3, 32, 32), "cuda"),
        lambda: model_outputs(model, data["test"]["images"], "cuda"),
        lambda: generate(generator, torch.randn(2, 100), "cuda"),
        lambda: train_together([cuda_run(SETTINGS, data, False)]),
    ]
    for entry_point in entry_points:
        torch.backends.cudnn.conv.fp32_precision = "tf32"
        entry_point()
        assert runtime.fp32_math("cuda") == "ieee"
