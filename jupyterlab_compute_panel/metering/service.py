"""The metering service: the one facade over the ledger that hosts, handlers and the CLI use.

It is complete when constructed: its parts (the budget enforcer, the idle culler, the
environment capture, price lists, node availability, re-runs) are built here from the
settings and the host's managers it is given, and one ``Lifecycle`` owns their
background work. A host never assigns a part afterwards. Database work runs in a thread
pool, never on the event loop. The service knows nothing of HTTP or of which process
hosts it: an embedded Jupyter server, the lab's gateway, or nbclient alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..domain import policy
from ..domain.catalog import Catalog, Tier
from ..domain.money import format_amount
from ..errors import LaunchRefused
from ..ledger import GrantView, Ledger, LedgerUnreachable, RunView, close_abandoned, utcnow
from .admin import AdminMixin
from .budget import BudgetEnforcer
from .dashboards import DashboardsMixin
from .grant_api import GrantsMixin
from .identity import ACTING_ADMIN, ACTING_USER, acting_user
from .lifecycle import Lifecycle
from .meter import MISSED, MeterMixin, _Live
from .outage import LedgerOutage
from .reproduction import ReproductionMixin
from .restarts import RefusedRestarts
from .run_api import RunsMixin

if TYPE_CHECKING:
    from jupyter_events import EventLogger

__all__ = ["MISSED", "RUN_EVENT", "RUN_EVENT_SCHEMA", "LaunchRefused", "MeteringService", "MeteringSettings"]

RUN_EVENT = "https://events.jupyter.org/jupyterlab_compute_panel/run/v1"
RUN_EVENT_SCHEMA = Path(__file__).parents[1] / "event_schemas" / "run" / "v1.yaml"
T = TypeVar("T")


@dataclass(frozen=True)
class MeteringSettings:
    """The knobs of the metering core (``ComputePanel`` traitlets carry them in a server)."""

    heartbeat_interval: float = 15.0
    reconcile_interval: float = 60.0
    budget_countdown: float = 300.0
    idle_check_interval: float = 30.0
    idle_warning: float = 300.0
    capture_environment: bool = True
    environment_timeout: float = 20.0
    price_refresh_interval: float = 3600.0
    availability_interval: float = 30.0
    rerun_folder: str = ""
    rerun_time_limit: int = 3600
    rerun_max_time_limit: int = 86400
    ledger_outage_grace: float = 900.0


class MeteringService(MeterMixin, GrantsMixin, RunsMixin, DashboardsMixin, ReproductionMixin, AdminMixin):
    def __init__(
        self,
        *,
        catalog: Catalog,
        ledger: Ledger,
        owner: str,
        heartbeat_interval: float | None = None,
        settings: MeteringSettings | None = None,
        default_grant: str | None = None,
        admins: set[str] | None = None,
        kernelspec_names: dict[str, dict[str, str]] | None = None,
        kernel_manager: Any = None,
        contents_manager: Any = None,
        event_logger: EventLogger | None = None,
        log: logging.Logger | None = None,
        root_dir: str | None = None,
    ) -> None:
        """``kernel_manager`` and ``contents_manager`` are the host's (a Jupyter server's);
        without them (nbclient, papermill, the CLI) there is no idle culling, environment
        capture or re-run, and the budget's hard stop shuts kernels down through their own
        kernel manager."""
        settings = settings or MeteringSettings()
        if heartbeat_interval is not None:
            settings = MeteringSettings(**{**settings.__dict__, "heartbeat_interval": heartbeat_interval})
        self.settings = settings
        self.catalog = catalog
        self.root_dir = os.path.realpath(root_dir) if root_dir else None
        self.ledger = ledger
        # The configured owner; ``owner`` is whoever the current request acts as (identity.py).
        self.configured_owner = owner
        self.heartbeat_interval = settings.heartbeat_interval
        self.default_grant = default_grant
        self.admins = admins or set()
        self.kernelspec_names = kernelspec_names or {}
        self.kernel_manager = kernel_manager
        self.contents_manager = contents_manager
        self.event_logger = event_logger
        self.log = log or logging.getLogger("jupyterlab_compute_panel")
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="compute-panel-db")
        self._live: dict[str, _Live] = {}
        self._meters: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
        self.lifecycle = Lifecycle(self.log)
        # Heartbeats and closes held while the ledger's database is away (outage.py).
        self.outage = LedgerOutage(settings.ledger_outage_grace, self.log)
        # Restarts refused by policy, for the browser to ask why (restarts.py).
        self.refused_restarts = RefusedRestarts()
        self._build_parts(settings)

    def _build_parts(self, settings: MeteringSettings) -> None:
        # Imported here: each part imports this module for its type hints.
        from .environment.capture import EnvironmentCapture
        from .idle import IdleCuller
        from .prices import PriceSources
        from .remote.health import Availability
        from .reruns import RerunManager

        hosted = self.kernel_manager is not None
        # Alerts, countdowns and the hard stop, checked at the end of every heartbeat round.
        self.budget = BudgetEnforcer(self, countdown=settings.budget_countdown, log=self.log)
        # Environment fingerprints; only in a server, whose event loop outlives a capture.
        self.environment: EnvironmentCapture | None = (
            EnvironmentCapture(
                self,
                contents_manager=self.contents_manager,
                root_dir=self.root_dir,
                timeout=settings.environment_timeout,
                log=self.log,
            )
            if hosted and settings.capture_environment
            else None
        )
        self.idle: IdleCuller | None = (
            IdleCuller(
                self,
                self.kernel_manager,
                interval=settings.idle_check_interval,
                warning=settings.idle_warning,
                log=self.log,
            )
            if hosted
            else None
        )
        self.reruns: RerunManager | None = (
            RerunManager(
                self,
                output_folder=settings.rerun_folder,
                default_time_limit=settings.rerun_time_limit,
                max_time_limit=settings.rerun_max_time_limit,
            )
            if hosted and self.contents_manager is not None
            else None
        )
        # Rates read from providers' price lists, and the nodes of remote (SSH) tiers.
        self.prices: PriceSources | None = PriceSources(self, interval=settings.price_refresh_interval, log=self.log)
        self.availability: Availability | None = Availability(
            self.catalog, interval=settings.availability_interval, log=self.log
        )
        if not hosted:
            return
        self.lifecycle.every("reconciliation", settings.reconcile_interval, self.reconcile)
        if self.idle is not None:
            self.lifecycle.every("idle check", settings.idle_check_interval, self.idle.check)
        if self.availability.checked:
            self.lifecycle.every(
                "availability check", settings.availability_interval, self.availability.check_all, at_start=True
            )
        if any(t.price_list is not None for t in self.catalog):
            self.lifecycle.every("price lists", settings.price_refresh_interval, self.prices.refresh, at_start=True)

    # -- life -----------------------------------------------------------------
    def recover(self) -> None:
        """At a host's start: close the runs and re-runs that a stopped process left open."""
        self.reconcile_at_start()
        if self.reruns is not None:
            abandoned = close_abandoned(self.ledger, self.owner, "The server stopped while it ran")
            if abandoned:
                self.log.info("compute-panel: %d re-run(s) left running by a stopped server marked failed", abandoned)

    @property
    def ledger_location(self) -> str:
        """The ledger's URL without its password (for logs)."""
        return self.ledger.engine.url.render_as_string(hide_password=True)

    def start(self) -> None:
        """Start the background work (on the host's running event loop)."""
        self.lifecycle.start()

    async def stop(self) -> None:
        """Stop the background work. The ledger stays open: kernels still stopping close their runs."""
        if self.reruns is not None:
            await self.reruns.stop()
        if self.environment is not None:
            await self.environment.stop()
        await self.budget.stop()
        await self.lifecycle.stop()

    # -- plumbing -------------------------------------------------------------
    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a ledger call in the thread pool.

        While the ledger is away, what the meter held is written first (``outage.py``), so
        that nothing reads or writes past it; LedgerUnreachable while it is still away."""
        try:
            if self.outage.away:
                await self._flush_held()
            return await self._in_thread(fn, *args, **kwargs)
        except LedgerUnreachable as e:
            self.outage.note(e)
            raise

    async def _in_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(fn, *args, **kwargs))

    async def _flush_held(self) -> None:
        closed = await self._in_thread(self.outage.flush, self.ledger)
        if closed is None:  # another call is writing them now
            raise self.outage.error()
        for run in closed:
            self.emit("closed", run)

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

    def update_tiers(self, changed: list[Tier]) -> None:
        """Tiers whose rate changed (a price list): new starts use them; runs keep their rate."""
        by_id = {t.id: t for t in changed}
        self.catalog = Catalog(tuple(by_id.get(t.id, t) for t in self.catalog))

    # -- roles ----------------------------------------------------------------
    @property
    def owner(self) -> str:
        """Who is asking (or launching): the host's acting user, else the configured owner."""
        return acting_user(self.configured_owner)

    @owner.setter
    def owner(self, user: str) -> None:
        self.configured_owner = user

    @property
    def is_admin(self) -> bool:
        return self.owner in self.admins or (ACTING_USER.get() is not None and ACTING_ADMIN.get())

    def may_see_grant(self, grant: GrantView) -> bool:
        return policy.may_see_grant(grant, self.owner, self.is_admin)

    def may_edit_grant(self, grant: GrantView) -> bool:
        return policy.may_edit_grant(grant, self.owner, self.is_admin)
