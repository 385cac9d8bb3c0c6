"""Dissecting any networks in one study: memdissect's VGG11, a torchvision ResNet-18, an architecture
from the user's own module, and a checkpoint written elsewhere in plain PyTorch, which is only read."""

import copy
import hashlib
import sys

import pandas as pd
import pytest
import yaml
from workflow_runs import (
    REPO,
    USERS_MODULE,
    planned_jobs,
    snakemake,
    write_config,
    write_users_networks,
)

from memdissect.study.design import LOOKUP, UNTRAINED

pytestmark = pytest.mark.workflow

OUTSIDE_WEIGHTS = "resources/outside_small_cnn.pt"
MODELS = [
    "true_labels-vgg11-s1",
    "true_labels-resnet18-s1",
    "true_labels-small_cnn-s1",
    "true_labels-outside-s1",
]


def mixed_config() -> dict:
    config = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    config["conditions"] = {"true_labels": config["conditions"]["true_labels"]}
    config["models"] = [
        {"arch": "vgg11", "seeds": [1], "conditions": ["true_labels"]},
        {
            "arch": "torchvision:resnet18",
            "seeds": [1],
            "conditions": ["true_labels"],
            "width": 1.0,
            "epochs": 1,
        },
        {"arch": "mymodels:small_cnn", "seeds": [1], "conditions": ["true_labels"], "width": 1.0},
    ]
    config["checkpoints"] = [
        {
            "name": "outside",
            "arch": "mymodels:small_cnn",
            "weights": OUTSIDE_WEIGHTS,
            "condition": "true_labels",
            "mean": [0.5, 0.5, 0.5],
            "std": [0.25, 0.25, 0.25],
        }
    ]
    config["dissection"] = {
        "reference": "vgg11-s1",
        "compare": ["resnet18-s1", "small_cnn-s1", "outside-s1"],
        "all_pairs": True,
    }
    config["figures"] = {
        "figure1": {"network": "vgg11-s1", "conditions": ["true_labels"]},
        "figure2": {"conditions": ["true_labels"], "ablations": []},
        "figure3": {"conditions": ["true_labels"], "classes": ["disk", "ring"], "columns": 2},
        "figure4": {"name": "vgg11", "conditions": ["true_labels"]},
        "figure5": {"conditions": ["true_labels"]},
    }
    return config


def write_outside_checkpoint(workdir):
    """What a user brings: their module, and weights saved by plain PyTorch from another script."""
    write_users_networks(workdir, {OUTSIDE_WEIGHTS: 5})


def fingerprint(path):
    return (
        hashlib.sha256(path.read_bytes()).hexdigest(),
        path.stat().st_mtime_ns,
        path.stat().st_ino,
    )


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("any_networks")
    write_outside_checkpoint(workdir)
    before = fingerprint(workdir / OUTSIDE_WEIGHTS)
    config_path = write_config(workdir, mixed_config())
    snakemake(workdir, "--cores", "2", config_path=config_path)
    return workdir, config_path, before


def test_every_pair_of_the_four_networks_has_a_dist_row(mixed_run):
    workdir, _, _ = mixed_run
    summary = pd.read_parquet(workdir / "results/dist/dist_summary.parquet")
    pairs = set(zip(summary["f1"], summary["f2"]))
    assert {(f1, f2) for f1 in MODELS for f2 in MODELS if f1 != f2} <= pairs
    assert {(f1, "untrained") for f1 in MODELS} <= pairs
    compared = summary[~summary["f2"].isin([UNTRAINED, LOOKUP])]
    assert set(summary.loc[summary["f2"] == LOOKUP, "f1"]) == set(MODELS[:3])  # trained f1s only
    assert (
        len(compared) == 12
        and compared["dist_mean"].gt(0).all()
        and compared["dist_mean"].notna().all()
    )
    crosscheck = pd.read_csv(workdir / "results/crosscheck/crosscheck.csv")
    assert len(crosscheck) == 12 and crosscheck["cka"].between(0, 1).all()


def test_the_imported_checkpoint_is_only_read_and_has_no_history(mixed_run):
    workdir, _, before = mixed_run
    assert fingerprint(workdir / OUTSIDE_WEIGHTS) == before
    model = workdir / "results/models/true_labels-outside-s1"
    assert (model / "weights.pt").exists() and (model / "test_outputs.pt").exists()
    assert not (model / "history.parquet").exists()
    stages = pd.read_csv(workdir / "results/stages/stages.csv")
    assert sorted(stages["model"]) == sorted(MODELS[:3])


def test_the_imported_checkpoint_keeps_its_weights_and_normalization(mixed_run):
    import torch

    sys.path.insert(0, str(mixed_run[0]))
    import mymodels

    from memdissect.training.train import read_classifier_checkpoint

    workdir = mixed_run[0]
    model, settings, classes = read_classifier_checkpoint(
        workdir / "results/models/true_labels-outside-s1/weights.pt"
    )
    plain = mymodels.small_cnn(10)
    plain.load_state_dict(torch.load(workdir / OUTSIDE_WEIGHTS, weights_only=True))
    pixels = torch.rand(4, 3, 32, 32)
    assert torch.allclose(model(pixels), plain.eval()((pixels - 0.5) / 0.25), atol=1e-6)
    assert settings.arch == "mymodels:small_cnn" and classes[:2] == ["disk", "ring"]


def test_editing_the_users_module_replans_only_its_models(mixed_run, tmp_path):
    workdir, config_path, _ = mixed_run
    assert planned_jobs(snakemake(workdir, "-n", config_path=config_path).stdout) == []
    module = workdir / "mymodels.py"
    module.write_text(
        module.read_text() + "# an edit\n"
    )  # a new mtime alone, with the same content, reruns nothing
    jobs = planned_jobs(snakemake(workdir, "-n", config_path=config_path).stdout)
    retrained = sorted(job for job in jobs if job[0] in ("train_classifier", "import_classifier"))
    assert retrained == [
        ("import_classifier", "model=true_labels-outside-s1"),
        ("train_classifier", "model=true_labels-small_cnn-s1"),
    ]


def test_a_missing_checkpoint_or_module_stops_the_plan_naming_it(tmp_path):
    config = mixed_config()
    result = snakemake(tmp_path, "-n", config_path=write_config(tmp_path, config), check=False)
    assert result.returncode != 0
    assert "models[2].arch: 'mymodels:small_cnn': no module 'mymodels'" in result.stdout, (
        result.stdout[-2000:]
    )
    (tmp_path / "mymodels.py").write_text(USERS_MODULE)
    broken = copy.deepcopy(config)
    broken["checkpoints"][0]["weights"] = "resources/nowhere.pt"
    result = snakemake(tmp_path, "-n", config_path=write_config(tmp_path, broken), check=False)
    assert "checkpoints[0].weights: the file 'resources/nowhere.pt' does not exist" in result.stdout
