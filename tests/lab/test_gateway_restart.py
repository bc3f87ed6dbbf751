"""A gateway killed with SIGKILL mid-run, then started again: nothing is lost, nothing burns on.

Kernel Gateway keeps no record of its kernels, and a kernel is its own process session, so
a killed gateway's kernels keep running (and a lab keeps paying for the node). The gateway
keeps its own record (``kernels.json``, mode 600 in its state folder); at start it closes
each left run at its last heartbeat and stops each left kernel process that is still
there (a local ipykernel also exits by itself once its parent is gone; a node's agent
stops an SSH kernel after its orphan timeout).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import time

import pytest

from jupyterlab_compute_panel.hosts.gateway.kernels import STATE_FILE, _started

from .test_gateway import bind, kernel_pid, start_kernel

pytestmark = pytest.mark.lab


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not zombie(pid)


def zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def parse(instant: str) -> dt.datetime:
    return dt.datetime.fromisoformat(instant.replace("Z", "+00:00"))


def test_kill_9_then_restart_closes_each_run_at_its_last_heartbeat_and_stops_its_kernel(gateway, tokens):
    kernels = {}
    for user in ("alice", "bob"):
        bind(gateway, tokens[user], f"{user}.ipynb")
        kernels[user] = start_kernel(gateway, tokens[user], f"{user}.ipynb")["id"]
    record = gateway.state_dir / "kernels.json"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    pids = {user: kernel_pid(gateway, kernel_id) for user, kernel_id in kernels.items()}
    time.sleep(2.5)  # a few heartbeats

    gateway.kill()
    killed_at = dt.datetime.now(dt.timezone.utc)
    assert all(alive(pid) for pid in pids.values()), "a killed gateway's kernels keep running by themselves"
    time.sleep(1.5)
    gateway.start()

    assert not any(alive(pid) for pid in pids.values()), "kernels the killed gateway left still run"
    status, runs = gateway.request("GET", "/compute-panel/runs?grant=nsf-lab", token=tokens["carol"])
    assert status == 200, runs
    by_kernel: dict[str, list[dict]] = {}
    for run in runs["runs"]:
        by_kernel.setdefault(run["kernel_id"], []).append(run)
    for user, kernel_id in kernels.items():
        (run,) = by_kernel[kernel_id]  # one run per kernel: not reopened, not doubled
        assert run["status"] == "closed" and run["user"] == user
        assert run["end_reason"] == "server_restart"
        assert run["ended"] == run["last_heartbeat"]
        assert parse(run["ended"]) <= killed_at
        assert 1.5 <= run["duration_s"] <= 4.5
    for user in ("alice", "bob"):
        status, listed = gateway.request("GET", "/api/kernels", token=tokens[user])
        assert status == 200 and listed == []


def test_a_kernel_left_running_is_stopped_at_restart_and_a_reused_pid_is_not(gateway, tokens):
    gateway.stop()
    # A process of the gateway's account that outlives it (no parent to poll), and one whose
    # number is in the record with another start time (a pid reused since).
    left = subprocess.Popen(["runuser", "-u", gateway.account.pw_name, "--", "sleep", "600"], start_new_session=True)
    time.sleep(0.5)
    (sleeper,) = [int(p) for p in open(f"/proc/{left.pid}/task/{left.pid}/children").read().split()]
    other = subprocess.Popen(["runuser", "-u", gateway.account.pw_name, "--", "sleep", "600"], start_new_session=True)
    time.sleep(0.5)
    (innocent,) = [int(p) for p in open(f"/proc/{other.pid}/task/{other.pid}/children").read().split()]
    record = {
        "k-left": {"user": "alice", "run_id": None, "pid": sleeper, "pid_started": _started(sleeper)},
        "k-reused": {"user": "bob", "run_id": None, "pid": innocent, "pid_started": _started(innocent) - 1},
    }
    (gateway.state_dir / STATE_FILE).write_text(json.dumps(record))
    try:
        gateway.start()
        left.wait(timeout=15)
        assert not alive(sleeper)
        assert alive(innocent), "a process that merely took a recorded number was stopped"
        assert "stopped kernel k-left of alice" in gateway.log.read_text()
    finally:
        other.kill()
        subprocess.run(["kill", str(innocent)], check=False)
