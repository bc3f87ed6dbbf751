"""Seed a ledger with a realistic history of runs, for the rollup benchmark.

Defaults: 1,000,000 runs over the two years before ``--end`` (2026-11-23T00:00), 200 users,
50 grants, the demo catalog's tiers (``local-cpu`` free, ``rtx4090`` and ``h200`` paid). The
history is deterministic for a given ``--seed``:

- grants are skewed: ``grant-00`` carries 12 % of the paid runs (about 100,000 runs at the
  default size), four more 5 % each, and the other 45 share the rest on a Zipf-like
  curve. Each grant has a PI and 4 to 15 members (``grant_members``), who make its runs;
- 15 % of the runs are on the free tier and charged to no grant; of the paid ones 70 % are on
  the RTX 4090 and 30 % on the H200;
- starts follow a daily and weekly rhythm; durations are log-normal (median about 40 minutes,
  H200 runs about four times longer, capped at 4 days); each user has about 20 notebooks;
- every run is closed (cost stored as ``Ledger.close_run`` computes it) except ``--open``
  (default 8) of those still running at ``--end``, left open as live kernels are;
- each grant's budget is set from what its runs cost, between 0.8 and 2.5 times that, so
  that some grants are forecast to run out before their end date;
- the runs bypass ``Ledger.close_run``, so the seed ends with ``Ledger.rebuild_grant_spend``:
  the ``grant_day_spend`` and ``grant_notebook_spend`` rows the dashboard reads, computed
  from the runs in SQL.

Rows are written with SQLAlchemy Core ``insert()`` executemany in batches of ``--batch``
(default 20,000) inside one transaction each; the seed refuses a ledger that already has
runs unless ``--replace`` is given (which deletes every run, rollup row, member and grant
first).

Usage:
    python bench/seed_ledger.py [--db-url URL] [--runs N] [--seed S] [--end ISO] [--replace]

The default URL is a SQLite file under the temporary folder (printed), named after the run
count and the ledger's schema revision: a ledger migrated by this checkout cannot be opened
by an older one, and several checkouts may share the folder. On PostgreSQL the
seed ends with ``VACUUM ANALYZE`` of the tables it wrote (what autovacuum would do after
such a load); on SQLite it runs nothing of the kind, as the extension does not either.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import math
import queue
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import BigInteger as _BigInteger
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text, delete, insert, select, text, update

from jupyterlab_compute_panel.domain import catalog
from jupyterlab_compute_panel.domain.money import MS_PER_HOUR
from jupyterlab_compute_panel.ledger import MIGRATIONS, Ledger
from jupyterlab_compute_panel.ledger.models import (
    Grant,
    GrantDaySpend,
    GrantMember,
    GrantNotebookSpend,
    NotebookBinding,
    Run,
)

DEFAULT_RUNS = 1_000_000
DEFAULT_END = dt.datetime(2026, 11, 23)
DEFAULT_SEED = 20261123
USERS = 200
GRANTS = 50
SPAN = dt.timedelta(days=730)
FREE_SHARE = 0.15
H200_SHARE = 0.30
MAX_DURATION_MS = 4 * 24 * MS_PER_HOUR
END_REASONS = (("shutdown", 55), ("culled", 25), ("restart", 8), ("died", 5), ("lost", 4), ("server_restart", 3))
HOSTS = tuple(f"jupyter-{i:02d}" for i in range(8))


def schema_head() -> str:
    """The newest migration of this checkout's ledger."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head() or "base"


def default_url(runs: int = DEFAULT_RUNS) -> str:
    folder = Path(tempfile.gettempdir()) / "compute-panel-bench"
    return f"sqlite:///{folder / f'ledger-{runs}-schema-{schema_head()}.sqlite'}"


def fast_cost_micros(rate_micros_per_hour: int, duration_ms: int) -> int:
    """money.cost_micros in integers: half-up of rate * ms / 3,600,000 for non-negative values."""
    if duration_ms <= 0 or rate_micros_per_hour <= 0:
        return 0
    return (2 * rate_micros_per_hour * duration_ms + MS_PER_HOUR) // (2 * MS_PER_HOUR)


@dataclass
class SeedInfo:
    url: str
    runs: int
    open_runs: int
    end: dt.datetime
    seconds: float
    runs_per_grant: dict[str, int] = field(default_factory=dict)


