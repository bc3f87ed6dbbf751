"""Runs' environment fingerprints in the ledger."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from .engine import LedgerBase, LedgerError, iso, utcnow
from .models import ENVIRONMENT_STATUSES, RunEnvironment


@dataclass(frozen=True)
class EnvironmentView:
    """A run's stored environment fingerprint."""

    run_id: str
    captured_at: dt.datetime
    fingerprint: dict[str, Any]
    packages_hash: str | None
    status: str
    error: str | None

    @classmethod
    def of(cls, row: RunEnvironment) -> EnvironmentView:
        return cls(row.run_id, row.captured_at, json.loads(row.fingerprint), row.packages_hash, row.status, row.error)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "captured_at": iso(self.captured_at),
            "status": self.status,
            "error": self.error,
            "packages_hash": self.packages_hash,
            "fingerprint": self.fingerprint,
        }


class EnvironmentsMixin(LedgerBase):
    """A run's captured environment."""

    def save_environment(
        self,
        run_id: str,
        *,
        fingerprint: Mapping[str, Any],
        packages_hash: str | None,
        status: str,
        error: str | None = None,
        captured_at: dt.datetime | None = None,
    ) -> EnvironmentView:
        """Record (or replace: a partial capture is completed later) a run's fingerprint."""
        if status not in ENVIRONMENT_STATUSES:
            raise LedgerError(f"environment status must be one of {', '.join(ENVIRONMENT_STATUSES)}, got {status!r}")
        if packages_hash is not None and len(packages_hash) > 80:
            raise LedgerError("packages_hash is longer than 80 characters")
        text = json.dumps(fingerprint, sort_keys=True, allow_nan=False)
        try:
            with self.session() as s, s.begin():
                row = s.get(RunEnvironment, run_id)
                if row is None:
                    row = RunEnvironment(run_id=run_id)
                    s.add(row)
                row.captured_at = captured_at or utcnow()
                row.fingerprint, row.packages_hash, row.status, row.error = text, packages_hash, status, error
                s.flush()
                return EnvironmentView.of(row)
        except IntegrityError as e:
            raise LedgerError(f"cannot record the environment of run {run_id!r}: {e.orig}") from None

    def copy_environment(self, from_run: str, to_run: str) -> EnvironmentView | None:
        """Give ``to_run`` the fingerprint of ``from_run`` (the same kernel, metered again in a
        new run); None when ``from_run`` has none yet."""
        with self.session() as s, s.begin():
            source = s.get(RunEnvironment, from_run)
            if source is None or s.get(RunEnvironment, to_run) is not None:
                return None
            row = RunEnvironment(
                run_id=to_run,
                captured_at=source.captured_at,
                fingerprint=source.fingerprint,
                packages_hash=source.packages_hash,
                status=source.status,
                error=source.error,
            )
            s.add(row)
            s.flush()
            return EnvironmentView.of(row)

    def get_environment(self, run_id: str) -> EnvironmentView | None:
        with self.session() as s:
            row = s.get(RunEnvironment, run_id)
            return EnvironmentView.of(row) if row else None
