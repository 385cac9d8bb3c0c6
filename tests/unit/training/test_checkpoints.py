"""Self-describing checkpoints and resume states: atomic, checked on load, ignored when stale."""

import pickle
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from memdissect.io import ArtifactError, load_torch, save_torch
from memdissect.training.batches import NonFiniteLossError
from memdissect.training.checkpoints import (
    ArtifactFormat,
    load_artifact,
    load_checkpoint,
    load_resume_state,
    part_states,
    save_checkpoint,
    save_resume_state,
    train_epochs,
)

WIDGET = ArtifactFormat("memdissect-widget-v1", "a memdissect widget")
WIDGET_RESUME = ArtifactFormat("memdissect-widget-resume-v1", "a widget resume state")


@dataclass(frozen=True)
class WidgetSettings:
    epochs: int = 4
    lr: float = 0.1


def test_checkpoint_holds_format_settings_hash_then_payload_in_that_order(tmp_path):
    save_checkpoint(tmp_path / "w.pt", WIDGET, WidgetSettings(), {"b": torch.ones(2), "a": [1]})
    checkpoint = load_torch(tmp_path / "w.pt")
    assert list(checkpoint) == ["format", "settings", "settings_hash", "b", "a"]
    assert checkpoint["format"] == "memdissect-widget-v1" and checkpoint["settings"] == {
        "epochs": 4,
        "lr": 0.1,
    }
    assert load_checkpoint(tmp_path / "w.pt", WIDGET, expected_settings=WidgetSettings())["a"] == [
        1
    ]


def test_equal_checkpoints_have_equal_bytes(tmp_path):
    for name in ("one.pt", "two.pt"):
        save_checkpoint(tmp_path / name, WIDGET, WidgetSettings(), {"x": torch.arange(5.0)})
    assert (tmp_path / "one.pt").read_bytes() == (tmp_path / "two.pt").read_bytes()


def test_a_failed_save_leaves_no_file_and_keeps_the_old_one(tmp_path):
    path = tmp_path / "w.pt"
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        save_checkpoint(path, WIDGET, WidgetSettings(), {"x": lambda: None})  # not picklable
    assert list(tmp_path.iterdir()) == []
    save_checkpoint(path, WIDGET, WidgetSettings(), {"x": 1})
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        save_checkpoint(path, WIDGET, WidgetSettings(lr=0.2), {"x": lambda: None})
    assert list(tmp_path.iterdir()) == [path] and path.read_bytes() == before


def test_load_refuses_another_format_naming_the_file_and_what_it_is_not(tmp_path):
    path = tmp_path / "other.pt"
    save_torch({"format": "memdissect-gadget-v1"}, path)
    with pytest.raises(
        ArtifactError, match=rf"^{path} is not a memdissect widget; delete it and rerun$"
    ):
        load_checkpoint(path, WIDGET)
    save_torch([1, 2], path)
    with pytest.raises(ArtifactError, match=rf"{path} is not a memdissect widget"):
        load_artifact(path, WIDGET)


def test_made_by_names_the_rule_only_when_given(tmp_path):
    path = tmp_path / "other.pt"
    save_torch({"format": "memdissect-gadget-v1"}, path)
    with pytest.raises(
        ArtifactError, match=r"not a memdissect widget \(made by rule 'make_widget'\); delete it"
    ):
        load_checkpoint(path, WIDGET, made_by="make_widget")
    with pytest.raises(ArtifactError) as refused:
        load_checkpoint(path, WIDGET)
    assert "made by" not in str(refused.value) and "rule " not in str(refused.value)
    with pytest.raises(ArtifactError, match=r"does not exist \(made by rule 'make_widget'\)"):
        load_checkpoint(tmp_path / "missing.pt", WIDGET, made_by="make_widget")


def test_a_checkpoint_from_other_settings_is_refused_saying_what_to_rerun(tmp_path):
    path = tmp_path / "w.pt"
    save_checkpoint(path, WIDGET, WidgetSettings(), {})
    load_checkpoint(path, WIDGET, expected_settings=WidgetSettings())  # the same settings load
    with pytest.raises(
        ArtifactError,
        match=rf"{path} was made under other settings .*'lr': 0.1.*'lr': 0.2.*"
        r"; rerun rule 'make_widget'$",
    ):
        load_checkpoint(
            path, WIDGET, expected_settings=WidgetSettings(lr=0.2), made_by="make_widget"
        )
    with pytest.raises(ArtifactError, match=r"other settings.*; delete it and rerun$"):
        load_checkpoint(path, WIDGET, expected_settings=WidgetSettings(lr=0.2))
    load_checkpoint(path, WIDGET)  # no settings asked for: any settings load


