"""The documented Slurm tier (docs/configuration.md, "Slurm"): what its configuration produces.

No Slurm cluster here, and no node: the example is read from the documentation itself,
so that it cannot drift from what these tests check. The catalog must accept it, its
kernelspec must name the metering provisioner, and the launch of ``compute-panel-ssh``
with its settings (over fake SSH connections) must send the agent the documented
kernel command, environment and limits, on the less loaded node, passing a full one
over. The SSH path itself runs end to end in test_remote_ssh.py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from jupyter_client.kernelspec import KernelSpec

from jupyterlab_compute_panel.domain.catalog import parse_catalog
from jupyterlab_compute_panel.hosts.app import installed_provisioners
from jupyterlab_compute_panel.metering.kernelspecs import derive
from jupyterlab_compute_panel.metering.provisioner import ComputePanelProvisioner
from jupyterlab_compute_panel.metering.remote import ssh
from jupyterlab_compute_panel.metering.remote.ssh import HostStatus, SshProvisioner

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
MARKER = "<!-- example: slurm tier (tests/test_slurm_tier.py reads this block) -->"
NODES = ("gpu01.hpc.example.org", "gpu02.hpc.example.org")


def documented_tiers() -> list[dict]:
    text = DOC.read_text(encoding="utf-8")
    assert MARKER in text, "the Slurm example lost its marker in docs/configuration.md"
    block = text.split(MARKER, 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    return yaml.safe_load(block)["tiers"]


@pytest.fixture
def catalog():
    return parse_catalog(documented_tiers(), installed_provisioners())


def test_the_documented_slurm_tier_is_an_ssh_tier_the_catalog_accepts(catalog):
    tier = catalog.get("a100-slurm")
    assert tier is not None and tier.backend.provisioner == "compute-panel-ssh"
    settings = ssh.parse_settings(tier.backend.config)
    assert [h.address for h in settings.hosts] == list(NODES)
    assert (settings.user, settings.max_kernels, settings.tunnel) == ("kernels", 4, True)
    assert settings.argv() == [
        "/apps/jupyter-kernels/bin/python",
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
    ]

    python = KernelSpec(argv=["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], language="python")
    python.display_name = "Python 3"
    spec = derive(catalog, {"python3": python})["compute-panel-a100-slurm-python3"]
    assert spec["metadata"]["kernel_provisioner"] == {
        "provisioner_name": "compute-panel-provisioner",
        "config": {"tier": "a100-slurm", "base_kernel": "python3"},
    }


class FakeStream:
    def __init__(self, lines: list[str]) -> None:
        self.lines = list(lines)
        self.written: list[str] = []

    async def readline(self) -> str:
        if self.lines:
            return self.lines.pop(0)
        await asyncio.sleep(3600)  # a live agent says nothing more
        return ""

    async def read(self, n: int) -> str:
        return ""

    def write(self, text: str) -> None:
        self.written.append(text)

    def write_eof(self) -> None:
        self.written.append("<eof>")


class FakeProcess:
    def __init__(self, reply: dict) -> None:
        self.stdin = FakeStream([])
        self.stdout = FakeStream([json.dumps(reply) + "\n"])
        self.stderr = FakeStream([])
        self.returncode = None

    async def wait_closed(self) -> None:
        await asyncio.sleep(3600)


class FakeListener:
    def __init__(self, port: int) -> None:
        self.port = port

    def get_port(self) -> int:
        return self.port

    def close(self) -> None:
        pass


class FakeNode:
    """One node's side of the SSH connection: the agent answers as the real one would."""

    def __init__(self, name: str, kernels: int) -> None:
        self.name = name
        self.kernels = kernels
        self.commands: list[str] = []
        self.processes: list[FakeProcess] = []
        self.forwards: list[int] = []
        self.closed = False

    async def create_process(self, command: str, **kwargs) -> FakeProcess:
        self.commands.append(command)
        if self.kernels >= 4:
            reply = {"busy": True, "kernels": self.kernels}
        else:
            reply = {
                "ports": {p: 50000 + i for i, p in enumerate(ssh.PORT_NAMES)},
                "pid": 4242,
                "kernels": self.kernels,
            }
        self.processes.append(FakeProcess(reply))
        return self.processes[-1]

    async def forward_local_port(self, listen_host, listen_port, dest_host, dest_port) -> FakeListener:
        assert (listen_host, dest_host) == ("127.0.0.1", "127.0.0.1"), "tunnelled: loopback to loopback"
        self.forwards.append(dest_port)
        return FakeListener(60000 + len(self.forwards))

    def close(self) -> None:
        self.closed = True

    async def wait_closed(self) -> None:
        return None


async def test_a_start_on_the_documented_tier_sends_the_agent_the_documented_kernel(catalog, monkeypatch):
    tier = catalog.get("a100-slurm")
    # gpu01 is full (4 of 4 GPUs' kernels) but was counted with fewer: its agent says busy.
    nodes = {NODES[0]: FakeNode(NODES[0], kernels=4), NODES[1]: FakeNode(NODES[1], kernels=2)}
    counted = {NODES[0]: 1, NODES[1]: 2}

    async def reach(settings, host):
        assert settings.known_hosts == "/etc/jupyter/compute-panel/known_hosts"
        return HostStatus(host, True, None), nodes[host.address]

    async def count(status, conn):
        status.kernels = counted[status.host.address]
        return True

    monkeypatch.setattr(ssh, "reach", reach)
    monkeypatch.setattr(ssh, "count", count)

    python = KernelSpec(argv=["python"], display_name="Python 3", language="python", env={"FROM_SPEC": "1"})
    outer = ComputePanelProvisioner(kernel_id="k-1", kernel_spec=python, tier="a100-slurm")
    inner = outer._make_inner(tier)  # as a start makes it: jupyter_client's factory, the tier's backend
    assert isinstance(inner, SshProvisioner)
    kwargs = await inner.pre_launch(env={"COMPUTE_PANEL_TIER": "a100-slurm", "HOME": "/home/server"})
    try:
        info = await inner.launch_kernel(kwargs.pop("cmd"), **kwargs)
        first, second = nodes.values()
        assert len(first.commands) == 1 and first.closed, "gpu01 was tried first (counted 1) and passed over"
        assert inner.host.address == NODES[1] and not second.closed
        [command] = second.commands
        assert command.startswith("/apps/jupyter-kernels/bin/python -I -S -u -c ")
        spec = json.loads(second.processes[0].stdin.written[0])
        assert spec["argv"] == [
            "/apps/jupyter-kernels/bin/python",
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ]
        assert spec["env"] == {"COMPUTE_PANEL_TIER": "a100-slurm", "FROM_SPEC": "1", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
        assert (spec["cwd"], spec["ip"], spec["max_kernels"]) == ("/scratch/kernels", "127.0.0.1", 4)
        assert second.forwards == [50000, 50001, 50002, 50003, 50004]
        assert info["ip"] == "127.0.0.1" and info["shell_port"] == 60001
        assert ssh.last_count(inner.host) == 3, "the agent's count, with this kernel"
    finally:
        await inner.kill()
        await inner.cleanup()
        ssh._counts.clear()
    assert second.closed and "<eof>" in second.processes[0].stdin.written, "the agent's cue to stop the kernel"
