"""Comparing two 200-cell notebooks: the time the compare endpoint spends on the comparison.

Builds two executed 200-cell notebooks like a long training notebook leaves them: each cell
prints a few lines with numbers (loss, accuracy), returns a value, and every tenth shows a
40 KB PNG; the second notebook's numbers differ in the fifth significant digit in half of
the cells and one image differs. Each round parses both from their JSON text (as the
handler reads the files) and runs ``compare.compare_runs`` with rtol 1e-3; the aim is
under 500 ms (median and p95 of the rounds).

Usage: python bench/bench_compare.py [--rounds 20] [--cells 200] [--strict]
Exit status: 0, unless --strict and the aim is missed (1).
"""

from __future__ import annotations

import argparse
import base64
import json
import platform
import random
import statistics
import sys
import time
from decimal import Decimal

import nbformat

from jupyterlab_compute_panel.domain.compare import RunInput, compare_runs

AIM_MS = 500.0


def notebook(cells: int, jitter: float, seed: int, image_bytes: bytes) -> str:
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    nb = nbformat.v4.new_notebook()
    for i in range(cells):
        cell = nbformat.v4.new_code_cell(f"step({i})\nreport(model, data, epoch={i})")
        loss = 1.0 / (i + 1)
        acc = 0.5 + 0.4 * i / cells
        if i % 2 and jitter:
            loss *= 1 + jitter * rng.uniform(-1, 1)
            acc *= 1 + jitter * rng.uniform(-1, 1)
        text = "".join(f"batch {b}: loss {loss * (1 + b / 100):.8f} acc {acc:.8f}\n" for b in range(5))
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=text),
            nbformat.v4.new_output(
                "execute_result", data={"text/plain": f"{{'loss': {loss:.10f}, 'acc': {acc:.10f}}}"}
            ),
        ]
        if i % 10 == 0:
            data = image_bytes if not (jitter and i == 100) else image_bytes[::-1]
            cell.outputs.append(
                nbformat.v4.new_output(
                    "display_data", data={"image/png": base64.b64encode(data).decode(), "text/plain": "<Figure>"}
                )
            )
        cell.metadata["execution"] = {
            "iopub.execute_input": "2026-01-01T00:00:00.000000Z",
            "shell.execute_reply": f"2026-01-01T00:00:0{rng.randint(1, 9)}.000000Z",
        }
        nb.cells.append(cell)
    return json.dumps(nb)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    image = random.Random(1).randbytes(40_000)  # noqa: S311 - benchmark data, not secrets
    a_text = notebook(args.cells, 0.0, 1, image)
    b_text = notebook(args.cells, 2e-5, 2, image)
    times, result = [], None
    for _ in range(args.rounds):
        start = time.perf_counter()
        a, b = json.loads(a_text), json.loads(b_text)
        result = compare_runs(
            [
                RunInput("a", "Local CPU", Decimal(900), Decimal(0), "USD", a),
                RunInput("b", "H200 training", Decimal(220), Decimal("0.213889"), "USD", b),
            ],
            rtol=1e-3,
        )
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    median = statistics.median(times)
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    size = (len(a_text) + len(b_text)) / 1e6
    print(f"compare: two {args.cells}-cell notebooks ({size:.1f} MB of JSON), {args.rounds} rounds")
    print(f"  Python {platform.python_version()} on {platform.machine()}")
    print(f"  verdict: {result['summary']}")
    ok = p95 < AIM_MS
    print(f"  median {median:.1f} ms, p95 {p95:.1f} ms   (aim: < {AIM_MS:.0f} ms)   {'OK' if ok else 'MISSED'}")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
