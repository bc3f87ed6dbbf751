"""A grant's dashboard figures: spent and remaining, burn rates, forecast, breakdowns, burn-down.

Every amount is integer micro-units of the grant's currency. A run's cost is what
``runs.RunView.cost_micros`` says: the stored cost of a closed run, and for an open run
its cost from its start up to ``now`` (``money.cost_micros``: rate times milliseconds,
rounded half-up).

Closed runs are read from rollup tables that ``Ledger.close_run`` keeps in the transaction
that closes each run (``models.GrantDaySpend``, ``models.GrantNotebookSpend``):

- ``grant_day_spend``, the cost per grant, UTC day of the runs' start and tier: months,
  the burn-down, the tier breakdown and the total spent, also over ranges whose ends are
  midnights (about 730 rows per tier for a grant two years old, however many runs);
- ``grant_notebook_spend``, the cost per grant, user and notebook: the user and notebook
  breakdowns without a range (a row per notebook of each member).

What they cannot answer is read from the ``runs`` indexes that start with ``grant_id``
(migration 0003): user and notebook breakdowns over a range, any range whose ends are not
both midnights, and the burn windows. Open runs, which are few, are costed here in Python
and added to either. Both parts are read in one snapshot (``Ledger.snapshot``, as the
dashboard does), so a run that closes in between is counted once, open or closed. Every
query is portable SQL.

Attribution rules:

- **Breakdowns** (by tier, user, notebook) and **months** attribute each run, whole, to
  the time it *started*: a run started on 31 March at 23:00 that ends on 1 April counts in
  March. ``since``/``until`` select the runs that started in ``[since, until)``. So every
  breakdown sums exactly to the spend of the same runs, and with no range to ``spent``.
- **Burn-down** attributes each run whole to the UTC day it started; the series is the
  budget minus the running total, and its last point is ``remaining``.
- **Burn rates** attribute to a window ``[now - days, now)`` only the part of each run that
  lies inside it: a run wholly inside counts its cost; a run that crosses an edge of the
  window (started before it, or still running past ``now``) counts
  ``money.cost_micros(rate, overlap_ms)``, its rate over the milliseconds of overlap with the
  same half-up rounding. The rate per day is that window spend divided by ``days``, rounded
  half-up to a micro-unit. The window has its full length even for a grant younger than it.
- **Forecast**: the moment the remaining budget reaches zero if spending goes on at the
  30-day rate (computed from the exact 30-day window spend, not the rounded rate), as a
  UTC date; today's date if nothing remains; None if the 30-day spend is zero (or if the
  date would lie past the year 9999).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..domain.money import cost_micros
from .engine import LedgerError, duration_ms
from .ledger import Ledger
from .models import NO_NOTEBOOK_KEY, Grant, GrantDaySpend, GrantNotebookSpend, Run, TierRow
from .runs import RunView

DIMENSIONS = ("tier", "user", "notebook")
NO_NOTEBOOK = "(no notebook)"
_MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class GrantRollup:
    grant_id: str
    currency: str
    budget_micros: int
    spent_micros: int
    remaining_micros: int  # negative once overspent
    spent_7d_micros: int  # window spend, pro rata (see the module's rules)
    spent_30d_micros: int
    burn_7d_micros_per_day: int
    burn_30d_micros_per_day: int
    forecast_exhaustion: dt.date | None
    start_date: dt.date
    end_date: dt.date
    exhausts_before_end: bool
    open_runs: int
    now: dt.datetime


@dataclass(frozen=True)
class SpendRow:
    key: str | None  # tier id, user name, notebook path (None: runs without a notebook)
    label: str
    micros: int


@dataclass(frozen=True)
class MonthSpend:
    month: str  # 'YYYY-MM' (UTC) of the runs' starts
    by_tier: dict[str, int]
    total_micros: int


@dataclass(frozen=True)
class BurnDownPoint:
    day: dt.date
    spent_micros: int  # cumulative, runs started up to the end of this day
    remaining_micros: int


# -- helpers -------------------------------------------------------------------------------------


def _grant(s: Session, grant_id: str) -> Grant:
    grant = s.get(Grant, grant_id)
    if grant is None:
        raise LedgerError(f"grant {grant_id!r}: no such grant")
    return grant


def _open_runs(s: Session, grant_id: str) -> list[RunView]:
    """The grant's open runs. Selected through the open-runs index (``ended IS NULL``), with the
    grant compared inside an expression so that no planner walks the grant's whole history
    instead: open runs are few in the whole ledger, a heavy grant's runs are not."""
    rows = s.scalars(select(Run).where(Run.ended.is_(None), func.coalesce(Run.grant_id, "") == grant_id))
    return [RunView.of(r) for r in rows]


