"""Finding runs in the ledger: one run, a kernel's current run, filtered and sorted pages with
their totals, keyset pages for exports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, literal, or_, select

from .engine import LedgerBase, LedgerError, utcnow
from .models import Run, TierRow
from .runs import RunView

RUN_SORTS = ("started", "ended", "duration", "cost", "user", "tier", "notebook", "end_reason")


@dataclass(frozen=True)
class RunFilter:
    notebook: str | None = None
    tier: str | None = None
    grant: str | None = None
    user: str | None = None
    kernel: str | None = None
    status: str | None = None  # "open" | "closed"
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    # Visibility: unless None (an admin), only runs of ``visible_user`` or of ``visible_grants``.
    visible_user: str | None = None
    visible_grants: tuple[str, ...] = ()
    end_reason: str | None = None
    # Case-insensitive substring of the notebook, user, tier, end reason or run id.
    q: str | None = None

    def where(self) -> list:
        clauses = []
        if self.visible_user is not None:
            mine = Run.user == self.visible_user
            clauses.append(mine | Run.grant_id.in_(self.visible_grants) if self.visible_grants else mine)
        for value, column in (
            (self.notebook, Run.notebook),
            (self.tier, Run.tier_id),
            (self.grant, Run.grant_id),
            (self.user, Run.user),
            (self.kernel, Run.kernel_id),
            (self.end_reason, Run.end_reason),
        ):
            if value is not None:
                clauses.append(column == value)
        if self.q:
            needle = self.q.lower()
            clauses.append(
                or_(
                    *(
                        func.lower(column).contains(needle, autoescape=True)
                        for column in (Run.notebook, Run.user, Run.tier_id, Run.end_reason, Run.id)
                    )
                )
            )
        if self.status == "open":
            clauses.append(Run.ended.is_(None))
        elif self.status == "closed":
            clauses.append(Run.ended.is_not(None))
        if self.since is not None:
            clauses.append((Run.ended.is_(None)) | (Run.ended >= self.since))
        if self.until is not None:
            clauses.append(Run.started < self.until)
        return clauses


class RunQueriesMixin(LedgerBase):
    """Reads of runs. Uses ``_label`` (``TiersMixin``), which the composed ``Ledger`` has."""

    def get_run(self, run_id: str) -> RunView | None:
        with self.session() as s:
            run = s.get(Run, run_id)
            return RunView.of(run, self._label(s, run.tier_id)) if run else None

    def current_run_for_kernel(self, kernel_id: str) -> RunView | None:
        """The kernel's open run, else its latest closed one (a stopped kernel's final cost)."""
        with self.session() as s:
            run = s.scalars(
                select(Run)
                .where(Run.kernel_id == kernel_id)
                .order_by(Run.ended.is_not(None), Run.started.desc(), Run.id)
            ).first()
            return RunView.of(run, self._label(s, run.tier_id)) if run else None

    def _sort_key(self, field: str, now: dt.datetime):
        if field == "duration":
            end = func.coalesce(Run.ended, literal(now, Run.started.type))
            if self.engine.dialect.name == "sqlite":
                return func.julianday(end) - func.julianday(Run.started)
            return end - Run.started
        return {
            "started": Run.started,
            "ended": Run.ended,
            "cost": Run.cost_micros,
            "user": Run.user,
            "tier": Run.tier_id,
            "notebook": Run.notebook,
            "end_reason": Run.end_reason,
        }[field]

    def list_runs(
        self,
        flt: RunFilter,
        limit: int = 100,
        offset: int = 0,
        now: dt.datetime | None = None,
        sort: str = "-started",
    ) -> tuple[list[RunView], int, dict[str, int]]:
        """A page of runs in ``sort`` order (a field of RUN_SORTS, '-' first for descending;
        missing values, such as the end of an open run, rank above every value), the count of
        all matches, and their totals per currency."""
        now = now or utcnow()
        where = flt.where()
        descending = sort.startswith("-")
        field = sort.removeprefix("-")
        if field not in RUN_SORTS:
            raise LedgerError(f"sort must be one of {', '.join(RUN_SORTS)} (with '-' for descending), got {sort!r}")
        key = self._sort_key(field, now)
        order = key.desc().nulls_first() if descending else key.asc().nulls_last()
        with self.session() as s:
            labels = dict(s.execute(select(TierRow.id, TierRow.label)).all())
            rows = s.scalars(
                select(Run).where(*where).order_by(order, Run.started.desc(), Run.id).limit(limit).offset(offset)
            ).all()
            count = s.scalar(select(func.count()).select_from(Run).where(*where))
            totals: dict[str, int] = {}
            for currency, total in s.execute(
                select(Run.currency, func.coalesce(func.sum(Run.cost_micros), 0))
                .where(*where, Run.ended.is_not(None))
                .group_by(Run.currency)
            ).all():
                totals[currency] = int(total)
            for run in s.scalars(select(Run).where(*where, Run.ended.is_(None))):
                totals[run.currency] = totals.get(run.currency, 0) + RunView.of(run).cost_micros(now)
            return [RunView.of(r, labels.get(r.tier_id)) for r in rows], int(count), totals

    def runs_after(self, flt: RunFilter, after: tuple[dt.datetime, str] | None, limit: int) -> list[RunView]:
        """The next ``limit`` matching runs, oldest first, after the (started, id) ``after``:
        keyset pages for exports, steady however deep the page."""
        where = flt.where()
        if after is not None:
            started, run_id = after
            where.append((Run.started > started) | ((Run.started == started) & (Run.id > run_id)))
        with self.session() as s:
            labels = dict(s.execute(select(TierRow.id, TierRow.label)).all())
            rows = s.scalars(select(Run).where(*where).order_by(Run.started, Run.id).limit(limit)).all()
            return [RunView.of(r, labels.get(r.tier_id)) for r in rows]
