"""Budgets while kernels run: alerts at the thresholds, a countdown, then the hard stop.

At every heartbeat of the meter, for the grants of the live runs it meters, one
query (``Ledger.budget_status``) gives each grant's budget, policies, spend and the
open runs of every server sharing the ledger. Then:

- **alerts**: every alert threshold the spend has reached for the current budget is
  recorded as ledger rows, one per recipient (the PI, the co-PIs and every user with
  an open run on the grant), inserted once however many servers detect it. Each
  server shows its owner's undelivered rows (``GET /compute-panel/alerts``).
- **countdown** (grants with ``hard_stop``): the instant the budget runs out at the
  current burn (what is left over the hourly rates of the grant's open runs) is
  predicted again at every heartbeat. Once it is within ``budget_countdown``
  seconds, every run of the grant that this server meters gets that instant as its
  stop deadline, shown in the browser as a countdown; a new kernel on the grant
  brings it forward, a stopped one pushes it back.
- **hard stop**: at the first heartbeat where spent >= budget, the grant's kernels
  metered here are shut down with end reason ``budget``, their runs ending at that
  heartbeat. The spend was below the budget one heartbeat earlier, so each kernel
  overspends by at most one heartbeat interval of its rate. A grant found already
  spent without a countdown (its budget was lowered below the spend) is stopped at
  that heartbeat too, and the notification says so.

Only the kernel manager's public ``shutdown_kernel`` is used, as the idle culler does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.money import format_amount
from ..ledger import AlertView, BudgetStatus, RunView, iso, utcnow
from .ending import stop_kernel

if TYPE_CHECKING:
    from .meter import _Live
    from .service import MeteringService

BUDGET_EVENT = "https://events.jupyter.org/jupyterlab_compute_panel/budget/v1"
BUDGET_EVENT_SCHEMA = Path(__file__).parents[1] / "event_schemas" / "budget" / "v1.yaml"
# How long a budget stop stays in GET /compute-panel/alerts for the browser to notice.
STOP_MEMORY = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Countdown:
    """A run that will be stopped at ``stop_at`` when its grant's budget runs out."""

    run: RunView
    stop_at: dt.datetime  # naive UTC
    reason: str

    def to_json(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "kernel_id": self.run.kernel_id,
            "run_id": self.run.id,
            "grant_id": self.run.grant_id,
            "tier_label": self.run.tier_label,
            "notebook": self.run.notebook,
            "stop_at": iso(self.stop_at),
            "seconds_left": max(0, math.ceil((self.stop_at - now).total_seconds())),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class BudgetStop:
    """A kernel this server stopped because its grant's budget was spent."""

    run: RunView
    at: dt.datetime
    warned: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kernel_id": self.run.kernel_id,
            "run_id": self.run.id,
            "grant_id": self.run.grant_id,
            "tier_label": self.run.tier_label,
            "notebook": self.run.notebook,
            "stopped_at": iso(self.at),
            "warned": self.warned,
            "message": self.message,
        }


def countdown_sentence(status: BudgetStatus) -> str:
    currency = status.currency
    kernels = len(status.open_runs)
    return (
        f"Grant {status.award_number} has {format_amount(max(status.left_micros, 0))} {currency} left of its "
        f"{format_amount(status.budget_micros)} {currency} budget, and its {kernels} running "
        f"{'kernel spends' if kernels == 1 else 'kernels spend'} {format_amount(status.burn_micros_per_hour)} "
        f"{currency} an hour: its paid kernels are stopped when it runs out."
    )


def stop_sentence(status: BudgetStatus, run: RunView, warned: bool) -> str:
    currency = status.currency
    spent, budget = format_amount(status.spent_micros), format_amount(status.budget_micros)
    advice = "the grant's PI can raise its budget, and the notebook can move to a free tier meanwhile."
    if warned:
        return (
            f"Grant {status.award_number} has spent its budget ({spent} of {budget} {currency}), "
            f"so its {run.tier_label} kernel was stopped: {advice}"
        )
    return (
        f"Grant {status.award_number} had already spent {spent} of its {budget} {currency} budget when this "
        f"server checked it, so its {run.tier_label} kernel was stopped without a countdown (this happens when "
        f"a budget is lowered below what was spent): {advice}"
    )


