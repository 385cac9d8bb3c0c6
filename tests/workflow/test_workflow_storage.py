"""Any executor, no shared file system: the study through a Snakemake storage plugin, as on Kubernetes or a
cloud batch executor with an object store. Snakemake's `fs` plugin stands in for the object store: every
input and output goes through it, with --shared-fs-usage none. The code the plan tracks for reruns and
the user's own files are read where they lie (local); the results are in the storage only."""

import copy
import importlib.util
import os
import shutil

import pytest
import yaml
from workflow_runs import (
    REPO,
    file_digests,
    file_modes,
    snakemake,
    write_config,
    write_users_networks,
)

pytestmark = pytest.mark.workflow


def missing_for_the_storage() -> str:
    """What this machine lacks for the fs storage plugin, or ""."""
    if importlib.util.find_spec("snakemake_storage_plugin_fs") is None:
        return "needs snakemake-storage-plugin-fs (pip install -e '.[test]')"
    return (
        ""
        if shutil.which("rsync")
        else "Snakemake's fs storage plugin needs rsync (apt-get install rsync)"
    )


@pytest.fixture(autouse=True)
def storage_plugin_at_hand():
    """Skipped where the plugin cannot run, unless MEMDISSECT_REQUIRE_STORAGE=1 (as in CI) makes that a failure."""
    reason = missing_for_the_storage()
    if reason and os.environ.get("MEMDISSECT_REQUIRE_STORAGE") == "1":
        pytest.fail(f"the storage tests must run here (MEMDISSECT_REQUIRE_STORAGE=1), but {reason}")
    if reason:
        pytest.skip(reason)


TINY = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())


def study_with_a_checkpoint() -> dict:
    """The tiny study (trained VGG11s, each depending on its architecture's source), plus a checkpoint of the
    user's own module: every kind of file that must not be looked for in the storage."""
    config = copy.deepcopy(TINY)
    config["checkpoints"] = [
        {
            "name": "outside",
            "arch": "mymodels:small_cnn",
            "weights": "resources/outside.pt",
            "condition": "true_labels",
            "mean": [0.5, 0.5, 0.5],
            "std": [0.25, 0.25, 0.25],
        }
    ]
    config["dissection"]["compare"] = ["vgg11-s2", "outside-s1"]
    return config


def storage_options(storage):
    return [
        "--default-storage-provider",
        "fs",
        "--default-storage-prefix",
        str(storage),
        "--shared-fs-usage",
        "none",
    ]


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory):
    workdir, storage = tmp_path_factory.mktemp("work"), tmp_path_factory.mktemp("object_store")
    write_users_networks(workdir, {"resources/outside.pt": 5})
    users_files = file_digests(workdir)
    config_path = write_config(workdir, study_with_a_checkpoint())
    run = snakemake(
        workdir,
        "--cores",
        "2",
        *storage_options(storage),
        config_path=config_path,
        umask=0o022,
        timeout=1500,
    )
    again = snakemake(
        workdir, "-n", *storage_options(storage), config_path=config_path, timeout=300
    )
    return workdir, storage, users_files, run.stdout, again.stdout


def test_the_study_runs_to_the_end_through_the_storage(stored_run):
    _, storage, _, run, again = stored_run
    assert "Traceback" not in run
    summary = (storage / "results" / "summary.md").read_text()
    assert "## Dist(f1, f2), f1 = vgg11-s1" in summary and "| outside-s1 |" in summary
    for made in (
        "results/figures/figure5.png",
        "results/dist/dist_summary.csv",
        "results/stages/stages.csv",
        "results/models/true_labels-outside-s1/weights.pt",
        "logs/train_classifier/true_labels-vgg11-s1.log",
    ):
        assert (storage / made).is_file(), made
    assert "Nothing to be done" in again, again[
        -3000:
    ]  # the storage's files are found again as finished


def test_results_are_in_the_storage_only_and_the_users_files_as_they_were(stored_run):
    workdir, _, users_files, _, _ = stored_run
    assert not (workdir / "results" / "summary.md").exists() and not (workdir / "logs").exists()
    assert {
        path: digest for path, digest in file_digests(workdir).items() if path in users_files
    } == users_files


def test_the_stored_files_are_readable_by_the_users_group(stored_run):
    storage = stored_run[1]
    modes = file_modes(storage / "results")
    assert len(modes) > 40
    assert {
        path: oct(mode) for path, mode in modes.items() if mode != 0o644
    } == {}  # umask 022: rw-r--r--
