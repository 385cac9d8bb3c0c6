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
