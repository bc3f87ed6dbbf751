"""Re-runs in the ledger: a notebook executed headlessly on a tier, and its run."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, update

from .engine import LedgerError, iso, utcnow
from .ledger import Ledger
from .models import Rerun


@dataclass(frozen=True)
class RerunView:
    id: str
    user: str
    source: str
    output: str | None
    tier_id: str
    grant_id: str | None
    kernelspec: str
    run_id: str | None
    source_run_id: str | None
    status: str
    cells_total: int
    cells_done: int
    error: str | None
    time_limit_s: int
    created: dt.datetime
    ended: dt.datetime | None

    @classmethod
    def of(cls, row: Rerun) -> RerunView:
        return cls(**{f: getattr(row, f) for f in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["created"] = iso(self.created)
        out["ended"] = iso(self.ended)
        return out


def create_rerun(ledger: Ledger, **fields: Any) -> RerunView:
    now = fields.pop("now", None) or utcnow()
    row = Rerun(id=uuid.uuid4().hex, created=now, cells_done=0, **fields)
    with ledger.session() as s, s.begin():
        s.add(row)
        s.flush()
        return RerunView.of(row)


def update_rerun(ledger: Ledger, rerun_id: str, **fields: Any) -> RerunView:
    """Change a re-run; a finished one (``ended`` set) is never changed again."""
    with ledger.session() as s, s.begin():
        s.execute(update(Rerun).where(Rerun.id == rerun_id, Rerun.ended.is_(None)).values(**fields))
        row = s.get(Rerun, rerun_id)
        if row is None:
            raise LedgerError(f"re-run {rerun_id!r}: no such re-run")
        return RerunView.of(row)


def get_rerun(ledger: Ledger, rerun_id: str) -> RerunView | None:
    with ledger.session() as s:
        row = s.get(Rerun, rerun_id)
        return RerunView.of(row) if row else None


def rerun_for_run(ledger: Ledger, run_id: str) -> RerunView | None:
    with ledger.session() as s:
        row = s.scalars(select(Rerun).where(Rerun.run_id == run_id)).first()
        return RerunView.of(row) if row else None


def list_reruns(ledger: Ledger, user: str | None, source: str | None = None, limit: int = 100) -> list[RerunView]:
    """Newest first; ``user`` None for every user's (an admin)."""
    query = select(Rerun)
    if user is not None:
        query = query.where(Rerun.user == user)
    if source is not None:
        query = query.where(Rerun.source == source)
    with ledger.session() as s:
        return [RerunView.of(r) for r in s.scalars(query.order_by(Rerun.created.desc(), Rerun.id).limit(limit))]


def close_abandoned(ledger: Ledger, user: str, reason: str, now: dt.datetime | None = None) -> int:
    """Re-runs of ``user`` left running by a server that stopped: failed, with the reason."""
    now = now or utcnow()
    with ledger.session() as s, s.begin():
        return s.execute(
            update(Rerun)
            .where(Rerun.user == user, Rerun.ended.is_(None))
            .values(status="failed", error=reason, ended=now)
        ).rowcount
