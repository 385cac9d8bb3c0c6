"""Running Snakemake on a config in a temporary folder, for the workflow tests."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def write_config(workdir: Path, config: dict) -> Path:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, *arguments, config_path=None, check=True, timeout=1800):
    """Run the workflow of this checkout in workdir; returns the completed process (stdout and stderr merged)."""
    command = [*SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    if config_path is not None:
        command += ["--configfile", str(config_path), "--replace-workflow-config"]
    command += list(arguments)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(arguments)} failed:\n{result.stdout[-6000:]}")
    return result


def planned_jobs(dry_run_output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of each job a dry run plans."""
    jobs = []
    for block in re.split(r"\n(?=\[.*\d{4}\]\n)", dry_run_output):
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.MULTILINE)
        if rule:
            wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.MULTILINE)
            jobs.append((rule.group(1), wildcards.group(1) if wildcards else ""))
    return jobs


def job_counts(dry_run_output: str) -> dict[str, int]:
    """The dry run's job-stats table as {rule: count}."""
    table = dry_run_output.split("Job stats:")[-1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE) if m.group(1) != "total"}


WALL_CLOCK_COLUMNS = ["seconds", "images_per_second"]
TABLES_WITH_WALL_CLOCK = ("history.parquet", "losses.parquet")


def assert_same_history(first_path: Path, second_path: Path) -> None:
    """Per-epoch tables (classifier histories, DCGAN losses) agree exactly in every column but the wall-clock ones."""
    import pandas as pd

    first = pd.read_parquet(first_path).drop(columns=WALL_CLOCK_COLUMNS, errors="ignore")
    second = pd.read_parquet(second_path).drop(columns=WALL_CLOCK_COLUMNS, errors="ignore")
    pd.testing.assert_frame_equal(first, second, check_exact=True)


def same_bytes(first_path: Path, second_path: Path) -> bool:
    return Path(first_path).read_bytes() == Path(second_path).read_bytes()
