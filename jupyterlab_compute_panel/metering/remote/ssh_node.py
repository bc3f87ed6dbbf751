"""Talking to a node: the SSH connection, the node's kernel count, why no node can take a kernel.

Used by the provisioner (``ssh.py``) to start a kernel and by the availability check
(``health.py``) to probe a tier's nodes.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from ...errors import LaunchRefused
from .ssh_settings import Host, SshSettings

AGENT_MARKER = "compute-panel-node-agent"
# `pgrep -f` with a bracket so that the shell running it does not count itself.
COUNT_COMMAND = f"pgrep -fc '{AGENT_MARKER[:-1]}[{AGENT_MARKER[-1]}]' || true"


class RemoteRefused(LaunchRefused):
    """A remote start refused or impossible; one sentence, shown by JupyterLab (403)."""


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
