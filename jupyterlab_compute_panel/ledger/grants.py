"""Grants in the ledger: the grants, their members and roles, budgets, and notebook bindings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.money import format_amount
from .engine import LedgerBase, LedgerError, utcnow
from .models import Grant, GrantMember, NotebookBinding, Run


@dataclass(frozen=True)
class GrantView:
    id: str
    award_number: str
    title: str
    funder: str
    pi: str
    budget_micros: int
    currency: str
    start_date: dt.date
    end_date: dt.date
    allowed_tiers: tuple[str, ...] | None = None
    sensitive: bool = False
    alert_thresholds: tuple[int, ...] = (50, 80, 100)
    hard_stop: bool = True
    min_runtime_s: int = 900
    members: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, g: Grant, members: Iterable[tuple[str, str]] = ()) -> GrantView:
        return cls(
            g.id,
            g.award_number,
            g.title,
            g.funder,
            g.pi,
            g.budget_micros,
            g.currency,
            g.start_date,
            g.end_date,
            allowed_tiers=tuple(json.loads(g.allowed_tiers)) if g.allowed_tiers else None,
            sensitive=bool(g.sensitive),
            alert_thresholds=tuple(json.loads(g.alert_thresholds or "[50, 80, 100]")),
            hard_stop=bool(g.hard_stop),
            min_runtime_s=g.min_runtime_s if g.min_runtime_s is not None else 900,
            members=tuple(sorted(members)),
        )

    def active_on(self, day: dt.date) -> bool:
        return self.start_date <= day <= self.end_date

    def role_of(self, user: str) -> str | None:
        return dict(self.members).get(user)

    def to_json(self, spent_micros: int, today: dt.date) -> dict[str, Any]:
        return {
            "id": self.id,
            "award_number": self.award_number,
            "title": self.title,
            "funder": self.funder,
            "pi": self.pi,
            "budget": format_amount(self.budget_micros),
            "currency": self.currency,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "active": self.active_on(today),
            "spent": format_amount(spent_micros),
            "allowed_tiers": list(self.allowed_tiers) if self.allowed_tiers is not None else None,
            "sensitive": self.sensitive,
            "alert_thresholds": list(self.alert_thresholds),
            "hard_stop": self.hard_stop,
            "min_runtime_minutes": self.min_runtime_s / 60,
            "members": [{"user": user, "role": role} for user, role in self.members],
        }


class GrantsMixin(LedgerBase):
    """The grants, their members, and the notebooks bound to them."""

    def upsert_grant(self, grant: Mapping[str, Any], now: dt.datetime | None = None) -> GrantView:
        """Insert or update a validated grant (see grants.parse_grant)."""
        return self.upsert_grants([grant], now)[0]

    def upsert_grants(self, grants: Iterable[Mapping[str, Any]], now: dt.datetime | None = None) -> list[GrantView]:
        """Insert or update validated grants in one transaction: all of them or none."""
        now = now or utcnow()
        with self.session() as s, s.begin():
            return [self._upsert_grant(s, grant, now) for grant in grants]

    def add_missing_grants(
        self, grants: Iterable[Mapping[str, Any]], now: dt.datetime | None = None
    ) -> list[GrantView]:
        """Insert the validated grants whose id is not taken, in one transaction; the others stay as they are.

        Returns the grants inserted. Re-seeding a demo with it never undoes an edit.
        """
        now = now or utcnow()
        with self.session() as s, s.begin():
            return [self._upsert_grant(s, grant, now) for grant in grants if s.get(Grant, grant["id"]) is None]

    def create_grant(self, grant: Mapping[str, Any], now: dt.datetime | None = None) -> GrantView:
        """Insert a new validated grant; LedgerError if its id is taken."""
        now = now or utcnow()
        try:
            with self.session() as s, s.begin():
                if s.get(Grant, grant["id"]) is not None:
                    raise LedgerError(f"grant {grant['id']!r}: already exists")
                return self._upsert_grant(s, grant, now)
        except IntegrityError:
            raise LedgerError(f"grant {grant['id']!r}: already exists") from None

    def _upsert_grant(self, s: Session, grant: Mapping[str, Any], now: dt.datetime) -> GrantView:
        values = dict(grant)
        members = values.pop("members", None)
        if "allowed_tiers" in values:
            tiers = values["allowed_tiers"]
            values["allowed_tiers"] = json.dumps(sorted(tiers)) if tiers else None
        if "alert_thresholds" in values:
            values["alert_thresholds"] = json.dumps(list(values["alert_thresholds"]))
        row = s.get(Grant, values["id"])
        if row is None:
            row = Grant(created_at=now, updated_at=now, **values)
            s.add(row)
        else:
            if row.currency != values["currency"] and self._has_runs(s, row.id):
                raise LedgerError(
                    f"grant {row.id!r}: currency: cannot change from {row.currency} to {values['currency']} once runs are charged to it"
                )
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
        s.flush()
        if members is not None:
            # The file's members replace the grant's; the PI always keeps the role pi.
            s.execute(delete(GrantMember).where(GrantMember.grant_id == row.id))
            s.flush()
            for user, role in members:
                if user != row.pi:
                    s.add(GrantMember(grant_id=row.id, user=user, role=role, added_at=now))
        pi = s.get(GrantMember, (row.id, row.pi))
        if pi is None:
            s.add(GrantMember(grant_id=row.id, user=row.pi, role="pi", added_at=now))
        else:
            pi.role = "pi"
        s.flush()
        return GrantView.of(row, self._members(s, row.id))

    @staticmethod
    def _members(s: Session, grant_id: str) -> list[tuple[str, str]]:
        return [
            tuple(r)
            for r in s.execute(select(GrantMember.user, GrantMember.role).where(GrantMember.grant_id == grant_id))
        ]

    def set_member(
        self, grant_id: str, user: str, role: str, now: dt.datetime | None = None, keep_role: bool = False
    ) -> GrantView:
        """Give ``user`` the role ``role`` on the grant; with ``keep_role``, only if they have no role on it yet."""
        now = now or utcnow()
        with self.session() as s, s.begin():
            row = s.get(Grant, grant_id)
            if row is None:
                raise LedgerError(f"grant {grant_id!r}: no such grant")
            if keep_role and s.get(GrantMember, (grant_id, user)) is not None:
                return GrantView.of(row, self._members(s, grant_id))
            if user == row.pi and role != "pi":
                raise LedgerError(f"grant {grant_id!r}: {user} is its PI; name another PI before changing their role")
            member = s.get(GrantMember, (grant_id, user))
            if member is None:
                s.add(GrantMember(grant_id=grant_id, user=user, role=role, added_at=now))
            else:
                member.role = role
            s.flush()
            return GrantView.of(row, self._members(s, grant_id))

    def remove_member(self, grant_id: str, user: str) -> GrantView:
        with self.session() as s, s.begin():
            row = s.get(Grant, grant_id)
            if row is None:
                raise LedgerError(f"grant {grant_id!r}: no such grant")
            if user == row.pi:
                raise LedgerError(f"grant {grant_id!r}: {user} is its PI and cannot be removed")
            if (
                s.execute(
                    delete(GrantMember).where(GrantMember.grant_id == grant_id, GrantMember.user == user)
                ).rowcount
                == 0
            ):
                raise LedgerError(f"grant {grant_id!r}: {user} is not a member")
            return GrantView.of(row, self._members(s, grant_id))

    def roles_of(self, user: str) -> dict[str, str]:
        """The user's role on every grant they have one on."""
        with self.session() as s:
            rows = s.execute(select(GrantMember.grant_id, GrantMember.role).where(GrantMember.user == user))
            return {grant_id: role for grant_id, role in rows}

    def set_budget(self, grant_id: str, budget_micros: int, now: dt.datetime | None = None) -> GrantView:
        with self.session() as s, s.begin():
            row = s.get(Grant, grant_id)
            if row is None:
                raise LedgerError(f"grant {grant_id!r}: no such grant")
            row.budget_micros, row.updated_at = budget_micros, now or utcnow()
            s.flush()
            return GrantView.of(row, self._members(s, grant_id))

    @staticmethod
    def _has_runs(s: Session, grant_id: str) -> bool:
        return s.scalar(select(func.count()).select_from(Run).where(Run.grant_id == grant_id)) > 0

    def get_grant(self, grant_id: str) -> GrantView | None:
        with self.session() as s:
            row = s.get(Grant, grant_id)
            return GrantView.of(row, self._members(s, grant_id)) if row else None

    def list_grants(self) -> list[GrantView]:
        with self.session() as s:
            members: dict[str, list[tuple[str, str]]] = {}
            for grant_id, user, role in s.execute(select(GrantMember.grant_id, GrantMember.user, GrantMember.role)):
                members.setdefault(grant_id, []).append((user, role))
            return [GrantView.of(g, members.get(g.id, ())) for g in s.scalars(select(Grant).order_by(Grant.id))]

    # -- bindings -------------------------------------------------------------
    def get_binding(self, user: str, path: str) -> NotebookBinding | None:
        with self.session() as s:
            return s.get(NotebookBinding, (user, path))

    def put_binding(
        self, user: str, path: str, grant_id: str | None, tier_id: str | None, now: dt.datetime | None = None
    ) -> NotebookBinding:
        now = now or utcnow()
        with self.session() as s, s.begin():
            row = s.get(NotebookBinding, (user, path))
            if row is None:
                row = NotebookBinding(user=user, path=path)
                s.add(row)
            row.grant_id, row.tier_id, row.updated_at = grant_id, tier_id, now
            return row
