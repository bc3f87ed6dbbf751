"""The metering service: the provisioner's and the REST API's view of the ledger.

Database work runs in a thread pool, never on the event loop. One meter task per
event loop heartbeats every live run in a single UPDATE per interval and closes
runs whose kernel process is gone; a reconciler closes runs that nobody
heartbeats any more, at their last heartbeat, so a run is never billed twice and
loses at most one heartbeat interval.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tornado import web

from ..domain.catalog import Catalog, Tier
from ..domain.money import format_amount
from ..ledger import HOST, BudgetExhausted, GrantView, Ledger, RunView, utcnow
from .budget import BudgetEnforcer

if TYPE_CHECKING:
    from jupyter_events import EventLogger

RUN_EVENT = "https://events.jupyter.org/jupyterlab_compute_panel/run/v1"
# A run is lost after this many missed heartbeats of the process that meters it.
MISSED = 3
RUN_EVENT_SCHEMA = Path(__file__).parents[1] / "event_schemas" / "run" / "v1.yaml"
T = TypeVar("T")


class LaunchRefused(web.HTTPError):
    """A kernel start refused by policy. The message is one human sentence.

    Raised from the provisioner's ``pre_launch``; jupyter_server turns it into a
    403 whose JSON ``message`` is the sentence, which JupyterLab shows.
    """

    def __init__(self, sentence: str) -> None:
        super().__init__(403, sentence.replace("%", " percent"))
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence


@dataclass
class _Live:
    provisioner: Any
    loop: asyncio.AbstractEventLoop
    run: RunView | None = None


def launch_refusal(grant: GrantView, tier: Tier, user: str, today: dt.date) -> str | None:
    """Why ``user`` may not charge ``grant`` for ``tier`` (one sentence), or None."""
    name = grant.award_number
    role = grant.role_of(user)
    if role is None:
        return f"You are not a member of grant {name}, so you cannot charge it: ask its PI ({grant.pi}) to add you, or choose another grant."
    if role == "viewer":
        return f"You can view grant {name} but not charge it: ask its PI ({grant.pi}) to make you a member, or choose another grant."
    if not grant.active_on(today):
        return (
            f"Grant {name} is not active today (it runs from {grant.start_date} to {grant.end_date}): "
            f"choose another grant to use {tier.label}."
        )
    if grant.currency != tier.currency:
        return f"Grant {name} is in {grant.currency} but {tier.label} is priced in {tier.currency}: choose a grant in {tier.currency}."
    if grant.allowed_tiers is not None and tier.id not in grant.allowed_tiers:
        return (
            f"Grant {name} does not pay for {tier.label} (it allows {', '.join(grant.allowed_tiers)}): "
            "choose another tier, or ask its PI to allow this one."
        )
    if grant.sensitive and tier.reliability == "community":
        return (
            f"Grant {name} holds sensitive data, which may not run on community nodes such as {tier.label}: "
            "choose a datacenter or local tier."
        )
    return None


def budget_sentence(e: BudgetExhausted, tier: Tier) -> str:
    grant, currency = e.grant, e.grant.currency
    minutes = grant.min_runtime_s / 60
    committed = (
        f" after {format_amount(e.committed_micros)} {currency} committed to its running kernels"
        if e.committed_micros
        else ""
    )
    return (
        f"Grant {grant.award_number} has {format_amount(max(e.left_micros - e.committed_micros, 0))} {currency} left{committed}, "
        f"less than {minutes:g} minutes on {tier.label} ({format_amount(e.needed_micros)} {currency}): "
        "ask its PI to raise the budget, or choose a cheaper tier."
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class MeteringService:
    def __init__(
        self,
        *,
        catalog: Catalog,
        ledger: Ledger,
        owner: str,
        heartbeat_interval: float = 15.0,
        default_grant: str | None = None,
        admins: set[str] | None = None,
        kernelspec_names: dict[str, dict[str, str]] | None = None,
        event_logger: EventLogger | None = None,
        log: logging.Logger | None = None,
        root_dir: str | None = None,
        budget_countdown: float = 300.0,
    ) -> None:
        self.catalog = catalog
        self.root_dir = os.path.realpath(root_dir) if root_dir else None
        self.ledger = ledger
        self.owner = owner
        self.heartbeat_interval = heartbeat_interval
        self.default_grant = default_grant
        self.admins = admins or set()
        self.kernelspec_names = kernelspec_names or {}
        self.event_logger = event_logger
        self.log = log or logging.getLogger("jupyterlab_compute_panel")
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="compute-panel-db")
        self._live: dict[str, _Live] = {}
        self._meters: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
        self._reconciler: asyncio.Task | None = None
        # Alerts, countdowns and the hard stop, checked at the end of every heartbeat round.
        self.budget = BudgetEnforcer(self, countdown=budget_countdown, log=self.log)
        # Environment fingerprints (fingerprint/capture.py); set by the server extension when
        # ComputePanel.capture_environment is on. None in standalone metering (nbclient,
        # papermill outside a server), whose event loop may end before a capture does.
        self.environment: Any = None
        # Availability of remote tiers (remote/health.py); set by the server extension.
        self.availability: Any = None
        # Rates read from providers' price lists (remote/prices.py); set by the server extension.
        self.prices: Any = None

    # -- plumbing -------------------------------------------------------------
    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a ledger call in the thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(fn, *args, **kwargs))

    def emit(self, action: str, run: RunView, **extra: Any) -> None:
        if self.event_logger is None:
            return
        now = utcnow()
        data = {
            "action": action,
            "run_id": run.id,
            "kernel_id": run.kernel_id,
            "tier_id": run.tier_id,
            "grant_id": run.grant_id,
            "cost": format_amount(run.cost_micros(now)),
            "currency": run.currency,
            "end_reason": run.end_reason,
        }
        data.update(extra)
        try:
            self.event_logger.emit(schema_id=RUN_EVENT, data=data)
        except Exception:
            self.log.warning("compute-panel: could not emit a %s event", action, exc_info=True)

    # -- roles ----------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.owner in self.admins

    async def visibility(self) -> tuple[str | None, tuple[str, ...]]:
        """(user, grants) for RunFilter: the owner's own runs and every run of the grants
        they are PI or viewer of; (None, ()) for an admin, who sees everything."""
        if self.is_admin:
            return None, ()
        roles = await self.db(self.ledger.roles_of, self.owner)
        return self.owner, tuple(sorted(g for g, role in roles.items() if role in ("pi", "viewer")))

    def may_see_grant(self, grant: GrantView) -> bool:
        return self.is_admin or grant.role_of(self.owner) is not None

    def may_edit_grant(self, grant: GrantView) -> bool:
        return self.is_admin or grant.role_of(self.owner) == "pi"

    # -- launch policy --------------------------------------------------------
    def notebook_path(self, session_name: str | None) -> str | None:
        """The notebook path as the contents API names it (relative to the server root).

        jupyter_server passes the session's file to the kernel as JPY_SESSION_NAME, an
        absolute path when the client names the file (as JupyterLab does).
        """
        if not session_name:
            return None
        if os.path.isabs(session_name) and self.root_dir:
            real = os.path.realpath(session_name)
            if real == self.root_dir or real.startswith(self.root_dir + os.sep):
                return os.path.relpath(real, self.root_dir).replace(os.sep, "/")
        return session_name

    async def grant_for_launch(
        self, tier: Tier, user: str, notebook: str | None, env: dict[str, str], grant_id: str | None = None
    ) -> str | None:
        """The grant a start on ``tier`` is charged to, or LaunchRefused with one sentence.

        ``grant_id`` is a grant the server chose (a re-run's); otherwise the notebook's
        binding, then COMPUTE_PANEL_GRANT, then the default grant. Every policy but the
        budget is checked here; the budget is checked atomically when the run is reserved
        (``reserve_run``).
        """
        if tier.free:
            return None
        requested = grant_id
        if notebook and not requested:
            binding = await self.db(self.ledger.get_binding, user, notebook)
            requested = binding.grant_id if binding else None
        requested = requested or env.get("COMPUTE_PANEL_GRANT") or self.default_grant
        if not requested:
            raise LaunchRefused(
                f"{tier.label} is a paid tier ({tier.price_text}), and no grant is chosen for "
                f"{'this notebook' if notebook else 'this kernel'}: choose one in the compute panel "
                "(or set COMPUTE_PANEL_GRANT) and start it again."
            )
        grant: GrantView | None = await self.db(self.ledger.get_grant, requested)
        if grant is None:
            raise LaunchRefused(
                f"The grant {requested!r} does not exist, so {tier.label} cannot be charged: choose another grant in the compute panel."
            )
        refusal = launch_refusal(grant, tier, user, utcnow().date())
        if refusal:
            raise LaunchRefused(refusal)
        return grant.id

    async def reserve_run(self, **fields: Any) -> RunView:
        """Reserve the run of a kernel about to start (budget checked atomically)."""
        try:
            return await self.db(self.ledger.reserve_run, heartbeat_s=self.heartbeat_interval, **fields)
        except BudgetExhausted as e:
            raise LaunchRefused(budget_sentence(e, fields["tier"])) from None

    async def launched(self, provisioner: Any, run_id: str) -> RunView | None:
        """The reserved kernel runs: its run starts now and the meter watches it."""
        run = await self.db(self.ledger.mark_launched, run_id)
        if run is not None:
            self._live[run.id] = _Live(provisioner, asyncio.get_running_loop(), run)
            self._ensure_meter()
            self.emit("started", run)
            if self.environment is not None:
                self.environment.schedule(provisioner, run)
        return run

    # -- runs -----------------------------------------------------------------
    async def open_run(self, provisioner: Any, **fields: Any) -> RunView:
        run = await self.db(self.ledger.open_run, heartbeat_s=self.heartbeat_interval, **fields)
        self._live[run.id] = _Live(provisioner, asyncio.get_running_loop(), run)
        self._ensure_meter()
        self.emit("started", run)
        return run

    async def close_run(self, run_id: str, reason: str, at: dt.datetime | None = None) -> RunView | None:
        self._live.pop(run_id, None)
        if self.environment is not None:
            self.environment.run_closed(run_id)
        run = await self.db(self.ledger.close_run, run_id, reason, at)
        if run is not None:
            self.emit("closed", run)
        return run

    def live_run_ids(self) -> list[str]:
        return list(self._live)

    # -- the meter ------------------------------------------------------------
    def _ensure_meter(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._meters.get(loop)
        if task is None or task.done():
            self._meters[loop] = loop.create_task(self._meter(loop))

    async def _meter(self, loop: asyncio.AbstractEventLoop) -> None:
        while any(live.loop is loop for live in self._live.values()):
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self.heartbeat(loop)
            except Exception:
                self.log.warning("compute-panel: heartbeat failed; retrying next interval", exc_info=True)
        self._meters.pop(loop, None)

    async def heartbeat(self, loop: asyncio.AbstractEventLoop | None = None) -> int:
        """One heartbeat round: close runs whose kernel is gone, heartbeat the rest, then
        check the budgets of their grants (alerts, countdown, hard stop)."""
        loop = loop or asyncio.get_running_loop()
        alive = []
        for run_id, live in list(self._live.items()):
            if live.loop is not loop:
                continue
            exited = await live.provisioner.poll_for_meter()
            if exited is None:
                alive.append(run_id)
            else:
                await self.close_run(run_id, "died")
        closed_under_us = await self.db(self.ledger.heartbeat, alive)
        for run_id in closed_under_us:
            # Another process closed this run (it judged our heartbeats stale) while the kernel
            # lives: meter the rest of the kernel's life in a new run rather than lose it.
            live = self._live.pop(run_id, None)
            if live is not None:
                self.log.warning("compute-panel: run %s was closed while its kernel lives; opening a new run", run_id)
                await live.provisioner.resume_metering()
        try:
            await self.budget.check([run_id for run_id in alive if run_id not in closed_under_us])
        except Exception:
            self.log.warning("compute-panel: budget check failed; retrying next heartbeat", exc_info=True)
        return len(alive) - len(closed_under_us)

    # -- reconciliation -------------------------------------------------------
    def reconcile_at_start(self) -> list[RunView]:
        """Close runs left open by a metering process on this host that is gone (sync)."""
        mine = os.getpid()

        def orphaned(run) -> bool:
            return run.launcher_host == HOST and run.launcher_pid != mine and not _pid_alive(run.launcher_pid)

        closed = self.ledger.close_at_last_heartbeat(orphaned, "server_restart")
        closed += self.ledger.close_at_last_heartbeat(None, "lost", exclude=self.live_run_ids(), missed=MISSED)
        for run in closed:
            self.log.info("compute-panel: closed run %s of kernel %s (%s)", run.id, run.kernel_id, run.end_reason)
        return closed

    async def reconcile(self) -> list[RunView]:
        """Close runs whose heartbeats stopped, at their last heartbeat."""
        closed = await self.db(
            self.ledger.close_at_last_heartbeat, None, "lost", exclude=self.live_run_ids(), missed=MISSED
        )
        for run in closed:
            self.emit("closed", run)
        return closed

    def start_reconciler(self, interval: float) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(interval)
                try:
                    await self.reconcile()
                except Exception:
                    self.log.warning("compute-panel: reconciliation failed; retrying", exc_info=True)

        self._reconciler = asyncio.get_running_loop().create_task(loop())

    async def stop(self) -> None:
        if self.environment is not None:
            await self.environment.stop()
        if self._reconciler is not None:
            self._reconciler.cancel()
        await self.budget.stop()
        for task in list(self._meters.values()):
            task.cancel()
