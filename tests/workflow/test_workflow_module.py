"""memdissect as a Snakemake module of the user's own workflow, in the user's own folder, as
`snakedeploy deploy-workflow` sets it up: workflow/Snakefile holds a `module` block and `use rule *`,
config/config.yaml the user's study. The study is of the user's networks only: two plain-PyTorch
checkpoints of the user's own architecture, no model trained. Everything lands in the user's folder,
readable by their group where the umask lets it; nothing is written into the workflow's checkout."""

import pytest
import yaml
from workflow_runs import REPO, file_modes, planned_jobs, run_snakemake, write_users_networks

pytestmark = pytest.mark.workflow

# What snakedeploy deploy-workflow writes into workflow/Snakefile, with the checkout's workflow/Snakefile in
# place of github("<owner>/memdissect", path="workflow/Snakefile", tag="...").
MODULE_BLOCK = """from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


module memdissect:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from memdissect
"""
NORMALIZATION = {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
STUDY = {  # the user's own networks, and nothing of the schema's: no `models`, no dissection or figures named
    "dataset": {"kind": "synthetic", "train_size": 200, "test_size": 100},
    "conditions": {"true_labels": {"noise": 0.0}},
    "checkpoints": [
        {
            "name": name,
            "arch": "mynets:small_cnn",
            "weights": f"resources/{name}.pt",
            "condition": "true_labels",
            **NORMALIZATION,
        }
        for name in ("mine", "theirs")
    ],
    "gan": {"epochs": 2, "batch_size": 64, "width": 0.125},
    "patterns": {"starts": 2, "iterations": 5, "lr": 0.5},
    "statistics": {"bootstrap_resamples": 200},
}
RULES = [
    "crosscheck_figure",
    "crosscheck_table",
    "diagnostics_summary",
    "dist_tables",
    "evaluate_on_patterns",
    "figure2",
    "figure3",
    "import_classifier",
    "import_classifier",
    "prepare_dataset",
    "study",
    "study_config",
    "summary_markdown",
    "synthesize_patterns",
    "train_gan",
]


def checkout_files() -> dict:
    """{path: (size, modification time)} of the checkout's files, byte code and caches aside."""
    skipped = {".git", "__pycache__", ".pytest_cache", ".hypothesis"}
    return {
        str(path.relative_to(REPO)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in REPO.rglob("*")
        if path.is_file() and not skipped & set(path.relative_to(REPO).parts)
    }


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """The user's folder, after `snakemake -n` and `snakemake --cores 2` there under umask 002."""
    project = tmp_path_factory.mktemp("my_project")
    (project / "workflow").mkdir()
    (project / "workflow" / "Snakefile").write_text(
        MODULE_BLOCK.format(snakefile=REPO / "workflow" / "Snakefile")
    )
    (project / "config").mkdir()
    (project / "config" / "config.yaml").write_text(yaml.safe_dump(STUDY, sort_keys=False))
    write_users_networks(
        project, {"resources/mine.pt": 1, "resources/theirs.pt": 2}, module="mynets"
    )
    before = checkout_files()
    plan = run_snakemake(["-n"], cwd=project, timeout=300).stdout
    run = run_snakemake(["--cores", "2"], cwd=project, umask=0o002, timeout=1200).stdout
    return project, plan, run, before


def test_the_module_plans_the_users_networks_only(deployed):
    _, plan, _, _ = deployed
    assert (
        sorted(rule for rule, _ in planned_jobs(plan)) == RULES
    )  # nothing trained, no figure without its data


def test_the_module_runs_to_the_end_in_the_users_folder(deployed):
    project, _, run, _ = deployed
    assert "15 of 15 steps (100%) done" in run, run[-3000:]
    for made in (
        "results/summary.md",
        "results/figures/figure2.png",
        "results/dist/dist_summary.csv",
        "results/models/true_labels-mine-s1/weights.pt",
        "logs/import_classifier/true_labels-theirs-s1.log",
    ):
        assert (project / made).is_file(), made
    assert "Traceback" not in run


def test_nothing_is_written_into_the_workflows_checkout(deployed):
    *_, before = deployed
    assert checkout_files() == before


def test_the_summary_shows_only_what_the_study_has(deployed):
    project = deployed[0]
    summary = (project / "results" / "summary.md").read_text()
    assert "## Dist(f1, f2), f1 = mine-s1" in summary
    assert (
        "| true_labels | theirs-s1 | " in summary and "| true_labels | untrained network" in summary
    )
    assert "No f2 has a pair on both X_T (true_labels) and X_R (no condition of noise 1)" in summary
    assert "On true_labels: f2 = theirs-s1 at " in summary
    assert "## Cross-checks on the test images" in summary
    for absent in ("|  |", "Accuracy of", "Hunting stage", "noise level", "as in the paper"):
        assert absent not in summary, absent


def test_every_file_the_study_writes_is_readable_by_the_users_group(deployed):
    project = deployed[0]
    modes = {**file_modes(project / "results"), **file_modes(project / "logs")}
    assert len(modes) > 30
    assert {
        path: oct(mode) for path, mode in modes.items() if mode != 0o664
    } == {}  # umask 002: rw-rw-r--
