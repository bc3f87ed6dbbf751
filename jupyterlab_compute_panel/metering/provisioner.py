"""``compute-panel-provisioner``: meters a kernel around the provisioner that launches it.

A tier kernelspec names this provisioner with ``{"tier": ..., "base_kernel": ...}``
as config. It refuses a start that no grant can pay for, delegates the real
launch to the tier's backend provisioner (``local-provisioner``, or an SSH,
Kubernetes or Slurm one), and records the kernel's life in the ledger: the start
at launch, heartbeats from the meter, the stop at cleanup with its reason.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from typing import Any

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.provisioning import KernelProvisionerBase, KernelProvisionerFactory
from jupyter_client.provisioning.provisioner_base import KernelConnectionInfo
from traitlets import Unicode

from ..errors import LaunchRefused
from .hosting import refusals_in_one_line, service_for
from .service import MeteringService


class ComputePanelProvisioner(KernelProvisionerBase):  # type: ignore[misc]
    tier = Unicode(help="Id of the tier in the catalog.").tag(config=True)
    base_kernel = Unicode("", help="Name of the kernelspec this tier kernelspec derives from.").tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner: KernelProvisionerBase | None = None
        self.run_id: str | None = None
        self._service: MeteringService | None = None
        self._launch: dict[str, Any] = {}
        self._stopping = False
        self._exited_by_itself = False

    # -- helpers --------------------------------------------------------------
    def _get_service(self) -> MeteringService:
        if self._service is None:
            service = service_for(self.parent)
            if isinstance(service, Exception):
                raise LaunchRefused(f"Compute tiers are unavailable: {service}")
            self._service = service
        return self._service

    def _make_inner(self, tier) -> KernelProvisionerBase:
        spec = KernelSpec(**self.kernel_spec.to_dict())
        spec.resource_dir = self.kernel_spec.resource_dir
        spec.metadata = copy.deepcopy(dict(spec.metadata))
        spec.metadata["kernel_provisioner"] = {
            "provisioner_name": tier.backend.provisioner,
            "config": dict(tier.backend.config),
        }
        return KernelProvisionerFactory.instance(parent=self.parent).create_provisioner_instance(
            self.kernel_id, spec, parent=self.parent
        )

    # -- the launch -----------------------------------------------------------
    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        refusals_in_one_line(self.parent.log)
        service = self._get_service()
        tier = service.catalog.get(self.tier)
        if tier is None:
            raise LaunchRefused(
                f"This kernel's tier {self.tier!r} is no longer offered: choose another tier in the compute panel."
            )
        env = dict(kwargs.get("env") or os.environ)
        # What the server itself says about this start (a re-run names its notebook and
        # grant): a keyword of the kernel manager's start_kernel, never from a client.
        server_side = kwargs.pop("compute_panel", None) or {}
        notebook = server_side.get("notebook") or service.notebook_path(
            env.get("JPY_SESSION_NAME") or env.get("COMPUTE_PANEL_NOTEBOOK")
        )
        # The launching user: the request that started this kernel (identity.py), never its env.
        user = service.owner
        grant_id = await service.grant_for_launch(tier, user, notebook, env, grant_id=server_side.get("grant_id"))
        if self.inner is None:
            self.inner = self._make_inner(tier)
        env.update(
            COMPUTE_PANEL_TIER=tier.id,
            COMPUTE_PANEL_SIMULATED="1" if tier.simulated else "0",
        )
        kwargs["env"] = env
        self._launch = {"tier": tier, "grant_id": grant_id, "user": user, "notebook": notebook}
        self._stopping = False
        self._exited_by_itself = False
        # The reservation: on a paid tier the budget is checked atomically here.
        run = await service.reserve_run(**self._run_fields())
        self.run_id = run.id
        try:
            return await self.inner.pre_launch(**kwargs)
        except BaseException:
            await self._launch_failed()
            raise

    async def _launch_failed(self) -> None:
        if self.run_id is not None:
            run_id, self.run_id = self.run_id, None
            await self._get_service().close_run(run_id, "launch_failed")

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        assert self.inner is not None
        try:
            connection_info = await self.inner.launch_kernel(cmd, **kwargs)
        except BaseException:
            await self._launch_failed()
            raise
        self.connection_info = connection_info
        service = self._get_service()
        try:
            run = await service.launched(self, self.run_id) if self.run_id else None
            if run is None:
                raise RuntimeError("the reserved run is gone")
        except Exception:
            # Never leave an unmetered kernel running on a tier.
            service.log.error("compute-panel: could not record the start; stopping the kernel", exc_info=True)
            await self.inner.kill()
            await self.inner.cleanup()
            await self._launch_failed()
            raise LaunchRefused(
                "The compute ledger could not record this kernel's start, so it was stopped; try again."
            ) from None
        return connection_info

    async def resume_metering(self) -> None:
        """Open a new run for this live kernel after its run was closed by someone else."""
        service = self._get_service()
        previous = self.run_id
        run = await service.open_run(self, **self._run_fields())
        self.run_id = run.id
        # The same kernel: the new run ran in the environment captured for the old one.
        await service.reopened(previous, run)

    def _run_fields(self) -> dict[str, Any]:
        return {
            "kernel_id": self.kernel_id,
            "kernelspec": getattr(self.parent, "kernel_name", "") or self.kernel_spec.name or self.base_kernel,
            "tier": self._launch["tier"],
            "grant_id": self._launch["grant_id"],
            "user": self._launch["user"],
            "notebook": self._launch["notebook"],
        }

    async def post_launch(self, **kwargs: Any) -> None:
        if self.inner is not None:
            await self.inner.post_launch(**kwargs)

    # -- life -----------------------------------------------------------------
    @property
    def has_process(self) -> bool:
        return self.inner is not None and self.inner.has_process

    async def poll(self) -> int | None:
        if self.inner is None:
            return 0
        status = await self.inner.poll()
        if status is not None and not self._stopping:
            self._exited_by_itself = True
        return status

    async def poll_for_meter(self) -> int | None:
        """Liveness for the meter's heartbeat round: an exit counts as a death only when
        nobody asked the kernel to stop; a stop in progress is closed by cleanup with its
        own reason (shutdown, restart, culled)."""
        status = await self.poll()
        return status if self._exited_by_itself else None

    async def wait(self) -> int | None:
        return await self.inner.wait() if self.inner else None

    async def send_signal(self, signum: int) -> None:
        if self.inner is not None:
            await self.inner.send_signal(signum)

    async def shutdown_requested(self, restart: bool = False) -> None:
        if self.inner is not None:
            await self.inner.poll()  # notice a kernel that already died
            self._stopping = True
            await self.inner.shutdown_requested(restart=restart)

    async def kill(self, restart: bool = False) -> None:
        await self._note_stop()
        if self.inner is not None:
            await self.inner.kill(restart=restart)

    async def terminate(self, restart: bool = False) -> None:
        await self._note_stop()
        if self.inner is not None:
            await self.inner.terminate(restart=restart)

    async def _note_stop(self) -> None:
        if self.inner is not None and not self._stopping:
            await self.poll()
            self._stopping = True

    async def cleanup(self, restart: bool = False) -> None:
        if self.inner is not None:
            await self.inner.cleanup(restart=restart)
        if self.run_id is not None:
            at = None
            if self._exited_by_itself:
                reason = "died"
            elif self._launch.get("end_reason"):
                reason, at = self._launch["end_reason"], self._launch.get("end_at")
            else:
                reason = "restart" if restart else "shutdown"
            run_id, self.run_id = self.run_id, None
            await self._get_service().close_run(run_id, reason, at)

    @property
    def end_reason(self) -> str | None:
        """Why an enforcer is stopping this kernel (``budget``, ``culled``), if one is."""
        return self._launch.get("end_reason")

    def set_end_reason(self, reason: str | None, at: dt.datetime | None = None) -> None:
        """Let an enforcer (culler, budget) say why it is stopping this kernel and, if not at
        the shutdown, when its run ends (naive UTC); None takes it back."""
        self._launch["end_reason"] = reason
        self._launch["end_at"] = at if reason else None

    # -- delegation -----------------------------------------------------------
    def get_shutdown_wait_time(self, recommended: float = 5.0) -> float:
        return self.inner.get_shutdown_wait_time(recommended) if self.inner else recommended

    def get_stable_start_time(self, recommended: float = 10.0) -> float:
        return self.inner.get_stable_start_time(recommended) if self.inner else recommended

    def resolve_path(self, path: str) -> str | None:
        return self.inner.resolve_path(path) if self.inner else None

    async def get_provisioner_info(self) -> dict[str, Any]:
        info = await self.inner.get_provisioner_info() if self.inner else await super().get_provisioner_info()
        info["compute_panel_run_id"] = self.run_id
        return info
