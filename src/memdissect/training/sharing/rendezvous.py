"""Where training jobs that run on the same device at the same time meet, so that one process trains them all.

A room is a folder on the node, one per working directory, device, data set and scheduler allocation,
in the user's private folder of rooms (memdissect.training.sharing.private_folders). A job writes its request (what to
train and where its files go) into ``pending/``. The job that holds the room's
lock is its leader: it moves requests to ``claimed/``, trains them together, and writes each one's
outcome to ``done/``. Every other job waits for its outcome; when the leader's process ends, the
lock is free again and the next job to take it becomes the leader, taking over the requests the
dead one had claimed (their training resumes from their per-epoch resume states). A request whose
job has ended is dropped, so no outputs are ever written for a job that is no longer running. The leader
reads only regular files of its own user (never through a link) named after the model id they hold; any
other file is moved to ``refused/`` with a warning, and a request the leader's check refuses fails its job.

Pure Python without torch: the protocol is files, renames and one lock.
"""

import errno
import hashlib
import json
import logging
import os
import re
import socket
import stat
import uuid
from pathlib import Path

from memdissect.io import atomic_path
from memdissect.study.plan import MODEL_ID
from memdissect.training.sharing.private_folders import (
    PrivateFolderError,
    make_private,
    owner_and_mode_at,
    private_folder,
    try_lock,
    user_name,
)

PARTS = ("pending", "claimed", "done", "refused")
TOKEN = re.compile(r"[0-9a-f]{32}")
MOST_BYTES = 1 << 20  # a request is a few hundred bytes


class RequestError(ValueError):
    """A file in a room that is not a request of this user's, or a request the leader does not train; says why."""


def room_folder(device_name: str, data_paths: list, environment=os.environ) -> Path:
    """The room of this working directory's jobs on this node, device and data set, within one scheduler
    allocation (if any): in the user's private folder of rooms (memdissect.training.sharing.private_folders), checked."""
    identity = [
        socket.gethostname(),
        str(Path.cwd()),
        device_name,
        environment.get("SLURM_JOB_ID", ""),
        *(str(Path(path).resolve()) for path in data_paths),
    ]
    key = hashlib.sha256("\0".join(identity).encode()).hexdigest()[:16]
    return private_folder("rooms", environment) / key


def process_alive(pid: int) -> bool:
    """True while the process runs; a killed one that its parent has not yet reaped (a zombie) has ended."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def read_own_json(path: Path) -> dict:
    """The JSON object in `path`, a regular file of this user's, opened without following a link; RequestError
    where it is something else, FileNotFoundError where nothing is there."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise RequestError(
            "it is a symbolic link"
            if error.errno == errno.ELOOP
            else f"it cannot be opened ({error.strerror})"
        ) from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RequestError("it is not a regular file")
        if info.st_uid != os.geteuid():
            raise RequestError(
                f"it belongs to user {user_name(info.st_uid)} (uid {info.st_uid}), not to this "
                f"job's user {user_name(os.geteuid())} (uid {os.geteuid()})"
            )
        text = handle.read(MOST_BYTES + 1)
    try:
        content = json.loads(text) if len(text) <= MOST_BYTES else None
    except ValueError:  # not JSON, or not UTF-8
        content = None
    if not isinstance(content, dict):
        raise RequestError("it is not a JSON object of at most 1 MiB")
    return content


def checked_request(content: dict, path: Path) -> dict:
    """The request, once its name is the model id its file is named after, its pid a process id and its token
    one that Room.request makes."""
    name, pid, token = content.get("name"), content.get("pid"), content.get("token")
    if not (isinstance(name, str) and re.fullmatch(MODEL_ID, name) and path.name == f"{name}.json"):
        raise RequestError("its name is not the model id that its file is named after")
    if not (type(pid) is int and pid > 0 and isinstance(token, str) and TOKEN.fullmatch(token)):
        raise RequestError("its pid or token is not one that a training job writes")
    return content


def shown(path: Path) -> str:
    """The file's place in its room, for a log line: its name as it is where it has only the characters of model
    ids, else escaped."""
    name = path.name if re.fullmatch(r"[A-Za-z0-9_.-]+", path.name) else ascii(path.name)
    return f"{path.parent.name}/{name}"


def one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


