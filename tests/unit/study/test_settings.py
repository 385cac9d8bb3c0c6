"""The settings dataclasses and the config schema say the same: the same keys, the same defaults."""

from dataclasses import MISSING, fields

import pytest
import yaml

from memdissect.models.dcgan import LATENT_DIM
from memdissect.study.settings import (
    BOOTSTRAP,
    ClassifierSettings,
    GanSettings,
    PatternSettings,
    SettingsError,
    StatisticsSettings,
    choices,
    config_keys,
)

FROM_MODEL_GROUP = (
    "arch",
    "seed",
    "num_classes",
)  # set by the model group and the data set, not `training`
SECTIONS = {
    "training": ClassifierSettings,
    "gan": GanSettings,
    "patterns": PatternSettings,
    "statistics": StatisticsSettings,
}


@pytest.fixture(scope="module")
def schema(repo):
    return yaml.safe_load((repo / "workflow" / "schemas" / "config.schema.yaml").read_text())


def schema_defaults(schema: dict, section: str) -> dict:
    """Each key of a config section and its default, given beside the key or in the definition it refers to."""
    defaults = {}
    for key, spec in schema["properties"][section]["properties"].items():
        referred = schema
        for part in spec.get("$ref", "#").split("/")[1:]:
            referred = referred[part]
        assert "default" in spec or "default" in referred, (
            f"{section}.{key} has no default in the schema"
        )
        defaults[key] = spec.get("default", referred.get("default"))
    return defaults


def dataclass_defaults(settings_class, keys) -> dict:
    return {f.name: f.default for f in fields(settings_class) if f.name in keys}


@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_sets_exactly_the_config_keys_of_its_settings(schema, section):
    keys = set(config_keys(SECTIONS[section])) - set(
        FROM_MODEL_GROUP if section == "training" else ()
    )
    assert set(schema_defaults(schema, section)) == keys


@pytest.mark.parametrize("section", SECTIONS)
def test_schema_defaults_are_the_dataclass_defaults(schema, section):
    defaults = schema_defaults(schema, section)
    assert dataclass_defaults(SECTIONS[section], defaults) == defaults


def test_the_comparison_fails_when_a_default_differs(schema):
    """A changed default is caught: the check above is not vacuous."""
    defaults = schema_defaults(schema, "training")
    assert dataclass_defaults(ClassifierSettings, defaults) == defaults
    changed = {**defaults, "lr": defaults["lr"] * 2}
    assert dataclass_defaults(ClassifierSettings, changed) != changed
    assert (
        defaults["lr"] == 0.01 and defaults["grad_mode"] == "step"
    )  # read from the schema, not made up


def test_model_group_keys_and_training_keys_split_the_classifier_settings():
    training_keys = tuple(
        f.name for f in fields(ClassifierSettings) if f.name not in FROM_MODEL_GROUP
    )
    assert set(training_keys) == {
        "epochs",
        "batch_size",
        "lr",
        "momentum",
        "weight_decay",
        "augment",
        "width",
        "grad_mode",
        "precision",
    }
    assert (
        fields(ClassifierSettings)[0].name == "arch"
        and fields(ClassifierSettings)[0].default is MISSING
    )


def test_fields_the_config_does_not_set_are_fixed_by_the_code():
    assert set(f.name for f in fields(GanSettings)) - set(config_keys(GanSettings)) == {
        "latent_dim"
    }
    assert GanSettings().latent_dim == LATENT_DIM
    assert config_keys(PatternSettings) == tuple(f.name for f in fields(PatternSettings))
    assert config_keys(ClassifierSettings) == tuple(f.name for f in fields(ClassifierSettings))


def test_from_dict_builds_the_settings_of_a_section():
    assert GanSettings.from_dict({"epochs": 2, "beta2": 0.9}) == GanSettings(epochs=2, beta2=0.9)
    values = {"arch": "vgg11", "seed": 3, "num_classes": 4, "lr": 0.1, "grad_mode": "off"}
    assert ClassifierSettings.from_dict(values) == ClassifierSettings(**values)


def test_from_dict_refuses_an_unknown_key_naming_it_and_the_valid_ones():
    with pytest.raises(
        SettingsError,
        match=r"PatternSettings has no setting 'iteration'.*valid: starts, iterations",
    ):
        PatternSettings.from_dict({"starts": 2, "iteration": 3})
    with pytest.raises(SettingsError, match=r"'lr_decay', 'nesterov'"):
        ClassifierSettings.from_dict({"arch": "vgg11", "lr_decay": 0.1, "nesterov": True})


def test_from_dict_refuses_a_field_the_config_does_not_set():
    with pytest.raises(SettingsError, match="'latent_dim'"):
        GanSettings.from_dict({"latent_dim": 64})


@pytest.mark.parametrize(
    "section, name",
    [
        ("training", "grad_mode"),
        ("patterns", "objective"),
        ("patterns", "optimizer"),
        ("patterns", "latent_constraint"),
    ],
)
def test_a_setting_of_few_names_takes_exactly_the_schemas_and_refuses_others(schema, section, name):
    spec = schema["properties"][section]["properties"][name]
    referred = schema
    for part in spec.get("$ref", "#").split("/")[1:]:
        referred = referred[part]
    assert list(choices(SECTIONS[section], name)) == spec.get("enum", referred.get("enum"))
    arch = {"arch": "vgg11"} if section == "training" else {}
    with pytest.raises(SettingsError, match=rf"{name} must be one of .*, got 'other'"):
        SECTIONS[section](**arch, **{name: "other"})


def test_the_bootstrap_defaults_are_the_statistics_sections(schema):
    assert BOOTSTRAP == {
        "n_resamples": schema_defaults(schema, "statistics")["bootstrap_resamples"],
        "confidence": 0.95,
        "seed": 0,
    }
