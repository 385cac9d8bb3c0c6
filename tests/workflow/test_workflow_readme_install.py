"""The README's install gives everything `snakemake --report`, `--dag` and `--rulegraph` need:
a fresh virtual environment with exactly the pip part of the README's first command (no test
extra) builds the report of a finished tiny run. pip installs torch from its cache or the local
wheels: minutes."""

import copy
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest
from workflow_runs import REPO, TINY, write_config

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def readme_pip_arguments() -> list[str]:
    """pip's arguments in the README's first command line, with the checkout's `.` made absolute."""
    block = re.search(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL).group(1)
    command = next(
        line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )
    pip = next(
        part.strip()
        for part in command.split("&&")
        if re.match(r"(python3? -m )?pip3? ", part.strip())
    )
    arguments = shlex.split(pip)
    arguments = arguments[arguments.index("install") :]
    return [
        str(REPO) + argument[1:] if argument == "." or argument.startswith(".[") else argument
        for argument in arguments
    ]


def test_the_readmes_first_command_installs_the_checkout_without_extras():
    assert readme_pip_arguments() == ["install", "-e", str(REPO)]


@pytest.fixture(scope="module")
def readme_venv(tmp_path_factory):
    """python -m venv DIR && DIR/bin/pip <the README's arguments>; removed after (about 6 GB with torch)."""
    venv = tmp_path_factory.mktemp("readme") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    result = subprocess.run(
        [str(venv / "bin" / "pip"), *readme_pip_arguments()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1800,
    )
    try:
        assert result.returncode == 0, result.stdout[-5000:]
        yield venv
    finally:
        shutil.rmtree(venv, ignore_errors=True)


def venv_snakemake(venv, workdir, *arguments):
    """The venv's own snakemake on the tiny run (conftest.tiny_run), as a user who activated that venv would run
    it."""
    config_path = write_config(workdir, copy.deepcopy(TINY), "readme.yaml")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment.update(
        VIRTUAL_ENV=str(venv), PATH=os.pathsep.join([str(venv / "bin"), os.environ["PATH"]])
    )
    command = [
        str(venv / "bin" / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config_path),
        "--replace-workflow-config",
        *arguments,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment)
    assert result.returncode == 0, (
        f"{' '.join(arguments)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def test_the_report_builds(readme_venv, tiny_run):
    report = tiny_run / "report.html"
    venv_snakemake(readme_venv, tiny_run, "--report", str(report))
    text = report.read_text(errors="replace")
    assert report.stat().st_size > 100_000  # the figures are embedded
    assert "figure1.png" in text and "study_config.yaml" in text


@pytest.mark.parametrize("option", ["--dag", "--rulegraph"])
def test_dag_and_rule_graph_print_dot(readme_venv, tiny_run, option):
    dot = venv_snakemake(readme_venv, tiny_run, option).stdout
    assert dot.lstrip().startswith("digraph"), dot[:500]
    assert "train_classifier" in dot and dot.rstrip().endswith("}")