def _placeholder(column) -> object:
    """A value for a required column the seed does not know (added after it was written)."""
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return DEFAULT_END
    if isinstance(kind, Date):
        return DEFAULT_END.date()
    if isinstance(kind, Integer | _BigInteger | Numeric):
        return 0
    if isinstance(kind, String | Text):
        return ""
    raise SystemExit(f"seed_ledger: cannot fill the new required column {column.name!r} of {column.table.name!r}")


def _complete(table, row: dict) -> dict:
    """Fill required columns that have neither a value here nor a default in the model."""
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key:
            continue
        if column.default is not None or column.server_default is not None:
            continue
        row[column.name] = _placeholder(column)
    return row


def _grant_weights(rng: random.Random) -> list[float]:
    weights = [0.12] + [0.05] * 4
    rest = [1 / (k + 2) ** 0.9 for k in range(GRANTS - 5)]
    rng.shuffle(rest)
    scale = 0.68 / sum(rest)
    return weights + [w * scale for w in rest]


def _hour_weights() -> list[float]:
    """Relative run starts per hour of the week (Monday 0h first): busy working days."""
    out = []
    for day in range(7):
        for hour in range(24):
            w = 1.0 + 4.0 * math.exp(-(((hour - 14) / 4.0) ** 2))
            out.append(w * (0.4 if day >= 5 else 1.0))
    return out


def _starts(rng: random.Random, n: int, first: dt.datetime, end: dt.datetime) -> list[int]:
    """n sorted start offsets in milliseconds from ``first``, before ``end``, with a weekly rhythm."""
    span_ms = (end - first) // dt.timedelta(milliseconds=1)
    weights = _hour_weights()
    cum = list(itertools.accumulate(weights))
    total = cum[-1]
    week0 = first - dt.timedelta(days=first.weekday(), hours=first.hour, minutes=first.minute)
    offset0 = (first - week0) // dt.timedelta(milliseconds=1)
    weeks = span_ms // (7 * 24 * MS_PER_HOUR) + 2
    out = []
    while len(out) < n:
        for _ in range(n - len(out)):
            slot = bisect.bisect_left(cum, rng.random() * total)
            ms = rng.randrange(weeks) * 7 * 24 * MS_PER_HOUR + slot * MS_PER_HOUR + rng.randrange(MS_PER_HOUR)
            ms -= offset0
            if 0 <= ms < span_ms:
                out.append(ms)
    out.sort()
    return out


