"""The config checks of workflow/rules/common.smk, run without a workflow, for the config tests."""

import copy
from pathlib import Path

import yaml
from snakemake.utils import validate

from memdissect.study import validation

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
OWNED_FOLDERS = ("results", "logs", ".snakemake")  # as in workflow/rules/common.smk
DEMO = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())


def demo_config() -> dict:
    return copy.deepcopy(DEMO)


def value_at(config: dict, path):
    """The node at path (keys and list indices) of a config."""
    for key in path:
        config = config[key]
    return config


def validate_config(config: dict, workdir=".", **where) -> dict:
    """What common.smk does before planning (the schema, Snakemake's defaults, the study's names); the config, filled
    in. where: shared_files, in_job, as common.smk gives them."""
    validation.check_config(config, SCHEMA, validate, OWNED_FOLDERS, workdir, **where)
    return config