def _in_range(started: dt.datetime, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    return (since is None or started >= since) and (until is None or started < until)


def _range(query, since: dt.datetime | None, until: dt.datetime | None):
    if since is not None:
        query = query.where(Run.started >= since)
    if until is not None:
        query = query.where(Run.started < until)
    return query


def _midnight(value: dt.datetime | None) -> bool:
    return value is None or value == dt.datetime.combine(value.date(), dt.time())


def _day_range(query, since: dt.datetime | None, until: dt.datetime | None):
    """``_range`` for ``grant_day_spend`` rows: only for ``since`` and ``until`` at midnight
    (or None), where a day lies wholly inside or outside the range."""
    if since is not None:
        query = query.where(GrantDaySpend.day >= since.date())
    if until is not None:
        query = query.where(GrantDaySpend.day < until.date())
    return query


def _div_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _month_start(day: dt.datetime | dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, 1)


def _next_month(month: dt.datetime) -> dt.datetime:
    return dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1)


def _closed_total(s: Session, grant_id: str, since=None, until=None) -> int:
    """The cost of the grant's closed runs started in ``[since, until)``: from
    ``grant_day_spend`` when both ends are midnights (or None), else from the runs."""
    if _midnight(since) and _midnight(until):
        query = select(func.coalesce(func.sum(GrantDaySpend.cost_micros), 0)).where(GrantDaySpend.grant_id == grant_id)
        return int(s.scalar(_day_range(query, since, until)))
    # SUM skips the NULL cost of open runs, so no condition on 'ended' is needed (or wanted:
    # it would offer the planner the open-runs index).
    query = _range(select(func.coalesce(func.sum(Run.cost_micros), 0)).where(Run.grant_id == grant_id), since, until)
    return int(s.scalar(query))


# -- spent and burn ------------------------------------------------------------------------------


