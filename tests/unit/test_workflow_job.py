"""What a failing job shows the user: one line naming the file for bad data, the traceback for a bug; and
that a job which reads and writes no tensors starts without importing torch."""

import ast
import os
import subprocess
import sys

import pytest
from config_checks import demo_config
from workflow_runs import REPO, snakemake, write_config, write_image

SCRIPTS = REPO / "workflow" / "scripts"
TENSORLESS_RULES = (
    "figure1",
    "figure2",
    "figure4",
    "figure5",
    "dist_matrix_figure",
    "crosscheck_figure",
    "dist_tables",
    "summary_markdown",
    "stage_table",
    "diagnostics_summary",
    "make_labels",
    "study_config",
)  # they read and write tables, configs and figures, no .pt file

JOB = """
import sys, types
sys.path[:0] = [{scripts!r}, {source!r}]
from job import start
from memdissect.io import DataError
start(types.SimpleNamespace(log=[{log!r}], rule="prepare_dataset", threads=1, config={{}}, resources={{}}))
raise {error}
"""


@pytest.mark.parametrize(
    "error, one_line",
    [
        ("DataError('cannot read image data/train/cat/1.png: image file is truncated')", True),
        ("KeyError('a bug')", False),
    ],
)
def test_a_data_error_reaches_the_user_as_one_line_and_a_bug_keeps_its_traceback(
    tmp_path, error, one_line
):
    log = tmp_path / "job.log"
    script = JOB.format(
        scripts=str(REPO / "workflow" / "scripts"),
        source=str(REPO / "src"),
        log=str(log),
        error=error,
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    if one_line:
        expected = "DataError: cannot read image data/train/cat/1.png: image file is truncated"
        assert result.stderr.splitlines() == [expected]
        assert log.read_text().splitlines()[-1].endswith(f"ERROR {expected}")
    else:
        assert "Traceback" in result.stderr and "Traceback" in log.read_text()


@pytest.mark.parametrize("users, seen", [(None, "PCI_BUS_ID"), ("FASTEST_FIRST", "FASTEST_FIRST")])
def test_a_job_numbers_gpus_as_nvidia_smi_does_unless_its_user_says_otherwise(
    tmp_path, users, seen
):
    """CUDA reads CUDA_DEVICE_ORDER once, when it starts; job.start sets it before any job touches a GPU."""
    script = JOB.replace(
        "raise {error}", "import os; print(os.environ['CUDA_DEVICE_ORDER'])"
    ).format(
        scripts=str(REPO / "workflow" / "scripts"),
        source=str(REPO / "src"),
        log=str(tmp_path / "job.log"),
    )
    environment = {name: value for name, value in os.environ.items() if name != "CUDA_DEVICE_ORDER"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, **({"CUDA_DEVICE_ORDER": users} if users else {})},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == seen


def import_statements(script) -> list[str]:
    """Every import statement of a script, as source."""
    tree = ast.parse(script.read_text())
    return [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]


@pytest.mark.parametrize("rule", TENSORLESS_RULES)
def test_a_job_that_touches_no_tensors_starts_without_torch(rule):
    imports = import_statements(SCRIPTS / f"{rule}.py")
    code = "\n".join(
        [
            f"import sys; sys.path[:0] = [{str(SCRIPTS)!r}, {str(REPO / 'src')!r}]",
            *imports,
            "print('torch' in sys.modules)",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False", f"{rule}'s imports bring in torch: {imports}"


@pytest.mark.workflow
def test_a_corrupt_image_stops_data_preparation_with_its_path(tmp_path):
    for split in ("train", "test"):
        for index, name in enumerate(("cat", "dog")):
            write_image(tmp_path / "images" / split / name / "0.png", seed=index)
    (tmp_path / "images" / "train" / "dog" / "1.png").write_bytes(b"\x89PNG broken")
    config = demo_config()
    config["dataset"] = {"kind": "imagefolder", "root": "images", "num_classes": 2}
    config["figures"]["figure3"]["classes"] = [0, 1]
    result = snakemake(
        tmp_path,
        "--cores",
        "1",
        "results/data/train.pt",
        config_path=write_config(tmp_path, config),
        check=False,
        timeout=600,
    )
    assert result.returncode != 0
    assert "DataError: cannot read image images/train/dog/1.png" in result.stdout, result.stdout[
        -3000:
    ]
    assert "Traceback" not in result.stdout
    assert not (tmp_path / "results" / "data" / "train.pt").exists()
