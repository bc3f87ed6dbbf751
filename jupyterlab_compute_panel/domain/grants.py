"""Grant records: validation shared by the CLI, file imports and the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from .money import MoneyError, parse_amount, parse_currency

GRANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
REQUIRED_FIELDS = ("id", "award_number", "title", "funder", "pi", "budget", "currency", "start_date", "end_date")
POLICY_FIELDS = (
    "co_pis",
    "members",
    "allowed_tiers",
    "sensitive",
    "alert_thresholds",
    "hard_stop",
    "min_runtime_minutes",
)
GRANT_FIELDS = REQUIRED_FIELDS + POLICY_FIELDS
ROLES = ("pi", "member", "viewer")
# No whitespace, ':', ';' or ','; the byte order mark counts as whitespace, as in the API's
# pattern (openapi.yaml UserName, whose ECMAScript \s has it and lacks \x1c-\x1f and \x85).
USER = re.compile(r"^[^\s:;,\ufeff]{1,200}$")
DEFAULT_THRESHOLDS = (50, 80, 100)
DEFAULT_MIN_RUNTIME_MINUTES = 15


# What the forms call each field: messages speak of these, never of the field ids (which
# ``GrantError.field`` carries for the forms, and which a file import names beside the line).
FIELD_LABELS = {
    "id": "The grant id",
    "award_number": "The award number",
    "title": "The title",
    "funder": "The funder",
    "pi": "The PI",
    "budget": "The budget",
    "currency": "The currency",
    "start_date": "The start date",
    "end_date": "The end date",
    "co_pis": "The co-PIs",
    "members": "The members",
    "allowed_tiers": "The allowed tiers",
    "sensitive": "Sensitive data",
    "alert_thresholds": "The alert thresholds",
    "hard_stop": "Hard stop",
    "min_runtime_minutes": "The minimum runtime",
}


def label(field: str) -> str:
    """The field as the forms name it ('The end date'); a field not in the list as given."""
    return FIELD_LABELS.get(field, field)


class GrantError(ValueError):
    """An invalid grant, in users' words; ``field`` names the field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise GrantError(f"{label(field)} must be a date such as 2026-01-31, got {value!r}", field)


def parse_grant(data: Any) -> dict[str, Any]:
    """Validate one grant; returns the column values for the ledger."""
    if not isinstance(data, Mapping):
        raise GrantError(f"a grant must be an object of fields, got {type(data).__name__}")
    unknown = sorted(set(data) - set(GRANT_FIELDS))
    if unknown:
        raise GrantError(f"{unknown[0]!r} is not a grant field (known: {', '.join(GRANT_FIELDS)})", unknown[0])
    out: dict[str, Any] = {}
    for field in ("id", "award_number", "title", "funder", "pi"):
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            raise GrantError(f"{label(field)} is required", field)
        if not is_unicode(value):
            raise GrantError(f"{label(field)} is not valid Unicode (it holds a lone surrogate)", field)
        if field in TEXT_LIMITS and len(value.strip()) > TEXT_LIMITS[field]:
            raise GrantError(f"{label(field)} is longer than {TEXT_LIMITS[field]} characters", field)
        out[field] = value.strip()
    if not GRANT_ID.match(out["id"]):
        raise GrantError("The grant id must be 1 to 64 letters, digits, '.', '_' or '-'", "id")
    try:
        out["budget_micros"] = parse_amount(data.get("budget"))
    except MoneyError as e:
        raise GrantError(f"The budget {e}", "budget") from None
    try:
        out["currency"] = parse_currency(data.get("currency"))
    except MoneyError as e:
        raise GrantError(f"The currency {e}", "currency") from None
    out["start_date"] = _date(data.get("start_date"), "start_date")
    out["end_date"] = _date(data.get("end_date"), "end_date")
    if out["end_date"] < out["start_date"]:
        raise GrantError("The end date must not be before the start date", "end_date")
    out.update(parse_policies(data))
    if not USER.match(out["pi"]):
        raise GrantError("The PI must be a user name without spaces, ':', ';' or ','", "pi")
    return out


