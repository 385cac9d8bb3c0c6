"""The same config and seeds give byte-identical weights, patterns, tables and figures on CPU."""

import hashlib

import pytest
import yaml

from workflow_runs import REPO, WALL_CLOCK_COLUMNS, assert_same_history, snakemake, write_config

pytestmark = pytest.mark.workflow


def file_hashes(workdir):
    """sha256 of every result but the histories (their wall-clock columns differ) and Snakemake's timings."""
    return {str(path.relative_to(workdir)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted((workdir / "results").rglob("*"))
            if path.is_file() and path.name != "history.parquet" and "benchmarks" not in path.parts}


def test_tiny_study_twice_gives_the_same_bytes(tmp_path_factory):
    config = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    runs = []
    for name in ("first", "second"):
        workdir = tmp_path_factory.mktemp(name)
        snakemake(workdir, "--cores", "2", config_path=write_config(workdir, config))
        runs.append(workdir)
    first, second = (file_hashes(run) for run in runs)
    assert len(first) > 40 and any(name.endswith("weights.pt") for name in first)
    assert any(name.endswith(".png") for name in first) and any(name.startswith("results/patterns/") for name in first)
    differing = sorted(name for name in first if first[name] != second.get(name))
    assert not differing and first.keys() == second.keys(), f"differ between runs: {differing}"
    for history in runs[0].glob("results/models/*/history.parquet"):
        assert_same_history(history, runs[1] / history.relative_to(runs[0]))
    assert WALL_CLOCK_COLUMNS == ["seconds", "images_per_second"]
