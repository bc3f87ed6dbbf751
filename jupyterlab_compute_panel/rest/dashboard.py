"""The PI's dashboard of a grant and its exports (``/compute-panel/grants/{id}/dashboard``,
``.../export/{table}.{csv|json}``); the figures come from ``metering/dashboards.py``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..domain.money import format_amount
from ..errors import NotFound
from ..ledger import GrantView, iso, utcnow
from ..metering.dashboards import EXPORT_TABLES, RUN_COLUMNS, run_record
from .base import BaseHandler, arg
from .runs import RUN_QUERY, run_filter

EXPORT_FORMATS = ("csv", "json")


def _csv_header(columns: list | tuple) -> str:
    return _csv_line(columns, {c: c for c in columns})


def _csv_line(columns: list | tuple, record: dict[str, Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(["" if record.get(c) is None else record[c] for c in columns])
    return out.getvalue()


class GrantDashboardHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, grant_id: str) -> None:
        self.query(())
        self.reply(await self.service.dashboard_json(grant_id))


class GrantExportHandler(BaseHandler):
    """``/compute-panel/grants/{id}/export/{table}.{csv|json}``: a download. The runs export
    takes the runs table's filters (user, tier, notebook, status, since, until, q) so that
    what is exported is what is shown; it is streamed in pages, oldest run first."""

    @web.authenticated
    @authorized
    async def get(self, grant_id: str, name: str) -> None:
        table, dot, fmt = name.rpartition(".")
        if not dot:
            raise NotFound(f"{name!r} is not an export: name one as <table>.<format>, such as runs.csv", "table")
        if table not in EXPORT_TABLES:
            raise NotFound(f"{table!r} is not an export (known: {', '.join(EXPORT_TABLES)})", "table")
        if fmt not in EXPORT_FORMATS:
            raise NotFound(f"{fmt!r} is not an export format (known: csv, json)", "format")
        allowed = tuple(q for q in RUN_QUERY if q not in ("grant", "kernel", "limit", "offset", "sort"))
        args = self.query(allowed if table == "runs" else ())
        service = self.service
        grant = await service.overseen_grant(grant_id)
        now = utcnow()
        ctype = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
        self.set_header("Content-Type", ctype)
        self.set_header("Content-Disposition", f'attachment; filename="{grant.id}-{table}.{fmt}"')
        self.set_header("X-Compute-Panel-As-Of", iso(now))
        if table != "runs":
            columns, records, total = await service.export_breakdown(grant, table, now)
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
        first = True
        if fmt == "csv":
            self.write(_csv_header(RUN_COLUMNS))
        else:
            head = self._json_head(grant, table, now)
            self.write(json.dumps(head)[:-1] + ', "rows": [')
        async for page in service.export_runs(flt):
            chunk = []
            for run in page:
                record = run_record(run, now)
                total += run.cost_micros(now)
                if fmt == "csv":
                    chunk.append(_csv_line(RUN_COLUMNS, record))
                else:
                    chunk.append(("" if first else ",") + json.dumps(record))
                first = False
            self.write("".join(chunk))
            await self.flush()
        if fmt == "json":
            self.write(f'], "total": "{format_amount(total)}"}}')
        self.finish(set_content_type=ctype)

    @staticmethod
    def _json_head(grant: GrantView, table: str, now: dt.datetime) -> dict[str, Any]:
        return {"grant_id": grant.id, "table": table, "currency": grant.currency, "as_of": iso(now)}


handlers = [
    (rf"/compute-panel/grants/{arg('grant_id')}/dashboard", GrantDashboardHandler),
    (rf"/compute-panel/grants/{arg('grant_id')}/export/{arg('name')}", GrantExportHandler),
]
