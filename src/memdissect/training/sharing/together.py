"""A classifier's training job, alone or together with the other training jobs on its device.

Small networks on 32x32 images leave most of a GPU idle, and a GPU running several processes
switches between them rather than running them at once. So training jobs that run on the same
GPU at the same time meet in a room (memdissect.training.sharing.rendezvous), and one process, the room's
leader, trains them all: each model on its own CUDA stream, their steps interleaved, so that
the GPU runs several models' kernels at once. Each job keeps its own inputs, outputs, log,
resume state and outcome, and each model gets the weights it gets when trained alone
(tests/unit/training/sharing/test_together.py). A job that arrives while the leader trains joins at the next epoch;
a job whose leader dies takes over and resumes from the per-epoch resume states. The leader trains only
requests whose files all lie where the plan puts them in its own working directory (planned_here); a job
whose room cannot be used (another user's folder, say) trains alone, with the same results, and says why.
"""

import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from memdissect.data.labels import check_label_table
from memdissect.data.tensors import load_split
from memdissect.io import ArtifactError, DataError, read_parquet, save_torch, write_parquet
from memdissect.study.plan import (
    classifier_log_path,
    classifier_resume_path,
    label_set_path,
    maker_of,
    probe_path_file,
    rule_outputs,
)
from memdissect.study.settings import ClassifierSettings, SettingsError
from memdissect.training.batches import NonFiniteLossError
from memdissect.training.probe_path import probe_indices, save_probe_path
from memdissect.training.runtime import Runtime
from memdissect.training.sharing.private_folders import PrivateFolderError
from memdissect.training.sharing.rendezvous import RequestError, Room, process_alive, room_folder
from memdissect.training.train import (
    ClassifierRun,
    save_classifier,
    test_outputs,
    train_round,
    train_to_end,
    training_images_on,
    with_groups,
)

POLL_SECONDS = 0.5


class TrainingTogetherError(RuntimeError):
    """The process that trained this job's model together with others failed; its log says why."""


@dataclass(frozen=True)
class ClassifierJob:
    """One train_classifier job: the model, its settings, and its files."""

    model: str
    settings: dict
    labels: str  # the label file it trains on
    outputs: dict  # weights, history, test_outputs (and probes, with `probes`)
    resume: str  # the per-epoch resume state
    log: str  # the job's log file
    probes: dict | None = None  # the probe set's {size, seed} (probe_path.probe_indices), or None


@dataclass(frozen=True)
class Options:
    """How every model is trained, never what: CUDA graphs (on a GPU), and the seconds between resume states."""

    cuda_graphs: bool = True
    resume_every_seconds: float = 0.0


@dataclass(frozen=True)
class Sharing:
    """How training jobs share a process: up to `models` per process, on a GPU (and on a CPU with `on_cpu`)."""

    models: int = 4
    on_cpu: bool = False

    def applies_to(self, device: torch.device) -> bool:
        return self.models > 1 and (device.type == "cuda" or self.on_cpu)


class SharedData:
    """The training and test splits of a room, read once and kept on the device for every model trained there."""

    def __init__(self, splits: dict, device: torch.device):
        self.splits = {
            name: load_split(path, made_by=maker_of(path)) for name, path in splits.items()
        }
        self.device = device
        self.on_device = {}

    def images(self, split: str, channels_last: bool) -> torch.Tensor:
        key = (split, channels_last and split == "train")
        if key not in self.on_device:
            runtime = Runtime(self.device, "fp32", channels_last=key[1])
            self.on_device[key] = training_images_on(self.splits[split]["images"], runtime)
        return self.on_device[key]

    def for_run(
        self, labels: torch.Tensor, runtime: Runtime, true_labels: torch.Tensor | None = None
    ) -> dict:
        """The run's data (train.ClassifierRun), with the groups of its labels where some are relabeled."""
        test = self.splits["test"]
        data = {
            "train": (self.images("train", runtime.channels_last), labels.to(self.device)),
            "test": (self.images("test", False), test["labels"].to(self.device)),
        }
        return with_groups(data, true_labels)


