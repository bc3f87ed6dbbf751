"""Budgets while kernels run: alerts at the thresholds, a countdown, the hard stop (issue 3).

The ledger parts run on SQLite and PostgreSQL (``any_db_url``); the server parts start
real kernels in a real in-process server, on a tier whose high rate spends a small
budget in seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import uuid

import pytest
import yaml
from conftest import GRANT_A, assert_grant_spend_matches_runs, wait_for

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file
from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.domain.money import cost_micros, parse_amount
from jupyterlab_compute_panel.hosts.app import ComputePanel, ConfigError
from jupyterlab_compute_panel.ledger import Ledger, utcnow
from jupyterlab_compute_panel.metering.budget import BUDGET_EVENT
from jupyterlab_compute_panel.metering.service import RUN_EVENT, MeteringService

CATALOG = read_catalog_file(DEMO_CATALOG)
H200 = CATALOG.get("h200")  # 3.50 USD an hour
TEAM = {"co_pis": ["carol"], "members": ["bob:member", "dave:member", "erin:member", "vic:viewer"]}
# What the server tests run on: a tier that spends 36 USD an hour (0.01 USD a second).
BURNER = "compute-panel-h200-python3"
BURNER_RATE = "36.00"
HEARTBEAT = 0.5
COUNTDOWN = 3.0


# -- the ledger, as servers sharing it see it ------------------------------------------
class KernelStandIn:
    """A live kernel as the meter's heartbeat round sees it (the bench uses the same)."""

    async def poll_for_meter(self) -> int | None:
        return None


@pytest.fixture
def ledger(any_db_url):
    ledger = Ledger(any_db_url)
    ledger.migrate()
    ledger.sync_tiers(CATALOG)
    yield ledger
    ledger.dispose()


def add_grant(ledger: Ledger, budget: str, **policies) -> str:
    ledger.upsert_grant(parse_grant({**GRANT_A, **TEAM, "budget": budget, "hard_stop": False, **policies}))
    return GRANT_A["id"]


class Servers:
    """Metering services of several single-user servers (one per owner) on one ledger URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.services: dict[str, MeteringService] = {}

    def of(self, owner: str) -> MeteringService:
        if owner not in self.services:
            ledger = Ledger(self.url)
            self.services[owner] = MeteringService(
                catalog=CATALOG, ledger=ledger, owner=owner, heartbeat_interval=3600.0
            )
        return self.services[owner]

    async def start_kernel(self, owner: str, grant_id: str, minutes_ago: float = 0) -> str:
        """A kernel of ``owner`` on H200, charged to the grant since ``minutes_ago``."""
        run = await self.of(owner).open_run(
            KernelStandIn(),
            kernel_id=str(uuid.uuid4()),
            kernelspec=BURNER,
            tier=H200,
            grant_id=grant_id,
            user=owner,
            notebook=f"{owner}.ipynb",
            now=utcnow() - dt.timedelta(minutes=minutes_ago),
        )
        return run.id

    async def close(self) -> None:
        for service in self.services.values():
            await service.stop()
            service._executor.shutdown(wait=True)
            service.ledger.dispose()


@pytest.fixture
def servers(any_db_url, ledger, jp_asyncio_loop):
    servers = Servers(any_db_url)
    yield servers
    jp_asyncio_loop.run_until_complete(servers.close())


def rows(ledger: Ledger, *users: str) -> dict[str, list[tuple[int, int]]]:
    """Each user's alerts as (threshold, budget in micro-units)."""
    return {user: [(a.threshold_pct, a.budget_micros) for a in ledger.alerts_for(user, False)] for user in users}


EVERYONE = ("alice", "carol", "bob", "dave", "erin", "vic")


async def test_thresholds_alert_the_pis_and_users_with_a_running_kernel_once(ledger, servers):
    grant = add_grant(ledger, "5.00")
    await servers.start_kernel("bob", grant, minutes_ago=60)  # 3.50 of 5.00 spent: 70 %
    for _ in range(3):
        await servers.of("bob").heartbeat()
    five = parse_amount("5.00")
    assert rows(ledger, *EVERYONE) == {
        "alice": [(50, five)],  # the PI
        "carol": [(50, five)],  # a co-PI
        "bob": [(50, five)],  # a member with a running kernel
        "dave": [],  # a member without one
        "erin": [],
        "vic": [],  # a viewer
    }
    [alert] = ledger.alerts_for("bob")
    assert alert.spent_micros >= parse_amount("3.50") and alert.to_json()["spent"].startswith("3.50")


