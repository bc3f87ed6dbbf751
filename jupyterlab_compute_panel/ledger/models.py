"""Ledger tables. Times are naive UTC; money is integer micro-units."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


END_REASONS = (
    "shutdown",  # shut down on request
    "restart",  # restarted on request: the next life is a new run
    "culled",  # shut down for being idle (jupyter_server's culler, or ours)
    "died",  # the kernel process exited by itself or was killed
    "server_restart",  # the metering server went away; closed at the last heartbeat on its next start
    "lost",  # heartbeats stopped (killed process, lost host); closed at the last heartbeat
    "budget",  # shut down by budget enforcement
    "launch_failed",  # reserved, but the kernel did not start: no time billed
    "completed",  # a re-run's kernel, stopped right after its last cell
    "cell_error",  # a re-run's kernel, stopped after a cell raised
    "cancelled",  # a re-run's kernel, stopped when its user cancelled it
    "time_limit",  # a re-run's kernel, stopped at the re-run's time limit
    "ledger_unreachable",  # a paid kernel stopped when the ledger stayed away past its grace; closed at its last held heartbeat
)


class TierRow(Base):
    __tablename__ = "tiers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    reliability: Mapped[str] = mapped_column(String(40))
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    catalog_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class TierRate(Base):
    """Rate history: a new row whenever the catalog's price for a tier changes."""

    __tablename__ = "tier_rates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tier_id: Mapped[str] = mapped_column(ForeignKey("tiers.id"), index=True)
    rate_micros_per_hour: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(Text, default="")
    price_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    effective_from: Mapped[dt.datetime] = mapped_column(DateTime)


class Grant(Base):
    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    award_number: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    funder: Mapped[str] = mapped_column(String(200))
    pi: Mapped[str] = mapped_column(String(200))
    budget_micros: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    # Policies (issue 3). JSON lists kept as text so SQLite and PostgreSQL agree.
    allowed_tiers: Mapped[str | None] = mapped_column(Text, nullable=True)  # null: every tier
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_thresholds: Mapped[str] = mapped_column(Text, default="[50, 80, 100]")
    hard_stop: Mapped[bool] = mapped_column(Boolean, default=True)
    min_runtime_s: Mapped[int] = mapped_column(Integer, default=900)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


ROLES = ("pi", "member", "viewer")


class GrantMember(Base):
    """A user's role on a grant: the PI and co-PIs (pi), members who charge it, viewers."""

    __tablename__ = "grant_members"

    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), primary_key=True)
    user: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime)


