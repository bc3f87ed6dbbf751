"""Idle paid kernels are warned about, then shut down (end reason ``culled``); "keep it" postpones."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from conftest import assert_grant_spend_matches_runs, wait_for

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG
from jupyterlab_compute_panel.ledger import utcnow
from jupyterlab_compute_panel.metering.ending import metered_provisioner
from jupyterlab_compute_panel.metering.service import RUN_EVENT

H200 = "compute-panel-h200-python3"
TIMEOUT = 4
WARNING = 2


@pytest.fixture
def panel_config(panel_config: dict) -> dict:
    import yaml

    tiers = yaml.safe_load(DEMO_CATALOG.read_text(encoding="utf-8"))["tiers"]
    for tier in tiers:
        if tier["id"] == "h200":
            tier["idle_timeout_s"] = TIMEOUT
    return {**panel_config, "tiers": tiers, "idle_warning": WARNING, "idle_check_interval": 0.5}


@pytest.fixture
def events(jp_serverapp):
    """Every run event the server emits, in order (listeners run as tasks after emit)."""
    seen: list[dict] = []

    async def listener(logger, schema_id, data) -> None:
        seen.append(dict(data))

    jp_serverapp.event_logger.add_listener(schema_id=RUN_EVENT, listener=listener)
    yield seen
    jp_serverapp.event_logger.remove_listener(schema_id=RUN_EVENT, listener=listener)


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.rstrip("Z"))


async def start_h200(jp_fetch, jp_serverapp, service, grants) -> str:
    # pytest-jupyter never runs the server's post-start hook: start the extension's timers
    # (the idle culler among them) as `jupyter server` does.
    if not service.lifecycle.started:
        await jp_serverapp.extension_manager.start_all_extensions()
    service.default_grant = grants[0]
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": H200}))
    return json.loads(response.body)["id"]


async def closed_run(api, kernel_id: str):
    status, run = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert status == 200, run
    return run if run["status"] == "closed" else None


def of(events: list[dict], kernel_id: str, action: str) -> list[dict]:
    return [e for e in events if e["kernel_id"] == kernel_id and e["action"] == action]


@pytest.mark.slow
async def test_an_idle_paid_kernel_is_warned_then_culled(jp_fetch, jp_serverapp, api, grants, service, events):
    kernel_id = await start_h200(jp_fetch, jp_serverapp, service, grants)
    [warning] = await wait_for(lambda: of(events, kernel_id, "idle_warning"), timeout=TIMEOUT + 5)
    assert kernel_id in jp_serverapp.kernel_manager  # warned before the shutdown
    assert warning["tier_id"] == "h200" and warning["grant_id"] == grants[0]
    shutdown_at = parse_iso(warning["shutdown_at"])
    assert 0 < (shutdown_at - utcnow()).total_seconds() <= WARNING + 0.6

    run = await wait_for(lambda: closed_run(api, kernel_id), timeout=TIMEOUT + 5)
    assert run["end_reason"] == "culled"
    assert abs((parse_iso(run["ended"]) - shutdown_at).total_seconds()) < 1.5
    # The run closes in the provisioner's cleanup, a moment before the kernel manager
    # forgets the kernel: wait for that, it must still happen.
    await wait_for(lambda: kernel_id not in jp_serverapp.kernel_manager, timeout=10)
    [closed] = await wait_for(lambda: of(events, kernel_id, "closed"))
    assert closed["end_reason"] == "culled" and closed["cost"] == run["cost"]["amount"]
    assert len(of(events, kernel_id, "idle_warning")) == 1
    assert_grant_spend_matches_runs(service.ledger)  # the cull's close added its cost


@pytest.mark.slow
async def test_keep_it_postpones_the_shutdown(jp_fetch, jp_serverapp, api, grants, service, events):
    kernel_id = await start_h200(jp_fetch, jp_serverapp, service, grants)
    [warning] = await wait_for(lambda: of(events, kernel_id, "idle_warning"), timeout=TIMEOUT + 5)
    first_deadline = parse_iso(warning["shutdown_at"])

    status, kept = await api("POST", f"compute-panel/kernels/{kernel_id}/keep", body={})
    assert status == 200, kept
    assert kept["kernel_id"] == kernel_id and kept["idle_timeout_s"] == TIMEOUT
    new_deadline = parse_iso(kept["shutdown_at"])
    assert new_deadline > first_deadline
    assert abs((new_deadline - utcnow()).total_seconds() - TIMEOUT) < 1

    # Past the first deadline the run is still open ...
    await asyncio.sleep((first_deadline - utcnow()).total_seconds() + 1)
    _, run = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert run["status"] == "open"
    # ... warned again for the new idle period, then culled at the new deadline.
    await wait_for(lambda: len(of(events, kernel_id, "idle_warning")) == 2, timeout=TIMEOUT + 3)
    assert parse_iso(of(events, kernel_id, "idle_warning")[1]["shutdown_at"]) == new_deadline
    run = await wait_for(lambda: closed_run(api, kernel_id), timeout=TIMEOUT + 5)
    assert run["end_reason"] == "culled"
    assert parse_iso(run["ended"]) >= new_deadline - dt.timedelta(milliseconds=100)


@pytest.mark.slow
async def test_a_busy_kernel_is_never_culled(jp_fetch, jp_serverapp, api, grants, service, events):
    kernel_id = await start_h200(jp_fetch, jp_serverapp, service, grants)
    kernel = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    client = kernel.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=30)
        warned_before = len(of(events, kernel_id, "idle_warning"))
        started = utcnow()
        client.execute("import time; time.sleep(8)")
        await wait_for(lambda: kernel.execution_state == "busy", timeout=10, interval=0.05)
        await wait_for(lambda: kernel.execution_state == "idle", timeout=20)
        busy_for = (utcnow() - started).total_seconds()
        assert busy_for >= 7.5  # longer than the idle timeout, and it lived through it
        assert len(of(events, kernel_id, "idle_warning")) == warned_before  # not warned while busy
        _, run = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
        assert run["status"] == "open"
    finally:
        client.stop_channels()
    # Idle again: the clock starts at the end of the work, and it is culled after that.
    run = await wait_for(lambda: closed_run(api, kernel_id), timeout=TIMEOUT + 5)
    assert run["end_reason"] == "culled"


async def test_keep_on_an_unknown_or_free_kernel_is_404(jp_fetch, api, grants):
    status, body = await api("POST", "compute-panel/kernels/no-such-kernel/keep", body={})
    assert status == 404 and body.get("field") == "kernel_id", body
    response = await jp_fetch(
        "api", "kernels", method="POST", body=json.dumps({"name": "compute-panel-local-cpu-python3"})
    )
    local = json.loads(response.body)["id"]
    status, body = await api("POST", f"compute-panel/kernels/{local}/keep", body={})
    assert status == 404 and body.get("field") == "kernel_id", body
    await jp_fetch("api", "kernels", local, method="DELETE")


@pytest.mark.slow
async def test_a_cull_under_way_when_the_server_stops_finishes(jp_fetch, jp_serverapp, grants, service):
    """The server stopping cancels the culler's task; the kernel's shutdown, halfway, goes on
    to the end (a cut one leaves jupyter_client waiting for ever, and the server's own
    shutdown failing), and its run closes as culled."""
    kernel_manager = jp_serverapp.kernel_manager
    kernel_id = await start_h200(jp_fetch, jp_serverapp, service, grants)
    provisioner = metered_provisioner(kernel_manager, kernel_id)
    await wait_for(lambda: provisioner.end_reason == "culled", timeout=TIMEOUT + 5, interval=0.02)

    await jp_serverapp.extension_manager.stop_all_extensions()
    assert kernel_id not in kernel_manager  # the stop waited for the shutdown
    await kernel_manager.shutdown_all()  # and the server's own cleanup has nothing left to trip on
    run = await service.db(service.ledger.current_run_for_kernel, kernel_id)
    assert run is not None and run.ended is not None and run.end_reason == "culled"
