import os
import sys
from pathlib import Path

from snakemake.utils import validate

SOURCE_DIR = Path(workflow.basedir) / "src"
# The package runs from the checkout, installed or not, here and in every job's environment.
sys.path.insert(0, str(SOURCE_DIR))
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [str(SOURCE_DIR), os.environ.get("PYTHONPATH")])))

from memdissect import plan, study, validation  # noqa: E402  (torch-free)

ENV = "../../envs/memdissect.yaml"
SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
OWNED_FOLDERS = ("results", "logs", ".snakemake")  # the workflow writes, and may delete, here: never user data

# A bad config stops here (the schema, Snakemake's validate filling in its defaults, then the
# study's names), with one message naming the key, the bad value and what is valid.
try:
    CLASSIFIERS = validation.check_config(config, SCHEMA, validate, OWNED_FOLDERS)
except validation.ConfigError as error:
    raise WorkflowError(f"config error: {error}") from None

# The study plan (memdissect.plan): every job's inputs, params and outputs, by name.
PLAN = plan.Plan(config, CLASSIFIERS, validation.split_sizes(config["dataset"]))


def inputs_of(rule):
    """The job's inputs as the plan names them (``role`` or ``role:name``); for ``unpack``."""
    return lambda wildcards: plan.named_inputs(PLAN.job(rule, **wildcards).inputs)


def params_of(rule, *names):
    """The job's params by name, canonical (mapping keys sorted), so that the order of keys in a
    config file never reruns a job."""
    return {name: lambda wildcards, name=name: study.canonical(PLAN.job(rule, **wildcards).params[name])
            for name in names}


def outputs_of(rule, **wildcards):
    """The output paths the plan gives the rule, with wildcards such as ``model="{model}"``."""
    return plan.rule_outputs(rule, **wildcards)


def gpu_job(cpus, mem_mb, minutes):
    """One GPU (SLURM: --gpus; one machine: snakemake --resources gpu=K), its cores, memory and wall time."""
    return {"gpu": 1, "cpus_per_gpu": cpus, "mem_mb": mem_mb, "runtime": minutes}


def get_dataset_source(wildcards):
    """The raw data set (PLAN.dataset_source); the user's own copy is `ancient`: an input no rule
    makes, so nothing can delete it, and its timestamps never rerun anything."""
    users = validation.user_copy_exists(config["dataset"])
    source = PLAN.dataset_source(user_folder_exists=users)
    return {name: ancient(path) for name, path in source.items()} if users else source


def get_dataset_archive(wildcards):
    """The archive that unpack_archive reads (planned only when dataset.root is missing)."""
    archive = config["dataset"].get("archive")
    return ancient(archive) if archive else []


wildcard_constraints:
    model=plan.MODEL_ID,
    label_set="noise[0-9.e-]+-seed[0-9]+",
