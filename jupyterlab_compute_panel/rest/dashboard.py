"""The PI's dashboard of a grant, and its exports: REST handlers over ledger/rollups.py.

Who may look: the grant's PI and co-PIs (role ``pi``), its viewers, and admins. A member
sees the grant's spent figure in the panel and their own runs, not the others' spend.

Every figure of one dashboard reply is computed in one snapshot of the ledger at one
``now`` (``Ledger.snapshot``), so the breakdowns, the months and the burn-down add up
exactly to the summary's ``spent`` even while runs close. Exports are computed the same
way; each export's rows sum exactly to its ``total``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..domain.money import format_amount
from ..ledger import GrantView, RunFilter, RunView, burn_down, grant_rollup, iso, spend_by, spend_by_month, utcnow
from ..metering.service import MeteringService
from .handlers import RUN_QUERY, ApiError, BaseHandler, _visible_grant, run_filter

BREAKDOWNS = ("tier", "user", "notebook", "month")
EXPORT_TABLES = ("runs", *BREAKDOWNS)
EXPORT_FORMATS = ("csv", "json")
_PAGE = 5000


async def _dashboard_grant(service: MeteringService, grant_id: str) -> GrantView:
    grant = await _visible_grant(service, grant_id)
    if not (service.is_admin or grant.role_of(service.owner) in ("pi", "viewer")):
        raise ApiError(
            403,
            f"Only the PI, co-PIs and viewers of grant {grant.award_number} see its dashboard; "
            "you see your own runs in the run history",
            "grant_id",
        )
    return grant


def _rows(rows: list) -> list[dict[str, Any]]:
    return [{"key": r.key, "label": r.label, "amount": format_amount(r.micros)} for r in rows]


def dashboard(service: MeteringService, grant_id: str, now: dt.datetime) -> dict[str, Any]:
    """Every figure of the dashboard, from one snapshot of the ledger (runs in the db thread)."""
    ledger = service.ledger
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


class GrantDashboardHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, grant_id: str) -> None:
        self.query(())
        service = self.service
        grant = await _dashboard_grant(service, grant_id)
        now = utcnow()
        figures = await service.db(dashboard, service, grant_id, now)
        spent = await service.db(service.ledger.grant_spend, [grant.id], now)
        self.reply(
            {
                "grant": {**grant.to_json(spent[grant.id], now.date()), "role": grant.role_of(service.owner)},
                "may_edit": service.may_edit_grant(grant),
                "server_time": iso(now),
                **figures,
            }
        )


# -- exports ---------------------------------------------------------------------------------------

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


def _run_record(run: RunView, now: dt.datetime) -> dict[str, Any]:
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


def _breakdown(service: MeteringService, grant_id: str, table: str, now: dt.datetime) -> tuple[list, list, int]:
    """(columns, records, total micro-units) of one breakdown."""
    ledger = service.ledger
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


def _run_page(service: MeteringService, flt: RunFilter, after: tuple | None, now: dt.datetime) -> list[RunView]:
    return service.ledger.runs_after(flt, after, _PAGE)


def _csv_header(columns: list | tuple) -> str:
    return _csv_line(columns, {c: c for c in columns})


def _csv_line(columns: list | tuple, record: dict[str, Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(["" if record.get(c) is None else record[c] for c in columns])
    return out.getvalue()


class GrantExportHandler(BaseHandler):
    """``/compute-panel/grants/{id}/export/{table}.{csv|json}``: a download. The runs export
    takes the runs table's filters (user, tier, notebook, status, since, until, q) so that
    what is exported is what is shown; it is streamed in pages, oldest run first."""

    @web.authenticated
    @authorized
    async def get(self, grant_id: str, table: str, fmt: str) -> None:
        if table not in EXPORT_TABLES:
            raise ApiError(404, f"{table!r} is not an export (known: {', '.join(EXPORT_TABLES)})", "table")
        if fmt not in EXPORT_FORMATS:
            raise ApiError(404, f"{fmt!r} is not an export format (known: csv, json)", "format")
        allowed = tuple(q for q in RUN_QUERY if q not in ("grant", "kernel", "limit", "offset", "sort"))
        args = self.query(allowed if table == "runs" else ())
        service = self.service
        grant = await _dashboard_grant(service, grant_id)
        now = utcnow()
        ctype = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
        self.set_header("Content-Type", ctype)
        self.set_header("Content-Disposition", f'attachment; filename="{grant.id}-{table}.{fmt}"')
        self.set_header("X-Compute-Panel-As-Of", iso(now))
        if table != "runs":
            columns, records, total = await service.db(_breakdown, service, grant.id, table, now)
            if fmt == "csv":
                self.finish(
                    "".join([_csv_header(columns), *(_csv_line(columns, r) for r in records)]),
                    set_content_type=ctype,
                )
            else:
                self.reply(self._json_head(grant, table, now) | {"rows": records, "total": format_amount(total)})
            return
        flt = run_filter(args, grant=grant.id)
        total = 0
        after = None
        first = True
        if fmt == "csv":
            self.write(_csv_header(RUN_COLUMNS))
        else:
            head = self._json_head(grant, table, now)
            self.write(json.dumps(head)[:-1] + ', "rows": [')
        while True:
            page = await service.db(_run_page, service, flt, after, now)
            chunk = []
            for run in page:
                record = _run_record(run, now)
                total += run.cost_micros(now)
                if fmt == "csv":
                    chunk.append(_csv_line(RUN_COLUMNS, record))
                else:
                    chunk.append(("" if first else ",") + json.dumps(record))
                first = False
            self.write("".join(chunk))
            await self.flush()
            if len(page) < _PAGE:
                break
            after = (page[-1].started, page[-1].id)
        if fmt == "json":
            self.write(f'], "total": "{format_amount(total)}"}}')
        self.finish(set_content_type=ctype)

    @staticmethod
    def _json_head(grant: GrantView, table: str, now: dt.datetime) -> dict[str, Any]:
        return {"grant_id": grant.id, "table": table, "currency": grant.currency, "as_of": iso(now)}


_ID = r"[^/]+"
dashboard_handlers = [
    (rf"/compute-panel/grants/({_ID})/dashboard", GrantDashboardHandler),
    (rf"/compute-panel/grants/({_ID})/export/([a-z_]+)\.([a-z]+)", GrantExportHandler),
]
