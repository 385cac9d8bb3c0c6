"""The training step's records for the paper's other claims: the groups' columns of the history (learn, then
memorize) and the predictions on the probe set (paths in function space), alone, through the step's fixed
buffers, and resumed."""

import pytest
import torch

from memdissect.data.labels import corrupt_labels
from memdissect.data.synthetic import make_synthetic_dataset
from memdissect.io import load_torch
from memdissect.study.history import GROUP_COLUMNS, HISTORY_COLUMNS
from memdissect.study.settings import ClassifierSettings
from memdissect.training.probe_path import PROBE_DTYPE, probe_indices, probe_log_probs
from memdissect.training.runtime import Runtime
from memdissect.training.train import (
    ClassifierRun,
    train_from_settings,
    train_round,
    training_data,
)

SETTINGS = ClassifierSettings(arch="vgg11", width=0.125, epochs=3, batch_size=16)
WALL_CLOCK = ["seconds", "images_per_second"]


def quiet(*_):
    pass


@pytest.fixture(scope="module")
def data():
    dataset = make_synthetic_dataset(64, 16, seed=0)
    table = corrupt_labels(dataset["train"]["labels"].numpy(), 0.5, 10, seed=0)
    dataset["noisy"] = torch.from_numpy(table["label"].to_numpy().copy())
    return dataset


def train(data, labels, settings=SETTINGS, **options):
    return train_from_settings(
        settings,
        data["train"]["images"],
        labels,
        data["test"]["images"],
        data["test"]["labels"],
        torch.device("cpu"),
        log=quiet,
        **options,
    )


def test_on_relabeled_samples_the_history_gains_the_groups_and_the_weights_stay_the_same(data):
    true = data["train"]["labels"]
    plain_model, plain = train(data, data["noisy"])
    model, history = train(data, data["noisy"], true_labels=true)
    assert list(history.columns) == HISTORY_COLUMNS + GROUP_COLUMNS
    assert history[HISTORY_COLUMNS].drop(columns=WALL_CLOCK).equals(plain.drop(columns=WALL_CLOCK))
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), plain_model.state_dict().values())
    )
    relabeled = int((data["noisy"] != true).sum())
    assert (history["relabeled_samples"] == relabeled).all() and (
        history["clean_samples"] == 64 - relabeled
    ).all()
    correct = (
        history["clean_train_acc"] * history["clean_samples"]
        + history["relabeled_train_acc"] * relabeled
    )
    assert correct.to_numpy() == pytest.approx(
        64 * history["train_acc"].to_numpy()
    )  # the groups add up
    grad = (
        history["clean_grad_magnitude"] * history["clean_samples"]
        + history["relabeled_grad_magnitude"] * relabeled
    )
    assert grad.to_numpy() == pytest.approx(64 * history["grad_magnitude"].to_numpy(), rel=1e-4)


def test_without_relabeled_samples_the_history_keeps_its_columns(data):
    _, history = train(data, data["train"]["labels"], true_labels=data["train"]["labels"])
    assert list(history.columns) == HISTORY_COLUMNS


def test_the_step_through_fixed_buffers_records_the_same_groups(data):
    """The buffers a CUDA graph replays, on a CPU: the groups are indexed by the buffered batch."""

    def run(cuda_graphs):
        runtime = Runtime(torch.device("cpu"), "fp32", channels_last=False, cuda_graphs=cuda_graphs)
        splits = training_data(
            data["train"]["images"],
            data["noisy"],
            data["test"]["images"],
            data["test"]["labels"],
            runtime,
            true_labels=data["train"]["labels"],
        )
        settings = ClassifierSettings(
            **{**SETTINGS.__dict__, "batch_size": 24}
        )  # two full batches, then 16
        classifier = ClassifierRun(settings, splits, runtime, log=quiet)
        while not classifier.done:
            train_round([classifier])
        return classifier.history().drop(columns=WALL_CLOCK + ["cuda_graph", "cuda_graph_note"])

    assert run(cuda_graphs=True).equals(run(cuda_graphs=False))


def probes_of(data, size=10):
    return probe_indices({"train": 64, "test": 16}, size=size, seed=0)


