"""What the meter holds while the ledger's database is away, and writes when it returns.

The database may go away for a minute (PostgreSQL restarted, a failover) or for an hour
(a SQLite file system turned read-only, a full disk). Kernels keep running meanwhile:

- every heartbeat round holds each live run's latest moment in memory (``held``);
- runs that close (a shutdown, a death, a stop) and runs that open on a free tier are
  held as operations, in order (``pending``);
- the first ledger call that finds the database back writes them before anything else:
  the operations in order, then one UPDATE per held run to its latest moment. A held
  heartbeat only moves a run's last heartbeat forward, and a close applies once, so
  writing twice bills nothing twice and no kernel-second inside the grace is lost;
- past ``grace`` seconds away, paid kernels are stopped with end reason
  ``ledger_unreachable``, their runs closed at their last held heartbeat once the ledger
  is back. Free tiers keep running. New starts on paid tiers are refused meanwhile.

Held state lives in this process only: a server stopped or killed during an outage loses
the held seconds of its runs (the next start closes them at their last recorded heartbeat, so
they are not billed, never billed twice).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import LaunchUnavailable
from ..ledger import Ledger, LedgerUnreachable, RunView, utcnow

END_REASON = "ledger_unreachable"


def start_refusal(error: LedgerUnreachable) -> LaunchUnavailable:
    """The one sentence a paid start gets while the ledger is away."""
    return LaunchUnavailable(
        f"The compute ledger is unreachable ({error.why}), so paid tiers cannot start; Local CPU still works."
    )


@dataclass
class _Op:
    """A ledger write held while the database is away: ``apply(ledger)`` makes it."""

    run_id: str
    what: str  # "open" or "close"
    apply: Callable[[Ledger], Any]


class LedgerOutage:
    """The outage state of one metering service (one process)."""

    def __init__(self, grace: float, log: Any) -> None:
        self.grace = grace
        self.log = log
        self.kind: str | None = None
        self.since: dt.datetime | None = None
        self._since_monotonic = 0.0
        self.held: dict[str, dt.datetime] = {}
        self.pending: list[_Op] = []
        # Runs opened in memory (free tiers), by id: their fields until the ledger has them.
        self.opened: dict[str, tuple[dict[str, Any], RunView]] = {}
        self.stopping: set[str] = set()
        self._flushing = threading.Lock()

    # -- state ----------------------------------------------------------------------
    @property
    def away(self) -> bool:
        return self.since is not None

    def error(self) -> LedgerUnreachable:
        return LedgerUnreachable(self.kind or "unreachable")

    def note(self, error: LedgerUnreachable) -> None:
        """A ledger call found the database away."""
        if self.since is None:
            self.since = utcnow()
            self._since_monotonic = time.monotonic()
            self.log.warning(
                "compute-panel: the compute ledger is unreachable (%s); running kernels keep running, their "
                "heartbeats held in memory (paid kernels are stopped after %g s away)",
                error.why,
                self.grace,
            )
        self.kind = error.kind

    def away_for(self) -> float:
        return time.monotonic() - self._since_monotonic if self.away else 0.0

    def past_grace(self) -> bool:
        return self.away and self.away_for() > self.grace

    # -- holding --------------------------------------------------------------------
    def hold(self, run_ids: list[str], at: dt.datetime) -> None:
        for run_id in run_ids:
            if self.held.get(run_id, at) <= at:
                self.held[run_id] = at

    def hold_open(self, fields: dict[str, Any], run: RunView) -> None:
        """A free tier's run opened in memory (``fields`` for ``Ledger.open_run``, with its id
        and start); its kernel's launch may still move its start."""
        self.opened[run.id] = (fields, run)
        self.pending.append(_Op(run.id, "open", lambda ledger: ledger.open_run(**fields)))

    def launched_in_memory(self, run_id: str, at: dt.datetime) -> RunView | None:
        """The run, started ``at``, when it is one opened in memory; else None."""
        if run_id not in self.opened:
            return None
        fields, run = self.opened[run_id]
        fields["now"] = at
        run = dataclasses.replace(run, started=at, last_heartbeat=at)
        self.opened[run_id] = (fields, run)
        return run

    def hold_close(self, run_id: str, reason: str, at: dt.datetime) -> None:
        self.pending.append(_Op(run_id, "close", lambda ledger: ledger.close_run(run_id, reason, at)))
        self.held.pop(run_id, None)

    def pending_run_ids(self) -> set[str]:
        return {op.run_id for op in self.pending} | set(self.held)

    # -- the return -----------------------------------------------------------------
    def flush(self, ledger: Ledger) -> list[RunView] | None:
        """Write what was held (in a database thread). Returns the runs it closed, or None when
        another thread is writing them now; LedgerUnreachable when the database is still away.

        Each operation leaves the queue once written; the held heartbeats are written last,
        after the opens they may belong to."""
        if not self._flushing.acquire(blocking=False):
            return None
        try:
            closed: list[RunView] = []
            while self.pending:
                op = self.pending[0]
                try:
                    result = op.apply(ledger)
                except LedgerUnreachable:
                    raise
                except Exception:  # one write that cannot be made must not block the rest
                    self.log.warning(
                        "compute-panel: the held %s of run %s cannot be written; dropped",
                        op.what,
                        op.run_id,
                        exc_info=True,
                    )
                    result = None
                self.pending.pop(0)
                if op.what == "open":
                    self.opened.pop(op.run_id, None)
                elif result is not None:
                    closed.append(result)
            held = dict(self.held)
            if held:
                ledger.heartbeat_at(held)
            else:
                ledger.ping()
            for run_id, at in held.items():
                if self.held.get(run_id) == at:
                    del self.held[run_id]
            if self.away and not self.pending:
                self.log.warning(
                    "compute-panel: the compute ledger is back after %.0f s; wrote %d held heartbeat(s) and %d close(s)",
                    self.away_for(),
                    len(held),
                    len(closed),
                )
                self.since = None
                self.kind = None
                self.stopping.clear()
                # Moments held by a round running beside this write: that round writes its own.
                self.held.clear()
            return closed
        finally:
            self._flushing.release()
