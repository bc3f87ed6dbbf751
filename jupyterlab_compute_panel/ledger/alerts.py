"""Budgets in the ledger: a grant's budget status in one query, and the alerts its thresholds raise."""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.money import MS_PER_HOUR, cost_micros, format_amount
from .engine import LedgerBase, duration_ms, iso, utcnow
from .models import BudgetAlert, Grant, GrantDaySpend, GrantMember, Run


@dataclass(frozen=True)
class OpenCharge:
    """An open run of a grant, as the budget check sees it."""

    run_id: str
    user: str
    rate_micros_per_hour: int
    started: dt.datetime


@dataclass(frozen=True)
class BudgetStatus:
    """A grant's budget at one instant: what the heartbeat's budget check needs, read in one query."""

    grant_id: str
    award_number: str
    budget_micros: int
    currency: str
    alert_thresholds: tuple[int, ...]
    hard_stop: bool
    spent_micros: int  # closed runs' costs plus open runs up to ``at``
    open_runs: tuple[OpenCharge, ...]
    at: dt.datetime

    @property
    def burn_micros_per_hour(self) -> int:
        """What the grant's open runs (on every server) cost per hour together."""
        return sum(r.rate_micros_per_hour for r in self.open_runs)

    @property
    def left_micros(self) -> int:
        return self.budget_micros - self.spent_micros

    def crossed(self) -> list[int]:
        """The alert thresholds the spend has reached (integer arithmetic, no floats)."""
        return [t for t in self.alert_thresholds if self.spent_micros * 100 >= t * self.budget_micros]

    def exhausted_at(self) -> dt.datetime | None:
        """When the budget runs out at the current burn: ``at`` if it already has, None if nothing burns."""
        left = self.left_micros
        if left <= 0:
            return self.at
        burn = self.burn_micros_per_hour
        if burn <= 0:
            return None
        # Round up to the millisecond: the instant at which the spend reaches the budget.
        return self.at + dt.timedelta(milliseconds=-(-left * MS_PER_HOUR // burn))


@dataclass(frozen=True)
class AlertView:
    id: str
    grant_id: str
    award_number: str
    title: str
    threshold_pct: int
    budget_micros: int
    spent_micros: int
    currency: str
    hard_stop: bool
    recipient: str
    created: dt.datetime
    delivered: dt.datetime | None

    @classmethod
    def of(cls, alert: BudgetAlert, grant: Grant) -> AlertView:
        return cls(
            id=alert.id,
            grant_id=alert.grant_id,
            award_number=grant.award_number,
            title=grant.title,
            threshold_pct=alert.threshold_pct,
            budget_micros=alert.budget_micros,
            spent_micros=alert.spent_micros,
            currency=grant.currency,
            hard_stop=bool(grant.hard_stop),
            recipient=alert.recipient,
            created=alert.created,
            delivered=alert.delivered,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "grant_id": self.grant_id,
            "award_number": self.award_number,
            "grant_title": self.title,
            "threshold_pct": self.threshold_pct,
            "spent": format_amount(self.spent_micros),
            "budget": format_amount(self.budget_micros),
            "currency": self.currency,
            "hard_stop": self.hard_stop,
            "created": iso(self.created),
            "delivered": iso(self.delivered),
        }


@functools.cache
def _budget_status_query():
    """Ledger.budget_status's SELECT, built once (building it costs more than running it)."""
    ids = bindparam("ids", expanding=True)
    closed = (
        select(GrantDaySpend.grant_id.label("grant_id"), func.sum(GrantDaySpend.cost_micros).label("total"))
        .where(GrantDaySpend.grant_id.in_(ids))
        .group_by(GrantDaySpend.grant_id)
        .subquery("closed")
    )
    return (
        select(
            Grant.id,
            Grant.award_number,
            Grant.budget_micros,
            Grant.currency,
            Grant.alert_thresholds,
            Grant.hard_stop,
            closed.c.total,
            Run.id,
            Run.user,
            Run.rate_micros_per_hour,
            Run.started,
        )
        .select_from(Grant)
        .outerjoin(closed, closed.c.grant_id == Grant.id)
        .outerjoin(Run, (Run.grant_id == Grant.id) & Run.ended.is_(None))
        .where(Grant.id.in_(ids))
    )


class AlertsMixin(LedgerBase):
    """Budget status and budget alerts."""

    def budget_status(self, grant_ids: Iterable[str], now: dt.datetime | None = None) -> dict[str, BudgetStatus]:
        """The budget, policies, spend and open runs of grants, in one SELECT.

        The meter calls it once per heartbeat for the grants of its live runs, so it is
        one round trip however many grants and runs: the grants, joined to the sum of
        their closed runs' costs (their ``grant_day_spend`` rows, a few hundred per year
        however many runs) and to their open runs (on every server). One statement, so
        the two parts see the same state even while runs close.
        """
        ids = sorted(set(grant_ids))
        if not ids:
            return {}
        now = now or utcnow()
        rows: dict[str, list] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(_budget_status_query(), {"ids": ids}):
                rows.setdefault(row[0], []).append(row)
        out = {}
        for grant_id, grant_rows in rows.items():
            first = grant_rows[0]
            runs = tuple(OpenCharge(r[7], r[8], r[9], r[10]) for r in grant_rows if r[7] is not None)
            spent = int(first[6] or 0) + sum(
                cost_micros(r.rate_micros_per_hour, duration_ms(r.started, now)) for r in runs
            )
            out[grant_id] = BudgetStatus(
                grant_id=grant_id,
                award_number=first[1],
                budget_micros=first[2],
                currency=first[3],
                alert_thresholds=tuple(json.loads(first[4] or "[50, 80, 100]")),
                hard_stop=bool(first[5]),
                spent_micros=spent,
                open_runs=runs,
                at=now,
            )
        return out

    def record_alerts(
        self,
        grant_id: str,
        budget_micros: int,
        thresholds: Iterable[int],
        spent_micros: int,
        now: dt.datetime | None = None,
    ) -> list[AlertView]:
        """Record the crossing of ``thresholds`` of ``budget_micros``; the rows inserted.

        A threshold already recorded for this budget is left alone (its recipients are
        those at the first crossing). Otherwise every recipient gets a row: the grant's
        PI and co-PIs (role pi) and every user with an open run on the grant. Rows are
        inserted if absent (ON CONFLICT DO NOTHING on the unique key), so servers that
        detect the same crossing at the same moment insert each row once.
        """
        now = now or utcnow()
        wanted = sorted(set(thresholds))
        if not wanted:
            return []
        inserted: list[AlertView] = []
        with self.session() as s, s.begin():
            grant = s.get(Grant, grant_id)
            if grant is None:
                return []
            done = set(
                s.scalars(
                    select(BudgetAlert.threshold_pct)
                    .where(
                        BudgetAlert.grant_id == grant_id,
                        BudgetAlert.budget_micros == budget_micros,
                        BudgetAlert.threshold_pct.in_(wanted),
                    )
                    .distinct()
                )
            )
            todo = [t for t in wanted if t not in done]
            if not todo:
                return []
            pis = s.scalars(
                select(GrantMember.user).where(GrantMember.grant_id == grant_id, GrantMember.role == "pi")
            ).all()
            running = s.scalars(select(Run.user).where(Run.grant_id == grant_id, Run.ended.is_(None)).distinct()).all()
            recipients = sorted({grant.pi, *pis, *running})
            rows = [
                {
                    "id": uuid.uuid4().hex,
                    "grant_id": grant_id,
                    "threshold_pct": threshold,
                    "budget_micros": budget_micros,
                    "recipient": user,
                    "spent_micros": spent_micros,
                    "created": now,
                    "delivered": None,
                }
                for threshold in todo
                for user in recipients
            ]
            ids = {row["id"] for row in rows}
            self._insert_if_absent(s, rows)
            for alert in s.scalars(select(BudgetAlert).where(BudgetAlert.id.in_(ids))):
                inserted.append(AlertView.of(alert, grant))
        return sorted(inserted, key=lambda a: (a.threshold_pct, a.recipient))

    def _insert_if_absent(self, s: Session, rows: list[dict[str, Any]]) -> None:
        """INSERT ... ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike."""
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:  # any other database: one savepoint per row
            for row in rows:
                try:
                    with s.begin_nested():
                        s.execute(insert(BudgetAlert), [row])
                except IntegrityError:
                    pass
            return
        s.execute(dialect_insert(BudgetAlert).on_conflict_do_nothing(), rows)

    def alerts_for(self, recipient: str, undelivered_only: bool = True) -> list[AlertView]:
        """A user's alerts, oldest first (by default only those not yet delivered)."""
        with self.session() as s:
            query = (
                select(BudgetAlert, Grant)
                .join(Grant, Grant.id == BudgetAlert.grant_id)
                .where(BudgetAlert.recipient == recipient)
                .order_by(BudgetAlert.created, BudgetAlert.threshold_pct, BudgetAlert.id)
            )
            if undelivered_only:
                query = query.where(BudgetAlert.delivered.is_(None))
            return [AlertView.of(alert, grant) for alert, grant in s.execute(query)]

    def mark_alert_delivered(self, alert_id: str, recipient: str, now: dt.datetime | None = None) -> AlertView | None:
        """Mark the recipient's alert delivered (the first time only); None if it is not theirs."""
        now = now or utcnow()
        with self.session() as s, s.begin():
            s.execute(
                update(BudgetAlert)
                .where(BudgetAlert.id == alert_id, BudgetAlert.recipient == recipient, BudgetAlert.delivered.is_(None))
                .values(delivered=now)
            )
            found = s.execute(
                select(BudgetAlert, Grant)
                .join(Grant, Grant.id == BudgetAlert.grant_id)
                .where(BudgetAlert.id == alert_id, BudgetAlert.recipient == recipient)
            ).first()
            return AlertView.of(*found) if found else None
