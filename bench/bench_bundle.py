"""Size of the built labextension: gzip size of every static/*.js file, per file and summed.

The sum counts every chunk, including those JupyterLab loads lazily, so it is an
upper bound on what a browser downloads for the extension. gzip runs at level 9
(what a static file server or CDN typically serves); 1 KB = 1000 bytes.

Usage: python bench/bench_bundle.py [--static DIR] [--strict]
Exit status: 2 if the labextension is not built; 1 with --strict when over the aim; else 0.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "jupyterlab_compute_panel" / "labextension" / "static"
AIM_BYTES = 150_000  # 150 KB gzipped, all chunks together


def kb(n: int) -> str:
    return f"{n / 1000:.1f} KB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--static", type=Path, default=STATIC, help=f"built static folder (default: {STATIC})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the bundle is over the aim")
    args = parser.parse_args(argv)

    files = sorted(args.static.glob("*.js")) if args.static.is_dir() else []
    if not any(f.name.startswith("remoteEntry.") for f in files):
        print(
            f"bench_bundle: the labextension is not built (no remoteEntry.*.js in {args.static}); "
            "build it with 'npm run build:prod' (or 'pip install .') and run again."
        )
        return 2

    rows = []
    for path in files:
        raw = path.read_bytes()
        rows.append((path.name, len(raw), len(gzip.compress(raw, compresslevel=9, mtime=0))))
    total_raw = sum(r[1] for r in rows)
    total_gz = sum(r[2] for r in rows)

    width = max(len(r[0]) for r in [*rows, ("total", 0, 0)])
    print(f"bench_bundle: {args.static}")
    print(f"{'file':<{width}}  {'raw':>10}  {'gzip -9':>10}")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 10}")
    for name, raw, gz in sorted(rows, key=lambda r: -r[2]):
        print(f"{name:<{width}}  {kb(raw):>10}  {kb(gz):>10}")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 10}")
    print(f"{'total':<{width}}  {kb(total_raw):>10}  {kb(total_gz):>10}")

    maps = sorted(args.static.glob("*.js.map"))
    if maps:
        print(
            f"note: {len(maps)} source map(s) present: this looks like a development build; "
            "measure a production build ('npm run build:prod')."
        )
    src = ROOT / "src"
    if src.is_dir():
        newest_src = max((p.stat().st_mtime for p in src.rglob("*.ts*")), default=0.0)
        newest_built = max(p.stat().st_mtime for p in files)
        if newest_src > newest_built:
            print("note: src/ changed after this build; rebuild for a current figure.")

    ok = total_gz < AIM_BYTES
    print()
    print(f"bundle gzipped: {kb(total_gz)} (aim < {kb(AIM_BYTES)})  {'PASS' if ok else 'FAIL'}")
    return 1 if (args.strict and not ok) else 0


if __name__ == "__main__":
    sys.exit(main())
