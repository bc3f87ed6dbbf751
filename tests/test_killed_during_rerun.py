"""``kill -9`` of the server while a re-run executes, and a new server on the same ledger.

The re-run's kernel dies with its server (ipykernel follows its parent); the next server
marks the re-run failed, closes its run at its last heartbeat (``server_restart``) and
bills it once, whatever the ledger is (SQLite here, PostgreSQL in the outage tests).
"""

from __future__ import annotations

import datetime as dt
import signal
import time

import nbformat
import pytest
from conftest import GRANT_A, assert_grant_spend_matches_runs
from servers import Server
from test_server_lifecycle import _kernel_pid, _pid_gone

from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.domain.money import cost_micros
from jupyterlab_compute_panel.ledger import Ledger, RunFilter, utcnow

pytestmark = pytest.mark.slow
HEARTBEAT = 0.5


def _sleeping(server: Server, rerun_id: str, timeout: float = 60) -> None:
    """Until the re-run has run its first cell and sleeps in its second."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        _, state = server.request("GET", f"/compute-panel/reruns/{rerun_id}")
        if state["status"] == "running" and state["cells_done"] == 1:
            return
        time.sleep(0.2)
    raise AssertionError(f"the re-run never reached its second cell: {state}")


def test_kill_9_during_a_rerun(tmp_path, db_url):
    seeded = Ledger(db_url)
    seeded.migrate()
    seeded.upsert_grant(parse_grant(GRANT_A))
    config = {"db_url": db_url, "owner": "alice", "heartbeat_interval": HEARTBEAT, "reconcile_interval": 1.0}
    first = Server(tmp_path / "one", config)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in ("print('started')", "import time\ntime.sleep(120)", "1")]
    nbformat.write(nb, tmp_path / "one" / "root" / "slow.ipynb")
    first.start()
    try:
        status, rerun = first.request(
            "POST", "/compute-panel/reruns", {"path": "slow.ipynb", "tier_id": "rtx4090", "grant_id": GRANT_A["id"]}
        )
        assert status == 201, rerun
        _sleeping(first, rerun["id"])
        kernel_pid = _kernel_pid(first, rerun["kernel_id"])
        time.sleep(3 * HEARTBEAT)
        killed_at = utcnow()
        first.stop(signal.SIGKILL)
    finally:
        first.close()
    assert _pid_gone(kernel_pid, 15), "the re-run's kernel outlived its server"

    second = Server(tmp_path / "two", config).start()
    try:
        status, after = second.request("GET", f"/compute-panel/reruns/{rerun['id']}")
        assert status == 200, after
        assert after["status"] == "failed" and after["error"] == "The server stopped while it ran", after
        [run] = seeded.list_runs(RunFilter(kernel=rerun["kernel_id"]))[0]
        assert run.end_reason == "server_restart" and run.ended == run.last_heartbeat
        assert 0 <= (killed_at - run.ended).total_seconds() <= HEARTBEAT + 0.5
        assert run.cost_micros_closed == cost_micros(
            run.rate_micros_per_hour, (run.ended - run.started) // dt.timedelta(milliseconds=1)
        )
        assert_grant_spend_matches_runs(seeded)
    finally:
        second.close()
        seeded.dispose()