def test_the_probe_path_holds_each_epochs_predictions_and_leaves_the_weights_alone(data):
    plain_model, _ = train(data, data["noisy"])
    model, _, path = train(data, data["noisy"], probe_indices=probes_of(data))
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), plain_model.state_dict().values())
    )
    assert path["epochs"].tolist() == [1, 2, 3]
    assert path["paths"]["train"].shape == (3, 10, 10) and path["paths"]["test"].shape == (
        3,
        10,
        10,
    )
    assert path["paths"]["train"].dtype == PROBE_DTYPE
    runtime = Runtime(torch.device("cpu"), "fp32", channels_last=False)
    indices = probes_of(data)
    for split in (
        "train",
        "test",
    ):  # the last epoch's record is the trained model's predictions (up to float16
        images = data[split]["images"][
            torch.as_tensor(indices[split])
        ]  # rounding: the run's memory format differs)
        expected = probe_log_probs(model, images, runtime).float()
        assert torch.allclose(path["paths"][split][-1].float(), expected, rtol=2e-3, atol=2e-3)
    assert not torch.equal(path["paths"]["train"][0], path["paths"]["train"][-1])


def stop_after_epoch(epoch):
    def log(message):
        if message.startswith(f"epoch {epoch}/"):
            raise KeyboardInterrupt

    return log


def test_a_run_stopped_after_an_epoch_resumes_with_the_probes_it_recorded(data, tmp_path):
    whole = train(
        data, data["noisy"], true_labels=data["train"]["labels"], probe_indices=probes_of(data)
    )
    resume = tmp_path / "resume.pt"
    with pytest.raises(KeyboardInterrupt):
        train_from_settings(
            SETTINGS,
            data["train"]["images"],
            data["noisy"],
            data["test"]["images"],
            data["test"]["labels"],
            torch.device("cpu"),
            resume_path=resume,
            log=stop_after_epoch(2),
            true_labels=data["train"]["labels"],
            probe_indices=probes_of(data),
        )
    assert len(load_torch(resume)["probes"]["records"]["train"]) == 1
    resumed = train(
        data,
        data["noisy"],
        resume_path=resume,
        true_labels=data["train"]["labels"],
        probe_indices=probes_of(data),
    )
    assert resumed[1].drop(columns=WALL_CLOCK).equals(whole[1].drop(columns=WALL_CLOCK))
    assert torch.equal(resumed[2]["paths"]["train"], whole[2]["paths"]["train"])
    assert torch.equal(resumed[2]["paths"]["test"], whole[2]["paths"]["test"])


def test_a_resume_state_of_other_probes_is_refused(data, tmp_path):
    from memdissect.io import ArtifactError

    resume = tmp_path / "resume.pt"
    with pytest.raises(KeyboardInterrupt):
        train_from_settings(
            SETTINGS,
            data["train"]["images"],
            data["noisy"],
            data["test"]["images"],
            data["test"]["labels"],
            torch.device("cpu"),
            resume_path=resume,
            log=stop_after_epoch(2),
            probe_indices=probes_of(data, size=10),
        )
    with pytest.raises(ArtifactError, match="other probe images"):
        train(data, data["noisy"], resume_path=resume, probe_indices=probes_of(data, size=12))


def test_a_resume_state_made_without_probes_is_not_used_by_a_run_that_records_them(data, tmp_path):
    resume = tmp_path / "resume.pt"
    with pytest.raises(KeyboardInterrupt):
        train_from_settings(
            SETTINGS,
            data["train"]["images"],
            data["noisy"],
            data["test"]["images"],
            data["test"]["labels"],
            torch.device("cpu"),
            resume_path=resume,
            log=stop_after_epoch(2),
        )
    messages = []
    _, history, path = train_from_settings(
        SETTINGS,
        data["train"]["images"],
        data["noisy"],
        data["test"]["images"],
        data["test"]["labels"],
        torch.device("cpu"),
        resume_path=resume,
        log=messages.append,
        probe_indices=probes_of(data),
    )
    assert messages[0] == f"ignoring {resume}: it holds no probes; training from the start"
    assert path["epochs"].tolist() == [1, 2, 3] and len(history) == 3
