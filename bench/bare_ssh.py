"""The baseline of bench_remote.py: a bare SSH-launched ipykernel, by hand or as a kernelspec.

``bare_launch`` is what anyone would write to run an ipykernel on another host with
asyncssh, and nothing more: one connection (host key checked strictly against a
known_hosts file, as the SSH tier does), one command that writes the connection file
and execs ``python -m ipykernel_launcher``, and five local forwards of that connection
to the kernel's ports. No metering, no grant or budget check, no probe of the node
(kernel count), no agent (so no protection against orphan kernels), no keepalive.

``BareSshProvisioner`` wraps it as a kernel provisioner, so that a plain kernelspec
(not a tier) can be started by jupyter_server exactly as a tier is: ``POST
/api/kernels`` or a session's ``PATCH``. bench_remote.py registers it under the entry
point name ``bench-bare-ssh`` for the server it starts (a dist-info folder of its own on
the server's PYTHONPATH); it is not part of the extension.
"""

from __future__ import annotations

import contextlib
import json
import random
import shlex
import signal
import uuid
from dataclasses import dataclass
from typing import Any

from jupyter_client.provisioning import KernelProvisionerBase
from traitlets import Unicode

ENTRY_POINT = "bench-bare-ssh"
CHANNELS = ("shell", "iopub", "stdin", "control", "hb")


@dataclass
class BareKernel:
    conn: Any
    process: Any
    pid: int
    path: str  # the connection file on the node
    info: dict[str, Any]  # connection info of the local ends of the forwards
    listeners: list[Any]

    async def signal(self, signum: int) -> None:
        with contextlib.suppress(Exception):
            await self.conn.run(f"kill -{int(signum)} {self.pid}", check=False)

    async def close(self) -> None:
        """Kill the kernel (a bare kernel outlives its SSH session) and close the connection."""
        with contextlib.suppress(Exception):
            await self.conn.run(f"kill -9 {self.pid} 2>/dev/null; rm -f {self.path}", check=False)
        for listener in self.listeners:
            listener.close()
        self.conn.close()
        with contextlib.suppress(Exception):
            await self.conn.wait_closed()


async def bare_launch(
    address: str,
    user: str,
    key_file: str,
    known_hosts: str,
    python: str,
    key: str | None = None,
    signature_scheme: str = "hmac-sha256",
) -> BareKernel:
    import asyncssh

    conn = await asyncssh.connect(
        address,
        username=user,
        client_keys=[key_file],
        known_hosts=known_hosts,
        agent_path=None,
        config=[],
    )
    # Five distinct ports below Linux's ephemeral range (32768 and up), where no agent's
    # kernel and no outgoing connection on the node can hold them already.
    ports = dict(zip(CHANNELS, random.SystemRandom().sample(range(10000, 32768), len(CHANNELS)), strict=True))
    info: dict[str, Any] = {f"{n}_port": p for n, p in ports.items()}
    info.update(ip="127.0.0.1", transport="tcp", key=key or uuid.uuid4().hex, signature_scheme=signature_scheme)
    path = f"/tmp/bench-kernel-{uuid.uuid4().hex}.json"  # noqa: S108 - on the node, removed by close()
    command = (
        f"umask 077; printf %s {shlex.quote(json.dumps(info))} > {path}; echo $$; "
        f"exec {shlex.quote(python)} -m ipykernel_launcher -f {path}"
    )
    process = await conn.create_process(command)
    pid = int((await process.stdout.readline()).strip())
    local = dict(info)
    listeners = []
    for name, port in ports.items():
        listener = await conn.forward_local_port("127.0.0.1", 0, "127.0.0.1", port)
        listeners.append(listener)
        local[f"{name}_port"] = listener.get_port()
    return BareKernel(conn, process, pid, path, local, listeners)


class BareSshProvisioner(KernelProvisionerBase):  # type: ignore[misc]
    """``bare_launch`` as a kernel provisioner (the bench's baseline kernelspec)."""

    host = Unicode(config=True)
    user = Unicode(config=True)
    key_file = Unicode(config=True)
    known_hosts = Unicode(config=True)
    python = Unicode(config=True)

    kernel: BareKernel | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.pop("extra_arguments", None)
        return await super().pre_launch(cmd=[self.python, "-m", "ipykernel_launcher"], **kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> dict[str, Any]:
        session = self.parent.session
        key = session.key.decode() if isinstance(session.key, bytes) else str(session.key)
        self.kernel = await bare_launch(
            self.host, self.user, self.key_file, self.known_hosts, self.python, key, session.signature_scheme
        )
        self.connection_info = {**self.kernel.info, "key": session.key}
        return self.connection_info

    @property
    def has_process(self) -> bool:
        return self.kernel is not None

    async def poll(self) -> int | None:
        if self.kernel is None:
            return 0
        return self.kernel.process.exit_status

    async def wait(self) -> int | None:
        if self.kernel is None:
            return None
        await self.kernel.process.wait_closed()
        return self.kernel.process.exit_status

    async def send_signal(self, signum: int) -> None:
        if self.kernel is not None and signum:
            await self.kernel.signal(signum)

    async def kill(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        kernel, self.kernel = self.kernel, None
        if kernel is not None:
            await kernel.close()

    def resolve_path(self, path: str) -> str | None:
        return None
