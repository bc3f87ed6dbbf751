"""``compute-panel-ssh``: a kernel provisioner that starts kernels on remote hosts over SSH.

The engine is asyncssh (SSH on the server's event loop, never blocking it); this
module is the glue. One SSH connection per kernel, so that the kernel's life is
tied to it:

- the kernel is started by a small agent (``agent.py``) run as the command of an SSH
  session; the agent stops the kernel's whole process group when the channel closes
  or falls silent, so a lost connection, a killed server or a stopped server leaves
  no kernel behind on the node;
- the five ZeroMQ ports are bound to the node's loopback and reached through local
  forwards of that same connection (``tunnel: true``, the default), so kernel ports
  are never exposed on the node's network; ``tunnel: false`` binds them to the node's
  address instead and lets ZeroMQ connect directly (a trusted cluster network only);
- host keys are checked strictly against the tier's ``known_hosts`` file: an unknown
  or changed key refuses the start with one sentence, nothing is ever added to it;
- ``poll()`` reports the kernel dead as soon as the channel closes, so the meter
  closes its run (end reason ``died``).

Settings come from the tier's ``backend.config`` (``ssh_settings.py``), checked when the
catalog is read so that a typo is a start-up error, not a failed kernel; talking to a
node (the connection, its kernel count) is ``ssh_node.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import KernelProvisionerBase
from jupyter_client.provisioning.provisioner_base import KernelConnectionInfo

# What the tests and other modules import from here; reach and count are looked up in
# this module by the provisioner, so that a test can replace them.
from .ssh_node import (  # noqa: F401
    AGENT_MARKER,
    COUNT_COMMAND,
    COUNT_MAX_AGE,
    HostStatus,
    RemoteRefused,
    _counts,
    connect,
    count,
    count_kernels,
    last_count,
    note_count,
    probe,
    reach,
    unavailable_sentence,
)
from .ssh_settings import (  # noqa: F401
    FIELDS,
    PROVISIONER_NAME,
    Host,
    SshConfigError,
    SshSettings,
    parse_host,
    parse_settings,
)

AGENT_SOURCE = (Path(__file__).parent / "agent.py").read_text(encoding="utf-8")
PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
# What of the server's kernel environment goes to the node: ours, Jupyter's session name,
# the kernelspec's env and the tier's env, never the server's whole environment.
ENV_PREFIXES = ("COMPUTE_PANEL_", "JPY_SESSION_NAME")


class SshProvisioner(KernelProvisionerBase, SshSettings):  # type: ignore[misc]
    """Starts the kernel on one of ``hosts`` over SSH; see the module docstring.

    Its settings are the traits it inherits from ``SshSettings``: jupyter_client passes
    the tier's ``backend.config`` to them, and they check it as the catalog did."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host: Host | None = None
        self.remote_pid: int | None = None
        self.remote_hostname: str | None = None
        self._conn: Any = None
        self._process: Any = None
        self._listeners: list[Any] = []
        self._tasks: list[asyncio.Task] = []
        self._exit: asyncio.Future | None = None
        self._ports: dict[str, int] = {}
        self._statuses: list[HostStatus] = []
        self._candidates: list[tuple[HostStatus, Any]] = []  # reached hosts, connected, best first

    @property
    def settings(self) -> SshSettings:
        """This provisioner's settings: its own traits."""
        return self

    # -- launch -------------------------------------------------------------------
    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Reach the hosts (host keys checked) and order those reached, least loaded first.

        No SSH session is run here when the tier has one host, or when every reached host
        was counted recently (see ``last_count``): the agent counts the node's kernels
        when it starts and refuses when the node is full, so ``max_kernels`` is checked
        on the node at the moment of the start. Otherwise the hosts without a recent
        count are counted now, together.
        """
        kwargs.pop("transport_encryption", None)
        await self._close()
        settings = self.settings
        reached = await asyncio.gather(*(reach(settings, h) for h in settings.hosts))
        if len(reached) > 1:
            await asyncio.gather(*(count(s, conn) for s, conn in reached if conn is not None and s.kernels is None))
        self._statuses = [status for status, _ in reached]
        candidates = [(status, conn) for status, conn in reached if status.reachable and conn is not None]
        if not candidates:
            raise RemoteRefused(
                f"No node can take this kernel. {unavailable_sentence(self._statuses, settings.max_kernels)}"
            )
        # Least loaded first (listed order among equals). A node counted full is still
        # tried, last: its count may be old, and its agent decides.
        self._candidates = sorted(candidates, key=lambda r: r[0].kernels or 0)
        kwargs.pop("extra_arguments", None)
        return await super().pre_launch(cmd=settings.argv(), **kwargs)

    def _remote_env(self, env: Mapping[str, str]) -> dict[str, str]:
        sent = {k: v for k, v in env.items() if k.startswith(ENV_PREFIXES)}
        sent.update(self.kernel_spec.env or {})
        sent.update(self.settings.env)
        return sent

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        settings = self.settings
        candidates, self._candidates = self._candidates, []
        assert candidates, "pre_launch reaches the hosts"
        km = self.parent
        session = getattr(km, "session", None)
        key = session.key if session is not None else b""
        scheme = session.signature_scheme if session is not None else "hmac-sha256"
        spec = {
            "argv": cmd,
            "env": self._remote_env(kwargs.get("env") or {}),
            "cwd": settings.cwd,
            "transport": "tcp",
            "key": key.decode("utf-8") if isinstance(key, bytes) else str(key),
            "signature_scheme": scheme,
            "kernel_name": getattr(km, "kernel_name", "") or "",
            "orphan_timeout": settings.orphan_timeout,
            "max_kernels": settings.max_kernels,
        }
        started: dict[str, Any] | None = None
        try:
            while candidates and started is None:
                status, self._conn = candidates.pop(0)
                self.host = host = status.host
                spec["ip"] = "127.0.0.1" if settings.tunnel else await self._address_of(host)
                reply = await self._start_agent(spec)
                if "kernels" in reply:
                    status.kernels = int(reply["kernels"])
                    note_count(host, status.kernels + (0 if reply.get("busy") else 1))
                if reply.get("busy"):  # full when its agent counted: try the next node
                    await self._close()
                    continue
                started = reply
        except BaseException:
            await self._close()
            raise
        finally:
            for _status, spare in candidates:
                spare.close()
        if started is None:
            raise RemoteRefused(
                f"No node can take this kernel. {unavailable_sentence(self._statuses, settings.max_kernels)}"
            )
        conn, host, bind_ip = self._conn, self.host, spec["ip"]
        self.remote_pid = int(started["pid"])
        self.remote_hostname = started.get("hostname")
        remote_ports: dict[str, int] = started["ports"]
        loop = asyncio.get_running_loop()
        self._exit = loop.create_future()
        self._tasks = [
            loop.create_task(self._watch()),
            loop.create_task(self._drain(self._process.stderr)),
            loop.create_task(self._drain(self._process.stdout)),
            loop.create_task(self._keepalive()),
        ]
        if settings.tunnel:
            try:
                for name in PORT_NAMES:
                    listener = await conn.forward_local_port("127.0.0.1", 0, "127.0.0.1", remote_ports[name])
                    self._listeners.append(listener)
                    self._ports[name] = listener.get_port()
            except Exception as e:  # noqa: BLE001 - any forwarding failure is one sentence
                await self.kill()
                await self._close()
                raise RemoteRefused(f"The kernel's ports on {host.label} could not be forwarded ({e}).") from None
            ip = "127.0.0.1"
        else:
            self._ports = dict(remote_ports)
            ip = bind_ip
        self.log.info(
            "compute-panel-ssh: kernel %s runs on %s (pid %s) through %s",
            self.kernel_id,
            host.label,
            self.remote_pid,
            "an SSH tunnel" if settings.tunnel else "the node's network",
        )
        self.connection_info = {
            **self._ports,
            "ip": ip,
            "transport": "tcp",
            "key": key,
            "signature_scheme": scheme,
            "kernel_name": spec["kernel_name"],
        }
        return self.connection_info

    async def _start_agent(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Run the agent on the current host and return its first line: the started
        kernel (``ports``, ``pid``), or ``busy`` with the node's count; RemoteRefused
        (everything closed) when it fails."""
        settings, host, conn = self.settings, self.host, self._conn
        assert host is not None and conn is not None
        command = f"{shlex.quote(settings.python)} -I -S -u -c {shlex.quote(AGENT_SOURCE)}"
        try:
            self._process = await conn.create_process(command, encoding="utf-8", errors="replace")
            self._process.stdin.write(json.dumps(spec) + "\n")
            line = await asyncio.wait_for(self._process.stdout.readline(), settings.launch_timeout)
        except asyncio.TimeoutError:
            await self._close()
            raise RemoteRefused(
                f"The kernel did not start on {host.label} within {settings.launch_timeout:g} s; try again or choose another tier."
            ) from None
        except Exception as e:  # noqa: BLE001 - any failure of the session is one sentence
            await self._close()
            raise RemoteRefused(f"The kernel could not be started on {host.label} ({e}).") from None
        try:
            reply = json.loads(line)
        except ValueError:
            reply = {"error": (line or "").strip() or f"{settings.python} -c exited without a word"}
        if not isinstance(reply, dict):
            reply = {"error": str(reply)}
        if reply.get("busy"):
            return reply
        if "error" in reply or "ports" not in reply:
            detail = reply.get("error") or line
            with contextlib.suppress(Exception):
                detail = (detail or "") + " " + (await asyncio.wait_for(self._process.stderr.read(2000), 2)).strip()
            await self._close()
            raise RemoteRefused(f"The kernel could not be started on {host.label}: {detail.strip()}")
        return reply

    async def _address_of(self, host: Host) -> str:
        infos = await asyncio.get_running_loop().getaddrinfo(host.address, host.port, type=1)
        return infos[0][4][0]

    async def _watch(self) -> None:
        """Resolve ``_exit`` when the agent exits or the connection is lost (255)."""
        status: int | None = None
        try:
            await self._process.wait_closed()
            status = self._process.returncode
        except Exception:  # noqa: BLE001, S110 - a lost connection is an exit like any other
            pass
        if self._exit is not None and not self._exit.done():
            self._exit.set_result(255 if status is None else status)
            if status is None:
                self.log.warning(
                    "compute-panel-ssh: lost the SSH connection to %s; kernel %s is gone",
                    self.host.label if self.host else "?",
                    self.kernel_id,
                )

    async def _drain(self, stream: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                line = await stream.readline()
                if not line:
                    return
                self.log.debug(
                    "kernel %s on %s: %s", self.kernel_id, self.host.label if self.host else "?", line.rstrip()
                )

    async def _keepalive(self) -> None:
        """Tell the agent we are here, so a half-open connection ends at orphan_timeout."""
        with contextlib.suppress(Exception):
            while self._exit is not None and not self._exit.done():
                await asyncio.sleep(self.settings.keepalive_interval)
                self._process.stdin.write("ping\n")

    # -- life ---------------------------------------------------------------------
    @property
    def has_process(self) -> bool:
        return self._process is not None

    async def poll(self) -> int | None:
        if self._exit is None:
            return None if self._process is not None else 0
        return self._exit.result() if self._exit.done() else None

    async def wait(self) -> int | None:
        if self._exit is None:
            return None
        return await asyncio.shield(self._exit)

    async def send_signal(self, signum: int) -> None:
        if signum == 0 or self._process is None or (self._exit is not None and self._exit.done()):
            return
        with contextlib.suppress(Exception):
            self._process.stdin.write(f"signal {int(signum)}\n")

    async def kill(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGKILL)
        self._end_channel()

    async def terminate(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGTERM)

    def _end_channel(self) -> None:
        # Closing stdin is the agent's cue to stop the kernel's whole process group.
        if self._process is not None:
            with contextlib.suppress(Exception):
                self._process.stdin.write_eof()

    async def cleanup(self, restart: bool = False) -> None:
        await self._close()

    async def _close(self) -> None:
        self._end_channel()
        for _status, spare in self._candidates:
            spare.close()
        self._candidates = []
        for listener in self._listeners:
            listener.close()
        self._listeners = []
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.wait_closed(), 5)
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        if self._exit is not None and not self._exit.done():
            self._exit.set_result(255)
        self._process = None
        self._ports = {}

    def get_shutdown_wait_time(self, recommended: float = 5.0) -> float:
        return recommended

    def get_stable_start_time(self, recommended: float = 10.0) -> float:
        return recommended

    def resolve_path(self, path: str) -> str | None:
        return None  # the kernel's files are on the node, not here

    async def get_provisioner_info(self) -> dict[str, Any]:
        info = await super().get_provisioner_info()
        info.update(host=self.host.label if self.host else None, remote_pid=self.remote_pid)
        return info
