"""The workflow through snakemake-executor-plugin-slurm on a real single-node SLURM cluster,
started as the users start it: `snakemake --profile slurm`.

tests/slurm/local-cluster.sh starts the cluster (root and Debian's packages needed). Where it
cannot, these tests are skipped, unless MEMDISSECT_REQUIRE_SLURM=1 (as in CI) makes that a
failure. The profile named `slurm` is a site profile of executor, jobs, partition and account
(and a status check after 5 s) only (tests/slurm/site, found through XDG_CONFIG_HOME): every GPU
request must come from the workflow's own rules.
"""

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_workflow_resume import check_resumed_to_the_uninterrupted_result, wait_for_epoch
from workflow_runs import REPO, RESUMED_MODEL, TINY, assert_same_history, long_training, same_bytes

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]
CLUSTER = REPO / "tests" / "slurm" / "local-cluster.sh"
SITE_CONFIG_HOME = REPO / "tests" / "slurm" / "site"
SNAKEMAKE_COMMAND = str(Path(sys.executable).with_name("snakemake"))
GPU_RULES = (
    "train_classifier",
    "train_gan",
    "synthesize_patterns",
    "evaluate_on_patterns",
    "evaluate_lookup_tables",
)


def unavailable(reason):
    if os.environ.get("MEMDISSECT_REQUIRE_SLURM") == "1":
        pytest.fail(f"the SLURM tests must run here (MEMDISSECT_REQUIRE_SLURM=1), but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def local_cluster():
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        unavailable("the local SLURM cluster needs root on a Debian machine")
    started = subprocess.run(
        [str(CLUSTER), "start"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )
    if started.returncode != 0:
        unavailable(f"tests/slurm/local-cluster.sh start failed:\n{started.stdout[-3000:]}")
    yield


def clone_of_this_checkout(destination: Path) -> Path:
    """The checkout's files as a user's clone holds them (tracked and new, not ignored)."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=REPO,
            check=True,
            stdout=subprocess.PIPE,
        )
        .stdout.decode()
        .split("\0")
    )
    for relative in filter(None, listed):
        if (REPO / relative).is_file():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / relative, destination / relative)
    return destination


def study_folder(destination: Path, config: dict) -> Path:
    """A clone whose config/config.yaml is `config`: there, plain `snakemake` runs that study."""
    clone_of_this_checkout(destination)
    (destination / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return destination


def snakemake_as_typed(workdir: Path, *arguments, timeout=3600, check=True, popen=False):
    """`snakemake --profile slurm ...` in workdir, with the site profile as the user's `slurm` profile."""
    command = [SNAKEMAKE_COMMAND, "--profile", "slurm", *arguments]
    environment = {**os.environ, "XDG_CONFIG_HOME": str(SITE_CONFIG_HOME), "PYTHONUNBUFFERED": "1"}
    if popen:
        return subprocess.Popen(
            command,
            cwd=workdir,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    result = subprocess.run(
        command,
        cwd=workdir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake --profile slurm {' '.join(arguments)} failed:\n{result.stdout[-6000:]}"
        )
    return result


def on_cpu(config: dict) -> dict:
    """The fake GPUs have no CUDA behind them: compute on the CPU (the GPU requests stay)."""
    return {**config, "device": "cpu"}


@pytest.fixture(scope="session")
def slurm_tiny_run(local_cluster, tmp_path_factory):
    """The tiny study (every rule, conftest.tiny_run's config) run as `snakemake --profile slurm` in a clone."""
    workdir = study_folder(tmp_path_factory.mktemp("slurm-tiny"), on_cpu(copy.deepcopy(TINY)))
    return workdir, snakemake_as_typed(workdir).stdout


def gpu_requests_planned(dry_run_output: str) -> dict:
    """{rule: [the resources line of each of its jobs]} from `snakemake -n --verbose`."""
    planned = {}
    for block in re.split(r"\n(?=\[.*\d{4}\]\n)", dry_run_output):
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.MULTILINE)
        resources = re.search(r"^\s+resources: (.*)$", block, re.MULTILINE)
        if rule and resources:
            planned.setdefault(rule.group(1), []).append(resources.group(1))
    return planned


def assert_gpu_on_exactly_the_gpu_rules(planned: dict) -> None:
    assert set(GPU_RULES) <= set(planned), f"no job planned for {set(GPU_RULES) - set(planned)}"
    for rule, lines in planned.items():
        for line in lines:
            has_gpu = re.search(r"\bgpu=1\b", line) is not None
            assert has_gpu == (rule in GPU_RULES), f"{rule}: {line}"


def test_every_job_but_the_local_rules_ran_as_a_slurm_job(slurm_tiny_run):
    workdir, output = slurm_tiny_run
    submitted = re.findall(
        r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)", output
    )
    logs = [log for _, log in submitted]
    for rule in GPU_RULES:
        assert any(f"/rule_{rule}/" in log for log in logs), f"no {rule} job went to SLURM"
    local_rules = (
        "prepare_dataset",
        "make_labels",
        "dist_tables",
        "figure1",
        "figure2",
        "figure3",
        "figure4",
        "figure5",
    )
    assert not any(f"/rule_{rule}/" in log for rule in local_rules for log in logs), (
        "a local rule was submitted"
    )
    jobs_run = len(list((workdir / "logs" / "train_classifier").glob("*.log")))
    assert sum("/rule_train_classifier/" in log for log in logs) == jobs_run
    for job_id, log in submitted:  # each job's SLURM log is named by its job id (a site profile
        assert log.endswith(f"/{job_id}.log")  # need not keep those of successful jobs)


def test_gpu_rules_got_a_gpu_allocation(slurm_tiny_run):
    workdir, _ = slurm_tiny_run
    for rule in GPU_RULES:  # one log per job under logs/<rule>/, or the one job's logs/<rule>.log
        for log in [
            *(workdir / "logs" / rule).rglob("*.log"),
            *(workdir / "logs").glob(f"{rule}.log"),
        ]:
            text = log.read_text()
            assert re.search(r"CUDA_VISIBLE_DEVICES=\d+, SLURM_JOB_ID=\d+", text), (
                f"{log}: no GPU allocation seen"
            )


def test_outputs_equal_those_of_the_local_run(slurm_tiny_run, tiny_run):
    workdir, local = slurm_tiny_run[0], tiny_run
    byte_equal = [
        *local.glob("results/models/*/weights.pt"),
        *local.glob("results/labels/*.parquet"),
        *local.glob("results/patterns/*.pt"),
        local / "results/dist/evaluations.parquet",
        local / "results/gan/dcgan.pt",
        local / "results/data/train.pt",
    ]
    assert (
        len(byte_equal) == 4 + 2 + 3 + 3
    )  # 4 models, 2 label sets, 3 f1, the tables, the DCGAN, the data
    for path in byte_equal:
        assert same_bytes(path, workdir / path.relative_to(local)), (
            f"{path.relative_to(local)} differs"
        )
    for path in local.glob("results/models/*/history.parquet"):
        assert_same_history(path, workdir / path.relative_to(local))
    pd.testing.assert_frame_equal(
        pd.read_parquet(local / "results/dist/dist_summary.parquet"),
        pd.read_parquet(workdir / "results/dist/dist_summary.parquet"),
        check_exact=True,
    )


def test_paper_config_plans_gpu_requests_on_exactly_the_gpu_rules(local_cluster, tmp_path):
    workdir = study_folder(tmp_path, yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    output = snakemake_as_typed(workdir, "-n", "--verbose").stdout
    planned = gpu_requests_planned(output)
    assert_gpu_on_exactly_the_gpu_rules(planned)
    for line in planned[
        "train_classifier"
    ]:  # 100 epochs of 50,000 images: the wall time follows the scale
        assert (
            re.search(r"\bruntime=(\d+)\b", line)
            and int(re.search(r"\bruntime=(\d+)\b", line).group(1)) >= 30
        )


def test_an_overlay_changing_one_runtime_keeps_every_gpu_request(local_cluster, tmp_path):
    workdir = study_folder(
        tmp_path / "study", yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    )
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "config.yaml").write_text("set-resources:\n  train_classifier:\n    runtime: 480\n")
    output = snakemake_as_typed(workdir, "--profile", str(overlay), "-n", "--verbose").stdout
    planned = gpu_requests_planned(output)
    assert_gpu_on_exactly_the_gpu_rules(planned)
    assert all(re.search(r"\bruntime=480\b", line) for line in planned["train_classifier"])
    assert not any(re.search(r"\bruntime=480\b", line) for line in planned["train_gan"])


def test_scancel_mid_training_then_retry_gives_the_uninterrupted_result(
    local_cluster, long_training_run, tmp_path
):
    workdir = study_folder(tmp_path, on_cpu(long_training()))
    log_path = workdir / f"logs/train_classifier/{RESUMED_MODEL}.log"
    process = snakemake_as_typed(
        workdir, "--retries", "1", f"results/models/{RESUMED_MODEL}/weights.pt", popen=True
    )
    wait_for_epoch(log_path, 4, process)
    job_id = re.search(r"SLURM_JOB_ID=(\d+)", log_path.read_text()).group(1)
    subprocess.run(["scancel", job_id], check=True)  # as preemption would; the retry resubmits
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output[-3000:]
    assert re.search(rf"SLURM_JOB_ID=(?!{job_id}\b)\d+", log_path.read_text()), (
        "the retry ran in the same job?"
    )
    check_resumed_to_the_uninterrupted_result(workdir, long_training_run)
