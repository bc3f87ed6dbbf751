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
GRANT_FIELDS = ("id", "award_number", "title", "funder", "pi", "budget", "currency", "start_date", "end_date")


class GrantError(ValueError):
    """An invalid grant; ``field`` names the field at fault."""

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
    raise GrantError(f"{field}: must be a date such as 2026-01-31, got {value!r}", field)


def parse_grant(data: Any) -> dict[str, Any]:
    """Validate one grant; returns the column values for the ledger."""
    if not isinstance(data, Mapping):
        raise GrantError(f"a grant must be an object of fields, got {type(data).__name__}")
    unknown = sorted(set(data) - set(GRANT_FIELDS))
    if unknown:
        raise GrantError(f"{unknown[0]}: is not a grant field (known: {', '.join(GRANT_FIELDS)})", unknown[0])
    out: dict[str, Any] = {}
    for field in ("id", "award_number", "title", "funder", "pi"):
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            raise GrantError(f"{field}: is required and must be a non-empty string", field)
        out[field] = value.strip()
    if not GRANT_ID.match(out["id"]):
        raise GrantError("id: must be 1-64 letters, digits, '.', '_' or '-'", "id")
    try:
        out["budget_micros"] = parse_amount(data.get("budget"))
    except MoneyError as e:
        raise GrantError(f"budget: {e}", "budget") from None
    try:
        out["currency"] = parse_currency(data.get("currency"))
    except MoneyError as e:
        raise GrantError(f"currency: {e}", "currency") from None
    out["start_date"] = _date(data.get("start_date"), "start_date")
    out["end_date"] = _date(data.get("end_date"), "end_date")
    if out["end_date"] < out["start_date"]:
        raise GrantError("end_date: must not be before start_date", "end_date")
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
        missing = [f for f in GRANT_FIELDS if f not in (reader.fieldnames or [])]
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
            problems.append(f"{where}: {e}")
            continue
        if grant["id"] in seen:
            problems.append(f"{where}: id: {grant['id']!r} appears twice in the file")
        seen.add(grant["id"])
        grants.append(grant)
    if problems:
        raise GrantError(f"{path}: nothing imported, {len(problems)} bad row(s):\n" + "\n".join(problems))
    return grants
