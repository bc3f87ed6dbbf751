"""``jupyter compute-panel``: admin commands on the same config as the server."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .app import ComputePanel, ConfigError, read_server_config
from .catalog import CatalogError
from .grants import GrantError, parse_grant, read_grants_file
from .kernelspecs import KernelspecError
from .ledger import LedgerError, utcnow
from .money import format_amount


def _panel(args: argparse.Namespace) -> ComputePanel:
    panel = ComputePanel(config=read_server_config())
    if args.db_url:
        panel.db_url = args.db_url
    if args.catalog:
        panel.catalog_file = str(args.catalog)
    return panel


def _service(args: argparse.Namespace, ksm=None, write: bool = False):
    return _panel(args).build_service(ksm, write=write)


def cmd_grants_list(args: argparse.Namespace) -> int:
    service = _service(args)
    grants = service.ledger.list_grants()
    now = utcnow()
    spent = service.ledger.grant_spend([g.id for g in grants], now)
    rows = [g.to_json(spent[g.id], now.date()) for g in grants]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print("No grants yet: add one with 'jupyter compute-panel grants add' or 'grants import FILE'.")
    for g in rows:
        state = "active" if g["active"] else "inactive"
        print(
            f"{g['id']:<24} {g['award_number']:<22} {g['spent']:>12} of {g['budget']} {g['currency']}  {state}  {g['title']}"
        )
    return 0


def cmd_grants_add(args: argparse.Namespace) -> int:
    grant = parse_grant(
        {
            "id": args.id,
            "award_number": args.award_number,
            "title": args.title,
            "funder": args.funder,
            "pi": args.pi,
            "budget": args.budget,
            "currency": args.currency,
            "start_date": args.start_date,
            "end_date": args.end_date,
        }
    )
    view = _service(args).ledger.upsert_grant(grant)
    print(f"Saved grant {view.id} ({view.award_number}), budget {format_amount(view.budget_micros)} {view.currency}.")
    return 0


def cmd_grants_import(args: argparse.Namespace) -> int:
    grants = read_grants_file(args.file)
    _service(args).ledger.upsert_grants(grants)
    print(f"Imported {len(grants)} grant(s) from {args.file}.")
    return 0


def cmd_kernelspecs_sync(args: argparse.Namespace) -> int:
    from jupyter_client.kernelspec import KernelSpecManager

    panel = _panel(args)
    panel.write_kernelspecs = True  # this command is how admins write them when the server does not
    panel.build_service(KernelSpecManager(), write=True)
    print(f"Tier kernelspecs are up to date in {panel.kernelspec_dir}.")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    closed = _service(args).reconcile_at_start()
    print(f"Closed {len(closed)} orphaned run(s).")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jupyter compute-panel", description="Compute tiers, grants and the ledger.")
    p.add_argument("--db-url", help="ledger URL (default: ComputePanel.db_url from the server config)")
    p.add_argument("--catalog", type=Path, help="tier catalog file (default: ComputePanel.catalog_file)")
    sub = p.add_subparsers(dest="command", required=True)

    grants = sub.add_parser("grants", help="list, add or import grants").add_subparsers(dest="action", required=True)
    g_list = grants.add_parser("list", help="list grants with their spend")
    g_list.add_argument("--json", action="store_true")
    g_list.set_defaults(func=cmd_grants_list)
    g_add = grants.add_parser("add", help="add or update a grant")
    for name in ("id", "award-number", "title", "funder", "pi", "budget", "currency", "start-date", "end-date"):
        g_add.add_argument(f"--{name}", required=True)
    g_add.set_defaults(func=cmd_grants_add)
    g_import = grants.add_parser("import", help="add or update grants from a JSON or CSV file (all or nothing)")
    g_import.add_argument("file", type=Path)
    g_import.set_defaults(func=cmd_grants_import)

    ks = sub.add_parser("kernelspecs", help="write the tier kernelspecs").add_subparsers(dest="action", required=True)
    ks.add_parser("sync", help="derive the tier kernelspecs from the catalog").set_defaults(func=cmd_kernelspecs_sync)
    sub.add_parser("reconcile", help="close runs left open by a server that is gone").set_defaults(func=cmd_reconcile)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (GrantError, CatalogError, ConfigError, LedgerError, KernelspecError) as e:
        print(f"jupyter compute-panel: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