class Room:
    """The folder of one room: requests, claims, outcomes and the leader's lock. Its folders are made and checked
    as private to this user (memdissect.training.sharing.private_folders); a file in them that is not a request of this user's is
    moved to ``refused/``, with a warning in the log that names it and why."""

    def __init__(self, folder, warn=None):
        self.folder = make_private(Path(folder))
        for part in PARTS:
            make_private(self.folder / part)
        self.warn = warn or logging.getLogger(__name__).warning
        self.lock_handle = None

    def path(self, part: str, name: str) -> Path:
        return self.folder / part / f"{name}.json"

    # ------------------------------------------------------------------------- a job's side

    def request(self, name: str, payload: dict) -> dict:
        """Ask for `name` (a model id) to be trained; returns the request, which carries this process and a fresh
        token."""
        if not re.fullmatch(MODEL_ID, name):
            raise ValueError(f"a room trains models by their id ({MODEL_ID}), got {name!r}")
        request = {**payload, "name": name, "pid": os.getpid(), "token": uuid.uuid4().hex}
        self.path("done", name).unlink(
            missing_ok=True
        )  # an outcome left by an earlier job of the same name
        write_json(request, self.path("pending", name))
        return request

    def withdraw(self, request: dict) -> None:
        self.path("pending", request["name"]).unlink(missing_ok=True)

    def outcome(self, request: dict) -> dict | None:
        """The outcome of this request (not of an earlier one of the same name), once it is there."""
        try:
            outcome = read_own_json(self.path("done", request["name"]))
        except (FileNotFoundError, RequestError):
            return None
        return outcome if outcome.get("token") == request["token"] else None

    def take_lead(self) -> bool:
        """Become the leader if no live process is: the lock is the operating system's, so it ends with its holder.
        PrivateFolderError where the lock file cannot be opened."""
        if self.lock_handle is None:
            path = self.folder / "leader.lock"
            try:
                self.lock_handle = try_lock(path)
            except OSError as error:
                raise PrivateFolderError(
                    f"cannot open the room's lock {path} ({owner_and_mode_at(path)}): "
                    f"{error.strerror}; remove it (rm -r {path}) and rerun"
                ) from None
        return self.lock_handle is not None

    def step_down(self) -> None:
        if self.lock_handle is not None:
            self.lock_handle.close()  # which releases the lock
            self.lock_handle = None

    # ------------------------------------------------------------------------- the leader's side

    def claim(self, limit: int, held: set, check=lambda request: None) -> list[dict]:
        """Up to `limit` requests of live jobs to train now: those a dead leader had claimed first, then new
        ones; `held` names the requests this leader trains already. Requests of ended jobs are dropped; one that
        `check` refuses (RequestError) fails its job with the reason."""
        claimed = []
        orphans = sorted(self.folder.joinpath("claimed").glob("*.json"))
        pending = sorted(self.folder.joinpath("pending").glob("*.json"), key=modified_time)
        for path in orphans + pending:
            if len(claimed) >= limit:
                break
            request = self.read_request(path)
            if request is None or request["name"] in held or self.outcome(request) is not None:
                continue
            if not process_alive(request["pid"]):
                path.unlink(missing_ok=True)
                continue
            try:
                check(request)
            except RequestError as error:
                self.refuse(path, request, str(error))
                continue
            if path.parent.name == "pending":
                try:
                    os.replace(path, self.path("claimed", request["name"]))
                except FileNotFoundError:  # its job withdrew it
                    continue
            claimed.append(request)
        return claimed

    def read_request(self, path: Path) -> dict | None:
        """The request in `path`; None where it has gone, or where it is no request of this user's (moved aside)."""
        try:
            return checked_request(read_own_json(path), path)
        except FileNotFoundError:
            return None
        except RequestError as error:
            aside = self.folder / "refused" / uuid.uuid4().hex
            try:
                os.replace(path, aside)
            except FileNotFoundError:
                return None
            self.warn(
                f"room {self.folder}: dropped {shown(path)}, which is no request of this user's: "
                f"{one_line(str(error))}; moved to {shown(aside)}"
            )
            return None

    def refuse(self, path: Path, request: dict, reason: str) -> None:
        """A request of this user's that this leader does not train: its job fails with the reason."""
        message = (
            f"the training job of pid {os.getpid()} did not train this request: {one_line(reason)}"
        )
        write_json(
            {
                "status": "failed",
                "error": "RequestError",
                "message": message,
                "token": request["token"],
            },
            self.path("done", request["name"]),
        )
        path.unlink(missing_ok=True)
        self.warn(
            f"room {self.folder}: refused {shown(path)} (job pid {request['pid']}): {one_line(reason)}"
        )

    def finish(self, request: dict, outcome: dict) -> None:
        """The request's outcome ({"status": "ok"} or {"status": "failed", "error": ..., "message": ...})."""
        write_json({**outcome, "token": request["token"]}, self.path("done", request["name"]))
        self.path("claimed", request["name"]).unlink(missing_ok=True)

    def drop(self, request: dict) -> None:
        """Forget a request whose job has ended."""
        self.path("claimed", request["name"]).unlink(missing_ok=True)


def modified_time(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except FileNotFoundError:  # withdrawn since it was listed
        return 0.0


def write_json(content: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(content))
