"""The one owner of the metering core's background work.

Every periodic task (the reconciler, idle culling, price lists, availability checks) is
declared here with its interval, started together by ``start()`` on the host's event
loop and stopped together by ``stop()``; one-off tasks (a kernel's shutdown by the
budget or the idle culler, a meter on another event loop) are ``spawn``-ed so that
``stop()`` cancels them too. One concurrency model: asyncio tasks on the loop that
runs the work, database calls in the service's thread pool. A failing round is logged
and retried at the next interval; it never ends its loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from ..ledger import LedgerUnreachable


@dataclass
class Periodic:
    name: str
    interval: float
    fn: Callable[[], Awaitable[Any]]
    # Run once right away (availability: the cards need a first answer), or wait an interval first.
    at_start: bool = False
    task: asyncio.Task | None = field(default=None, repr=False)


class Lifecycle:
    def __init__(self, log: logging.Logger | None = None) -> None:
        self.log = log or logging.getLogger("jupyterlab_compute_panel")
        self._periodic: list[Periodic] = []
        self._tasks: set[asyncio.Task] = set()
        self.started = False

    def every(
        self, name: str, interval: float, fn: Callable[[], Awaitable[Any]], *, at_start: bool = False
    ) -> Periodic:
        """Declare a periodic task; it runs from ``start()`` to ``stop()``."""
        periodic = Periodic(name, interval, fn, at_start)
        self._periodic.append(periodic)
        if self.started:
            periodic.task = self._spawn_on(asyncio.get_running_loop(), self._repeat(periodic), name)
        return periodic

    @property
    def periodic(self) -> list[Periodic]:
        return list(self._periodic)

    def start(self) -> None:
        """Start every declared periodic task on the running event loop (once)."""
        if self.started:
            return
        self.started = True
        loop = asyncio.get_running_loop()
        for periodic in self._periodic:
            periodic.task = self._spawn_on(loop, self._repeat(periodic), periodic.name)

    def spawn(
        self, name: str, coro: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop | None = None
    ) -> asyncio.Task:
        """Run a one-off task that ``stop()`` cancels if it is still running."""
        return self._spawn_on(loop or asyncio.get_running_loop(), coro, name)

    def _spawn_on(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task:
        task = loop.create_task(coro, name=f"compute-panel-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _repeat(self, periodic: Periodic) -> None:
        first = periodic.at_start
        while True:
            if not first:
                await asyncio.sleep(periodic.interval)
            first = False
            try:
                await periodic.fn()
            except asyncio.CancelledError:
                raise
            except LedgerUnreachable:
                # Said once when the outage began (outage.py); no traceback every interval.
                self.log.debug(
                    "compute-panel: %s waits for the ledger; retrying in %g s", periodic.name, periodic.interval
                )
            except Exception:
                self.log.warning(
                    "compute-panel: %s failed; retrying in %g s", periodic.name, periodic.interval, exc_info=True
                )

    async def stop(self) -> None:
        """Cancel every task this lifecycle runs, and wait for those of this event loop."""
        loop = asyncio.get_running_loop()
        tasks = list(self._tasks)
        for task in tasks:
            if task.get_loop() is loop:
                task.cancel()
            else:  # a meter on another event loop (nbclient's); that loop may be closed already
                with contextlib.suppress(RuntimeError):
                    task.get_loop().call_soon_threadsafe(task.cancel)
        mine = [t for t in tasks if t.get_loop() is loop]
        if mine:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*mine, return_exceptions=True)
        for periodic in self._periodic:
            periodic.task = None
        self.started = False
