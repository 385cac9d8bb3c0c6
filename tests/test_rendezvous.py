"""The room where training jobs meet: requests, one leader at a time, outcomes, and what a dead process leaves."""

import os
import signal
import subprocess
import sys
import time

import pytest

from memdissect.rendezvous import Room, process_alive, room_folder
from workflow_runs import REPO


@pytest.fixture
def room(tmp_path):
    return Room(tmp_path / "room")


def ended_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_request_is_claimed_once_and_its_outcome_reaches_it(room):
    request = room.request("model-a", {"settings": {"lr": 0.1}})
    assert room.outcome(request) is None
    claimed = room.claim(limit=4, held=set())
    assert [c["name"] for c in claimed] == ["model-a"] and claimed[0]["settings"] == {"lr": 0.1}
    assert room.claim(limit=4, held={"model-a"}) == []
    room.finish(claimed[0], {"status": "ok"})
    assert room.outcome(request) == {"status": "ok", "token": request["token"]}


def test_an_outcome_left_by_an_earlier_request_of_the_same_name_is_not_taken(room):
    earlier = room.request("model-a", {})
    room.finish(room.claim(4, set())[0], {"status": "failed", "error": "X", "message": "old"})
    later = room.request("model-a", {})
    assert room.outcome(later) is None and room.outcome(earlier) is None  # the new request cleared it


def test_claims_stop_at_the_limit_oldest_request_first(room):
    for name in ("c", "a", "b"):
        room.request(name, {})
        time.sleep(0.01)
    assert [r["name"] for r in room.claim(limit=2, held=set())] == ["c", "a"]
    assert [r["name"] for r in room.claim(limit=2, held={"c", "a"})] == ["b"]


def test_one_leader_at_a_time(room, tmp_path):
    other = Room(tmp_path / "room")
    assert room.take_lead() and not other.take_lead()
    room.step_down()
    assert other.take_lead()


def test_the_lock_of_a_killed_leader_is_free_and_its_claims_pass_to_the_next(room, tmp_path):
    request = room.request("model-a", {})
    leader = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; sys.path.insert(0, 'src'); from memdissect.rendezvous import Room; "
         f"r = Room({str(tmp_path / 'room')!r}); assert r.take_lead(); r.claim(4, set()); print('leading', flush=True);"
         " time.sleep(600)"], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert leader.stdout.readline().strip() == "leading"
    assert not room.take_lead() and not (room.folder / "pending" / "model-a.json").exists()
    os.kill(leader.pid, signal.SIGKILL)
    leader.wait()
    assert room.take_lead()
    assert [r["token"] for r in room.claim(4, set())] == [request["token"]]


def test_requests_of_ended_jobs_are_dropped(room):
    room.request("model-a", {})
    stale = room.folder / "pending" / "model-a.json"
    stale.write_text(stale.read_text().replace(f'"pid": {os.getpid()}', f'"pid": {ended_pid()}'))
    assert room.claim(4, set()) == [] and not stale.exists()


def test_jobs_meet_in_one_room_per_device_data_and_allocation(tmp_path):
    data = [tmp_path / "train.pt", tmp_path / "test.pt"]
    same = room_folder("cuda-1", data, {"SLURM_JOB_ID": "7"})
    assert same == room_folder("cuda-1", data, {"SLURM_JOB_ID": "7"})
    assert same != room_folder("cuda-2", data, {"SLURM_JOB_ID": "7"})
    assert same != room_folder("cuda-1", data, {"SLURM_JOB_ID": "8"})
    assert same != room_folder("cuda-1", [tmp_path / "other.pt", data[1]], {"SLURM_JOB_ID": "7"})


def test_a_process_has_ended_once_killed_even_before_its_parent_reaps_it():
    assert process_alive(os.getpid()) and not process_alive(ended_pid())
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    assert process_alive(sleeper.pid)
    os.kill(sleeper.pid, signal.SIGKILL)
    time.sleep(0.2)  # a zombie now: not reaped until wait()
    assert not process_alive(sleeper.pid)
    sleeper.wait()
