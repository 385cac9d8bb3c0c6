import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def pytest_configure(config):
    os.environ.setdefault("OMP_NUM_THREADS", "2")


def pytest_collection_modifyitems(config, items):
    """Tests marked cuda run on a CUDA GPU only (`python -m pytest -m cuda` there): CUDA graphs and streams."""
    import torch

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
