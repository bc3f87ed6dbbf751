"""Tiers, runs, environments and alerts as the owner of this service may see them.

A user sees their own runs and every run of the grants they are PI or viewer of; an
admin sees every run. A run the user may not see is answered like one that does not
exist.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..domain import policy
from ..domain.money import format_amount
from ..errors import NotFound
from ..ledger import RUN_SORTS, RunFilter, RunView, iso, utcnow


class RunsMixin:
    """The read side of metering (part of ``MeteringService``)."""

    # -- tiers ----------------------------------------------------------------
    async def tiers_json(self) -> list[dict[str, Any]]:
        running = await self.db(self.ledger.running_by_tier)
        return [
            {
                "id": tier.id,
                "label": tier.label,
                "description": tier.description,
                "hardware": tier.hardware.to_json(),
                "price": tier.price_json(),
                "free": tier.free,
                "reliability": tier.reliability,
                "simulated": tier.simulated,
                "sensitive_data_allowed": tier.sensitive_data_allowed,
                "idle_timeout_s": tier.idle_timeout_s,
                "backend": {"provisioner": tier.backend.provisioner},
                "kernelspecs": self.kernelspec_names.get(tier.id, {}),
                "running": running.get(tier.id, 0),
                # Nodes reachable and free (SSH tiers); None where there is nothing to check.
                "availability": self.availability.get(tier.id) if self.availability else None,
                # The last reading of the tier's price list; None for a price from the catalog.
                "price_list": self.prices.status(tier.id) if self.prices else None,
            }
            for tier in self.catalog
        ]

    # -- runs -----------------------------------------------------------------
    async def visibility(self) -> tuple[str | None, tuple[str, ...]]:
        """(user, grants) for RunFilter: the owner's own runs and every run of the grants
        they are PI or viewer of; (None, ()) for an admin, who sees everything."""
        if self.is_admin:
            return None, ()
        roles = await self.db(self.ledger.roles_of, self.owner)
        return self.owner, policy.overseen_grants(roles)

    async def may_see_run(self, run: RunView) -> bool:
        return policy.may_see_run(run, *await self.visibility())

    async def visible_filter(self, flt: RunFilter) -> RunFilter:
        visible_user, visible_grants = await self.visibility()
        return dataclasses.replace(flt, visible_user=visible_user, visible_grants=visible_grants)

    async def list_runs(self, flt: RunFilter, limit: int, offset: int, sort: str) -> dict[str, Any]:
        """A page of the runs this user may see, their count and totals per currency."""
        assert sort.removeprefix("-") in RUN_SORTS, sort
        flt = await self.visible_filter(flt)
        now = utcnow()
        runs, count, totals = await self.db(self.ledger.list_runs, flt, limit, offset, now, sort)
        return {
            "runs": [r.to_json(now) for r in runs],
            "count": count,
            "totals": [{"amount": format_amount(v), "currency": c} for c, v in sorted(totals.items())],
            "server_time": iso(now),
        }

    async def visible_run(self, run_id: str, field: str = "run_id") -> RunView:
        run = await self.db(self.ledger.get_run, run_id) if isinstance(run_id, str) else None
        if run is None or not await self.may_see_run(run):
            raise NotFound(f"No run {run_id!r}", field)
        return run

    async def run_of_kernel(self, kernel_id: str) -> RunView:
        run = await self.db(self.ledger.current_run_for_kernel, kernel_id)
        if run is None or not await self.may_see_run(run):
            raise NotFound(f"Kernel {kernel_id!r} has no run: it was never started on a tier", "kernel_id")
        return run

    async def environment_of(self, run_id: str, *, visible: bool = False) -> Any:
        """A visible run's environment fingerprint (NotFound saying why there is none);
        with ``visible``, the caller has checked the run already and None means none."""
        if visible:
            environment = await self.db(self.ledger.get_environment, run_id)
            return environment.fingerprint if environment is not None else None
        await self.visible_run(run_id)
        environment = await self.db(self.ledger.get_environment, run_id)
        if environment is None:
            capture = self.environment
            if capture is not None and capture.in_progress(run_id):
                why = "it is being captured; ask again in a few seconds"
            elif capture is None:
                why = "environment capture is off on this server (ComputePanel.capture_environment)"
            else:
                why = "none was captured (the kernel was not started by this server, or stopped first)"
            raise NotFound(f"Run {run_id!r} has no environment fingerprint yet: {why}", "run_id")
        return environment.to_json()

    # -- alerts and kernels ---------------------------------------------------
    async def alerts_json(self) -> dict[str, Any]:
        alerts = await self.db(self.ledger.alerts_for, self.owner)
        now = utcnow()
        return {
            "alerts": [a.to_json() for a in alerts],
            "countdowns": [c.to_json(now) for c in self.budget.countdowns(self.owner)],
            "stopped": [s.to_json() for s in self.budget.stops(self.owner)],
            "server_time": iso(now),
        }

    async def mark_alert_delivered(self, alert_id: str) -> dict[str, Any]:
        alert = await self.db(self.ledger.mark_alert_delivered, alert_id, self.owner)
        if alert is None:
            raise NotFound(f"No alert {alert_id!r} for {self.owner}", "alert_id")
        return alert.to_json()

    def note_refused_restart(self, kernel_id: str, refusal: Exception) -> None:
        """A host's restart of this kernel was refused (its process is gone): keep the
        sentence for the user who asked (restarts.py)."""
        self.refused_restarts.note(kernel_id, self.owner, refusal)

    def restart_refusal(self, kernel_id: str) -> dict[str, Any]:
        """Why this user's last restart of this kernel was refused, if it was, recently."""
        entry = self.refused_restarts.get(kernel_id, self.owner)
        if entry is None:
            raise NotFound(f"Kernel {kernel_id!r} has no refused restart on record", "kernel_id")
        return entry.to_json()

    def keep_kernel(self, kernel_id: str) -> dict[str, Any]:
        """Reset an idle paid kernel's idle clock ("keep it")."""
        kept = self.idle.keep(kernel_id) if self.idle is not None else None
        if kept is None:
            raise NotFound(
                f"Kernel {kernel_id!r} is not running on a paid tier with an idle timeout, so there is nothing to keep",
                "kernel_id",
            )
        return kept
