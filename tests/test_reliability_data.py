"""Bad data stops a job with one line that names the file or folder, in the log and on the terminal."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from config_checks import demo_config
from memdissect import validation
from memdissect.io import DataError
from memdissect.labels import check_label_table
from workflow_runs import REPO, snakemake, write_config


def write_image(path, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def test_image_folder_class_lists_that_differ_are_named(tmp_path):
    for split, name in (("train", "cat"), ("train", "dog"), ("test", "cat"), ("test", "bird")):
        (tmp_path / split / name).mkdir(parents=True)
    with pytest.raises(DataError, match=r"train and test class lists differ \(only in train: \['dog'\]; "
                                        r"only in test: \['bird'\]\)") as refused:
        validation.image_folder_classes(tmp_path)
    assert str(tmp_path) in str(refused.value)


def test_image_folder_without_a_split_names_the_folder(tmp_path):
    (tmp_path / "train" / "cat").mkdir(parents=True)
    with pytest.raises(DataError, match=f"image folder {tmp_path} has no test/ folder"):
        validation.image_folder_classes(tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_unreadable_image_names_the_file(tmp_path, damage):
    from memdissect.data import read_rgb_image

    path = tmp_path / "broken.png"
    write_image(path)
    data = path.read_bytes()
    path.write_bytes(b"not an image" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(DataError, match=f"cannot read image {path}"):
        read_rgb_image(path)


def test_label_file_of_another_length_names_the_file_and_the_rule():
    table = pd.DataFrame({"label": np.zeros(9, dtype=np.int64)})
    with pytest.raises(DataError, match=r"label file results/labels/noise1-seed0.parquet has 9 rows but the data set "
                                        r"has 10 training examples; delete it and rerun rule 'make_labels'"):
        check_label_table(table, 10, "results/labels/noise1-seed0.parquet")


def test_incomplete_cifar10_folder_names_the_missing_files(tmp_path):
    from memdissect.data import load_cifar10_split

    folder = tmp_path / validation.CIFAR10_FOLDER
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(b"")
    with pytest.raises(DataError, match=r"is incomplete: data_batch_2, .*test_batch, batches.meta missing"):
        load_cifar10_split(tmp_path, "train")


def test_corrupt_cifar10_folder_names_the_files_that_fail_the_checksum(tmp_path):
    from memdissect.data import load_cifar10_split

    folder = tmp_path / validation.CIFAR10_FOLDER
    folder.mkdir()
    for name in validation.CIFAR10_FILES:
        (folder / name).write_bytes(b"not a pickle")
    with pytest.raises(DataError, match=f"{folder} has files that fail torchvision's checksum: data_batch_1, "):
        load_cifar10_split(tmp_path, "test")


def test_known_class_counts_and_cifar10_files_agree_with_their_sources():
    from torchvision.datasets import CIFAR10

    from memdissect.synthetic import CLASSES

    assert validation.CLASS_COUNTS["synthetic"] == len(CLASSES)
    names = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list] + [CIFAR10.meta["filename"]]
    assert sorted(validation.CIFAR10_FILES) == sorted(names)


JOB = """
import sys, types
sys.path[:0] = [{scripts!r}, {source!r}]
from job import start
from memdissect.io import DataError
start(types.SimpleNamespace(log=[{log!r}], rule="prepare_dataset", threads=1, config={{}}, resources={{}}))
raise {error}
"""


@pytest.mark.parametrize("error, one_line", [
    ("DataError('cannot read image data/train/cat/1.png: image file is truncated')", True),
    ("KeyError('a bug')", False),
])
def test_a_data_error_reaches_the_user_as_one_line_and_a_bug_keeps_its_traceback(tmp_path, error, one_line):
    log = tmp_path / "job.log"
    script = JOB.format(scripts=str(REPO / "workflow" / "scripts"), source=str(REPO / "src"), log=str(log), error=error)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    if one_line:
        expected = "DataError: cannot read image data/train/cat/1.png: image file is truncated"
        assert result.stderr.splitlines() == [expected]
        assert log.read_text().splitlines()[-1].endswith(f"ERROR {expected}")
    else:
        assert "Traceback" in result.stderr and "Traceback" in log.read_text()


@pytest.mark.workflow
def test_a_corrupt_image_stops_data_preparation_with_its_path(tmp_path):
    for split in ("train", "test"):
        for index, name in enumerate(("cat", "dog")):
            write_image(tmp_path / "images" / split / name / "0.png", seed=index)
    (tmp_path / "images" / "train" / "dog" / "1.png").write_bytes(b"\x89PNG broken")
    config = demo_config()
    config["dataset"] = {"kind": "imagefolder", "root": "images", "num_classes": 2}
    config["figures"]["figure3"]["classes"] = [0, 1]
    result = snakemake(tmp_path, "--cores", "1", "results/data/train.pt", config_path=write_config(tmp_path, config),
                       check=False, timeout=600)
    assert result.returncode != 0
    assert "DataError: cannot read image images/train/dog/1.png" in result.stdout, result.stdout[-3000:]
    assert "Traceback" not in result.stdout
    assert not (tmp_path / "results" / "data" / "train.pt").exists()
