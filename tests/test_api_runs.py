"""The REST API's runs under /compute-panel/runs and /compute-panel/kernels/{id}/run,
through a real Jupyter server (see openapi.yaml): the query's refusals, filters, exact
totals and pages, over six runs at known times."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from conftest import GRANT_A, GRANT_EXPIRED, assert_error

from jupyterlab_compute_panel.ledger import iso, utcnow

ACTIVE, EXPIRED = GRANT_A["id"], GRANT_EXPIRED["id"]


# -- runs -----------------------------------------------------------------------------
RUNS_QUERY_REFUSALS = [
    ({"colour": "red"}, 400, "colour"),
    ({"limit": "0"}, 422, "limit"),
    ({"limit": "1001"}, 422, "limit"),
    ({"limit": "ten"}, 422, "limit"),
    ({"limit": "1.5"}, 422, "limit"),
    ({"offset": "-1"}, 422, "offset"),
    ({"offset": "x"}, 422, "offset"),
    ({"status": "running"}, 422, "status"),
    ({"since": "yesterday"}, 422, "since"),
    ({"since": "2026-13-01"}, 422, "since"),
    ({"until": "2026-01-01T25:00"}, 422, "until"),
    # A valid instant whose UTC conversion leaves datetime's range: refused, not a 500.
    ({"since": "9999-12-31T23:59:59-01:00"}, 422, "since"),
    ({"until": "0001-01-01T00:00:00+01:00"}, 422, "until"),
]


async def test_runs_query_validation(api, service):
    for params, status, field in RUNS_QUERY_REFUSALS:
        got_status, body = await api("GET", "compute-panel/runs", params=params)
        assert_error(got_status, body, status, field, field)


async def test_runs_repeated_parameter(raw, service):
    status, _, body = await raw("GET", "compute-panel/runs?tier=rtx4090&tier=h200")
    assert_error(status, body, 400, "tier", "'tier' is given more than once")


async def test_runs_empty(api, service):
    status, body = await api("GET", "compute-panel/runs")
    assert status == 200
    assert body["runs"] == [] and body["count"] == 0 and body["totals"] == []
    assert body["server_time"].endswith("Z")


async def test_unknown_run_and_kernel(api, service):
    status, body = await api("GET", f"compute-panel/runs/{uuid.uuid4().hex}")
    assert_error(status, body, 404, "run_id", "No run")
    status, body = await api("GET", f"compute-panel/kernels/{uuid.uuid4()}/run")
    assert_error(status, body, 404, "kernel_id", "has no run: it was never started on a tier")


@pytest.fixture
def runs(service, grants, ledger):
    """Six runs in the server's ledger: five closed at known times, one open now."""
    rtx, h200, local = (service.catalog.get(t) for t in ("rtx4090", "h200", "local-cpu"))
    t0 = (utcnow() - dt.timedelta(days=10)).replace(microsecond=0)
    hour = dt.timedelta(hours=1)
    made = {}

    def run(name, tier, grant, user, notebook, start, length=None):
        view = ledger.open_run(
            kernel_id=f"kernel-{name}",
            kernelspec=f"compute-panel-{tier.id}-python3",
            tier=tier,
            grant_id=grant,
            user=user,
            notebook=notebook,
            now=start,
        )
        if length is not None:
            view = ledger.close_run(view.id, "shutdown", at=start + length)
        made[name] = view
        return view

    run("r1", rtx, ACTIVE, "alice", "a.ipynb", t0, hour)  # 0.50
    run("r2", h200, ACTIVE, "bob", "b.ipynb", t0 + dt.timedelta(days=1), hour / 2)  # 1.75
    run("r3", rtx, ACTIVE, "alice", "b.ipynb", t0 + dt.timedelta(days=2), dt.timedelta(seconds=7))  # 0.000972
    run("r4", local, None, "alice", "a.ipynb", t0 + dt.timedelta(days=3), 2 * hour)  # free
    run("r6", rtx, EXPIRED, "carol", "old.ipynb", t0 - dt.timedelta(days=30), 3 * hour)  # 1.50
    run("r5", h200, ACTIVE, "alice", "c.ipynb", utcnow())  # open: its cost grows until now
    return t0, made


async def list_runs(api, **params):
    status, body = await api("GET", "compute-panel/runs", params=params)
    assert status == 200, body
    return body


def names(body, made):
    by_id = {v.id: k for k, v in made.items()}
    return [by_id[r["id"]] for r in body["runs"]]


def assert_totals_are_the_sum(body):
    """The totals equal, exactly, the sum of the listed runs' costs, per currency."""
    sums: dict[str, Decimal] = {}
    for r in body["runs"]:
        sums[r["cost"]["currency"]] = sums.get(r["cost"]["currency"], Decimal(0)) + Decimal(r["cost"]["amount"])
    assert {t["currency"]: Decimal(t["amount"]) for t in body["totals"]} == sums


