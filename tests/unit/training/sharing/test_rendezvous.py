"""The room where training jobs meet: requests, one leader at a time, outcomes, and what a dead process leaves."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from other_user import (
    OTHER_UID,
    file_as_other_user,
    link_as_other_user,
    make_folders_as_other_user,
    needs_root,
    place_of_room,
    top_of,
)
from workflow_runs import REPO

from memdissect.training.sharing.rendezvous import Room, process_alive, room_folder

A = "true-vgg11-s1"  # a model id, as every request names one


@pytest.fixture
def warnings() -> list:
    return []


@pytest.fixture
def room(tmp_path, warnings):
    return Room(tmp_path / "room", warn=warnings.append)


def ended_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_request_is_claimed_once_and_its_outcome_reaches_it(room):
    request = room.request(A, {"settings": {"lr": 0.1}})
    assert room.outcome(request) is None
    claimed = room.claim(limit=4, held=set())
    assert [c["name"] for c in claimed] == [A] and claimed[0]["settings"] == {"lr": 0.1}
    assert room.claim(limit=4, held={A}) == []
    room.finish(claimed[0], {"status": "ok"})
    assert room.outcome(request) == {"status": "ok", "token": request["token"]}


def test_an_outcome_left_by_an_earlier_request_of_the_same_name_is_not_taken(room):
    earlier = room.request(A, {})
    room.finish(room.claim(4, set())[0], {"status": "failed", "error": "X", "message": "old"})
    later = room.request(A, {})
    assert (
        room.outcome(later) is None and room.outcome(earlier) is None
    )  # the new request cleared it


def test_claims_stop_at_the_limit_oldest_request_first(room):
    c, a, b = (f"{condition}-vgg11-s1" for condition in "cab")
    for name in (c, a, b):
        room.request(name, {})
        time.sleep(0.01)
    assert [r["name"] for r in room.claim(limit=2, held=set())] == [c, a]
    assert [r["name"] for r in room.claim(limit=2, held={c, a})] == [b]


def test_one_leader_at_a_time(room, tmp_path):
    other = Room(tmp_path / "room")
    assert room.take_lead() and not other.take_lead()
    room.step_down()
    assert other.take_lead()


def test_the_lock_of_a_killed_leader_is_free_and_its_claims_pass_to_the_next(room, tmp_path):
    request = room.request(A, {})
    leader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; sys.path.insert(0, 'src'); from memdissect.training.sharing.rendezvous import Room; "
            f"r = Room({str(tmp_path / 'room')!r}); assert r.take_lead(); r.claim(4, set()); print('leading', flush=True);"
            " time.sleep(600)",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert leader.stdout.readline().strip() == "leading"
    assert not room.take_lead() and not (room.folder / "pending" / f"{A}.json").exists()
    os.kill(leader.pid, signal.SIGKILL)
    leader.wait()
    assert room.take_lead()
    assert [r["token"] for r in room.claim(4, set())] == [request["token"]]


def test_requests_of_ended_jobs_are_dropped(room):
    room.request(A, {})
    stale = room.folder / "pending" / f"{A}.json"
    stale.write_text(stale.read_text().replace(f'"pid": {os.getpid()}', f'"pid": {ended_pid()}'))
    assert room.claim(4, set()) == [] and not stale.exists()


def test_jobs_meet_in_one_room_per_device_data_and_allocation(node_temp, tmp_path):
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


def test_jobs_of_another_working_directory_meet_in_another_room(node_temp, tmp_path, monkeypatch):
    data = [tmp_path / "train.pt", tmp_path / "test.pt"]
    here = room_folder("cpu", data, {})
    monkeypatch.chdir(tmp_path)
    assert room_folder("cpu", data, {}) != here


# ----------------------------------------------------------------------------- what another user can do


def data_of(node_temp: Path) -> list:
    return [node_temp / "train.pt", node_temp / "test.pt"]


def enter_room(node_temp: Path) -> Room:
    return Room(room_folder("cpu", data_of(node_temp), {}))


def refusal(node_temp: Path) -> str:
    with pytest.raises(RuntimeError) as refused:
        enter_room(node_temp)
    assert "\n" not in str(refused.value)
    return str(refused.value)


@needs_root
def test_a_room_another_user_made_world_writable_is_not_used(node_temp, monkeypatch):
    place = place_of_room(node_temp, data_of(node_temp), monkeypatch)
    make_folders_as_other_user(place)
    assert f"belongs to another user (owner nobody, uid {OTHER_UID}, mode 0777)" in refusal(
        node_temp
    )
    assert list(place.iterdir()) == []


@needs_root
def test_a_symbolic_link_at_the_rooms_place_is_refused(node_temp, monkeypatch):
    top, watched = (
        top_of(place_of_room(node_temp, data_of(node_temp), monkeypatch), node_temp),
        node_temp / "watched",
    )
    link_as_other_user(top, watched)
    assert refusal(node_temp).startswith(
        f"{top} is a symbolic link (owner nobody, uid {OTHER_UID}, mode 0777)"
    )
    assert list(watched.iterdir()) == []


def test_a_symbolic_link_in_place_of_a_room_of_ones_own_is_refused(node_temp, tmp_path):
    room = enter_room(node_temp)
    shutil.rmtree(room.folder)
    room.folder.symlink_to(tmp_path)
    assert refusal(node_temp).startswith(f"{room.folder} is a symbolic link")
    assert list(tmp_path.iterdir()) == []


@needs_root
def test_a_file_at_the_rooms_place_gives_one_line(node_temp, monkeypatch):
    top = top_of(place_of_room(node_temp, data_of(node_temp), monkeypatch), node_temp)
    file_as_other_user(top)
    assert refusal(node_temp).startswith(
        f"{top} is not a folder (owner nobody, uid {OTHER_UID}, mode 0644)"
    )


def test_a_lock_that_cannot_be_opened_stops_the_lead_with_one_line(room):
    (room.folder / "leader.lock").mkdir()
    with pytest.raises(
        RuntimeError,
        match=r"^cannot open the room's lock .*/leader.lock \(owner .*, mode 0\d+\): "
        r"Is a directory; remove it \(rm -r .*\) and rerun$",
    ):
        room.take_lead()


def write_request(path: Path, content: dict) -> None:
    path.write_text(json.dumps(content))


@needs_root
def test_a_request_another_user_wrote_is_not_claimed_and_the_leader_says_so(room, warnings):
    request = room.request(A, {})
    os.chown(room.path("pending", A), OTHER_UID, OTHER_UID)
    assert room.claim(4, set()) == [] and not room.path("pending", A).exists()
    (moved,) = (room.folder / "refused").iterdir()
    assert json.loads(moved.read_text())["token"] == request["token"]
    assert warnings == [
        f"room {room.folder}: dropped pending/{A}.json, which is no request of this user's: it "
        f"belongs to user nobody (uid {OTHER_UID}), not to this job's user root (uid 0); moved to "
        f"refused/{moved.name}"
    ]


def test_a_link_in_the_room_is_not_followed(room, tmp_path, warnings):
    request = room.request(A, {})
    room.path("pending", A).rename(tmp_path / "elsewhere.json")
    room.path("pending", A).symlink_to(tmp_path / "elsewhere.json")
    assert room.claim(4, set()) == [] and "it is a symbolic link" in warnings[0]
    assert (
        json.loads((tmp_path / "elsewhere.json").read_text()) == request
    )  # the link went, not what it named


@pytest.mark.parametrize(
    "name, shown",
    [
        ("true\nINFO injected-vgg11-s1", r"'true\nINFO injected-vgg11-s1.json'"),
        ("../../true-vgg11-s1", None),
        ("true-vgg11", "true-vgg11.json"),
    ],
)
def test_a_request_whose_name_is_no_model_id_is_dropped_and_never_logged_as_it_is(
    room, warnings, name, shown
):
    write_request(
        room.folder / "pending" / f"{Path(name).name}.json",
        {"name": name, "pid": os.getpid(), "token": "0" * 32},
    )
    assert room.claim(4, set()) == []
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert (
        f"dropped pending/{shown or Path(name).name + '.json'}, which is no request of this user's: its name is "
        f"not the model id that its file is named after" in warnings[0]
    )


@pytest.mark.parametrize(
    "content, reason",
    [
        ("not json", "it is not a JSON object of at most 1 MiB"),
        ("[1, 2]", "it is not a JSON object of at most 1 MiB"),
        (
            json.dumps({"name": A, "pid": "1", "token": "0" * 32}),
            "its pid or token is not one that a training job writes",
        ),
        (
            json.dumps({"name": A, "pid": 1, "token": "x"}),
            "its pid or token is not one that a training job writes",
        ),
    ],
)
def test_a_file_that_is_no_request_is_dropped_saying_why(room, warnings, content, reason):
    room.path("pending", A).write_text(content)
    assert room.claim(4, set()) == [] and reason in warnings[0]


def test_a_request_the_leader_refuses_fails_its_job_with_the_reason(room, warnings):
    from memdissect.training.sharing.rendezvous import RequestError

    def refuse(request):
        raise RequestError("its outputs are not where the plan puts them")

    request = room.request(A, {})
    assert room.claim(4, set(), check=refuse) == [] and not room.path("pending", A).exists()
    assert room.outcome(request) == {
        "status": "failed",
        "error": "RequestError",
        "token": request["token"],
        "message": f"the training job of pid {os.getpid()} did not train this request: "
        f"its outputs are not where the plan puts them",
    }
    assert warnings == [
        f"room {room.folder}: refused pending/{A}.json (job pid {os.getpid()}): its outputs are not "
        f"where the plan puts them"
    ]
