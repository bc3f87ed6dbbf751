"""The meter: the provisioner's side of the metering service.

A start is reserved (the grant chosen and its budget checked atomically), marked
launched, heartbeated while its kernel lives and closed with its end reason. One meter
task per event loop heartbeats every live run of that loop in a single UPDATE per
interval and closes runs whose kernel process is gone; a reconciler closes runs that
nobody heartbeats any more, at their last heartbeat, so a run is never billed twice and
loses at most one heartbeat interval.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from dataclasses import dataclass
from typing import Any

from ..domain import policy
from ..domain.catalog import Tier
from ..errors import LaunchRefused
from ..ledger import HOST, BudgetExhausted, GrantView, LedgerUnreachable, RunView, utcnow
from .ending import stop_kernel
from .outage import END_REASON, start_refusal

# A run is lost after this many missed heartbeats of the process that meters it.
MISSED = 3


@dataclass
class _Live:
    provisioner: Any
    loop: asyncio.AbstractEventLoop
    run: RunView | None = None


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (whoever owns it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class MeterMixin:
    """Launch policy, live runs, heartbeats and reconciliation (part of ``MeteringService``)."""

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
        try:
            requested = grant_id
            if notebook and not requested:
                binding = await self.db(self.ledger.get_binding, user, notebook)
                requested = binding.grant_id if binding else None
            requested = requested or env.get("COMPUTE_PANEL_GRANT") or self.default_grant
            if not requested:
                raise LaunchRefused(policy.no_grant_sentence(tier, bool(notebook)))
            grant: GrantView | None = await self.db(self.ledger.get_grant, requested)
        except LedgerUnreachable as e:
            raise start_refusal(e) from None
        if grant is None:
            raise LaunchRefused(policy.unknown_grant_sentence(requested, tier))
        refusal = policy.charge_refusal(grant, user, utcnow().date(), tier)
        if refusal:
            raise refusal.as_launch()
        return grant.id

    async def reserve_run(self, **fields: Any) -> RunView:
        """Reserve the run of a kernel about to start (budget checked atomically).

        While the ledger is away a paid start is refused, and a free one's run is opened
        in memory and recorded when the ledger returns."""
        fields = {**fields, "heartbeat_s": self.heartbeat_interval}
        try:
            return await self.db(self.ledger.reserve_run, **fields)
        except BudgetExhausted as e:
            raise LaunchRefused(policy.budget_sentence(e, fields["tier"], fields.get("user"))) from None
        except LedgerUnreachable as e:
            if not fields["tier"].free:
                raise start_refusal(e) from None
        fields.update(run_id=uuid.uuid4().hex, now=utcnow())
        run = self.ledger.draft_run(**fields)
        self.outage.hold_open(fields, run)
        return run

    async def launched(self, provisioner: Any, run_id: str) -> RunView | None:
        """The reserved kernel runs: its run starts now and the meter watches it."""
        run = self.outage.launched_in_memory(run_id, utcnow())
        if run is None:
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

    async def reopened(self, previous_run_id: str | None, run: RunView) -> None:
        """A live kernel metered on in a new run keeps the environment captured for its old one."""
        if previous_run_id:
            try:
                await self.db(self.ledger.copy_environment, previous_run_id, run.id)
            except Exception:
                self.log.warning("compute-panel: could not copy run %s's environment", previous_run_id, exc_info=True)

    async def close_run(self, run_id: str, reason: str, at: dt.datetime | None = None) -> RunView | None:
        """Close a run with its reason, at ``at`` (default now). While the ledger is away the
        close is held, at the moment it happened, and made when the ledger returns."""
        self._live.pop(run_id, None)
        if self.environment is not None:
            self.environment.run_closed(run_id)
        at = at or utcnow()
        try:
            run = await self.db(self.ledger.close_run, run_id, reason, at)
        except LedgerUnreachable:
            self.log.info("compute-panel: run %s closes (%s) when the ledger is back", run_id, reason)
            self.outage.hold_close(run_id, reason, at)
            return None
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
            self._meters[loop] = self.lifecycle.spawn("meter", self._meter(loop), loop)

    async def _meter(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while any(live.loop is loop for live in self._live.values()) or self.outage.pending:
                await asyncio.sleep(self.heartbeat_interval)
                try:
                    await self.heartbeat(loop)
                except LedgerUnreachable:
                    pass  # held; said once when the outage began
                except Exception:
                    self.log.warning("compute-panel: heartbeat failed; retrying next interval", exc_info=True)
        finally:
            if self._meters.get(loop) is asyncio.current_task():
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
        now = utcnow()
        if self.outage.away:
            self.outage.hold(alive, now)  # first: the write when the ledger returns includes this round
        try:
            closed_under_us = await self.db(self.ledger.heartbeat, alive, now)
        except LedgerUnreachable:
            self.outage.hold(alive, now)
            if self.outage.past_grace():
                self._stop_for_outage(alive)
            return len(alive)
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

    def _stop_for_outage(self, alive: list[str]) -> None:
        """Past the grace: stop the paid kernels, each run ending at its last held heartbeat."""
        for run_id in alive:
            live = self._live.get(run_id)
            if live is None or live.run is None or live.run.rate_micros_per_hour == 0:
                continue  # free tiers cost nothing: they keep running
            if run_id in self.outage.stopping:
                continue
            self.outage.stopping.add(run_id)
            at = self.outage.held[run_id]
            self.log.warning(
                "compute-panel: stopping kernel %s on %s: the ledger has been away for %.0f s (grace %g s)",
                live.run.kernel_id,
                live.run.tier_label,
                self.outage.away_for(),
                self.outage.grace,
            )
            self.lifecycle.spawn("ledger outage stop", self._outage_stop(live, at), live.loop)

    async def _outage_stop(self, live: _Live, at: dt.datetime) -> None:
        run = live.run
        assert run is not None
        try:
            await stop_kernel(self.kernel_manager, run.kernel_id, END_REASON, at=at, provisioner=live.provisioner)
        except Exception:
            self.outage.stopping.discard(run.id)
            self.log.warning("compute-panel: could not stop kernel %s", run.kernel_id, exc_info=True)

    # -- reconciliation -------------------------------------------------------
    def reconcile_at_start(self) -> list[RunView]:
        """Close runs left open by a metering process on this host that is gone (sync)."""
        mine = os.getpid()

        def orphaned(run) -> bool:
            return run.launcher_host == HOST and run.launcher_pid != mine and not pid_alive(run.launcher_pid)

        closed = self.ledger.close_at_last_heartbeat(orphaned, "server_restart")
        closed += self.ledger.close_at_last_heartbeat(None, "lost", exclude=self.live_run_ids(), missed=MISSED)
        for run in closed:
            self.log.info("compute-panel: closed run %s of kernel %s (%s)", run.id, run.kernel_id, run.end_reason)
        return closed

    async def reconcile(self) -> list[RunView]:
        """Close runs whose heartbeats stopped, at their last heartbeat (after what was held
        during an outage is written: no run of this process is judged stale for it)."""
        try:
            closed = await self.db(
                self.ledger.close_at_last_heartbeat,
                None,
                "lost",
                exclude=self.live_run_ids() + sorted(self.outage.pending_run_ids()),
                missed=MISSED,
            )
        except LedgerUnreachable:
            return []
        for run in closed:
            self.emit("closed", run)
        return closed
