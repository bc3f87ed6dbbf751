"""The PI's dashboard of a grant and its exports: every figure from one snapshot.

Who may look: the grant's PI and co-PIs (role ``pi``), its viewers, and admins. A member
sees the grant's spent figure in the panel and their own runs, not the others' spend.

Every figure of one dashboard reply is computed in one snapshot of the ledger at one
``now`` (``Ledger.snapshot``), so the breakdowns, the months and the burn-down add up
exactly to the summary's ``spent`` even while runs close. Exports are computed the same
way; each export's rows sum exactly to its ``total``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from ..domain.money import format_amount
from ..ledger import GrantView, RunFilter, RunView, burn_down, grant_rollup, iso, spend_by, spend_by_month, utcnow

BREAKDOWNS = ("tier", "user", "notebook", "month")
EXPORT_TABLES = ("runs", *BREAKDOWNS)
_PAGE = 5000


def _rows(rows: list) -> list[dict[str, Any]]:
    return [{"key": r.key, "label": r.label, "amount": format_amount(r.micros)} for r in rows]


def dashboard(ledger: Any, grant_id: str, now: dt.datetime) -> dict[str, Any]:
    """Every figure of the dashboard, from one snapshot of the ledger (runs in the db thread)."""
    with ledger.snapshot():
        rollup = grant_rollup(ledger, grant_id, now)
        _, committed = ledger.spent_and_committed(grant_id, now)
        by = {dim: spend_by(ledger, grant_id, dim, now) for dim in ("tier", "user", "notebook")}
        months = spend_by_month(ledger, grant_id, now)
        points = burn_down(ledger, grant_id, now)
        labels = ledger.tier_labels()
    tiers_seen = sorted({t for m in months for t in m.by_tier} | {r.key for r in by["tier"]})
    return {
        "summary": {
            "currency": rollup.currency,
            "budget": format_amount(rollup.budget_micros),
            "spent": format_amount(rollup.spent_micros),
            "committed": format_amount(committed),
            "remaining": format_amount(rollup.remaining_micros),
            "spent_7d": format_amount(rollup.spent_7d_micros),
            "spent_30d": format_amount(rollup.spent_30d_micros),
            "burn_7d_per_day": format_amount(rollup.burn_7d_micros_per_day),
            "burn_30d_per_day": format_amount(rollup.burn_30d_micros_per_day),
            "forecast_exhaustion": rollup.forecast_exhaustion.isoformat() if rollup.forecast_exhaustion else None,
            "start_date": rollup.start_date.isoformat(),
            "end_date": rollup.end_date.isoformat(),
            "exhausts_before_end": rollup.exhausts_before_end,
            "open_runs": rollup.open_runs,
        },
        "tiers": [{"id": t, "label": labels.get(t, t)} for t in tiers_seen],
        "by_tier": _rows(by["tier"]),
        "by_user": _rows(by["user"]),
        "by_notebook": _rows(by["notebook"]),
        "by_month": [
            {
                "month": m.month,
                "by_tier": {t: format_amount(v) for t, v in m.by_tier.items()},
                "total": format_amount(m.total_micros),
            }
            for m in months
        ],
        "burn_down": [
            {
                "day": p.day.isoformat(),
                "spent": format_amount(p.spent_micros),
                "remaining": format_amount(p.remaining_micros),
            }
            for p in points
        ],
    }


RUN_COLUMNS = (
    "id",
    "user",
    "tier_id",
    "tier_label",
    "notebook",
    "kernelspec",
    "started",
    "ended",
    "end_reason",
    "duration_s",
    "rate_per_hour",
    "cost",
    "currency",
    "status",
)


def run_record(run: RunView, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": run.id,
        "user": run.user,
        "tier_id": run.tier_id,
        "tier_label": run.tier_label,
        "notebook": run.notebook,
        "kernelspec": run.kernelspec,
        "started": iso(run.started),
        "ended": iso(run.ended),
        "end_reason": run.end_reason,
        "duration_s": format_amount(run.duration_ms(now) * 1000, 0),
        "rate_per_hour": format_amount(run.rate_micros_per_hour),
        "cost": format_amount(run.cost_micros(now)),
        "currency": run.currency,
        "status": "open" if run.is_open else "closed",
    }


def breakdown(ledger: Any, grant_id: str, table: str, now: dt.datetime) -> tuple[list, list, int]:
    """(columns, records, total micro-units) of one breakdown."""
    with ledger.snapshot():
        if table == "month":
            months = spend_by_month(ledger, grant_id, now)
            tiers = sorted({t for m in months for t in m.by_tier})
            columns = ["month", *tiers, "total"]
            records = [
                {
                    "month": m.month,
                    **{t: format_amount(m.by_tier.get(t, 0)) for t in tiers},
                    "total": format_amount(m.total_micros),
                }
                for m in months
            ]
            return columns, records, sum(m.total_micros for m in months)
        rows = spend_by(ledger, grant_id, table, now)
    records = [{table: r.key, "label": r.label, "amount": format_amount(r.micros)} for r in rows]
    return [table, "label", "amount"], records, sum(r.micros for r in rows)


class DashboardsMixin:
    """A grant's figures for those who oversee it (part of ``MeteringService``)."""

    async def dashboard_json(self, grant_id: str) -> dict[str, Any]:
        grant = await self.overseen_grant(grant_id)
        now = utcnow()
        figures = await self.db(dashboard, self.ledger, grant.id, now)
        spent = await self.db(self.ledger.grant_spend, [grant.id], now)
        return {
            "grant": {**grant.to_json(spent[grant.id], now.date()), "role": grant.role_of(self.owner)},
            "may_edit": self.may_edit_grant(grant),
            "server_time": iso(now),
            **figures,
        }

    async def export_breakdown(self, grant: GrantView, table: str, now: dt.datetime) -> tuple[list, list, int]:
        """(columns, records, total micro-units) of one breakdown of an overseen grant."""
        return await self.db(breakdown, self.ledger, grant.id, table, now)

    async def export_runs(self, flt: RunFilter) -> AsyncIterator[list[RunView]]:
        """The runs of an export, oldest first, in pages read one at a time."""
        after = None
        while True:
            page = await self.db(self.ledger.runs_after, flt, after, _PAGE)
            yield page
            if len(page) < _PAGE:
                return
            after = (page[-1].started, page[-1].id)
