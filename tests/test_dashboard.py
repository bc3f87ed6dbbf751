"""The PI's dashboard and its exports through the REST API: who may see it, figures that add up
exactly, exports that equal the ledger's totals, the runs table's sort and search, and grant
creation and edits from the UI's endpoints."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
import uuid
from decimal import Decimal

import pytest
from conftest import GRANT_A

from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.domain.money import MICROS, cost_micros
from jupyterlab_compute_panel.ledger import Ledger, RunFilter, burn_down, grant_rollup, spend_by, spend_by_month, utcnow

G = GRANT_A["id"]
H = dt.timedelta(hours=1)


def _micros(text: str) -> int:
    return int(Decimal(text) * MICROS)


@pytest.fixture
def seeded(jp_serverapp, ledger, service):
    """Grant A (PI alice, member bob, viewer vera) with closed runs of alice and bob on two tiers,
    over three months, and one open run of bob."""
    ledger.upsert_grant(
        parse_grant({**GRANT_A, "members": [{"user": "bob", "role": "member"}, {"user": "vera", "role": "viewer"}]})
    )
    rtx, h200 = service.catalog.get("rtx4090"), service.catalog.get("h200")
    now = utcnow()
    runs = []
    for i, (user, tier, notebook) in enumerate(
        [
            ("alice", rtx, "robust/fgsm.ipynb"),
            ("alice", h200, "robust/pgd.ipynb"),
            ("bob", rtx, "robust/fgsm.ipynb"),
            ("bob", h200, None),
            ("alice", rtx, "robust/pgd.ipynb"),
            ("bob", h200, "robust/pgd.ipynb"),
        ]
    ):
        start = now - dt.timedelta(days=75 - 13 * i, minutes=7 * i)
        run = ledger.open_run(
            kernel_id=uuid.uuid4().hex,
            kernelspec=f"compute-panel-{tier.id}-python3",
            tier=tier,
            grant_id=G,
            user=user,
            notebook=notebook,
            now=start,
        )
        runs.append(ledger.close_run(run.id, "shutdown", at=start + H * (i + 1) + dt.timedelta(milliseconds=333 * i)))
    live = ledger.open_run(
        kernel_id=uuid.uuid4().hex,
        kernelspec="compute-panel-h200-python3",
        tier=h200,
        grant_id=G,
        user="bob",
        notebook="robust/live.ipynb",
        now=now - dt.timedelta(minutes=42),
    )
    return runs, live


def _as(service, user, admins=()):
    service.owner = user
    service.admins = set(admins)


async def test_pi_sees_figures_that_add_up(seeded, api, service, ledger):
    _as(service, "alice")
    status, body = await api("GET", f"compute-panel/grants/{G}/dashboard")
    assert status == 200, body
    assert body["may_edit"] is True and body["grant"]["role"] == "pi"
    summary = body["summary"]
    spent = _micros(summary["spent"])
    assert spent > 0
    assert _micros(summary["budget"]) - spent == _micros(summary["remaining"])
    for table in ("by_tier", "by_user", "by_notebook"):
        assert sum(_micros(r["amount"]) for r in body[table]) == spent, table
    assert {r["key"] for r in body["by_user"]} == {"alice", "bob"}
    assert None in {r["key"] for r in body["by_notebook"]}  # bob's run without a notebook
    assert sum(_micros(m["total"]) for m in body["by_month"]) == spent
    for month in body["by_month"]:
        assert sum(_micros(v) for v in month["by_tier"].values()) == _micros(month["total"])
    assert len(body["by_month"]) >= 3
    assert body["burn_down"][-1]["remaining"] == summary["remaining"]
    assert {t["id"] for t in body["tiers"]} == {"rtx4090", "h200"}
    assert summary["open_runs"] == 1
    # The live run has used 42 of its 15 committed minutes: nothing more is committed.
    assert summary["committed"] == "0.00"
    # And the server's own figure for the grant agrees.
    as_of = dt.datetime.fromisoformat(body["server_time"].replace("Z", "+00:00")).replace(tzinfo=None)
    assert ledger.grant_spend([G], as_of)[G] == spent


@pytest.mark.parametrize(("user", "admins", "expected"), [("vera", (), 200), ("root", ("root",), 200)])
async def test_viewers_and_admins_see_it(seeded, api, service, user, admins, expected):
    _as(service, user, admins)
    status, body = await api("GET", f"compute-panel/grants/{G}/dashboard")
    assert status == expected, body
    assert body["may_edit"] is (user == "root")


async def test_members_and_strangers_do_not(seeded, api, service):
    _as(service, "bob")
    status, body = await api("GET", f"compute-panel/grants/{G}/dashboard")
    assert status == 403
    assert "PI, co-PIs and viewers" in body["message"]
    status, _ = await api("GET", f"compute-panel/grants/{G}/export/runs.csv")
    assert status == 403
    _as(service, "mallory")
    status, body = await api("GET", f"compute-panel/grants/{G}/dashboard")
    assert status == 404 and G in body["message"]
    status, _ = await api("GET", f"compute-panel/grants/{G}/export/user.json")
    assert status == 404


async def _download(jp_fetch, path, params=None):
    response = await jp_fetch(*path.split("/"), params=params or {})
    as_of = dt.datetime.fromisoformat(response.headers["X-Compute-Panel-As-Of"].replace("Z", "+00:00"))
    return response, response.body.decode(), as_of.replace(tzinfo=None)


@pytest.mark.parametrize("table", ["runs", "tier", "user", "notebook", "month"])
async def test_exports_equal_the_ledger_totals(seeded, jp_fetch, service, ledger, table):
    _as(service, "alice")
    response, text, as_of = await _download(jp_fetch, f"compute-panel/grants/{G}/export/{table}.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert f'filename="{G}-{table}.csv"' in response.headers["Content-Disposition"]
    expected = ledger.grant_spend([G], as_of)[G]
    column = {"runs": "cost", "month": "total"}.get(table, "amount")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows, text
    assert sum(_micros(r[column]) for r in rows) == expected

    response, text, as_of = await _download(jp_fetch, f"compute-panel/grants/{G}/export/{table}.json")
    body = json.loads(text)
    expected = ledger.grant_spend([G], as_of)[G]
    assert _micros(body["total"]) == expected
    assert sum(_micros(r[column]) for r in body["rows"]) == expected
    assert body["currency"] == "USD" and body["table"] == table
    if table == "runs":
        runs, count, _ = ledger.list_runs(RunFilter(grant=G), limit=1000)
        assert len(body["rows"]) == count == 7
        assert {r["id"] for r in body["rows"]} == {r.id for r in runs}


async def test_runs_export_takes_the_tables_filters(seeded, jp_fetch, service, ledger):
    _as(service, "alice")
    _, text, _ = await _download(
        jp_fetch, f"compute-panel/grants/{G}/export/runs.json", {"user": "bob", "tier": "h200"}
    )
    body = json.loads(text)
    assert {(r["user"], r["tier_id"]) for r in body["rows"]} == {("bob", "h200")}
    assert _micros(body["total"]) == sum(_micros(r["cost"]) for r in body["rows"])


async def test_runs_export_pages_through_many_runs(jp_serverapp, ledger, service, jp_fetch):
    """More runs than one export page (5,000): every run once, oldest first."""
    ledger.upsert_grant(parse_grant(GRANT_A))
    rtx = service.catalog.get("rtx4090")
    start = dt.datetime(2026, 1, 5, 8, 0, 0)
    with ledger.session() as s, s.begin():
        from jupyterlab_compute_panel.ledger.models import Run

        for i in range(5_200):
            began = start + dt.timedelta(seconds=30 * (i // 2))  # pairs share a start: the id breaks ties
            s.add(
                Run(
                    id=uuid.uuid4().hex,
                    kernel_id=uuid.uuid4().hex,
                    kernelspec="compute-panel-rtx4090-python3",
                    tier_id=rtx.id,
                    grant_id=G,
                    user="alice",
                    notebook="bulk.ipynb",
                    rate_micros_per_hour=rtx.rate_micros_per_hour,
                    currency="USD",
                    started=began,
                    last_heartbeat=began + dt.timedelta(seconds=20),
                    ended=began + dt.timedelta(seconds=20),
                    end_reason="shutdown",
                    cost_micros=cost_micros(rtx.rate_micros_per_hour, 20_000),
                    heartbeat_ms=1000,
                    launcher_host="test",
                    launcher_pid=1,
                )
            )
    ledger.rebuild_grant_spend([G])  # the rows bypassed close_run, which keeps the rollup tables
    _as(service, "alice")
    _, text, as_of = await _download(jp_fetch, f"compute-panel/grants/{G}/export/runs.csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5_200 == len({r["id"] for r in rows})
    assert [r["started"] for r in rows] == sorted(r["started"] for r in rows)
    assert sum(_micros(r["cost"]) for r in rows) == ledger.grant_spend([G], as_of)[G]


async def test_export_errors_name_the_problem(seeded, api, service):
    _as(service, "alice")
    status, body = await api("GET", f"compute-panel/grants/{G}/export/people.csv")
    assert status == 404 and "people" in body["message"] and "runs" in body["message"]
    status, body = await api("GET", f"compute-panel/grants/{G}/export/runs.xlsx")
    assert status == 404 and "xlsx" in body["message"]
    status, body = await api("GET", f"compute-panel/grants/{G}/export/user.csv", params={"q": "x"})
    assert status == 400 and body["field"] == "q"
    status, body = await api("GET", f"compute-panel/grants/{G}/export/runs.csv", params={"since": "yesterday"})
    assert status == 422 and body["field"] == "since"


# -- the runs table: sort and search ------------------------------------------------------------


async def test_runs_sort_and_search(seeded, api, service):
    _as(service, "alice")
    status, body = await api("GET", "compute-panel/runs", params={"grant": G, "sort": "-cost", "status": "closed"})
    assert status == 200, body
    costs = [_micros(r["cost"]["amount"]) for r in body["runs"]]
    assert costs == sorted(costs, reverse=True) and len(costs) == 6
    status, body = await api("GET", "compute-panel/runs", params={"grant": G, "sort": "user"})
    users = [r["user"] for r in body["runs"]]
    assert users == sorted(users)
    status, body = await api("GET", "compute-panel/runs", params={"grant": G, "sort": "duration"})
    durations = [r["duration_s"] for r in body["runs"]]
    assert durations == sorted(durations)
    status, body = await api("GET", "compute-panel/runs", params={"grant": G, "sort": "-ended"})
    assert body["runs"][0]["status"] == "open"  # an open run has not ended: it ranks above every end
    status, body = await api("GET", "compute-panel/runs", params={"grant": G, "q": "PGD"})
    assert body["count"] == 3 and all("pgd" in r["notebook"] for r in body["runs"])
    status, body = await api("GET", "compute-panel/runs", params={"grant": G, "q": "100%_"})
    assert body["count"] == 0  # LIKE's wildcards are searched for literally
    status, body = await api("GET", "compute-panel/runs", params={"grant": G, "end_reason": "shutdown"})
    assert body["count"] == 6


async def test_runs_bad_sort_names_the_choices(seeded, api, service):
    _as(service, "alice")
    status, body = await api("GET", "compute-panel/runs", params={"sort": "price"})
    assert status == 422 and body["field"] == "sort" and "started" in body["message"]
    status, body = await api("GET", "compute-panel/runs", params={"q": "x" * 201})
    assert status == 422 and body["field"] == "q"


async def test_members_search_only_their_own_runs(seeded, api, service):
    _as(service, "bob")
    status, body = await api("GET", "compute-panel/runs", params={"q": "robust"})
    assert status == 200 and body["count"] == 3 and {r["user"] for r in body["runs"]} == {"bob"}


# -- editing grants ------------------------------------------------------------------------------

NEW_GRANT = {
    "id": "erc-new",
    "award_number": "ERC 555",
    "title": "New award",
    "funder": "ERC",
    "pi": "carol",
    "budget": "1200.50",
    "currency": "EUR",
    "start_date": "2026-01-01",
    "end_date": "2027-12-31",
    "members": [{"user": "dan", "role": "member"}],
    "allowed_tiers": ["rtx4090"],
}


async def test_admins_create_grants(jp_serverapp, api, service, ledger):
    _as(service, "root", ("root",))
    status, body = await api("POST", "compute-panel/grants", NEW_GRANT)
    assert status == 201, body
    assert body["budget"] == "1200.50" and body["currency"] == "EUR" and body["pi"] == "carol"
    assert {(m["user"], m["role"]) for m in body["members"]} == {("carol", "pi"), ("dan", "member")}
    assert ledger.get_grant("erc-new").allowed_tiers == ("rtx4090",)
    status, body = await api("POST", "compute-panel/grants", NEW_GRANT)
    assert status == 409 and "already exists" in body["message"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"budget": 12.5}, "budget", "decimal string"),
        ({"budget": "-1"}, "budget", "negative"),
        ({"end_date": "2025-01-01"}, "end_date", "before"),
        ({"allowed_tiers": ["tpu-v9"]}, "allowed_tiers", "not a tier"),
        ({"id": "has space"}, "id", "letters"),
        ({"currency": "dollars"}, "currency", "ISO 4217"),
        ({"alert_thresholds": [0]}, "alert_thresholds", "percentages"),
    ],
)
async def test_bad_new_grants_are_refused_by_field(jp_serverapp, api, service, ledger, change, field, words):
    _as(service, "root", ("root",))
    status, body = await api("POST", "compute-panel/grants", {**NEW_GRANT, **change})
    assert status == 422, body
    assert body["field"] == field and words in body["message"]
    assert ledger.get_grant(NEW_GRANT["id"]) is None


async def test_only_admins_create_grants(jp_serverapp, api, service, ledger):
    _as(service, "carol")
    status, body = await api("POST", "compute-panel/grants", NEW_GRANT)
    assert status == 403 and "admin" in body["message"]
    assert ledger.get_grant(NEW_GRANT["id"]) is None


async def test_pi_edits_the_grant(seeded, api, service, ledger):
    _as(service, "alice")
    change = {
        "title": "A new title",
        "alert_thresholds": [25, 75, 100],
        "hard_stop": False,
        "min_runtime_minutes": "5",
        "allowed_tiers": ["h200"],
        "budget": "6000.25",
    }
    status, body = await api("PATCH", f"compute-panel/grants/{G}", change)
    assert status == 200, body
    grant = ledger.get_grant(G)
    assert grant.title == "A new title" and grant.alert_thresholds == (25, 75, 100)
    assert grant.hard_stop is False and grant.min_runtime_s == 300 and grant.allowed_tiers == ("h200",)
    assert grant.budget_micros == 6_000_250_000
    # Members and everything not sent are kept.
    assert ("bob", "member") in grant.members and grant.funder == GRANT_A["funder"]
    assert body["min_runtime_minutes"] == 5


async def test_grant_edits_are_checked(seeded, api, service, ledger):
    before = ledger.get_grant(G)
    _as(service, "bob")
    status, body = await api("PATCH", f"compute-panel/grants/{G}", {"title": "Mine now"})
    assert status == 403 and "PI" in body["message"]
    _as(service, "vera")
    status, body = await api("PATCH", f"compute-panel/grants/{G}", {"title": "Mine now"})
    assert status == 403
    _as(service, "alice")
    status, body = await api("PATCH", f"compute-panel/grants/{G}", {"pi": "alice2"})
    assert status == 400 and body["field"] == "pi" and "title" in body["message"]
    status, body = await api("PATCH", f"compute-panel/grants/{G}", {"title": "  "})
    assert status == 422 and body["field"] == "title"
    status, body = await api("PATCH", f"compute-panel/grants/{G}", {"min_runtime_minutes": "2000"})
    assert status == 422 and body["field"] == "min_runtime_minutes"
    assert ledger.get_grant(G) == before


# -- one snapshot --------------------------------------------------------------------------------


def test_a_snapshot_does_not_see_runs_close(any_db_url):
    """The dashboard's queries read one state of the ledger, on SQLite and PostgreSQL alike."""
    from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file

    ledger = Ledger(any_db_url)
    ledger.migrate()
    try:
        catalog = read_catalog_file(DEMO_CATALOG)
        ledger.sync_tiers(catalog)
        ledger.upsert_grant(parse_grant(GRANT_A))
        start = utcnow() - H
        run = ledger.open_run(
            kernel_id="k",
            kernelspec="compute-panel-rtx4090-python3",
            tier=catalog.get("rtx4090"),
            grant_id=G,
            user="alice",
            notebook=None,
            now=start,
        )
        now = utcnow()

        def figures():
            return (
                ledger.list_runs(RunFilter(grant=G, status="open"), now=now)[1],
                grant_rollup(ledger, G, now).spent_micros,
                spend_by_month(ledger, G, now)[-1].total_micros,
                burn_down(ledger, G, now)[-1].spent_micros,
                spend_by(ledger, G, "tier", now)[0].micros,
            )

        with ledger.snapshot():
            before = figures()
            closer = threading.Thread(target=ledger.close_run, args=(run.id, "shutdown"))
            closer.start()
            closer.join()
            during = figures()
        after = figures()
        # The run and its grant's rollup rows change in one transaction: inside the snapshot
        # it is still open (costed live at 'now'), after it closed (its stored cost), and
        # never counted twice or not at all.
        assert before == during and before[0] == 1 and len(set(before[1:])) == 1
        cost = ledger.get_run(run.id).cost_micros_closed
        assert after == (0, cost, cost, cost, cost)
    finally:
        ledger.dispose()
