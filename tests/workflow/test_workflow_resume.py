"""Training in the workflow, killed and rerun: the resumed run ends with the uninterrupted run's bytes;
a diverging run leaves no output that looks finished."""

import os
import signal
import subprocess
import time

import pytest
import yaml
from workflow_runs import (
    REPO,
    RESUMED_MODEL,
    SNAKEMAKE,
    assert_same_history,
    long_training,
    same_bytes,
    snakemake,
    write_config,
)

pytestmark = pytest.mark.workflow


def wait_for_epoch(log_path, epoch, process, timeout=600):
    """Block until the training log reports `epoch`, or fail if the run ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_path.exists() and f"epoch {epoch}/" in log_path.read_text():
            return
        if process.poll() is not None:
            raise AssertionError(
                f"the run ended before epoch {epoch}:\n{process.stdout.read()[-3000:]}"
            )
        time.sleep(0.05)
    raise AssertionError(f"epoch {epoch} not reached within {timeout} s")


def start_snakemake(workdir, config_path, *arguments):
    command = [
        *SNAKEMAKE,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config_path),
        "--replace-workflow-config",
        *arguments,
    ]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def kill_without_warning(process, workdir, config_path):
    """SIGKILL Snakemake and its job, then clear the lock it could not release, as a user would with --unlock."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    snakemake(workdir, "--unlock", config_path=config_path)


def check_resumed_to_the_uninterrupted_result(workdir, reference_dir):
    log = (workdir / f"logs/train_classifier/{RESUMED_MODEL}.log").read_text()
    assert "resuming from" in log, log
    assert same_bytes(
        workdir / f"results/models/{RESUMED_MODEL}/weights.pt",
        reference_dir / f"results/models/{RESUMED_MODEL}/weights.pt",
    )
    assert_same_history(
        workdir / f"results/models/{RESUMED_MODEL}/history.parquet",
        reference_dir / f"results/models/{RESUMED_MODEL}/history.parquet",
    )
    assert not (
        workdir / f"results/resume/models/{RESUMED_MODEL}.pt"
    ).exists()  # removed once the outputs exist


@pytest.fixture
def resume_workdir(tmp_path):
    return tmp_path, write_config(tmp_path, long_training())


def test_sigkill_mid_training_then_rerun_gives_the_uninterrupted_result(
    resume_workdir, long_training_run
):
    workdir, config_path = resume_workdir
    target = f"results/models/{RESUMED_MODEL}/weights.pt"
    process = start_snakemake(workdir, config_path, "--cores", "1", target)
    wait_for_epoch(workdir / f"logs/train_classifier/{RESUMED_MODEL}.log", 4, process)
    kill_without_warning(process, workdir, config_path)
    assert not (workdir / target).exists()
    assert (workdir / f"results/resume/models/{RESUMED_MODEL}.pt").exists()
    snakemake(workdir, "--cores", "1", "--rerun-incomplete", target, config_path=config_path)
    check_resumed_to_the_uninterrupted_result(workdir, long_training_run)


def test_resume_checkpoint_from_other_settings_is_not_used(resume_workdir, long_training_run):
    """A checkpoint left by a run under other settings is ignored, and training starts over."""
    workdir, config_path = resume_workdir
    target = f"results/models/{RESUMED_MODEL}/weights.pt"
    config = yaml.safe_load(config_path.read_text())
    config["overrides"] = {RESUMED_MODEL: {"lr": 0.02}}
    (workdir / "other").mkdir()
    other = write_config(workdir / "other", config)
    process = start_snakemake(workdir, other, "--cores", "1", target)
    wait_for_epoch(workdir / f"logs/train_classifier/{RESUMED_MODEL}.log", 2, process)
    kill_without_warning(process, workdir, other)
    snakemake(workdir, "--cores", "1", "--rerun-incomplete", target, config_path=config_path)
    log = (workdir / f"logs/train_classifier/{RESUMED_MODEL}.log").read_text()
    assert "made under other settings" in log and "resuming from" not in log
    assert same_bytes(workdir / target, long_training_run / target)


def test_diverging_model_leaves_no_finished_looking_output(tmp_path):
    config = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    config["overrides"] = {"true_labels-vgg11-s1": {"lr": 1.0e12}}
    target = "results/models/true_labels-vgg11-s1/weights.pt"
    result = snakemake(
        tmp_path, "--cores", "1", target, config_path=write_config(tmp_path, config), check=False
    )
    assert result.returncode != 0
    assert "NonFiniteLossError" in result.stdout and "epoch" in result.stdout
    assert not (tmp_path / target).exists()
    assert not (tmp_path / "results/models/true_labels-vgg11-s1/history.parquet").exists()
