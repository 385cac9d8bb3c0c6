"""The workflow through snakemake-executor-plugin-slurm on a real single-node SLURM cluster,
started as the users start it: `snakemake --profile slurm`.

tests/slurm/local-cluster.sh starts the cluster (root and Debian's packages needed). Where it
cannot, these tests are skipped, unless MEMDISSECT_REQUIRE_SLURM=1 (as in CI) makes that a
failure. The profile named `slurm` is a site profile of executor, jobs, partition and account
(and a status check after 5 s) only (tests/slurm/site, found through XDG_CONFIG_HOME): every GPU
request must come from the workflow's own rules.
"""

import re
import subprocess

import pytest
import yaml
from slurm_runs import on_cpu, snakemake_as_typed, study_folder
from test_workflow_resume import check_resumed_to_the_uninterrupted_result, wait_for_epoch
from workflow_runs import REPO, RESUMED_MODEL, assert_same_results, long_training

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]
GPU_RULES = (
    "train_classifier",
    "train_gan",
    "synthesize_patterns",
    "evaluate_on_patterns",
    "evaluate_lookup_tables",
)


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
    """As SLURM jobs, computing on the CPU, the tiny study writes what it writes run here (also
    test_workflow_determinism's second run where this cluster runs)."""
    assert len(list(slurm_tiny_run[0].glob("results/models/*/weights.pt"))) == 4
    assert_same_results(tiny_run, slurm_tiny_run[0])


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
