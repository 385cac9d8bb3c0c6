"""Atomic writes and checked reads: a failed write leaves nothing, a broken file is named with its rule."""

import csv
import os

import pandas as pd
import pytest
import torch

from memdissect.io import (
    ArtifactError,
    TensorShape,
    atomic_path,
    load_torch,
    peek_torch,
    read_parquet,
    save_torch,
    settings_hash,
    write_csv,
    write_parquet,
)


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "out" / "table.parquet") as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert list((tmp_path / "out").iterdir()) == []


def test_save_torch_gives_the_same_bytes_whatever_the_file_name(tmp_path):
    value = {"a": torch.arange(4.0), "b": [1, "x"]}
    save_torch(value, tmp_path / "one.pt")
    save_torch(value, tmp_path / "two.pt")
    assert (tmp_path / "one.pt").read_bytes() == (tmp_path / "two.pt").read_bytes()
    assert load_torch(tmp_path / "one.pt")["b"] == [1, "x"]


def test_truncated_table_names_the_file_and_its_rule(tmp_path):
    table = tmp_path / "table.parquet"
    write_parquet(pd.DataFrame({"kl": range(100)}), table)
    broken = tmp_path / "broken-table.parquet"
    broken.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    with pytest.raises(ArtifactError, match=r"broken-table.parquet.*rule 'dist_tables'"):
        read_parquet(broken, made_by="dist_tables")
    assert read_parquet(table)["kl"].tolist() == list(range(100))


def test_a_missing_file_is_named_with_its_rule_only_when_given(tmp_path):
    with pytest.raises(
        ArtifactError, match=r"missing.pt does not exist \(made by rule 'train_gan'\)$"
    ):
        load_torch(tmp_path / "missing.pt", made_by="train_gan")
    with pytest.raises(ArtifactError, match=r"missing.pt does not exist$"):
        load_torch(tmp_path / "missing.pt")


def test_settings_hash_ignores_key_order_and_sees_every_value():
    assert settings_hash({"a": 1, "b": 0.5}) == settings_hash({"b": 0.5, "a": 1})
    assert settings_hash({"a": 1, "b": 0.5}) != settings_hash({"a": 1, "b": 0.25})


def test_a_pickled_module_is_refused_in_one_line_that_names_its_class_and_keeps_the_file(tmp_path):
    path = tmp_path / "whole-model.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(ArtifactError) as refused:
        load_torch(path)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{path} holds Python objects (torch.nn.modules.linear.Linear)")
    assert message.endswith(
        "valid: a file of tensors, such as torch.save(model.state_dict(), path) writes"
    )
    assert "delete" not in message


def test_a_truncated_file_is_one_line_and_only_a_rule_output_is_to_be_deleted(tmp_path):
    whole = tmp_path / "whole.pt"
    save_torch({"w": list(range(1000))}, whole)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(
        ArtifactError,
        match=r"broken.pt is truncated .*\(made by rule 'train_gan'\); delete it and "
        r"rerun$",
    ) as made:
        load_torch(broken, made_by="train_gan")
    with pytest.raises(
        ArtifactError, match=r"broken.pt is truncated .*; valid: a file that torch.save wrote$"
    ) as given:
        load_torch(broken)
    assert "\n" not in str(made.value) and "delete" not in str(given.value)
    (tmp_path / "text.pt").write_bytes(
        b"not a zip"
    )  # torch reads it as an old-style pickle, and stops at once
    with pytest.raises(
        ArtifactError,
        match=r"text.pt is truncated or not a memdissect artifact \(UnpicklingError: "
        r"Unsupported operand \d+\); valid: a file that torch.save wrote$",
    ):
        load_torch(tmp_path / "text.pt")


@pytest.fixture(params=[0o022, 0o002], ids=["umask-022", "umask-002"])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_every_write_gets_the_mode_a_plain_open_gives_under_the_umask(tmp_path, umask):
    with open(tmp_path / "plain.txt", "w"):
        pass
    save_torch({"a": torch.zeros(2)}, tmp_path / "tensors.pt")
    write_parquet(pd.DataFrame({"kl": [0.5]}), tmp_path / "table.parquet")
    write_csv(pd.DataFrame({"kl": [0.5]}), tmp_path / "table.csv")
    with atomic_path(tmp_path / "deeper" / "summary.md") as tmp:
        tmp.write_text("# a study")
    modes = {
        path.name: path.stat().st_mode & 0o777 for path in tmp_path.rglob("*") if path.is_file()
    }
    assert modes == dict.fromkeys(
        ["plain.txt", "tensors.pt", "table.parquet", "table.csv", "summary.md"], 0o666 & ~umask
    )


def test_a_csv_table_reads_back_to_the_same_floats(tmp_path):
    values = [0.1 + 0.2, 1 / 3, 2 / 3 * 1e-300, 123456.78901234567, 5e-324, -0.0, 1.0, 1e16 + 2]
    write_csv(
        pd.DataFrame({"dist_mean": values, "model": list("abcdefgh")}), tmp_path / "table.csv"
    )
    with open(tmp_path / "table.csv", newline="") as handle:
        read_back = [float(row["dist_mean"]) for row in csv.DictReader(handle)]
    assert read_back == values and [repr(value) for value in read_back] == [
        repr(value) for value in values
    ]


def test_peek_reads_shapes_without_torch_and_refuses_what_torch_would_not_unpickle(tmp_path):
    torch.save(
        {"state_dict": torch.nn.Linear(3, 5).state_dict(), "epoch": 3}, tmp_path / "wrapped.pt"
    )
    peeked = peek_torch(tmp_path / "wrapped.pt")
    assert peeked["epoch"] == 3 and peeked["state_dict"] == {
        "weight": TensorShape((5, 3), "float"),
        "bias": TensorShape((5,), "float"),
    }
    torch.save(
        {"p": torch.nn.Parameter(torch.zeros(2, dtype=torch.bfloat16))}, tmp_path / "parameter.pt"
    )
    assert peek_torch(tmp_path / "parameter.pt") == {"p": TensorShape((2,), "bfloat16")}
    torch.save(torch.nn.Linear(3, 5), tmp_path / "module.pt")
    with pytest.raises(
        ArtifactError,
        match=r"module.pt holds Python objects \(torch.nn.modules.linear.Linear\), which "
        r"memdissect does not unpickle",
    ):
        peek_torch(tmp_path / "module.pt")
    (tmp_path / "half.pt").write_bytes((tmp_path / "wrapped.pt").read_bytes()[:200])
    with pytest.raises(ArtifactError, match=r"half.pt is truncated or not a file torch.save wrote"):
        peek_torch(tmp_path / "half.pt")
    torch.save({"a": torch.zeros(1)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    assert peek_torch(tmp_path / "legacy.pt") is None  # only torch reads its legacy format


def test_peek_imports_no_torch(tmp_path):
    import subprocess
    import sys

    torch.save(torch.nn.Linear(3, 5).state_dict(), tmp_path / "weights.pt")
    weights = str(tmp_path / "weights.pt")
    code = (
        f"import sys; from memdissect.io import peek_torch; print(dict(peek_torch({weights!r}))); "
        f"print('torch' in sys.modules)"
    )
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert printed.splitlines() == [
        "{'weight': TensorShape(shape=(5, 3), dtype='float'), 'bias': "
        "TensorShape(shape=(5,), dtype='float')}",
        "False",
    ]
