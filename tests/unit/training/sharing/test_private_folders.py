"""The folders memdissect keeps outside the working directory: made private whatever the umask, and refused,
in one line that names the folder, its owner and mode and what to do, where another user could reach them."""

import os
import pwd
import stat

import pytest
from other_user import (
    OTHER_UID,
    file_as_other_user,
    link_as_other_user,
    make_folders_as_other_user,
    needs_root,
)

from memdissect.training.sharing.private_folders import (
    PURPOSES,
    PrivateFolderError,
    base_folder,
    private_folder,
    try_lock,
)

ME, OTHER = (f"{pwd.getpwuid(uid).pw_name}, uid {uid}" for uid in (os.geteuid(), OTHER_UID))


def mode_and_owner(path) -> tuple[str, int]:
    info = os.lstat(path)
    return f"{stat.S_IMODE(info.st_mode):04o}", info.st_uid


def refusal(purpose="rooms") -> str:
    """The message private_folder refuses with, which must be one line."""
    with pytest.raises(PrivateFolderError) as refused:
        private_folder(purpose)
    assert "\n" not in str(refused.value)
    return str(refused.value)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_the_folders_are_made_the_users_own_with_mode_0700_whatever_the_umask(node_temp, umask):
    previous = os.umask(umask)
    try:
        folder = private_folder("gpu-slots")
    finally:
        os.umask(previous)
    assert folder == node_temp / f"memdissect-{os.geteuid()}" / "gpu-slots"
    assert mode_and_owner(folder) == mode_and_owner(folder.parent) == ("0700", os.geteuid())


def test_the_base_is_the_override_where_it_is_set_else_the_temporary_folder(node_temp, tmp_path):
    assert base_folder({}) == node_temp / f"memdissect-{os.geteuid()}"
    assert (
        base_folder({"MEMDISSECT_RUNTIME_DIR": str(tmp_path)})
        == tmp_path / f"memdissect-{os.geteuid()}"
    )
    assert base_folder({"MEMDISSECT_RUNTIME_DIR": ""}) == base_folder({})


def test_an_override_that_names_no_folder_is_refused_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMDISSECT_RUNTIME_DIR", str(tmp_path / "missing"))
    assert refusal() == (
        f"cannot make the folder {tmp_path}/missing/memdissect-{os.geteuid()}: No such file or "
        f"directory; set MEMDISSECT_RUNTIME_DIR to an existing folder of your own, where memdissect "
        f"then keeps memdissect-{os.geteuid()}"
    )


def test_a_folder_of_ones_own_that_others_may_read_is_made_private(node_temp):
    base = node_temp / f"memdissect-{os.geteuid()}"
    base.mkdir(mode=0o755)
    base.chmod(0o755)
    private_folder("rooms")
    assert mode_and_owner(base) == ("0700", os.geteuid())


def test_a_folder_of_ones_own_that_others_may_write_is_refused(node_temp):
    base = node_temp / f"memdissect-{os.geteuid()}"
    base.mkdir()
    base.chmod(0o777)
    assert refusal() == (
        f"{base} can be written by other users (owner {ME}, mode 0777), not a folder that only "
        f"this job's user {ME.split(',')[0]} can use: remove it (rm -r {base}) and rerun; memdissect "
        f"makes it anew"
    )
    assert mode_and_owner(base) == (
        "0777",
        os.geteuid(),
    )  # refused, not repaired: others may have been in it


@needs_root
def test_a_folder_another_user_made_is_refused_with_its_owner_and_mode(node_temp):
    base = node_temp / f"memdissect-{os.geteuid()}"
    make_folders_as_other_user(base / "rooms")
    assert refusal() == (
        f"{base} belongs to another user (owner {OTHER}, mode 0777), not a folder that only "
        f"this job's user {ME.split(',')[0]} can use: have its owner or an administrator remove it, "
        f"or set MEMDISSECT_RUNTIME_DIR to a folder of your own"
    )
    assert list((base / "rooms").iterdir()) == []


@needs_root
def test_a_symbolic_link_is_refused_and_not_followed(node_temp):
    base = node_temp / f"memdissect-{os.geteuid()}"
    watched = node_temp / "watched"
    link_as_other_user(base, watched)
    assert refusal().startswith(
        f"{base} is a symbolic link (owner {OTHER}, mode 0777), not a folder"
    )
    assert list(watched.iterdir()) == []


@needs_root
def test_a_file_in_the_folders_place_is_refused(node_temp):
    base = node_temp / f"memdissect-{os.geteuid()}"
    file_as_other_user(base)
    assert refusal().startswith(f"{base} is not a folder (owner {OTHER}, mode 0644)")


def test_a_purpose_folder_is_checked_as_its_base_is(node_temp):
    rooms = private_folder("rooms")
    rooms.rmdir()
    rooms.symlink_to(node_temp)
    assert refusal().startswith(f"{rooms} is a symbolic link")
    with pytest.raises(ValueError, match="purpose must be one of rooms, gpu-slots, got 'cache'"):
        private_folder("cache")
    assert PURPOSES == ("rooms", "gpu-slots")


def test_a_lock_is_held_by_one_open_file_at_a_time_and_never_through_a_link(tmp_path):
    first = try_lock(tmp_path / "a.lock")
    assert first is not None and try_lock(tmp_path / "a.lock") is None
    assert mode_and_owner(tmp_path / "a.lock") == ("0600", os.geteuid())
    first.close()
    assert try_lock(tmp_path / "a.lock") is not None
    (tmp_path / "link.lock").symlink_to(tmp_path / "elsewhere.lock")
    (tmp_path / "folder.lock").mkdir()
    for unopenable in ("link.lock", "folder.lock"):
        with pytest.raises(OSError):
            try_lock(tmp_path / unopenable)
    assert not (tmp_path / "elsewhere.lock").exists()
