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

Settings come from the tier's ``backend.config`` (see ``SshSettings``), checked when the
catalog is read so that a typo is a start-up error, not a failed kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
import shlex
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import KernelProvisionerBase
from jupyter_client.provisioning.provisioner_base import KernelConnectionInfo
from traitlets import Bool, Dict, Float, Int, List, Unicode, default

from ...errors import LaunchRefused

PROVISIONER_NAME = "compute-panel-ssh"
AGENT_SOURCE = (Path(__file__).parent / "agent.py").read_text(encoding="utf-8")
AGENT_MARKER = "compute-panel-node-agent"
# `pgrep -f` with a bracket so that the shell running it does not count itself.
COUNT_COMMAND = f"pgrep -fc '{AGENT_MARKER[:-1]}[{AGENT_MARKER[-1]}]' || true"
PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
# What of the server's kernel environment goes to the node: ours, Jupyter's session name,
# the kernelspec's env and the tier's env, never the server's whole environment.
ENV_PREFIXES = ("COMPUTE_PANEL_", "JPY_SESSION_NAME")


class RemoteRefused(LaunchRefused):
    """A remote start refused or impossible; one sentence, shown by JupyterLab (403)."""


@dataclass(frozen=True)
class Host:
    address: str
    port: int = 22

    @property
    def label(self) -> str:
        return self.address if self.port == 22 else f"{self.address}:{self.port}"


