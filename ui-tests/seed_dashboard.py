"""Seed the galata ledger with a grant whose dashboard the tests open.

``student`` (the galata server's owner) is the PI of ``dash-grant``; ``ravi`` is a member.
Both have real, closed runs written through the ledger's own API (``Ledger.open_run`` and
``Ledger.close_run`` with explicit times), so their costs are what metering computes.

With ``--bulk-runs N`` it also writes ``bench-grant`` with N closed runs for the paint
benchmark (dashboard-paint.bench.ts). Opening and closing 100,000 runs one transaction at a
time takes minutes, so those rows are inserted in batches with SQLAlchemy Core, each run's
cost computed by ``money.cost_micros`` exactly as ``close_run`` does; then
``Ledger.rebuild_grant_spend`` writes the grant's rollup rows (``grant_day_spend``,
``grant_notebook_spend``, which ``close_run`` would have kept) from them, so its dashboard
adds up.

With ``--history-runs N`` it writes ``history-grant`` with N closed runs of ``student`` (the
galata owner) over 40 notebooks, for the run history benchmark (history-paint.bench.ts).

Usage: python seed_dashboard.py --db-url sqlite:///PATH [--bulk-runs N] [--history-runs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
import uuid

from sqlalchemy import insert

from jupyterlab_compute_panel.domain import catalog
from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.domain.money import cost_micros
from jupyterlab_compute_panel.ledger import Ledger, utcnow
from jupyterlab_compute_panel.ledger.models import Run

GRANT = "dash-grant"
BENCH_GRANT = "bench-grant"
HISTORY_GRANT = "history-grant"

# (user, tier, notebook, days ago it started, duration in seconds)
RUNS = (
    ("student", "rtx4090", "dash/train.ipynb", 20, 2 * 3600),
    ("student", "h200", "dash/train.ipynb", 9, 30 * 60),
    ("ravi", "rtx4090", "dash/eval.ipynb", 5, 3600 + 20 * 60 + 10),
    ("ravi", "h200", None, 2, 7 * 60 + 3),
)


def _grant(grant_id: str, award: str, title: str, budget: str, start: dt.date, members: list) -> dict:
    return parse_grant(
        {
            "id": grant_id,
            "award_number": award,
            "title": title,
            "funder": "Internal",
            "pi": "student",
            "budget": budget,
            "currency": "USD",
            "start_date": start.isoformat(),
            "end_date": "2030-12-31",
            "members": members,
        }
    )


def seed_dashboard(ledger: Ledger, tiers: dict, now: dt.datetime) -> None:
    start = (now - dt.timedelta(days=60)).date()
    ledger.upsert_grant(
        _grant(
            GRANT,
            "DASH 0001",
            "Two students on one grant",
            "100.00",
            start,
            [{"user": "student", "role": "pi"}, {"user": "ravi", "role": "member"}],
        )
    )
    for user, tier_id, notebook, days, seconds in RUNS:
        started = now - dt.timedelta(days=days)
        run = ledger.open_run(
            kernel_id=uuid.uuid4().hex,
            kernelspec=f"compute-panel-{tier_id}-python3",
            tier=tiers[tier_id],
            grant_id=GRANT,
            user=user,
            notebook=notebook,
            now=started,
        )
        ledger.close_run(run.id, "shutdown", at=started + dt.timedelta(seconds=seconds))


def seed_bench(ledger: Ledger, tiers: dict, now: dt.datetime, count: int, batch: int = 20_000) -> None:
    """``count`` closed runs of 8 users on ``bench-grant`` over the last two years."""
    users = [f"user-{i}" for i in range(8)]
    _bulk_runs(
        ledger,
        tiers,
        now,
        count,
        grant=(
            BENCH_GRANT,
            "BENCH 100K",
            [{"user": "student", "role": "pi"}] + [{"user": u, "role": "member"} for u in users],
        ),
        users=users,
        notebooks=lambda rng, user: f"bench/{user}/nb-{rng.randrange(20):02d}.ipynb",
        seed=20261123,
        batch=batch,
    )


def seed_history(ledger: Ledger, tiers: dict, now: dt.datetime, count: int) -> None:
    """``count`` closed runs of ``student`` on ``history-grant`` over two years, 40 notebooks."""
    _bulk_runs(
        ledger,
        tiers,
        now,
        count,
        grant=(HISTORY_GRANT, "HIST 10K", [{"user": "student", "role": "pi"}]),
        users=["student"],
        notebooks=lambda rng, user: f"history/project-{rng.randrange(8)}/nb-{rng.randrange(5):02d}.ipynb",
        seed=20261124,
    )


def _bulk_runs(
    ledger: Ledger,
    tiers: dict,
    now: dt.datetime,
    count: int,
    *,
    grant: tuple,
    users: list[str],
    notebooks,
    seed: int,
    batch: int = 20_000,
) -> None:
    grant_id, award, members = grant
    rng = random.Random(seed)  # noqa: S311 - a reproducible history, not secrets
    span_ms = 730 * 86_400_000
    first = now - dt.timedelta(milliseconds=span_ms)
    ledger.upsert_grant(_grant(grant_id, award, f"A grant with {count:,} runs", "1000000.00", first.date(), members))
    paid = [tiers["rtx4090"], tiers["h200"]]
    offsets = sorted(rng.randrange(span_ms - 86_400_000) for _ in range(count))
    rows = []
    written = 0
    with ledger.engine.connect() as conn:
        for offset in offsets:
            tier = paid[0] if rng.random() < 0.7 else paid[1]
            user = rng.choice(users)
            started = first + dt.timedelta(milliseconds=offset)
            duration = max(1_000, min(int(rng.lognormvariate(14.7, 1.0)), 86_400_000))
            ended = started + dt.timedelta(milliseconds=duration)
            rows.append(
                {
                    "id": uuid.UUID(int=rng.getrandbits(128)).hex,
                    "kernel_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                    "kernelspec": f"compute-panel-{tier.id}-python3",
                    "tier_id": tier.id,
                    "grant_id": grant_id,
                    "user": user,
                    "notebook": notebooks(rng, user),
                    "rate_micros_per_hour": tier.rate_micros_per_hour,
                    "currency": tier.currency,
                    "started": started,
                    "last_heartbeat": ended,
                    "ended": ended,
                    "end_reason": "shutdown",
                    "cost_micros": cost_micros(tier.rate_micros_per_hour, duration),
                    "launcher_host": "seed",
                    "launcher_pid": 1,
                    "heartbeat_ms": 15_000,
                }
            )
            if len(rows) >= batch:
                with conn.begin():
                    conn.execute(insert(Run), rows)
                written += len(rows)
                rows = []
        if rows:
            with conn.begin():
                conn.execute(insert(Run), rows)
            written += len(rows)
    ledger.rebuild_grant_spend([grant_id])
    print(f"seed_dashboard: {written:,} runs on {grant_id}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--bulk-runs", type=int, default=0, help=f"runs to write on {BENCH_GRANT} (default none)")
    parser.add_argument(
        "--history-runs", type=int, default=0, help=f"runs of student to write on {HISTORY_GRANT} (default none)"
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    ledger = Ledger(args.db_url)
    try:
        ledger.migrate()
        cat = catalog.read_catalog_file(catalog.DEMO_CATALOG)
        ledger.sync_tiers(cat)
        tiers = {t.id: t for t in cat}
        now = utcnow()
        seed_dashboard(ledger, tiers, now)
        if args.bulk_runs > 0:
            seed_bench(ledger, tiers, now, args.bulk_runs)
        if args.history_runs > 0:
            seed_history(ledger, tiers, now, args.history_runs)
    finally:
        ledger.dispose()
    print(f"seed_dashboard: done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
