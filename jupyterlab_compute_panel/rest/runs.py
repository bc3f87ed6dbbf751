"""Runs, their environments, and a kernel's run (``/compute-panel/runs``,
``/compute-panel/kernels/{id}/...``), and the budget alerts (``/compute-panel/alerts``)."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import Invalid
from ..ledger import RUN_SORTS, RunFilter, utcnow
from .base import BaseHandler, arg, bounded_int, instant, parse_arg

RUN_QUERY = (
    "notebook",
    "tier",
    "grant",
    "user",
    "kernel",
    "status",
    "end_reason",
    "q",
    "since",
    "until",
    "sort",
    "limit",
    "offset",
)


def run_filter(args: dict[str, str], **fixed: Any) -> RunFilter:
    """The runs table's filters from a query string (``fixed`` ones win)."""
    status = args.get("status")
    if status is not None and status not in ("open", "closed"):
        raise Invalid(f"status must be open or closed, got {status!r}", "status")
    q = args.get("q")
    if q is not None and len(q) > 200:
        raise Invalid("q must be at most 200 characters", "q")
    values = dict(
        notebook=args.get("notebook"),
        tier=args.get("tier"),
        grant=args.get("grant"),
        user=args.get("user"),
        kernel=args.get("kernel"),
        status=status,
        end_reason=args.get("end_reason"),
        q=q.strip() or None if q is not None else None,
        since=parse_arg(args, "since", instant, "an ISO 8601 date-time"),
        until=parse_arg(args, "until", instant, "an ISO 8601 date-time"),
    )
    return RunFilter(**(values | fixed))


class RunsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = self.query(RUN_QUERY)
        flt = run_filter(args)
        sort = args.get("sort", "-started")
        if sort.removeprefix("-") not in RUN_SORTS:
            raise Invalid(
                f"sort must be one of {', '.join(RUN_SORTS)}, with '-' first for descending, got {sort!r}", "sort"
            )
        limit = parse_arg(args, "limit", bounded_int(1, 1000), "a whole number from 1 to 1000")
        offset = parse_arg(args, "offset", bounded_int(0, 10**9), "a whole number of at least 0")
        self.reply(await self.service.list_runs(flt, limit or 100, offset or 0, sort))


class RunHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.reply((await self.service.visible_run(run_id)).to_json(utcnow()))


class RunEnvironmentHandler(BaseHandler):
    """A run's environment fingerprint; visible to whoever may see the run."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.query(())
        self.reply(await self.service.environment_of(run_id))


class KernelRunHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, kernel_id: str) -> None:
        self.reply((await self.service.run_of_kernel(kernel_id)).to_json(utcnow()))


class KernelKeepHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, kernel_id: str) -> None:
        self.reply(self.service.keep_kernel(kernel_id))


class KernelRefusalHandler(BaseHandler):
    """Why the user's last restart of this kernel was refused (JupyterLab keeps the answer)."""

    @web.authenticated
    @authorized
    async def get(self, kernel_id: str) -> None:
        self.query(())
        self.reply(self.service.restart_refusal(kernel_id))


class AlertsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.query(())
        self.reply(await self.service.alerts_json())


class AlertDeliveredHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, alert_id: str) -> None:
        self.reply(await self.service.mark_alert_delivered(alert_id))


handlers = [
    (r"/compute-panel/runs", RunsHandler),
    (rf"/compute-panel/runs/{arg('run_id')}", RunHandler),
    (rf"/compute-panel/runs/{arg('run_id')}/environment", RunEnvironmentHandler),
    (rf"/compute-panel/kernels/{arg('kernel_id')}/run", KernelRunHandler),
    (rf"/compute-panel/kernels/{arg('kernel_id')}/keep", KernelKeepHandler),
    (rf"/compute-panel/kernels/{arg('kernel_id')}/refusal", KernelRefusalHandler),
    (r"/compute-panel/alerts", AlertsHandler),
    (rf"/compute-panel/alerts/{arg('alert_id')}/delivered", AlertDeliveredHandler),
]
