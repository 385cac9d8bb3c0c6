"""Corrupt artifacts, settings mismatches and diverging runs fail loudly and leave nothing that looks finished."""

import pytest
import torch
import yaml

from memdissect.gan import GanSettings, build_gan
from memdissect.io import ArtifactError, read_parquet, save_torch, write_parquet
from memdissect.patterns import NonFiniteObjectiveError, PatternSettings, load_patterns, synthesize_patterns
from memdissect.synthetic import make_synthetic_dataset
from memdissect.train import (ClassifierSettings, NonFiniteLossError, build_classifier, classifier_checkpoint,
                              load_classifier, train_classifier)
from workflow_runs import REPO, snakemake, write_config

SETTINGS = ClassifierSettings(arch="vgg11", width=0.125, epochs=1, batch_size=32)


def truncated_copy(path, tmp_path):
    data = path.read_bytes()
    broken = tmp_path / f"broken-{path.name}"
    broken.write_bytes(data[: len(data) // 2])
    return broken


def test_truncated_checkpoint_names_the_file_and_its_rule(tmp_path):
    path = tmp_path / "weights.pt"
    save_torch(classifier_checkpoint(build_classifier(SETTINGS, "cpu"), SETTINGS, ["a"] * 10), path)
    broken = truncated_copy(path, tmp_path)
    with pytest.raises(ArtifactError, match=rf"{broken}.*truncated.*rule 'train_classifier'"):
        load_classifier(broken)


def test_truncated_pattern_file_and_table_name_the_file_and_rule(tmp_path):
    patterns = tmp_path / "patterns.pt"
    save_torch({"format": "memdissect-patterns-v1", "x": torch.zeros(1)}, patterns)
    with pytest.raises(ArtifactError, match=r"broken-patterns.pt.*rule 'synthesize_patterns'"):
        load_patterns(truncated_copy(patterns, tmp_path))
    table = tmp_path / "table.parquet"
    import pandas as pd

    write_parquet(pd.DataFrame({"kl": range(100)}), table)
    with pytest.raises(ArtifactError, match=r"broken-table.parquet.*rule 'dist_tables'"):
        read_parquet(truncated_copy(table, tmp_path), made_by="dist_tables")


def test_checkpoint_from_other_settings_is_refused(tmp_path):
    path = tmp_path / "weights.pt"
    save_torch(classifier_checkpoint(build_classifier(SETTINGS, "cpu"), SETTINGS, ["a"] * 10), path)
    load_classifier(path, expected_settings=SETTINGS)  # the same settings load
    other = ClassifierSettings(**{**SETTINGS.__dict__, "lr": 0.1})
    with pytest.raises(ArtifactError, match="trained under other settings"):
        load_classifier(path, expected_settings=other)


def test_nan_loss_stops_training_naming_epoch_and_step():
    data = make_synthetic_dataset(64, 16, seed=0)
    diverging = ClassifierSettings(arch="vgg11", width=0.125, epochs=3, batch_size=16, lr=1e12, momentum=0.9)
    with pytest.raises(NonFiniteLossError, match=r"epoch \d+.*step \d+"):
        train_classifier(diverging, data["train"]["images"], data["train"]["labels"], data["test"]["images"],
                         data["test"]["labels"], torch.device("cpu"), log=lambda *_: None)


def test_nan_objective_stops_pattern_search_naming_the_iteration():
    generator, _ = build_gan(GanSettings(width=0.125), "cpu")
    classifier = build_classifier(SETTINGS, "cpu")
    with torch.no_grad():
        classifier.classifier.bias.fill_(float("nan"))
    with pytest.raises(NonFiniteObjectiveError, match="iteration 0"):
        synthesize_patterns(classifier, generator, 10, PatternSettings(starts=2, iterations=3), "cpu",
                            log=lambda *_: None)


@pytest.mark.workflow
def test_diverging_model_leaves_no_finished_looking_output(tmp_path):
    config = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    config["overrides"] = {"true_labels-vgg11-s1": {"lr": 1.0e12}}
    target = "results/models/true_labels-vgg11-s1/weights.pt"
    result = snakemake(tmp_path, "--cores", "1", target, config_path=write_config(tmp_path, config), check=False)
    assert result.returncode != 0
    assert "NonFiniteLossError" in result.stdout and "epoch" in result.stdout
    assert not (tmp_path / target).exists()
    assert not (tmp_path / "results/models/true_labels-vgg11-s1/history.parquet").exists()
