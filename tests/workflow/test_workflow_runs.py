"""The tests' Snakemake commands (workflow_runs.run_snakemake): forked from a process that imported Snakemake once,
each still runs as a new `python -m snakemake` would, in the caller's folder, environment and umask."""

import os

import pytest
from workflow_runs import SNAKEMAKE, run_snakemake

pytestmark = pytest.mark.workflow

SNAKEFILE = """
import json, os, sys

onstart:  # in Snakemake's own process
    with open("seen.json", "w") as handle:
        json.dump({"cwd": os.getcwd(), "marker": os.environ.get("MEMDISSECT_TEST_MARKER"),
                   "umask": os.umask(0o022), "path": sys.path, "argv0": sys.argv[0],
                   "parent": os.getppid()}, handle)

rule done:
    output: touch("done")
"""


@pytest.fixture
def workflow(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    return tmp_path


def seen_by(workdir, monkeypatch, umask, forked: bool) -> dict:
    """What the Snakefile of workdir sees, run forked or, with a PYTHONPATH entry only that run has, in a new
    interpreter."""
    import json

    monkeypatch.setenv("MEMDISSECT_TEST_MARKER", f"forked={forked}")
    if not forked:
        monkeypatch.setenv("PYTHONPATH", str(workdir / "only-the-new-interpreter"))
    run_snakemake(["--cores", "1", "--forceall", "done"], cwd=workdir, umask=umask)
    return json.loads((workdir / "seen.json").read_text())


def test_a_forked_run_sees_the_callers_folder_environment_and_umask(workflow, monkeypatch):
    seen = seen_by(workflow, monkeypatch, 0o027, forked=True)
    assert seen["parent"] != os.getpid()  # the forkserver's child, not this process's
    assert seen["cwd"] == str(workflow) and seen["marker"] == "forked=True"
    assert seen["umask"] == 0o027
    assert seen["argv0"].endswith(os.path.join("snakemake", "__main__.py"))


def test_a_forked_run_has_the_sys_path_of_a_new_interpreter(workflow, monkeypatch):
    forked = seen_by(workflow, monkeypatch, 0o022, forked=True)
    new = seen_by(workflow, monkeypatch, 0o022, forked=False)
    assert new["parent"] == os.getpid() != forked["parent"]
    assert (
        new["marker"] == "forked=False"
        and str(workflow / "only-the-new-interpreter") in new["path"]
    )
    assert forked["path"] == [
        entry for entry in new["path"] if entry != str(workflow / "only-the-new-interpreter")
    ]
    assert forked["path"][0] == str(workflow) and not any(
        entry.endswith("tests") for entry in forked["path"]
    )  # none of conftest's


def test_a_failing_run_gives_its_exit_status_and_output(tmp_path):
    result = run_snakemake(["--cores", "1"], cwd=tmp_path, check=False)
    assert result.returncode == 1 and result.args[: len(SNAKEMAKE)] == SNAKEMAKE
    assert "Snakefile" in result.stdout, result.stdout
