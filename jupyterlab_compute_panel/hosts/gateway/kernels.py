"""The gateway's kernel manager: who started each kernel, what a client may put in its
environment, and a record of its processes that outlives a ``kill -9`` of the gateway.

Client environment: Kernel Gateway copies every ``KERNEL_*`` variable of a start's body
into the kernel's environment, and backends turn such variables into the image, uid,
GPU count, namespace or node (gateway_provisioners' pod templates). Here only
``client_env`` (by default the notebook's path as the user's server names it, which picks
one of the user's *own* bindings, checked like any charge) survives; everything else a client sends is dropped.
A tier's launch settings come from the catalog alone.

State: ``kernels.json`` in the gateway's state folder (mode 600) lists each running
kernel's owner, run and process id. At start the gateway stops every kernel process it
finds there (a killed gateway's kernels keep running: they are their own sessions), after
the metering service closed their runs at their last heartbeat.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.provisioning import KernelProvisionerFactory
from jupyter_server.services.kernels.handlers import KernelActionHandler, MainKernelHandler
from kernel_gateway.jupyter_websocket import JupyterWebsocketPersonality
from kernel_gateway.services.kernels.handlers import MainKernelHandler as KGMainKernelHandler
from kernel_gateway.services.kernels.manager import SeedingMappingKernelManager
from tornado import web
from traitlets import List, Unicode

from ...metering.identity import ACTING_USER
from ...metering.meter import pid_alive
from ..sessions import AnswersRefusals

STATE_FILE = "kernels.json"
# Backends whose kernels are processes of the gateway's machine (stopped by their process).
LOCAL_PROVISIONERS = frozenset({"local-provisioner"})
# Backends whose kernels stop when the gateway's connection to them ends (the SSH node's
# agent stops its kernel then): nothing to stop at a restart.
SELF_STOPPING = frozenset({"compute-panel-ssh"})


class GatewayKernelManager(SeedingMappingKernelManager):
    client_env = List(
        Unicode(),
        default_value=["COMPUTE_PANEL_NOTEBOOK"],
        help="Variables of a start request's env that reach the kernel; every other one is dropped.",
    ).tag(config=True)
    state_dir = Unicode(help="Folder of the gateway's record of running kernels (set by the app).").tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.owners: dict[str, str] = {}
        self._backends: dict[str, dict[str, Any]] = {}

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        user = ACTING_USER.get()
        if user is None:
            raise web.HTTPError(403, "A kernel is started only by a user known to the Hub")
        asked = kwargs.get("kernel_id")
        if asked is not None and asked in self:
            raise web.HTTPError(409, f"Kernel {asked} exists already")
        client = kwargs.pop("env", None) or {}
        env = {"PATH": os.environ.get("PATH", "")}
        env.update({k: str(v) for k, v in client.items() if k in self.client_env})
        dropped = sorted(k for k in client if k not in self.client_env and k != "PATH")
        if dropped:
            self.log.info("compute-gateway: dropped %s from %s's kernel start", ", ".join(dropped), user)
        kernel_id = await super().start_kernel(*args, env=env, **kwargs)
        self.owners[kernel_id] = user
        self._backends[kernel_id] = await self._backend_entry(kernel_id)
        self._save_state()
        return kernel_id

    def remove_kernel(self, kernel_id: str) -> Any:
        km = super().remove_kernel(kernel_id)
        self.owners.pop(kernel_id, None)
        self._backends.pop(kernel_id, None)
        self._save_state()
        return km

    async def _backend_entry(self, kernel_id: str) -> dict[str, Any]:
        """What a restarted gateway needs to find a kernel of another backend again (a
        Kubernetes pod): its tier, its backend and the backend's own persistence info."""
        km = self._kernels.get(kernel_id)
        provisioner = getattr(km, "provisioner", None)
        inner = getattr(provisioner, "inner", None)
        launch = getattr(provisioner, "_launch", None) or {}
        tier = launch.get("tier")
        if inner is None or tier is None or tier.backend.provisioner in LOCAL_PROVISIONERS:
            return {}
        try:
            info = json.loads(json.dumps(await inner.get_provisioner_info(), default=str))
        except Exception:
            self.log.warning("compute-gateway: no persistence info from kernel %s's backend", kernel_id, exc_info=True)
            info = None
        return {
            "kernelspec": getattr(km, "kernel_name", None),
            "tier": tier.id,
            "backend": tier.backend.provisioner,
            "info": info,
        }

    # -- the record -----------------------------------------------------------
    def _state_path(self) -> Path:
        return Path(self.state_dir) / STATE_FILE

    def _entry(self, kernel_id: str) -> dict[str, Any]:
        return {**self._process_entry(kernel_id), **self._backends.get(kernel_id, {})}

    def _process_entry(self, kernel_id: str) -> dict[str, Any]:
        km = self._kernels.get(kernel_id)
        provisioner = getattr(km, "provisioner", None)
        inner = getattr(provisioner, "inner", provisioner)
        pid = getattr(inner, "pid", None)
        return {
            "user": self.owners.get(kernel_id),
            "run_id": getattr(provisioner, "run_id", None),
            "pid": pid,
            "pid_started": _started(pid) if isinstance(pid, int) else None,
        }

    def _save_state(self) -> None:
        if not self.state_dir:
            return
        path = self._state_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({k: self._entry(k) for k in self.owners}, f)
        os.replace(tmp, path)

    def stop_left_behind(self, backend_of: Callable[[str], Any] | None = None) -> list[dict[str, Any]]:
        """Stop the kernels a previous gateway process recorded and left running: a local
        kernel's process (the same process: its start time matches), and a kernel of another
        backend through that backend (``backend_of(tier_id)``, the catalog's), as
        ``load_provisioner_info`` then ``kill``: a Kubernetes kernel's pod is deleted."""
        if not self.state_dir or not self._state_path().is_file():
            return []
        try:
            left = json.loads(self._state_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.log.warning("compute-gateway: %s is unreadable; no kernel left behind is stopped", self._state_path())
            return []
        stopped = []
        remote = {
            k: e
            for k, e in left.items()
            if e.get("backend") and e["backend"] not in SELF_STOPPING and e.get("info") is not None
        }
        if remote and backend_of is not None:
            loop = asyncio.new_event_loop()
            try:
                for kernel_id, entry in remote.items():
                    if loop.run_until_complete(self._stop_through_backend(kernel_id, entry, backend_of)):
                        stopped.append({"kernel_id": kernel_id, **entry})
            finally:
                loop.close()
        for kernel_id, entry in left.items():
            if kernel_id in remote or entry.get("backend") in SELF_STOPPING:
                continue
            pid = entry.get("pid")
            # The same process, not one that took its number since: its start time matches.
            same = isinstance(pid, int) and pid > 1 and _started(pid) == entry.get("pid_started") is not None
            if same and _kill(pid):
                self.log.info(
                    "compute-gateway: stopped kernel %s of %s (pid %d) left running by a stopped gateway",
                    kernel_id,
                    entry.get("user"),
                    pid,
                )
                stopped.append({"kernel_id": kernel_id, **entry})
        self._state_path().unlink(missing_ok=True)
        self._save_state()
        return stopped

    async def _stop_through_backend(self, kernel_id: str, entry: dict[str, Any], backend_of: Callable) -> bool:
        backend = backend_of(entry["tier"])
        if backend is None:
            self.log.warning(
                "compute-gateway: kernel %s of %s was on tier %r, which the catalog no longer has: not stopped",
                kernel_id,
                entry.get("user"),
                entry["tier"],
            )
            return False
        try:
            base = self.kernel_spec_manager.get_kernel_spec(entry["kernelspec"])
            spec = KernelSpec(**base.to_dict())
            spec.resource_dir = base.resource_dir
            spec.metadata = {
                **dict(spec.metadata),
                "kernel_provisioner": {"provisioner_name": backend.provisioner, "config": dict(backend.config)},
            }
            provisioner = KernelProvisionerFactory.instance(parent=self).create_provisioner_instance(
                kernel_id, spec, parent=self
            )
            await provisioner.load_provisioner_info(entry["info"])
            await provisioner.poll()  # a container's provisioner finds its pod by the kernel's id
            await provisioner.kill()
            await provisioner.cleanup(restart=False)
        except Exception:
            self.log.warning(
                "compute-gateway: could not stop kernel %s of %s left on %s",
                kernel_id,
                entry.get("user"),
                entry["backend"],
                exc_info=True,
            )
            return False
        self.log.info(
            "compute-gateway: stopped kernel %s of %s (%s) left running by a stopped gateway",
            kernel_id,
            entry.get("user"),
            entry["backend"],
        )
        return True


def _started(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, /proc/PID/stat), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _kill(pid: int) -> bool:
    """SIGTERM the kernel's process group (it is its own session), SIGKILL after 5 s."""
    if not pid_alive(pid):
        return False
    try:
        target = os.getpgid(pid)
        send = os.killpg if target == pid else os.kill
        target = pid if send is os.kill else target
        send(target, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            send(target, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True


class OwnKernelsHandler(KGMainKernelHandler):
    """``GET /api/kernels``: only the asking user's kernels; ``POST``: the client's env
    reaches the kernel manager through one allow-list, its ``client_env``."""

    @property
    def env_whitelist(self) -> list[str]:
        return list(self.kernel_manager.client_env)

    @web.authenticated
    async def get(self) -> None:
        owners = self.kernel_manager.owners
        me = self.current_user.username
        kernels = [k for k in self.kernel_manager.list_kernels() if owners.get(k["id"]) == me]
        self.finish(json.dumps(kernels, default=str))


class GatewayPersonality(JupyterWebsocketPersonality):
    """Kernel Gateway's websocket personality with the user's own kernel list, and a
    refused restart answered 403 with its sentence (not 500 "Exception restarting
    kernel"), which the user's server passes on (``hosts/lab.py``)."""

    def create_request_handlers(self) -> list[tuple]:
        handlers = []
        for pattern, cls, *rest in super().create_request_handlers():
            if issubclass(cls, MainKernelHandler):
                cls = OwnKernelsHandler
            elif issubclass(cls, KernelActionHandler):
                cls = type(cls.__name__, (AnswersRefusals, cls), {"__doc__": AnswersRefusals.__doc__})
            handlers.append((pattern, cls, *rest))
        return handlers


def create_personality(*args: Any, **kwargs: Any) -> GatewayPersonality:
    return GatewayPersonality(*args, **kwargs)
