"""REST handlers under /compute-panel/: thin, authenticated, authorized, strict about input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import posixpath
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .. import __version__
from ..domain.grants import GrantError, parse_grant, parse_member
from ..domain.money import MoneyError, format_amount, parse_amount
from ..ledger import RUN_SORTS, GrantView, LedgerError, RunFilter, iso, utcnow
from ..metering.idle import IdleCuller
from ..metering.service import MeteringService

API_VERSION = 1
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


class ApiError(web.HTTPError):
    """A refused request: status, one message, and the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(status, message.replace("%", "%%"))
        self.message = message
        self.field = field


class BaseHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = "compute_panel"

    @property
    def service(self) -> MeteringService:
        service = self.settings.get("compute_panel_service")
        if service is None:
            raise ApiError(503, f"Compute tiers are unavailable: {self.settings.get('compute_panel_error')}")
        return service

    @property
    def idle_culler(self) -> IdleCuller:
        idle = self.settings.get("compute_panel_idle")
        if idle is None:
            raise ApiError(503, f"Compute tiers are unavailable: {self.settings.get('compute_panel_error')}")
        return idle

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": exc.message, "field": exc.field}))
            return
        super().write_error(status_code, **kwargs)

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"null")
        except ValueError as e:
            raise ApiError(400, f"The request body is not valid JSON ({e})") from None
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object")
        return body

    def query(self, allowed: tuple[str, ...]) -> dict[str, str]:
        args = {}
        for name, values in self.request.query_arguments.items():
            if name not in allowed:
                raise ApiError(400, f"Unknown query parameter {name!r} (allowed: {', '.join(allowed)})", name)
            if len(values) != 1:
                raise ApiError(400, f"Query parameter {name!r} is given more than once", name)
            args[name] = values[0].decode("utf-8", "replace")
        return args

    def reply(self, payload: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))


def _notebook_path(value: Any, field: str = "path") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, f"{field} must be a notebook path relative to the server root", field)
    path = value.strip()
    if len(path) > 1024:
        raise ApiError(422, f"{field} is longer than 1024 characters", field)
    normal = posixpath.normpath(path)
    if path.startswith("/") or normal == ".." or normal.startswith("../"):
        raise ApiError(422, f"{field} must stay inside the server root, got {value!r}", field)
    return normal


def _parse(args: dict[str, str], name: str, parse: Callable[[str], Any], expected: str) -> Any:
    if name not in args:
        return None
    try:
        return parse(args[name])
    except (ValueError, OverflowError):  # OverflowError: an offset that leaves datetime's range
        raise ApiError(422, f"{name} must be {expected}, got {args[name]!r}", name) from None


def _instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError
        return value

    return parse


class VersionHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        service = self.settings.get("compute_panel_service")
        self.reply(
            {
                "version": __version__,
                "api": API_VERSION,
                "owner": service.owner if service else None,
                "admin": service.is_admin if service else False,
                "catalog_error": self.settings.get("compute_panel_error"),
            }
        )


class TiersHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.query(())
        service = self.service
        running = await service.db(service.ledger.running_by_tier)
        tiers = []
        for tier in service.catalog:
            tiers.append(
                {
                    "id": tier.id,
                    "label": tier.label,
                    "description": tier.description,
                    "hardware": tier.hardware.to_json(),
                    "price": tier.price_json(),
                    "free": tier.free,
                    "reliability": tier.reliability,
                    "simulated": tier.simulated,
                    "sensitive_data_allowed": tier.sensitive_data_allowed,
                    "idle_timeout_s": tier.idle_timeout_s,
                    "backend": {"provisioner": tier.backend.provisioner},
                    "kernelspecs": service.kernelspec_names.get(tier.id, {}),
                    "running": running.get(tier.id, 0),
                    # Nodes reachable and free (SSH tiers); None where there is nothing to check.
                    "availability": service.availability.get(tier.id) if service.availability else None,
                    # The last reading of the tier's price list; None for a price from the catalog.
                    "price_list": service.prices.status(tier.id) if service.prices else None,
                }
            )
        self.reply({"tiers": tiers})


async def _grants_json(service: MeteringService, grants: list) -> list[dict[str, Any]]:
    now = utcnow()
    spent = await service.db(service.ledger.grant_spend, [g.id for g in grants], now)
    return [{**g.to_json(spent[g.id], now.date()), "role": g.role_of(service.owner)} for g in grants]


class GrantsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = self.query(("active",))
        active = _parse(args, "active", _boolean, "true or false")
        service = self.service
        grants = [g for g in await service.db(service.ledger.list_grants) if service.may_see_grant(g)]
        if active is not None:
            today = utcnow().date()
            grants = [g for g in grants if g.active_on(today) == active]
        self.reply({"grants": await _grants_json(service, grants)})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Create a grant (admins): the whole grant, validated like an imported row."""
        body = self.json_body()
        service = self.service
        if not service.is_admin:
            raise ApiError(403, "Only an admin may create grants (ComputePanel.admins)")
        values = _grant_values(service, body)
        try:
            grant = await service.db(service.ledger.create_grant, values)
        except LedgerError as e:
            raise ApiError(409, str(e), "id") from None
        self.set_status(201)
        self.reply((await _grants_json(service, [grant]))[0])


# Fields a PI or an admin may change with PATCH; members and budget have their own routes too.
PATCHABLE = (
    "award_number",
    "title",
    "funder",
    "budget",
    "start_date",
    "end_date",
    "allowed_tiers",
    "sensitive",
    "alert_thresholds",
    "hard_stop",
    "min_runtime_minutes",
)


def _grant_values(service: MeteringService, data: dict[str, Any]) -> dict[str, Any]:
    """A grant from a request body, validated like an imported row: 422 naming the field."""
    for field in ("budget", "min_runtime_minutes"):
        if isinstance(data.get(field), float):
            raise ApiError(422, f'{field} must be a decimal string such as "2500.00", not a JSON number', field)
    try:
        values = parse_grant(data)
    except GrantError as e:
        raise ApiError(422, str(e), e.field) from None
    unknown = [t for t in values.get("allowed_tiers") or () if service.catalog.get(t) is None]
    if unknown:
        known = ", ".join(t.id for t in service.catalog)
        raise ApiError(
            422, f"allowed_tiers: {unknown[0]!r} is not a tier in the catalog (known: {known})", "allowed_tiers"
        )
    return values


def _grant_input(grant: GrantView) -> dict[str, Any]:
    """A stored grant in the shape ``parse_grant`` reads (members left out: kept as they are)."""
    return {
        "id": grant.id,
        "award_number": grant.award_number,
        "title": grant.title,
        "funder": grant.funder,
        "pi": grant.pi,
        "budget": format_amount(grant.budget_micros),
        "currency": grant.currency,
        "start_date": grant.start_date.isoformat(),
        "end_date": grant.end_date.isoformat(),
        "allowed_tiers": list(grant.allowed_tiers) if grant.allowed_tiers is not None else None,
        "sensitive": grant.sensitive,
        "alert_thresholds": list(grant.alert_thresholds),
        "hard_stop": grant.hard_stop,
        "min_runtime_minutes": str(Decimal(grant.min_runtime_s) / 60),
    }


def _boolean(text: str) -> bool:
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError


async def _visible_grant(service: MeteringService, grant_id: str) -> GrantView:
    """The grant, or 404 alike whether it does not exist or the user has no role on it."""
    grant = await service.db(service.ledger.get_grant, grant_id)
    if grant is None or not service.may_see_grant(grant):
        raise ApiError(404, f"No grant {grant_id!r}", "grant_id")
    return grant


async def _editable_grant(service: MeteringService, grant_id: str) -> GrantView:
    grant = await _visible_grant(service, grant_id)
    if not service.may_edit_grant(grant):
        raise ApiError(
            403, f"Only the PI of grant {grant.award_number} ({grant.pi}) or an admin may change it", "grant_id"
        )
    return grant


class GrantHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, grant_id: str) -> None:
        service = self.service
        grant = await _visible_grant(service, grant_id)
        self.reply((await _grants_json(service, [grant]))[0])

    @web.authenticated
    @authorized
    async def patch(self, grant_id: str) -> None:
        body = self.json_body()
        unknown = sorted(set(body) - set(PATCHABLE))
        if unknown:
            raise ApiError(
                400, f"{unknown[0]!r} cannot be changed here (changeable: {', '.join(PATCHABLE)})", unknown[0]
            )
        service = self.service
        grant = await _editable_grant(service, grant_id)
        values = _grant_values(service, _grant_input(grant) | body)
        try:
            grant = await service.db(service.ledger.upsert_grant, values)
        except LedgerError as e:
            raise ApiError(409, str(e)) from None
        self.reply((await _grants_json(service, [grant]))[0])


class GrantBudgetHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def put(self, grant_id: str) -> None:
        body = self.json_body()
        unknown = sorted(set(body) - {"budget"})
        if unknown:
            raise ApiError(400, f"{unknown[0]!r} is not a field here (known: budget)", unknown[0])
        if "budget" not in body:
            raise ApiError(400, "budget is required", "budget")
        if isinstance(body["budget"], float):
            raise ApiError(422, 'budget must be a decimal string such as "2500.00", not a JSON number', "budget")
        try:
            budget = parse_amount(body["budget"])
        except MoneyError as e:
            raise ApiError(422, f"budget {e}", "budget") from None
        service = self.service
        await _editable_grant(service, grant_id)
        grant = await service.db(service.ledger.set_budget, grant_id, budget)
        self.reply((await _grants_json(service, [grant]))[0])


class GrantMemberHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def put(self, grant_id: str, user: str) -> None:
        body = self.json_body()
        unknown = sorted(set(body) - {"role"})
        if unknown:
            raise ApiError(400, f"{unknown[0]!r} is not a field here (known: role)", unknown[0])
        try:
            user, role = parse_member({"user": user, "role": body.get("role", "member")})
        except GrantError as e:
            raise ApiError(422, str(e).removeprefix("members: "), "role" if "role" in str(e) else "user") from None
        service = self.service
        await _editable_grant(service, grant_id)
        try:
            grant = await service.db(service.ledger.set_member, grant_id, user, role)
        except LedgerError as e:
            raise ApiError(409, str(e), "role") from None
        self.reply((await _grants_json(service, [grant]))[0])

    @web.authenticated
    @authorized
    async def delete(self, grant_id: str, user: str) -> None:
        service = self.service
        await _editable_grant(service, grant_id)
        try:
            grant = await service.db(service.ledger.remove_member, grant_id, user)
        except LedgerError as e:
            raise ApiError(409, str(e), "user") from None
        self.reply((await _grants_json(service, [grant]))[0])


def _binding_json(path: str, row: Any) -> dict[str, Any]:
    return {
        "path": path,
        "grant_id": row.grant_id if row else None,
        "tier_id": row.tier_id if row else None,
        "updated": iso(row.updated_at) if row else None,
    }


class BindingsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = self.query(("path",))
        if "path" not in args:
            raise ApiError(400, "The query parameter 'path' is required", "path")
        path = _notebook_path(args["path"])
        service = self.service
        row = await service.db(service.ledger.get_binding, service.owner, path)
        self.reply(_binding_json(path, row))

    @web.authenticated
    @authorized
    async def put(self) -> None:
        body = self.json_body()
        unknown = sorted(set(body) - {"path", "grant_id", "tier_id"})
        if unknown:
            raise ApiError(400, f"{unknown[0]!r} is not a binding field (known: path, grant_id, tier_id)", unknown[0])
        if "grant_id" not in body:
            raise ApiError(400, "grant_id is required (null to forget the notebook's grant)", "grant_id")
        if "path" not in body:
            raise ApiError(400, "path is required (the notebook path relative to the server root)", "path")
        path = _notebook_path(body.get("path"))
        service = self.service
        grant_id = body["grant_id"]
        if grant_id is not None:
            if not isinstance(grant_id, str) or not grant_id:
                raise ApiError(422, "grant_id must be a grant id or null", "grant_id")
            grant = await _visible_grant(service, grant_id)
            if grant.role_of(service.owner) not in ("pi", "member"):
                raise ApiError(
                    403,
                    f"You can view grant {grant.award_number} but not charge it: ask its PI ({grant.pi}) to make you a member",
                    "grant_id",
                )
            if not grant.active_on(utcnow().date()):
                raise ApiError(
                    409,
                    f"Grant {grant.award_number} is not active today (it runs from {grant.start_date} to {grant.end_date})",
                    "grant_id",
                )
        tier_id = body.get("tier_id")
        if tier_id is not None and (not isinstance(tier_id, str) or service.catalog.get(tier_id) is None):
            raise ApiError(422, f"tier_id {tier_id!r} is not a tier in the catalog", "tier_id")
        row = await service.db(service.ledger.put_binding, service.owner, path, grant_id, tier_id)
        self.reply(_binding_json(path, row))


def run_filter(args: dict[str, str], **fixed: Any) -> RunFilter:
    """The runs table's filters from a query string (``fixed`` ones win)."""
    status = args.get("status")
    if status is not None and status not in ("open", "closed"):
        raise ApiError(422, f"status must be open or closed, got {status!r}", "status")
    q = args.get("q")
    if q is not None and len(q) > 200:
        raise ApiError(422, "q must be at most 200 characters", "q")
    values = dict(
        notebook=args.get("notebook"),
        tier=args.get("tier"),
        grant=args.get("grant"),
        user=args.get("user"),
        kernel=args.get("kernel"),
        status=status,
        end_reason=args.get("end_reason"),
        q=q.strip() or None if q is not None else None,
        since=_parse(args, "since", _instant, "an ISO 8601 date-time"),
        until=_parse(args, "until", _instant, "an ISO 8601 date-time"),
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
            raise ApiError(
                422, f"sort must be one of {', '.join(RUN_SORTS)}, with '-' first for descending, got {sort!r}", "sort"
            )
        limit = _parse(args, "limit", _bounded_int(1, 1000), "a whole number from 1 to 1000")
        offset = _parse(args, "offset", _bounded_int(0, 10**9), "a whole number of at least 0")
        service = self.service
        visible_user, visible_grants = await service.visibility()
        flt = dataclasses.replace(flt, visible_user=visible_user, visible_grants=visible_grants)
        now = utcnow()
        runs, count, totals = await service.db(service.ledger.list_runs, flt, limit or 100, offset or 0, now, sort)
        self.reply(
            {
                "runs": [r.to_json(now) for r in runs],
                "count": count,
                "totals": [{"amount": format_amount(v), "currency": c} for c, v in sorted(totals.items())],
                "server_time": iso(now),
            }
        )


async def _may_see_run(service: MeteringService, run: Any) -> bool:
    user, grants = await service.visibility()
    return user is None or run.user == user or run.grant_id in grants


class RunHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        service = self.service
        run = await service.db(service.ledger.get_run, run_id)
        if run is None or not await _may_see_run(service, run):
            raise ApiError(404, f"No run {run_id!r}", "run_id")
        self.reply(run.to_json(utcnow()))


class KernelRunHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, kernel_id: str) -> None:
        service = self.service
        run = await service.db(service.ledger.current_run_for_kernel, kernel_id)
        if run is None or not await _may_see_run(service, run):
            raise ApiError(404, f"Kernel {kernel_id!r} has no run: it was never started on a tier", "kernel_id")
        self.reply(run.to_json(utcnow()))


class KernelKeepHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, kernel_id: str) -> None:
        kept = self.idle_culler.keep(kernel_id)
        if kept is None:
            raise ApiError(
                404,
                f"Kernel {kernel_id!r} is not running on a paid tier with an idle timeout, so there is nothing to keep",
                "kernel_id",
            )
        self.reply(kept)


_ID = r"[^/]+"
default_handlers = [
    (r"/compute-panel/version", VersionHandler),
    (r"/compute-panel/tiers", TiersHandler),
    (r"/compute-panel/grants", GrantsHandler),
    (rf"/compute-panel/grants/({_ID})", GrantHandler),
    (rf"/compute-panel/grants/({_ID})/budget", GrantBudgetHandler),
    (rf"/compute-panel/grants/({_ID})/members/({_ID})", GrantMemberHandler),
    (r"/compute-panel/bindings", BindingsHandler),
    (r"/compute-panel/runs", RunsHandler),
    (rf"/compute-panel/runs/({_ID})", RunHandler),
    (rf"/compute-panel/kernels/({_ID})/run", KernelRunHandler),
    (rf"/compute-panel/kernels/({_ID})/keep", KernelKeepHandler),
]


# -- Budget alerts and the hard stop (issue 3) ---------------------------------------
class AlertsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.query(())
        service = self.service
        alerts = await service.db(service.ledger.alerts_for, service.owner)
        now = utcnow()
        self.reply(
            {
                "alerts": [a.to_json() for a in alerts],
                "countdowns": [c.to_json(now) for c in service.budget.countdowns(service.owner)],
                "stopped": [s.to_json() for s in service.budget.stops(service.owner)],
                "server_time": iso(now),
            }
        )


class AlertDeliveredHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, alert_id: str) -> None:
        service = self.service
        alert = await service.db(service.ledger.mark_alert_delivered, alert_id, service.owner)
        if alert is None:
            raise ApiError(404, f"No alert {alert_id!r} for {service.owner}", "alert_id")
        self.reply(alert.to_json())


default_handlers += [
    (r"/compute-panel/alerts", AlertsHandler),
    (rf"/compute-panel/alerts/({_ID})/delivered", AlertDeliveredHandler),
]


# -- run environments (issue 4): GET /compute-panel/runs/{id}/environment ----------------


class RunEnvironmentHandler(BaseHandler):
    """A run's environment fingerprint; visible to whoever may see the run."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.query(())
        service = self.service
        run = await service.db(service.ledger.get_run, run_id)
        if run is None or not await _may_see_run(service, run):
            raise ApiError(404, f"No run {run_id!r}", "run_id")
        environment = await service.db(service.ledger.get_environment, run_id)
        if environment is None:
            capture = service.environment
            if capture is not None and capture.in_progress(run_id):
                why = "it is being captured; ask again in a few seconds"
            elif capture is None:
                why = "environment capture is off on this server (ComputePanel.capture_environment)"
            else:
                why = "none was captured (the kernel was not started by this server, or stopped first)"
            raise ApiError(404, f"Run {run_id!r} has no environment fingerprint yet: {why}", "run_id")
        self.reply(environment.to_json())


default_handlers.append((rf"/compute-panel/runs/({_ID})/environment", RunEnvironmentHandler))
