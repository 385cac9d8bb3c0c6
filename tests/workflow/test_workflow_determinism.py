"""The same config and seeds give byte-identical weights, patterns, tables and figures on CPU, run after run."""

import copy

import pytest
from workflow_runs import TINY, assert_same_results, result_hashes, snakemake, write_config

pytestmark = pytest.mark.workflow


def second_tiny_run(request, tmp_path_factory):
    """The tiny study run a second time from nothing, in processes of its own: as SLURM jobs in a clone where
    the local cluster runs (conftest.slurm_tiny_run, the same config computing on the CPU), else here."""
    try:
        return request.getfixturevalue("slurm_tiny_run")[0]
    except pytest.skip.Exception:
        second = tmp_path_factory.mktemp("second")
        snakemake(second, "--cores", "2", config_path=write_config(second, copy.deepcopy(TINY)))
        return second


def test_tiny_study_twice_gives_the_same_bytes(tiny_run, request, tmp_path_factory):
    results = result_hashes(tiny_run)
    assert len(results) > 40 and any(name.endswith("weights.pt") for name in results)
    assert any(name.endswith(".png") for name in results) and any(
        name.startswith("results/patterns/") for name in results
    )
    assert_same_results(tiny_run, second_tiny_run(request, tmp_path_factory))