def test_resume_state_round_trip_and_its_absence(tmp_path):
    messages = []
    assert (
        load_resume_state(tmp_path / "missing.pt", WIDGET_RESUME, WidgetSettings(), messages.append)
        is None
    )
    assert load_resume_state(None, WIDGET_RESUME, WidgetSettings(), messages.append) is None
    save_resume_state(
        tmp_path / "r.pt", WIDGET_RESUME, WidgetSettings(), {"history": [{"epoch": 1}]}
    )
    state = load_resume_state(tmp_path / "r.pt", WIDGET_RESUME, WidgetSettings(), messages.append)
    assert state["history"] == [{"epoch": 1}] and messages == []


@pytest.mark.parametrize(
    "settings, format, why",
    [
        (WidgetSettings(lr=0.2), WIDGET_RESUME, "it was made under other settings"),
        (
            WidgetSettings(),
            WIDGET,
            "it is not a memdissect widget of this memdissect (format "
            "'memdissect-widget-resume-v1', not 'memdissect-widget-v1')",
        ),  # an earlier format
    ],
)
def test_resume_state_from_other_settings_or_format_is_ignored_saying_so(
    tmp_path, settings, format, why
):
    path = tmp_path / "r.pt"
    save_resume_state(path, WIDGET_RESUME, WidgetSettings(), {"history": []})
    messages = []
    assert load_resume_state(path, format, settings, messages.append) is None
    assert messages == [f"ignoring {path}: {why}; training from the start"]


class Counter:
    """A toy run: a linear layer, its optimizer and a random generator, each epoch one SGD step on a random batch."""

    def __init__(self):
        torch.manual_seed(0)
        self.model = nn.Linear(3, 1)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)
        self.rng = torch.Generator().manual_seed(1)
        self.parts = {"model": self.model, "optimizer": self.optimizer, "rng": self.rng}

    def epoch(self, epoch, stop_at=None):
        if epoch == stop_at:
            raise KeyboardInterrupt
        loss = self.model(torch.randn(4, 3, generator=self.rng)).square().mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"epoch": epoch, "loss": loss.item()}


def test_a_run_stopped_and_resumed_equals_one_never_stopped(tmp_path):
    quiet, messages = (lambda *_: None), []
    whole = Counter()
    history = train_epochs(WidgetSettings(), whole.parts, whole.epoch, None, WIDGET_RESUME, quiet)
    stopped = Counter()
    with pytest.raises(KeyboardInterrupt):
        train_epochs(
            WidgetSettings(),
            stopped.parts,
            lambda e: stopped.epoch(e, stop_at=3),
            tmp_path / "r.pt",
            WIDGET_RESUME,
            quiet,
        )
    resumed = Counter()
    assert (
        train_epochs(
            WidgetSettings(),
            resumed.parts,
            resumed.epoch,
            tmp_path / "r.pt",
            WIDGET_RESUME,
            messages.append,
        )
        == history
    )
    assert messages == [f"resuming from {tmp_path / 'r.pt'} after epoch 2"]
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    torch.testing.assert_close(
        part_states(resumed.parts)["model"], part_states(whole.parts)["model"], rtol=0, atol=0
    )


def test_a_diverging_epoch_is_named(tmp_path):
    def diverge(epoch):
        if epoch == 2:
            raise NonFiniteLossError("the loss became NaN at step 5")
        return {"epoch": epoch}

    with pytest.raises(
        NonFiniteLossError, match=r"^training diverged in epoch 2: the loss became NaN at step 5$"
    ):
        train_epochs(
            WidgetSettings(), {}, diverge, tmp_path / "r.pt", WIDGET_RESUME, lambda *_: None
        )
    assert load_torch(tmp_path / "r.pt")["history"] == [
        {"epoch": 1}
    ]  # the last good epoch stays resumable


def test_resume_states_wait_for_their_interval_and_the_last_epoch_writes_none(
    tmp_path, monkeypatch
):
    clock = [0.0]
    monkeypatch.setattr("memdissect.training.checkpoints.time.monotonic", lambda: clock[0])
    saved = []

    def epoch(number):
        clock[0] += 25.0  # each epoch takes 25 s
        if (tmp_path / "r.pt").exists():
            saved.append((number - 1, len(load_torch(tmp_path / "r.pt")["history"])))
        return {"epoch": number}

    train_epochs(
        WidgetSettings(),
        {},
        epoch,
        tmp_path / "r.pt",
        WIDGET_RESUME,
        lambda *_: None,
        resume_every_seconds=60,
    )
    assert saved == [
        (3, 3)
    ]  # after epoch 3 (75 s since the start); epoch 4 is the last: its outputs follow
    (tmp_path / "r.pt").unlink()
    history = train_epochs(
        WidgetSettings(),
        {},
        lambda n: {"epoch": n},
        tmp_path / "r.pt",
        WIDGET_RESUME,
        lambda *_: None,
        resume_every_seconds=0,
    )
    assert len(history) == 4 and len(load_torch(tmp_path / "r.pt")["history"]) == 3
