"""Atomic writes and checked reads: a failed write leaves nothing, a broken file is named with its rule."""

import pandas as pd
import pytest
import torch

from memdissect.io import ArtifactError, atomic_path, load_torch, read_parquet, save_torch, settings_hash, write_parquet


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
    with pytest.raises(ArtifactError, match=r"missing.pt does not exist \(made by rule 'train_gan'\)$"):
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
    assert message.endswith("valid: a file of tensors, such as torch.save(model.state_dict(), path) writes")
    assert "delete" not in message


def test_a_truncated_file_is_one_line_and_only_a_rule_output_is_to_be_deleted(tmp_path):
    whole = tmp_path / "whole.pt"
    save_torch({"w": list(range(1000))}, whole)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ArtifactError, match=r"broken.pt is truncated .*\(made by rule 'train_gan'\); delete it and "
                                            r"rerun$") as made:
        load_torch(broken, made_by="train_gan")
    with pytest.raises(ArtifactError, match=r"broken.pt is truncated .*; valid: a file that torch.save wrote$") as given:
        load_torch(broken)
    assert "\n" not in str(made.value) and "delete" not in str(given.value)
    (tmp_path / "text.pt").write_bytes(b"not a zip")  # torch reads it as an old-style pickle, and stops at once
    with pytest.raises(ArtifactError, match=r"text.pt is truncated or not a memdissect artifact \(UnpicklingError: "
                                            r"Unsupported operand \d+\); valid: a file that torch.save wrote$"):
        load_torch(tmp_path / "text.pt")
