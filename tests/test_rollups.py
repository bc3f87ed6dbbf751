"""Grant rollups on SQLite and on a real PostgreSQL: exact sums, burn rates, forecast, burn-down
(the rollup tables behind them: test_rollup_tables.py)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest
from conftest import assert_grant_spend_matches_runs
from rollup_reference import EMPTY, MS, NOW, OTHER, G, H, _check_against_reference, _run, seeded_store

from jupyterlab_compute_panel.domain.money import cost_micros
from jupyterlab_compute_panel.ledger import (
    NO_NOTEBOOK,
    LedgerError,
    burn_down,
    duration_ms,
    grant_rollup,
    spend_by,
    spend_by_month,
    spent_micros,
)


@pytest.fixture
def store(any_db_url):
    yield from seeded_store(any_db_url)


# -- tests ---------------------------------------------------------------------------------------


def test_hand_computed_figures(store):
    ledger, catalog = store
    rtx, h200, cpu = catalog.get("rtx4090"), catalog.get("h200"), catalog.get("local-cpu")
    # Spans March/April: counts in March, whole.
    _run(ledger, rtx, dt.datetime(2026, 3, 31, 23), dt.datetime(2026, 4, 1, 1))  # 2 h: 1.000000
    # One hour and one millisecond on the H200: 3.500001 (half-up of 3.50000097).
    _run(ledger, h200, dt.datetime(2026, 5, 20, 10), dt.datetime(2026, 5, 20, 11) + MS, user="bob", notebook="b.ipynb")
    # Crosses the 30-day window's start (2026-05-16 12:00): 24 h inside of 48 h.
    _run(ledger, h200, dt.datetime(2026, 5, 15, 12), dt.datetime(2026, 5, 17, 12), notebook=None)
    # Crosses the 7-day window's start (2026-06-08 12:00): 24 h + 333 ms inside.
    _run(ledger, rtx, dt.datetime(2026, 6, 7, 12), dt.datetime(2026, 6, 9, 12) + 333 * MS)
    # Wholly inside both windows: 1.5 h.
    _run(ledger, rtx, dt.datetime(2026, 6, 10, 8), dt.datetime(2026, 6, 10, 9, 30), user="bob", notebook="b.ipynb")
    # Open runs: one started 1 h 59 m 59.5 s before now, one before the 7-day window.
    _run(ledger, h200, dt.datetime(2026, 6, 15, 10, 0, 0, 500_000), user="carol", notebook="c.ipynb")
    _run(ledger, rtx, dt.datetime(2026, 6, 1))
    # Not this grant's.
    _run(ledger, h200, dt.datetime(2026, 6, 14), dt.datetime(2026, 6, 14, 5), grant=OTHER)
    _run(ledger, cpu, dt.datetime(2026, 6, 14), dt.datetime(2026, 6, 14, 5))

    open_h200 = cost_micros(3_500_000, duration_ms(dt.datetime(2026, 6, 15, 10, 0, 0, 500_000), NOW))
    open_rtx = cost_micros(500_000, duration_ms(dt.datetime(2026, 6, 1), NOW))
    assert open_h200 == 6_999_514  # 7199.5 s at 3.50/h = 6.9995138..., half-up
    assert open_rtx == 174_000_000  # 14.5 days at 0.50/h
    closed = 1_000_000 + 3_500_001 + 168_000_000 + cost_micros(500_000, 48 * 3_600_000 + 333) + 750_000
    assert cost_micros(500_000, 48 * 3_600_000 + 333) == 24_000_046
    spent = closed + open_h200 + open_rtx

    roll, _ = _check_against_reference(ledger, G, NOW)
    assert roll.spent_micros == spent == 378_249_561
    assert roll.remaining_micros == 500_000_000 - spent
    w7 = cost_micros(500_000, 24 * 3_600_000 + 333) + 750_000 + open_h200 + cost_micros(500_000, 7 * 24 * 3_600_000)
    w30 = 84_000_000 + 3_500_001 + 24_000_046 + 750_000 + open_h200 + open_rtx
    assert (roll.spent_7d_micros, roll.spent_30d_micros) == (w7, w30)
    assert roll.burn_7d_micros_per_day == (2 * w7 + 7) // 14
    assert roll.burn_30d_micros_per_day == (2 * w30 + 30) // 60
    assert w30 == 293_249_561
    # 121.750439 left at 293.249561 per 30 days: 12.455 days after 2026-06-15 12:00.
    assert roll.forecast_exhaustion == dt.date(2026, 6, 27)
    assert roll.exhausts_before_end and roll.end_date == dt.date(2026, 12, 31)
    assert roll.open_runs == 2 and roll.currency == "USD"

    by_tier = spend_by(ledger, G, "tier", NOW)
    assert [(r.key, r.label) for r in by_tier] == [("rtx4090", "RTX 4090 prototyping"), ("h200", "H200 training")]
    by_nb = {r.key: r for r in spend_by(ledger, G, "notebook", NOW)}
    assert by_nb[None].label == NO_NOTEBOOK and by_nb[None].micros == 168_000_000
    months = spend_by_month(ledger, G, NOW)
    assert [m.month for m in months] == ["2026-03", "2026-04", "2026-05", "2026-06"]
    assert months[0].by_tier == {"rtx4090": 1_000_000} and months[1].total_micros == 0
    assert months[2].by_tier == {"h200": 171_500_001}

    # A range selects runs by their start; the breakdowns still sum to the range's spend.
    since, until = dt.datetime(2026, 5, 1), dt.datetime(2026, 6, 10)
    in_range = spent_micros(ledger, G, NOW, since, until)
    assert in_range == 3_500_001 + 168_000_000 + 24_000_046 + open_rtx
    for dim in ("tier", "user", "notebook"):
        assert sum(r.micros for r in spend_by(ledger, G, dim, NOW, since=since, until=until)) == in_range

    points = burn_down(ledger, G, NOW)
    assert points[0].day == dt.date(2026, 1, 1) and points[0].remaining_micros == 500_000_000
    assert len(points) == (NOW.date() - dt.date(2026, 1, 1)).days + 1
    assert {p.day: p.spent_micros for p in points}[dt.date(2026, 3, 31)] == 1_000_000


def test_open_runs_count_up_to_now(store):
    ledger, catalog = store
    h200 = catalog.get("h200")
    _run(ledger, h200, NOW - 2 * H)
    for later in (NOW, NOW + 30 * dt.timedelta(minutes=1)):
        roll = grant_rollup(ledger, G, later)
        expected = cost_micros(3_500_000, duration_ms(NOW - 2 * H, later))
        assert roll.spent_micros == roll.spent_7d_micros == roll.spent_30d_micros == expected
        assert roll.open_runs == 1
        assert spend_by(ledger, G, "user", later)[0].micros == expected
        assert spend_by_month(ledger, G, later)[-1].total_micros == expected
        assert burn_down(ledger, G, later)[-1].spent_micros == expected


def test_random_history_matches_run_by_run_reference(store):
    ledger, catalog = store
    rng = random.Random(7)
    tiers = [catalog.get("rtx4090"), catalog.get("h200"), catalog.get("local-cpu")]
    users, notebooks = ["alice", "bob", "carol", "dan"], ["a.ipynb", "b.ipynb", "deep/c.ipynb", None]
    first = dt.datetime(2025, 12, 1)
    for _ in range(120):
        start = first + dt.timedelta(milliseconds=rng.randrange(200 * 86_400_000))
        length = dt.timedelta(milliseconds=int(rng.lognormvariate(15, 1.5)))
        end = None if rng.random() < 0.05 else start + length
        if start >= NOW:
            end = start + length  # a run recorded after 'now': closed, counted in spent only
        _run(
            ledger,
            rng.choice(tiers),
            start,
            end,
            grant=rng.choice([G, G, OTHER]),
            user=rng.choice(users),
            notebook=rng.choice(notebooks),
        )
    assert_grant_spend_matches_runs(ledger)
    ranges = (
        (dt.datetime(2026, 2, 1), dt.datetime(2026, 5, 1)),  # midnights: tier from grant_day_spend
        (dt.datetime(2026, 2, 1, 12, 30), dt.datetime(2026, 5, 1, 0, 0, 0, 1000)),  # not: from the runs
        (None, dt.datetime(2026, 3, 15)),
        (dt.datetime(2026, 3, 15, 6), None),
    )
    for grant in (G, OTHER):
        roll, runs = _check_against_reference(ledger, grant, NOW)
        assert roll.spent_30d_micros > 0 and any(r.is_open for r in runs)
        for since, until in ranges:
            selected = [
                r for r in runs if (since is None or since <= r.started) and (until is None or r.started < until)
            ]
            expected = sum(r.cost_micros(NOW) for r in selected)
            assert spent_micros(ledger, grant, NOW, since, until) == expected
            for dim, key in (("tier", "tier_id"), ("user", "user"), ("notebook", "notebook")):
                rows = spend_by(ledger, grant, dim, NOW, since=since, until=until)
                assert sum(r.micros for r in rows) == expected
                by_key = defaultdict(int)
                for r in selected:
                    by_key[getattr(r, key)] += r.cost_micros(NOW)
                assert {r.key: r.micros for r in rows} == dict(by_key)


def test_grant_without_runs(store):
    ledger, _ = store
    roll = grant_rollup(ledger, EMPTY, NOW)
    assert (roll.budget_micros, roll.spent_micros, roll.remaining_micros) == (250_000_000, 0, 250_000_000)
    assert (roll.burn_7d_micros_per_day, roll.burn_30d_micros_per_day, roll.open_runs) == (0, 0, 0)
    assert roll.forecast_exhaustion is None and not roll.exhausts_before_end
    assert all(spend_by(ledger, EMPTY, dim, NOW) == [] for dim in ("tier", "user", "notebook"))
    assert spend_by_month(ledger, EMPTY, NOW) == []
    points = burn_down(ledger, EMPTY, NOW)
    assert [p.day for p in points] == [dt.date(2026, 6, d) for d in range(1, 16)]
    assert {p.remaining_micros for p in points} == {250_000_000}
    # A grant that starts after 'now' has a one-point burn-down: today's.
    assert [(p.day, p.remaining_micros) for p in burn_down(ledger, EMPTY, dt.datetime(2026, 5, 1))] == [
        (dt.date(2026, 5, 1), 250_000_000)
    ]


def test_overspent_grant_is_exhausted_today(store):
    ledger, catalog = store
    _run(ledger, catalog.get("h200"), NOW - 40 * H, NOW - 10 * H, grant=OTHER)  # 105.00 of 100.00
    roll = grant_rollup(ledger, OTHER, NOW)
    assert roll.remaining_micros == -5_000_000
    assert roll.forecast_exhaustion == NOW.date() and roll.exhausts_before_end
    assert burn_down(ledger, OTHER, NOW)[-1].remaining_micros == -5_000_000


def test_unknown_grant_and_dimension(store):
    ledger, _ = store
    with pytest.raises(LedgerError, match="no such grant"):
        grant_rollup(ledger, "nope", NOW)
    with pytest.raises(LedgerError, match="no such grant"):
        spend_by(ledger, "nope", "tier", NOW)
    with pytest.raises(ValueError, match="dimension"):
        spend_by(ledger, G, "funder", NOW)
