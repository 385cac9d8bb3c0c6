"""The local SLURM cluster (tests/slurm/local-cluster.sh) and the workflow run on it as users run it:
`snakemake --profile slurm` in a clone of this checkout, with tests/slurm/site as the user's site profile."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workflow_runs import REPO

CLUSTER = REPO / "tests" / "slurm" / "local-cluster.sh"
SITE_CONFIG_HOME = REPO / "tests" / "slurm" / "site"
SNAKEMAKE_COMMAND = str(Path(sys.executable).with_name("snakemake"))


def unavailable(reason):
    if os.environ.get("MEMDISSECT_REQUIRE_SLURM") == "1":
        pytest.fail(f"the SLURM tests must run here (MEMDISSECT_REQUIRE_SLURM=1), but {reason}")
    pytest.skip(reason)


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
    options = dict(
        cwd=workdir, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if popen:
        return subprocess.Popen(command, **options, start_new_session=True)
    result = subprocess.run(command, **options, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake --profile slurm {' '.join(arguments)} failed:\n{result.stdout[-6000:]}"
        )
    return result


def on_cpu(config: dict) -> dict:
    """The fake GPUs have no CUDA behind them: compute on the CPU (the GPU requests stay)."""
    return {**config, "device": "cpu"}