async def test_two_servers_racing_on_a_crossing_insert_each_alert_once(ledger, servers):
    grant = add_grant(ledger, "10.00")
    # Two servers meter kernels on the grant: 2 x 3.50 = 7.00 of 10.00 once both run.
    await servers.start_kernel("bob", grant, minutes_ago=60)
    await servers.start_kernel("erin", grant, minutes_ago=60)
    for _ in range(3):
        await asyncio.gather(servers.of("bob").heartbeat(), servers.of("erin").heartbeat())
    ten = parse_amount("10.00")
    got = rows(ledger, *EVERYONE)
    assert got == {
        "alice": [(50, ten)],
        "carol": [(50, ten)],
        "bob": [(50, ten)],
        "erin": [(50, ten)],
        "dave": [],
        "vic": [],
    }


def test_simultaneous_records_of_one_crossing_insert_once(ledger):
    """Eight threads record the same crossing at the same instant: one row per recipient."""
    grant = add_grant(ledger, "1.00")
    ledger.open_run(kernel_id="k", kernelspec=BURNER, tier=H200, grant_id=grant, user="bob", notebook=None)
    barrier = threading.Barrier(8)
    inserted: list[int] = []
    lock = threading.Lock()

    def record() -> None:
        barrier.wait()
        new = ledger.record_alerts(grant, 1_000_000, [50, 80], 900_000)
        with lock:
            inserted.append(len(new))

    threads = [threading.Thread(target=record) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(inserted) == 6  # 2 thresholds x (alice, carol, bob), whoever won
    assert rows(ledger, "alice", "carol", "bob") == {
        u: [(50, 1_000_000), (80, 1_000_000)] for u in ("alice", "carol", "bob")
    }


async def test_a_new_budget_fires_its_thresholds_again(ledger, servers):
    grant = add_grant(ledger, "5.00")
    await servers.start_kernel("bob", grant, minutes_ago=60)  # 3.50: 70 % of 5.00
    await servers.of("bob").heartbeat()
    ledger.set_budget(grant, parse_amount("10.00"))  # 35 %: nothing new
    await servers.of("bob").heartbeat()
    assert [t for t, _ in rows(ledger, "alice")["alice"]] == [50]
    await servers.start_kernel("bob", grant, minutes_ago=60)  # 7.00: 70 % of 10.00
    await servers.of("bob").heartbeat()
    assert rows(ledger, "alice")["alice"] == [(50, parse_amount("5.00")), (50, parse_amount("10.00"))]
    ledger.set_budget(grant, parse_amount("5.00"))  # back to 5.00: its 50 % was already sent
    await servers.of("bob").heartbeat()
    assert sorted(rows(ledger, "alice")["alice"]) == [
        (50, parse_amount("5.00")),
        (50, parse_amount("10.00")),
        (80, parse_amount("5.00")),
        (100, parse_amount("5.00")),
    ]


async def test_a_countdown_is_predicted_from_the_burn_of_every_server(ledger, servers):
    """Hard stop on: the stop instant is what is left over the rates of all the grant's open runs."""
    grant = add_grant(ledger, "3.60", hard_stop=True)
    bob = servers.of("bob")
    bob.budget.countdown = dt.timedelta(minutes=10)
    await servers.start_kernel("bob", grant, minutes_ago=60)  # 3.50 spent, 0.10 left at 3.50/h: ~103 s
    await bob.heartbeat()
    [countdown] = bob.budget.countdowns("bob")
    assert 95 <= (countdown.stop_at - utcnow()).total_seconds() <= 103
    assert countdown.reason.startswith("Grant NSF CNS-2401234 has 0.09")
    # A kernel on another server burns the same budget: the stop comes twice as soon.
    await servers.start_kernel("erin", grant)
    await bob.heartbeat()
    [countdown] = bob.budget.countdowns("bob")
    assert 45 <= (countdown.stop_at - utcnow()).total_seconds() <= 52
    assert "its 2 running kernels spend 7.00 USD an hour" in countdown.reason
    assert bob.budget.countdowns("erin") == []  # erin's kernel is counted down by erin's server


def test_budget_countdown_is_validated():
    with pytest.raises(ConfigError, match=r"ComputePanel.budget_countdown: must be between 0 and 86400 seconds"):
        ComputePanel(budget_countdown=-1.0, owner="alice").check_settings()


# -- the server, with real kernels ----------------------------------------------------------
@pytest.fixture
def panel_config(panel_config: dict) -> dict:
    tiers = yaml.safe_load(DEMO_CATALOG.read_text(encoding="utf-8"))["tiers"]
    for tier in tiers:
        if tier["id"] == "h200":
            tier["price"]["per_hour"] = BURNER_RATE
    return {**panel_config, "tiers": tiers, "heartbeat_interval": HEARTBEAT, "budget_countdown": COUNTDOWN}


@pytest.fixture
def events(jp_serverapp):
    """Every run and budget event the server emits, in order."""
    seen: list[dict] = []

    async def listener(logger, schema_id, data) -> None:
        seen.append({"schema": schema_id, **dict(data)})

    for schema in (RUN_EVENT, BUDGET_EVENT):
        jp_serverapp.event_logger.add_listener(schema_id=schema, listener=listener)
    yield seen
    for schema in (RUN_EVENT, BUDGET_EVENT):
        jp_serverapp.event_logger.remove_listener(schema_id=schema, listener=listener)


def server_grant(service, budget: str, **policies) -> str:
    service.ledger.upsert_grant(
        parse_grant({**GRANT_A, **TEAM, "budget": budget, "min_runtime_minutes": 0, **policies})
    )
    service.default_grant = GRANT_A["id"]
    return GRANT_A["id"]


async def start_kernel(jp_fetch) -> str:
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": BURNER}))
    return json.loads(response.body)["id"]


async def closed_run(api, kernel_id: str):
    status, run = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert status == 200, run
    return run if run["status"] == "closed" else None


async def test_alerts_are_listed_for_their_recipient_and_marked_delivered(api, service, jp_serverapp):
    grant = server_grant(service, "1.00", hard_stop=False)
    service.ledger.open_run(kernel_id="k", kernelspec=BURNER, tier=H200, grant_id=grant, user="bob", notebook=None)
    service.ledger.record_alerts(grant, parse_amount("1.00"), [50, 80], parse_amount("0.85"))

    status, body = await api("GET", "compute-panel/alerts")
    assert status == 200, body
    assert [(a["threshold_pct"], a["spent"], a["budget"], a["currency"]) for a in body["alerts"]] == [
        (50, "0.85", "1.00", "USD"),
        (80, "0.85", "1.00", "USD"),
    ]
    first = body["alerts"][0]
    assert first["grant_id"] == grant and first["award_number"] == "NSF CNS-2401234"
    assert first["grant_title"] == GRANT_A["title"] and first["hard_stop"] is False and first["delivered"] is None
    assert body["countdowns"] == [] and body["stopped"] == []

    status, delivered = await api("POST", f"compute-panel/alerts/{first['id']}/delivered", body={})
    assert status == 200 and delivered["id"] == first["id"] and delivered["delivered"], delivered
    status, again = await api("POST", f"compute-panel/alerts/{first['id']}/delivered", body={})
    assert status == 200 and again["delivered"] == delivered["delivered"]  # idempotent
    _, body = await api("GET", "compute-panel/alerts")
    assert [a["threshold_pct"] for a in body["alerts"]] == [80]

    # bob's alert is not alice's to mark, and an unknown id is no one's.
    [bobs] = [a for a in service.ledger.alerts_for("bob") if a.threshold_pct == 50]
    for alert_id in (bobs.id, "no-such-alert"):
        status, error = await api("POST", f"compute-panel/alerts/{alert_id}/delivered", body={})
        assert status == 404 and error["field"] == "alert_id" and alert_id in error["message"], error
    assert service.ledger.alerts_for("bob")[0].delivered is None

    status, error = await api("GET", "compute-panel/alerts", params={"grant": grant})
    assert status == 400 and error["field"] == "grant"


@pytest.mark.slow
async def test_hard_stop_counts_down_then_stops_the_kernel_within_one_heartbeat(jp_fetch, api, service, events):
    # 0.05 USD at 0.01 USD a second: about 5 seconds of kernel, the last 3 counted down.
    grant = server_grant(service, "0.05")
    kernel_id = await start_kernel(jp_fetch)

    async def countdown():
        _, body = await api("GET", "compute-panel/alerts")
        return [c for c in body["countdowns"] if c["kernel_id"] == kernel_id]

    [shown] = await wait_for(countdown, timeout=15, interval=0.1)
    assert 0 < shown["seconds_left"] <= COUNTDOWN + 1
    assert shown["grant_id"] == grant and shown["tier_label"] == "H200 training"
    assert shown["reason"].startswith("Grant NSF CNS-2401234 has 0.0") and "36.00 USD an hour" in shown["reason"]
    assert kernel_id in service.budget.kernel_manager  # warned before the stop

    run = await wait_for(lambda: closed_run(api, kernel_id), timeout=15)
    assert run["end_reason"] == "budget"
    # The run closes in the kernel's cleanup, just before the kernel manager forgets it.
    await wait_for(lambda: kernel_id not in service.budget.kernel_manager, timeout=10)

    # Overspend: at most one heartbeat of the kernel's rate (plus the round's own timing
    # on this shared machine, and one micro-unit of rounding).
    spent = service.ledger.grant_spend([grant], utcnow())[grant]
    overspend = spent - parse_amount("0.05")
    bound = cost_micros(parse_amount(BURNER_RATE), int(HEARTBEAT * 1000) + 250) + 1
    assert 0 <= overspend <= bound, (overspend, bound)
    assert_grant_spend_matches_runs(service.ledger)  # the budget stop's close added its cost

    _, body = await api("GET", "compute-panel/alerts")
    [stop] = body["stopped"]
    assert stop["run_id"] == run["id"] and stop["warned"] is True
    assert stop["message"].startswith("Grant NSF CNS-2401234 has spent its budget (")
    assert body["countdowns"] == []
    assert [a["threshold_pct"] for a in body["alerts"]] == [50, 80, 100]

    def of(action: str) -> list[dict]:
        return [e for e in events if e["action"] == action and e.get("kernel_id", kernel_id) == kernel_id]

    await wait_for(lambda: of("closed"))
    assert of("budget_warning") and of("budget_warning")[0]["stop_at"].endswith("Z")
    assert [e["message"] for e in of("budget_stop")] == [stop["message"]]
    assert of("closed")[0]["end_reason"] == "budget"
    assert [e["threshold_pct"] for e in of("budget_alert")] == [50, 80, 100]
    assert set(of("budget_alert")[0]["recipients"]) == {"alice", "carol"}


async def test_a_budget_lowered_below_the_spend_stops_at_the_next_heartbeat(jp_fetch, api, service):
    grant = server_grant(service, "100.00")
    kernel_id = await start_kernel(jp_fetch)
    await wait_for(lambda: service.ledger.budget_status([grant])[grant].spent_micros > 0, timeout=15)
    await asyncio.sleep(2 * HEARTBEAT)
    _, body = await api("GET", "compute-panel/alerts")
    assert body["countdowns"] == []  # 100.00 lasts hours

    # Said before it is done: the dry run names the kernel, and a save that does not say it
    # knows is refused, the budget kept.
    status, stops = await api("GET", f"compute-panel/grants/{grant}/stops", params={"budget": "0.000001"})
    assert status == 200, stops
    [kernel] = stops["kernels"]
    assert kernel["kernel_id"] == kernel_id and kernel["tier_label"] == "H200 training"
    assert kernel["user"] == service.owner and kernel["rate_per_hour"] == BURNER_RATE
    assert stops["hard_stop"] is True and stops["budget"] == "0.000001" and stops["currency"] == "USD"
    status, body = await api("GET", f"compute-panel/grants/{grant}/stops", params={"budget": "100.00"})
    assert status == 200 and body["kernels"] == []  # above the spend: stops nothing
    status, body = await api(
        "GET", f"compute-panel/grants/{grant}/stops", params={"budget": "0.000001", "hard_stop": "false"}
    )
    assert status == 200 and body["kernels"] == []  # no hard stop: stops nothing
    for method, path, edit in (
        ("PUT", f"compute-panel/grants/{grant}/budget", {"budget": "0.000001"}),
        ("PATCH", f"compute-panel/grants/{grant}", {"budget": "0.000001", "title": "Lowered"}),
    ):
        status, body = await api(method, path, body=edit)
        assert status == 409, body
        assert body["field"] == "stop_kernels"
        assert body["message"].startswith("Saving this would stop 1 running kernel of grant NSF CNS-2401234 at once")
    status, body = await api("GET", f"compute-panel/grants/{grant}")
    assert body["budget"] == "100.00" and body["title"] == GRANT_A["title"]
    status, body = await api(
        "PUT", f"compute-panel/grants/{grant}/budget", body={"budget": "0.000001", "stop_kernels": "yes"}
    )
    assert status == 422 and body["field"] == "stop_kernels"
    _, run = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert run["status"] == "open"

    status, _ = await api(
        "PUT", f"compute-panel/grants/{grant}/budget", body={"budget": "0.000001", "stop_kernels": True}
    )
    assert status == 200
    lowered = utcnow()
    run = await wait_for(lambda: closed_run(api, kernel_id), timeout=15)
    assert run["end_reason"] == "budget"
    ended = dt.datetime.fromisoformat(run["ended"].rstrip("Z"))
    assert (ended - lowered).total_seconds() <= HEARTBEAT + 0.5  # the next heartbeat, no countdown
    _, body = await api("GET", "compute-panel/alerts")
    [stop] = body["stopped"]
    assert stop["warned"] is False
    assert "stopped without a countdown (this happens when a budget is lowered below what was spent)" in stop["message"]


@pytest.mark.slow
async def test_without_hard_stop_a_spent_grant_only_alerts(jp_fetch, api, service):
    grant = server_grant(service, "0.02", hard_stop=False)  # 2 seconds of kernel
    kernel_id = await start_kernel(jp_fetch)
    await wait_for(lambda: service.ledger.budget_status([grant])[grant].spent_micros > parse_amount("0.04"), timeout=20)
    await asyncio.sleep(3 * HEARTBEAT)
    _, run = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert run["status"] == "open"
    _, body = await api("GET", "compute-panel/alerts")
    assert body["countdowns"] == [] and body["stopped"] == []
    assert [a["threshold_pct"] for a in body["alerts"]] == [50, 80, 100]
    assert all(a["hard_stop"] is False for a in body["alerts"])
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    run = await wait_for(lambda: closed_run(api, kernel_id))
    assert run["end_reason"] == "shutdown"


async def test_a_rerun_stopped_by_the_budget_says_so(jp_root_dir, api, service):
    """A headless re-run is charged like any kernel: the hard stop ends it too, and its error
    names the budget, not a dead kernel; the run keeps the end reason ``budget``."""
    grant = server_grant(service, "100.00")
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {"id": "a", "cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "1"},
            {
                "id": "b",
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": "import time\ntime.sleep(120)",
            },
        ],
    }
    (jp_root_dir / "spend.ipynb").write_text(json.dumps(nb))
    status, rerun = await api(
        "POST", "compute-panel/reruns", {"path": "spend.ipynb", "tier_id": "h200", "grant_id": grant}
    )
    assert status == 201, rerun

    async def sleeping():
        _, state = await api("GET", f"compute-panel/reruns/{rerun['id']}")
        return state["current_cell"] == 1  # the sleeping cell

    await wait_for(sleeping, timeout=60)
    status, _ = await api(
        "PUT", f"compute-panel/grants/{grant}/budget", body={"budget": "0.000001", "stop_kernels": True}
    )
    assert status == 200

    async def ended():
        _, state = await api("GET", f"compute-panel/reruns/{rerun['id']}")
        return state if state.get("ended") else None

    done = await wait_for(ended, timeout=30)
    assert done["status"] == "failed"
    assert done["error"].startswith("Stopped in cell 2 of 2: the grant's budget is spent"), done["error"]
    _, run = await api("GET", f"compute-panel/runs/{done['run_id']}")
    assert run["end_reason"] == "budget"
