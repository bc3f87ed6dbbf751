"""A server killed or stopped mid-run, and a new server on the same ledger: one closed run per kernel."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from conftest import GRANT_A, HEARTBEAT, assert_grant_spend_matches_runs
from servers import Server

from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.domain.money import cost_micros
from jupyterlab_compute_panel.ledger import Ledger, RunFilter, utcnow

# Real server processes, killed and restarted, waiting out heartbeats: seconds each.
pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path):
    return tmp_path


@pytest.fixture
def config(db_url):
    return {
        "db_url": db_url,
        "owner": "alice",
        "heartbeat_interval": HEARTBEAT,
        "reconcile_interval": 2.0,
        "default_grant": GRANT_A["id"],
    }


@pytest.fixture
def seeded(db_url):
    ledger = Ledger(db_url)
    ledger.migrate()
    ledger.upsert_grant(parse_grant(GRANT_A))
    yield ledger
    ledger.dispose()


def _pid_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie child of the killed server is gone for billing purposes
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split()[2] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.2)
    return False


def _kernel_pid(server: Server, kernel_id: str) -> int:
    # The kernel's connection file names it; its process is the ipykernel child of the server.
    import psutil  # type: ignore[import-not-found]

    for child in psutil.Process(server.proc.pid).children(recursive=True):
        if any(kernel_id in part for part in child.cmdline()):
            return child.pid
    raise AssertionError("kernel process not found")


def _open_runs(ledger: Ledger, kernel_id: str):
    return ledger.list_runs(RunFilter(kernel=kernel_id))[0]


def test_server_killed_mid_run_is_closed_at_last_heartbeat_by_the_next_server(home, config, seeded):
    first = Server(home / "one", config).start()
    try:
        status, kernel = first.request("POST", "/api/kernels", {"name": "compute-panel-rtx4090-python3"})
        assert status == 201, kernel
        kernel_id = kernel["id"]
        kernel_pid = _kernel_pid(first, kernel_id)
        time.sleep(3 * HEARTBEAT + 0.5)
        [run] = _open_runs(seeded, kernel_id)
        assert run.is_open and run.last_heartbeat > run.started
        killed_at = utcnow()
        first.stop(signal.SIGKILL)
    finally:
        first.close()
    # ipykernel notices its parent is gone and exits: no kernel keeps burning money.
    assert _pid_gone(kernel_pid, 15), "the kernel outlived its server"
    [run] = _open_runs(seeded, kernel_id)
    assert run.is_open, "nothing closes the run until a server comes back"

    second = Server(home / "two", config).start()
    try:
        status, body = second.request("GET", f"/compute-panel/runs?kernel={kernel_id}")
        assert status == 200
        [closed] = body["runs"]
        assert closed["status"] == "closed" and closed["end_reason"] == "server_restart"
        [view] = _open_runs(seeded, kernel_id)
        assert view.ended == view.last_heartbeat
        lost = (killed_at - view.ended).total_seconds()
        assert 0 <= lost <= HEARTBEAT + 0.5, f"lost {lost}s, more than one heartbeat"
        assert view.cost_micros_closed == cost_micros(
            view.rate_micros_per_hour, (view.ended - view.started) // dt.timedelta(milliseconds=1)
        )
        # A third start on the same ledger changes nothing: never billed twice.
        second.stop(signal.SIGTERM)
        third = Server(home / "three", config).start()
        third.stop(signal.SIGTERM)
        runs = seeded.list_runs(RunFilter(kernel=kernel_id))[0]
        assert len(runs) == 1 and runs[0].cost_micros_closed == view.cost_micros_closed
        # Closed by the next server's reconciliation: in its grant's rollup rows, once.
        assert assert_grant_spend_matches_runs(seeded) == {
            (GRANT_A["id"], view.started.date(), "rtx4090"): [view.cost_micros_closed, 1]
        }
    finally:
        second.close()


def test_server_stopped_gracefully_closes_its_runs_at_stop(home, config, seeded):
    server = Server(home / "graceful", config).start()
    try:
        status, kernel = server.request("POST", "/api/kernels", {"name": "compute-panel-h200-python3"})
        assert status == 201, kernel
        time.sleep(1.5)
        stopped_at = utcnow()
        server.stop(signal.SIGTERM)
    finally:
        server.close()
    [run] = seeded.list_runs(RunFilter(kernel=kernel["id"]))[0]
    assert run.end_reason == "shutdown"
    assert abs((run.ended - stopped_at).total_seconds()) < 5
    assert_grant_spend_matches_runs(seeded)
    assert run.cost_micros_closed == cost_micros(
        run.rate_micros_per_hour, (run.ended - run.started) // dt.timedelta(milliseconds=1)
    )
