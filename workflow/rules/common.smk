import os
import sys
from pathlib import Path

from snakemake.utils import validate
from snakemake_interface_executor_plugins.settings import SharedFSUsage

# The workflow finds its own files from where this file lies, never from the working directory: it
# may run as a module of the user's own workflow, or with -s/-d, from any folder.
SOURCE_DIR = (
    Path(workflow.current_basedir.get_path_or_uri(secret_free=True)).parents[1] / "src"
)
# the package runs from the checkout, installed or not, here and in every job's environment
if SOURCE_DIR.is_dir():
    sys.path.insert(0, str(SOURCE_DIR))
    os.environ.update(
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(SOURCE_DIR), os.environ.get("PYTHONPATH")])
        )
    )

try:
    # the plan's modules, which import no torch
    from memdissect.data import folders  # noqa: E402
    from memdissect.study import design, plan, schema, validation  # noqa: E402
except ModuleNotFoundError as error:
    # a module whose Snakefile is remote (github(...)) has no src/ on this machine
    if error.name != "memdissect":
        raise
    raise WorkflowError(
        f"{error}: the memdissect package is neither in {SOURCE_DIR} nor installed; valid: "
        f"pip install memdissect's checkout (the tag the module names) where Snakemake runs"
    ) from None

ENV = "../../envs/memdissect.yaml"
SCHEMA = workflow.source_path("../schemas/config.schema.yaml")
# the workflow writes, and may delete, here: never user data
OWNED_FOLDERS = ("results", "logs", ".snakemake")

# A bad config stops here (the schema, Snakemake's validate filling in its defaults, then the
# study's names), with one message naming the key, the bad value and what is valid. A job started
# elsewhere without a shared file system (Kubernetes, a cloud batch) plans without the user's files,
# which the plan where Snakemake runs has checked.
SHARED_FILES = SharedFSUsage.INPUT_OUTPUT in workflow.storage_settings.shared_fs_usage
try:
    CLASSIFIERS = validation.check_config(
        config,
        SCHEMA,
        validate,
        OWNED_FOLDERS,
        shared_files=SHARED_FILES,
        in_job=workflow.remote_exec,
    )
except schema.ConfigError as error:
    raise WorkflowError(f"config error: {error}") from None

# The study plan (memdissect.study.plan): every job's inputs, params and outputs, by name.
PLAN = plan.Plan(config, CLASSIFIERS, folders.split_sizes(config["dataset"]))


def inputs_of(rule):
    """The job's inputs as the plan names them (``role`` or ``role:name``); for ``unpack``. The roles of
    plan.READ_IN_PLACE are `local`, read where they lie, also with a storage provider.
    """
    return lambda wildcards: plan.named_inputs(
        read_in_place(PLAN.job(rule, **wildcards).inputs)
    )


def read_in_place(inputs):
    return {
        role: local(files) if role in plan.READ_IN_PLACE else files
        for role, files in inputs.items()
    }


def params_of(rule, *names):
    """The job's params by name, canonical (mapping keys sorted), so that the order of keys in a
    config file never reruns a job."""
    return {
        name: lambda wildcards, name=name: design.canonical(
            PLAN.job(rule, **wildcards).params[name]
        )
        for name in names
    }


def outputs_of(rule, **wildcards):
    """The output paths the plan gives the rule, with wildcards such as ``model="{model}"``."""
    return PLAN.outputs(rule, **wildcards)


def gpu_job(cpus, mem_mb, minutes):
    """One GPU (SLURM: --gpus; one machine: snakemake --resources gpu=K), its cores, memory and wall time."""
    return {"gpu": 1, "cpus_per_gpu": cpus, "mem_mb": mem_mb, "runtime": minutes}


def get_dataset_source(wildcards):
    """The raw data set (PLAN.dataset_source); the user's own copy is `ancient`, an input no rule makes, so
    nothing can delete it and its timestamps never rerun anything, and `local`: read in place by a local rule.
    """
    users = folders.user_copy_exists(config["dataset"])
    source = PLAN.dataset_source(user_folder_exists=users)
    return (
        {name: local(ancient(path)) for name, path in source.items()}
        if users
        else source
    )


def get_dataset_archive(wildcards):
    """The user's archive that unpack_archive reads in place (planned only when dataset.root is missing)."""
    archive = config["dataset"].get("archive")
    return local(ancient(archive)) if archive else []


wildcard_constraints:
    model=plan.MODEL_ID,
    label_set="noise[0-9.e-]+-seed[0-9]+",