def _present(data: Mapping, field: str) -> bool:
    value = data.get(field)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _items(value: Any, field: str) -> list[str]:
    """A list given as a JSON list or as 'a;b;c' (CSV)."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(";") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value]
    raise GrantError(f"{label(field)} must be a list of names (in CSV: separated by ';'), got {value!r}", field)


def _flag(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise GrantError(f"{label(field)} must be true or false, got {value!r}", field)


def _user(value: str, field: str) -> str:
    if not USER.match(value):
        raise GrantError(f"{value!r} is not a user name (no spaces, ':', ';' or ',')", field)
    return value


def parse_member(value: Any, field: str = "members") -> tuple[str, str]:
    """A member as {"user": ..., "role": ...} or 'user:role' (CSV)."""
    if isinstance(value, str):
        user, _, role = value.partition(":")
        value = {"user": user.strip(), "role": role.strip() or "member"}
    if not isinstance(value, Mapping) or set(value) - {"user", "role"}:
        raise GrantError(f"A member is {{'user': ..., 'role': ...}} (in CSV 'user:role'), got {value!r}", field)
    user = value.get("user")
    role = value.get("role", "member")
    if not isinstance(user, str):
        raise GrantError(f"A member's user name must be text, got {user!r}", field)
    if not is_unicode(user):
        raise GrantError("A member's user name is not valid Unicode (it holds a lone surrogate)", field)
    if role not in ROLES:
        raise GrantError(f"The role must be one of {', '.join(ROLES)}, got {role!r}", field)
    return _user(user.strip(), field), role


# What the ledger's columns hold (ledger/models.py: String(200), the title as text; the id has its pattern).
TEXT_LIMITS = {"award_number": 200, "funder": 200, "pi": 200, "title": 1000}


def is_unicode(text: str) -> bool:
    """False for text no database can store: half of a UTF-16 pair (JSON's "\\ud800")."""
    return not any("\ud800" <= c <= "\udfff" for c in text)


def parse_policies(data: Mapping) -> dict[str, Any]:
    """The optional policy fields; absent ones are left out (the ledger keeps or defaults them)."""
    out: dict[str, Any] = {}
    members: list[tuple[str, str]] | None = None
    if _present(data, "co_pis"):
        members = [(_user(user, "co_pis"), "pi") for user in _items(data["co_pis"], "co_pis")]
    if _present(data, "members"):
        raw = data["members"]
        listed = _items(raw, "members") if isinstance(raw, str) else raw
        if not isinstance(listed, list):
            raise GrantError(f"The members must be a list, got {raw!r}", "members")
        members = (members or []) + [parse_member(item) for item in listed]
    if members is not None:
        seen: dict[str, str] = {}
        for user, role in members:
            if seen.get(user, role) != role:
                raise GrantError(f"{user!r} is given two roles ({seen[user]} and {role})", "members")
            seen[user] = role
        out["members"] = sorted(seen.items())
    if "allowed_tiers" in data:
        value = data["allowed_tiers"]
        out["allowed_tiers"] = None if not _present(data, "allowed_tiers") else _items(value, "allowed_tiers") or None
    if _present(data, "sensitive"):
        out["sensitive"] = _flag(data["sensitive"], "sensitive")
    if _present(data, "hard_stop"):
        out["hard_stop"] = _flag(data["hard_stop"], "hard_stop")
    if _present(data, "alert_thresholds"):
        raw = data["alert_thresholds"]
        items = _items(raw, "alert_thresholds") if isinstance(raw, str) else raw
        try:
            thresholds = sorted({int(Decimal(str(item))) for item in items})
        except (ArithmeticError, TypeError, ValueError):
            raise GrantError(
                f"The alert thresholds must be whole percentages such as 50;80;100, got {raw!r}", "alert_thresholds"
            ) from None
        if not thresholds or any(not 1 <= t <= 1000 for t in thresholds):
            raise GrantError("The alert thresholds must be percentages from 1 to 1000", "alert_thresholds")
        out["alert_thresholds"] = thresholds
    if _present(data, "min_runtime_minutes"):
        raw = data["min_runtime_minutes"]
        try:
            minutes = Decimal(str(raw))
        except ArithmeticError:
            minutes = Decimal(-1)
        if isinstance(raw, bool) or not minutes.is_finite() or not 0 <= minutes <= 24 * 60:
            raise GrantError(
                f"The minimum runtime must be a number of minutes from 0 to 1440, got {raw!r}", "min_runtime_minutes"
            )
        out["min_runtime_s"] = int(minutes * 60)
    return out


def read_grants_file(path: str | Path) -> list[dict[str, Any]]:
    """Read grants from a JSON list or a CSV with a header row.

    One bad row rejects the whole file: every bad row is reported, each with its
    line (CSV) or index (JSON) and field, in one GrantError.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets save CSV with a byte-order mark
    except OSError as e:
        raise GrantError(f"{path}: cannot be read ({e.strerror or e})") from None
    rows: list[tuple[str, Any]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = [f for f in REQUIRED_FIELDS if f not in (reader.fieldnames or [])]
        if missing:
            raise GrantError(f"{path}: the header row lacks {', '.join(missing)}")
        for record in reader:
            extra = record.pop(None, None)  # DictReader's key for values beyond the header
            if extra:
                problem = f"has {len(extra)} value(s) more than the header row (quote fields that hold commas)"
                rows.append((f"line {reader.line_num}", GrantError(problem)))
                continue
            rows.append((f"line {reader.line_num}", record))
    else:
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as e:
            raise GrantError(f"{path}: is not valid JSON ({e.msg} at line {e.lineno})") from None
        if isinstance(data, Mapping) and "grants" in data:
            data = data["grants"]
        if not isinstance(data, list):
            raise GrantError(f"{path}: must hold a list of grants (or an object with a 'grants' list)")
        rows = [(f"grant #{i + 1}", item) for i, item in enumerate(data)]
    grants, problems, seen = [], [], set()
    for where, item in rows:
        if isinstance(item, GrantError):
            problems.append(f"{where}: {item}")
            continue
        try:
            grant = parse_grant(item)
        except GrantError as e:
            problems.append(f"{where} ({e.field}): {e}" if e.field else f"{where}: {e}")
            continue
        if grant["id"] in seen:
            problems.append(f"{where} (id): the grant id {grant['id']!r} appears twice in the file")
        seen.add(grant["id"])
        grants.append(grant)
    if problems:
        raise GrantError(f"{path}: nothing imported, {len(problems)} bad row(s):\n" + "\n".join(problems))
    return grants
