"""What grants have spent: closed runs' costs kept in the rollup tables (``grant_day_spend``,
``grant_notebook_spend``) by the transaction that closes each run, plus open runs so far."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.money import cost_micros
from .engine import LedgerBase, LedgerError, day_of
from .models import NO_NOTEBOOK_KEY, Grant, GrantDaySpend, GrantNotebookSpend, Run
from .runs import RunView


def closed_spend(s: Session, grant_id: str) -> int:
    """What the grant's closed runs cost, from ``grant_day_spend`` (a few hundred rows)."""
    total = s.scalar(
        select(func.coalesce(func.sum(GrantDaySpend.cost_micros), 0)).where(GrantDaySpend.grant_id == grant_id)
    )
    return int(total)


class SpendMixin(LedgerBase):
    """Grants' spend and committed spend, and the rollup rows behind them."""

    def grant_spend(self, grant_ids: Iterable[str], now: dt.datetime) -> dict[str, int]:
        """Spent micro-units per grant: closed runs' costs plus open runs up to ``now``."""
        ids = list(grant_ids)
        spent = dict.fromkeys(ids, 0)
        if not ids:
            return spent
        with self.session() as s:
            closed = s.execute(
                select(GrantDaySpend.grant_id, func.coalesce(func.sum(GrantDaySpend.cost_micros), 0))
                .where(GrantDaySpend.grant_id.in_(ids))
                .group_by(GrantDaySpend.grant_id)
            ).all()
            for grant_id, total in closed:
                spent[grant_id] += int(total)
            for run in s.scalars(select(Run).where(Run.grant_id.in_(ids), Run.ended.is_(None))):
                spent[run.grant_id] += RunView.of(run).cost_micros(now)
        return spent

    def spent_and_committed(self, grant_id: str, now: dt.datetime) -> tuple[int, int]:
        """The grant's spent and committed micro-units (see ``_spent_and_committed``)."""
        with self.session() as s:
            grant = s.get(Grant, grant_id)
            if grant is None:
                raise LedgerError(f"grant {grant_id!r}: no such grant")
            return self._spent_and_committed(s, grant, now)

    @staticmethod
    def _spent_and_committed(s: Session, grant: Grant, now: dt.datetime) -> tuple[int, int]:
        """Spent (closed costs + open runs so far) and committed (what open runs' minimum
        runtimes will still cost) for a grant, in micro-units.

        The closed sum rides along with the open runs in one statement, so both parts see
        the same state: read apart, a run closing in between (on another server) was in
        neither part under PostgreSQL's READ COMMITTED, or in both in the other order."""
        closed = (
            select(func.coalesce(func.sum(GrantDaySpend.cost_micros), 0))
            .where(GrantDaySpend.grant_id == grant.id)
            .scalar_subquery()
        )
        rows = s.execute(select(Run, closed).where(Run.grant_id == grant.id, Run.ended.is_(None))).all()
        # Without open runs there is nothing to be inconsistent with.
        spent = int(rows[0][1]) if rows else closed_spend(s, grant.id)
        committed = 0
        for run, _ in rows:
            so_far = RunView.of(run).cost_micros(now)
            spent += so_far
            committed += max(0, cost_micros(run.rate_micros_per_hour, grant.min_runtime_s * 1000) - so_far)
        return spent, committed

    def _add_closed_spend(self, s: Session, run: Run) -> None:
        """Add a run just closed to its grant's rollup rows, in the closing transaction: its
        ``grant_day_spend`` row (the UTC day it started, its tier) and its
        ``grant_notebook_spend`` row (its user and notebook). Atomic upserts, so concurrent
        closes of a grant's runs add up on SQLite and PostgreSQL alike."""
        if run.grant_id is None:
            return
        cost = run.cost_micros or 0
        day = {"grant_id": run.grant_id, "day": run.started.date(), "tier_id": run.tier_id}
        self._upsert_add(s, GrantDaySpend, day, cost)
        notebook = run.notebook if run.notebook is not None else NO_NOTEBOOK_KEY
        self._upsert_add(
            s, GrantNotebookSpend, {"grant_id": run.grant_id, "user": run.user, "notebook": notebook}, cost
        )

    def _upsert_add(self, s: Session, model, key: dict[str, Any], cost: int) -> None:
        """INSERT the row ``key`` with ``cost`` and one run, or add them to it: ON CONFLICT DO
        UPDATE on SQLite and PostgreSQL."""
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:  # any other database: update, else insert (in a savepoint, retried once if raced)
            for _ in range(2):
                added = {"cost_micros": model.cost_micros + cost, "runs": model.runs + 1}
                if s.execute(update(model).filter_by(**key).values(**added)).rowcount:
                    return
                try:
                    with s.begin_nested():
                        s.execute(insert(model).values(**key, cost_micros=cost, runs=1))
                    return
                except IntegrityError:
                    continue
            raise LedgerError(f"cannot add to {model.__tablename__} {key}")
        stmt = dialect_insert(model).values(**key, cost_micros=cost, runs=1)
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=[getattr(model, column) for column in key],
                set_={
                    "cost_micros": model.cost_micros + stmt.excluded.cost_micros,
                    "runs": model.runs + stmt.excluded.runs,
                },
            )
        )

    def rebuild_grant_spend(self, grant_ids: Iterable[str] | None = None) -> int:
        """Recompute ``grant_day_spend`` and ``grant_notebook_spend`` from the closed runs (of
        ``grant_ids``, or of every grant), set-based, in one transaction; the number of day
        rows. For runs written without ``close_run`` (bulk seeds, imports): ``close_run``
        keeps both tables itself."""
        ids = None if grant_ids is None else sorted(set(grant_ids))
        closed = [Run.grant_id.is_not(None), Run.ended.is_not(None)]
        if ids is not None:
            closed.append(Run.grant_id.in_(ids))
        cost, count = func.coalesce(func.sum(Run.cost_micros), 0), func.count()
        day = day_of(self.engine.dialect.name, Run.started).label("day")
        notebook = func.coalesce(Run.notebook, NO_NOTEBOOK_KEY).label("notebook")
        fills = (
            (GrantDaySpend, (Run.grant_id, day, Run.tier_id), ["grant_id", "day", "tier_id"]),
            (GrantNotebookSpend, (Run.grant_id, Run.user, notebook), ["grant_id", "user", "notebook"]),
        )
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                # Closes wait until the rebuild commits (and it waits for those under way), so
                # a run closing meanwhile is added once: by the rebuild if its close committed
                # first, else by its own upsert afterwards. (SQLite: the first write locks.)
                conn.exec_driver_sql("LOCK TABLE grant_day_spend, grant_notebook_spend IN EXCLUSIVE MODE")
            for model, keys, names in fills:
                wipe = delete(model)
                if ids is not None:
                    wipe = wipe.where(model.grant_id.in_(ids))
                conn.execute(wipe)
                rows = select(*keys, cost, count).where(*closed).group_by(*keys)
                conn.execute(insert(model).from_select([*names, "cost_micros", "runs"], rows))
            # (the drivers' rowcount of INSERT ... SELECT is not portable: count the rows)
            written = select(func.count()).select_from(GrantDaySpend)
            if ids is not None:
                written = written.where(GrantDaySpend.grant_id.in_(ids))
            return int(conn.scalar(written))
