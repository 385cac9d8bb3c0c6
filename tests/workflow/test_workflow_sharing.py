"""Training jobs that run at the same time on one device train in one process (memdissect.training.sharing.together), through
Snakemake as users run it: each job still has its own outputs and log, and the files equal those of jobs that
trained alone. Sharing is switched on for the CPU here (`sharing.on_cpu`), the device the tests have."""

import pytest
import yaml
from workflow_runs import (
    REPO,
    TABLES_WITH_WALL_CLOCK,
    assert_same_history,
    result_hashes,
    snakemake,
    write_config,
)

pytestmark = pytest.mark.workflow


def trained_models(workdir, config: dict) -> list[str]:
    """Run the training jobs of the tiny study (two at a time) in workdir; their model ids."""
    config_path = write_config(workdir, config)
    models = [f"{condition}-vgg11-s{seed}" for condition in config["conditions"] for seed in (1, 2)]
    snakemake(
        workdir,
        "--cores",
        "2",
        *(f"results/models/{model}/weights.pt" for model in models),
        config_path=config_path,
    )
    return models


def test_jobs_sharing_a_process_write_what_jobs_alone_write(tmp_path_factory):
    config = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    config["training"]["epochs"] = (
        6  # long enough for the second job to arrive while the first trains
    )
    alone, shared = tmp_path_factory.mktemp("alone"), tmp_path_factory.mktemp("shared")
    models = trained_models(alone, config)
    trained_models(shared, {**config, "sharing": {"models": 4, "on_cpu": True}})

    logs = {
        model: (shared / "logs" / "train_classifier" / f"{model}.log").read_text()
        for model in models
    }
    followers = [model for model, log in logs.items() if "trained by the process of pid" in log]
    assert followers, "no training job was trained in another job's process"
    for model, log in logs.items():
        assert "epoch 6/6 " in log, f"{model}: its log lacks its epochs\n{log}"
    assert not any(
        "trained by" in (alone / "logs" / "train_classifier" / f"{m}.log").read_text()
        for m in models
    )

    first, second = result_hashes(alone), result_hashes(shared)
    assert any(name.endswith("weights.pt") for name in first) and first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    for table in (alone / "results" / "models").rglob(TABLES_WITH_WALL_CLOCK[0]):
        assert_same_history(table, shared / table.relative_to(alone))
    dry_run = snakemake(
        shared,
        "-n",
        *(f"results/models/{model}/weights.pt" for model in models),
        config_path=write_config(shared, config),
    )
    assert (
        "Nothing to be done" in dry_run.stdout
    )  # switching sharing off reruns nothing: it is no parameter