class BudgetEnforcer:
    """The budget check of one metering service, run at the end of every heartbeat round."""

    def __init__(self, service: MeteringService, countdown: float = 300.0, log: logging.Logger | None = None) -> None:
        self.service = service
        self.countdown = dt.timedelta(seconds=countdown)
        self.log = log or service.log
        self._countdowns: dict[str, Countdown] = {}  # run id ->
        self._fired: set[tuple[str, int, int]] = set()  # (grant, threshold, budget) recorded
        self._stopping: dict[str, asyncio.Task] = {}  # run id -> its shutdown
        self._stops: dict[str, BudgetStop] = {}  # run id -> recent stop

    @property
    def kernel_manager(self) -> Any:
        """The host's kernel manager (None outside a server)."""
        return self.service.kernel_manager

    # -- what the browser asks --------------------------------------------------
    def countdowns(self, user: str | None = None) -> list[Countdown]:
        live = self.service._live
        return sorted(
            (c for c in self._countdowns.values() if c.run.id in live and (user is None or c.run.user == user)),
            key=lambda c: (c.stop_at, c.run.kernel_id),
        )

    def stops(self, user: str | None = None) -> list[BudgetStop]:
        self._forget_old_stops(utcnow())
        return sorted((s for s in self._stops.values() if user is None or s.run.user == user), key=lambda s: s.at)

    # -- the check -----------------------------------------------------------------
    async def check(self, run_ids: list[str]) -> None:
        """The budget check for the grants of these live runs (one heartbeat round)."""
        live = self.service._live
        for run_id in set(self._countdowns) - set(live):
            self._countdowns.pop(run_id, None)
        now = utcnow()
        self._forget_old_stops(now)
        by_grant: dict[str, list[_Live]] = defaultdict(list)
        for run_id in run_ids:
            entry = live.get(run_id)
            if entry is not None and entry.run is not None and entry.run.grant_id is not None:
                by_grant[entry.run.grant_id].append(entry)
        if not by_grant:
            return
        statuses = await self.service.db(self.service.ledger.budget_status, list(by_grant), now)
        for grant_id, entries in by_grant.items():
            status = statuses.get(grant_id)
            if status is None:
                continue
            await self._alert(status)
            self._enforce(status, entries)

    async def _alert(self, status: BudgetStatus) -> None:
        new = [t for t in status.crossed() if (status.grant_id, t, status.budget_micros) not in self._fired]
        if not new:
            return
        inserted = await self.service.db(
            self.service.ledger.record_alerts,
            status.grant_id,
            status.budget_micros,
            new,
            status.spent_micros,
            status.at,
        )
        self._fired.update((status.grant_id, t, status.budget_micros) for t in new)
        by_threshold: dict[int, list[AlertView]] = defaultdict(list)
        for alert in inserted:
            by_threshold[alert.threshold_pct].append(alert)
        for threshold, alerts in sorted(by_threshold.items()):
            self.log.info(
                "compute-panel: grant %s reached %d%% of its budget (%s of %s %s); alerting %s",
                status.grant_id,
                threshold,
                format_amount(status.spent_micros),
                format_amount(status.budget_micros),
                status.currency,
                ", ".join(a.recipient for a in alerts),
            )
            self._emit(
                {
                    "action": "budget_alert",
                    "grant_id": status.grant_id,
                    "threshold_pct": threshold,
                    "spent": format_amount(status.spent_micros),
                    "budget": format_amount(status.budget_micros),
                    "currency": status.currency,
                    "recipients": [a.recipient for a in alerts],
                }
            )

    def _enforce(self, status: BudgetStatus, entries: list[_Live]) -> None:
        runs = [e.run for e in entries if e.run is not None]
        end = status.exhausted_at() if status.hard_stop else None
        if end is not None and end <= status.at:
            for entry in entries:
                if entry.run is not None and entry.run.id not in self._stopping:
                    self._stop(entry, status)
            return
        if end is None or end - status.at > self.countdown:
            for run in runs:
                self._countdowns.pop(run.id, None)
            return
        reason = countdown_sentence(status)
        for run in runs:
            previous = self._countdowns.get(run.id)
            self._countdowns[run.id] = Countdown(run, end, reason)
            if previous is None or end < previous.stop_at - dt.timedelta(seconds=1):
                self.log.info(
                    "compute-panel: kernel %s on %s will be stopped at %s when grant %s runs out",
                    run.kernel_id,
                    run.tier_label,
                    iso(end),
                    status.grant_id,
                )
                self.service.emit("budget_warning", run, stop_at=iso(end), message=reason)

    def _stop(self, entry: _Live, status: BudgetStatus) -> None:
        run = entry.run
        assert run is not None
        warned = self._countdowns.pop(run.id, None) is not None
        message = stop_sentence(status, run, warned)
        self._stops[run.id] = BudgetStop(run, status.at, warned, message)
        self.log.info(
            "compute-panel: stopping kernel %s on %s: grant %s spent %s of %s %s%s",
            run.kernel_id,
            run.tier_label,
            status.grant_id,
            format_amount(status.spent_micros),
            format_amount(status.budget_micros),
            status.currency,
            "" if warned else " (no countdown: the budget was already spent)",
        )
        self.service.emit("budget_stop", run, message=message)
        task = self.service.lifecycle.spawn("budget stop", self._shutdown(entry, status.at), entry.loop)
        self._stopping[run.id] = task

    async def _shutdown(self, entry: _Live, at: dt.datetime) -> None:
        run, provisioner = entry.run, entry.provisioner
        assert run is not None
        try:
            # The run ends at the heartbeat that found the budget spent: the seconds the
            # kernel takes to shut down are not billed to a spent grant. A kernel started
            # outside the server (nbclient, papermill) stops through its own kernel manager.
            await stop_kernel(self.service.kernel_manager, run.kernel_id, "budget", at=at, provisioner=provisioner)
        except Exception:
            self._stops.pop(run.id, None)
            self.log.warning("compute-panel: could not stop kernel %s of a spent grant", run.kernel_id, exc_info=True)
        finally:
            self._stopping.pop(run.id, None)

    # -- plumbing -----------------------------------------------------------------------
    def _forget_old_stops(self, now: dt.datetime) -> None:
        for run_id, stop in list(self._stops.items()):
            if now - stop.at > STOP_MEMORY:
                self._stops.pop(run_id, None)

    def _emit(self, data: dict[str, Any]) -> None:
        logger = self.service.event_logger
        if logger is None:
            return
        try:
            logger.emit(schema_id=BUDGET_EVENT, data=data)
        except Exception:
            self.log.warning("compute-panel: could not emit a %s event", data.get("action"), exc_info=True)

    async def stop(self) -> None:
        for task in list(self._stopping.values()):
            task.cancel()
