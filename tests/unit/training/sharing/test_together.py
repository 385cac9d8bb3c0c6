"""Training jobs that meet on one device train in one process: each job's files are those it writes alone.

Each job here is a process of its own, as under Snakemake, started at the same moment; sharing is
switched on for the CPU (Sharing(on_cpu=True)), the one device the tests have, so every line of
memdissect.training.sharing.together runs but the CUDA streams.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest
import torch
from other_user import (
    OTHER_UID,
    file_as_other_user,
    make_folders_as_other_user,
    needs_root,
    place_of_room,
    top_of,
)
from workflow_runs import REPO, WALL_CLOCK_COLUMNS

from memdissect.data.labels import corrupt_labels
from memdissect.data.synthetic import make_synthetic_dataset
from memdissect.data.tensors import save_split
from memdissect.io import load_torch, write_parquet
from memdissect.study import plan
from memdissect.training.sharing.rendezvous import Room, room_folder
from memdissect.training.sharing.together import ClassifierJob, Sharing

SETTINGS = {"arch": "vgg11", "width": 0.125, "epochs": 6, "batch_size": 32, "precision": "fp32"}
JOB = """
import json, logging, os, sys, time
sys.path[:0] = [{source!r}, {tests!r}]  # tests/: the networks of tests/networks.py
import torch
torch.set_num_threads(1)
from memdissect.training.sharing.together import ClassifierJob, Options, Sharing, train_job
job = ClassifierJob(**json.loads({job!r}))
logging.basicConfig(filename=job.log, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
log = logging.getLogger("train_classifier").info  # as workflow/scripts/job.py logs
open({ready!r} + "/" + job.model, "w").close()  # every job in the room within milliseconds of the others,
deadline = time.time() + 120  # however long a loaded machine takes to import torch
while len(os.listdir({ready!r})) < {count} and time.time() < deadline:
    time.sleep(0.01)
train_job(job, {splits!r}, torch.device("cpu"), Sharing(models={models}, on_cpu=True),
          Options(cuda_graphs=False), log)
"""


@pytest.fixture(autouse=True)
def private_temp(node_temp):
    """Rooms in a temporary folder of the test's own."""
    return node_temp


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Splits and two label sets on disk, as the workflow leaves them."""
    folder = tmp_path_factory.mktemp("together")
    data = make_synthetic_dataset(128, 32, seed=0)
    for split in ("train", "test"):
        save_split(data[split], folder / f"{split}.pt")
    for noise in (0.0, 1.0):
        write_parquet(
            corrupt_labels(data["train"]["labels"].numpy(), noise, 10, seed=0),
            folder / f"noise{noise:g}.parquet",
        )
    return folder


def make_job(study: Path, workdir: Path, model: str, noise: float, **settings) -> ClassifierJob:
    """A training job of a workflow run in `workdir`, its files where the plan puts them (the label file copied
    there), as workflow/scripts/train_classifier.py describes it."""
    workdir = workdir.resolve()
    labels = workdir / plan.label_set_path(f"noise{noise:g}-seed0")
    labels.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(study / f"noise{noise:g}.parquet", labels)
    (workdir / plan.classifier_log_path(model)).parent.mkdir(parents=True, exist_ok=True)
    return ClassifierJob(
        model=model,
        settings={**SETTINGS, **settings},
        labels=str(labels),
        outputs={
            name: str(workdir / path)
            for name, path in plan.rule_outputs("train_classifier", model=model).items()
        },
        resume=str(workdir / plan.classifier_resume_path(model)),
        log=str(workdir / plan.classifier_log_path(model)),
    )


def splits_of(study: Path) -> dict:
    return {"train": str(study / "train.pt"), "test": str(study / "test.pt")}


def start_jobs(study: Path, workdir: Path, jobs: list[ClassifierJob], models: int = 4) -> list:
    """The jobs, each a process of its own in the working directory, as Snakemake starts them."""
    import json

    ready = tempfile.mkdtemp(dir=workdir.parent, prefix="ready-")
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                JOB.format(
                    source=str(REPO / "src"),
                    tests=str(REPO / "tests"),
                    job=json.dumps(asdict(job)),
                    ready=ready,
                    count=len(jobs),
                    splits=splits_of(study),
                    models=models,
                ),
            ],
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for job in jobs
    ]


def alone(study: Path, workdir: Path, *jobs: ClassifierJob) -> list[ClassifierJob]:
    """The same jobs, each trained alone in a working directory (so a room) of its own under `workdir`, in a
    process of its own as above (one CPU thread), all at once."""
    singles = [
        make_job(
            study,
            workdir / job.model,
            job.model,
            0.0 if "noise0-" in job.labels else 1.0,
            **job.settings,
        )
        for job in jobs
    ]
    processes = [
        start_jobs(study, workdir / single.model, [single], models=1)[0] for single in singles
    ]
    for code, stderr in finish(processes):
        assert code == 0, stderr
    return singles


def assert_same_files(job: ClassifierJob, reference: ClassifierJob):
    assert (
        Path(job.outputs["weights"]).read_bytes() == Path(reference.outputs["weights"]).read_bytes()
    )
    assert (
        Path(job.outputs["test_outputs"]).read_bytes()
        == Path(reference.outputs["test_outputs"]).read_bytes()
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(job.outputs["history"]).drop(columns=WALL_CLOCK_COLUMNS),
        pd.read_parquet(reference.outputs["history"]).drop(columns=WALL_CLOCK_COLUMNS),
    )
    assert not Path(job.resume).exists()


def finish(processes, timeout=300) -> list:
    return [(process.wait(timeout=timeout), process.stderr.read()) for process in processes]


def test_jobs_on_one_device_train_in_one_process_and_write_what_they_write_alone(study, tmp_path):
    shared = tmp_path / "shared"
    jobs = [
        make_job(study, shared, "true-vgg11-s1", 0.0),
        make_job(study, shared, "random-vgg11-s2", 1.0, seed=2, augment=True),
        make_job(study, shared, "true-vgg11-s3", 0.0, seed=3, batch_size=48, epochs=4),
    ]
    assert [code for code, _ in finish(start_jobs(study, shared, jobs))] == [0, 0, 0]
    logs = [Path(job.log).read_text() for job in jobs]
    followers = [log for log in logs if "trained by the process of pid" in log]
    assert len(followers) == 2, logs  # one process trained all three
    for log, job in zip(logs, jobs):
        epochs = job.settings["epochs"]
        assert (
            f"epoch {epochs}/{epochs} " in log
        )  # each job's log holds its own epochs, whoever trained it
        assert "WARNING" not in log
    for job, reference in zip(jobs, alone(study, tmp_path / "alone", *jobs)):
        assert_same_files(job, reference)


def test_a_network_that_draws_random_numbers_writes_what_it_writes_alone(study, tmp_path):
    """Dropout draws from the run's own random state: a second job's start does not reseed it, and their steps
    side by side do not draw from each other's."""
    dropout = {"arch": "networks:dropout_mlp", "width": 1.0, "epochs": 3}  # tests/networks.py
    shared = tmp_path / "shared"
    jobs = [
        make_job(study, shared, "true-dropout-s1", 0.0, **dropout),
        make_job(study, shared, "random-dropout-s2", 1.0, seed=2, **dropout),
    ]
    assert [code for code, _ in finish(start_jobs(study, shared, jobs))] == [0, 0]
    assert sum("trained by the process of pid" in Path(job.log).read_text() for job in jobs) == 1
    for job, reference in zip(jobs, alone(study, tmp_path / "alone", *jobs)):
        assert_same_files(job, reference)


def test_a_job_whose_leader_is_killed_takes_over_and_resumes(study, tmp_path):
    shared = tmp_path / "shared"
    jobs = [
        make_job(study, shared, "true-vgg11-s1", 0.0, epochs=40),
        make_job(study, shared, "random-vgg11-s2", 1.0, seed=2, epochs=40),
    ]
    processes = start_jobs(study, shared, jobs)

    def logs():
        return [Path(job.log).read_text() if Path(job.log).exists() else "" for job in jobs]

    deadline = time.time() + 120
    while not all("epoch 3/40" in log for log in logs()):  # both trained by one process by now
        assert time.time() < deadline, logs()
        time.sleep(0.05)
    leader = next(index for index, log in enumerate(logs()) if "other model(s)" in log)
    os.kill(processes[leader].pid, signal.SIGKILL)
    follower = 1 - leader
    code, stderr = processes[follower].wait(timeout=300), processes[follower].stderr.read()
    assert code == 0, stderr
    log = Path(jobs[follower].log).read_text()
    assert "resuming from" in log and "epoch 40/40" in log
    assert not Path(
        jobs[leader].outputs["weights"]
    ).exists()  # nothing is written for a job that died
    assert_same_files(jobs[follower], *alone(study, tmp_path / "alone", jobs[follower]))


def test_a_diverging_model_fails_its_own_job_only(study, tmp_path):
    shared = tmp_path / "shared"
    jobs = [
        make_job(study, shared, "healthy-vgg11-s1", 0.0),
        make_job(study, shared, "diverging-vgg11-s2", 1.0, seed=2, lr=1e12, batch_size=16),
    ]
    (healthy, _), (diverging, stderr) = finish(start_jobs(study, shared, jobs))
    assert healthy == 0 and diverging == 1
    assert "NonFiniteLossError: training diverged in epoch" in stderr.splitlines()[-1]
    assert not Path(jobs[1].outputs["weights"]).exists()
    assert_same_files(jobs[0], *alone(study, tmp_path / "alone", jobs[0]))


def test_a_bad_label_file_fails_its_own_job_only(study, tmp_path):
    shared = tmp_path / "shared"
    jobs = [
        make_job(study, shared, "healthy-vgg11-s1", 0.0),
        make_job(study, shared, "bad-vgg11-s2", 1.0),
    ]
    bad_labels = shared.resolve() / plan.label_set_path(
        "noise1-seed9"
    )  # where the plan puts label sets
    pd.read_parquet(jobs[1].labels).head(10).to_parquet(bad_labels)
    jobs[1] = ClassifierJob(**{**jobs[1].__dict__, "labels": str(bad_labels)})
    (healthy, _), (bad, stderr) = finish(start_jobs(study, shared, jobs))
    assert healthy == 0 and bad == 1
    assert "DataError: label file" in stderr and "has 10 rows but the data set has 128" in stderr


def test_a_room_trains_no_more_models_at_once_than_it_may(study, tmp_path):
    shared = tmp_path / "shared"
    jobs = [
        make_job(study, shared, f"true-vgg11-s{seed}", 0.0, seed=seed, epochs=3)
        for seed in (1, 2, 3)
    ]
    assert [code for code, _ in finish(start_jobs(study, shared, jobs, models=2))] == [0, 0, 0]
    leading = "\n".join(Path(job.log).read_text() for job in jobs)
    assert "with 2 other model(s)" not in leading  # never three at once
    for job in jobs:
        assert load_torch(job.outputs["weights"])["settings"]["seed"] == job.settings["seed"]


# ----------------------------------------------------------------------------- what another user can do


def warnings_of(job: ClassifierJob) -> list[str]:
    return [line for line in Path(job.log).read_text().splitlines() if " WARNING " in line]


def break_room(kind: str, data: list, node_temp: Path, monkeypatch) -> Path:
    """What another user (or an accident) leaves at the place of the room of jobs on these data; that place."""
    room_place = place_of_room(node_temp, data, monkeypatch)
    if kind == "another user's folder":
        make_folders_as_other_user(room_place)
    elif kind == "a file":
        file_as_other_user(top_of(room_place, node_temp))
    else:  # a lock file that cannot be opened, in a room of the job's own
        Room(room_folder("cpu", data)).folder.joinpath("leader.lock").mkdir()
    return room_place


@pytest.mark.parametrize(
    "kind, reason",
    [
        (
            "another user's folder",
            f"belongs to another user (owner nobody, uid {OTHER_UID}, mode 0777)",
        ),
        ("a file", f"is not a folder (owner nobody, uid {OTHER_UID}, mode 0644)"),
        (
            "a lock that cannot be opened",
            "leader.lock (owner root, uid 0, mode 0755): Is a directory; remove it",
        ),
    ],
)
@needs_root
def test_a_room_that_cannot_be_used_leaves_the_job_training_alone_saying_why(
    study, tmp_path, node_temp, monkeypatch, kind, reason
):
    shared = tmp_path / "shared"
    job = make_job(study, shared, "true-vgg11-s1", 0.0, epochs=2)
    monkeypatch.chdir(shared)
    room_place = break_room(kind, [study / "train.pt", study / "test.pt"], node_temp, monkeypatch)
    ((code, stderr),) = finish(start_jobs(study, shared, [job]))
    assert (
        code == 0 and "Traceback" not in stderr and "Traceback" not in Path(job.log).read_text()
    ), stderr
    (warning,) = warnings_of(job)
    assert (
        "WARNING training alone, not in one process with the other training jobs on cpu (the same results, only "
        "slower): "
        in warning
        and reason in warning
    )
    assert Path(job.outputs["weights"]).exists() and "epoch 2/2 " in Path(job.log).read_text()
    if kind == "another user's folder":
        assert list(room_place.iterdir()) == []  # nothing of the job's is to be seen there


@pytest.mark.parametrize("injected", ["outside the working directory", "another user's"])
def test_a_request_the_leader_must_not_trust_is_not_trained(study, tmp_path, monkeypatch, injected):
    """A request of the job's own user that names files outside its working directory, and one of another user's
    that names this working directory's own files, dropped into the room as a job trains there."""
    if injected == "another user's" and os.geteuid() != 0:
        pytest.skip("acting as another user needs root")
    shared = tmp_path / "shared"
    job = make_job(study, shared, "true-vgg11-s1", 0.0, epochs=2)
    intruder = make_job(
        study,
        tmp_path / "elsewhere" if injected.startswith("outside") else shared,
        "injected-vgg11-s9",
        0.0,
        epochs=2,
    )
    monkeypatch.chdir(shared)
    room = Room(room_folder("cpu", [study / "train.pt", study / "test.pt"]))
    request = room.request(intruder.model, asdict(intruder))  # as if from a job of this process's
    if injected == "another user's":
        os.chown(room.path("pending", intruder.model), OTHER_UID, OTHER_UID)
    ((code, stderr),) = finish(start_jobs(study, shared, [job]))
    assert code == 0, stderr
    assert Path(job.outputs["weights"]).exists()
    assert not any(
        Path(path).exists() for path in (*intruder.outputs.values(), intruder.log, intruder.resume)
    )
    (warning,) = warnings_of(job)
    assert f"pending/{intruder.model}.json" in warning
    if injected == "another user's":
        assert (
            f"which is no request of this user's: it belongs to user nobody (uid {OTHER_UID})"
            in warning
        )
        assert room.outcome(request) is None
    else:
        assert (
            "its labels, outputs, resume, log are not where the plan puts the files of injected-vgg11-s9"
            in warning
        )
        assert room.outcome(request)["status"] == "failed"


def test_sharing_applies_on_a_gpu_and_on_a_cpu_only_when_asked():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert Sharing().applies_to(cuda) and not Sharing().applies_to(cpu)
    assert Sharing(on_cpu=True).applies_to(cpu) and not Sharing(models=1).applies_to(cuda)
