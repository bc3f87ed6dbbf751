"""``jupyter compute-panel``: admin commands on the same config as the server."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..domain.catalog import CatalogError
from ..domain.grants import GrantError, parse_grant, parse_member, read_grants_file
from ..domain.money import MoneyError, format_amount, parse_amount
from ..errors import ConfigError
from ..ledger import LedgerError, utcnow
from ..metering.config import ComputePanelSettings
from ..metering.kernelspecs import KernelspecError


def _panel(args: argparse.Namespace) -> ComputePanelSettings:
    panel = ComputePanelSettings.from_server_config()
    if args.db_url:
        panel.db_url = args.db_url
    if args.catalog:
        panel.catalog_file = str(args.catalog)
    return panel


def _service(args: argparse.Namespace, ksm=None, write: bool = False):
    return _panel(args).build_service(ksm, write=write)


def cmd_grants_list(args: argparse.Namespace) -> int:
    today = utcnow().date()
    rows = [g.to_json(spent, today) for g, spent in _service(args).all_grants()]
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
    view = _service(args).save_grant(grant)
    print(f"Saved grant {view.id} ({view.award_number}), budget {format_amount(view.budget_micros)} {view.currency}.")
    return 0


def cmd_grants_import(args: argparse.Namespace) -> int:
    grants = read_grants_file(args.file)
    written = _service(args).import_grants(grants, only_missing=args.only_missing)
    if args.only_missing:
        kept = len(grants) - len(written)
        print(f"Added {len(written)} grant(s) from {args.file}; {kept} already there, left as they are.")
    else:
        print(f"Imported {len(grants)} grant(s) from {args.file}.")
    return 0


def _print_grant(view, spent_micros: int) -> None:
    data = view.to_json(spent_micros, utcnow().date())
    print(f"{data['id']}  {data['award_number']}  ({'active' if data['active'] else 'inactive'})")
    print(f"  {data['title']}, funded by {data['funder']}")
    print(
        f"  budget {data['budget']} {data['currency']}, spent {data['spent']}, from {data['start_date']} to {data['end_date']}"
    )
    tiers = ", ".join(data["allowed_tiers"]) if data["allowed_tiers"] else "every tier"
    print(
        f"  allows {tiers}; sensitive data: {'yes' if data['sensitive'] else 'no'}; "
        f"hard stop: {'on' if data['hard_stop'] else 'off'}; alerts at {', '.join(f'{t}%' for t in data['alert_thresholds'])}; "
        f"minimum runtime {data['min_runtime_minutes']:g} min"
    )
    for member in data["members"]:
        print(f"  {member['role']:<7} {member['user']}")


def cmd_grants_show(args: argparse.Namespace) -> int:
    view, spent = _service(args).grant_with_spend(args.grant)
    if args.json:
        print(json.dumps(view.to_json(spent, utcnow().date()), indent=1))
    else:
        _print_grant(view, spent)
    return 0


def cmd_grants_set_budget(args: argparse.Namespace) -> int:
    try:
        budget = parse_amount(args.budget)
    except MoneyError as e:
        raise GrantError(f"budget: {e}") from None
    view = _service(args).admin_set_budget(args.grant, budget)
    print(f"Grant {view.id} now has a budget of {format_amount(view.budget_micros)} {view.currency}.")
    return 0


def cmd_grants_add_member(args: argparse.Namespace) -> int:
    user, role = parse_member({"user": args.user, "role": args.role})
    view = _service(args).admin_set_member(args.grant, user, role, keep_role=args.keep_role)
    print(f"{user} is now {view.role_of(user)} of grant {view.id}.")
    return 0


def cmd_grants_remove_member(args: argparse.Namespace) -> int:
    view = _service(args).admin_remove_member(args.grant, args.user)
    print(f"{args.user} is no longer a member of grant {view.id}.")
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    print(_panel(args).owner)
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
    g_show = grants.add_parser("show", help="a grant's policies, members and spend")
    g_show.add_argument("grant")
    g_show.add_argument("--json", action="store_true")
    g_show.set_defaults(func=cmd_grants_show)
    g_budget = grants.add_parser("set-budget", help="change a grant's budget")
    g_budget.add_argument("grant")
    g_budget.add_argument("budget", help="a decimal amount in the grant's currency, e.g. 2500.00")
    g_budget.set_defaults(func=cmd_grants_set_budget)
    g_member = grants.add_parser("add-member", help="add a member to a grant, or change their role")
    g_member.add_argument("grant")
    g_member.add_argument("user")
    g_member.add_argument("role", nargs="?", default="member", choices=("pi", "member", "viewer"))
    g_member.add_argument(
        "--keep-role", action="store_true", help="leave a user who has a role on the grant as they are"
    )
    g_member.set_defaults(func=cmd_grants_add_member)
    g_remove = grants.add_parser("remove-member", help="remove a member from a grant")
    g_remove.add_argument("grant")
    g_remove.add_argument("user")
    g_remove.set_defaults(func=cmd_grants_remove_member)
    g_import = grants.add_parser("import", help="add or update grants from a JSON or CSV file (all or nothing)")
    g_import.add_argument("file", type=Path)
    g_import.add_argument(
        "--only-missing", action="store_true", help="add only the grants not in the ledger; change no existing one"
    )
    g_import.set_defaults(func=cmd_grants_import)

    ks = sub.add_parser("kernelspecs", help="write the tier kernelspecs").add_subparsers(dest="action", required=True)
    ks.add_parser("sync", help="derive the tier kernelspecs from the catalog").set_defaults(func=cmd_kernelspecs_sync)
    sub.add_parser("reconcile", help="close runs left open by a server that is gone").set_defaults(func=cmd_reconcile)
    sub.add_parser("whoami", help="the user runs are billed as (ComputePanel.owner)").set_defaults(func=cmd_whoami)
    # Handled by main() before parsing: its options are the gateway's (--config=FILE, --help-all).
    sub.add_parser("gateway", help="run the lab's compute gateway (--config=FILE; docs/deployment.md)", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gateway"]:
        # The lab's compute gateway is a Jupyter application with its own (traitlets) options.
        from .gateway.app import main as gateway_main

        return gateway_main(argv[1:])
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (GrantError, CatalogError, ConfigError, LedgerError, KernelspecError) as e:
        print(f"jupyter compute-panel: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
