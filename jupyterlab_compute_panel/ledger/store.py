"""Synchronous ledger operations. Callers off the event loop only (see service.py)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Date,
    Engine,
    bindparam,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..domain.money import MS_PER_HOUR, cost_micros, format_amount
from .models import (
    ENVIRONMENT_STATUSES,
    NO_NOTEBOOK_KEY,
    BudgetAlert,
    Grant,
    GrantDaySpend,
    GrantMember,
    GrantNotebookSpend,
    NotebookBinding,
    Run,
    RunEnvironment,
    TierRate,
    TierRow,
)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
HOST = socket.gethostname()


class LedgerError(Exception):
    """A ledger operation that cannot be done; the message says why."""


def utcnow() -> dt.datetime:
    """Now in naive UTC, to the millisecond: the precision the API publishes, so that a
    run's published start and end determine its cost exactly."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds") + "Z"


def stale_after(heartbeat_ms: int, missed: int) -> dt.timedelta:
    """How long a run may go without a heartbeat before it counts as lost."""
    return dt.timedelta(milliseconds=max(missed * heartbeat_ms, 10_000))


def duration_ms(start: dt.datetime, end: dt.datetime) -> int:
    return max(0, (end - start) // dt.timedelta(milliseconds=1))


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


@dataclass(frozen=True)
class GrantView:
    id: str
    award_number: str
    title: str
    funder: str
    pi: str
    budget_micros: int
    currency: str
    start_date: dt.date
    end_date: dt.date
    allowed_tiers: tuple[str, ...] | None = None
    sensitive: bool = False
    alert_thresholds: tuple[int, ...] = (50, 80, 100)
    hard_stop: bool = True
    min_runtime_s: int = 900
    members: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, g: Grant, members: Iterable[tuple[str, str]] = ()) -> GrantView:
        return cls(
            g.id,
            g.award_number,
            g.title,
            g.funder,
            g.pi,
            g.budget_micros,
            g.currency,
            g.start_date,
            g.end_date,
            allowed_tiers=tuple(json.loads(g.allowed_tiers)) if g.allowed_tiers else None,
            sensitive=bool(g.sensitive),
            alert_thresholds=tuple(json.loads(g.alert_thresholds or "[50, 80, 100]")),
            hard_stop=bool(g.hard_stop),
            min_runtime_s=g.min_runtime_s if g.min_runtime_s is not None else 900,
            members=tuple(sorted(members)),
        )

    def active_on(self, day: dt.date) -> bool:
        return self.start_date <= day <= self.end_date

    def role_of(self, user: str) -> str | None:
        return dict(self.members).get(user)

    def to_json(self, spent_micros: int, today: dt.date) -> dict[str, Any]:
        return {
            "id": self.id,
            "award_number": self.award_number,
            "title": self.title,
            "funder": self.funder,
            "pi": self.pi,
            "budget": format_amount(self.budget_micros),
            "currency": self.currency,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "active": self.active_on(today),
            "spent": format_amount(spent_micros),
            "allowed_tiers": list(self.allowed_tiers) if self.allowed_tiers is not None else None,
            "sensitive": self.sensitive,
            "alert_thresholds": list(self.alert_thresholds),
            "hard_stop": self.hard_stop,
            "min_runtime_minutes": self.min_runtime_s / 60,
            "members": [{"user": user, "role": role} for user, role in self.members],
        }


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


@dataclass(frozen=True)
class EnvironmentView:
    """A run's stored environment fingerprint."""

    run_id: str
    captured_at: dt.datetime
    fingerprint: dict[str, Any]
    packages_hash: str | None
    status: str
    error: str | None

    @classmethod
    def of(cls, row: RunEnvironment) -> EnvironmentView:
        return cls(row.run_id, row.captured_at, json.loads(row.fingerprint), row.packages_hash, row.status, row.error)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "captured_at": iso(self.captured_at),
            "status": self.status,
            "error": self.error,
            "packages_hash": self.packages_hash,
            "fingerprint": self.fingerprint,
        }


