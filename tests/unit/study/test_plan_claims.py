"""The plan of the paper's other claims without Snakemake: learn then memorize and paths in function space,
their jobs, their off-switches, what they plan where the study has no data for them, and bad values refused."""

from collections import Counter
from pathlib import Path

import pytest
from config_checks import demo_config, validate_config
from test_plan import make_plan

from memdissect.study import plan, schema
from memdissect.training.sharing.together import planned_here


def counts_of(config) -> Counter:
    return Counter(job.rule for job in make_plan(config).jobs())


def test_the_demo_plans_a_table_a_figure_per_noise_level_and_per_name_and_every_probe_file():
    demo = make_plan(demo_config())
    counts = Counter(job.rule for job in demo.jobs())
    assert counts["learning_order_table"] == 1 and counts["path_tables"] == 1
    assert (
        counts["learning_order_figure"] == 2 and counts["path_figure"] == 1
    )  # p = 0.5 and 1; vgg11 (vgg13: 1 seed)
    assert demo.learning_order_levels() == ["0.5", "1"]
    table = demo.job("learning_order_table")
    assert "true_labels-vgg11-s1" not in table.inputs["histories"]  # p = 0: no corrupted sample
    assert table.params["noise"]["noise0.5-vgg11-s1"] == 0.5 and table.params["thresholds"] == [
        0.5,
        0.99,
    ]
    figure = demo.job("learning_order_figure", noise="0.5")
    assert set(figure.inputs["histories"]) == {"noise0.5-vgg11-s1", "noise0.5-vgg11-s2"}
    train = demo.job("train_classifier", model="true_labels-vgg13-s1")
    assert train.outputs["probes"] == "results/models/true_labels-vgg13-s1/probe_path.pt"
    assert train.params["probes"] == {"size": 300, "seed": 0}
    paths = demo.job("path_tables")
    groups = {
        (group["condition"], group["name"]): group["models"] for group in paths.params["groups"]
    }
    assert groups[("true_labels", "vgg11")] == [
        "true_labels-vgg11-s1",
        "true_labels-vgg11-s2",
        "true_labels-vgg11-s3",
    ]
    assert ("true_labels", "vgg13") not in groups and "true_labels-vgg13-s1" not in paths.inputs[
        "probes"
    ]
    summary = demo.job("summary_markdown").inputs
    assert (
        summary["learning_order"] == plan.LEARNING_ORDER["parquet"]
        and summary["paths"] == plan.PATH_TABLES["overall"]
    )
    assert {plan.PATH_TABLES["overall"], train.outputs["probes"]} <= set(demo.final_outputs())


def test_switched_off_each_section_plans_nothing_and_no_probe_file():
    config = demo_config()
    config["learning_order"] = {"enabled": False}
    config["function_paths"] = {"enabled": False}
    off = make_plan(config)
    counts = Counter(job.rule for job in off.jobs())
    assert not any(
        counts[rule]
        for rule in ("learning_order_table", "learning_order_figure", "path_tables", "path_figure")
    )
    train = off.job("train_classifier", model="true_labels-vgg11-s1")
    assert "probes" not in train.outputs and train.params["probes"] is None
    assert not {"learning_order", "paths", "fit_epochs"} & set(off.job("summary_markdown").inputs)
    assert not any(
        path.startswith(("results/learning_order", "results/paths"))
        or path.endswith("probe_path.pt")
        for path in off.final_outputs()
    )


def test_without_corrupted_labels_or_a_second_seed_there_is_nothing_to_plan():
    config = demo_config()
    config["models"] = [
        {"arch": "vgg11", "seeds": [1], "conditions": ["true_labels"]},
        {"arch": "vgg13", "seeds": [1], "conditions": ["true_labels"]},
    ]
    config["dissection"] = {"reference": "vgg11-s1", "compare": ["vgg13-s1"]}
    config["figures"] = {}
    study = make_plan(config)
    counts = Counter(job.rule for job in study.jobs())
    assert counts["train_classifier"] == 2
    assert not any(
        counts[rule]
        for rule in ("learning_order_table", "learning_order_figure", "path_tables", "path_figure")
    )
    assert not {"learning_order", "paths"} & set(study.job("summary_markdown").inputs)
    with pytest.raises(ValueError, match="no noise level"):
        study.job("learning_order_figure", noise="0.5")
    with pytest.raises(ValueError, match="no model group with two seeds"):
        study.job("path_figure", name="vgg11")


@pytest.mark.parametrize(
    "section, key, value, fragments",
    [
        ("learning_order", "thresholds", [0.0, 0.99], ["learning_order.thresholds[0]", "0.0"]),
        ("learning_order", "thresholds", [0.5, 1.5], ["learning_order.thresholds[1]", "1.5"]),
        ("learning_order", "thresholds", [], ["learning_order.thresholds", "[]"]),
        ("learning_order", "thresholds", [0.5, 0.5], ["learning_order.thresholds"]),
        (
            "learning_order",
            "enabled",
            "yes",
            ["learning_order.enabled", "'yes'", "valid: true or false"],
        ),
        ("function_paths", "probe_size", 0, ["function_paths.probe_size", "0", "an integer >= 1"]),
        ("function_paths", "probe_size", 10.5, ["function_paths.probe_size", "10.5"]),
        ("function_paths", "probe_seed", -1, ["function_paths.probe_seed", "-1"]),
        ("function_paths", "probes", 10, ["function_paths", "probes"]),
    ],
)
def test_bad_values_are_refused_at_plan_time_naming_the_key_and_the_value(
    section, key, value, fragments
):
    config = demo_config()
    config[section] = {**config[section], key: value}
    with pytest.raises(schema.ConfigError) as refused:
        validate_config(config)
    for fragment in fragments:
        assert fragment in str(refused.value), str(refused.value)


def test_the_defaults_are_the_papers():
    config = demo_config()
    del config["learning_order"], config["function_paths"]
    validate_config(config)
    assert config["learning_order"] == {"enabled": True, "thresholds": [0.5, 0.99]}
    assert config["function_paths"] == {"enabled": True, "probe_size": 1000, "probe_seed": 0}


def test_a_room_accepts_a_probe_file_only_where_the_plan_puts_it(tmp_path, monkeypatch):
    from dataclasses import asdict

    from memdissect.study.settings import ClassifierSettings
    from memdissect.training.sharing.rendezvous import RequestError
    from memdissect.training.sharing.together import planned_job

    monkeypatch.chdir(tmp_path)
    settings = asdict(ClassifierSettings(arch="vgg11"))
    job = planned_job(
        "true_labels-vgg11-s1", settings, "noise0-seed0", Path.cwd(), {"size": 10, "seed": 0}
    )
    assert job.outputs["probes"] == str(tmp_path / plan.probe_path_file("true_labels-vgg11-s1"))
    planned_here(asdict(job))
    elsewhere = {
        **asdict(job),
        "outputs": {**job.outputs, "probes": str(tmp_path / "elsewhere.pt")},
    }
    with pytest.raises(RequestError, match="outputs"):
        planned_here(elsewhere)
