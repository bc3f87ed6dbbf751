"""Compare runs of one notebook: outputs cell by cell with a numeric tolerance, environments,
per-cell durations, speed and cost, and one summary sentence.

Pure functions over notebooks (nbformat dicts), environments (dicts) and run figures; the
REST handler gathers those from the ledger and the contents manager.

Rules:

- Code cells are paired by their position among code cells. A cell whose source differs
  between the runs is still compared, and flagged.
- A cell *ran* in a run when it has an execution count or outputs, unless its recorded timing
  lies outside the run (more than ``ATTRIBUTION_SLACK_S`` before its start or after its end):
  then it ran in another kernel, and neither its outputs nor its time are this run's. A cell
  that did not run in one of two runs is ``not_run``, not compared.
- Text outputs (streams, ``text/plain`` results, errors) are equal *within tolerance* when
  they read the same once every number is taken out, and each pair of numbers satisfies
  ``|a - b| <= max(rtol * max(|a|, |b|), atol)``. NaN equals NaN; infinities equal only
  themselves. Other rich outputs (images, HTML, JSON) are equal when their bytes hash the
  same. Execution counts and timing metadata are ignored.
- The verdict is *incomplete* when a run has no outputs (its notebook cannot be read, or it
  ran none of its code cells), or when no cell differs but some did not run in every run.
- A cell's duration is ``shell.execute_reply - iopub.execute_input`` from its execution
  metadata (nbclient records it; JupyterLab does with *record timing* on).
- Speed is compared on the cells' own durations only, over the cells timed in both runs,
  never on a run's duration in the ledger (an interactive kernel's lifetime includes its
  user's reading and typing). It is not compared when either run has no cell timings, or
  either tier is simulated (its kernel does not run on the hardware the tier describes).
  Costs come from the ledger, exactly.
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

from .money import display_amount

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)\b", re.IGNORECASE)
TEXT_MIMES = ("text/plain",)
# Fingerprint fields left out of the diff: what differs between any two captures and says
# nothing of the environment (the probe's own figures, the schema, the notebook file's hash,
# which every save changes, and git's counts of changed and untracked files, which each
# executed copy changes), and the packages, which are diffed by name on their own.
NOT_DIFFED = (
    "packages",
    "probe",
    "schema",
    "kernel.probe_seconds",
    "notebook",
    "git.changed_files",
    "git.untracked_files",
)
SAME, WITHIN, DIFFERS, MISSING, NOT_RUN = "same", "within_tolerance", "differs", "missing", "not_run"
# How far outside its run a cell's recorded execution may lie and still be the run's (clocks
# of the server and of a kernel's machine differ a little).
ATTRIBUTION_SLACK_S = 30.0
# Below this, cells' total time is too short to make a ratio of.
MIN_TIMED_S = 0.001
TIMES = "\u00d7"  # the multiplication sign, as in "H200 was 4.1 times faster"


@dataclass
class RunInput:
    """One run to compare: its figures, its executed notebook (None: outputs unknown), its
    environment, whether its tier is simulated, and its time span (start, end or now; None:
    unknown, every cell's timing counts)."""

    id: str
    label: str
    duration_s: Decimal
    cost: Decimal
    currency: str
    notebook: dict[str, Any] | None
    environment: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False
    window: tuple[dt.datetime, dt.datetime] | None = None


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


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def cell_span(cell: dict[str, Any]) -> tuple[dt.datetime, dt.datetime] | None:
    """When a cell's execution began and ended, from its execution metadata; None if unrecorded."""
    execution = (cell.get("metadata") or {}).get("execution") or {}
    start, end = _instant(execution.get("iopub.execute_input")), _instant(execution.get("shell.execute_reply"))
    if start is None or end is None:
        return None
    return start, max(start, end)


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


# -- what each run ran, and when ----------------------------------------------------------------------


@dataclass
class _Cells:
    """One run's code cells as the comparison reads them."""

    cells: list[dict[str, Any]]
    ran: list[bool]
    seconds: list[float | None]

    @property
    def any_ran(self) -> bool:
        return any(self.ran)

    def time(self, indexes: list[int] | None = None) -> float:
        picked = range(len(self.seconds)) if indexes is None else indexes
        return sum(self.seconds[i] or 0.0 for i in picked)


def _outside(span: tuple[dt.datetime, dt.datetime] | None, window: tuple[dt.datetime, dt.datetime] | None) -> bool:
    if span is None or window is None:
        return False
    slack = dt.timedelta(seconds=ATTRIBUTION_SLACK_S)
    start, end = (w if w.tzinfo else w.replace(tzinfo=dt.timezone.utc) for w in window)  # the ledger's naive UTC
    return span[0] < start - slack or span[1] > end + slack


def _read_cells(run: RunInput) -> _Cells:
    """A cell ran in the run when it has an execution count or outputs, unless its recorded
    timing lies outside the run (it ran in another kernel before this one: its outputs and
    time are not this run's). Only a cell that ran has a duration."""
    cells = _code_cells(run.notebook)
    ran, seconds = [], []
    for cell in cells:
        span = cell_span(cell)
        did = (cell.get("execution_count") is not None or bool(cell.get("outputs"))) and not _outside(span, run.window)
        ran.append(did)
        seconds.append(max(0.0, (span[1] - span[0]).total_seconds()) if did and span else None)
    return _Cells(cells, ran, seconds)


def _has_outputs(run: RunInput, cells: _Cells) -> bool:
    return run.notebook is not None and (not cells.cells or cells.any_ran)


# -- the whole comparison --------------------------------------------------------------------------------


def _ratio(x: float) -> str:
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def _tolerance(rtol: float) -> str:
    return f"{rtol:g}"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _unique(words: list[str]) -> list[str]:
    return list(dict.fromkeys(words))


def compare_runs(runs: list[RunInput], rtol: float = 1e-3, atol: float = 1e-12) -> dict[str, Any]:
    if len(runs) < 2:
        raise ValueError("compare needs at least two runs")
    read = [_read_cells(r) for r in runs]
    available = [_has_outputs(r, c) for r, c in zip(runs, read, strict=True)]
    count = max((len(c.cells) for c in read), default=0)
    cells = []
    for index in range(count):
        present = [c.cells[index] if index < len(c.cells) else None for c in read]
        ran = [c.ran[index] if index < len(c.ran) else None for c in read]
        base = present[0]
        verdicts: list[str | None] = [None]
        worst = 0.0
        for i, other in enumerate(present[1:], start=1):
            if base is None or other is None:
                verdicts.append(MISSING)
            elif not (ran[0] and ran[i]):
                verdicts.append(NOT_RUN)
            else:
                verdict, distance = compare_cells(base, other, rtol, atol)
                verdicts.append(verdict)
                worst = max(worst, distance)
        sources = {_text(c.get("source", "")) for c in present if c is not None}
        cells.append(
            {
                "index": index,
                "source": _text(next((c.get("source", "") for c in present if c is not None), "")),
                "source_differs": len(sources) > 1,
                "ran": ran,
                "verdicts": verdicts,
                "max_rel_diff": None if math.isinf(worst) else worst,
                "durations_s": [c.seconds[index] if index < len(c.seconds) else None for c in read],
            }
        )
        if any(v in (DIFFERS, WITHIN, MISSING, NOT_RUN) for v in verdicts[1:]):
            cells[-1]["outputs"] = [
                [{"kind": k, "content": v} for k, v in _parts(c)] if c is not None and ran[i] else None
                for i, c in enumerate(present)
            ]
    differing = [c["index"] for c in cells if any(v in (DIFFERS, MISSING) for v in c["verdicts"][1:])]
    unrun = [c["index"] for c in cells if NOT_RUN in c["verdicts"][1:]]
    verdict, outputs = _outputs_clause(runs, available, cells, differing, unrun, rtol)
    base_name = _who(runs, 0)
    # Each run against the baseline; the baseline's own entry is None.
    speeds = [None] + [_speed(base_name, runs[0], read[0], run, read[i]) for i, run in enumerate(runs[1:], start=1)]
    clauses = [outputs]
    for run, speed in zip(runs[1:], speeds[1:], strict=True):
        money = _cost(runs[0], run)
        clauses.append(
            f"{run.label} {speed['words']} and {money}"
            if speed and speed["ratio"] is not None
            else f"{run.label} {money}"
        )
    reasons = _speed_reasons([s for s in speeds if s])
    if reasons:
        clauses.append("speed is not comparable: " + ", ".join(reasons))
    durations = [s for c in read for s, r in zip(c.seconds, c.ran, strict=True) if r]
    timing = (
        "none" if all(s is None for s in durations) else "cells" if all(s is not None for s in durations) else "partial"
    )
    return {
        "rtol": rtol,
        "atol": atol,
        "timing": timing,
        "runs": [
            {
                "id": r.id,
                "label": r.label,
                "duration_s": float(r.duration_s),
                "time_s": read[i].time() if any(s is not None for s in read[i].seconds) else None,
                "timed_cells": sum(s is not None for s in read[i].seconds),
                "simulated": r.simulated,
                "speed": _public(speeds[i]),
                "cost": {"amount": str(r.cost), "currency": r.currency},
                "outputs_available": available[i],
                "ran_cells": None if r.notebook is None else sum(read[i].ran),
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


def _speed_reasons(speeds: list[dict[str, Any]]) -> list[str]:
    """Why speed is not compared, once each: the simulated tiers, the runs without timings, the rest."""
    reasons = []
    simulated = _unique([n for s in speeds if s["reason"] == "simulated" for n in s["names"]])
    if simulated:
        reasons.append(f"{_and(simulated)} {'is a simulated tier' if len(simulated) == 1 else 'are simulated tiers'}")
    untimed = _unique([n for s in speeds if s["reason"] == "untimed" for n in s["names"]])
    if untimed:
        reasons.append(f"{_and(untimed)} recorded no cell timings")
    return reasons + _unique([s["why"] for s in speeds if s.get("why")])


def _public(speed: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if speed is None else {k: speed[k] for k in ("ratio", "cells", "reason")}


def _who(runs: list[RunInput], i: int) -> str:
    return (
        f"{runs[i].label} (the baseline)" if i == 0 and runs[0].label in (r.label for r in runs[1:]) else runs[i].label
    )


def _outputs_clause(
    runs: list[RunInput],
    available: list[bool],
    cells: list[dict[str, Any]],
    differing: list[int],
    unrun: list[int],
    rtol: float,
) -> tuple[str, str]:
    """The verdict and its words. A run without outputs leaves nothing to compare: incomplete."""
    count = len(cells)
    if not all(available):
        unread = [_who(runs, i) for i, r in enumerate(runs) if r.notebook is None]
        idle = [_who(runs, i) for i, r in enumerate(runs) if r.notebook is not None and not available[i]]
        words = []
        if unread:
            words.append(f"the outputs of {_and(unread)} are not available")
        if idle:
            words.append(f"{_and(idle)} ran no cell")
        return "incomplete", " and ".join(words)
    not_run = f"{len(unrun)} of {count} cells did not run in every run (first: cell {unrun[0] + 1})" if unrun else ""
    if differing:
        words = f"outputs differ in {len(differing)} of {count} cells (first: cell {differing[0] + 1})"
        return "differ", words + (f", and {not_run}" if not_run else "")
    if unrun:
        return "incomplete", not_run
    if any(WITHIN in c["verdicts"] for c in cells):
        return "match_within_tolerance", f"outputs match within {_tolerance(rtol)}"
    return "match", "outputs are identical"


def _speed(base_name: str, base: RunInput, base_cells: _Cells, other: RunInput, other_cells: _Cells) -> dict[str, Any]:
    """Speed on the cells' own execution time only, over the cells timed in both runs; never on
    a kernel's lifetime (an interactive kernel's includes the time its user read and typed), and
    never on a simulated tier (its kernel runs on another machine than the tier describes)."""
    simulated = [name for name, r in ((base_name, base), (other.label, other)) if r.simulated]
    if simulated:
        return {"ratio": None, "cells": 0, "reason": "simulated", "words": "", "names": simulated}
    untimed = [
        name for name, c in ((base_name, base_cells), (other.label, other_cells)) if all(s is None for s in c.seconds)
    ]
    if untimed:
        return {"ratio": None, "cells": 0, "reason": "untimed", "words": "", "names": untimed}
    shared = [
        i
        for i in range(min(len(base_cells.seconds), len(other_cells.seconds)))
        if base_cells.seconds[i] is not None and other_cells.seconds[i] is not None
    ]
    if not shared:
        why = f"no cell was timed in both {base_name} and {other.label}"
        return {"ratio": None, "cells": 0, "reason": "no_shared_cells", "words": "", "why": why}
    base_s, other_s = base_cells.time(shared), other_cells.time(shared)
    if min(base_s, other_s) < MIN_TIMED_S:
        why = f"the cells timed in both took under {MIN_TIMED_S * 1000:g} ms"
        return {"ratio": None, "cells": len(shared), "reason": "too_short", "words": "", "why": why}
    ratio = base_s / other_s
    if 0.95 <= ratio <= 1.05:
        words = "took as long"
    elif ratio > 1:
        words = f"was {_ratio(ratio)}{TIMES} faster"
    else:
        words = f"was {_ratio(1 / ratio)}{TIMES} slower"
    every = max(len(base_cells.seconds), len(other_cells.seconds))
    if len(shared) < every:
        words += f" on the {len(shared)} cell{'s' if len(shared) != 1 else ''} timed in both"
    return {"ratio": ratio, "cells": len(shared), "reason": None, "words": words}


def _shown(amount: Decimal) -> str:
    return display_amount(int(amount.scaleb(6)))


def _cost(base: RunInput, other: RunInput) -> str:
    if base.currency != other.currency:
        return f"cost {_shown(other.cost)} {other.currency} (against {_shown(base.cost)} {base.currency})"
    if base.cost == 0:
        return (
            "cost nothing either"
            if other.cost == 0
            else f"cost {_shown(other.cost)} {other.currency} more ({base.label} was free)"
        )
    if other.cost == 0:
        return "cost nothing"
    ratio = other.cost / base.cost
    if Decimal("0.95") <= ratio <= Decimal("1.05"):
        return "cost as much"
    if ratio > 1:
        return f"cost {_ratio(float(ratio))}{TIMES} more"
    return f"cost {_ratio(float(1 / ratio))}{TIMES} less"
