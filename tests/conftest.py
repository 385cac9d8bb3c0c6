import functools
import os
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))  # the tests' helper modules, from every folder of tests
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def pytest_configure(config):
    os.environ.setdefault("OMP_NUM_THREADS", "2")


SHARED_RUNS = {
    "demo_run": "demo_run",
    "tiny_run": "tiny_runs",
    "long_training_run": "tiny_runs",
    "slurm_tiny_run": "tiny_runs",
}
"""The session's shared runs, each with the group of the test files that read it: pytest-xdist's workers (pyproject's
addopts) take whole groups, so that each run and each module fixture is made once."""


@functools.cache
def worker_group(test_file: str) -> str:
    """The group of a test file (its path from the checkout): that of the first shared run it names, else its own."""
    text = (REPO / test_file).read_text()
    for fixture, group in SHARED_RUNS.items():
        if re.search(rf"\b{fixture}\b", text):
            return group
    return test_file


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: absent under `-p no:xdist`
def pytest_xdist_make_scheduler(config, log):
    """The workers take one group (worker_group) at a time, in the order of the collection (longest_first)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid.split("::")[0])

    return ByGroup(config, log)


def longest_first(group: str, group_items: list) -> tuple:
    """The shared runs first, then the groups with workflow tests, then the rest: no long group left for the end."""
    if group in SHARED_RUNS.values():
        return (0, list(SHARED_RUNS.values()).index(group))
    return (1 if any("workflow" in item.keywords for item in group_items) else 2, 0)


def pytest_collection_modifyitems(config, items):
    """The tests in the order of longest_first; tests marked cuda run on a CUDA GPU only (`python -m pytest -m cuda`
    there): CUDA graphs and streams."""
    import torch

    groups: dict = {}
    for item in items:
        group = worker_group(item.nodeid.split("::")[0])
        for fixture in SHARED_RUNS.keys() & set(item.fixturenames):
            if group != SHARED_RUNS[fixture]:
                raise pytest.UsageError(
                    f"{item.nodeid} reads {fixture}, made in group {SHARED_RUNS[fixture]}, but its file is in "
                    f"group {group}: name {fixture} in the file (a test's parameter), and no shared run of "
                    f"another group (tests/conftest.py, worker_group)"
                )
        groups.setdefault(group, []).append(item)
    ordered = sorted(groups.items(), key=lambda entry: longest_first(*entry))
    items[:] = [item for _, group_items in ordered for item in group_items]

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; run `python -m pytest -m cuda` on one")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The demo config run to the end in a temporary folder, once per session."""
    import yaml
    from workflow_runs import snakemake, write_config

    workdir = tmp_path_factory.mktemp("demo")
    config = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    config_path = write_config(workdir, config)
    snakemake(workdir, "--cores", "2", config_path=config_path)
    return workdir, config_path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """tests/configs/tiny.yaml run to the end once per session (every rule, about 2 minutes on 2 cores), its
    config at config.yaml. The tests that share it only read it or dry-run against it, with any changed config
    written beside it (workflow_runs.write_config's name); a test that writes there makes its own run."""
    import copy

    from workflow_runs import TINY, snakemake, write_config

    workdir = tmp_path_factory.mktemp("tiny")
    snakemake(workdir, "--cores", "2", config_path=write_config(workdir, copy.deepcopy(TINY)))
    return workdir


@pytest.fixture(scope="session")
def long_training_run(tmp_path_factory):
    """workflow_runs.RESUMED_MODEL of workflow_runs.long_training() trained to its end without a stop, once per
    session: the result that a training job killed and resumed must reach. Its config at config.yaml."""
    from workflow_runs import RESUMED_MODEL, long_training, snakemake, write_config

    workdir = tmp_path_factory.mktemp("long_training")
    config_path = write_config(workdir, long_training())
    target = f"results/models/{RESUMED_MODEL}/weights.pt"
    snakemake(workdir, "--cores", "1", target, config_path=config_path)
    return workdir


@pytest.fixture(scope="session")
def local_cluster():
    """The local SLURM cluster, started if it is not running; the test is skipped where it cannot be (not root,
    not Debian), or fails there under MEMDISSECT_REQUIRE_SLURM=1."""
    import shutil
    import subprocess

    from slurm_runs import CLUSTER, unavailable

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


@pytest.fixture(scope="session")
def slurm_tiny_run(local_cluster, tmp_path_factory):
    """tests/configs/tiny.yaml (tiny_run's config, computing on the CPU) run as `snakemake --profile slurm` in a
    clone, once per session: (its folder, Snakemake's output)."""
    import copy

    from slurm_runs import on_cpu, snakemake_as_typed, study_folder
    from workflow_runs import TINY

    workdir = study_folder(tmp_path_factory.mktemp("slurm-tiny"), on_cpu(copy.deepcopy(TINY)))
    return workdir, snakemake_as_typed(workdir).stdout


@pytest.fixture
def node_temp(monkeypatch, tmp_path_factory):
    """The node's temporary folder, as memdissect sees it in this test (and the processes it starts): a fresh
    folder that every user may make entries in, mode 1777 like /tmp."""
    import shutil
    import tempfile

    tmp_path_factory.getbasetemp()  # pytest's own folders stay where they are
    folder = Path(tempfile.mkdtemp(prefix="memdissect-test-", dir="/tmp"))
    folder.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.delenv("MEMDISSECT_RUNTIME_DIR", raising=False)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def emulated_graphs(monkeypatch):
    """The process's CUDA graphs emulated for one test (runtime.CudaGraphs.emulate: each replay an eager step), so
    that the graph path runs on a CPU; put back as they were after it."""
    from memdissect.training import runtime

    graphs = runtime.CUDA_GRAPHS
    for name in ("capture", "emulated", "off_because"):
        monkeypatch.setattr(graphs, name, getattr(graphs, name))
    graphs.emulate()
    return graphs


class StepOffGraph:
    """An emulated graph whose replay is off by a whole step, as one reading stale buffers would be."""

    def __init__(self, step):
        self.step = step

    def replay(self):
        self.step()
        self.step()


@pytest.fixture
def graphs_a_step_off(emulated_graphs, monkeypatch):
    """Emulated graphs whose first replay the self-check must catch."""
    monkeypatch.setattr(
        emulated_graphs, "capture", lambda step, stream, random_state: StepOffGraph(step)
    )
    return emulated_graphs


def pytest_itemcollected(item):
    """Every test in tests/workflow/ runs Snakemake: marked workflow, so that `python -m pytest -m "not workflow"`
    is the fast lane."""
    if REPO / "tests" / "workflow" in Path(str(item.path)).resolve().parents:
        item.add_marker(pytest.mark.workflow)