class BudgetExhausted(Exception):
    """A start refused because the grant cannot pay for the minimum runtime."""

    def __init__(self, grant: GrantView, left_micros: int, committed_micros: int, needed_micros: int) -> None:
        super().__init__(f"grant {grant.id}: {left_micros} left, {committed_micros} committed, {needed_micros} needed")
        self.grant = grant
        self.left_micros = left_micros
        self.committed_micros = committed_micros
        self.needed_micros = needed_micros


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


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerError(
            f"ComputePanel.db_url: {url!r} is not a database URL (e.g. sqlite:////path/ledger.sqlite)"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)
    except Exception as e:  # noqa: BLE001 - a missing driver is a config problem
        raise LedgerError(f"ComputePanel.db_url: cannot use {parsed.get_backend_name()!r} ({e})") from None


class _Borrowed:
    """The snapshot's session, lent to a ``with ledger.session() as s`` block that must not close it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, *exc: object) -> bool:
        return False


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


def day_of(dialect: str, column):
    """The UTC date of a datetime column in SQL, as the ``Date`` type stores it. SQLite keeps
    datetimes as ISO text, whose date() is the 'YYYY-MM-DD' text a ``Date`` is stored as."""
    if dialect == "sqlite":
        return func.date(column)
    return cast(column, Date)


def closed_spend(s: Session, grant_id: str) -> int:
    """What the grant's closed runs cost, from ``grant_day_spend`` (a few hundred rows)."""
    total = s.scalar(
        select(func.coalesce(func.sum(GrantDaySpend.cost_micros), 0)).where(GrantDaySpend.grant_id == grant_id)
    )
    return int(total)


