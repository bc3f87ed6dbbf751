"""Runs in the ledger: a kernel's run opened (or reserved under its grant's budget), launched,
kept alive by heartbeats, and closed exactly once."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.money import cost_micros, format_amount
from .engine import LedgerBase, LedgerError, duration_ms, iso, utcnow
from .grants import GrantView
from .models import Grant, Run

HOST = socket.gethostname()


def stale_after(heartbeat_ms: int, missed: int) -> dt.timedelta:
    """How long a run may go without a heartbeat before it counts as lost."""
    return dt.timedelta(milliseconds=max(missed * heartbeat_ms, 10_000))


@dataclass(frozen=True)
class RunView:
    id: str
    kernel_id: str
    kernelspec: str
    tier_id: str
    tier_label: str
    grant_id: str | None
    user: str
    notebook: str | None
    rate_micros_per_hour: int
    currency: str
    started: dt.datetime
    last_heartbeat: dt.datetime
    ended: dt.datetime | None
    end_reason: str | None
    cost_micros_closed: int | None

    @classmethod
    def of(cls, run: Run, tier_label: str | None = None) -> RunView:
        return cls(
            id=run.id,
            kernel_id=run.kernel_id,
            kernelspec=run.kernelspec,
            tier_id=run.tier_id,
            tier_label=tier_label or run.tier_id,
            grant_id=run.grant_id,
            user=run.user,
            notebook=run.notebook,
            rate_micros_per_hour=run.rate_micros_per_hour,
            currency=run.currency,
            started=run.started,
            last_heartbeat=run.last_heartbeat,
            ended=run.ended,
            end_reason=run.end_reason,
            cost_micros_closed=run.cost_micros,
        )

    @property
    def is_open(self) -> bool:
        return self.ended is None

    def duration_ms(self, now: dt.datetime) -> int:
        return duration_ms(self.started, self.ended or now)

    def cost_micros(self, now: dt.datetime) -> int:
        """The stored cost of a closed run; for an open run, its cost up to ``now``."""
        if self.cost_micros_closed is not None:
            return self.cost_micros_closed
        return cost_micros(self.rate_micros_per_hour, self.duration_ms(now))

    def to_json(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "kernel_id": self.kernel_id,
            "kernelspec": self.kernelspec,
            "tier_id": self.tier_id,
            "tier_label": self.tier_label,
            "grant_id": self.grant_id,
            "user": self.user,
            "notebook": self.notebook,
            "rate": {"amount": format_amount(self.rate_micros_per_hour), "currency": self.currency},
            "started": iso(self.started),
            "last_heartbeat": iso(self.last_heartbeat),
            "ended": iso(self.ended),
            "end_reason": self.end_reason,
            "duration_s": self.duration_ms(now) / 1000,
            "cost": {"amount": format_amount(self.cost_micros(now)), "currency": self.currency},
            "status": "open" if self.is_open else "closed",
        }


def _new_run(kernel_id, kernelspec, tier, grant_id, user, notebook, now, pid, heartbeat_s, run_id) -> Run:
    return Run(
        id=run_id or uuid.uuid4().hex,
        kernel_id=kernel_id,
        kernelspec=kernelspec,
        tier_id=tier.id,
        grant_id=grant_id,
        user=user,
        notebook=notebook or None,
        rate_micros_per_hour=tier.rate_micros_per_hour,
        currency=tier.currency,
        started=now,
        last_heartbeat=now,
        launcher_host=HOST,
        launcher_pid=pid if pid is not None else os.getpid(),
        heartbeat_ms=int(heartbeat_s * 1000),
    )


class BudgetExhausted(Exception):
    """A start refused because the grant cannot pay for the minimum runtime."""

    def __init__(self, grant: GrantView, left_micros: int, committed_micros: int, needed_micros: int) -> None:
        super().__init__(f"grant {grant.id}: {left_micros} left, {committed_micros} committed, {needed_micros} needed")
        self.grant = grant
        self.left_micros = left_micros
        self.committed_micros = committed_micros
        self.needed_micros = needed_micros


class RunsMixin(LedgerBase):
    """The life of a run, from its reservation to its close.

    Uses ``_spent_and_committed`` and ``_add_closed_spend`` (``SpendMixin``) and
    ``_label`` (``TiersMixin``), which the composed ``Ledger`` has."""

    def open_run(
        self,
        *,
        kernel_id: str,
        kernelspec: str,
        tier,
        grant_id: str | None,
        user: str,
        notebook: str | None,
        now: dt.datetime | None = None,
        pid: int | None = None,
        heartbeat_s: float = 15.0,
        check_budget: bool = False,
        run_id: str | None = None,
    ) -> RunView:
        """Open a run. With ``check_budget`` (see reserve_run) it is a reservation. An empty
        notebook path is recorded as None (no notebook). ``run_id`` and ``now``: a run the
        meter opened in memory while the ledger was away (``draft_run``), recorded as it was."""
        now = now or utcnow()
        run = _new_run(kernel_id, kernelspec, tier, grant_id, user, notebook, now, pid, heartbeat_s, run_id)
        try:
            with self.session() as s, s.begin():
                if check_budget and grant_id is not None:
                    self._check_budget(s, grant_id, tier, now)
                s.add(run)
        except IntegrityError as e:
            raise LedgerError(f"cannot record the run: {e.orig}") from None
        return RunView.of(run, tier.label)

    @staticmethod
    def draft_run(
        *,
        kernel_id: str,
        kernelspec: str,
        tier,
        grant_id: str | None,
        user: str,
        notebook: str | None,
        now: dt.datetime,
        run_id: str,
        pid: int | None = None,
        heartbeat_s: float = 15.0,
    ) -> RunView:
        """The run ``open_run`` with these fields records, written nowhere yet."""
        run = _new_run(kernel_id, kernelspec, tier, grant_id, user, notebook, now, pid, heartbeat_s, run_id)
        return RunView.of(run, tier.label)

    def reserve_run(self, **fields: Any) -> RunView:
        """Open the run of a kernel about to start: its reservation.

        On a paid tier, in the same transaction and under the grant's lock, check that
        the budget left after the committed spend of the grant's open runs covers the
        grant's minimum runtime at this tier's rate; BudgetExhausted if not. So N
        simultaneous starts on a grant that can pay for k minimum runtimes start at
        most k, on SQLite and PostgreSQL alike.
        """
        return self.open_run(check_budget=True, **fields)

    def _check_budget(self, s: Session, grant_id: str, tier, now: dt.datetime) -> None:
        # The first statement takes the lock: the grant's row (PostgreSQL) or the
        # database's write lock (SQLite), so reservations on a grant are serial.
        s.execute(update(Grant).where(Grant.id == grant_id).values(updated_at=Grant.updated_at))
        grant = s.get(Grant, grant_id)
        if grant is None:
            raise LedgerError(f"grant {grant_id!r}: no such grant")
        spent, committed = self._spent_and_committed(s, grant, now)
        needed = cost_micros(tier.rate_micros_per_hour, grant.min_runtime_s * 1000)
        left = grant.budget_micros - spent
        if left - committed < needed or (needed == 0 and left - committed <= 0):
            raise BudgetExhausted(GrantView.of(grant), left, committed, needed)

    def mark_launched(self, run_id: str, now: dt.datetime | None = None) -> RunView | None:
        """The reserved kernel is running: its run starts now."""
        now = now or utcnow()
        with self.session() as s, s.begin():
            done = s.execute(
                update(Run).where(Run.id == run_id, Run.ended.is_(None)).values(started=now, last_heartbeat=now)
            ).rowcount
            run = s.get(Run, run_id) if done else None
            return RunView.of(run, self._label(s, run.tier_id)) if run else None

    def close_run(self, run_id: str, reason: str, at: dt.datetime | None = None) -> RunView | None:
        """Close an open run at ``at`` (default now). Returns None if it was already closed."""
        with self.session() as s, s.begin():
            run = s.get(Run, run_id)
            if run is None or run.ended is not None:
                return None
            end = max(at or utcnow(), run.started)
            cost = cost_micros(run.rate_micros_per_hour, duration_ms(run.started, end))
            done = s.execute(
                update(Run)
                .where(Run.id == run_id, Run.ended.is_(None))
                .values(ended=end, end_reason=reason, cost_micros=cost)
            ).rowcount
            if not done:
                return None
            s.refresh(run)
            self._add_closed_spend(s, run)
            return RunView.of(run, self._label(s, run.tier_id))

    def heartbeat(self, run_ids: Iterable[str], now: dt.datetime | None = None) -> list[str]:
        """Mark runs alive in one UPDATE; returns the ids among them that are already closed."""
        ids = list(run_ids)
        if not ids:
            return []
        now = now or utcnow()
        with self.engine.begin() as conn:
            done = conn.execute(
                update(Run).where(Run.id.in_(ids), Run.ended.is_(None)).values(last_heartbeat=now)
            ).rowcount
            if done == len(ids):
                return []
            return list(conn.execute(select(Run.id).where(Run.id.in_(ids), Run.ended.is_not(None))).scalars())

    def heartbeat_at(self, moments: dict[str, dt.datetime]) -> int:
        """Write heartbeats held while the ledger was away: each open run's last heartbeat
        becomes its moment unless it is later already (one UPDATE per run, in one
        transaction). Idempotent: writing them twice bills nothing twice. Returns how many
        runs moved."""
        moved = 0
        with self.engine.begin() as conn:
            for run_id, at in moments.items():
                moved += conn.execute(
                    update(Run)
                    .where(Run.id == run_id, Run.ended.is_(None), Run.last_heartbeat < at)
                    .values(last_heartbeat=at)
                ).rowcount
        return moved

    def ping(self) -> None:
        """One round trip to the database (LedgerUnreachable when it is away)."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def close_at_last_heartbeat(
        self,
        where: Callable[[Run], bool] | None,
        reason: str,
        stale_before: dt.datetime | None = None,
        exclude: Iterable[str] = (),
        missed: int | None = None,
        now: dt.datetime | None = None,
    ) -> list[RunView]:
        """Close open runs at their last heartbeat: those chosen by ``where``, those whose
        heartbeat is older than ``stale_before``, and (with ``missed``) those that missed that
        many heartbeats of their own metering process (servers sharing a ledger may differ)."""
        closed = []
        excluded = set(exclude)
        now = now or utcnow()
        with self.session() as s:
            query = select(Run).where(Run.ended.is_(None))
            if stale_before is not None:
                query = query.where(Run.last_heartbeat < stale_before)
            candidates = [
                r
                for r in s.scalars(query)
                if r.id not in excluded
                and (where is None or where(r))
                and (missed is None or now - r.last_heartbeat > stale_after(r.heartbeat_ms, missed))
            ]
        for run in candidates:
            view = self.close_run(run.id, reason, at=run.last_heartbeat)
            if view is not None:
                closed.append(view)
        return closed
