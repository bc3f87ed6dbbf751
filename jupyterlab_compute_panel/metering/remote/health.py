"""Availability of remote tiers: how many nodes answer and have room, checked in the background.

For every tier whose backend is ``compute-panel-ssh``, each host is reached over SSH
(host key checked as for a kernel) and asked how many kernels it runs; a host is
*free* when it answers and runs fewer than the tier's ``max_kernels``. The checks run
every ``interval`` seconds in a thread of their own with its own event loop, so slow
DNS or a node that drops packets never delays the server's requests; the REST API
reads the cached result. Tiers with other backends have no availability (None): the
panel shows them as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable
from typing import Any

from ...domain.catalog import Catalog, Tier
from ...ledger import iso, utcnow
from .ssh import PROVISIONER_NAME, SshSettings, parse_settings, probe, unavailable_sentence


def checked_tiers(tiers: Iterable[Tier]) -> dict[str, SshSettings]:
    return {t.id: parse_settings(t.backend.config) for t in tiers if t.backend.provisioner == PROVISIONER_NAME}


class Availability:
    def __init__(self, catalog: Catalog, interval: float = 30.0, log: logging.Logger | None = None) -> None:
        self.interval = interval
        self.log = log or logging.getLogger("jupyterlab_compute_panel")
        self._tiers = checked_tiers(catalog)
        self._labels = {t.id: t.label for t in catalog}
        self._cache: dict[str, dict[str, Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._task: asyncio.Task | None = None

    # -- reading ------------------------------------------------------------------
    def get(self, tier_id: str) -> dict[str, Any] | None:
        """The last check of a tier (None: not an SSH tier, or not checked yet)."""
        return self._cache.get(tier_id)

    # -- checking -----------------------------------------------------------------
    async def _check_tier(self, tier_id: str) -> dict[str, Any]:
        settings = self._tiers[tier_id]
        statuses = await asyncio.gather(*(probe(settings, host) for host in settings.hosts))
        reachable = sum(1 for s in statuses if s.reachable)
        free = sum(1 for s in statuses if s.free(settings.max_kernels))
        reason = None
        if not free:
            reason = f"{self._labels.get(tier_id, tier_id)} cannot take a kernel now. {unavailable_sentence(statuses, settings.max_kernels)}"
        result = {
            "nodes": len(statuses),
            "reachable": reachable,
            "free": free,
            "reason": reason,
            "checked": iso(utcnow()),
            "hosts": [s.to_json(settings.max_kernels) for s in statuses],
        }
        self._cache[tier_id] = result
        return result

    async def _check_all(self) -> None:
        for tier_id, outcome in zip(
            self._tiers,
            await asyncio.gather(*(self._check_tier(t) for t in self._tiers), return_exceptions=True),
            strict=True,
        ):
            if isinstance(outcome, BaseException):
                self.log.warning("compute-panel: availability check of %s failed: %s", tier_id, outcome)

    async def _run(self) -> None:
        self._task = asyncio.current_task()
        self._ready.set()
        while True:
            await self._check_all()
            await asyncio.sleep(self.interval)

    # -- the thread -----------------------------------------------------------------
    def start(self) -> None:
        if not self._tiers or self._thread is not None:
            return
        self._loop = asyncio.new_event_loop()

        def main() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    self._loop.run_until_complete(self._run())
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=main, name="compute-panel-availability", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    async def refresh(self) -> None:
        """Check every tier now (from any event loop), and wait for the result."""
        if not self._tiers:
            return
        if self._loop is None or self._thread is None:
            await self._check_all()
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._check_all(), self._loop))

    async def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        task = self._task
        if task is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(task.cancel)
        await asyncio.get_running_loop().run_in_executor(None, thread.join, 10)
        self._thread = None
