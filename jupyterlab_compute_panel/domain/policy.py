"""Who may charge what, see what and change what: every rule and its sentence, once.

Pure functions over a grant (anything with the fields of ``ledger.GrantView``), a tier
and a user. The launch (the provisioner), the notebook's grant binding (the REST API),
re-runs and the dashboards all ask here, so a rule and the sentence that explains it
cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import Conflict, Forbidden, LaunchRefused
from .money import format_amount

CHARGING_ROLES = ("pi", "member")
OVERSEEING_ROLES = ("pi", "viewer")


@dataclass(frozen=True)
class Refusal:
    """Why a charge is refused: ``who`` (the user's role), ``when`` (the grant's dates) or
    ``what`` (the tier does not fit the grant), with its sentence."""

    kind: Literal["who", "when", "what"]
    sentence: str

    def as_launch(self) -> LaunchRefused:
        return LaunchRefused(self.sentence)

    def as_request(self, field: str = "grant_id") -> Forbidden | Conflict:
        """A choice of grant refused outside a launch: 409 for dates, 403 for the rest."""
        return (Conflict if self.kind == "when" else Forbidden)(self.sentence, field)


def charge_refusal(grant: Any, user: str, today: dt.date, tier: Any = None) -> Refusal | None:
    """Why ``user`` may not charge ``grant`` (for ``tier``, when one is named), or None."""
    name = grant.award_number
    role = grant.role_of(user)
    if role is None:
        return Refusal(
            "who",
            f"You are not a member of grant {name}, so you cannot charge it: ask its PI ({grant.pi}) to add you, "
            "or choose another grant.",
        )
    if role not in CHARGING_ROLES:
        return Refusal(
            "who",
            f"You can view grant {name} but not charge it: ask its PI ({grant.pi}) to make you a member, "
            "or choose another grant.",
        )
    if not grant.active_on(today):
        use = f" to use {tier.label}" if tier is not None else ""
        return Refusal(
            "when",
            f"Grant {name} is not active today (it runs from {grant.start_date} to {grant.end_date}): "
            f"choose another grant{use}.",
        )
    if tier is None:
        return None
    if grant.currency != tier.currency:
        return Refusal(
            "what",
            f"Grant {name} is in {grant.currency} but {tier.label} is priced in {tier.currency}: "
            f"choose a grant in {tier.currency}.",
        )
    if grant.allowed_tiers is not None and tier.id not in grant.allowed_tiers:
        return Refusal(
            "what",
            f"Grant {name} does not pay for {tier.label} (it allows {', '.join(grant.allowed_tiers)}): "
            "choose another tier, or ask its PI to allow this one.",
        )
    if grant.sensitive and tier.reliability == "community":
        return Refusal(
            "what",
            f"Grant {name} holds sensitive data, which may not run on community nodes such as {tier.label}: "
            "choose a datacenter or local tier.",
        )
    return None


def launch_refusal(grant: Any, tier: Any, user: str, today: dt.date) -> str | None:
    """Why ``user`` may not charge ``grant`` for ``tier`` (one sentence), or None."""
    refusal = charge_refusal(grant, user, today, tier)
    return refusal.sentence if refusal else None


def no_grant_sentence(tier: Any, for_notebook: bool) -> str:
    return (
        f"{tier.label} is a paid tier ({tier.price_text}), and no grant is chosen for "
        f"{'this notebook' if for_notebook else 'this kernel'}: choose one in the compute panel "
        "(or set COMPUTE_PANEL_GRANT) and start it again."
    )


def unknown_grant_sentence(grant_id: str, tier: Any) -> str:
    return (
        f"The grant {grant_id!r} does not exist, so {tier.label} cannot be charged: "
        "choose another grant in the compute panel."
    )


def budget_sentence(exhausted: Any, tier: Any, user: str | None = None) -> str:
    """The start refused because the grant's budget does not cover the minimum runtime
    (``exhausted``: the ledger's BudgetExhausted, with the grant and the amounts), said to
    ``user`` in their role: a PI raises the budget, anyone else asks the PI."""
    grant, currency = exhausted.grant, exhausted.grant.currency
    left_micros, committed_micros = exhausted.left_micros, exhausted.committed_micros
    needed_micros = exhausted.needed_micros
    minutes = grant.min_runtime_s / 60
    is_pi = user is not None and (user == grant.pi or grant.role_of(user) == "pi")
    advice = "raise its budget on its dashboard (you are its PI)" if is_pi else "ask its PI to raise the budget"
    committed = (
        f" after {format_amount(committed_micros)} {currency} committed to its running kernels"
        if committed_micros
        else ""
    )
    return (
        f"Grant {grant.award_number} has {format_amount(max(left_micros - committed_micros, 0))} {currency} "
        f"left{committed}, less than {minutes:g} minutes on {tier.label} ({format_amount(needed_micros)} {currency}): "
        f"{advice}, or choose a cheaper tier."
    )


# -- seeing and changing ---------------------------------------------------------------


def may_see_grant(grant: Any, user: str, admin: bool) -> bool:
    return admin or grant.role_of(user) is not None


def may_edit_grant(grant: Any, user: str, admin: bool) -> bool:
    return admin or grant.role_of(user) == "pi"


def may_see_dashboard(grant: Any, user: str, admin: bool) -> bool:
    return admin or grant.role_of(user) in OVERSEEING_ROLES


def edit_refusal(grant: Any) -> Forbidden:
    return Forbidden(f"Only the PI of grant {grant.award_number} ({grant.pi}) or an admin may change it", "grant_id")


def dashboard_refusal(grant: Any) -> Forbidden:
    return Forbidden(
        f"Only the PI, co-PIs and viewers of grant {grant.award_number} see its dashboard; "
        "you see your own runs in the run history",
        "grant_id",
    )


def overseen_grants(roles: dict[str, str]) -> tuple[str, ...]:
    """The grants whose every run a user sees: those they are PI or viewer of."""
    return tuple(sorted(g for g, role in roles.items() if role in OVERSEEING_ROLES))


def may_see_run(run: Any, user: str | None, overseen: tuple[str, ...]) -> bool:
    """``user`` None: an admin, who sees every run."""
    return user is None or run.user == user or run.grant_id in overseen
