"""Reproduction: re-run a notebook on a tier, follow or cancel it, compare runs
(``/compute-panel/reruns``, ``/compute-panel/compare``)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import Invalid
from .base import BaseHandler, arg, notebook_path, parse_arg

RERUN_FIELDS = ("path", "tier_id", "grant_id", "time_limit_s", "source_run_id")


class RerunsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = self.query(("path",))
        path = notebook_path(args["path"]) if "path" in args else None
        self.reply({"reruns": await self.service.reruns_json(path)})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        self.fields(body, RERUN_FIELDS)
        path = notebook_path(body.get("path"))
        if not path.endswith(".ipynb"):
            raise Invalid(f"path must name a notebook (.ipynb), got {path!r}", "path")
        tier_id = body.get("tier_id")
        if not isinstance(tier_id, str) or not tier_id:
            raise Invalid("tier_id is required: the id of the tier to re-run on", "tier_id")
        grant_id = body.get("grant_id")
        if grant_id is not None and (not isinstance(grant_id, str) or not grant_id):
            raise Invalid("grant_id must be a grant id or null", "grant_id")
        limit = body.get("time_limit_s")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise Invalid(f"The time limit must be a whole number of seconds, got {limit!r}", "time_limit_s")
        source = body.get("source_run_id")
        if source is not None and (not isinstance(source, str) or not source):
            raise Invalid("source_run_id must be a run id or null", "source_run_id")
        progress = await self.service.start_rerun(path, tier_id, grant_id, limit, source)
        self.set_status(201)
        self.reply(progress)


class RerunHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, rerun_id: str) -> None:
        self.reply(await self.service.rerun_json(rerun_id))

    @web.authenticated
    @authorized
    async def delete(self, rerun_id: str) -> None:
        """Cancel a running re-run: its kernel stops now; what ran is kept in its copy."""
        self.reply(await self.service.cancel_rerun(rerun_id))


def _rtol(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError
    return value


class CompareHandler(BaseHandler):
    """``GET /compute-panel/compare?runs=a,b[,c...]&rtol=1e-3``: the first run is the baseline."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = self.query(("runs", "rtol"))
        ids = args["runs"].split(",") if "runs" in args else []
        rtol = parse_arg(args, "rtol", _rtol, "a relative tolerance from 0 to 1, such as 1e-3")
        self.reply(await self.service.compare(ids, rtol if rtol is not None else 1e-3))


handlers = [
    (r"/compute-panel/reruns", RerunsHandler),
    (rf"/compute-panel/reruns/{arg('rerun_id')}", RerunHandler),
    (r"/compute-panel/compare", CompareHandler),
]
