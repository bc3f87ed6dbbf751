"""The one small interface every lease provider implements (issue 15, the leasing contract).

A provider turns an accelerator name from the catalog into priced offers, leases a node for
one offer, reports the node's state, releases it, and lists the nodes carrying our tag so
that a restarted server can reconcile what a killed one left. Providers are found by name
through the entry point group ``jupyterlab_compute_panel.lease_providers`` (``fake``,
``skypilot``, ``theta``); a tier's ``backend.config`` names the provider and its config.

Money is integer micro-units of the offer's currency, exact, never float.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime

ENTRY_POINT_GROUP = "jupyterlab_compute_panel.lease_providers"

#: The states a provider reports for a node.
NODE_STATES = ("booting", "ready", "failed", "gone")


@dataclass(frozen=True)
class Offer:
    """One way to get a node: what the provider quotes now."""

    provider: str  # "fake", "skypilot:runpod", "skypilot:aws", "theta", ...
    machine_type: str  # provider's name ("G-H100_80GB-x2", "p5.48xlarge", "NVIDIA H200")
    accelerator: str  # catalog accelerator ("H200", "RTX 4090", "Trainium", ...)
    region: str | None
    price_micros_per_hour: int  # integer micro-units of `currency`, exact (never float)
    currency: str
    boot_seconds_estimate: int


@dataclass(frozen=True)
class NodeLease:
    """A node as the provider reports it."""

    provider_id: str  # the provider's id of the node/deployment/cluster
    offer: Offer
    tag: str  # our tag (server identity + lease id), set on the node at launch
    state: str  # "booting" | "ready" | "failed" | "gone"
    address: str | None  # host for SSH once ready
    ssh_user: str | None
    ssh_port: int
    started_at: datetime | None  # provider's start time (UTC)


class ProviderError(Exception):
    """A provider refused or failed: ``sentence`` is one human sentence, no hosts, ports
    or driver text, fit to show a user."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class ProviderUnavailable(ProviderError):
    """The provider's API is away (answered 503 upstream)."""


class LeaseProvider(abc.ABC):
    """A source of leased nodes. Instances are built from a tier's provider config."""

    name: str

    @abc.abstractmethod
    async def offers(self, accelerator: str) -> list[Offer]:
        """The offers for ``accelerator`` now, with the provider's quoted prices."""

    @abc.abstractmethod
    async def lease(self, offer: Offer, tag: str, *, autostop_minutes: int) -> NodeLease:
        """Start a node for ``offer`` carrying ``tag``, with the provider's own autostop
        after ``autostop_minutes``; returns at once, the node still booting."""

    @abc.abstractmethod
    async def status(self, provider_id: str) -> NodeLease:
        """The node's state as the provider reports it now."""

    @abc.abstractmethod
    async def release(self, provider_id: str) -> None:
        """Release the node. Idempotent: a gone node counts as released."""

    @abc.abstractmethod
    async def tagged(self, tag_prefix: str) -> list[NodeLease]:
        """The nodes carrying a tag that starts with ``tag_prefix`` (for reconcile)."""
