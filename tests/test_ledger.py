"""The ledger on SQLite and on a real PostgreSQL: the same rules on both."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from conftest import GRANT_A, assert_grant_spend_matches_runs

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, parse_catalog, read_catalog_file
from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.domain.money import cost_micros
from jupyterlab_compute_panel.ledger import Ledger, RunFilter, utcnow


@pytest.fixture
def store(any_db_url):
    ledger = Ledger(any_db_url)
    ledger.migrate()
    ledger.migrate()  # idempotent
    catalog = read_catalog_file(DEMO_CATALOG)
    ledger.sync_tiers(catalog)
    ledger.upsert_grant(parse_grant(GRANT_A))
    yield ledger, catalog
    ledger.dispose()


def _open(ledger, tier, at=None, kernel=None, notebook="nb.ipynb", user="alice", **extra):
    return ledger.open_run(
        kernel_id=kernel or uuid.uuid4().hex,
        kernelspec=f"compute-panel-{tier.id}-python3",
        tier=tier,
        grant_id=None if tier.free else GRANT_A["id"],
        user=user,
        notebook=notebook,
        now=at,
        **extra,
    )


def test_close_is_exact_and_happens_once(store):
    ledger, catalog = store
    h200 = catalog.get("h200")
    start = utcnow() - dt.timedelta(hours=1, milliseconds=1)
    run = _open(ledger, h200, at=start)
    end = start + dt.timedelta(hours=1, milliseconds=1)
    closed = ledger.close_run(run.id, "shutdown", at=end)
    assert closed.cost_micros_closed == cost_micros(3_500_000, 3_600_001) == 3_500_001
    assert ledger.close_run(run.id, "died", at=end + dt.timedelta(hours=5)) is None
    again = ledger.get_run(run.id)
    assert (again.end_reason, again.cost_micros_closed, again.ended) == ("shutdown", 3_500_001, end)


def test_concurrent_closers_bill_once(store):
    ledger, catalog = store
    run = _open(ledger, catalog.get("rtx4090"), at=utcnow() - dt.timedelta(minutes=10))
    results = []
    barrier = threading.Barrier(8)

    def close(reason):
        barrier.wait()
        results.append(ledger.close_run(run.id, reason))

    threads = [threading.Thread(target=close, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1
    [(cost, runs)] = assert_grant_spend_matches_runs(ledger).values()
    assert runs == 1 and cost == ledger.get_run(run.id).cost_micros_closed  # billed once, counted once


def test_heartbeat_and_close_at_last_heartbeat(store):
    ledger, catalog = store
    start = utcnow() - dt.timedelta(minutes=5)
    runs = [_open(ledger, catalog.get("rtx4090"), at=start) for _ in range(3)]
    beat = start + dt.timedelta(minutes=2)
    assert ledger.heartbeat([r.id for r in runs[:2]], now=beat) == []
    closed = ledger.close_at_last_heartbeat(
        None, "lost", stale_before=start + dt.timedelta(minutes=3), exclude=[runs[1].id]
    )
    assert {c.id for c in closed} == {runs[0].id, runs[2].id}
    by_id = {r.id: ledger.get_run(r.id) for r in runs}
    assert by_id[runs[0].id].ended == beat and by_id[runs[0].id].cost_micros_closed == cost_micros(500_000, 120_000)
    assert by_id[runs[2].id].ended == start and by_id[runs[2].id].cost_micros_closed == 0
    assert by_id[runs[1].id].is_open


def test_a_run_keeps_the_rate_it_started_with(store):
    ledger, catalog = store
    old = _open(ledger, catalog.get("rtx4090"))
    cheaper = parse_catalog(
        {
            "tiers": [
                {
                    "id": "rtx4090",
                    "label": "RTX 4090 prototyping",
                    "reliability": "community",
                    "price": {"per_hour": "0.35", "currency": "USD", "source": "new list price", "date": "2026-11-20"},
                }
            ]
        }
    )
    ledger.sync_tiers(cheaper)
    new = _open(ledger, cheaper.get("rtx4090"))
    assert ledger.get_run(old.id).rate_micros_per_hour == 500_000
    assert ledger.get_run(new.id).rate_micros_per_hour == 350_000
    assert [r[0] for r in ledger.rate_history("rtx4090")] == [500_000, 350_000]
    ledger.sync_tiers(cheaper)  # unchanged price: no new rate row
    assert len(ledger.rate_history("rtx4090")) == 2


def test_filters_totals_and_spend_are_exact_sums(store):
    ledger, catalog = store
    now = utcnow()
    costs = []
    for i, tier_id in enumerate(["rtx4090", "h200", "rtx4090", "local-cpu", "h200"]):
        start = now - dt.timedelta(minutes=60 - i)
        run = _open(ledger, catalog.get(tier_id), at=start, notebook=f"nb{i % 2}.ipynb", user=["alice", "bob"][i % 2])
        closed = ledger.close_run(run.id, "shutdown", at=start + dt.timedelta(seconds=37 * (i + 1), milliseconds=7))
        costs.append((tier_id, closed.cost_micros_closed, i % 2))
    live = _open(ledger, catalog.get("h200"), at=now - dt.timedelta(seconds=90))
    runs, count, totals = ledger.list_runs(RunFilter(), now=now)
    assert count == 6
    assert totals["USD"] == sum(c for _, c, _ in costs) + live.cost_micros(now)
    runs, count, totals = ledger.list_runs(RunFilter(tier="rtx4090"), now=now)
    assert count == 2 and totals["USD"] == sum(c for t, c, _ in costs if t == "rtx4090")
    runs, count, _ = ledger.list_runs(RunFilter(user="bob"), now=now)
    assert count == 2 and {r.user for r in runs} == {"bob"}
    runs, count, _ = ledger.list_runs(RunFilter(status="open"), now=now)
    assert [r.id for r in runs] == [live.id]
    page1, _, _ = ledger.list_runs(RunFilter(), limit=4, now=now)
    page2, _, _ = ledger.list_runs(RunFilter(), limit=4, offset=4, now=now)
    assert len(page1) == 4 and len(page2) == 2 and not {r.id for r in page1} & {r.id for r in page2}
    spend = ledger.grant_spend([GRANT_A["id"]], now)
    assert spend[GRANT_A["id"]] == sum(c for t, c, _ in costs if t != "local-cpu") + live.cost_micros(now)
    assert ledger.running_by_tier() == {"h200": 1}


def test_bindings_are_per_user_and_path(store):
    ledger, _ = store
    ledger.put_binding("alice", "a/nb.ipynb", GRANT_A["id"], "h200")
    ledger.put_binding("alice", "a/nb.ipynb", None, None)
    assert ledger.get_binding("alice", "a/nb.ipynb").grant_id is None
    ledger.put_binding("bob", "a/nb.ipynb", GRANT_A["id"], "rtx4090")
    assert ledger.get_binding("bob", "a/nb.ipynb").tier_id == "rtx4090"
    assert ledger.get_binding("carol", "a/nb.ipynb") is None


def test_staleness_is_judged_by_each_runs_own_heartbeat_interval(store):
    """Servers sharing a ledger may heartbeat at different rates: none closes another's live run early."""
    ledger, catalog = store
    now = utcnow()
    started = now - dt.timedelta(seconds=40)
    fast = _open(ledger, catalog.get("h200"), at=started, user="alice", heartbeat_s=1)
    slow = _open(ledger, catalog.get("h200"), at=started, user="bob", heartbeat_s=30)
    closed = ledger.close_at_last_heartbeat(None, "lost", missed=3, now=now)
    assert [c.id for c in closed] == [fast.id]
    assert ledger.get_run(slow.id).is_open
    assert ledger.heartbeat([fast.id, slow.id], now=now) == [fast.id]