@dataclass(frozen=True)
class SshSettings:
    """The checked ``backend.config`` of an SSH tier."""

    hosts: tuple[Host, ...]
    user: str
    key_file: str | None
    known_hosts: str
    python: str = "python3"
    kernel_cmd: tuple[str, ...] = ()
    cwd: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    max_kernels: int = 0
    tunnel: bool = True
    connect_timeout: float = 10.0
    launch_timeout: float = 60.0
    keepalive_interval: float = 5.0
    orphan_timeout: float = 30.0

    def argv(self) -> list[str]:
        if self.kernel_cmd:
            return list(self.kernel_cmd)
        return [self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


FIELDS = (
    "hosts",
    "user",
    "key_file",
    "known_hosts",
    "python",
    "kernel_cmd",
    "cwd",
    "env",
    "max_kernels",
    "tunnel",
    "connect_timeout",
    "launch_timeout",
    "keepalive_interval",
    "orphan_timeout",
)


class SshConfigError(ValueError):
    """``backend.config.<field>: problem``; the catalog prefixes the tier."""


def parse_host(text: Any) -> Host:
    if not isinstance(text, str) or not text.strip() or any(c.isspace() for c in text.strip()):
        raise SshConfigError(f"hosts: each host must be 'name' or 'name:port', got {text!r}")
    text = text.strip()
    if text.startswith("["):  # [v6 address]:port
        address, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        address, port_text = text.split(":")
    else:
        address, port_text = text, ""
    port = 22
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SshConfigError(f"hosts: {text!r} has no valid port")
        port = int(port_text)
    return Host(address, port)


def parse_settings(config: Mapping[str, Any]) -> SshSettings:
    """Check an SSH tier's ``backend.config``; SshConfigError names the field."""
    unknown = sorted(set(config) - set(FIELDS))
    if unknown:
        raise SshConfigError(f"{unknown[0]}: is not a setting of {PROVISIONER_NAME} (known: {', '.join(FIELDS)})")
    hosts = config.get("hosts")
    if isinstance(hosts, str):
        hosts = [hosts]
    if not isinstance(hosts, (list, tuple)) or not hosts:
        raise SshConfigError("hosts: list at least one host ('name' or 'name:port')")
    parsed = tuple(parse_host(h) for h in hosts)
    if len(set(parsed)) != len(parsed):
        twice = next(h for i, h in enumerate(parsed) if h in parsed[:i])
        raise SshConfigError(f"hosts: a host is listed twice: {twice.label}; list each once")

    def text(name: str, default: str | None, required: bool = False) -> str | None:
        value = config.get(name, default)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise SshConfigError(f"{name}: must be a non-empty string, got {value!r}")
        return value.strip()

    def number(name: str, default: float, low: float, high: float) -> float:
        value = config.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise SshConfigError(f"{name}: must be a number of seconds between {low:g} and {high:g}, got {value!r}")
        return float(value)

    kernel_cmd = config.get("kernel_cmd") or ()
    if not isinstance(kernel_cmd, (list, tuple)) or not all(isinstance(a, str) for a in kernel_cmd):
        raise SshConfigError(f"kernel_cmd: must be a list of strings, got {kernel_cmd!r}")
    if kernel_cmd and not any("{connection_file}" in a for a in kernel_cmd):
        raise SshConfigError("kernel_cmd: must pass the kernel its connection file as {connection_file}")
    env = config.get("env") or {}
    if not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise SshConfigError(f"env: must map names to strings, got {env!r}")
    max_kernels = config.get("max_kernels", 0)
    if isinstance(max_kernels, bool) or not isinstance(max_kernels, int) or max_kernels < 0:
        raise SshConfigError(f"max_kernels: must be a whole number (0: no limit), got {max_kernels!r}")
    tunnel = config.get("tunnel", True)
    if not isinstance(tunnel, bool):
        raise SshConfigError(f"tunnel: must be true or false, got {tunnel!r}")
    known_hosts = text("known_hosts", "~/.ssh/known_hosts", required=True)
    key_file = text("key_file", None)
    keepalive = number("keepalive_interval", 5.0, 1, 600)
    orphan = number("orphan_timeout", 30.0, 0, 86400)
    if orphan and orphan < 2 * keepalive:
        raise SshConfigError(
            f"orphan_timeout: must be 0 (off) or at least twice keepalive_interval ({2 * keepalive:g} s), got {orphan:g}"
        )
    return SshSettings(
        hosts=parsed,
        user=text("user", getpass.getuser(), required=True) or "",
        key_file=os.path.expanduser(key_file) if key_file else None,
        known_hosts=os.path.expanduser(known_hosts or ""),
        python=text("python", "python3", required=True) or "python3",
        kernel_cmd=tuple(kernel_cmd),
        cwd=config.get("cwd") or "",
        env=dict(env),
        max_kernels=max_kernels,
        tunnel=tunnel,
        connect_timeout=number("connect_timeout", 10.0, 0.5, 600),
        launch_timeout=number("launch_timeout", 60.0, 1, 3600),
        keepalive_interval=keepalive,
        orphan_timeout=orphan,
    )


# -- talking to a node -------------------------------------------------------------


async def connect(settings: SshSettings, host: Host):
    """An SSH connection to ``host``, host key checked strictly; RemoteRefused otherwise."""
    import asyncssh

    if not os.path.isfile(settings.known_hosts):
        raise RemoteRefused(
            f"The known_hosts file {settings.known_hosts} of this tier does not exist, so no host key of "
            f"{host.label} can be checked: ask an admin to add the node's key to it."
        )
    try:
        return await asyncssh.connect(
            host.address,
            port=host.port,
            username=settings.user,
            client_keys=[settings.key_file] if settings.key_file else (),
            known_hosts=settings.known_hosts,
            agent_path=None,
            config=[],
            connect_timeout=settings.connect_timeout,
            keepalive_interval=settings.keepalive_interval,
            keepalive_count_max=3,
            password_auth=False,
            kbdint_auth=False,
        )
    except asyncssh.HostKeyNotVerifiable:
        raise RemoteRefused(
            f"The SSH host key of {host.label} does not match the known_hosts file {settings.known_hosts} "
            "(or is not in it), so no kernel was started there: check the node's key out of band before trusting it."
        ) from None
    except asyncssh.PermissionDenied:
        raise RemoteRefused(
            f"{host.label} refused the SSH login of {settings.user!r}"
            f"{' with key ' + settings.key_file if settings.key_file else ''}: ask an admin to authorize the key."
        ) from None
    except (OSError, asyncio.TimeoutError, asyncssh.Error) as e:
        reason = getattr(e, "reason", None) or getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise RemoteRefused(f"{host.label} cannot be reached over SSH ({reason}).") from None


async def count_kernels(conn) -> int:
    """How many kernels (agents) the node runs, whoever started them."""
    result = await conn.run(COUNT_COMMAND, check=False, timeout=10)
    try:
        return int(str(result.stdout).strip() or 0)
    except ValueError:
        return 0


# The kernels each node ran at its last count in this process (an availability check, or
# the agent of a start, which counts on the node), so that a start on a tier of several
# nodes can prefer the least loaded one without one more SSH session first. Only a
# preference: whether a node has room is decided by the agent, on the node, at the start.
COUNT_MAX_AGE = 120.0
_counts: dict[Host, tuple[int, float]] = {}


def note_count(host: Host, kernels: int) -> None:
    _counts[host] = (kernels, time.monotonic())


def last_count(host: Host) -> int | None:
    """The node's last count if it is at most COUNT_MAX_AGE seconds old, else None."""
    entry = _counts.get(host)
    if entry is None or time.monotonic() - entry[1] > COUNT_MAX_AGE:
        return None
    return entry[0]


@dataclass
class HostStatus:
    host: Host
    reachable: bool
    kernels: int | None = None
    error: str | None = None

    def free(self, max_kernels: int) -> bool:
        return self.reachable and (not max_kernels or (self.kernels or 0) < max_kernels)

    def to_json(self, max_kernels: int) -> dict[str, Any]:
        return {
            "host": self.host.label,
            "reachable": self.reachable,
            "kernels": self.kernels,
            "max_kernels": max_kernels or None,
            "free": self.free(max_kernels),
            "error": self.error,
        }


async def reach(settings: SshSettings, host: Host) -> tuple[HostStatus, Any]:
    """Reach ``host`` and check its key. Returns its status (with its last count, if
    recent) and the open connection, or None when it cannot be reached."""
    try:
        conn = await connect(settings, host)
    except RemoteRefused as e:
        return HostStatus(host, False, error=e.sentence), None
    return HostStatus(host, True, last_count(host)), conn


async def count(status: HostStatus, conn: Any) -> bool:
    """Count the kernels of a reached node into ``status``; False (and the connection
    closed, the node marked down) when it answers SSH but cannot run commands."""
    try:
        status.kernels = await count_kernels(conn)
    except Exception as e:  # noqa: BLE001 - a node that answers SSH but not commands is down
        conn.close()
        status.reachable, status.error = False, f"{status.host.label} answers SSH but cannot run commands ({e})."
        return False
    note_count(status.host, status.kernels)
    return True


async def probe(settings: SshSettings, host: Host) -> HostStatus:
    """Reach ``host``, check its key, count its kernels (the availability check)."""
    status, conn = await reach(settings, host)
    if conn is not None and await count(status, conn):
        conn.close()
    return status


def unavailable_sentence(statuses: list[HostStatus], max_kernels: int) -> str:
    """Why none of a tier's nodes can take a kernel (one sentence)."""
    down = [s for s in statuses if not s.reachable]
    if len(down) == len(statuses):
        if len(statuses) == 1:
            return f"Its node is down: {down[0].error}"
        return f"All {len(statuses)} of its nodes are down: " + " ".join(s.error or "" for s in down)
    busy = [s for s in statuses if s.reachable]
    return (
        f"All its reachable nodes are busy ({', '.join(f'{s.host.label}: {s.kernels} of {max_kernels}' for s in busy)} "
        "kernels): try again later or choose another tier."
    )


# -- the provisioner ---------------------------------------------------------------


class SshProvisioner(KernelProvisionerBase):  # type: ignore[misc]
    """Starts the kernel on one of ``hosts`` over SSH; see the module docstring."""

    hosts = List(Unicode(), help="Hosts that can run this tier's kernels: 'name' or 'name:port'.").tag(config=True)
    user = Unicode(help="Login on the hosts. Default: the server's user.").tag(config=True)

    key_file = Unicode(None, allow_none=True, help="Private key file of the login.").tag(config=True)
    known_hosts = Unicode("~/.ssh/known_hosts", help="known_hosts file with the hosts' keys.").tag(config=True)
    python = Unicode("python3", help="Python with ipykernel on the hosts.").tag(config=True)
    kernel_cmd = List(Unicode(), help="Kernel command on the hosts, with {connection_file}.").tag(config=True)
    cwd = Unicode("", help="Working directory on the host. Default: the login's home.").tag(config=True)
    env = Dict(help="Extra environment of the kernel on the host.").tag(config=True)
    max_kernels = Int(0, help="Kernels a host runs at most (0: no limit).").tag(config=True)
    tunnel = Bool(True, help="Reach the kernel's ports through the SSH connection.").tag(config=True)
    connect_timeout = Float(10.0, help="Seconds to reach a host.").tag(config=True)
    launch_timeout = Float(60.0, help="Seconds for the agent to start the kernel.").tag(config=True)
    keepalive_interval = Float(5.0, help="Seconds between keepalives on the connection.").tag(config=True)
    orphan_timeout = Float(30.0, help="Seconds of silence after which the node stops the kernel.").tag(config=True)

    @default("user")
    def _default_user(self) -> str:
        # A static default ('') would count as set (traitlets stores it at once) and be
        # refused as empty: a tier without `user` could not start a kernel.
        return getpass.getuser()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = parse_settings({k: getattr(self, k) for k in FIELDS if self.trait_has_value(k)})
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
