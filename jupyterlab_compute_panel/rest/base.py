"""The base of every REST handler under /compute-panel/: authentication, one error
translator, and strict reading of bodies and query strings.

Handlers are thin: they read the request, call one method of the metering service and
write its answer. The core's errors (``errors.py``) become HTTP statuses here and only
here, each answered as JSON ``{"message": ..., "field": ...}``.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
import sys
from collections.abc import Callable
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..errors import BadRequest, ComputePanelError, Conflict, Forbidden, Invalid, NotFound, TooLarge, Unavailable
from ..metering.service import MeteringService

STATUS: dict[type[ComputePanelError], int] = {
    BadRequest: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    TooLarge: 413,
    Unavailable: 503,
}
ID = r"[^/]+"
# The largest body any route takes is a grant (a few KB); notebooks never travel here.
MAX_BODY_BYTES = 256 * 1024
# How deep a body's objects and lists may nest (a grant's is 2).
MAX_DEPTH = 16


def status_of(error: ComputePanelError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


class BaseHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = "compute_panel"

    @property
    def service(self) -> MeteringService:
        service = self.settings.get("compute_panel_service")
        if service is None:
            raise Unavailable(f"Compute tiers are unavailable: {self.settings.get('compute_panel_error')}")
        return service

    # -- the one error translator --------------------------------------------------
    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, ComputePanelError) and not isinstance(e, web.HTTPError):
            if self._finished:
                return
            # A kind of refusal (errors.py), or one that names its status (a re-run's).
            status = getattr(e, "status", None) or status_of(e)
            self.log.debug("compute-panel: %d %s: %s", status, self.request.uri, e.message)
            self.send_error(status, exc_info=sys.exc_info())
            return
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ComputePanelError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": exc.message, "field": exc.field}))
            return
        super().write_error(status_code, **kwargs)

    # -- reading requests ----------------------------------------------------------
    def json_body(self) -> dict[str, Any]:
        """The body as a JSON object: 413 when too large, 400 when not JSON, nested too
        deeply or holding text that is not valid Unicode; nothing else reaches a route."""
        raw = self.request.body or b"null"
        if len(raw) > MAX_BODY_BYTES:
            raise TooLarge(f"The request body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted")
        try:
            body = json.loads(raw)
        except RecursionError:
            raise BadRequest(f"The request body is nested more than {MAX_DEPTH} levels deep") from None
        except ValueError as e:
            raise BadRequest(f"The request body is not valid JSON ({e})") from None
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object")
        check_plain(body)
        return body

    def fields(self, body: dict[str, Any], known: tuple[str, ...], what: str = "a field here") -> None:
        """400 naming the first field of ``body`` that is not in ``known``."""
        unknown = sorted(set(body) - set(known))
        if unknown:
            raise BadRequest(f"{unknown[0]!r} is not {what} (known: {', '.join(known)})", unknown[0])

    def query(self, allowed: tuple[str, ...]) -> dict[str, str]:
        args = {}
        for name, values in self.request.query_arguments.items():
            if name not in allowed:
                raise BadRequest(f"Unknown query parameter {name!r} (allowed: {', '.join(allowed)})", name)
            if len(values) != 1:
                raise BadRequest(f"Query parameter {name!r} is given more than once", name)
            args[name] = values[0].decode("utf-8", "replace")
        return args

    def reply(self, payload: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))


# -- values ---------------------------------------------------------------------------
def _has_surrogate(text: str) -> bool:
    # JSON may escape half of a UTF-16 pair ("\\ud800"): Python keeps it, no database can store it.
    return any("\ud800" <= c <= "\udfff" for c in text)


def check_plain(body: Any) -> None:
    """400 for a body nested more than MAX_DEPTH levels, or with a key or a string that is
    not valid Unicode (a lone surrogate), naming the field where it is."""

    def field(where: str) -> str | None:
        return re.split(r"[.\[]", where)[0] or None

    stack: list[tuple[Any, str, int]] = [(body, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"The request body is nested more than {MAX_DEPTH} levels deep", field(where))
        if isinstance(value, str):
            if _has_surrogate(value):
                raise BadRequest(
                    f"{where or 'The body'} is not valid Unicode (it holds a lone surrogate)",
                    field(where),
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                if _has_surrogate(key):
                    raise BadRequest(
                        "A field name in the request body is not valid Unicode (it holds a lone surrogate)"
                    )
                stack.append((item, f"{where}.{key}" if where else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


def notebook_path(value: Any, field: str = "path") -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{field} must be a notebook path relative to the server root", field)
    path = value.strip()
    if len(path) > 1024:
        raise Invalid(f"{field} is longer than 1024 characters", field)
    normal = posixpath.normpath(path)
    if path.startswith("/") or normal == ".." or normal.startswith("../"):
        raise Invalid(f"{field} must stay inside the server root, got {value!r}", field)
    return normal


def parse_arg(args: dict[str, str], name: str, parse: Callable[[str], Any], expected: str) -> Any:
    if name not in args:
        return None
    try:
        return parse(args[name])
    except (ValueError, OverflowError):  # OverflowError: an offset that leaves datetime's range
        raise Invalid(f"{name} must be {expected}, got {args[name]!r}", name) from None


def instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError
        return value

    return parse


def boolean(text: str) -> bool:
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError


def no_json_number(body: dict[str, Any], *fields: str) -> None:
    """Money and minutes are decimal strings: a JSON number would be a binary float."""
    for field in fields:
        if isinstance(body.get(field), float):
            raise Invalid(f'{field} must be a decimal string such as "2500.00", not a JSON number', field)