def spent_micros(
    ledger: Ledger, grant_id: str, now: dt.datetime, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> int:
    """What the grant's runs cost (closed: stored; open: up to ``now``), for the runs that
    started in ``[since, until)`` (every run when both are None)."""
    with ledger.session() as s:
        _grant(s, grant_id)
        total = _closed_total(s, grant_id, since, until)
        return total + sum(r.cost_micros(now) for r in _open_runs(s, grant_id) if _in_range(r.started, since, until))


def _window_spend(
    s: Session, grant_id: str, now: dt.datetime, opened: list[RunView], days: tuple[int, ...]
) -> list[int]:
    """Spend attributed pro rata to each window ``[now - d, now)``, for d in ``days``."""
    starts = [now - dt.timedelta(days=d) for d in days]
    widest = min(starts)
    # Both queries select the closed runs that ended after the widest window's start: one
    # range of an index on (grant_id, ended). Every other test sits inside a CASE, so that no
    # planner takes it for an index range of its own (one on 'started' spans the whole history).
    recent = (Run.grant_id == grant_id, Run.ended > widest)
    # Runs wholly inside each window: summed by the database.
    inside_cols = [
        func.coalesce(func.sum(case(((Run.started >= ws) & (Run.ended <= now), Run.cost_micros), else_=None)), 0)
        for ws in starts
    ]
    inside = s.execute(select(*inside_cols).where(*recent)).one()
    totals = [int(v) for v in inside]
    # Runs crossing an edge of some window (started before it, or ended after now): costed here.
    crosses = case(
        (Run.started >= now, 0),
        (Run.ended > now, 1),
        *(((Run.started < ws) & (Run.ended > ws), 1) for ws in starts),
        else_=0,
    )
    edges = s.execute(
        select(Run.rate_micros_per_hour, Run.started, Run.ended, Run.cost_micros).where(*recent, crosses == 1)
    ).all()
    for rate, started, ended, _cost in edges:
        for i, ws in enumerate(starts):
            if started >= ws and ended <= now:
                continue  # wholly inside this window: already in the SQL sum
            overlap = duration_ms(max(started, ws), min(ended, now))
            totals[i] += cost_micros(rate, overlap)
    for run in opened:
        for i, ws in enumerate(starts):
            if run.started >= ws:
                totals[i] += run.cost_micros(now)  # from its start to now, as spent counts it
            else:
                totals[i] += cost_micros(run.rate_micros_per_hour, duration_ms(ws, now))
    return totals


def grant_rollup(ledger: Ledger, grant_id: str, now: dt.datetime) -> GrantRollup:
    """Budget, spent, remaining, 7- and 30-day burn, and the forecast date of exhaustion."""
    with ledger.session() as s:
        grant = _grant(s, grant_id)
        opened = _open_runs(s, grant_id)
        spent = _closed_total(s, grant_id) + sum(r.cost_micros(now) for r in opened)
        w7, w30 = _window_spend(s, grant_id, now, opened, (7, 30))
    remaining = grant.budget_micros - spent
    forecast = None
    if remaining <= 0:
        forecast = now.date()
    elif w30 > 0:
        # remaining / (w30 / 30 days), rounded up to the millisecond.
        ms = -(-remaining * 30 * _MS_PER_DAY // w30)
        try:
            forecast = (now + dt.timedelta(milliseconds=ms)).date()
        except OverflowError:
            forecast = None
    return GrantRollup(
        grant_id=grant.id,
        currency=grant.currency,
        budget_micros=grant.budget_micros,
        spent_micros=spent,
        remaining_micros=remaining,
        spent_7d_micros=w7,
        spent_30d_micros=w30,
        burn_7d_micros_per_day=_div_half_up(w7, 7),
        burn_30d_micros_per_day=_div_half_up(w30, 30),
        forecast_exhaustion=forecast,
        start_date=grant.start_date,
        end_date=grant.end_date,
        exhausts_before_end=forecast is not None and forecast <= grant.end_date,
        open_runs=len(opened),
        now=now,
    )


# -- breakdowns ----------------------------------------------------------------------------------


def spend_by(
    ledger: Ledger,
    grant_id: str,
    dimension: str,
    now: dt.datetime,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[SpendRow]:
    """The grant's spend by tier, user or notebook, for runs started in ``[since, until)``;
    largest first (ties by key). The rows sum exactly to ``spent_micros`` of the same range."""
    column = {"tier": Run.tier_id, "user": Run.user, "notebook": Run.notebook}.get(dimension)
    if column is None:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}, got {dimension!r}")
    totals: dict[str | None, int] = defaultdict(int)
    with ledger.session() as s:
        _grant(s, grant_id)
        if dimension == "tier" and _midnight(since) and _midnight(until):
            query = select(GrantDaySpend.tier_id, func.sum(GrantDaySpend.cost_micros))
            query = _day_range(query.where(GrantDaySpend.grant_id == grant_id), since, until)
            query = query.group_by(GrantDaySpend.tier_id)
        elif dimension != "tier" and since is None and until is None:
            kept = GrantNotebookSpend.user if dimension == "user" else GrantNotebookSpend.notebook
            query = select(kept, func.sum(GrantNotebookSpend.cost_micros))
            query = query.where(GrantNotebookSpend.grant_id == grant_id).group_by(kept)
        else:
            query = _range(select(column, func.sum(Run.cost_micros)).where(Run.grant_id == grant_id), since, until)
            query = query.group_by(column)
        for key, total in s.execute(query):
            if dimension == "notebook" and key == NO_NOTEBOOK_KEY:
                key = None
            totals[key] += int(total or 0)
        for run in _open_runs(s, grant_id):
            if _in_range(run.started, since, until):
                key = {"tier": run.tier_id, "user": run.user, "notebook": run.notebook}[dimension]
                totals[key] += run.cost_micros(now)
        labels = dict(s.execute(select(TierRow.id, TierRow.label)).all()) if dimension == "tier" else {}
    rows = []
    for key, micros in totals.items():
        if dimension == "tier":
            label = labels.get(key, key)
        else:
            label = NO_NOTEBOOK if key is None else key
        rows.append(SpendRow(key, label, micros))
    rows.sort(key=lambda r: (-r.micros, r.key is None, r.key or ""))
    return rows


def spend_by_month(ledger: Ledger, grant_id: str, now: dt.datetime) -> list[MonthSpend]:
    """The grant's spend per calendar month (UTC) of the runs' starts, stacked by tier; from
    the first month with a run to the last, months without spend included (empty)."""
    # Keyed by (year, month): formatting a date per row would cost more than the query.
    cells: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with ledger.session() as s:
        _grant(s, grant_id)
        days = select(GrantDaySpend.day, GrantDaySpend.tier_id, GrantDaySpend.cost_micros)
        for day, tier, total in s.execute(days.where(GrantDaySpend.grant_id == grant_id)):
            cells[day.year, day.month][tier] += int(total)
        for run in _open_runs(s, grant_id):
            cells[run.started.year, run.started.month][run.tier_id] += run.cost_micros(now)
    out: list[MonthSpend] = []
    if not cells:
        return out
    month, end = _month_start(dt.date(*min(cells), 1)), max(cells)
    while (month.year, month.month) <= end:
        by_tier = dict(sorted(cells.get((month.year, month.month), {}).items()))
        out.append(MonthSpend(f"{month:%Y-%m}", by_tier, sum(by_tier.values())))
        month = _next_month(month)
    return out


def burn_down(ledger: Ledger, grant_id: str, now: dt.datetime) -> list[BurnDownPoint]:
    """Remaining budget at the end of each UTC day, from the grant's start date (or its first
    run's day, if earlier) to ``now``'s day. Runs count on the day they started (runs started
    after ``now``'s day, possible only for a ``now`` in the past, count on its last day); the
    last point's ``remaining_micros`` is ``grant_rollup(...).remaining_micros``."""
    per_day: dict[dt.date, int] = defaultdict(int)
    today = now.date()
    with ledger.session() as s:
        grant = _grant(s, grant_id)
        days = select(GrantDaySpend.day, func.sum(GrantDaySpend.cost_micros)).where(GrantDaySpend.grant_id == grant_id)
        for day, total in s.execute(days.group_by(GrantDaySpend.day)):
            per_day[min(day, today)] += int(total)
        for run in _open_runs(s, grant_id):
            per_day[min(run.started.date(), today)] += run.cost_micros(now)
    first = min([grant.start_date, *per_day])
    if first > today:
        first = today
    points = []
    spent = 0
    current = first
    while current <= today:
        spent += per_day.get(current, 0)
        points.append(BurnDownPoint(current, spent, grant.budget_micros - spent))
        current += dt.timedelta(days=1)
    return points