def seed(
    url: str,
    runs: int = DEFAULT_RUNS,
    *,
    seed_value: int = DEFAULT_SEED,
    end: dt.datetime = DEFAULT_END,
    open_runs: int = 8,
    batch: int = 20_000,
    replace: bool = False,
    progress: Callable[[str], None] = print,
) -> SeedInfo:
    t0 = time.perf_counter()
    rng = random.Random(seed_value)  # noqa: S311 - a reproducible history, not secrets
    ledger = Ledger(url)
    try:
        ledger.migrate()
        cat = catalog.read_catalog_file(catalog.DEMO_CATALOG)
        first = end - SPAN
        ledger.sync_tiers(cat, now=first)
        tiers = {t.id: t for t in cat}
        free = next(t for t in cat if t.free)
        paid = [t for t in cat if not t.free]
        rtx, h200 = (tiers.get("rtx4090") or paid[0]), (tiers.get("h200") or paid[-1])
        with ledger.engine.connect() as conn:
            existing = conn.scalar(select(Run.id).limit(1))
        if existing is not None:
            if not replace:
                raise SystemExit(f"seed_ledger: {url} already has runs; pass --replace to start it again")
            with ledger.engine.begin() as conn:
                for model in (GrantDaySpend, GrantNotebookSpend, Run, NotebookBinding, GrantMember, Grant):
                    conn.execute(delete(model))

        users = [f"user-{i:03d}" for i in range(USERS)]
        notebooks = {
            u: [f"projects/{u}/{topic}-{k:02d}.ipynb" for k, topic in enumerate(rng.choices(_TOPICS, k=20))]
            for u in users
        }
        grant_ids = [f"grant-{i:02d}" for i in range(GRANTS)]
        members: dict[str, list[str]] = {}
        grant_rows, member_rows = [], []
        for i, gid in enumerate(grant_ids):
            team = rng.sample(users, rng.randint(5, 16))
            members[gid] = team
            start = (first - dt.timedelta(days=rng.randint(0, 120))).date()
            end_date = (end + dt.timedelta(days=rng.randint(30, 900))).date()
            grant_rows.append(
                _complete(
                    Grant.__table__,
                    {
                        "id": gid,
                        "award_number": f"{rng.choice(_FUNDERS)[0]} {rng.randint(1000000, 9999999)}",
                        "title": f"Bench research project {i:02d}",
                        "funder": rng.choice(_FUNDERS)[1],
                        "pi": team[0],
                        "budget_micros": 0,  # set from the runs' cost at the end
                        "currency": "USD",
                        "start_date": start,
                        "end_date": end_date,
                        "created_at": first,
                        "updated_at": first,
                    },
                )
            )
            for j, user in enumerate(team):
                member_rows.append(
                    _complete(
                        GrantMember.__table__,
                        {"grant_id": gid, "user": user, "role": "pi" if j == 0 else "member", "added_at": first},
                    )
                )
        with ledger.engine.begin() as conn:
            conn.execute(insert(Grant), grant_rows)
            conn.execute(insert(GrantMember), member_rows)
        progress(f"seed: {len(grant_rows)} grants, {len(member_rows)} members, {len(users)} users")

        weights = list(itertools.accumulate(_grant_weights(rng)))
        starts = _starts(rng, runs, first, end)
        progress(f"seed: {runs:,} start times drawn in {time.perf_counter() - t0:.1f} s")
        spent = dict.fromkeys(grant_ids, 0)
        counts = dict.fromkeys(grant_ids, 0)
        crossing = 0
        end_ms = (end - first) // dt.timedelta(milliseconds=1)
        reasons = [r for r, _ in END_REASONS]
        reason_cum = list(itertools.accumulate(w for _, w in END_REASONS))
        writer = ledger.engine.connect()
        if ledger.engine.dialect.name == "sqlite":
            # A bigger page cache for this one connection: the random run and kernel ids make
            # their indexes' inserts scattered. Durability settings stay the ledger's own.
            writer.exec_driver_sql("PRAGMA cache_size=-262144")
            writer.commit()
        # One thread makes the rows while this one writes them: the database works without
        # the GIL, so on two cores the two overlap. The rows and their order are the same.
        batches: queue.Queue[list[dict] | None] = queue.Queue(maxsize=2)

        def produce() -> None:
            nonlocal crossing
            rows: list[dict] = []
            for offset in starts:
                if rng.random() < FREE_SHARE:
                    tier, gid = free, None
                    user = rng.choice(users)
                else:
                    tier = h200 if rng.random() < H200_SHARE else rtx
                    gid = grant_ids[bisect.bisect_left(weights, rng.random() * weights[-1])]
                    team = members[gid]
                    user = team[min(int(rng.expovariate(0.35)), len(team) - 1)]
                scale = 4.0 if tier is h200 else 1.0
                duration = min(int(rng.lognormvariate(math.log(40 * 60_000 * scale), 1.1)), MAX_DURATION_MS)
                duration = max(duration, 1_000)
                started = first + dt.timedelta(milliseconds=offset)
                row = {
                    "id": f"{rng.getrandbits(128):032x}",
                    "kernel_id": f"{rng.getrandbits(128):032x}",
                    "kernelspec": f"compute-panel-{tier.id}-python3",
                    "tier_id": tier.id,
                    "grant_id": gid,
                    "user": user,
                    "notebook": None if rng.random() < 0.03 else rng.choice(notebooks[user]),
                    "rate_micros_per_hour": tier.rate_micros_per_hour,
                    "currency": tier.currency,
                    "started": started,
                    "launcher_host": rng.choice(HOSTS),
                    "launcher_pid": rng.randint(1000, 4_000_000),
                    "heartbeat_ms": 15_000,
                }
                if offset + duration >= end_ms:
                    crossing += 1
                    if crossing <= open_runs:
                        row.update(
                            last_heartbeat=end - dt.timedelta(milliseconds=rng.randrange(15_000)),
                            ended=None,
                            end_reason=None,
                            cost_micros=None,
                        )
                        counts[gid or ""] = counts.get(gid or "", 0) + 1
                        rows.append(row)
                        continue
                    duration = max(0, end_ms - 1 - offset)
                ended = started + dt.timedelta(milliseconds=duration)
                cost = fast_cost_micros(tier.rate_micros_per_hour, duration)
                row.update(
                    last_heartbeat=ended,
                    ended=ended,
                    end_reason=reasons[bisect.bisect_left(reason_cum, rng.random() * reason_cum[-1])],
                    cost_micros=cost,
                )
                if gid is not None:
                    spent[gid] += cost
                counts[gid or ""] = counts.get(gid or "", 0) + 1
                rows.append(row)
                if len(rows) >= batch:
                    batches.put(rows)
                    rows = []
            batches.put(rows)

        failed: list[BaseException] = []

        def produce_all() -> None:
            try:
                produce()
            except BaseException as e:  # noqa: BLE001 - handed to the writer thread
                failed.append(e)
            finally:
                batches.put(None)

        producer = threading.Thread(target=produce_all, name="seed-rows", daemon=True)
        producer.start()
        written = 0
        while (rows := batches.get()) is not None:
            if not rows:
                continue
            with writer.begin():
                writer.execute(insert(Run), rows)
            written += len(rows)
            elapsed = time.perf_counter() - t0
            progress(f"seed: {written:>9,} runs  {elapsed:6.1f} s  ({written / elapsed:,.0f} runs/s)")
        producer.join()
        writer.close()
        if failed:
            raise failed[0]
        t1 = time.perf_counter()
        days = ledger.rebuild_grant_spend()
        progress(f"seed: {days:,} grant_day_spend rows (and grant_notebook_spend) in {time.perf_counter() - t1:.1f} s")

        with ledger.engine.begin() as conn:
            for gid in grant_ids:
                factor = rng.uniform(0.8, 2.5)
                budget = max(1_000_000, int(spent[gid] * factor) // 1_000_000 * 1_000_000)
                conn.execute(update(Grant).where(Grant.id == gid).values(budget_micros=budget))
        if ledger.engine.dialect.name == "postgresql":
            t1 = time.perf_counter()
            with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                tables = ("runs", "grant_day_spend", "grant_notebook_spend", "grants", "grant_members", "tiers")
                for table in (*tables, "tier_rates"):
                    conn.execute(text(f"VACUUM ANALYZE {table}"))
            progress(f"seed: VACUUM ANALYZE in {time.perf_counter() - t1:.1f} s")
        seconds = time.perf_counter() - t0
        counts.pop("", None)
        progress(f"seed: {runs:,} runs ({min(crossing, open_runs)} open) in {seconds:.1f} s into {url}")
        return SeedInfo(url, runs, min(crossing, open_runs), end, seconds, counts)
    finally:
        ledger.dispose()


_TOPICS = ("train", "eval", "ablation", "finetune", "explore", "plots", "data-prep", "sweep", "infer", "debug")
_FUNDERS = (
    ("NSF", "National Science Foundation"),
    ("NIH", "National Institutes of Health"),
    ("DOE", "Department of Energy"),
    ("ERC", "European Research Council"),
    ("SNSF", "Swiss National Science Foundation"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db_url", nargs="?", help="ledger URL (default: a SQLite file under the temp folder)")
    parser.add_argument("--db-url", dest="db_url_opt", help="ledger URL, e.g. postgresql+psycopg://user@host/db")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--end", type=dt.datetime.fromisoformat, default=DEFAULT_END, help="naive UTC, ISO 8601")
    parser.add_argument("--open", type=int, default=8, help="runs left open at --end")
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--replace", action="store_true", help="delete the ledger's runs and grants first")
    args = parser.parse_args(argv)
    url = args.db_url_opt or args.db_url or default_url(args.runs)
    info = seed(
        url,
        args.runs,
        seed_value=args.seed,
        end=args.end,
        open_runs=args.open,
        batch=args.batch,
        replace=args.replace,
    )
    heavy = sorted(info.runs_per_grant.items(), key=lambda kv: -kv[1])
    print(f"runs per grant: heaviest {heavy[0][0]} {heavy[0][1]:,}, median {heavy[len(heavy) // 2][1]:,}")
    print(f"ledger: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