def read_labels(job: ClassifierJob, expected_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The label set's assigned and true labels."""
    table = read_parquet(job.labels, made_by=maker_of(job.labels))
    check_label_table(table, expected_length, job.labels, made_by=maker_of(job.labels))
    return tuple(
        torch.from_numpy(table[column].to_numpy().copy()) for column in ("label", "true_label")
    )


def job_probe_indices(job: ClassifierJob, data: SharedData) -> dict | None:
    """The probe set of the study (the same for every model), or None where the job records no probes."""
    if job.probes is None:
        return None
    sizes = {split: len(data.splits[split]["images"]) for split in ("train", "test")}
    return probe_indices(sizes, job.probes["size"], job.probes["seed"])


def start_run(
    job: ClassifierJob, data: SharedData, device: torch.device, options: Options, log, stream=None
) -> ClassifierRun:
    settings = ClassifierSettings.from_dict(job.settings)
    runtime = Runtime.for_device(device, settings.precision, options.cuda_graphs)
    labels, true_labels = read_labels(job, len(data.splits["train"]["images"]))
    return ClassifierRun(
        settings,
        data.for_run(labels, runtime, true_labels),
        runtime,
        Path(job.resume),
        log,
        stream,
        options.resume_every_seconds,
        job_probe_indices(job, data),
    )


def write_outputs(job: ClassifierJob, run: ClassifierRun, data: SharedData) -> None:
    """The final checkpoint, the history and the outputs on the test images; the resume state is then spent."""
    with run.on_stream():
        save_classifier(
            run.model, run.settings, data.splits["train"]["classes"], job.outputs["weights"]
        )
        write_parquet(run.history(), job.outputs["history"])
        save_torch(
            test_outputs(run.model, data.splits["test"], data.device), job.outputs["test_outputs"]
        )
        if job.probes is not None:
            save_probe_path(run.probe_path_file(), job.outputs["probes"])
    Path(job.resume).unlink(missing_ok=True)


def train_alone(
    job: ClassifierJob, splits: dict, device: torch.device, options: Options, log
) -> None:
    data = SharedData(splits, device)
    run = start_run(job, data, device, options, log)
    train_to_end(run)
    write_outputs(job, run, data)


def train_job(
    job: ClassifierJob, splits: dict, device: torch.device, sharing: Sharing, options: Options, log
) -> None:
    """Train the job's model and write its outputs: in this process, or in the process that trains the models
    of every job on this device (which may be this one). Where the room cannot be used, alone, saying why."""
    if not sharing.applies_to(device):
        return train_alone(job, splits, device, options, log)
    try:
        outcome = train_in_room(job, splits, device, sharing, options, log)
    except PrivateFolderError as error:
        logging.getLogger(__name__).warning(
            "training alone, not in one process with the other training jobs "
            "on %s (the same results, only slower): %s",
            device_name(device),
            error,
        )
        return train_alone(job, splits, device, options, log)
    report(outcome, log)


def train_in_room(
    job: ClassifierJob, splits: dict, device: torch.device, sharing: Sharing, options: Options, log
) -> dict:
    """The outcome of the job's request in the room of its device, trained by whichever job leads there."""
    room = Room(room_folder(device_name(device), [splits["train"], splits["test"]]))
    request = room.request(job.model, asdict(job))
    log(
        f"training in one process with the other training jobs on {device_name(device)} (room {room.folder})"
    )
    try:
        while (outcome := room.outcome(request)) is None:
            if room.take_lead():
                try:
                    lead(room, splits, device, sharing, options, log)
                finally:
                    room.step_down()
            else:
                time.sleep(POLL_SECONDS)
    except PrivateFolderError:
        room.withdraw(request)
        raise
    return outcome


def report(outcome: dict, log) -> None:
    """Nothing for a model trained and written; for a failed one, its error, of its own kind where it is one of
    the study's (a diverged run, a bad label file), so that the job ends with the same one-line message."""
    if outcome["status"] == "ok":
        if outcome["trained_by"] != os.getpid():
            log(f"trained by the process of pid {outcome['trained_by']}; outputs written")
        return
    kinds = {kind.__name__: kind for kind in (NonFiniteLossError, DataError, ArtifactError)}
    raise kinds.get(outcome["error"], TrainingTogetherError)(outcome["message"])


def device_name(device: torch.device) -> str:
    """The device as a room knows it: a GPU by its UUID, so that jobs on one GPU meet however they number it."""
    if device.type == "cuda":
        return f"cuda-{torch.cuda.get_device_properties(device).uuid}"
    return device.type


def lead(
    room: Room, splits: dict, device: torch.device, sharing: Sharing, options: Options, log
) -> None:
    """Train the room's requests, taking new ones in between epochs, until none is left."""
    data = SharedData(splits, device)
    training = {}  # request token: (request, job, run)
    while True:
        held = {request["name"] for request, _, _ in training.values()}
        for request in room.claim(sharing.models - len(training), held, check=planned_here):
            job = job_of(request)
            run = start_or_fail(room, request, job, data, device, options, log)
            if run is not None:
                training[request["token"]] = (request, job, run)
                log(
                    f"training {job.model} (job pid {request['pid']}) with {len(training) - 1} other model(s)"
                )
        if not training:
            return
        try:
            train_round([run for _, _, run in training.values()])
        except Exception as error:
            fail_all(room, training, error, log)
            return
        for token, (request, job, run) in list(training.items()):
            if run.done:
                finish(room, request, job, run, data)
                del training[token]
            elif not process_alive(request["pid"]):
                log(f"{job.model}: its job (pid {request['pid']}) has ended; no longer training it")
                room.drop(request)
                del training[token]


def job_of(request: dict) -> ClassifierJob:
    return ClassifierJob(**{key: request[key] for key in ClassifierJob.__dataclass_fields__})


def planned_job(
    model: str, settings: dict, label_set: str, working_dir: Path, probes: dict | None = None
) -> ClassifierJob:
    """The train_classifier job of `model` with its files where the plan puts them in this working directory,
    resolved as train_classifier.py resolves them; with probes, its probe path file too."""

    def where(path: str) -> str:
        return str((working_dir / path).resolve())

    outputs = {
        name: where(path) for name, path in rule_outputs("train_classifier", model=model).items()
    }
    if probes is not None:
        outputs["probes"] = where(probe_path_file(model))
    return ClassifierJob(
        model=model,
        settings=settings,
        labels=where(label_set_path(label_set)),
        outputs=outputs,
        resume=where(classifier_resume_path(model)),
        log=where(classifier_log_path(model)),
        probes=probes,
    )


def planned_here(request: dict) -> None:
    """RequestError unless the request is a training job of this working directory's workflow: its settings are
    a classifier's, and every file it names (labels, outputs, resume state, log) is where the plan puts it."""
    working_dir = Path.cwd()
    try:
        job = job_of(request)
        ClassifierSettings.from_dict(job.settings)
        planned = planned_job(
            job.model, job.settings, Path(job.labels).stem, working_dir, job.probes
        )
    except (KeyError, TypeError, AttributeError, SettingsError) as error:
        raise RequestError(
            f"it is no training job's request ({type(error).__name__}: {error})"
        ) from None
    misplaced = [
        name
        for name in ("labels", "outputs", "resume", "log")
        if getattr(job, name) != getattr(planned, name)
    ]
    if misplaced:
        raise RequestError(
            f"its {', '.join(misplaced)} are not where the plan puts the files of {job.model} in "
            f"the working directory {working_dir}"
        )


def start_or_fail(
    room: Room, request: dict, job: ClassifierJob, data: SharedData, device, options: Options, log
):
    """The job's run, logging to the job's own log; or None where it cannot start (a bad label file, say), and
    the job fails with the reason (this job raises it)."""
    own = request["pid"] == os.getpid()
    stream = torch.cuda.Stream(device) if device.type == "cuda" else None
    try:
        return start_run(job, data, device, options, log if own else append_to(job.log), stream)
    except Exception as error:
        room.finish(
            request, {"status": "failed", "error": type(error).__name__, "message": str(error)}
        )
        if own:
            raise
        log(f"{job.model} cannot start: {type(error).__name__}: {error}")
        return None


def finish(
    room: Room, request: dict, job: ClassifierJob, run: ClassifierRun, data: SharedData
) -> None:
    if run.error is not None:
        room.finish(
            request,
            {"status": "failed", "error": type(run.error).__name__, "message": str(run.error)},
        )
    elif process_alive(request["pid"]):
        write_outputs(job, run, data)
        room.finish(request, {"status": "ok", "trained_by": os.getpid()})


def fail_all(room: Room, training: dict, error: Exception, log) -> None:
    """Every model of the round failed with the process's error: each waiting job fails naming it; this job
    fails with the traceback where its own model was among them."""
    logging.getLogger(__name__).exception("training together failed")
    message = (
        f"the process of pid {os.getpid()}, which trained this model together with others, failed: "
        f"{type(error).__name__}: {error}"
    )
    own = False
    for request, _, _ in training.values():
        room.finish(
            request, {"status": "failed", "error": type(error).__name__, "message": message}
        )
        own = own or request["pid"] == os.getpid()
    log(message)
    if own:
        raise error


def append_to(path):
    """A log function that appends lines to another job's log file, in the format of the jobs' own logs."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")

    def log(message: str) -> None:
        record = logging.LogRecord("train_classifier", logging.INFO, "", 0, message, None, None)
        with open(path, "a") as handle:
            handle.write(formatter.format(record) + "\n")

    return log