class Ledger:
    """The runs, grants and bindings in one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._local = threading.local()

    def session(self) -> Session:
        snapshot = getattr(self._local, "snapshot", None)
        if snapshot is not None:
            return _Borrowed(snapshot)  # type: ignore[return-value]
        return self._session()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads in this block (on this thread) see one consistent state of the ledger, so
        figures computed by several queries (a dashboard's summary and its breakdowns) add up
        even while runs close: REPEATABLE READ on PostgreSQL, one read transaction on SQLite
        (its driver opens none for SELECTs by itself). Read-only: nothing is committed."""
        if getattr(self._local, "snapshot", None) is not None:
            yield
            return
        s = self._session()
        try:
            if self.engine.dialect.name == "sqlite":
                s.connection().exec_driver_sql("BEGIN")
            else:
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            self._local.snapshot = s
            yield
        finally:
            self._local.snapshot = None
            s.rollback()
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()

    # -- schema ---------------------------------------------------------------
    def migrate(self) -> None:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    # -- tiers ----------------------------------------------------------------
    def sync_tiers(self, tiers: Iterable, now: dt.datetime | None = None) -> None:
        """Record the catalog's tiers and a new rate row for every changed price."""
        now = now or utcnow()
        with self.session() as s, s.begin():
            for tier in tiers:
                row = s.get(TierRow, tier.id)
                payload = json.dumps(tier.summary_json(), sort_keys=True)
                if row is None:
                    s.add(
                        TierRow(
                            id=tier.id,
                            label=tier.label,
                            reliability=tier.reliability,
                            simulated=tier.simulated,
                            catalog_json=payload,
                            updated_at=now,
                        )
                    )
                else:
                    row.label, row.reliability, row.simulated = tier.label, tier.reliability, tier.simulated
                    if row.catalog_json != payload:
                        row.catalog_json, row.updated_at = payload, now
                latest = s.scalars(
                    select(TierRate).where(TierRate.tier_id == tier.id).order_by(TierRate.id.desc()).limit(1)
                ).first()
                if latest is None or (latest.rate_micros_per_hour, latest.currency) != (
                    tier.rate_micros_per_hour,
                    tier.currency,
                ):
                    s.add(
                        TierRate(
                            tier_id=tier.id,
                            rate_micros_per_hour=tier.rate_micros_per_hour,
                            currency=tier.currency,
                            source=tier.price_source,
                            price_date=tier.price_date,
                            effective_from=now,
                        )
                    )

    def tier_labels(self) -> dict[str, str]:
        with self.session() as s:
            return dict(s.execute(select(TierRow.id, TierRow.label)).all())

    def rate_history(self, tier_id: str) -> list[tuple[int, str, dt.datetime]]:
        with self.session() as s:
            rows = s.execute(
                select(TierRate.rate_micros_per_hour, TierRate.currency, TierRate.effective_from)
                .where(TierRate.tier_id == tier_id)
                .order_by(TierRate.id)
            ).all()
            return [tuple(r) for r in rows]

    def last_rate(self, tier_id: str) -> tuple[int, str, str | None, dt.date | None] | None:
        """(rate, currency, source, price date) of the tier's latest rate row, or None."""
        with self.session() as s:
            row = s.execute(
                select(TierRate.rate_micros_per_hour, TierRate.currency, TierRate.source, TierRate.price_date)
                .where(TierRate.tier_id == tier_id)
                .order_by(TierRate.id.desc())
                .limit(1)
            ).first()
            return tuple(row) if row is not None else None  # type: ignore[return-value]

    def running_by_tier(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(Run.tier_id, func.count()).where(Run.ended.is_(None)).group_by(Run.tier_id)).all()
            return {tier: count for tier, count in rows}

    # -- grants ---------------------------------------------------------------
    def upsert_grant(self, grant: Mapping[str, Any], now: dt.datetime | None = None) -> GrantView:
        """Insert or update a validated grant (see grants.parse_grant)."""
        return self.upsert_grants([grant], now)[0]

    def upsert_grants(self, grants: Iterable[Mapping[str, Any]], now: dt.datetime | None = None) -> list[GrantView]:
        """Insert or update validated grants in one transaction: all of them or none."""
        now = now or utcnow()
        with self.session() as s, s.begin():
            return [self._upsert_grant(s, grant, now) for grant in grants]

    def create_grant(self, grant: Mapping[str, Any], now: dt.datetime | None = None) -> GrantView:
        """Insert a new validated grant; LedgerError if its id is taken."""
        now = now or utcnow()
        try:
            with self.session() as s, s.begin():
                if s.get(Grant, grant["id"]) is not None:
                    raise LedgerError(f"grant {grant['id']!r}: already exists")
                return self._upsert_grant(s, grant, now)
        except IntegrityError:
            raise LedgerError(f"grant {grant['id']!r}: already exists") from None

    def _upsert_grant(self, s: Session, grant: Mapping[str, Any], now: dt.datetime) -> GrantView:
        values = dict(grant)
        members = values.pop("members", None)
        if "allowed_tiers" in values:
            tiers = values["allowed_tiers"]
            values["allowed_tiers"] = json.dumps(sorted(tiers)) if tiers else None
        if "alert_thresholds" in values:
            values["alert_thresholds"] = json.dumps(list(values["alert_thresholds"]))
        row = s.get(Grant, values["id"])
        if row is None:
            row = Grant(created_at=now, updated_at=now, **values)
            s.add(row)
        else:
            if row.currency != values["currency"] and self._has_runs(s, row.id):
                raise LedgerError(
                    f"grant {row.id!r}: currency: cannot change from {row.currency} to {values['currency']} once runs are charged to it"
                )
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
        s.flush()
        if members is not None:
            # The file's members replace the grant's; the PI always keeps the role pi.
            s.execute(delete(GrantMember).where(GrantMember.grant_id == row.id))
            s.flush()
            for user, role in members:
                if user != row.pi:
                    s.add(GrantMember(grant_id=row.id, user=user, role=role, added_at=now))
        pi = s.get(GrantMember, (row.id, row.pi))
        if pi is None:
            s.add(GrantMember(grant_id=row.id, user=row.pi, role="pi", added_at=now))
        else:
            pi.role = "pi"
        s.flush()
        return GrantView.of(row, self._members(s, row.id))

    @staticmethod
    def _members(s: Session, grant_id: str) -> list[tuple[str, str]]:
        return [
            tuple(r)
            for r in s.execute(select(GrantMember.user, GrantMember.role).where(GrantMember.grant_id == grant_id))
        ]

    def set_member(self, grant_id: str, user: str, role: str, now: dt.datetime | None = None) -> GrantView:
        now = now or utcnow()
        with self.session() as s, s.begin():
            row = s.get(Grant, grant_id)
            if row is None:
                raise LedgerError(f"grant {grant_id!r}: no such grant")
            if user == row.pi and role != "pi":
                raise LedgerError(f"grant {grant_id!r}: {user} is its PI; name another PI before changing their role")
            member = s.get(GrantMember, (grant_id, user))
            if member is None:
                s.add(GrantMember(grant_id=grant_id, user=user, role=role, added_at=now))
            else:
                member.role = role
            s.flush()
            return GrantView.of(row, self._members(s, grant_id))

    def remove_member(self, grant_id: str, user: str) -> GrantView:
        with self.session() as s, s.begin():
            row = s.get(Grant, grant_id)
            if row is None:
                raise LedgerError(f"grant {grant_id!r}: no such grant")
            if user == row.pi:
                raise LedgerError(f"grant {grant_id!r}: {user} is its PI and cannot be removed")
            if (
                s.execute(
                    delete(GrantMember).where(GrantMember.grant_id == grant_id, GrantMember.user == user)
                ).rowcount
                == 0
            ):
                raise LedgerError(f"grant {grant_id!r}: {user} is not a member")
            return GrantView.of(row, self._members(s, grant_id))

    def roles_of(self, user: str) -> dict[str, str]:
        """The user's role on every grant they have one on."""
        with self.session() as s:
            rows = s.execute(select(GrantMember.grant_id, GrantMember.role).where(GrantMember.user == user))
            return {grant_id: role for grant_id, role in rows}

    def set_budget(self, grant_id: str, budget_micros: int, now: dt.datetime | None = None) -> GrantView:
        with self.session() as s, s.begin():
            row = s.get(Grant, grant_id)
            if row is None:
                raise LedgerError(f"grant {grant_id!r}: no such grant")
            row.budget_micros, row.updated_at = budget_micros, now or utcnow()
            s.flush()
            return GrantView.of(row, self._members(s, grant_id))

    @staticmethod
    def _has_runs(s: Session, grant_id: str) -> bool:
        return s.scalar(select(func.count()).select_from(Run).where(Run.grant_id == grant_id)) > 0

    def get_grant(self, grant_id: str) -> GrantView | None:
        with self.session() as s:
            row = s.get(Grant, grant_id)
            return GrantView.of(row, self._members(s, grant_id)) if row else None

    def list_grants(self) -> list[GrantView]:
        with self.session() as s:
            members: dict[str, list[tuple[str, str]]] = {}
            for grant_id, user, role in s.execute(select(GrantMember.grant_id, GrantMember.user, GrantMember.role)):
                members.setdefault(grant_id, []).append((user, role))
            return [GrantView.of(g, members.get(g.id, ())) for g in s.scalars(select(Grant).order_by(Grant.id))]

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

    # -- budget alerts --------------------------------------------------------
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

    # -- bindings -------------------------------------------------------------
    def get_binding(self, user: str, path: str) -> NotebookBinding | None:
        with self.session() as s:
            return s.get(NotebookBinding, (user, path))

    def put_binding(
        self, user: str, path: str, grant_id: str | None, tier_id: str | None, now: dt.datetime | None = None
    ) -> NotebookBinding:
        now = now or utcnow()
        with self.session() as s, s.begin():
            row = s.get(NotebookBinding, (user, path))
            if row is None:
                row = NotebookBinding(user=user, path=path)
                s.add(row)
            row.grant_id, row.tier_id, row.updated_at = grant_id, tier_id, now
            return row

    # -- runs -----------------------------------------------------------------
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
    ) -> RunView:
        """Open a run. With ``check_budget`` (see reserve_run) it is a reservation. An empty
        notebook path is recorded as None (no notebook)."""
        now = now or utcnow()
        notebook = notebook or None
        run = Run(
            id=uuid.uuid4().hex,
            kernel_id=kernel_id,
            kernelspec=kernelspec,
            tier_id=tier.id,
            grant_id=grant_id,
            user=user,
            notebook=notebook,
            rate_micros_per_hour=tier.rate_micros_per_hour,
            currency=tier.currency,
            started=now,
            last_heartbeat=now,
            launcher_host=HOST,
            launcher_pid=pid if pid is not None else os.getpid(),
            heartbeat_ms=int(heartbeat_s * 1000),
        )
        try:
            with self.session() as s, s.begin():
                if check_budget and grant_id is not None:
                    self._check_budget(s, grant_id, tier, now)
                s.add(run)
        except IntegrityError as e:
            raise LedgerError(f"cannot record the run: {e.orig}") from None
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

    def spent_and_committed(self, grant_id: str, now: dt.datetime) -> tuple[int, int]:
        """The grant's spent and committed micro-units (see ``_spent_and_committed``)."""
        with self.session() as s:
            grant = s.get(Grant, grant_id)
            if grant is None:
                raise LedgerError(f"grant {grant_id!r}: no such grant")
            return self._spent_and_committed(s, grant, now)

    @staticmethod
    def _label(s: Session, tier_id: str) -> str:
        row = s.get(TierRow, tier_id)
        return row.label if row else tier_id

    # -- environments ------------------------------------------------------------
    def save_environment(
        self,
        run_id: str,
        *,
        fingerprint: Mapping[str, Any],
        packages_hash: str | None,
        status: str,
        error: str | None = None,
        captured_at: dt.datetime | None = None,
    ) -> EnvironmentView:
        """Record (or replace: a partial capture is completed later) a run's fingerprint."""
        if status not in ENVIRONMENT_STATUSES:
            raise LedgerError(f"environment status must be one of {', '.join(ENVIRONMENT_STATUSES)}, got {status!r}")
        if packages_hash is not None and len(packages_hash) > 80:
            raise LedgerError("packages_hash is longer than 80 characters")
        text = json.dumps(fingerprint, sort_keys=True, allow_nan=False)
        try:
            with self.session() as s, s.begin():
                row = s.get(RunEnvironment, run_id)
                if row is None:
                    row = RunEnvironment(run_id=run_id)
                    s.add(row)
                row.captured_at = captured_at or utcnow()
                row.fingerprint, row.packages_hash, row.status, row.error = text, packages_hash, status, error
                s.flush()
                return EnvironmentView.of(row)
        except IntegrityError as e:
            raise LedgerError(f"cannot record the environment of run {run_id!r}: {e.orig}") from None

    def copy_environment(self, from_run: str, to_run: str) -> EnvironmentView | None:
        """Give ``to_run`` the fingerprint of ``from_run`` (the same kernel, metered again in a
        new run); None when ``from_run`` has none yet."""
        with self.session() as s, s.begin():
            source = s.get(RunEnvironment, from_run)
            if source is None or s.get(RunEnvironment, to_run) is not None:
                return None
            row = RunEnvironment(
                run_id=to_run,
                captured_at=source.captured_at,
                fingerprint=source.fingerprint,
                packages_hash=source.packages_hash,
                status=source.status,
                error=source.error,
            )
            s.add(row)
            s.flush()
            return EnvironmentView.of(row)

    def get_environment(self, run_id: str) -> EnvironmentView | None:
        with self.session() as s:
            row = s.get(RunEnvironment, run_id)
            return EnvironmentView.of(row) if row else None
