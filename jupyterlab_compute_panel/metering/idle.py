"""Idle paid kernels: warn, then shut down, after the tier's idle timeout.

A kernel on a paid tier with an ``idle_timeout_s`` is idle while its execution
state is not ``busy``; its idle time runs from its last activity (or from the last
time the user said "keep it", whichever is later). An open browser tab does not
count: only kernel activity or "keep it" resets the clock. ``idle_warning``
seconds before the timeout a run event ``idle_warning`` tells the browser when
the kernel will be shut down; at the timeout it is shut down with end reason
``culled``. Free tiers are left to jupyter_server's own culler.

Only the kernel manager's public surface is used: ``list_kernel_ids``,
``get_kernel``, ``shutdown_kernel`` and the kernels' ``provisioner``,
``last_activity`` and ``execution_state``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..domain.catalog import Tier
from ..ledger import iso
from .ending import metered_provisioner, stop_kernel

if TYPE_CHECKING:
    from .provisioner import ComputePanelProvisioner
    from .service import MeteringService


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def iso_time(value: dt.datetime) -> str:
    """The API's ISO form (UTC, milliseconds, ``Z``)."""
    naive = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return iso(naive.replace(microsecond=naive.microsecond // 1000 * 1000)) or ""


@dataclass(frozen=True)
class IdleKernel:
    """A kernel the culler watches: on a paid tier with an idle timeout."""

    kernel_id: str
    kernel: Any
    provisioner: ComputePanelProvisioner
    tier: Tier

    @property
    def timeout(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.tier.idle_timeout_s or 0)


class IdleCuller:
    """Warns about, then shuts down, idle kernels of paid tiers (one per server)."""

    def __init__(
        self,
        service: MeteringService,
        kernel_manager: Any,
        *,
        interval: float = 30.0,
        warning: float = 300.0,
        log: logging.Logger | None = None,
    ) -> None:
        self.service = service
        self.kernel_manager = kernel_manager
        self.interval = interval
        self.warning = warning
        self.log = log or service.log
        self._kept: dict[str, dt.datetime] = {}
        self._warned: dict[str, dt.datetime] = {}  # kernel id -> the idle period's start it was warned for
        self._culling: dict[str, asyncio.Task] = {}

    # -- which kernels ----------------------------------------------------------
    def watched(self, kernel_id: str) -> IdleKernel | None:
        """The kernel if it runs on a paid tier with an idle timeout, else None."""
        if kernel_id not in self.kernel_manager.list_kernel_ids():
            return None
        try:
            kernel = self.kernel_manager.get_kernel(kernel_id)
        except Exception:  # noqa: BLE001 - jupyter_server answers an unknown id with a 404
            return None
        provisioner = metered_provisioner(self.kernel_manager, kernel_id)
        if provisioner is None:
            return None
        tier = self.service.catalog.get(provisioner.tier)
        if tier is None or tier.free or not tier.idle_timeout_s:
            return None
        return IdleKernel(kernel_id, kernel, provisioner, tier)

    def _idle_since(self, watched: IdleKernel) -> dt.datetime | None:
        """Start of the current idle period, or None while the kernel works.

        As jupyter_server's culler judges it: a kernel is idle unless it is busy. A kernel
        that no client ever talked to stays ``starting`` for good, and must not escape.
        """
        if getattr(watched.kernel, "execution_state", None) == "busy":
            return None
        last = _aware(getattr(watched.kernel, "last_activity", None))
        kept = self._kept.get(watched.kernel_id)
        candidates = [t for t in (last, kept) if t is not None]
        return max(candidates) if candidates else None

    # -- "keep it" ----------------------------------------------------------------
    def keep(self, kernel_id: str) -> dict[str, Any] | None:
        """The user wants this kernel kept: restart its idle clock now.

        Returns ``{kernel_id, idle_timeout_s, shutdown_at}`` (the new deadline if it
        stays idle), or None when the kernel is unknown or not watched.
        """
        watched = self.watched(kernel_id)
        if watched is None:
            return None
        now = _now()
        self._kept[kernel_id] = now
        self._warned.pop(kernel_id, None)
        since = max(now, _aware(getattr(watched.kernel, "last_activity", None)) or now)
        return {
            "kernel_id": kernel_id,
            "idle_timeout_s": watched.tier.idle_timeout_s,
            "shutdown_at": iso_time(since + watched.timeout),
        }

    # -- the sweep ------------------------------------------------------------------
    async def check(self) -> None:
        """One sweep over the server's kernels."""
        ids = set(self.kernel_manager.list_kernel_ids())
        for state in (self._kept, self._warned):
            for gone in set(state) - ids:
                state.pop(gone, None)
        now = _now()
        for kernel_id in sorted(ids):
            if kernel_id in self._culling:
                continue
            watched = self.watched(kernel_id)
            if watched is None:
                continue
            since = self._idle_since(watched)
            if since is None:
                self._warned.pop(kernel_id, None)
                continue
            idle = now - since
            deadline = since + watched.timeout
            if idle >= watched.timeout:
                self._culling[kernel_id] = self.service.lifecycle.spawn("idle cull", self._cull(watched))
                continue
            lead = min(dt.timedelta(seconds=self.warning), watched.timeout)
            if idle >= watched.timeout - lead and self._warned.get(kernel_id) != since:
                self._warned[kernel_id] = since
                await self._warn(watched, deadline)

    async def _warn(self, watched: IdleKernel, deadline: dt.datetime) -> None:
        run = await self.service.db(self.service.ledger.current_run_for_kernel, watched.kernel_id)
        if run is None or run.ended is not None:
            return
        self.log.info(
            "compute-panel: kernel %s on %s is idle; it will be shut down at %s",
            watched.kernel_id,
            watched.tier.label,
            iso_time(deadline),
        )
        self.service.emit("idle_warning", run, shutdown_at=iso_time(deadline))

    async def _cull(self, watched: IdleKernel) -> None:
        kernel_id = watched.kernel_id
        try:
            self.log.info(
                "compute-panel: shutting down kernel %s on %s: idle for %ss",
                kernel_id,
                watched.tier.label,
                watched.tier.idle_timeout_s,
            )
            try:
                await stop_kernel(self.kernel_manager, kernel_id, "culled")
            except Exception:
                self.log.warning("compute-panel: could not shut down idle kernel %s", kernel_id, exc_info=True)
        finally:
            self._culling.pop(kernel_id, None)
            self._kept.pop(kernel_id, None)
            self._warned.pop(kernel_id, None)
