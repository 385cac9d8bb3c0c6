"""The `memdissect` command: its help, its errors (one line, exit code 2), and every command on the
outputs of a tiny workflow run, checked against the run's own tables."""

import contextlib
import io
import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from memdissect import api, cli
from memdissect.cli import main
from memdissect.study.settings import ClassifierSettings, PatternSettings, choices
from memdissect.training import runtime
from memdissect.training.checkpoints import save_resume_state
from memdissect.training.train import CLASSIFIER_RESUME

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ("dist", "patterns", "describe", "summary", "doctor")
F1, F2 = "true_labels-vgg11-s1", "true_labels-vgg11-s2"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(argument) for argument in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def installed_memdissect() -> str:
    """The executable pip installed from [project.scripts], beside this interpreter or on PATH."""
    beside = Path(sys.executable).with_name("memdissect")
    executable = str(beside) if beside.exists() else shutil.which("memdissect")
    if executable is None:
        pytest.fail("no memdissect executable: run `pip install -e .` to install the command")
    return executable


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


# ----------------------------------------------------------------------------- help


def test_help_names_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and all(command in out for command in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0 and f"usage: memdissect {command}" in capsys.readouterr().out


def test_the_pattern_options_name_every_choice_the_api_takes(capsys):
    with pytest.raises(SystemExit):
        main(["dist", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert all(
        choice in out
        for choice in (
            *choices(PatternSettings, "objective"),
            *choices(PatternSettings, "optimizer"),
            *choices(PatternSettings, "latent_constraint"),
        )
    )


def test_the_installed_command_answers_help_without_torch():
    result = subprocess.run(
        [installed_memdissect(), "describe", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "usage: memdissect describe" in result.stdout
    code = "import sys; from memdissect.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    assert (
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        ).stdout.strip()
        == "False"
    )


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2


# ----------------------------------------------------------------------------- errors and describe, without a run


def test_describe_refuses_a_file_it_does_not_know(capsys, tmp_path):
    (tmp_path / "broken.pt").write_bytes(b"not a zip")
    assert_one_line_error(
        *run(capsys, "describe", tmp_path / "broken.pt")[::2], "broken.pt is truncated"
    )
    torch.save({"what": "else"}, tmp_path / "other.pt")
    assert_one_line_error(
        *run(capsys, "describe", tmp_path / "other.pt")[::2],
        "other.pt is not a memdissect artifact",
    )
    torch.save({"format": "memdissect-patterns-v0"}, tmp_path / "old.pt")
    assert_one_line_error(
        *run(capsys, "describe", tmp_path / "old.pt")[::2], "'memdissect-patterns-v0'"
    )
    (tmp_path / "notes.txt").write_text("hello")
    assert_one_line_error(*run(capsys, "describe", tmp_path / "notes.txt")[::2], "not .txt")
    assert_one_line_error(
        *run(capsys, "describe", tmp_path / "missing.pt")[::2], "missing.pt does not exist"
    )


def test_describe_reads_a_resume_state(capsys, tmp_path):
    settings = ClassifierSettings(arch="vgg11")
    history = [{"epoch": 1, "train_acc": 0.25}, {"epoch": 2, "train_acc": 0.5}]
    save_resume_state(
        tmp_path / "resume.pt", CLASSIFIER_RESUME, settings, {"model": {}, "history": history}
    )
    code, out, _ = run(capsys, "describe", tmp_path / "resume.pt")
    assert code == 0 and "a classifier resume state" in out and "epochs finished: 2" in out
    assert "epoch 2, train_acc 0.5" in out


def test_describe_reads_a_plain_state_dict(capsys, tmp_path):
    torch.save(torch.nn.Linear(5, 4).state_dict(), tmp_path / "linear.pt")
    code, out, _ = run(capsys, "describe", tmp_path / "linear.pt")
    assert code == 0 and "a plain state_dict" in out and "(so 4 classes" in out


def test_summary_of_a_folder_without_a_run(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "summary", tmp_path)[::2], str(tmp_path), "dist_tables")


# ----------------------------------------------------------------------------- doctor


def doctor_rows(out: str) -> dict:
    """The printed table as {check: (status, detail)}."""
    rows = [
        re.fullmatch(r"(\S.*?) {2,}(\S.*?) {2,}(.*)", line)
        for line in out.split("\n\n")[0].splitlines()[1:]
    ]
    return {row[1]: (row[2], row[3]) for row in rows}


@pytest.fixture
def outside_slurm(monkeypatch):
    for name in cli.SLURM_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_doctor_on_a_cpu_runs_the_checks_that_apply_and_says_which_do_not(capsys, outside_slurm):
    code, out, _ = run(capsys, "doctor", "--device", "cpu")
    rows = doctor_rows(out)
    assert code == 0 and out.strip().endswith("none failed")
    assert list(rows) == [
        "torch and CUDA",
        "device",
        "precision: auto",
        "TF32",
        "CUDA graphs",
        "two runs side by side",
        "SLURM",
        "GPU slots and rooms",
        "throughput",
    ]
    assert rows["TF32"][0] == rows["CUDA graphs"][0] == "does not apply"
    assert rows["two runs side by side"] == (
        "ok",
        "a CNN with dropout and a VGG11, trained together, within 0 and 0 of "
        "each alone (tolerance 0)",
    )
    assert rows["precision: auto"][1].startswith(
        ("bf16: the CPU runs bf16 natively", "fp32: the CPU only emulates")
    )
    assert rows["SLURM"] == ("info", "not a SLURM job") and "images/s" in rows["throughput"][1]
    assert rows["torch and CUDA"][1].startswith(f"torch {torch.__version__}, CUDA ")


def test_doctor_fails_where_slurm_gave_gpus_that_torch_cannot_see(
    capsys, monkeypatch, outside_slurm
):
    monkeypatch.setattr(cli, "DOCTOR_ROWS", (cli.device_row, cli.slurm_row))
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("SLURM_JOB_GPUS", "0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, out, _ = run(capsys, "doctor")
    assert code == 1 and out.strip().endswith("1 failed (device)")
    assert doctor_rows(out)["device"][0] == "FAILED" and "install a CUDA build of PyTorch" in out
    assert doctor_rows(out)["SLURM"] == ("info", "SLURM_JOB_ID=42, SLURM_JOB_GPUS=0")


def test_doctor_on_the_cpu_of_a_gpu_node_says_the_cpu_was_asked_for(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert cli.device_row(torch.device("cpu")) == (
        "device",
        "info",
        "the CPU, as --device asks (torch sees 2 CUDA "
        "device(s)), so the checks that need one do not apply",
    )


def test_doctor_names_the_private_folders_and_fails_on_a_gpu_where_another_user_holds_them(
    node_temp,
):
    status, detail = cli.private_folders_row(torch.device("cpu"))[1:]
    assert status == "ok" and detail.startswith(f"{node_temp}/memdissect-{os.geteuid()}/rooms, ")
    (node_temp / f"memdissect-{os.geteuid()}").chmod(0o777)  # as another user could then enter it
    on_cpu, on_gpu = (cli.private_folders_row(torch.device(kind))[1:] for kind in ("cpu", "cuda"))
    assert on_cpu[0] == "info" and on_gpu[0] == "FAILED"
    owner = f"owner {pwd.getpwuid(os.geteuid()).pw_name}, uid {os.geteuid()}, mode 0777"
    assert f"can be written by other users ({owner})" in on_gpu[1]


@contextlib.contextmanager
def not_installed(self):
    yield


def test_doctor_fails_where_a_network_draws_from_another_runs_random_state(capsys, monkeypatch):
    """Forced: runs whose random state is never put in place, as before each run owned one."""
    monkeypatch.setattr(cli, "DOCTOR_ROWS", (cli.side_by_side_row,))
    monkeypatch.setattr(runtime.RandomState, "installed", not_installed)
    code, out, _ = run(capsys, "doctor", "--device", "cpu")
    status, detail = doctor_rows(out)["two runs side by side"]
    assert (
        code == 1
        and status == "FAILED"
        and not detail.startswith("a CNN with dropout and a VGG11, trained together, within 0 and")
    )


@pytest.mark.cuda
def test_on_cuda_doctor_passes_every_check(capsys):
    code, out, _ = run(capsys, "doctor")
    rows = doctor_rows(out)
    assert code == 0, out
    assert all(status in ("ok", "info") for status, _ in rows.values()), out
    assert rows["CUDA graphs"][1].startswith("VGG11 step replayed (first replay within")
    assert "fp32 computes as ieee" in rows["TF32"][1]


# ----------------------------------------------------------------------------- on a tiny run


def run_config(workdir: Path) -> dict:
    return yaml.safe_load((workdir / "config.yaml").read_text())


def dist_summary(workdir: Path) -> pd.DataFrame:
    return pd.read_parquet(workdir / "results" / "dist" / "dist_summary.parquet")


def csv_of(out: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(out))


def pair_row(summary: pd.DataFrame, f1: str, f2: str) -> pd.Series:
    return summary[(summary["f1"] == f1) & (summary["f2"] == f2)].iloc[0]


NUMBERS = [
    "dist_mean",
    "dist_variance",
    "dist_ci_low",
    "dist_ci_high",
    "relabeled_mean",
    "relabeled_ratio",
    "relabeled_ratio_ci_low",
    "relabeled_ratio_ci_high",
    "reverse_kl_mean",
    "js_mean",
]


def assert_reproduces(printed: pd.DataFrame, summary: pd.DataFrame) -> None:
    """The printed rows (F2, then the untrained network) are the run's rows for (F1, F2) and (F1, untrained)."""
    assert printed["f2"][0].endswith(f"{F2}/weights.pt") and printed["f2"][1] == "untrained"
    for index, f2 in enumerate((F2, "untrained")):
        expected = pair_row(summary, F1, f2)
        for column in NUMBERS:
            assert printed.loc[index, column] == pytest.approx(
                expected[column], rel=1e-6, abs=1e-12
            ), (f2, column)
        assert printed.loc[index, "n_starts"] == expected["n_starts"]


def dist_arguments(workdir: Path) -> list:
    models = workdir / "results" / "models"
    bootstrap = run_config(workdir)["statistics"]["bootstrap_resamples"]
    return [
        "dist",
        models / F1 / "weights.pt",
        models / F2 / "weights.pt",
        "--device",
        "cpu",
        "--csv",
        "--bootstrap",
        bootstrap,
    ]


def pattern_arguments(workdir: Path) -> list:
    patterns = run_config(workdir)["patterns"]
    return [
        "--generator",
        workdir / "results" / "gan" / "dcgan.pt",
        "--starts",
        patterns["starts"],
        "--iterations",
        patterns["iterations"],
        "--lr",
        patterns["lr"],
    ]


@pytest.mark.workflow
def test_dist_on_the_runs_patterns_reproduces_its_summary(capsys, tiny_run):
    patterns = tiny_run / "results" / "patterns" / f"{F1}.pt"
    code, out, _ = run(capsys, *dist_arguments(tiny_run), "--patterns", patterns)
    assert code == 0
    assert_reproduces(csv_of(out), dist_summary(tiny_run))


@pytest.mark.workflow
def test_dist_searching_under_the_runs_settings_reproduces_its_summary(capsys, tiny_run):
    code, out, _ = run(capsys, *dist_arguments(tiny_run), *pattern_arguments(tiny_run))
    assert code == 0
    assert_reproduces(csv_of(out), dist_summary(tiny_run))


@pytest.mark.workflow
def test_null_baseline_on_the_runs_checkpoint_reproduces_its_untrained_row(tiny_run):
    import memdissect

    f1 = memdissect.load_classifier(tiny_run / "results" / "models" / F1 / "weights.pt")
    patterns = memdissect.load_patterns(tiny_run / "results" / "patterns" / f"{F1}.pt")
    bootstrap = run_config(tiny_run)["statistics"]["bootstrap_resamples"]
    null = memdissect.null_baseline(patterns, f1, n_resamples=bootstrap).as_row()
    expected = pair_row(dist_summary(tiny_run), F1, "untrained")
    for column in NUMBERS:
        assert null[column] == pytest.approx(expected[column], rel=1e-6, abs=1e-12), column


@pytest.mark.workflow
def test_dist_prints_a_readable_table(capsys, tiny_run):
    arguments = [argument for argument in dist_arguments(tiny_run) if argument != "--csv"]
    code, out, _ = run(
        capsys, *arguments, "--patterns", tiny_run / "results" / "patterns" / f"{F1}.pt"
    )
    expected = pair_row(dist_summary(tiny_run), F1, F2)
    assert code == 0 and "95% CI" in out and "untrained" in out
    assert f"{expected['dist_mean']:.4g}" in out and f"{expected['relabeled_ratio']:.4g}" in out


@pytest.mark.workflow
def test_dist_refuses_the_patterns_of_another_network(capsys, tiny_run):
    other = tiny_run / "results" / "patterns" / "random_labels-vgg11-s1.pt"
    code, _, err = run(capsys, *dist_arguments(tiny_run), "--patterns", other)
    assert_one_line_error(
        code, err, "random_labels-vgg11-s1.pt holds the patterns of another network than"
    )


@pytest.mark.workflow
def test_dist_refuses_a_file_that_is_no_classifier(capsys, tiny_run):
    arguments = dist_arguments(tiny_run)
    arguments[1] = tiny_run / "results" / "gan" / "dcgan.pt"
    code, _, err = run(capsys, *arguments, *pattern_arguments(tiny_run))
    assert_one_line_error(
        code,
        err,
        "dcgan.pt is a memdissect DCGAN checkpoint, not a memdissect classifier",
        "--f1-arch",
    )


@pytest.mark.workflow
def test_the_patterns_command_writes_the_runs_pattern_file(capsys, tiny_run, tmp_path):
    weights = tiny_run / "results" / "models" / F1 / "weights.pt"
    code, out, _ = run(
        capsys,
        "patterns",
        weights,
        *pattern_arguments(tiny_run),
        "--device",
        "cpu",
        "--out",
        tmp_path / "f1.pt",
    )
    ours = api.load_patterns(tmp_path / "f1.pt")
    runs = api.load_patterns(tiny_run / "results" / "patterns" / f"{F1}.pt")
    assert code == 0 and str(tmp_path / "f1.pt") in out
    torch.testing.assert_close(ours.x, runs.x)
    torch.testing.assert_close(ours.logits, runs.logits)
    assert ours.classes == runs.classes and ours.settings == runs.settings


@pytest.mark.workflow
@pytest.mark.parametrize(
    "path, fragments",
    [
        (
            f"models/{F1}/weights.pt",
            [
                "a memdissect classifier checkpoint",
                "arch: vgg11",
                "width: 0.125",
                "weight_decay: 0.0001",
                "parameters: ",
                "classes (10): disk, ring",
            ],
        ),
        ("gan/dcgan.pt", ["a memdissect DCGAN checkpoint", "epochs: 2", "parameters: generator"]),
        (
            f"patterns/{F1}.pt",
            [
                "a memdissect pattern file",
                "iterations: 5",
                "10 classes x 2 starts",
                "x 10 x 2 x 3 x 32 x 32 float32",
                "classes (10): disk",
            ],
        ),
        ("data/train.pt", ["a data split", "images: 200 x 3 x 32 x 32 uint8", "disk 20, ring 20"]),
        (
            f"models/{F1}/test_outputs.pt",
            ["outputs on the test set", "logits: 100 x 10 float32", "test accuracy: "],
        ),
        (
            f"models/{F1}/history.parquet",
            ["a table of 3 rows", "history: 3 epochs; last epoch train_acc"],
        ),
        (
            "dist/dist_summary.parquet",
            [
                "a table of 9 rows",  # per f1: the compared f2, the untrained network, the lookup table
                f"{F1} vs {F2}: Dist",
                f"{F1} vs untrained: Dist",
                f"{F1} vs knn: Dist",
            ],
        ),
        ("dist/dist_summary.csv", ["a table of 9 rows", "columns: condition, f1"]),
    ],
)
def test_describe_says_what_each_artifact_holds(capsys, tiny_run, path, fragments):
    code, out, _ = run(capsys, "describe", tiny_run / "results" / path)
    assert code == 0
    for fragment in fragments:
        assert fragment in out


@pytest.mark.workflow
def test_describe_gives_a_historys_last_accuracies(capsys, tiny_run):
    path = tiny_run / "results" / "models" / F1 / "history.parquet"
    last = pd.read_parquet(path).iloc[-1]
    out = run(capsys, "describe", path)[1]
    assert f"train_acc {last['train_acc']:.4f}, test_acc {last['test_acc']:.4f}" in out


@pytest.mark.workflow
def test_summary_prints_the_runs_table(capsys, tiny_run):
    code, out, _ = run(capsys, "summary", tiny_run, "--csv")
    summary = dist_summary(tiny_run)
    printed = csv_of(out)
    assert code == 0 and list(printed[["f1", "f2"]].itertuples(index=False)) == list(
        summary[["f1", "f2"]].itertuples(index=False)
    )
    assert printed["dist_mean"].to_numpy() == pytest.approx(
        summary["dist_mean"].to_numpy(), rel=1e-9
    )
    code, out, _ = run(capsys, "summary", tiny_run / "results", "--condition", "random_labels")
    assert code == 0 and "true_labels" not in out and "random_labels-vgg11-s2" in out
    assert f"report: {tiny_run / 'results' / 'summary.md'}" in out


@pytest.mark.workflow
def test_summary_names_the_conditions_a_run_has(capsys, tiny_run):
    code, _, err = run(capsys, "summary", tiny_run, "--condition", "half_random")
    assert_one_line_error(
        code, err, "no condition 'half_random'; valid: true_labels, random_labels"
    )


@pytest.mark.workflow
def test_the_installed_command_summarizes_a_run(tiny_run):
    result = subprocess.run(
        [installed_memdissect(), "summary", str(tiny_run)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and F2 in result.stdout and "summary.md" in result.stdout


@pytest.mark.workflow
def test_csv_reads_back_to_the_floats_the_run_stored(capsys, tiny_run):
    import csv

    summary = dist_summary(tiny_run)
    code, out, _ = run(capsys, "summary", tiny_run, "--csv")
    printed = list(csv.DictReader(io.StringIO(out)))
    with open(tiny_run / "results" / "dist" / "dist_summary.csv", newline="") as handle:
        stored = list(csv.DictReader(handle))
    assert code == 0 and len(printed) == len(stored) == len(summary)
    for rows in (printed, stored):
        for column in ("dist_mean", "dist_variance", "dist_ci_low", "relabeled_ratio_ci_high"):
            assert [float(row[column]) for row in rows] == summary[column].tolist(), (
                column
            )  # exactly, not approx
