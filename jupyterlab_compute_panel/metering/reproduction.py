"""Re-runs and comparisons as the owner of this service may start and see them.

A user sees and cancels their own re-runs (an admin, every one); a comparison takes 2 to
6 runs of one notebook that the user may see, the first as the baseline, and reads each
run's executed copy (a re-run's) or the saved notebook whose provenance names the run
(an interactive run's).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import nbformat
from jupyter_core.utils import ensure_async

from ..domain.compare import RunInput, compare_runs
from ..errors import Conflict, Invalid, NotFound, Unavailable
from ..ledger import RerunView, get_rerun, list_reruns, rerun_for_run, utcnow
from .reruns import METADATA_KEY

MAX_COMPARE = 6


class ReproductionMixin:
    """Re-runs and comparisons (part of ``MeteringService``)."""

    @property
    def rerun_manager(self) -> Any:
        if self.reruns is None:
            raise Unavailable("Re-runs need a Jupyter server's kernels and contents; this host has none")
        return self.reruns

    async def visible_rerun(self, rerun_id: str) -> RerunView:
        rerun = await self.db(get_rerun, self.ledger, rerun_id)
        if rerun is None or not (self.is_admin or rerun.user == self.owner):
            raise NotFound(f"No re-run {rerun_id!r}", "rerun_id")
        return rerun

    async def reruns_json(self, path: str | None) -> list[dict[str, Any]]:
        user = None if self.is_admin else self.owner
        found = await self.db(list_reruns, self.ledger, user, path)
        return [self.rerun_manager.progress(r) for r in found]

    async def rerun_json(self, rerun_id: str) -> dict[str, Any]:
        return self.rerun_manager.progress(await self.visible_rerun(rerun_id))

    async def start_rerun(
        self, path: str, tier_id: str, grant_id: str | None, time_limit_s: int | None, source_run_id: Any
    ) -> dict[str, Any]:
        manager = self.rerun_manager
        if source_run_id is not None:
            await self.visible_run(source_run_id, "source_run_id")
        if grant_id is None:
            grant_id = await self.bound_grant(path)
        rerun = await manager.start(path, tier_id, grant_id, time_limit_s, source_run_id)
        return manager.progress(rerun)

    async def cancel_rerun(self, rerun_id: str) -> dict[str, Any]:
        """Cancel a running re-run: its kernel stops now; what ran is kept in its copy."""
        rerun = await self.visible_rerun(rerun_id)
        if rerun.ended is not None:
            raise Conflict(f"The re-run already ended ({rerun.status}), so there is nothing to cancel")
        if not await self.rerun_manager.cancel(rerun_id):
            raise Conflict("The re-run is not running on this server, so it cannot be cancelled here")
        return self.rerun_manager.progress(await self.db(get_rerun, self.ledger, rerun_id))

    # -- compare ----------------------------------------------------------------
    async def compare(self, run_ids: list[str], rtol: float) -> dict[str, Any]:
        if not 2 <= len(run_ids) <= MAX_COMPARE or len(set(run_ids)) != len(run_ids) or not all(run_ids):
            raise Invalid(f"runs must list 2 to {MAX_COMPARE} different run ids, separated by commas", "runs")
        now = utcnow()
        inputs = [await self._run_input(run_id, now) for run_id in run_ids]
        notebooks = {run.notebook for _, run in inputs}
        if len(notebooks) > 1:
            raise Invalid(
                "runs must be runs of one notebook; these ran "
                + ", ".join(sorted(repr(n) if n else "no notebook" for n in notebooks)),
                "runs",
            )
        # Comparing 200-cell notebooks is CPU work: off the event loop.
        return await asyncio.get_running_loop().run_in_executor(
            None, lambda: compare_runs([i for i, _ in inputs], rtol)
        )

    async def _read_notebook(self, path: str | None) -> dict[str, Any] | None:
        if not path or self.contents_manager is None:
            return None
        try:
            model = await ensure_async(self.contents_manager.get(path, content=True, type="notebook"))
        except Exception:  # noqa: BLE001 - a copy deleted or unreadable: its outputs are unknown
            return None
        return nbformat.from_dict(model["content"])

    async def _run_input(self, run_id: str, now: Any) -> tuple[RunInput, Any]:
        run = await self.visible_run(run_id, "runs")
        rerun = await self.db(rerun_for_run, self.ledger, run.id)
        notebook = None
        if rerun is not None:
            notebook = await self._read_notebook(rerun.output)
        elif run.notebook:
            # An interactive run: the saved notebook holds its outputs only if its provenance says so.
            saved = await self._read_notebook(run.notebook)
            provenance = ((saved or {}).get("metadata", {}).get(METADATA_KEY) or {}).get("provenance") or {}
            notebook = saved if provenance.get("run_id") == run.id else None
        environment = await self.environment_of(run.id, visible=True)
        tier = self.catalog.get(run.tier_id)
        if tier is not None:
            simulated = tier.simulated
        else:  # a tier since taken out of the catalog: as its environment recorded it
            simulated = bool(((environment or {}).get("tier") or {}).get("simulated"))
        return (
            RunInput(
                id=run.id,
                label=run.tier_label,
                duration_s=Decimal(run.duration_ms(now)) / 1000,
                cost=Decimal(run.cost_micros(now)).scaleb(-6).normalize(),
                currency=run.currency,
                notebook=notebook,
                environment=environment,
                simulated=simulated,
                window=(run.started, run.ended or now),
                extra={
                    "tier_id": run.tier_id,
                    "user": run.user,
                    "notebook": run.notebook,
                    "status": "open" if run.is_open else "closed",
                    "rerun_id": rerun.id if rerun else None,
                    "output": rerun.output if rerun else run.notebook,
                },
            ),
            run,
        )
