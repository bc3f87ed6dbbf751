"""``skypilot``: leased nodes through SkyPilot, for the clouds it supports (AWS with its
trn1 and inf2 instances, RunPod, Vast, Kubernetes, Slurm, ...).

SkyPilot is an optional extra (``pip install 'jupyterlab-compute-panel[skypilot]'``): it
is large, and only a server that offers such tiers needs it. The adapter speaks to its
Python SDK (0.14), whose calls return a request id that ``sky.get`` waits on; every call
runs in a worker thread, never on the server's event loop.

- **offers**: ``sky.list_accelerators`` for the tier's accelerator on its infra, priced
  as SkyPilot's catalog quotes them (its catalogs are the providers' lists);
- **lease**: ``sky.launch`` of a bare cluster named by the lease's tag, with
  ``idle_minutes_to_autostop`` and ``down=True`` on **every** launch, so a node whose
  server died is torn down by the provider side after that many idle minutes;
- **status**: the launch request's outcome, then ``sky.status`` for the head node's
  address and SSH user;
- **release**: ``sky.down`` (a cluster already gone counts as released);
- **tagged**: ``sky.status`` of all clusters, those whose name starts with the tag prefix.

SkyPilot's errors become one sentence each (no capacity or quota, refused credentials, the
API server away); its own messages, which name hosts and accounts, go to the log only.
The tests drive the adapter with SkyPilot's recorded answers at this boundary
(tests/test_lease_skypilot.py); no cloud was reached from the test machines.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from ....domain.money import MoneyError, quoted_amount
from .provider import LeaseProvider, NodeLease, Offer, ProviderError, ProviderUnavailable

log = logging.getLogger("jupyterlab_compute_panel")

# SkyPilot's cluster names: lowercase letters, digits and hyphens, a letter first.
CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
CONFIG_FIELDS = ("infra", "accelerator_count", "boot_seconds_estimate", "disk_size", "image_id")

_NO_CAPACITY = ("ResourcesUnavailableError", "ResourcesMismatchError")
_CREDENTIALS = ("CloudUserIdentityError", "InvalidCloudCredentials", "NoCloudAccessError", "PermissionError")
_AWAY = ("ApiServerConnectionError", "ConnectionError", "RequestCancelled")
_GONE = ("ClusterDoesNotExist",)


def _sdk() -> Any:
    try:
        import sky
    except ImportError:
        raise ProviderError(
            "SkyPilot is not installed on the server: install jupyterlab-compute-panel[skypilot]."
        ) from None
    return sky


def _field(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


class SkyPilotProvider(LeaseProvider):
    """Nodes from one SkyPilot infra (``aws/us-east-1``, ``runpod``, ``vast``, ``k8s/ctx``)."""

    name = "skypilot"

    def __init__(self, config: Mapping[str, Any], *, sdk: Any = None) -> None:
        unknown = sorted(set(config) - set(CONFIG_FIELDS))
        if unknown:
            raise ProviderError(f"The skypilot provider has no setting {unknown[0]!r}.")
        infra = config.get("infra")
        if not isinstance(infra, str) or not infra.strip():
            raise ProviderError("The skypilot provider needs infra, such as aws/us-east-1 or runpod.")
        self.infra = infra.strip()
        self.cloud = self.infra.split("/")[0]
        self.count = int(config.get("accelerator_count", 1))
        self.boot_estimate = int(config.get("boot_seconds_estimate", 300))
        self.disk_size = config.get("disk_size")
        self.image_id = config.get("image_id")
        self._sky = sdk
        # Launch requests under way, by cluster name: waited on in a worker thread.
        self._launches: dict[str, asyncio.Task] = {}
        self._offers: dict[str, Offer] = {}

    @property
    def sky(self) -> Any:
        if self._sky is None:
            self._sky = _sdk()
        return self._sky

    async def _call(self, what: str, function: str, *args: Any, **kwargs: Any) -> Any:
        """``sky.get(sky.<function>(...))`` in a worker thread; its errors as sentences."""
        sky = self.sky

        def run() -> Any:
            return sky.get(getattr(sky, function)(*args, **kwargs))

        try:
            return await asyncio.to_thread(run)
        except Exception as error:  # noqa: BLE001 - SkyPilot raises its own classes, told apart by name
            raise self._sentence(what, error) from None

    def _sentence(self, what: str, error: Exception) -> ProviderError:
        kind = type(error).__name__
        log.warning("compute-panel: SkyPilot %s on %s failed: %s: %s", what, self.infra, kind, error)
        if kind in _AWAY:
            return ProviderUnavailable(
                f"The SkyPilot API server cannot be reached, so no node can be leased on {self.infra} now; "
                "kernels already running go on."
            )
        if kind in _NO_CAPACITY:
            return ProviderError(
                f"{self.infra} has no node of this kind free now (capacity or quota); try again later."
            )
        if kind in _CREDENTIALS:
            return ProviderError(f"{self.infra} refused the server's credentials; an admin must renew them.")
        return ProviderError(f"SkyPilot could not {what} on {self.infra} ({kind}).")

    # -- offers --------------------------------------------------------------------
    async def offers(self, accelerator: str) -> list[Offer]:
        found = await self._call(
            "list the offers",
            "list_accelerators",
            gpus_only=False,
            name_filter=accelerator,
            clouds=self.cloud,
            case_sensitive=False,
        )
        offers = []
        region_wanted = self.infra.split("/")[1] if "/" in self.infra else None
        for name, infos in (found or {}).items():
            for info in infos:
                if int(_field(info, "accelerator_count", 1)) != self.count:
                    continue
                region = _field(info, "region")
                if region_wanted and region != region_wanted:
                    continue
                price = _field(info, "price")
                try:
                    # SkyPilot reads its catalogs into floats: their shortest repr is the
                    # catalog's decimal text.
                    micros = quoted_amount(repr(price) if isinstance(price, float) else price)
                except MoneyError:
                    continue  # not offered on demand there (NaN)
                offer = Offer(
                    provider=f"skypilot:{self.cloud}",
                    machine_type=_field(info, "instance_type") or f"{name}:{self.count}",
                    accelerator=name,
                    region=region,
                    price_micros_per_hour=micros,
                    currency="USD",
                    boot_seconds_estimate=self.boot_estimate,
                )
                offers.append(offer)
        offers.sort(key=lambda o: (o.price_micros_per_hour, o.machine_type, o.region or ""))
        return offers

    # -- lease -------------------------------------------------------------------
    def _task(self, offer: Offer) -> Any:
        sky = self.sky
        infra = f"{self.cloud}/{offer.region}" if offer.region and "/" not in self.infra else self.infra
        resources: dict[str, Any] = {"infra": infra, "accelerators": {offer.accelerator: self.count}}
        if offer.machine_type and ":" not in offer.machine_type:
            resources["instance_type"] = offer.machine_type
        if self.disk_size:
            resources["disk_size"] = self.disk_size
        if self.image_id:
            resources["image_id"] = self.image_id
        task = sky.Task(name="compute-panel-node")
        task.set_resources(sky.Resources(**resources))
        return task

    async def lease(self, offer: Offer, tag: str, *, autostop_minutes: int) -> NodeLease:
        if not CLUSTER_NAME.match(tag):
            raise ProviderError(f"The lease tag {tag!r} is not a SkyPilot cluster name (lowercase letters, digits, -).")
        if autostop_minutes < 1:
            raise ProviderError("Every SkyPilot node needs an autostop of at least one minute.")
        task = self._task(offer)
        self._offers[tag] = offer
        self._launches[tag] = asyncio.ensure_future(
            self._call(
                "lease a node",
                "launch",
                task,
                cluster_name=tag,
                idle_minutes_to_autostop=autostop_minutes,
                down=True,
                retry_until_up=False,
            )
        )
        return NodeLease(tag, offer, tag, "booting", None, None, 22, None)

    async def status(self, provider_id: str) -> NodeLease:
        offer = self._offers.get(provider_id) or Offer(
            f"skypilot:{self.cloud}", "", "", None, 0, "USD", self.boot_estimate
        )
        launch = self._launches.get(provider_id)
        if launch is not None:
            if not launch.done():
                return NodeLease(provider_id, offer, provider_id, "booting", None, None, 22, None)
            error = launch.exception()
            if error is not None:
                raise error
        records = await self._call("read the node's status", "status", cluster_names=[provider_id])
        for record in records or []:
            if _field(record, "name") == provider_id:
                return self._node(record, offer)
        return NodeLease(provider_id, offer, provider_id, "gone", None, None, 22, None)

    def _node(self, record: Any, offer: Offer) -> NodeLease:
        name = _field(record, "name")
        status = _field(record, "status")
        status = str(getattr(status, "value", status) or "").upper()
        handle = _field(record, "handle") or SimpleNamespace()
        address = _field(handle, "head_ip")
        launched = _field(record, "launched_at")
        started = dt.datetime.fromtimestamp(int(launched), dt.timezone.utc) if launched else None
        state = {"UP": "ready", "INIT": "booting"}.get(status, "gone")
        if state == "ready" and not address:
            state = "booting"
        return NodeLease(
            name,
            offer,
            name,
            state,
            address,
            _field(handle, "ssh_user"),
            int(_field(handle, "head_ssh_port", 22) or 22),
            started,
        )

    async def release(self, provider_id: str) -> None:
        launch = self._launches.pop(provider_id, None)
        if launch is not None and not launch.done():
            launch.cancel()
        try:
            await self._call_down(provider_id)
        finally:
            self._offers.pop(provider_id, None)

    async def _call_down(self, cluster: str) -> None:
        sky = self.sky

        def run() -> Any:
            return sky.get(sky.down(cluster))

        try:
            await asyncio.to_thread(run)
        except Exception as error:  # noqa: BLE001 - SkyPilot's own classes, told apart by name
            if type(error).__name__ in _GONE:
                return  # already gone: released
            raise self._sentence("release the node", error) from None

    async def tagged(self, tag_prefix: str) -> list[NodeLease]:
        records = await self._call("list the server's nodes", "status")
        unknown = Offer(f"skypilot:{self.cloud}", "", "", None, 0, "USD", self.boot_estimate)
        return [
            self._node(record, self._offers.get(_field(record, "name"), unknown))
            for record in records or []
            if str(_field(record, "name", "")).startswith(tag_prefix)
        ]
