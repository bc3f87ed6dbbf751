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
from ..ledger import GrantView, LedgerError, iso, utcnow

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

    async def update_grant(self, grant_id: str, changes: dict[str, Any]) -> GrantView:
        grant = await self.editable_grant(grant_id)
        values = self.grant_values(grant_input(grant) | changes)
        try:
            return await self.db(self.ledger.upsert_grant, values)
        except LedgerError as e:
            raise Conflict(str(e)) from None

    async def set_budget(self, grant_id: str, budget_micros: int) -> GrantView:
        await self.editable_grant(grant_id)
        return await self.db(self.ledger.set_budget, grant_id, budget_micros)

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
