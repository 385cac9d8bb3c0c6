"""The files of a training run's lifecycle: per-epoch resume states and self-describing results.

A checkpoint holds its format tag, the settings that made it and their hash, then its payload;
a load checks the tag and, when asked, the settings. A resume state holds the tag, the hash of
the settings, the state of every part of the run (networks, optimizers, random generators, what
its network draws from: runtime.RandomState) and the history so far; one left by a run under
other settings, or in another format, is ignored. Every write is atomic.
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from memdissect.io import ArtifactError, load_torch, made_by_hint, save_torch, settings_hash
from memdissect.training.batches import NonFiniteLossError


@dataclass(frozen=True)
class ArtifactFormat:
    tag: str  # stored under "format"
    what: (
        str  # what a file of this format is, as error messages say it: "a memdissect pattern file"
    )


def cpu_state_dict(module: torch.nn.Module) -> dict:
    """A module's tensors on the CPU in the default memory format: the same bytes from any device or layout."""
    return {key: value.detach().cpu().contiguous() for key, value in module.state_dict().items()}


def save_checkpoint(path, format: ArtifactFormat, settings, payload: dict) -> None:
    """{format, settings, settings_hash, *payload}, written atomically; settings is a settings dataclass."""
    values = asdict(settings)
    save_torch(
        {
            "format": format.tag,
            "settings": values,
            "settings_hash": settings_hash(values),
            **payload,
        },
        path,
    )


def load_artifact(path, format: ArtifactFormat, made_by: str = "") -> dict:
    """A file's dict, refused with an error that names the file unless it carries `format`'s tag."""
    artifact = load_torch(path, made_by=made_by)
    if not isinstance(artifact, dict) or artifact.get("format") != format.tag:
        raise ArtifactError(
            f"{path} is not {format.what}{made_by_hint(made_by)}; delete it and rerun"
        )
    return artifact


def load_checkpoint(
    path, format: ArtifactFormat, expected_settings=None, made_by: str = ""
) -> dict:
    """A checkpoint's dict; with expected_settings, one made under other settings is refused."""
    checkpoint = load_artifact(path, format, made_by)
    if (
        expected_settings is not None
        and settings_hash(asdict(expected_settings)) != checkpoint["settings_hash"]
    ):
        rerun = f"rerun rule {made_by!r}" if made_by else "delete it and rerun"
        raise ArtifactError(
            f"{path} was made under other settings than the config now gives "
            f"({checkpoint['settings']} vs {asdict(expected_settings)}); {rerun}"
        )
    return checkpoint


def save_resume_state(path, format: ArtifactFormat, settings, state: dict) -> None:
    """{format, settings_hash, *state}, written atomically."""
    save_torch(
        {"format": format.tag, "settings_hash": settings_hash(asdict(settings)), **state}, path
    )


def load_resume_state(path, format: ArtifactFormat, settings, log) -> dict | None:
    """The resume state at path, or None (start from scratch) where there is none, or it is of another format (an
    earlier memdissect's, which lacks a part this one resumes) or from other settings."""
    if path is None or not Path(path).exists():
        return None
    state = load_torch(path)
    if state.get("format") != format.tag:
        log(
            f"ignoring {path}: it is not {format.what} of this memdissect (format {state.get('format')!r}, not "
            f"{format.tag!r}); training from the start"
        )
        return None
    if state.get("settings_hash") != settings_hash(asdict(settings)):
        log(f"ignoring {path}: it was made under other settings; training from the start")
        return None
    return state


def part_states(parts: dict) -> dict:
    """The state of each part of a run: a module's CPU tensors, a generator's, any other part's state_dict() (an
    optimizer's, a runtime.RandomState's)."""

    def state_of(part):
        if isinstance(part, torch.Generator):
            return part.get_state()
        return cpu_state_dict(part) if isinstance(part, torch.nn.Module) else part.state_dict()

    return {name: state_of(part) for name, part in parts.items()}


def restore_parts(parts: dict, state: dict) -> None:
    for name, part in parts.items():
        if isinstance(part, torch.Generator):
            part.set_state(state[name])
        else:
            part.load_state_dict(state[name])


class ResumableRun:
    """The epochs of one training run: restored from its resume state at the start (if one was made under
    the same settings), and saved to it after an epoch: parts (name to network, optimizer or random
    generator) and the rows so far. A run resumed after epoch k equals one never stopped.

    A state is saved after the first epoch that ends `every_seconds` or more after the last save (or the
    start): at most that much training is lost to a kill, and a fast GPU epoch does not wait for a file of
    some tens of MB each time. 0 saves after every epoch. None is saved after the last epoch, whose outputs
    follow at once.
    """

    def __init__(
        self,
        settings,
        parts: dict,
        resume_path,
        resume_format: ArtifactFormat,
        log,
        every_seconds: float = 0.0,
    ):
        self.settings, self.parts, self.resume_path, self.resume_format = (
            settings,
            parts,
            resume_path,
            resume_format,
        )
        self.every_seconds, self.last_saved = every_seconds, time.monotonic()
        state = load_resume_state(resume_path, resume_format, settings, log)
        if state is not None and not set(parts) <= set(
            state
        ):  # made before a part was asked for (the probes)
            log(
                f"ignoring {resume_path}: it holds no {', '.join(sorted(set(parts) - set(state)))}; training from "
                "the start"
            )
            state = None
        self.history = [] if state is None else state["history"]
        if state is not None:
            restore_parts(parts, state)
            log(f"resuming from {resume_path} after epoch {len(self.history)}")

    @property
    def next_epoch(self) -> int:
        return len(self.history) + 1

    @property
    def finished(self) -> bool:
        return len(self.history) >= self.settings.epochs

    def record(self, row: dict) -> None:
        """The row of the epoch just trained; the resume state follows it when it is due."""
        self.history.append(row)
        due = time.monotonic() - self.last_saved >= self.every_seconds
        if self.resume_path is not None and due and not self.finished:
            save_resume_state(
                self.resume_path,
                self.resume_format,
                self.settings,
                {**part_states(self.parts), "history": self.history},
            )
            self.last_saved = time.monotonic()


def diverged_in(epoch: int, error: NonFiniteLossError) -> NonFiniteLossError:
    return NonFiniteLossError(f"training diverged in epoch {epoch}: {error}")


def train_epochs(
    settings,
    parts: dict,
    one_epoch,
    resume_path,
    resume_format: ArtifactFormat,
    log,
    resume_every_seconds: float = 0.0,
) -> list[dict]:
    """The rows of one_epoch(epoch) for epochs 1 to settings.epochs, resumable (ResumableRun)."""
    run = ResumableRun(settings, parts, resume_path, resume_format, log, resume_every_seconds)
    while not run.finished:
        epoch = run.next_epoch
        try:
            row = one_epoch(epoch)
        except NonFiniteLossError as error:
            raise diverged_in(epoch, error) from None
        run.record(row)
    return run.history
