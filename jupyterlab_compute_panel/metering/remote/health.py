"""Availability of remote tiers: how many nodes answer and have room, checked in the background.

For every tier whose backend is ``compute-panel-ssh``, each host is reached over SSH
(host key checked as for a kernel) and asked how many kernels it runs; a host is
*free* when it answers and runs fewer than the tier's ``max_kernels``. The checks run
every ``interval`` seconds as a periodic task of the service's lifecycle; each probe is
asynchronous with its own connect timeout (name lookups go to a worker thread), so a
slow DNS or a node that drops packets never delays the server's requests; the REST API
reads the cached result. Tiers with other backends have no availability (None): the
panel shows them as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from ...domain.catalog import Catalog, Tier
from ...ledger import iso, utcnow
from .ssh_node import probe, unavailable_sentence
from .ssh_settings import PROVISIONER_NAME, SshSettings


def checked_tiers(tiers: Iterable[Tier]) -> dict[str, SshSettings]:
    return {t.id: SshSettings.from_config(t.backend.config) for t in tiers if t.backend.provisioner == PROVISIONER_NAME}


class Availability:
    def __init__(self, catalog: Catalog, interval: float = 30.0, log: logging.Logger | None = None) -> None:
        self.interval = interval
        self.log = log or logging.getLogger("jupyterlab_compute_panel")
        self._tiers = checked_tiers(catalog)
        self._labels = {t.id: t.label for t in catalog}
        self._cache: dict[str, dict[str, Any]] = {}

    # -- reading ------------------------------------------------------------------
    def get(self, tier_id: str) -> dict[str, Any] | None:
        """The last check of a tier (None: not an SSH tier, or not checked yet)."""
        return self._cache.get(tier_id)

    # -- checking -----------------------------------------------------------------
    async def _check_tier(self, tier_id: str) -> dict[str, Any]:
        settings = self._tiers[tier_id]
        statuses = await asyncio.gather(*(probe(settings, host) for host in settings.hosts))
        reachable = sum(1 for s in statuses if s.reachable)
        free = sum(1 for s in statuses if s.free(settings.max_kernels))
        reason = None
        if not free:
            reason = f"{self._labels.get(tier_id, tier_id)} cannot take a kernel now. {unavailable_sentence(statuses, settings.max_kernels)}"
        result = {
            "nodes": len(statuses),
            "reachable": reachable,
            "free": free,
            "reason": reason,
            "checked": iso(utcnow()),
            "hosts": [s.to_json(settings.max_kernels) for s in statuses],
        }
        self._cache[tier_id] = result
        return result

    async def check_all(self) -> None:
        for tier_id, outcome in zip(
            self._tiers,
            await asyncio.gather(*(self._check_tier(t) for t in self._tiers), return_exceptions=True),
            strict=True,
        ):
            if isinstance(outcome, BaseException):
                self.log.warning("compute-panel: availability check of %s failed: %s", tier_id, outcome)

    @property
    def checked(self) -> bool:
        """Whether any tier has nodes to check."""
        return bool(self._tiers)

    async def refresh(self) -> None:
        """Check every tier now, and wait for the result."""
        if self._tiers:
            await self.check_all()
