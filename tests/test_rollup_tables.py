"""The rollup tables on SQLite and on a real PostgreSQL: grant_day_spend (grant, day of start,
tier) and grant_notebook_spend equal the closed runs however they close, under racing
closes and rebuilds, and after migration 0007's backfill."""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from conftest import assert_grant_spend_matches_runs
from rollup_reference import NOW, OTHER, G, H, _check_against_reference, _grant, _run, seeded_store
from sqlalchemy import insert, select, update

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file
from jupyterlab_compute_panel.domain.money import cost_micros
from jupyterlab_compute_panel.ledger import (
    MIGRATIONS,
    NO_NOTEBOOK,
    Ledger,
    duration_ms,
    grant_rollup,
    spend_by,
    spend_by_month,
)
from jupyterlab_compute_panel.ledger.models import END_REASONS, GrantDaySpend, GrantNotebookSpend, Run


@pytest.fixture
def store(any_db_url):
    yield from seeded_store(any_db_url)


def _open(ledger, tier, start, grant=G, user="alice", notebook="a.ipynb"):
    return _run(ledger, tier, start, grant=grant, user=user, notebook=notebook)


def test_every_way_a_run_closes_feeds_the_rollup_tables(store):
    """Each end reason through close_run, and the three selections of close_at_last_heartbeat
    (reconciliation at start-up, stale heartbeats, missed heartbeats), keep the rollup tables
    equal to the sum of the closed runs; runs crossing midnight or a month end count whole
    on the day they started; open runs stay out of it and are counted live."""
    ledger, catalog = store
    rtx, h200, cpu = catalog.get("rtx4090"), catalog.get("h200"), catalog.get("local-cpu")
    day = dt.datetime(2026, 3, 2, 9)
    for i, reason in enumerate(END_REASONS):
        notebook = ("a.ipynb", None, "deep/c.ipynb")[i % 3]
        run = _open(ledger, (rtx, h200)[i % 2], day + i * H, user=("alice", "bob")[i % 2], notebook=notebook)
        assert (
            ledger.close_run(run.id, reason, at=day + i * H + dt.timedelta(minutes=7 * i, milliseconds=i)) is not None
        )
    # Closed twice: the second close changes nothing.
    assert ledger.close_run(run.id, "shutdown", at=day + 40 * H) is None
    # Across midnight, a month end and a year end: the day (and month) of the start.
    _run(ledger, rtx, dt.datetime(2026, 3, 31, 23, 59, 59, 999_000), dt.datetime(2026, 4, 1, 0, 0, 0, 500_000))
    _run(ledger, h200, dt.datetime(2026, 4, 30, 22), dt.datetime(2026, 5, 2, 3))
    _run(ledger, h200, dt.datetime(2025, 12, 31, 23, 30), dt.datetime(2026, 1, 1, 0, 30), grant=OTHER)
    _run(ledger, rtx, dt.datetime(2026, 5, 1), dt.datetime(2026, 5, 1, 1))  # at midnight: that day
    # No time billed: a launch that failed, an end before the start (clamped to it).
    failed = _open(ledger, h200, dt.datetime(2026, 5, 3, 8))
    ledger.close_run(failed.id, "launch_failed", at=dt.datetime(2026, 5, 3, 8))
    early = _open(ledger, rtx, dt.datetime(2026, 5, 3, 9))
    ledger.close_run(early.id, "died", at=dt.datetime(2026, 5, 3, 8))
    # A free run charges no grant: not in the table.
    _run(ledger, cpu, dt.datetime(2026, 5, 3, 10), dt.datetime(2026, 5, 3, 12))

    # Reconciliation: runs of a gone server at their last heartbeat ...
    orphans = [_open(ledger, rtx, dt.datetime(2026, 5, 4, 23), user="orphan") for _ in range(2)]
    ledger.heartbeat([r.id for r in orphans], now=dt.datetime(2026, 5, 5, 0, 10))
    closed = ledger.close_at_last_heartbeat(lambda r: r.user == "orphan", "server_restart")
    assert {r.id for r in closed} == {r.id for r in orphans}
    assert all(r.ended == dt.datetime(2026, 5, 5, 0, 10) for r in closed)  # ended the next day, counted on the 4th
    # ... runs whose heartbeat is older than a moment ...
    stale = _open(ledger, h200, dt.datetime(2026, 5, 6, 10), user="stale")
    ledger.heartbeat([stale.id], now=dt.datetime(2026, 5, 6, 11))
    keep = _open(ledger, h200, dt.datetime(2026, 5, 6, 10), user="keep")
    ledger.heartbeat([keep.id], now=NOW)
    closed = ledger.close_at_last_heartbeat(
        lambda r: r.user in ("stale", "keep"), "lost", stale_before=dt.datetime(2026, 5, 7)
    )
    assert [r.id for r in closed] == [stale.id]
    # ... and runs that missed three heartbeats of their metering process.
    missed = _open(ledger, rtx, dt.datetime(2026, 6, 1, 23, 59), grant=OTHER, user="missed")
    closed = ledger.close_at_last_heartbeat(lambda r: r.user == "missed", "lost", missed=3, now=NOW)
    assert [r.id for r in closed] == [missed.id]
    # Open runs: the 'keep' one above, and one started today.
    _open(ledger, h200, NOW - 3 * H, user="carol")

    kept = assert_grant_spend_matches_runs(ledger)
    assert kept[(G, dt.date(2026, 3, 31), "rtx4090")] == [cost_micros(500_000, 501), 1] == [70, 1]
    assert kept[(G, dt.date(2026, 4, 30), "h200")] == [cost_micros(3_500_000, 29 * 3_600_000), 1]
    assert kept[(OTHER, dt.date(2025, 12, 31), "h200")] == [3_500_000, 1]
    assert kept[(G, dt.date(2026, 5, 3), "h200")] == [0, 1] and kept[(G, dt.date(2026, 5, 3), "rtx4090")] == [0, 1]
    assert kept[(G, dt.date(2026, 5, 4), "rtx4090")] == [2 * cost_micros(500_000, 70 * 60_000), 2]
    assert not any(tier == "local-cpu" for _, _, tier in kept)
    for grant in (G, OTHER):
        _check_against_reference(ledger, grant, NOW)
    months = {m.month: m.by_tier for m in spend_by_month(ledger, G, NOW)}
    assert months["2026-03"]["rtx4090"] >= 70 and "2026-04" in months
    # The stale run, closed at its last heartbeat; the 'keep' run of that day is open: counted live.
    assert kept[(G, dt.date(2026, 5, 6), "h200")] == [3_500_000, 1]
    live = cost_micros(3_500_000, duration_ms(dt.datetime(2026, 5, 6, 10), NOW))
    assert months["2026-05"]["h200"] == 0 + 3_500_000 + live
    # The run from 30 April to 2 May counts in April, whole.
    assert months["2026-04"] == {"h200": cost_micros(3_500_000, 29 * 3_600_000)}
    assert spend_by_month(ledger, OTHER, NOW)[0].month == "2025-12"


