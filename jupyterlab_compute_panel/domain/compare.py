"""Compare runs of one notebook: outputs cell by cell with a numeric tolerance, environments,
per-cell durations, total time and cost, and one summary sentence.

Pure functions over notebooks (nbformat dicts), environments (dicts) and run figures; the
REST handler gathers those from the ledger and the contents manager.

Rules:

- Code cells are paired by their position among code cells. A cell whose source differs
  between the runs is still compared, and flagged.
- Text outputs (streams, ``text/plain`` results, errors) are equal *within tolerance* when
  they read the same once every number is taken out, and each pair of numbers satisfies
  ``|a - b| <= max(rtol * max(|a|, |b|), atol)``. NaN equals NaN; infinities equal only
  themselves. Other rich outputs (images, HTML, JSON) are equal when their bytes hash the
  same. Execution counts and timing metadata are ignored.
- A cell's duration is ``shell.execute_reply - iopub.execute_input`` from its execution
  metadata (nbclient records it; JupyterLab does with *record timing* on).
- The run's total time is the sum of its cells' durations when every run has them all,
  else the run's duration in the ledger; costs come from the ledger, exactly.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)\b", re.IGNORECASE)
TEXT_MIMES = ("text/plain",)
# Fingerprint fields that differ between any two captures and say nothing of the environment.
NOT_DIFFED = ("packages", "probe", "schema", "kernel.probe_seconds")
SAME, WITHIN, DIFFERS, MISSING = "same", "within_tolerance", "differs", "missing"
TIMES = "\u00d7"  # the multiplication sign, as in "H200 was 4.1 times faster"


@dataclass
class RunInput:
    """One run to compare: its figures, its executed notebook (None: outputs unknown), its environment."""

    id: str
    label: str
    duration_s: Decimal
    cost: Decimal
    currency: str
    notebook: dict[str, Any] | None
    environment: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# -- outputs ---------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _parts(cell: dict[str, Any]) -> list[tuple[str, str]]:
    """A cell's outputs as (kind, content) pairs: kind 'text' is compared with tolerance,
    anything else by hash. Streams of one name are joined, as a reader sees them."""
    parts: list[tuple[str, str]] = []
    for output in cell.get("outputs") or []:
        kind = output.get("output_type")
        if kind == "stream":
            text = _text(output.get("text", ""))
            if parts and parts[-1][0] == f"text:{output.get('name')}":
                parts[-1] = (parts[-1][0], parts[-1][1] + text)
            else:
                parts.append((f"text:{output.get('name')}", text))
        elif kind == "error":
            parts.append(("text:error", f"{output.get('ename')}: {output.get('evalue')}"))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data") or {}
            for mime in sorted(data):
                if mime in TEXT_MIMES:
                    parts.append((f"text:{mime}", _text(data[mime])))
                else:
                    parts.append((mime, _digest(data[mime])))
    return parts


def _digest(value: Any) -> str:
    if isinstance(value, (dict, list)) and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raw = json.dumps(value, sort_keys=True).encode()
    else:
        text = _text(value)
        try:
            raw = base64.b64decode(text.replace("\n", ""), validate=True)
        except ValueError:
            raw = text.encode()
    return hashlib.sha256(raw).hexdigest()


def _numbers(text: str) -> tuple[list[str], list[float]]:
    return NUMBER.split(text), [float(m) for m in NUMBER.findall(text)]


def text_distance(a: str, b: str, atol: float) -> float | None:
    """The largest relative difference between the numbers of two texts that read the same
    around their numbers; None if they do not. 0.0 means identical numbers."""
    if a == b:
        return 0.0
    words_a, nums_a = _numbers(a)
    words_b, nums_b = _numbers(b)
    if words_a != words_b or len(nums_a) != len(nums_b):
        return None
    worst = 0.0
    for x, y in zip(nums_a, nums_b, strict=True):
        if x == y or (math.isnan(x) and math.isnan(y)):
            continue
        if math.isinf(x) or math.isinf(y) or math.isnan(x) or math.isnan(y):
            return None
        gap = abs(x - y)
        if gap <= atol:
            continue
        worst = max(worst, gap / max(abs(x), abs(y)))
    return worst


def compare_cells(a: dict[str, Any], b: dict[str, Any], rtol: float, atol: float) -> tuple[str, float]:
    """(verdict, the largest relative difference seen) for one cell of two runs."""
    parts_a, parts_b = _parts(a), _parts(b)
    if len(parts_a) != len(parts_b):
        return DIFFERS, math.inf
    worst = 0.0
    for (kind_a, content_a), (kind_b, content_b) in zip(parts_a, parts_b, strict=True):
        if kind_a != kind_b:
            return DIFFERS, math.inf
        if kind_a.startswith("text:"):
            distance = text_distance(content_a, content_b, atol)
            if distance is None:
                return DIFFERS, math.inf
            worst = max(worst, distance)
        elif content_a != content_b:
            return DIFFERS, math.inf
    if worst == 0.0:
        return SAME, 0.0
    return (WITHIN, worst) if worst <= rtol else (DIFFERS, worst)


def cell_seconds(cell: dict[str, Any]) -> float | None:
    execution = (cell.get("metadata") or {}).get("execution") or {}
    start, end = execution.get("iopub.execute_input"), execution.get("shell.execute_reply")
    if not start or not end:
        return None
    try:
        begin = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        finish = dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, (finish - begin).total_seconds())


def _code_cells(nb: dict[str, Any] | None) -> list[dict[str, Any]]:
    if nb is None:
        return []
    return [c for c in nb.get("cells") or [] if c.get("cell_type") == "code"]


# -- environments ------------------------------------------------------------------------------------


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(_flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _diffed(flat: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in flat.items() if not any(k == p or k.startswith(p + ".") for p in NOT_DIFFED)}


def _package_map(env: dict[str, Any]) -> dict[str, str] | None:
    packages = env.get("packages")
    if isinstance(packages, dict) and "list" in packages:
        packages = packages["list"]
    if isinstance(packages, dict):
        return {str(k): str(v) for k, v in packages.items()}
    if isinstance(packages, list):
        out = {}
        for item in packages:
            if isinstance(item, str) and "==" in item:
                name, _, version = item.partition("==")
                out[name] = version
            elif isinstance(item, dict) and "name" in item:
                out[str(item["name"])] = str(item.get("version"))
        return out
    return None


def environment_diff(envs: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Only what differs: scalar fields by dotted key, packages by name."""
    known = [e for e in envs if e is not None]
    if len(known) < 2:
        return {"fields": [], "packages": [], "missing": [i for i, e in enumerate(envs) if e is None]}
    flats = [_diffed(_flatten(e)) if e is not None else None for e in envs]
    keys = sorted({k for f in flats if f for k in f})
    fields = []
    for key in keys:
        values = [f.get(key) if f is not None else None for f in flats]
        present = [v for v, f in zip(values, flats, strict=True) if f is not None]
        if any(v != present[0] for v in present):
            fields.append({"key": key, "values": values})
    maps = [_package_map(e) if e is not None else None for e in envs]
    packages = []
    names = sorted({n for m in maps if m for n in m})
    for name in names:
        versions = [m.get(name) if m is not None else None for m in maps]
        present = [v for v, m in zip(versions, maps, strict=True) if m is not None]
        if any(v != present[0] for v in present):
            packages.append({"name": name, "versions": versions})
    return {"fields": fields, "packages": packages, "missing": [i for i, e in enumerate(envs) if e is None]}