async def test_runs_list_and_filters(api, runs):
    t0, made = runs
    everything = await list_runs(api)
    assert names(everything, made) == ["r5", "r4", "r3", "r2", "r1", "r6"]  # newest first
    assert everything["count"] == 6
    assert_totals_are_the_sum(everything)

    closed = {r["id"]: r for r in everything["runs"] if r["status"] == "closed"}
    assert {r["cost"]["amount"] for r in closed.values()} == {"0.50", "1.75", "0.000972", "0.00", "1.50"}
    r1 = next(r for r in everything["runs"] if r["id"] == made["r1"].id)
    assert r1 == {
        "id": made["r1"].id,
        "kernel_id": "kernel-r1",
        "kernelspec": "compute-panel-rtx4090-python3",
        "tier_id": "rtx4090",
        "tier_label": "RTX 4090 prototyping",
        "grant_id": ACTIVE,
        "user": "alice",
        "notebook": "a.ipynb",
        "rate": {"amount": "0.50", "currency": "USD"},
        "started": iso(t0),
        "last_heartbeat": iso(t0),
        "ended": iso(t0 + dt.timedelta(hours=1)),
        "end_reason": "shutdown",
        "duration_s": 3600.0,
        "cost": {"amount": "0.50", "currency": "USD"},
        "status": "closed",
    }

    cases = [
        ({"notebook": "a.ipynb"}, ["r4", "r1"]),
        ({"notebook": "b.ipynb"}, ["r3", "r2"]),
        ({"tier": "h200"}, ["r5", "r2"]),
        ({"tier": "rtx4090", "user": "alice"}, ["r3", "r1"]),
        ({"grant": EXPIRED}, ["r6"]),
        ({"grant": ACTIVE}, ["r5", "r3", "r2", "r1"]),
        ({"user": "bob"}, ["r2"]),
        ({"kernel": "kernel-r3"}, ["r3"]),
        ({"status": "open"}, ["r5"]),
        ({"status": "closed"}, ["r4", "r3", "r2", "r1", "r6"]),
        # since: ended at or after the instant, or still open.
        ({"since": iso(t0 + dt.timedelta(days=1, minutes=31))}, ["r5", "r4", "r3"]),
        ({"since": iso(t0 + dt.timedelta(days=1, minutes=30))}, ["r5", "r4", "r3", "r2"]),
        # until: started before the instant.
        ({"until": iso(t0 + dt.timedelta(days=1))}, ["r1", "r6"]),
        ({"until": iso(t0 + dt.timedelta(days=1, milliseconds=1))}, ["r2", "r1", "r6"]),
        ({"since": iso(t0), "until": iso(t0 + dt.timedelta(days=2, hours=1))}, ["r3", "r2", "r1"]),
        ({"notebook": "nope.ipynb"}, []),
    ]
    for params, expected in cases:
        body = await list_runs(api, **params)
        assert names(body, made) == expected, params
        assert body["count"] == len(expected), params
        assert_totals_are_the_sum(body)


async def test_runs_instants_with_offsets_mean_the_same_instant(api, runs):
    t0, made = runs
    utc = t0 + dt.timedelta(days=1)
    plus_two = (utc + dt.timedelta(hours=2)).isoformat() + "+02:00"
    naive = utc.isoformat()
    expected = ["r1", "r6"]
    for value in (iso(utc), plus_two, naive):
        assert names(await list_runs(api, until=value), made) == expected, value


async def test_runs_totals_are_exact(api, runs):
    body = await list_runs(api, status="closed")
    assert body["totals"] == [{"amount": "3.750972", "currency": "USD"}]  # 0.50 + 1.75 + 0.000972 + 0 + 1.50
    body = await list_runs(api, grant=ACTIVE, status="closed")
    assert body["totals"] == [{"amount": "2.250972", "currency": "USD"}]
    body = await list_runs(api, tier="local-cpu")
    assert body["totals"] == [{"amount": "0.00", "currency": "USD"}]


async def test_runs_pagination(api, runs):
    _, made = runs
    pages = []
    for offset in (0, 2, 4, 6):
        body = await list_runs(api, limit="2", offset=str(offset))
        assert body["count"] == 6  # all matches, whatever the page
        pages.append(names(body, made))
    assert pages == [["r5", "r4"], ["r3", "r2"], ["r1", "r6"], []]
    # The totals cover every match, not only the page.
    closed_page = await list_runs(api, status="closed", limit="1", offset="1")
    assert names(closed_page, made) == ["r3"]
    assert closed_page["totals"] == [{"amount": "3.750972", "currency": "USD"}]
    assert (await list_runs(api, limit="1000"))["count"] == 6


async def test_one_run_and_kernel_run(api, runs):
    _, made = runs
    status, body = await api("GET", f"compute-panel/runs/{made['r2'].id}")
    assert status == 200
    assert body["cost"] == {"amount": "1.75", "currency": "USD"}
    assert body["user"] == "bob" and body["status"] == "closed"

    status, body = await api("GET", "compute-panel/kernels/kernel-r5/run")
    assert status == 200
    assert body["id"] == made["r5"].id and body["status"] == "open" and body["ended"] is None
    # A stopped kernel's current run is its last, closed run (its final cost).
    status, body = await api("GET", "compute-panel/kernels/kernel-r1/run")
    assert status == 200 and body["id"] == made["r1"].id and body["status"] == "closed"
    status, body = await api("GET", "compute-panel/kernels/never-metered/run")
    assert_error(status, body, 404, "kernel_id")


async def test_grant_spend_is_the_sum_of_its_runs(api, runs):
    status, body = await api("GET", f"compute-panel/grants/{EXPIRED}")
    assert status == 200
    assert body["spent"] == "1.50"
    runs_body = await list_runs(api, grant=EXPIRED)
    assert runs_body["totals"] == [{"amount": "1.50", "currency": "USD"}]
