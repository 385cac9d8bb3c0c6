"""Which architectures a config may name, found without building or importing them."""

from pathlib import Path

import pytest

from memdissect.study import architectures
from memdissect.study.architectures import ArchitectureError, check_architecture, source_files


def test_memdissects_own_depend_on_their_file_only():
    assert source_files("vgg13") == [str(architectures.PACKAGE_DIR / "models" / "vgg.py")]
    assert architectures.default_name("vgg11") == "vgg11"


def test_torchvision_models_depend_on_the_adapter_and_torchvisions_version():
    files = source_files("torchvision:resnet18")
    assert files[0].endswith("models/external.py") and files[1].endswith("torchvision/version.py")
    assert all(Path(path).is_file() for path in files)
    assert architectures.default_name("torchvision:resnet18") == "resnet18"
    check_architecture("torchvision:resnet18")
    with pytest.raises(
        ArchitectureError, match="torchvision has no classification model 'resnet19'"
    ):
        check_architecture("torchvision:resnet19")
    with pytest.raises(
        ArchitectureError, match="no classification model 'fasterrcnn_resnet50_fpn'"
    ):
        check_architecture(
            "torchvision:fasterrcnn_resnet50_fpn"
        )  # a detection model, not a classifier


def test_a_users_constructor_is_found_in_the_working_directory_without_running_it(tmp_path):
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "__init__.py").write_text("")
    (tmp_path / "lab" / "nets.py").write_text(
        "raise SystemExit('never run at plan time')\n"
        "def wide(num_classes):\n    pass\nnarrow = wide\n"
    )
    check_architecture("lab.nets:wide", tmp_path)
    check_architecture("lab.nets:narrow", tmp_path)
    assert source_files("lab.nets:wide", tmp_path)[1] == str(
        (tmp_path / "lab" / "nets.py").resolve()
    )
    with pytest.raises(ArchitectureError, match=r"nets.py defines no 'deep' at its top level"):
        check_architecture("lab.nets:deep", tmp_path)
    with pytest.raises(
        ArchitectureError, match=r"no module 'lab.other' in the working directory .* lab/other.py"
    ):
        check_architecture("lab.other:wide", tmp_path)


def test_torchvisions_classifiers_are_listed_without_importing_torch():
    from torchvision import models

    assert architectures.torchvision_models() == sorted(models.list_models(module=models))
    import subprocess
    import sys

    code = (
        "import sys; from memdissect.study.architectures import check_architecture; "
        "check_architecture('torchvision:resnet18'); print('torch' in sys.modules)"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONPATH": str(architectures.PACKAGE_DIR.parent)},
        ).stdout.strip()
        == "False"
    )