# -- the whole comparison --------------------------------------------------------------------------------


def _ratio(x: float) -> str:
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def _tolerance(rtol: float) -> str:
    return f"{rtol:g}"


def compare_runs(runs: list[RunInput], rtol: float = 1e-3, atol: float = 1e-12) -> dict[str, Any]:
    if len(runs) < 2:
        raise ValueError("compare needs at least two runs")
    cells_by_run = [_code_cells(r.notebook) for r in runs]
    with_outputs = [i for i, r in enumerate(runs) if r.notebook is not None]
    count = max((len(c) for c in cells_by_run), default=0)
    cells = []
    for index in range(count):
        present = [c[index] if index < len(c) else None for c in cells_by_run]
        base = present[0]
        verdicts: list[str | None] = [None]
        worst = 0.0
        for other in present[1:]:
            if base is None or other is None:
                verdicts.append(MISSING)
                continue
            verdict, distance = compare_cells(base, other, rtol, atol)
            verdicts.append(verdict)
            worst = max(worst, distance)
        sources = {_text(c.get("source", "")) for c in present if c is not None}
        cells.append(
            {
                "index": index,
                "source": _text(next((c.get("source", "") for c in present if c is not None), "")),
                "source_differs": len(sources) > 1,
                "verdicts": verdicts,
                "max_rel_diff": None if math.isinf(worst) else worst,
                "durations_s": [cell_seconds(c) if c is not None else None for c in present],
            }
        )
        if any(v in (DIFFERS, WITHIN, MISSING) for v in verdicts[1:]):
            cells[-1]["outputs"] = [
                [{"kind": k, "content": v} for k, v in _parts(c)] if c is not None else None for c in present
            ]
    # Totals: the cells' compute time when every run has every cell's timing, else the ledger's duration.
    timed = all(cells_by_run[i] and all(cell_seconds(c) is not None for c in cells_by_run[i]) for i in range(len(runs)))
    totals = [
        sum(cell_seconds(c) or 0.0 for c in cells_by_run[i]) if timed else float(runs[i].duration_s)
        for i in range(len(runs))
    ]
    differing = [c["index"] for c in cells if any(v in (DIFFERS, MISSING) for v in c["verdicts"][1:])]
    within = any(WITHIN in c["verdicts"] for c in cells)
    if len(with_outputs) < len(runs):
        verdict = "incomplete"
        outputs = f"outputs of {len(runs) - len(with_outputs)} run(s) are not available"
    elif differing:
        verdict = "differ"
        outputs = f"outputs differ in {len(differing)} of {count} cells (first: cell {differing[0] + 1})"
    elif within:
        verdict = "match_within_tolerance"
        outputs = f"outputs match within {_tolerance(rtol)}"
    else:
        verdict = "match"
        outputs = "outputs are identical"
    clauses = [outputs]
    base = runs[0]
    for i, run in enumerate(runs[1:], start=1):
        clauses.append(f"{run.label} {_speed(totals[0], totals[i])} and {_cost(base, run)}")
    return {
        "rtol": rtol,
        "atol": atol,
        "timing": "cells" if timed else "runs",
        "runs": [
            {
                "id": r.id,
                "label": r.label,
                "duration_s": float(r.duration_s),
                "time_s": totals[i],
                "cost": {"amount": str(r.cost), "currency": r.currency},
                "outputs_available": r.notebook is not None,
                **r.extra,
            }
            for i, r in enumerate(runs)
        ],
        "environment": environment_diff([r.environment for r in runs]),
        "cells": cells,
        "differing_cells": differing,
        "verdict": verdict,
        "summary": "; ".join(clauses),
    }


def _speed(base_s: float, other_s: float) -> str:
    if base_s <= 0 or other_s <= 0:
        return "took as long"
    ratio = base_s / other_s
    if 0.95 <= ratio <= 1.05:
        return "took as long"
    return f"was {_ratio(ratio)}{TIMES} faster" if ratio > 1 else f"was {_ratio(1 / ratio)}{TIMES} slower"


def _cost(base: RunInput, other: RunInput) -> str:
    if base.currency != other.currency:
        return f"cost {other.cost} {other.currency} (against {base.cost} {base.currency})"
    if base.cost == 0:
        return (
            "cost nothing either"
            if other.cost == 0
            else f"cost {other.cost} {other.currency} more ({base.label} was free)"
        )
    if other.cost == 0:
        return "cost nothing"
    ratio = other.cost / base.cost
    if Decimal("0.95") <= ratio <= Decimal("1.05"):
        return "cost as much"
    if ratio > 1:
        return f"cost {_ratio(float(ratio))}{TIMES} more"
    return f"cost {_ratio(float(1 / ratio))}{TIMES} less"
