"""The ledger's database goes away while paid kernels run, and comes back.

Real faults through the real pieces: a PostgreSQL server of the test's own stopped with
``pg_ctl`` and started again, a SQLite ledger on an ext4 file system that the kernel
turns read-only, and one on a tmpfs that fills up (tests/faults.py), under a real
in-process Jupyter server running real kernels.

Scaled down (docs/configuration.md, "When the ledger is unreachable"): heartbeats every
0.5 s instead of 15 s. "PostgreSQL stopped for 60 s with a grace of 15 minutes" is a 6 s
stop with a 20 s grace here (the stop well inside the grace, a dozen missed heartbeats);
"stopped past the grace" is a 3 s grace outlived by an 8 s stop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import time

import pytest
from conftest import GRANT_A, assert_grant_spend_matches_runs, free_port, wait_for
from faults import BreakableFilesystem, PostgresCluster, SmallDisk
from servers import Server
from test_server_lifecycle import _kernel_pid, _pid_gone
from tornado.httpclient import HTTPClientError

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file
from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.domain.money import cost_micros
from jupyterlab_compute_panel.errors import ConfigError
from jupyterlab_compute_panel.ledger import Ledger, LedgerUnreachable, RunFilter, utcnow
from jupyterlab_compute_panel.metering.config import ComputePanelSettings
from jupyterlab_compute_panel.metering.outage import LedgerOutage

RTX = "compute-panel-rtx4090-python3"
LOCAL = "compute-panel-local-cpu-python3"
HEARTBEAT = 0.5
# Words a driver's message carries and a user must never see.
DRIVER_WORDS = ("psycopg", "sqlite", "127.0.0.1", "localhost", "connection refused", "Traceback", "/")


@pytest.fixture
def grace() -> float:
    return 20.0


@pytest.fixture
def panel_config(db_url: str, grace: float) -> dict:
    return {
        "db_url": db_url,
        "heartbeat_interval": HEARTBEAT,
        "reconcile_interval": 1.0,
        "owner": "alice",
        "default_grant": GRANT_A["id"],
        "ledger_outage_grace": grace,
        "capture_environment": False,
    }


@pytest.fixture
def cluster():
    cluster = PostgresCluster()
    yield cluster
    cluster.close()


async def start_kernel(jp_fetch, name: str) -> str:
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": name}))
    return json.loads(response.body)["id"]


async def refused(jp_fetch, *path: str, **kwargs) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch(*path, **kwargs)
    return error.value.code, json.loads(error.value.response.body or b"{}")


def assert_one_sentence_no_driver_text(message: str) -> None:
    assert message.startswith("The compute ledger is unreachable"), message
    assert "\n" not in message
    for words in DRIVER_WORDS:
        assert words.lower() not in message.lower().replace("/h", ""), (words, message)


def runs_by_kernel(url: str) -> dict:
    ledger = Ledger(url)
    try:
        return {run.kernel_id: run for run in ledger.list_runs(RunFilter(), limit=1000)[0]}
    finally:
        ledger.dispose()


def assert_cost_exact(run) -> None:
    assert run.cost_micros_closed == cost_micros(run.rate_micros_per_hour, run.duration_ms(run.ended))


async def shut_down(jp_fetch, kernel_ids) -> None:
    for kernel_id in kernel_ids:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def ledger_back(service) -> None:
    """The service finds the ledger back at its next call (a heartbeat round, the reconciler)."""
    await wait_for(lambda: not service.outage.away, timeout=30)


# -- the setting and the classification ---------------------------------------------------
@pytest.mark.parametrize("value", [-1.0, 86401.0])
def test_a_grace_out_of_range_is_one_line(value):
    with pytest.raises(ConfigError) as error:
        ComputePanelSettings(ledger_outage_grace=value).check_settings()
    assert str(error.value) == f"ComputePanel.ledger_outage_grace: must be between 0 and 86400 seconds, got {value}"


def test_a_database_nobody_answers_is_unreachable_in_words_without_host_or_port():
    port = free_port()  # nothing listens there: the connection is refused
    ledger = Ledger(f"postgresql+psycopg://compute@127.0.0.1:{port}/ledger")
    try:
        with pytest.raises(LedgerUnreachable) as error:
            ledger.ping()
    finally:
        ledger.dispose()
    assert error.value.kind == "unreachable"
    assert_one_sentence_no_driver_text(error.value.message)
    assert str(port) not in error.value.message
    assert error.value.__cause__ is not None  # the driver's error, for the log


def test_what_was_held_is_written_once_however_often_it_is_written(ledger):
    """The writes on return are idempotent: a held heartbeat only moves a run forward, a held
    close applies once, a held open of a free tier is recorded as it was, and a held write
    the ledger refuses (not an outage) is dropped rather than blocking the rest."""
    import logging

    catalog = read_catalog_file(DEMO_CATALOG)
    ledger.sync_tiers(catalog)
    ledger.upsert_grant(parse_grant(GRANT_A))
    rtx, local = catalog.get("rtx4090"), catalog.get("local-cpu")
    t0 = utcnow() - dt.timedelta(minutes=10)
    fields = {"kernelspec": "k", "user": "alice", "notebook": "a.ipynb", "now": t0}
    kept = ledger.open_run(kernel_id="kept", tier=rtx, grant_id=GRANT_A["id"], **fields)
    ended = ledger.open_run(kernel_id="ended", tier=rtx, grant_id=GRANT_A["id"], **fields)
    outage = LedgerOutage(grace=60, log=logging.getLogger("test"))
    outage.note(LedgerUnreachable("unreachable"))
    free = {**fields, "kernel_id": "free", "tier": local, "grant_id": None, "run_id": "f" * 32, "now": t0}
    outage.hold_open(free, ledger.draft_run(**free))
    outage.hold([kept.id, ended.id, "f" * 32], t0 + dt.timedelta(minutes=5))
    outage.hold([kept.id], t0 + dt.timedelta(minutes=4))  # an older moment never moves a run back
    outage.hold_close(ended.id, "shutdown", t0 + dt.timedelta(minutes=3))
    outage.pending.append(outage.pending[0])  # the same open twice: the second is refused, and dropped

    closed = outage.flush(ledger)
    assert [run.id for run in closed] == [ended.id] and not outage.away
    assert ledger.get_run(kept.id).last_heartbeat == t0 + dt.timedelta(minutes=5)
    assert ledger.get_run("f" * 32).started == t0 and ledger.get_run("f" * 32).is_open
    first = ledger.get_run(ended.id)
    assert first.ended == t0 + dt.timedelta(minutes=3) and first.end_reason == "shutdown"

    # The same state written again (a flush that raced another) changes nothing.
    outage.note(LedgerUnreachable("unreachable"))
    outage.hold([kept.id], t0 + dt.timedelta(minutes=5))
    outage.hold_close(ended.id, "shutdown", t0 + dt.timedelta(minutes=3))
    assert outage.flush(ledger) == []
    assert ledger.get_run(ended.id) == first
    assert ledger.get_run(kept.id).last_heartbeat == t0 + dt.timedelta(minutes=5)
    assert_grant_spend_matches_runs(ledger)


def test_a_database_away_at_start_up_is_one_line_naming_the_setting():
    from jupyterlab_compute_panel.ledger import LedgerError

    settings = ComputePanelSettings(db_url=f"postgresql+psycopg://compute@127.0.0.1:{free_port()}/ledger")
    with pytest.raises(LedgerError) as error:
        settings.build_service(None, write=False)
    assert str(error.value) == (
        "ComputePanel.db_url: cannot open the ledger (its database is stopped or cannot be reached)"
    )


# -- PostgreSQL ---------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.postgres
class TestPostgresStopped:
    @pytest.fixture
    def db_url(self, cluster) -> str:
        return cluster.url

    async def test_inside_the_grace_nothing_is_lost_nothing_stopped(self, jp_fetch, api, cluster, ledger, service):
        ledger.upsert_grant(parse_grant(GRANT_A))
        paid = [await start_kernel(jp_fetch, RTX) for _ in range(5)]
        leaving = await start_kernel(jp_fetch, RTX)  # its user shuts it down during the outage
        dying = await start_kernel(jp_fetch, RTX)  # its process is killed during the outage
        await asyncio.sleep(3 * HEARTBEAT)

        cluster.stop()
        stopped_at = utcnow()
        await wait_for(lambda: service.outage.away, timeout=10)

        # Reads and paid starts say what is away and what still works; Local CPU still starts.
        status, body = await api("GET", "compute-panel/runs")
        assert status == 503, body
        assert_one_sentence_no_driver_text(body["message"])
        assert "Local CPU still works" in body["message"]
        status, body = await refused(jp_fetch, "api", "kernels", method="POST", body=json.dumps({"name": RTX}))
        assert status == 503, body
        assert_one_sentence_no_driver_text(body["message"])
        assert "paid tiers cannot start; Local CPU still works" in body["message"]
        # Opening a notebook on a paid tier (JupyterLab's POST /api/sessions): the same 503.
        session = {"path": "outage.ipynb", "type": "notebook", "name": "outage.ipynb", "kernel": {"name": RTX}}
        status, body = await refused(jp_fetch, "api", "sessions", method="POST", body=json.dumps(session))
        assert (status, body["reason"]) == (503, "unavailable"), body
        assert "paid tiers cannot start; Local CPU still works" in body["message"]
        local = await start_kernel(jp_fetch, LOCAL)
        local_started = utcnow()

        await asyncio.sleep(2)
        await jp_fetch("api", "kernels", leaving, method="DELETE")
        left_at = utcnow()
        os.kill(service.kernel_manager.get_kernel(dying).provisioner.inner.pid, signal.SIGKILL)
        killed_at = utcnow()
        await asyncio.sleep(6 - (utcnow() - stopped_at).total_seconds())

        cluster.start()
        back_at = utcnow()
        await ledger_back(service)

        # Nothing stopped: every paid kernel still runs, its run still open and heartbeated.
        running = {k["id"] for k in json.loads((await jp_fetch("api", "kernels")).body)}
        assert set(paid) | {local} <= running
        runs = runs_by_kernel(cluster.url)
        for kernel_id in paid:
            assert runs[kernel_id].is_open
            assert runs[kernel_id].last_heartbeat >= back_at - dt.timedelta(seconds=2 * HEARTBEAT)
        # The kernel shut down during the outage: closed when it was, its seconds billed once.
        gone = runs[leaving]
        assert gone.end_reason == "shutdown"
        assert left_at - dt.timedelta(seconds=1) <= gone.ended <= left_at
        assert_cost_exact(gone)
        # The kernel killed during the outage: closed when the meter noticed, not later.
        dead = runs[dying]
        assert dead.end_reason == "died"
        assert killed_at <= dead.ended <= killed_at + dt.timedelta(seconds=2 * HEARTBEAT + 2)
        assert_cost_exact(dead)
        # The Local CPU kernel started during the outage is in the ledger as it started.
        assert runs[local].tier_id == "local-cpu" and runs[local].is_open
        assert abs((runs[local].started - local_started).total_seconds()) < 1

        status, body = await api("GET", "compute-panel/runs")
        assert status == 200, body

        await shut_down(jp_fetch, [*paid, local])
        ended = utcnow()
        runs = runs_by_kernel(cluster.url)
        for kernel_id in paid:
            run = runs[kernel_id]
            assert run.end_reason == "shutdown"
            # One run from start to shutdown, across the outage: no second, no gap.
            assert run.started < stopped_at and back_at < run.ended <= ended
            assert_cost_exact(run)
        check = Ledger(cluster.url)
        assert_grant_spend_matches_runs(check)
        check.dispose()

    @pytest.mark.parametrize("grace", [3.0])
    async def test_past_the_grace_paid_kernels_stop_billed_to_the_last_held_heartbeat(
        self, jp_fetch, cluster, ledger, service, grace
    ):
        ledger.upsert_grant(parse_grant(GRANT_A))
        paid = [await start_kernel(jp_fetch, RTX) for _ in range(2)]
        local = await start_kernel(jp_fetch, LOCAL)
        await asyncio.sleep(3 * HEARTBEAT)

        stopping_at = utcnow()  # its first refused call may come before pg_ctl returns
        cluster.stop()
        stopped_at = utcnow()
        km = service.kernel_manager
        await wait_for(lambda: not any(k in km for k in paid), timeout=grace + 15)
        all_stopped = utcnow()
        assert (all_stopped - stopping_at).total_seconds() >= grace
        assert local in km  # a free tier costs nothing while the ledger is away: it keeps running
        await asyncio.sleep(8 - (utcnow() - stopped_at).total_seconds())

        cluster.start()
        await ledger_back(service)
        runs = runs_by_kernel(cluster.url)
        for kernel_id in paid:
            run = runs[kernel_id]
            assert run.end_reason == "ledger_unreachable"
            # Billed through the grace, to the heartbeat held when the grace ran out: not
            # for the outage's rest, not for the seconds the kernel took to stop.
            assert stopping_at + dt.timedelta(seconds=grace) <= run.ended <= all_stopped
            assert_cost_exact(run)
        assert runs[local].is_open
        await shut_down(jp_fetch, [local])
        check = Ledger(cluster.url)
        assert_grant_spend_matches_runs(check)
        check.dispose()


# -- SQLite on a broken file system --------------------------------------------------------
@pytest.mark.slow
@pytest.mark.mounts
class TestSqliteFileSystem:
    @pytest.fixture
    def disk(self, tmp_path, request):
        fault = request.param(tmp_path / "disk")
        yield fault
        fault.close()

    @pytest.fixture
    def db_url(self, disk) -> str:
        return f"sqlite:///{disk.path / 'ledger.sqlite'}"

    @pytest.mark.parametrize(
        ("disk", "break_it", "mend_it", "kinds"),
        [
            (BreakableFilesystem, "go_read_only", "repair", ("read_only", "io_error")),
            (SmallDisk, "fill", "free", ("full",)),
        ],
        ids=["read-only", "disk-full"],
        indirect=["disk"],
    )
    async def test_kernels_run_on_and_their_time_is_written_when_it_mends(
        self, jp_fetch, api, ledger, service, disk, db_url, break_it, mend_it, kinds
    ):
        ledger.upsert_grant(parse_grant(GRANT_A))
        ledger.dispose()  # the server's own connections only, from here
        paid = [await start_kernel(jp_fetch, RTX) for _ in range(2)]
        await asyncio.sleep(3 * HEARTBEAT)

        getattr(disk, break_it)()
        broken_at = utcnow()
        await wait_for(lambda: service.outage.away, timeout=10)
        assert service.outage.kind in kinds
        status, body = await api("GET", "compute-panel/runs")
        assert status == 503, body
        assert_one_sentence_no_driver_text(body["message"])
        await asyncio.sleep(3)

        getattr(disk, mend_it)()
        mended_at = utcnow()
        await ledger_back(service)
        running = {k["id"] for k in json.loads((await jp_fetch("api", "kernels")).body)}
        assert set(paid) <= running
        url = db_url
        runs = runs_by_kernel(url)
        for kernel_id in paid:
            assert runs[kernel_id].is_open
            assert runs[kernel_id].last_heartbeat >= mended_at - dt.timedelta(seconds=2 * HEARTBEAT)

        await shut_down(jp_fetch, paid)
        runs = runs_by_kernel(url)
        for kernel_id in paid:
            run = runs[kernel_id]
            assert run.end_reason == "shutdown" and run.started < broken_at and run.ended > mended_at
            assert_cost_exact(run)


# -- a server killed during an outage ------------------------------------------------------
@pytest.mark.slow
@pytest.mark.postgres
def test_a_server_killed_during_an_outage_bills_to_the_last_recorded_heartbeat(tmp_path, cluster):
    """What the server held dies with it: the next start closes the run at its last
    recorded heartbeat, once; the held seconds are not billed."""
    seeded = Ledger(cluster.url)
    seeded.migrate()
    seeded.upsert_grant(parse_grant(GRANT_A))
    config = {
        "db_url": cluster.url,
        "owner": "alice",
        "heartbeat_interval": HEARTBEAT,
        "reconcile_interval": 1.0,
        "default_grant": GRANT_A["id"],
        "capture_environment": False,
    }
    first = Server(tmp_path / "one", config).start()
    try:
        status, kernel = first.request("POST", "/api/kernels", {"name": RTX})
        assert status == 201, kernel
        kernel_pid = _kernel_pid(first, kernel["id"])
        time.sleep(4 * HEARTBEAT)
        seeded.dispose()  # no connection of the test's across the stop
        cluster.stop()
        stopped_at = utcnow()
        time.sleep(6 * HEARTBEAT)
        status, body = first.request("GET", "/compute-panel/runs")
        assert status == 503, body
        first.stop(signal.SIGKILL)
    finally:
        first.close()
    assert _pid_gone(kernel_pid, 15), "the kernel outlived its server"
    cluster.start()

    second = Server(tmp_path / "two", config).start()
    try:
        [run] = seeded.list_runs(RunFilter(kernel=kernel["id"]))[0]
        assert run.end_reason == "server_restart" and run.ended == run.last_heartbeat
        assert stopped_at - dt.timedelta(seconds=2 * HEARTBEAT + 1) <= run.ended <= stopped_at
        assert_cost_exact(run)
        second.stop(signal.SIGTERM)
        again = Server(tmp_path / "three", config).start()
        again.stop(signal.SIGTERM)
        [same] = seeded.list_runs(RunFilter(kernel=kernel["id"]))[0]
        assert same.cost_micros_closed == run.cost_micros_closed
        assert_grant_spend_matches_runs(seeded)
    finally:
        second.close()
        seeded.dispose()
