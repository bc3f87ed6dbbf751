"""What an admin does from the command line (``jupyter compute-panel``), through the service.

The CLI runs with the ledger's own credentials, so it acts as an admin: no role on a
grant is checked here. Each method is synchronous (the CLI has no event loop) and is
the one place the CLI reaches the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..domain.grants import GrantError
from ..ledger import GrantView, utcnow


class AdminMixin:
    """Grant administration for the CLI (part of ``MeteringService``)."""

    def all_grants(self) -> list[tuple[GrantView, int]]:
        """Every grant with its spend so far (micro-units)."""
        grants = self.ledger.list_grants()
        spent = self.ledger.grant_spend([g.id for g in grants], utcnow())
        return [(g, spent[g.id]) for g in grants]

    def grant_with_spend(self, grant_id: str) -> tuple[GrantView, int]:
        view = self.ledger.get_grant(grant_id)
        if view is None:
            raise GrantError(f"no grant {grant_id!r} (see 'jupyter compute-panel grants list')")
        return view, self.ledger.grant_spend([view.id], utcnow())[view.id]

    def save_grant(self, values: Mapping[str, Any]) -> GrantView:
        """Add or update a grant (validated by ``domain.grants.parse_grant``)."""
        return self.ledger.upsert_grant(values)

    def import_grants(self, grants: Iterable[Mapping[str, Any]], only_missing: bool = False) -> list[GrantView]:
        """Add or update grants, all or nothing; with ``only_missing``, add those not there and touch no other.

        Returns the grants written.
        """
        if only_missing:
            return self.ledger.add_missing_grants(grants)
        return self.ledger.upsert_grants(grants)

    def admin_set_budget(self, grant_id: str, budget_micros: int) -> GrantView:
        return self.ledger.set_budget(grant_id, budget_micros)

    def admin_set_member(self, grant_id: str, user: str, role: str, keep_role: bool = False) -> GrantView:
        return self.ledger.set_member(grant_id, user, role, keep_role=keep_role)

    def admin_remove_member(self, grant_id: str, user: str) -> GrantView:
        return self.ledger.remove_member(grant_id, user)