class NotebookBinding(Base):
    """The grant a user charges a notebook to, remembered per notebook."""

    __tablename__ = "notebook_bindings"

    user: Mapped[str] = mapped_column(String(200), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("grants.id"), nullable=True)
    tier_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Run(Base):
    """One kernel's life on one tier."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kernel_id: Mapped[str] = mapped_column(String(64), index=True)
    kernelspec: Mapped[str] = mapped_column(String(255))
    tier_id: Mapped[str] = mapped_column(ForeignKey("tiers.id"))
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("grants.id"), nullable=True)
    user: Mapped[str] = mapped_column(String(200))
    notebook: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    rate_micros_per_hour: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    started: Mapped[dt.datetime] = mapped_column(DateTime)
    last_heartbeat: Mapped[dt.datetime] = mapped_column(DateTime)
    ended: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    cost_micros: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    launcher_host: Mapped[str] = mapped_column(String(255))
    launcher_pid: Mapped[int] = mapped_column(Integer)
    heartbeat_ms: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # The open runs, by ``ended`` alone: a heartbeat changes no indexed column (0008).
        Index(
            "ix_runs_open",
            "ended",
            postgresql_where=text("ended IS NULL"),
            sqlite_where=text("ended IS NULL"),
        ),
        # The grant dashboard's rollups (ledger/rollups.py) read these without touching
        # the table: spend over time, the burn windows, and spend by tier, user, notebook.
        Index("ix_runs_grant_started_cost", "grant_id", "started", "cost_micros"),
        Index("ix_runs_grant_burn", "grant_id", "ended", "started", "rate_micros_per_hour", "cost_micros"),
        Index("ix_runs_grant_tier", "grant_id", "tier_id", "started", "cost_micros"),
        Index("ix_runs_grant_user", "grant_id", "user", "started", "cost_micros"),
        Index("ix_runs_grant_notebook", "grant_id", "notebook", "started", "cost_micros"),
        Index("ix_runs_tier_started", "tier_id", "started"),
        Index("ix_runs_user_started", "user", "started"),
        Index("ix_runs_notebook_started", "notebook", "started"),
        Index("ix_runs_started", "started"),
    )


class GrantDaySpend(Base):
    """The closed runs' cost per grant, UTC day of their start and tier: the figures the
    grant dashboard's months, burn-down, tier breakdown and spent (and the budget checks)
    read, a few hundred rows per grant year instead of every run.

    Written by ``Ledger.close_run`` in the transaction that closes the run (an atomic
    upsert that adds the run's cost and 1 to ``runs``), so it always equals the sum of the
    grant's closed runs, attributed whole to the day they *started*. Open runs are not in
    it: readers add them live. ``Ledger.rebuild_grant_spend`` recomputes it from the runs
    (for rows inserted behind the ledger's back, such as bulk seeds); migration 0007 fills
    it from the runs that were closed before it.
    """

    __tablename__ = "grant_day_spend"

    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # UTC date of the runs' starts
    tier_id: Mapped[str] = mapped_column(ForeignKey("tiers.id"), primary_key=True)
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    runs: Mapped[int] = mapped_column(Integer)


NO_NOTEBOOK_KEY = ""  # grant_notebook_spend.notebook of runs without one (a key column is never NULL)


class GrantNotebookSpend(Base):
    """The closed runs' cost per grant, user and notebook: the dashboard's user and
    notebook breakdowns, a row per notebook of each member instead of every run. Kept
    like ``GrantDaySpend`` (same transaction, same upsert, same rebuild and migration);
    runs without a notebook are under ``NO_NOTEBOOK_KEY``, a path no run has
    (``Ledger.open_run`` records an empty notebook as None)."""

    __tablename__ = "grant_notebook_spend"

    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), primary_key=True)
    user: Mapped[str] = mapped_column(String(200), primary_key=True)
    notebook: Mapped[str] = mapped_column(String(1024), primary_key=True)
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    runs: Mapped[int] = mapped_column(Integer)


RERUN_STATUSES = (
    "running",  # its kernel started and its cells are executing
    "completed",  # every cell ran
    "failed",  # a cell raised, or the kernel died: ``error`` says which
    "cancelled",  # stopped by its user
    "timed_out",  # stopped at its time limit
    "refused",  # the start was refused (budget, grant, tier): ``error`` is the sentence
)


class Rerun(Base):
    """A headless execution of a notebook on a tier (a metered batch run)."""

    __tablename__ = "reruns"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(1024))  # the notebook, as the contents API names it
    output: Mapped[str | None] = mapped_column(String(1024), nullable=True)  # the executed copy
    tier_id: Mapped[str] = mapped_column(ForeignKey("tiers.id"))
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("grants.id"), nullable=True)
    kernelspec: Mapped[str] = mapped_column(String(255))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), nullable=True, index=True)
    source_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the run it repeats
    status: Mapped[str] = mapped_column(String(16))
    cells_total: Mapped[int] = mapped_column(Integer)
    cells_done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    time_limit_s: Mapped[int] = mapped_column(Integer)
    created: Mapped[dt.datetime] = mapped_column(DateTime)
    ended: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_reruns_user_source", "user", "source", "created"),)


class BudgetAlert(Base):
    """A grant crossed an alert threshold of its budget: one row per recipient.

    Rows, not events, because several servers share the ledger and the PI's server is
    not the one metering the student's kernel: each server shows its owner's
    undelivered rows. Unique per (grant, threshold, budget, recipient), so servers
    racing on the same crossing insert it once, and a new budget fires again.
    """

    __tablename__ = "budget_alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"))
    threshold_pct: Mapped[int] = mapped_column(Integer)
    budget_micros: Mapped[int] = mapped_column(BigInteger)  # the budget when it was crossed
    recipient: Mapped[str] = mapped_column(String(200))
    spent_micros: Mapped[int] = mapped_column(BigInteger)  # spent at the crossing
    created: Mapped[dt.datetime] = mapped_column(DateTime)
    delivered: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("grant_id", "threshold_pct", "budget_micros", "recipient", name="uq_budget_alerts_once"),
        # GET /compute-panel/alerts: a user's undelivered alerts.
        Index("ix_budget_alerts_inbox", "recipient", "delivered", "created"),
    )


ENVIRONMENT_STATUSES = (
    "complete",  # every part was gathered
    "partial",  # some parts are missing; the fingerprint's "missing" says which and why
    "failed",  # the capture could not run; error says why
)


class RunEnvironment(Base):
    """A run's environment fingerprint, captured when its kernel is first ready."""

    __tablename__ = "run_environments"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    captured_at: Mapped[dt.datetime] = mapped_column(DateTime)
    fingerprint: Mapped[str] = mapped_column(Text)  # JSON, schema in metering/environment/parse.py
    # "sha256:<hex>" over the sorted name==version lines: compare environments with one index lookup.
    packages_hash: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
