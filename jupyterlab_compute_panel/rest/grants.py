"""Grants, their budgets and members, and each notebook's grant (``/compute-panel/grants``,
``/compute-panel/bindings``)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..domain.money import MoneyError, parse_amount
from ..errors import BadRequest, Invalid
from ..metering.grant_api import PATCHABLE
from .base import BaseHandler, arg, boolean, decimal_strings, notebook_path, parse_arg

# The JSON type of each grant field as openapi.yaml declares it (GrantInput). A grant file
# may say "yes" or "a;b" (domain/grants.py reads both); the API takes only its own types.
_TEXT, _FLAG, _TEXTS, _WHOLES, _MEMBERS = (
    "a string",
    "true or false",
    "a list of strings",
    "a list of whole numbers",
    "a list of members",
)
GRANT_TYPES = {
    **dict.fromkeys(("id", "award_number", "title", "funder", "pi", "currency", "start_date", "end_date"), _TEXT),
    **dict.fromkeys(("sensitive", "hard_stop"), _FLAG),
    **dict.fromkeys(("co_pis", "allowed_tiers"), _TEXTS),
    "alert_thresholds": _WHOLES,
    "members": _MEMBERS,
}
_IS = {
    _TEXT: lambda v: isinstance(v, str),
    _FLAG: lambda v: isinstance(v, bool),
    _TEXTS: lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    _WHOLES: lambda v: isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v),
    _MEMBERS: lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
}


def grant_types(body: dict) -> None:
    """422 naming the first field whose JSON type is not the spec's (null only for allowed_tiers)."""
    decimal_strings(body, "budget", "min_runtime_minutes")
    for field, value in body.items():
        kind = GRANT_TYPES.get(field)
        if kind is None or (value is None and field == "allowed_tiers") or _IS[kind](value):
            continue
        raise Invalid(f"{field} must be {kind}, got {value!r}", field)


def stop_kernels_flag(body: dict) -> bool:
    """The request's ``stop_kernels`` (taken out of ``body``): true when the client has shown
    which running kernels the edit stops and the user saves it anyway."""
    value = body.pop("stop_kernels", False)
    if not isinstance(value, bool):
        raise Invalid(f"stop_kernels must be true or false, got {value!r}", "stop_kernels")
    return value


class GrantsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = self.query(("active",))
        active = parse_arg(args, "active", boolean, "true or false")
        service = self.service
        self.reply({"grants": await service.grants_json(await service.visible_grants(active))})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Create a grant (admins): the whole grant, validated like an imported row."""
        body = self.json_body()
        grant_types(body)
        service = self.service
        grant = await service.create_grant(body)
        self.set_status(201)
        self.reply(await service.grant_json(grant))


class GrantHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, grant_id: str) -> None:
        service = self.service
        self.reply(await service.grant_json(await service.visible_grant(grant_id)))

    @web.authenticated
    @authorized
    async def patch(self, grant_id: str) -> None:
        body = self.json_body()
        stop_kernels = stop_kernels_flag(body)
        unknown = sorted(set(body) - set(PATCHABLE))
        if unknown:
            raise BadRequest(f"{unknown[0]!r} cannot be changed here (changeable: {', '.join(PATCHABLE)})", unknown[0])
        grant_types(body)
        service = self.service
        self.reply(await service.grant_json(await service.update_grant(grant_id, body, stop_kernels)))


class GrantBudgetHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def put(self, grant_id: str) -> None:
        body = self.json_body()
        self.fields(body, ("budget", "stop_kernels"))
        stop_kernels = stop_kernels_flag(body)
        if "budget" not in body:
            raise BadRequest("budget is required", "budget")
        decimal_strings(body, "budget")
        try:
            budget = parse_amount(body["budget"])
        except MoneyError as e:
            raise Invalid(f"The budget {e}", "budget") from None
        service = self.service
        self.reply(await service.grant_json(await service.set_budget(grant_id, budget, stop_kernels)))


class GrantStopsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, grant_id: str) -> None:
        """The running kernels an edit of the budget or the hard stop would stop (a dry run)."""
        args = self.query(("budget", "hard_stop"))
        budget = None
        if "budget" in args:
            try:
                budget = parse_amount(args["budget"])
            except MoneyError as e:
                raise Invalid(f"budget {e}", "budget") from None
        hard_stop = parse_arg(args, "hard_stop", boolean, "true or false")
        self.reply(await self.service.edit_stops(grant_id, budget, hard_stop))


class GrantMemberHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def put(self, grant_id: str, user: str) -> None:
        body = self.json_body(optional=True)
        self.fields(body, ("role",))
        service = self.service
        grant = await service.set_member(grant_id, user, body.get("role", "member"))
        self.reply(await service.grant_json(grant))

    @web.authenticated
    @authorized
    async def delete(self, grant_id: str, user: str) -> None:
        service = self.service
        self.reply(await service.grant_json(await service.remove_member(grant_id, user)))


class BindingsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = self.query(("path",))
        if "path" not in args:
            raise BadRequest("The query parameter 'path' is required", "path")
        self.reply(await self.service.binding(notebook_path(args["path"])))

    @web.authenticated
    @authorized
    async def put(self) -> None:
        body = self.json_body()
        self.fields(body, ("path", "grant_id", "tier_id"), "a binding field")
        if "grant_id" not in body:
            raise BadRequest("grant_id is required (null to forget the notebook's grant)", "grant_id")
        if "path" not in body:
            raise BadRequest("path is required (the notebook path relative to the server root)", "path")
        path = notebook_path(body.get("path"))
        grant_id = body["grant_id"]
        if grant_id is not None and (not isinstance(grant_id, str) or not grant_id):
            raise Invalid("grant_id must be a grant id or null", "grant_id")
        tier_id = body.get("tier_id")
        if tier_id is not None and (not isinstance(tier_id, str) or not tier_id):
            raise Invalid("tier_id must be a tier id or null", "tier_id")
        self.reply(await self.service.bind(path, grant_id, tier_id))


handlers = [
    (r"/compute-panel/grants", GrantsHandler),
    (rf"/compute-panel/grants/{arg('grant_id')}", GrantHandler),
    (rf"/compute-panel/grants/{arg('grant_id')}/budget", GrantBudgetHandler),
    (rf"/compute-panel/grants/{arg('grant_id')}/stops", GrantStopsHandler),
    (rf"/compute-panel/grants/{arg('grant_id')}/members/{arg('user')}", GrantMemberHandler),
    (r"/compute-panel/bindings", BindingsHandler),
]
