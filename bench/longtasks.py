"""List the long tasks of a Chromium trace and what took their time.

    python bench/longtasks.py trace.json [--over 50] [--top 8]

The trace is one that a galata benchmark recorded with
``COMPUTE_PANEL_BENCH_TRACE=trace.json`` (``browser.startTracing``). For each
task of the renderer's main thread longer than ``--over`` ms it prints its
duration and the longest events inside it, by name, with the script URL or
function where the trace names one, so that a long task can be told apart:
our code (a function of the extension's chunks), a garbage collection, a
script loaded lazily, or style and layout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict


def _events(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return data["traceEvents"] if isinstance(data, dict) else data


def _main_thread(events: list[dict]) -> tuple[int, int] | None:
    """The (pid, tid) of the page's renderer main thread."""
    for event in events:
        if event.get("name") == "thread_name" and event.get("args", {}).get("name") == ("CrRendererMain"):
            return event["pid"], event["tid"]
    return None


def _label(event: dict) -> str:
    data = event.get("args", {}).get("data", {}) or {}
    detail = data.get("url") or data.get("functionName") or data.get("type") or ""
    if detail and "/" in detail:
        detail = detail.rsplit("/", 1)[-1]
    return f"{event['name']}({detail})" if detail else event["name"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--over", type=float, default=50.0, help="ms (default 50)")
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args(argv)

    events = _events(args.trace)
    thread = _main_thread(events)
    if thread is None:
        print(f"{args.trace}: no renderer main thread in the trace", file=sys.stderr)
        return 1
    complete = [e for e in events if (e.get("pid"), e.get("tid")) == thread and e.get("ph") == "X" and "dur" in e]
    tasks = [e for e in complete if e["name"] in ("RunTask", "ThreadControllerImpl::RunTask")]
    long_tasks = [t for t in tasks if t["dur"] / 1000 > args.over]
    print(f"{len(tasks)} tasks on the main thread, {len(long_tasks)} over {args.over:g} ms")
    for task in long_tasks:
        start, end = task["ts"], task["ts"] + task["dur"]
        inside: dict[str, float] = defaultdict(float)
        for event in complete:
            if event is task or not (start <= event["ts"] < end):
                continue
            inside[_label(event)] += event["dur"] / 1000
        print(f"\ntask at {start / 1000:.0f} ms: {task['dur'] / 1000:.1f} ms")
        for name, ms in sorted(inside.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"  {ms:8.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
