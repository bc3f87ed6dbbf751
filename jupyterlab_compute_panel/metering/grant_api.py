"""Grants, their members and budgets, and each notebook's grant: the service's side.

What the REST API and the CLI may do with grants, checked here once: who may see a
grant (any role on it, or an admin), who may change it (its PI, or an admin), and which
grant a notebook may be bound to (one its user may charge today). A grant that the user
may not see is answered like one that does not exist.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..domain import policy
from ..domain.grants import ROLES, USER, GrantError, parse_grant, parse_member
from ..domain.money import format_amount
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..ledger import GrantView, LedgerError, RunFilter, RunView, iso, utcnow

# Fields a PI or an admin may change with PATCH; members and budget have their own routes too.
PATCHABLE = (
    "award_number",
    "title",
    "funder",
    "budget",
    "start_date",
    "end_date",
    "allowed_tiers",
    "sensitive",
    "alert_thresholds",
    "hard_stop",
    "min_runtime_minutes",
)


def grant_input(grant: GrantView) -> dict[str, Any]:
    """A stored grant in the shape ``parse_grant`` reads (members left out: kept as they are)."""
    return {
        "id": grant.id,
        "award_number": grant.award_number,
        "title": grant.title,
        "funder": grant.funder,
        "pi": grant.pi,
        "budget": format_amount(grant.budget_micros),
        "currency": grant.currency,
        "start_date": grant.start_date.isoformat(),
        "end_date": grant.end_date.isoformat(),
        "allowed_tiers": list(grant.allowed_tiers) if grant.allowed_tiers is not None else None,
        "sensitive": grant.sensitive,
        "alert_thresholds": list(grant.alert_thresholds),
        "hard_stop": grant.hard_stop,
        "min_runtime_minutes": str(Decimal(grant.min_runtime_s) / 60),
    }


def binding_json(path: str, row: Any) -> dict[str, Any]:
    return {
        "path": path,
        "grant_id": row.grant_id if row else None,
        "tier_id": row.tier_id if row else None,
        "updated": iso(row.updated_at) if row else None,
    }


def _stop_json(run: RunView) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "kernel_id": run.kernel_id,
        "user": run.user,
        "notebook": run.notebook,
        "tier_label": run.tier_label,
        "rate_per_hour": format_amount(run.rate_micros_per_hour),
        "currency": run.currency,
        "started": iso(run.started),
    }


class GrantsMixin:
    """Grants as the owner of this service may see and change them (part of ``MeteringService``)."""

    # -- reading --------------------------------------------------------------
    async def grants_json(self, grants: list[GrantView]) -> list[dict[str, Any]]:
        now = utcnow()
        spent = await self.db(self.ledger.grant_spend, [g.id for g in grants], now)
        return [{**g.to_json(spent[g.id], now.date()), "role": g.role_of(self.owner)} for g in grants]

    async def grant_json(self, grant: GrantView) -> dict[str, Any]:
        return (await self.grants_json([grant]))[0]

    async def visible_grants(self, active: bool | None = None) -> list[GrantView]:
        grants = [g for g in await self.db(self.ledger.list_grants) if self.may_see_grant(g)]
        if active is not None:
            today = utcnow().date()
            grants = [g for g in grants if g.active_on(today) == active]
        return grants

    async def visible_grant(self, grant_id: str) -> GrantView:
        """The grant, or NotFound alike whether it does not exist or the user has no role on it."""
        grant = await self.db(self.ledger.get_grant, grant_id)
        if grant is None or not self.may_see_grant(grant):
            raise NotFound(f"No grant {grant_id!r}", "grant_id")
        return grant

    async def editable_grant(self, grant_id: str) -> GrantView:
        grant = await self.visible_grant(grant_id)
        if not self.may_edit_grant(grant):
            raise policy.edit_refusal(grant)
        return grant

    async def overseen_grant(self, grant_id: str) -> GrantView:
        """A grant whose dashboard the user may see (PI, co-PI, viewer, admin)."""
        grant = await self.visible_grant(grant_id)
        if not policy.may_see_dashboard(grant, self.owner, self.is_admin):
            raise policy.dashboard_refusal(grant)
        return grant

    # -- changing -------------------------------------------------------------
    def grant_values(self, data: dict[str, Any]) -> dict[str, Any]:
        """A grant from a request, validated like an imported row: Invalid naming the field."""
        try:
            values = parse_grant(data)
        except GrantError as e:
            raise Invalid(str(e), e.field) from None
        unknown = [t for t in values.get("allowed_tiers") or () if self.catalog.get(t) is None]
        if unknown:
            known = ", ".join(t.id for t in self.catalog)
            raise Invalid(
                f"The allowed tiers name {unknown[0]!r}, which is not a tier in the catalog (known: {known})",
                "allowed_tiers",
            )
        return values

    async def create_grant(self, data: dict[str, Any]) -> GrantView:
        if not self.is_admin:
            raise Forbidden("Only an admin may create grants (ComputePanel.admins)")
        values = self.grant_values(data)
        try:
            return await self.db(self.ledger.create_grant, values)
        except LedgerError as e:
            raise Conflict(str(e), "id") from None

    async def update_grant(self, grant_id: str, changes: dict[str, Any], stop_kernels: bool = False) -> GrantView:
        grant = await self.editable_grant(grant_id)
        values = self.grant_values(grant_input(grant) | changes)
        if not stop_kernels:
            await self._refuse_unseen_stops(grant, values["budget_micros"], values["hard_stop"])
        try:
            return await self.db(self.ledger.upsert_grant, values)
        except LedgerError as e:
            raise Conflict(str(e)) from None

    async def set_budget(self, grant_id: str, budget_micros: int, stop_kernels: bool = False) -> GrantView:
        grant = await self.editable_grant(grant_id)
        if not stop_kernels:
            await self._refuse_unseen_stops(grant, budget_micros, grant.hard_stop)
        return await self.db(self.ledger.set_budget, grant_id, budget_micros)

    # -- what an edit would stop ----------------------------------------------------------
    async def edit_stops(
        self, grant_id: str, budget_micros: int | None = None, hard_stop: bool | None = None
    ) -> dict[str, Any]:
        """What saving this budget and hard stop (the grant's own where None) would stop at
        once: the grant's running kernels, on every server, when the grant would have a hard
        stop and a budget at or below its spend (the next heartbeat stops them, without a
        countdown). A dry run for its PI or an admin: nothing changes."""
        grant = await self.editable_grant(grant_id)
        budget = grant.budget_micros if budget_micros is None else budget_micros
        stop = grant.hard_stop if hard_stop is None else hard_stop
        spent, runs = await self._stopped_by(grant, budget, stop)
        return {
            "grant_id": grant.id,
            "budget": format_amount(budget),
            "hard_stop": stop,
            "spent": format_amount(spent),
            "currency": grant.currency,
            "kernels": [_stop_json(run) for run in runs],
        }

    async def _stopped_by(self, grant: GrantView, budget_micros: int, hard_stop: bool) -> tuple[int, list[RunView]]:
        """The grant's spend now, and the open runs that this budget and hard stop stop at once."""
        now = utcnow()
        status = (await self.db(self.ledger.budget_status, [grant.id], now)).get(grant.id)
        spent = status.spent_micros if status else 0
        if not hard_stop or status is None or not status.open_runs or budget_micros > spent:
            return spent, []
        flt = RunFilter(grant=grant.id, status="open")
        runs, _, _ = await self.db(self.ledger.list_runs, flt, 1000, 0, now, "started")
        return spent, runs

    async def _refuse_unseen_stops(self, grant: GrantView, budget_micros: int, hard_stop: bool) -> None:
        """Conflict when the edit would stop running kernels and the request did not say it
        knows (``stop_kernels: true``): an edit that stops kernels says so before it does."""
        spent, runs = await self._stopped_by(grant, budget_micros, hard_stop)
        if not runs:
            return
        kernels = f"{len(runs)} running {'kernel' if len(runs) == 1 else 'kernels'}"
        raise Conflict(
            f"Saving this would stop {kernels} of grant {grant.award_number} at once: its budget "
            f"({format_amount(budget_micros)} {grant.currency}) is not above what it has spent "
            f"({format_amount(spent)} {grant.currency}) and it has a hard stop. GET "
            f"/compute-panel/grants/{grant.id}/stops lists them; send stop_kernels: true to save anyway.",
            "stop_kernels",
        )

    async def set_member(self, grant_id: str, user: str, role: str) -> GrantView:
        if not USER.match(user):  # as given: no spaces around it either
            raise Invalid(f"{user!r} is not a user name (no spaces, ':', ';' or ',')", "user")
        if role not in ROLES:
            raise Invalid(f"The role must be one of {', '.join(ROLES)}, got {role!r}", "role")
        try:
            user, role = parse_member({"user": user, "role": role})
        except GrantError as e:
            raise Invalid(str(e), "user") from None
        await self.editable_grant(grant_id)
        try:
            return await self.db(self.ledger.set_member, grant_id, user, role)
        except LedgerError as e:
            raise Conflict(str(e), "role") from None

    async def remove_member(self, grant_id: str, user: str) -> GrantView:
        await self.editable_grant(grant_id)
        try:
            return await self.db(self.ledger.remove_member, grant_id, user)
        except LedgerError as e:
            raise Conflict(str(e), "user") from None

    # -- a notebook's grant ---------------------------------------------------
    async def binding(self, path: str) -> dict[str, Any]:
        return binding_json(path, await self.db(self.ledger.get_binding, self.owner, path))

    async def bound_grant(self, path: str) -> str | None:
        row = await self.db(self.ledger.get_binding, self.owner, path)
        return row.grant_id if row else None

    async def bind(self, path: str, grant_id: str | None, tier_id: str | None) -> dict[str, Any]:
        """Remember the notebook's grant (one its user may charge today) and tier."""
        if grant_id is not None:
            grant = await self.visible_grant(grant_id)
            refusal = policy.charge_refusal(grant, self.owner, utcnow().date())
            if refusal:
                raise refusal.as_request("grant_id")
        if tier_id is not None and self.catalog.get(tier_id) is None:
            # An unknown id, like an unknown grant's: 404 (openapi.yaml).
            raise NotFound(f"tier_id {tier_id!r} is not a tier in the catalog", "tier_id")
        row = await self.db(self.ledger.put_binding, self.owner, path, grant_id, tier_id)
        return binding_json(path, row)
