"""What the rollup tests (test_rollups.py, test_rollup_tables.py) share: three grants on the
demo catalog, runs opened and closed at given instants, and a reference that recomputes
every figure run by run, in Python, from list_runs."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict

from conftest import GRANT_A

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file
from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.domain.money import cost_micros
from jupyterlab_compute_panel.ledger import (
    Ledger,
    RunFilter,
    burn_down,
    duration_ms,
    grant_rollup,
    spend_by,
    spend_by_month,
    spent_micros,
)

G = "rollup-grant"
OTHER = "other-grant"
EMPTY = "empty-grant"
NOW = dt.datetime(2026, 6, 15, 12, 0, 0)
H = dt.timedelta(hours=1)
MS = dt.timedelta(milliseconds=1)


def _grant(gid: str, budget: str, start="2026-01-01", end="2026-12-31") -> dict:
    return parse_grant(
        {**GRANT_A, "id": gid, "award_number": f"AW {gid}", "budget": budget, "start_date": start, "end_date": end}
    )


def seeded_store(db_url: str):
    """A migrated ledger on ``db_url`` with the demo tiers and the three grants; yields
    (ledger, catalog) and disposes of the ledger after."""
    ledger = Ledger(db_url)
    ledger.migrate()
    catalog = read_catalog_file(DEMO_CATALOG)
    ledger.sync_tiers(catalog, now=dt.datetime(2025, 1, 1))
    ledger.upsert_grants([_grant(G, "500.00"), _grant(OTHER, "100.00"), _grant(EMPTY, "250.00", start="2026-06-01")])
    yield ledger, catalog
    ledger.dispose()


def _run(ledger, tier, start, end=None, grant=G, user="alice", notebook="a.ipynb"):
    run = ledger.open_run(
        kernel_id=uuid.uuid4().hex,
        kernelspec=f"compute-panel-{tier.id}-python3",
        tier=tier,
        grant_id=None if tier.free else grant,
        user=user,
        notebook=notebook,
        now=start,
    )
    if end is not None:
        run = ledger.close_run(run.id, "shutdown", at=end)
    return run


# -- a reference computed run by run, in Python, from list_runs ------------------------------------


def _runs(ledger, grant):
    runs, count, _ = ledger.list_runs(RunFilter(grant=grant), limit=100_000, now=NOW)
    assert len(runs) == count
    return runs


def _expected_window(runs, now, days):
    ws = now - dt.timedelta(days=days)
    total = 0
    for r in runs:
        end = r.ended or now
        if r.started >= ws and end <= now and r.started < now:
            total += r.cost_micros(now)
        elif r.ended is None and r.started >= ws:
            total += r.cost_micros(now)
        else:
            total += cost_micros(r.rate_micros_per_hour, duration_ms(max(r.started, ws), min(end, now)))
    return total


def _check_against_reference(ledger, grant, now):
    runs = _runs(ledger, grant)
    spent = sum(r.cost_micros(now) for r in runs)
    budget = ledger.get_grant(grant).budget_micros
    roll = grant_rollup(ledger, grant, now)
    assert roll.spent_micros == spent == spent_micros(ledger, grant, now)
    assert roll.remaining_micros == budget - spent
    assert roll.spent_7d_micros == _expected_window(runs, now, 7)
    assert roll.spent_30d_micros == _expected_window(runs, now, 30)
    assert roll.open_runs == sum(1 for r in runs if r.is_open)
    for dim, key in (("tier", "tier_id"), ("user", "user"), ("notebook", "notebook")):
        rows = spend_by(ledger, grant, dim, now)
        assert sum(r.micros for r in rows) == spent
        expected = defaultdict(int)
        for r in runs:
            expected[getattr(r, key)] += r.cost_micros(now)
        assert {r.key: r.micros for r in rows} == dict(expected)
        assert [r.micros for r in rows] == sorted((r.micros for r in rows), reverse=True)
    months = spend_by_month(ledger, grant, now)
    assert sum(m.total_micros for m in months) == spent
    expected_months = defaultdict(lambda: defaultdict(int))
    for r in runs:
        expected_months[r.started.strftime("%Y-%m")][r.tier_id] += r.cost_micros(now)
    assert {m.month: m.by_tier for m in months if m.by_tier} == {k: dict(v) for k, v in expected_months.items()}
    for m in months:
        assert m.total_micros == sum(m.by_tier.values())
    points = burn_down(ledger, grant, now)
    assert points[-1].day == now.date()
    assert points[-1].remaining_micros == roll.remaining_micros
    assert all(b.remaining_micros <= a.remaining_micros for a, b in itertools.pairwise(points))
    assert all(b.day - a.day == dt.timedelta(days=1) for a, b in itertools.pairwise(points))
    for p in points[:-1]:
        assert p.spent_micros == sum(r.cost_micros(now) for r in runs if r.started.date() <= p.day)
    assert points[-1].spent_micros == spent  # runs started after now's day count on its last day
    # The other readers of the closed runs' spend: the grants list, the heartbeat's budget
    # check, the reservation's check and the dashboard's committed figure.
    assert ledger.grant_spend([grant], now)[grant] == spent
    assert ledger.budget_status([grant], now)[grant].spent_micros == spent
    assert ledger.spent_and_committed(grant, now)[0] == spent
    return roll, runs