def test_simultaneous_closes_of_one_grant_and_day_add_up(store):
    """The upsert is atomic: closes racing on the same (grant, day, tier) row, including
    the first insert of that row, lose no cost and no run (SQLite and PostgreSQL)."""
    ledger, catalog = store
    rtx = catalog.get("rtx4090")
    start = dt.datetime(2026, 6, 2, 8)
    runs = [_open(ledger, rtx, start + i * dt.timedelta(seconds=1)) for i in range(24)]
    barrier = threading.Barrier(8)
    errors = []

    def close(batch):
        try:
            barrier.wait()
            for run in batch:
                ledger.close_run(run.id, "shutdown", at=run.started + dt.timedelta(minutes=10, milliseconds=7))
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=close, args=(runs[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    kept = assert_grant_spend_matches_runs(ledger)
    assert kept == {(G, start.date(), "rtx4090"): [24 * cost_micros(500_000, 600_007), 24]}
    _check_against_reference(ledger, G, NOW)


def test_rebuild_grant_spend_recomputes_rows_written_behind_the_ledgers_back(store):
    """Runs inserted without close_run (bulk seeds, imports) are not in the rollup tables until
    ``rebuild_grant_spend``, which recomputes a grant's rows (or all) from its closed runs."""
    ledger, catalog = store
    rtx, h200 = catalog.get("rtx4090"), catalog.get("h200")
    _run(ledger, rtx, dt.datetime(2026, 4, 1, 10), dt.datetime(2026, 4, 1, 12))
    _run(ledger, h200, dt.datetime(2026, 4, 2, 10), dt.datetime(2026, 4, 2, 11), grant=OTHER)
    start = dt.datetime(2026, 4, 3, 23, 30)
    with ledger.engine.begin() as conn:
        conn.execute(insert(Run), [_row(rtx, grant, start, start + H) for grant in (G, OTHER)])
        # And rows made wrong by hand.
        conn.execute(update(GrantDaySpend).where(GrantDaySpend.grant_id == G).values(cost_micros=1, runs=9))
        conn.execute(update(GrantNotebookSpend).where(GrantNotebookSpend.grant_id == G).values(cost_micros=2))
    with pytest.raises(AssertionError):
        assert_grant_spend_matches_runs(ledger)
    assert ledger.rebuild_grant_spend([G]) == 2
    assert grant_rollup(ledger, G, NOW).spent_micros == 1_000_000 + 500_000
    assert [r.micros for r in spend_by(ledger, G, "notebook", NOW)] == [1_500_000]
    assert spend_by_month(ledger, OTHER, NOW)[-1].total_micros == 3_500_000  # untouched: not yet rebuilt
    assert spend_by(ledger, OTHER, "user", NOW)[0].micros == 3_500_000
    assert ledger.rebuild_grant_spend() == 4
    assert_grant_spend_matches_runs(ledger)
    for grant in (G, OTHER):
        _check_against_reference(ledger, grant, NOW)


def test_a_rebuild_while_runs_close_counts_each_run_once(store):
    """Closes racing a rebuild: each run ends up in the rollup tables once, whether its close
    committed before the rebuild read the runs or after (SQLite and PostgreSQL)."""
    ledger, catalog = store
    rtx = catalog.get("rtx4090")
    start = dt.datetime(2026, 6, 3, 9)
    runs = [_open(ledger, rtx, start + i * dt.timedelta(minutes=1), user=("alice", "bob")[i % 2]) for i in range(30)]
    errors = []

    def close_all():
        try:
            for run in runs:
                ledger.close_run(run.id, "shutdown", at=run.started + dt.timedelta(minutes=5))
        except Exception as e:
            errors.append(e)

    def rebuild():
        try:
            for _ in range(5):
                ledger.rebuild_grant_spend([G])
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=close_all), threading.Thread(target=rebuild)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    kept = assert_grant_spend_matches_runs(ledger)
    assert kept == {(G, start.date(), "rtx4090"): [30 * cost_micros(500_000, 300_000), 30]}


def _row(tier, grant, start, end=None, user="alice", notebook="a.ipynb"):
    """A run as a bulk insert writes it (cost as close_run computes it)."""
    return {
        "id": uuid.uuid4().hex,
        "kernel_id": uuid.uuid4().hex,
        "kernelspec": f"compute-panel-{tier.id}-python3",
        "tier_id": tier.id,
        "grant_id": None if tier.free else grant,
        "user": user,
        "notebook": notebook,
        "rate_micros_per_hour": tier.rate_micros_per_hour,
        "currency": tier.currency,
        "started": start,
        "last_heartbeat": end or start,
        "ended": end,
        "end_reason": "shutdown" if end else None,
        "cost_micros": cost_micros(tier.rate_micros_per_hour, duration_ms(start, end)) if end else None,
        "launcher_host": "test",
        "launcher_pid": 1,
        "heartbeat_ms": 15_000,
    }


def _alembic(ledger, action, revision):
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)


