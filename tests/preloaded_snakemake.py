"""What the workflow tests' forkserver imports once, so that each `snakemake` it forks starts without importing
it (workflow_runs.run_snakemake): Snakemake's command line and its executor plugins."""

import json
import subprocess
import sys

import snakemake.cli  # noqa: F401
from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry

ExecutorPluginRegistry()  # collects the plugins once: the SLURM plugin asks the cluster when it is imported

FRESH_SYS_PATH = json.loads(
    subprocess.run(
        [sys.executable, "-c", "import json, sys, snakemake; print(json.dumps(sys.path[1:]))"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
)
"""sys.path of a new interpreter once it has imported snakemake (which appends its pip deployments' folder), after
its first entry, which for `python -m` is the working directory."""
