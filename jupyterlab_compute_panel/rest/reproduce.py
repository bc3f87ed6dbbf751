"""REST handlers for reproduction: re-run a notebook on a tier, follow or cancel it, compare runs."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import nbformat
from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from tornado import web

from ..domain.compare import RunInput, compare_runs
from ..ledger import get_rerun, list_reruns, rerun_for_run, utcnow
from ..metering.reruns import METADATA_KEY, RerunError, RerunManager
from .handlers import ApiError, BaseHandler, _may_see_run, _notebook_path, _parse

MAX_COMPARE = 6


class RerunBase(BaseHandler):
    @property
    def reruns(self) -> RerunManager:
        manager = self.settings.get("compute_panel_reruns")
        if manager is None:
            raise ApiError(503, f"Compute tiers are unavailable: {self.settings.get('compute_panel_error')}")
        return manager

    async def visible_rerun(self, rerun_id: str):
        service = self.service
        rerun = await service.db(get_rerun, service.ledger, rerun_id)
        if rerun is None or not (service.is_admin or rerun.user == service.owner):
            raise ApiError(404, f"No re-run {rerun_id!r}", "rerun_id")
        return rerun


class RerunsHandler(RerunBase):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = self.query(("path",))
        service = self.service
        path = _notebook_path(args["path"]) if "path" in args else None
        user = None if service.is_admin else service.owner
        found = await service.db(list_reruns, service.ledger, user, path)
        self.reply({"reruns": [self.reruns.progress(r) for r in found]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        known = ("path", "tier_id", "grant_id", "time_limit_s", "source_run_id")
        unknown = sorted(set(body) - set(known))
        if unknown:
            raise ApiError(400, f"{unknown[0]!r} is not a field here (known: {', '.join(known)})", unknown[0])
        path = _notebook_path(body.get("path"))
        if not path.endswith(".ipynb"):
            raise ApiError(422, f"path must name a notebook (.ipynb), got {path!r}", "path")
        tier_id = body.get("tier_id")
        if not isinstance(tier_id, str) or not tier_id:
            raise ApiError(422, "tier_id is required: the id of the tier to re-run on", "tier_id")
        grant_id = body.get("grant_id")
        if grant_id is not None and (not isinstance(grant_id, str) or not grant_id):
            raise ApiError(422, "grant_id must be a grant id or null", "grant_id")
        limit = body.get("time_limit_s")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ApiError(422, f"time_limit_s must be a whole number of seconds, got {limit!r}", "time_limit_s")
        source_run = body.get("source_run_id")
        service = self.service
        if source_run is not None:
            run = await service.db(service.ledger.get_run, source_run) if isinstance(source_run, str) else None
            if run is None or not await _may_see_run(service, run):
                raise ApiError(422, f"source_run_id {source_run!r} is not a run you can see", "source_run_id")
        if grant_id is None:
            binding = await service.db(service.ledger.get_binding, service.owner, path)
            grant_id = binding.grant_id if binding else None
        try:
            rerun = await self.reruns.start(path, tier_id, grant_id, limit, source_run)
        except RerunError as e:
            raise ApiError(e.status, e.message, e.field) from None
        self.set_status(201)
        self.reply(self.reruns.progress(rerun))


class RerunHandler(RerunBase):
    @web.authenticated
    @authorized
    async def get(self, rerun_id: str) -> None:
        rerun = await self.visible_rerun(rerun_id)
        self.reply(self.reruns.progress(rerun))

    @web.authenticated
    @authorized
    async def delete(self, rerun_id: str) -> None:
        """Cancel a running re-run: its kernel stops now; what ran is kept in its copy."""
        rerun = await self.visible_rerun(rerun_id)
        if rerun.ended is not None:
            raise ApiError(409, f"The re-run already ended ({rerun.status}), so there is nothing to cancel")
        if not await self.reruns.cancel(rerun_id):
            raise ApiError(409, "The re-run is not running on this server, so it cannot be cancelled here")
        service = self.service
        self.reply(self.reruns.progress(await service.db(get_rerun, service.ledger, rerun_id)))


# -- compare ---------------------------------------------------------------------------------------


async def _read_notebook(manager: RerunManager, path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    try:
        model = await ensure_async(manager.contents_manager.get(path, content=True, type="notebook"))
    except Exception:  # noqa: BLE001 - a copy deleted or unreadable: its outputs are unknown
        return None
    return nbformat.from_dict(model["content"])


async def _run_input(handler: RerunBase, run_id: str, now) -> tuple[RunInput, Any]:
    service = handler.service
    run = await service.db(service.ledger.get_run, run_id)
    if run is None or not await _may_see_run(service, run):
        raise ApiError(404, f"No run {run_id!r}", "runs")
    rerun = await service.db(rerun_for_run, service.ledger, run.id)
    notebook = None
    if rerun is not None:
        notebook = await _read_notebook(handler.reruns, rerun.output)
    elif run.notebook:
        # An interactive run: the saved notebook holds its outputs only if its provenance says so.
        saved = await _read_notebook(handler.reruns, run.notebook)
        provenance = ((saved or {}).get("metadata", {}).get(METADATA_KEY) or {}).get("provenance") or {}
        notebook = saved if provenance.get("run_id") == run.id else None
    get_environment = getattr(service.ledger, "get_environment", None)
    environment = await service.db(get_environment, run.id) if get_environment else None
    if environment is not None and hasattr(environment, "fingerprint"):
        environment = environment.fingerprint
    return (
        RunInput(
            id=run.id,
            label=run.tier_label,
            duration_s=Decimal(run.duration_ms(now)) / 1000,
            cost=Decimal(run.cost_micros(now)).scaleb(-6).normalize(),
            currency=run.currency,
            notebook=notebook,
            environment=environment,
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


def _rtol(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError
    return value


class CompareHandler(RerunBase):
    """``GET /compute-panel/compare?runs=a,b[,c...]&rtol=1e-3``: the first run is the baseline."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = self.query(("runs", "rtol"))
        ids = [r.strip() for r in args.get("runs", "").split(",") if r.strip()]
        if not 2 <= len(ids) <= MAX_COMPARE or len(set(ids)) != len(ids):
            raise ApiError(422, f"runs must list 2 to {MAX_COMPARE} different run ids, separated by commas", "runs")
        rtol = _parse(args, "rtol", _rtol, "a relative tolerance from 0 to 1, such as 1e-3")
        now = utcnow()
        inputs = [await _run_input(self, run_id, now) for run_id in ids]
        notebooks = {run.notebook for _, run in inputs}
        if len(notebooks) > 1:
            raise ApiError(
                422,
                "runs must be runs of one notebook; these ran "
                + ", ".join(sorted(repr(n) if n else "no notebook" for n in notebooks)),
                "runs",
            )
        # Comparing 200-cell notebooks is CPU work: off the event loop.
        result = await asyncio.get_running_loop().run_in_executor(
            None, lambda: compare_runs([i for i, _ in inputs], rtol if rtol is not None else 1e-3)
        )
        self.reply(result)


_ID = r"[^/]+"
reproduce_handlers = [
    (r"/compute-panel/reruns", RerunsHandler),
    (rf"/compute-panel/reruns/({_ID})", RerunHandler),
    (r"/compute-panel/compare", CompareHandler),
]
