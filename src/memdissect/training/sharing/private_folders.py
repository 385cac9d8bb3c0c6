"""The folders memdissect keeps outside the working directory, private to the job's user.

Jobs on one node meet outside their working directory: training jobs in rooms
(memdissect.training.sharing.rendezvous), GPU jobs in the locks of GPU slots (memdissect.training.device). Other users of
the node must not watch, steer or break them, so every such folder lies in one base folder of
the job's user:

    $MEMDISSECT_RUNTIME_DIR/memdissect-<uid>/<purpose>   where that variable is set (a folder of yours)
    <temp>/memdissect-<uid>/<purpose>                      otherwise; <temp> is $TMPDIR, else /tmp

Both folders are made with mode 0700 whatever the umask, and checked before every use: a real
folder (not a symbolic link), owned by the job's user, which no one else can write. One of the
user's own that others may only read is made private (chmod 0700); anything else is refused with
one line that names it, its owner and mode, and what to do. XDG_RUNTIME_DIR is not used unless
named: systemd removes it when the user's last login session ends, under a workflow left running.

Pure Python without torch.
"""

import fcntl
import os
import pwd
import stat
import tempfile
from pathlib import Path

PURPOSES = ("rooms", "gpu-slots")  # every folder memdissect keeps outside the working directory
OVERRIDE = "MEMDISSECT_RUNTIME_DIR"
PRIVATE_MODE = 0o700


class PrivateFolderError(RuntimeError):
    """A folder (or lock file) that memdissect keeps outside the working directory is not the job's user's own."""


def base_folder(environment=os.environ) -> Path:
    """Where the user's private folders lie (made by private_folder, not here)."""
    return Path(environment.get(OVERRIDE) or tempfile.gettempdir()) / base_name()


def base_name() -> str:
    return f"memdissect-{os.geteuid()}"


def private_folder(purpose: str, environment=os.environ) -> Path:
    """The folder for `purpose` (one of PURPOSES), made if missing and checked, as is the base folder above it."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, got {purpose!r}")
    return make_private(make_private(base_folder(environment)) / purpose)


def make_private(folder: Path) -> Path:
    """The folder, made with mode 0700 if missing; refused unless it is a real folder of this user's that no one
    else can write; made private where others may read it."""
    folder = Path(folder)
    try:
        folder.mkdir(mode=PRIVATE_MODE)
    except FileExistsError:
        pass
    except OSError as error:
        raise PrivateFolderError(
            f"cannot make the folder {folder}: {error.strerror}; set {OVERRIDE} to an "
            f"existing folder of your own, where memdissect then keeps {base_name()}"
        ) from None
    info = os.lstat(folder)
    problem = refusal(info)
    if problem:
        raise PrivateFolderError(
            f"{folder} {problem} ({owner_and_mode(info)}), not a folder that only this job's "
            f"user {user_name(os.geteuid())} can use: {remedy(folder, info)}"
        )
    if stat.S_IMODE(info.st_mode) != PRIVATE_MODE:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            os.fchmod(descriptor, PRIVATE_MODE)
        finally:
            os.close(descriptor)
    return folder


def refusal(info: os.stat_result) -> str | None:
    """Why a folder with this lstat is not private to this user; None where it is (or may be made so)."""
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a folder"
    if info.st_uid != os.geteuid():
        return "belongs to another user"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "can be written by other users"
    return None


def remedy(path: Path, info: os.stat_result) -> str:
    if info.st_uid == os.geteuid():
        return f"remove it (rm -r {path}) and rerun; memdissect makes it anew"
    return (
        f"have its owner or an administrator remove it, or set {OVERRIDE} to a folder of your own"
    )


def owner_and_mode(info: os.stat_result) -> str:
    return (
        f"owner {user_name(info.st_uid)}, uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):04o}"
    )


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return "unnamed"


def owner_and_mode_at(path: Path) -> str:
    """What is at `path`, for a message: its owner and mode, or that nothing is."""
    try:
        return owner_and_mode(os.lstat(path))
    except OSError as error:
        return error.strerror


def try_lock(path: Path):
    """An exclusive lock on the file at `path` (made, mode 0600, if missing), held while the returned file stays
    open; None while another process holds it. The lock is the operating system's: it ends with its holder.
    OSError where the file cannot be opened (a link, a folder, another user's file)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    handle = os.fdopen(descriptor, "r+b", buffering=0)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    except OSError:
        handle.close()
        raise
    return handle
