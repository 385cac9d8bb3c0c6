"""Another user of the node, for the tests of what memdissect keeps outside the working directory.

The tests act as that user (uid 65534, nobody) through setpriv, which needs root, as this project's
machines run the tests; elsewhere they are skipped.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OTHER_UID = 65534
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="acting as another user (setpriv) needs root"
)
SETPRIV = ["setpriv", "--reuid", str(OTHER_UID), "--regid", str(OTHER_UID), "--clear-groups"]
MAKE_FOLDERS = "import os, sys; os.umask(0); os.makedirs(sys.argv[1], 0o777, exist_ok=True)"


def as_other_user(code: str, *arguments, env=None, check=True) -> subprocess.CompletedProcess:
    """Python code run as the other user, with this checkout's package importable."""
    result = subprocess.run(
        [*SETPRIV, sys.executable, "-c", code, *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**(env or os.environ), "PYTHONPATH": str(REPO / "src")},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"as uid {OTHER_UID}: {result.stderr}")
    return result


def make_folders_as_other_user(folder: Path) -> None:
    """The folder and any missing above it, made by the other user with mode 0777."""
    as_other_user(MAKE_FOLDERS, folder)


def link_as_other_user(link: Path, target: Path) -> None:
    make_folders_as_other_user(target)
    make_folders_as_other_user(link.parent)
    as_other_user("import os, sys; os.symlink(sys.argv[2], sys.argv[1])", link, target)


def file_as_other_user(path: Path, text: str = "") -> None:
    make_folders_as_other_user(path.parent)
    as_other_user(
        "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])", path, text
    )


def place_of_room(node_temp: Path, data: list, monkeypatch) -> Path:
    """Where the room of jobs on the CPU with these data, in this working directory, goes: asked of a throwaway
    temporary folder (asking makes the folders above it), as another user can work it out from public facts."""
    import tempfile

    from memdissect.training.sharing.rendezvous import room_folder

    with tempfile.TemporaryDirectory() as throwaway:
        monkeypatch.setattr(tempfile, "tempdir", throwaway)
        relative = room_folder("cpu", data, {}).relative_to(throwaway)
    monkeypatch.setattr(tempfile, "tempdir", str(node_temp))
    return node_temp / relative


def top_of(place: Path, node_temp: Path) -> Path:
    """The folder memdissect makes first on the way to `place`, in the node's temporary folder."""
    return node_temp / place.relative_to(node_temp).parts[0]
