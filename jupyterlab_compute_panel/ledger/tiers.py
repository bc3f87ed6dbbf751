"""The catalog's tiers in the ledger: their labels and rate history, and what runs on each."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .engine import LedgerBase, utcnow
from .models import Run, TierRate, TierRow


class TiersMixin(LedgerBase):
    """The tiers and their rates."""

    def sync_tiers(self, tiers: Iterable, now: dt.datetime | None = None) -> None:
        """Record the catalog's tiers and a new rate row for every changed price."""
        now = now or utcnow()
        with self.session() as s, s.begin():
            for tier in tiers:
                row = s.get(TierRow, tier.id)
                payload = json.dumps(tier.summary_json(), sort_keys=True)
                if row is None:
                    s.add(
                        TierRow(
                            id=tier.id,
                            label=tier.label,
                            reliability=tier.reliability,
                            simulated=tier.simulated,
                            catalog_json=payload,
                            updated_at=now,
                        )
                    )
                else:
                    row.label, row.reliability, row.simulated = tier.label, tier.reliability, tier.simulated
                    if row.catalog_json != payload:
                        row.catalog_json, row.updated_at = payload, now
                latest = s.scalars(
                    select(TierRate).where(TierRate.tier_id == tier.id).order_by(TierRate.id.desc()).limit(1)
                ).first()
                if latest is None or (latest.rate_micros_per_hour, latest.currency) != (
                    tier.rate_micros_per_hour,
                    tier.currency,
                ):
                    s.add(
                        TierRate(
                            tier_id=tier.id,
                            rate_micros_per_hour=tier.rate_micros_per_hour,
                            currency=tier.currency,
                            source=tier.price_source,
                            price_date=tier.price_date,
                            effective_from=now,
                        )
                    )

    def tier_labels(self) -> dict[str, str]:
        with self.session() as s:
            return dict(s.execute(select(TierRow.id, TierRow.label)).all())

    def rate_history(self, tier_id: str) -> list[tuple[int, str, dt.datetime]]:
        with self.session() as s:
            rows = s.execute(
                select(TierRate.rate_micros_per_hour, TierRate.currency, TierRate.effective_from)
                .where(TierRate.tier_id == tier_id)
                .order_by(TierRate.id)
            ).all()
            return [tuple(r) for r in rows]

    def last_rate(self, tier_id: str) -> tuple[int, str, str | None, dt.date | None] | None:
        """(rate, currency, source, price date) of the tier's latest rate row, or None."""
        with self.session() as s:
            row = s.execute(
                select(TierRate.rate_micros_per_hour, TierRate.currency, TierRate.source, TierRate.price_date)
                .where(TierRate.tier_id == tier_id)
                .order_by(TierRate.id.desc())
                .limit(1)
            ).first()
            return tuple(row) if row is not None else None  # type: ignore[return-value]

    def running_by_tier(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(Run.tier_id, func.count()).where(Run.ended.is_(None)).group_by(Run.tier_id)).all()
            return {tier: count for tier, count in rows}

    @staticmethod
    def _label(s: Session, tier_id: str) -> str:
        row = s.get(TierRow, tier_id)
        return row.label if row else tier_id
