"""The same config and seeds give byte-identical weights, patterns, tables and figures on CPU."""

import copy
import hashlib

import pytest
from workflow_runs import TABLES_WITH_WALL_CLOCK, TINY, assert_same_history, snakemake, write_config

pytestmark = pytest.mark.workflow


def file_hashes(workdir):
    """sha256 of every result but the per-epoch tables (their wall-clock columns differ) and Snakemake's timings."""
    return {
        str(path.relative_to(workdir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((workdir / "results").rglob("*"))
        if path.is_file()
        and path.name not in TABLES_WITH_WALL_CLOCK
        and "benchmarks" not in path.parts
    }


def test_tiny_study_twice_gives_the_same_bytes(tiny_run, tmp_path_factory):
    second = tmp_path_factory.mktemp("second")
    snakemake(second, "--cores", "2", config_path=write_config(second, copy.deepcopy(TINY)))
    runs = [tiny_run, second]
    first, second = (file_hashes(run) for run in runs)
    assert len(first) > 40 and any(name.endswith("weights.pt") for name in first)
    assert any(name.endswith(".png") for name in first) and any(
        name.startswith("results/patterns/") for name in first
    )
    differing = sorted(name for name in first if first[name] != second.get(name))
    assert not differing and first.keys() == second.keys(), f"differ between runs: {differing}"
    tables = [
        path for name in TABLES_WITH_WALL_CLOCK for path in runs[0].glob(f"results/**/{name}")
    ]
    assert any(path.name == "losses.parquet" for path in tables) and any(
        path.name == "history.parquet" for path in tables
    )
    for table in tables:
        assert_same_history(table, runs[1] / table.relative_to(runs[0]))