def test_migration_0007_backfills_the_closed_runs(any_db_url):
    """A ledger written before the rollup tables gets them filled from its closed runs by the
    migration (one set-based INSERT ... SELECT on SQLite and PostgreSQL), so every figure
    is what it was; closes after the migration add to it. Downgrade and upgrade again:
    the same rows."""
    ledger = Ledger(any_db_url)
    try:
        _alembic(ledger, "upgrade", "0006")
        catalog = read_catalog_file(DEMO_CATALOG)
        ledger.sync_tiers(catalog, now=dt.datetime(2025, 1, 1))
        ledger.upsert_grants([_grant(G, "500.00"), _grant(OTHER, "100.00")])
        tiers = [catalog.get("rtx4090"), catalog.get("h200"), catalog.get("local-cpu")]
        rng = random.Random(11)
        rows = []
        for _ in range(300):
            start = dt.datetime(2025, 12, 1) + dt.timedelta(milliseconds=rng.randrange(190 * 86_400_000))
            length = dt.timedelta(milliseconds=int(rng.lognormvariate(15, 1.5)))
            end = None if rng.random() < 0.05 else start + length
            rows.append(_row(rng.choice(tiers), rng.choice([G, OTHER]), start, end, user=rng.choice("xyz")))
        # Edges: a run from 23:59:59.999 to after midnight, one started at midnight, one of no cost.
        rows.append(_row(tiers[0], G, dt.datetime(2026, 2, 28, 23, 59, 59, 999_000), dt.datetime(2026, 3, 1, 1)))
        rows.append(_row(tiers[1], G, dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 1, 2)))
        rows.append(_row(tiers[1], OTHER, dt.datetime(2026, 3, 1, 5), dt.datetime(2026, 3, 1, 5)))
        with ledger.engine.begin() as conn:
            conn.execute(insert(Run), rows)
        assert sum(r["ended"] is None for r in rows) > 0 and sum(r["grant_id"] is None for r in rows) > 0

        ledger.migrate()  # 0006 -> head: creates the rollup tables and fills them
        kept = assert_grant_spend_matches_runs(ledger)
        assert kept[(G, dt.date(2026, 2, 28), "rtx4090")][1] >= 1 and kept[(OTHER, dt.date(2026, 3, 1), "h200")][1] >= 1
        assert sum(n for _, n in kept.values()) == sum(1 for r in rows if r["ended"] and r["grant_id"])
        for grant in (G, OTHER):
            _check_against_reference(ledger, grant, NOW)

        # Closing a run that was open before the migration adds it.
        with ledger.session() as s:
            opened = s.scalars(select(Run.id).where(Run.ended.is_(None), Run.grant_id.is_not(None))).first()
        assert ledger.close_run(opened, "shutdown", at=NOW) is not None
        assert_grant_spend_matches_runs(ledger)

        _alembic(ledger, "downgrade", "0006")
        _alembic(ledger, "upgrade", "head")
        assert assert_grant_spend_matches_runs(ledger) == assert_grant_spend_matches_runs(ledger)
        for grant in (G, OTHER):
            _check_against_reference(ledger, grant, NOW)
    finally:
        ledger.dispose()


def test_a_run_without_a_notebook_is_one_key_whatever_the_path(store):
    """The notebook table keeps runs without a notebook under one key, read back as None; an
    empty path is recorded as no notebook, so it cannot make a second '(no notebook)' row."""
    ledger, catalog = store
    rtx = catalog.get("rtx4090")
    _run(ledger, rtx, dt.datetime(2026, 4, 1, 10), dt.datetime(2026, 4, 1, 11), notebook=None)
    empty = _run(ledger, rtx, dt.datetime(2026, 4, 1, 12), dt.datetime(2026, 4, 1, 13), notebook="")
    assert empty.notebook is None
    _run(ledger, rtx, dt.datetime(2026, 4, 1, 14), dt.datetime(2026, 4, 1, 15), notebook="n.ipynb")
    assert [(r.key, r.label, r.micros) for r in spend_by(ledger, G, "notebook", NOW)] == [
        (None, NO_NOTEBOOK, 1_000_000),
        ("n.ipynb", "n.ipynb", 500_000),
    ]
    assert_grant_spend_matches_runs(ledger)
    _check_against_reference(ledger, G, NOW)
