"""A second host for the SSH tier tests: the "RTX node".

A network namespace with its own address, joined to this host by a veth pair, runs
its own sshd (Debian's openssh-server) on a configuration of its own: a host key and
an authorized client key generated in a temporary folder, root login with that key
only. Kernels started there run the project's virtual environment's Python (the
filesystem is shared; the network is not, which is what the tests check by asking the
kernel for its address). Everything is torn down at the end.

What the node needs (root, iproute2, sshd) is checked by tests/prerequisites.py: the
tests marked ``netns`` are skipped with its sentence when something is missing, and fail
with it under ``--require-all`` (``make test``, CI); make_node raises NodeError with the
same sentence, and with the reason when making the node fails on a machine that has it all.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import prerequisites
from prerequisites import SSHD


class NodeError(RuntimeError):
    pass


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise NodeError(f"`{' '.join(argv)}` failed ({result.returncode}): {(result.stderr or result.stdout).strip()}")
    return result


@dataclass
class RemoteNode:
    name: str  # the namespace
    host_if: str
    node_if: str
    host_address: str
    address: str
    folder: Path
    key_file: Path
    known_hosts: Path
    wrong_known_hosts: Path
    sshd: subprocess.Popen | None = None

    # -- what the tests use --------------------------------------------------------
    def backend_config(self, **extra) -> dict:
        return {
            "hosts": [self.address],
            "user": "root",
            "key_file": str(self.key_file),
            "known_hosts": str(self.known_hosts),
            "python": sys.executable,
            "connect_timeout": 5,
            "keepalive_interval": 1,
            "orphan_timeout": 4,
            **extra,
        }

    def pids(self) -> list[int]:
        """Every process in the node's network namespace."""
        out = _run("ip", "netns", "pids", self.name, check=False).stdout
        return [int(p) for p in out.split() if p.isdigit()]

    def processes(self, needle: str) -> list[int]:
        found = []
        for pid in self.pids():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if needle in cmdline and state != "Z":
                found.append(pid)
        return found

    def kernels(self) -> list[int]:
        return self.processes("ipykernel_launcher")

    def agents(self) -> list[int]:
        return self.processes("compute-panel-node-agent")

    def cut_ssh_sessions(self) -> int:
        """Kill every sshd process serving a connection (not the listener): the
        connections drop as if the node's sshd had crashed."""
        killed = 0
        listener = self.sshd.pid if self.sshd else None
        for pid in self.pids():
            if pid == listener:
                continue
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                continue
            if comm.startswith("sshd"):
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
        return killed

    def link(self, up: bool) -> None:
        _run("ip", "link", "set", self.host_if, "up" if up else "down")

    def wait_no_kernels(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.kernels() and not self.agents():
                return True
            time.sleep(0.2)
        return False

    # -- making and unmaking -------------------------------------------------------
    def teardown(self) -> None:
        if self.sshd is not None and self.sshd.poll() is None:
            self.sshd.terminate()
            try:
                self.sshd.wait(5)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
        for pid in self.pids():  # anything a failed test left behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _run("ip", "link", "del", self.host_if, check=False)
        _run("ip", "netns", "del", self.name, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _subnet() -> int:
    """A third octet for 10.201.X.0/30 not routed on this host yet (parallel sessions)."""
    routes = _run("ip", "-4", "route", "show", check=False).stdout
    start = os.getpid() % 200
    for i in range(200):
        octet = (start + i) % 200 + 1
        if f"10.201.{octet}." not in routes:
            return octet
    raise NodeError("no free 10.201.X.0/30 subnet for the test node")


def make_node() -> RemoteNode:
    """Create the namespace, the link, the keys and sshd; NodeError says what failed."""
    missing = prerequisites.netns()
    if missing is not None:
        raise NodeError(missing)
    tag = f"{os.getpid() % 100000:05d}"
    octet = _subnet()
    folder = Path(tempfile.mkdtemp(prefix="compute-panel-node-"))
    node = RemoteNode(
        name=f"cp-rtx-{tag}",
        host_if=f"cpr{tag}h",
        node_if=f"cpr{tag}n",
        host_address=f"10.201.{octet}.1",
        address=f"10.201.{octet}.2",
        folder=folder,
        key_file=folder / "client_key",
        known_hosts=folder / "known_hosts",
        wrong_known_hosts=folder / "wrong_known_hosts",
    )
    try:
        _run("ip", "netns", "add", node.name)
        _run("ip", "link", "add", node.host_if, "type", "veth", "peer", "name", node.node_if)
        _run("ip", "link", "set", node.node_if, "netns", node.name)
        _run("ip", "addr", "add", f"{node.host_address}/30", "dev", node.host_if)
        _run("ip", "link", "set", node.host_if, "up")
        ns = ("ip", "netns", "exec", node.name)
        _run(*ns, "ip", "addr", "add", f"{node.address}/30", "dev", node.node_if)
        _run(*ns, "ip", "link", "set", node.node_if, "up")
        _run(*ns, "ip", "link", "set", "lo", "up")

        host_key = folder / "ssh_host_ed25519_key"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "rtx-node", "-f", str(host_key))
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "compute-panel-tests", "-f", str(node.key_file))
        other_key = folder / "other_host_key"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "impostor", "-f", str(other_key))
        # Restricted as docs/deployment.md tells admins to: commands and forwards to the node's loopback only.
        (folder / "authorized_keys").write_text(
            f'restrict,port-forwarding,permitopen="127.0.0.1:*" {Path(f"{node.key_file}.pub").read_text()}'
        )
        node.known_hosts.write_text(f"{node.address} {Path(f'{host_key}.pub').read_text().strip()}\n")
        node.wrong_known_hosts.write_text(f"{node.address} {Path(f'{other_key}.pub').read_text().strip()}\n")
        config = folder / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"ListenAddress {node.address}",
                    "Port 22",
                    f"HostKey {host_key}",
                    f"PidFile {folder / 'sshd.pid'}",
                    f"AuthorizedKeysFile {folder / 'authorized_keys'}",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "AllowTcpForwarding local",
                    "X11Forwarding no",
                    "PermitTunnel no",
                    "MaxSessions 100",
                    "MaxStartups 200",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        node.sshd = subprocess.Popen(
            [*ns, SSHD, "-D", "-e", "-f", str(config)],
            stdout=(folder / "sshd.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while True:
            if node.sshd.poll() is not None:
                raise NodeError(f"sshd exited: {(folder / 'sshd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection((node.address, 22), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise NodeError(f"sshd on {node.address} did not answer: {(folder / 'sshd.log').read_text()[-2000:]}")
            time.sleep(0.1)
    except BaseException:
        node.teardown()
        raise
    return node
