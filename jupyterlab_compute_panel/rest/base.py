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

from ..domain.money import MoneyError, parse_amount
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


# The largest body any route takes is a grant (a few KB); notebooks never travel here.
MAX_BODY_BYTES = 256 * 1024
# How deep a body's objects and lists may nest (a grant's is 2).
MAX_DEPTH = 16


def arg(name: str) -> str:
    """A route's path segment, passed to the handler as the keyword ``name`` (which the
    400 for a segment that is not plain text names)."""
    return rf"(?P<{name}>[^/]+)"


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
    def allowed_methods(self) -> list[str]:
        """The methods this route has: those its class defines, and OPTIONS (CORS)."""
        return [
            m
            for m in self.SUPPORTED_METHODS
            if getattr(type(self), m.lower()) is not getattr(web.RequestHandler, m.lower())
        ]

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
        if status_code == 405:
            # RFC 9110: a 405 lists the methods the resource has.
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ComputePanelError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": exc.message, "field": exc.field}))
            return
        super().write_error(status_code, **kwargs)

    # -- reading requests ----------------------------------------------------------
    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        """A path segment as text: 400 naming it when it is not UTF-8 or holds a NUL."""
        what = name or "A path segment"
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"{what} is not valid UTF-8", name) from None
        if "\0" in text:
            raise BadRequest(f"{what} holds a NUL character", name)
        return text

    def json_body(self, optional: bool = False) -> dict[str, Any]:
        """The body as a JSON object (``{}`` for an empty ``optional`` one): 413 when too
        large, 400 when not JSON, nested too deeply or holding text that no database can
        store; nothing else reaches a route."""
        if optional and not self.request.body:
            return {}
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
            try:
                text = values[0].decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest(f"Query parameter {name!r} is not valid UTF-8", name) from None
            if "\0" in text:
                raise BadRequest(f"Query parameter {name!r} holds a NUL character", name)
            args[name] = text
        return args

    def reply(self, payload: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))


# -- values ---------------------------------------------------------------------------
def _not_storable(text: str) -> str | None:
    """Why no database can store the text, or None. JSON may escape half of a UTF-16 pair
    ("\\ud800"), which Python keeps; and PostgreSQL stores no NUL ("\\u0000") in text."""
    if "\0" in text:
        return "holds a NUL character"
    if any("\ud800" <= c <= "\udfff" for c in text):
        return "is not valid Unicode (it holds a lone surrogate)"
    return None


def check_plain(body: Any) -> None:
    """400 for a body nested more than MAX_DEPTH levels, or with a key or a string that no
    database can store (a lone surrogate, a NUL), naming the field where it is."""

    def field(where: str) -> str | None:
        return re.split(r"[.\[]", where)[0] or None

    stack: list[tuple[Any, str, int]] = [(body, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"The request body is nested more than {MAX_DEPTH} levels deep", field(where))
        if isinstance(value, str):
            problem = _not_storable(value)
            if problem:
                raise BadRequest(f"{where or 'The body'} {problem}", field(where))
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = _not_storable(key)
                if problem:
                    raise BadRequest(f"A field name in the request body {problem}")
                stack.append((item, f"{where}.{key}" if where else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


def notebook_path(value: Any, field: str = "path") -> str:
    """A notebook path as the contents manager names it: relative to the server root, at most
    1024 characters, without a '..' segment (the spec's pattern says the same); normalised
    ("a//./b" is "a/b")."""
    if not isinstance(value, str) or not value:
        raise Invalid(f"{field} must be a notebook path relative to the server root", field)
    if len(value) > 1024:
        raise Invalid(f"{field} is longer than 1024 characters", field)
    if value.startswith("/") or ".." in value.split("/"):
        raise Invalid(f"{field} must stay inside the server root (no '..' segment), got {value!r}", field)
    return posixpath.normpath(value)


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


# A decimal string as the API takes it (openapi.yaml says the same): digits, at most 6 after
# the point, below 10^12. Grant files may be looser; the API is exact.
DECIMAL = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?")


def decimal_strings(body: dict[str, Any], *fields: str) -> None:
    """Money and minutes are decimal strings such as "2500.00": a JSON number (a binary
    float, or an int the contract does not promise) or any other spelling is refused,
    with what is wrong with the amount where it says more than its spelling."""
    for field in fields:
        value = body.get(field)
        if field not in body or (isinstance(value, str) and DECIMAL.fullmatch(value)):
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise Invalid(f'{field} must be a decimal string such as "2500.00", not a JSON number', field)
        try:
            parse_amount(value)
        except MoneyError as e:
            raise Invalid(f"{field}: {e}", field) from None
        raise Invalid(f'{field} must be written with digits and a point only, such as "2500.00", got {value!r}', field)
