"""Where training jobs that run on the same device at the same time meet, so that one process trains them all.

A room is a folder on the node, one per device, data set and scheduler allocation. A job writes its
request (what to train and where its files go) into ``pending/``. The job that holds the room's
lock is its leader: it moves requests to ``claimed/``, trains them together, and writes each one's
outcome to ``done/``. Every other job waits for its outcome; when the leader's process ends, the
lock is free again and the next job to take it becomes the leader, taking over the requests the
dead one had claimed (their training resumes from their per-epoch resume states). A request whose
job has ended is dropped, so no outputs are ever written for a job that is no longer running.

Pure Python without torch: the protocol is files, renames and one lock.
"""

import fcntl
import hashlib
import json
import os
import socket
import tempfile
import uuid
from pathlib import Path

from memdissect.io import atomic_path


def room_folder(device_name: str, data_paths: list, environment=os.environ) -> Path:
    """The room of jobs on this node, device and data set, within one scheduler allocation (if any)."""
    identity = [socket.gethostname(), device_name, environment.get("SLURM_JOB_ID", ""),
                *(str(Path(path).resolve()) for path in data_paths)]
    key = hashlib.sha256("\0".join(identity).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"memdissect-rooms-{os.getuid()}" / key


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


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


class Room:
    """The folder of one room: requests, claims, outcomes and the leader's lock."""

    def __init__(self, folder):
        self.folder = Path(folder)
        for part in ("pending", "claimed", "done"):
            (self.folder / part).mkdir(parents=True, exist_ok=True)
        self.lock_handle = None

    def path(self, part: str, name: str) -> Path:
        return self.folder / part / f"{name}.json"

    # ------------------------------------------------------------------------- a job's side

    def request(self, name: str, payload: dict) -> dict:
        """Ask for `name` to be trained; returns the request, which carries this process and a fresh token."""
        request = {**payload, "name": name, "pid": os.getpid(), "token": uuid.uuid4().hex}
        self.path("done", name).unlink(missing_ok=True)  # an outcome left by an earlier job of the same name
        write_json(request, self.path("pending", name))
        return request

    def outcome(self, request: dict) -> dict | None:
        """The outcome of this request (not of an earlier one of the same name), once it is there."""
        outcome = read_json(self.path("done", request["name"]))
        return outcome if outcome is not None and outcome.get("token") == request["token"] else None

    def take_lead(self) -> bool:
        """Become the leader if no live process is: the lock is the operating system's, so it ends with its holder."""
        if self.lock_handle is not None:
            return True
        handle = open(self.folder / "leader.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self.lock_handle = handle
        return True

    def step_down(self) -> None:
        if self.lock_handle is not None:
            fcntl.flock(self.lock_handle, fcntl.LOCK_UN)
            self.lock_handle.close()
            self.lock_handle = None

    # ------------------------------------------------------------------------- the leader's side

    def claim(self, limit: int, held: set) -> list[dict]:
        """Up to `limit` requests of live jobs to train now: those a dead leader had claimed first, then new
        ones; `held` names the requests this leader trains already. Requests of ended jobs are dropped."""
        claimed = []
        orphans = sorted(self.folder.joinpath("claimed").glob("*.json"))
        pending = sorted(self.folder.joinpath("pending").glob("*.json"), key=lambda path: path.stat().st_mtime)
        for path in orphans + pending:
            if len(claimed) >= limit:
                break
            request = read_json(path)
            if request is None or request["name"] in held or self.outcome(request) is not None:
                continue
            if not process_alive(request["pid"]):
                path.unlink(missing_ok=True)
                continue
            if path.parent.name == "pending":
                try:
                    os.replace(path, self.path("claimed", request["name"]))
                except FileNotFoundError:  # its job withdrew it
                    continue
            claimed.append(request)
        return claimed

    def finish(self, request: dict, outcome: dict) -> None:
        """The request's outcome ({"status": "ok"} or {"status": "failed", "error": ..., "message": ...})."""
        write_json({**outcome, "token": request["token"]}, self.path("done", request["name"]))
        self.path("claimed", request["name"]).unlink(missing_ok=True)

    def drop(self, request: dict) -> None:
        """Forget a request whose job has ended."""
        self.path("claimed", request["name"]).unlink(missing_ok=True)


def write_json(content: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(content))
