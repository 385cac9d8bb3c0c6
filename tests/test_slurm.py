"""The demo through snakemake-executor-plugin-slurm on a real single-node SLURM cluster.

tests/slurm/local-cluster.sh starts the cluster (root and Debian's packages needed). Where it
cannot, these tests are skipped, unless MEMDISSECT_REQUIRE_SLURM=1 (as in CI) makes that a
failure.
"""

import os
import re
import shutil
import subprocess

import pandas as pd
import pytest
import yaml

from test_resume import MODEL, check_resumed_to_the_uninterrupted_result, start_snakemake, wait_for_epoch
from workflow_runs import REPO, assert_same_history, same_bytes, snakemake, write_config

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]
CLUSTER = REPO / "tests" / "slurm" / "local-cluster.sh"
PROFILES = ["--profile", str(REPO / "profiles" / "slurm"), "--profile", str(REPO / "tests" / "slurm" / "profile")]
GPU_RULES = ("train_classifier", "train_gan", "synthesize_patterns", "evaluate_on_patterns")


def unavailable(reason):
    if os.environ.get("MEMDISSECT_REQUIRE_SLURM") == "1":
        pytest.fail(f"the SLURM tests must run here (MEMDISSECT_REQUIRE_SLURM=1), but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def local_cluster():
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        unavailable("the local SLURM cluster needs root on a Debian machine")
    started = subprocess.run([str(CLUSTER), "start"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=900)
    if started.returncode != 0:
        unavailable(f"tests/slurm/local-cluster.sh start failed:\n{started.stdout[-3000:]}")
    yield


@pytest.fixture(scope="session")
def slurm_demo_run(local_cluster, demo_run, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm-demo")
    config_path = write_config(workdir, yaml.safe_load(demo_run[1].read_text()))
    result = snakemake(workdir, *PROFILES, config_path=config_path, timeout=3600)
    return workdir, result.stdout


def test_every_job_but_the_local_rules_ran_as_a_slurm_job(slurm_demo_run):
    workdir, output = slurm_demo_run
    submitted = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)", output)
    logs = [log for _, log in submitted]
    for rule in GPU_RULES:
        assert any(f"/rule_{rule}/" in log for log in logs), f"no {rule} job went to SLURM"
    local_rules = ("prepare_dataset", "make_labels", "dist_tables", "figure1", "figure2", "figure3", "figure4", "figure5")
    assert not any(f"/rule_{rule}/" in log for rule in local_rules for log in logs), "a local rule was submitted"
    jobs_run = len(list((workdir / "logs" / "train_classifier").glob("*.log")))
    assert sum("/rule_train_classifier/" in log for log in logs) == jobs_run
    for job_id, log in submitted:  # the plugin keeps each job's SLURM log, named by its job id
        assert log.endswith(f"/{job_id}.log") and os.path.exists(log)


def test_gpu_rules_got_a_gpu_allocation(slurm_demo_run):
    workdir, _ = slurm_demo_run
    for rule in GPU_RULES:
        for log in (workdir / "logs" / rule).rglob("*.log"):
            text = log.read_text()
            assert re.search(r"CUDA_VISIBLE_DEVICES=\d+, SLURM_JOB_ID=\d+", text), f"{log}: no GPU allocation seen"


def test_outputs_equal_those_of_the_local_run(slurm_demo_run, demo_run):
    workdir, local = slurm_demo_run[0], demo_run[0]
    byte_equal = [*local.glob("results/models/*/weights.pt"), *local.glob("results/labels/*.parquet"),
                  *local.glob("results/patterns/*.pt"), *local.glob("results/dist/by_f2/*.parquet"),
                  local / "results/gan/dcgan.pt", local / "results/data/train.pt"]
    assert len(byte_equal) > 20
    for path in byte_equal:
        assert same_bytes(path, workdir / path.relative_to(local)), f"{path.relative_to(local)} differs"
    for path in local.glob("results/models/*/history.parquet"):
        assert_same_history(path, workdir / path.relative_to(local))
    pd.testing.assert_frame_equal(pd.read_parquet(local / "results/dist/dist_summary.parquet"),
                                  pd.read_parquet(workdir / "results/dist/dist_summary.parquet"), check_exact=True)


def test_paper_config_plans_gpu_requests_on_exactly_the_gpu_rules(local_cluster, tmp_path):
    output = snakemake(tmp_path, *PROFILES, "-n", "--verbose", config_path=REPO / "config" / "config.yaml").stdout
    for block in re.split(r"\n(?=\[.*\d{4}\]\n)", output):
        rule = re.search(r"^(local)?rule (\w+):", block, re.MULTILINE)
        resources = re.search(r"^\s+resources: (.*)$", block, re.MULTILINE)
        if not rule or not resources:
            continue
        has_gpu = re.search(r"\bgpu=1\b", resources.group(1)) is not None
        assert has_gpu == (rule.group(2) in GPU_RULES), f"{rule.group(2)}: {resources.group(1)}"


def test_scancel_mid_training_then_retry_gives_the_uninterrupted_result(local_cluster, demo_run, tmp_path):
    config_path = write_config(tmp_path, yaml.safe_load(demo_run[1].read_text()))
    target = f"results/models/{MODEL}/weights.pt"
    process = start_snakemake(tmp_path, config_path, *PROFILES, target)
    log_path = tmp_path / f"logs/train_classifier/{MODEL}.log"
    wait_for_epoch(log_path, 4, process)
    job_id = re.search(r"SLURM_JOB_ID=(\d+)", log_path.read_text()).group(1)
    subprocess.run(["scancel", job_id], check=True)  # as preemption would; profiles/slurm's retries resubmit
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output[-3000:]
    assert re.search(rf"SLURM_JOB_ID=(?!{job_id}\b)\d+", log_path.read_text()), "the retry ran in the same job?"
    check_resumed_to_the_uninterrupted_result(tmp_path, demo_run[0])
