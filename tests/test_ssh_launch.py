"""How an SSH tier's start picks its node, and how the agent counts a node's kernels.

No node here: the connections and the agent's first line are fakes (the end-to-end
start is tests/test_remote_ssh.py); the agent's count runs against real processes of
this host that carry a marker of this test's own.
"""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpec

from jupyterlab_compute_panel.metering.remote import ssh
from jupyterlab_compute_panel.metering.remote.ssh import Host, HostStatus, RemoteRefused, SshProvisioner

AGENT = Path(ssh.__file__).with_name("agent.py")


class FakeConn:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.closed = False

    def close(self) -> None:
        self.closed = True

    async def wait_closed(self) -> None:
        return None


class Picked(Exception):
    """Raised by the fake agent of the node that takes the kernel."""


@pytest.fixture
def fakes(monkeypatch):
    """Nodes by name: their kernel count on the node, and whether SSH reaches them."""
    nodes: dict[str, dict] = {}
    calls: dict[str, list] = {"count": [], "agent": [], "conns": []}
    ssh._counts.clear()

    async def reach(settings, host):
        node = nodes[host.address]
        if not node.get("up", True):
            return HostStatus(host, False, error=f"{host.label} cannot be reached over SSH (test)."), None
        conn = FakeConn(host)
        calls["conns"].append(conn)
        return HostStatus(host, True, ssh.last_count(host)), conn

    async def count(status, conn):
        calls["count"].append(status.host.address)
        status.kernels = nodes[status.host.address]["kernels"]
        ssh.note_count(status.host, status.kernels)
        return True

    async def start_agent(self, spec):
        node = nodes[self.host.address]
        calls["agent"].append(self.host.address)
        assert spec["max_kernels"] == self.settings.max_kernels
        if self.settings.max_kernels and node["kernels"] >= self.settings.max_kernels:
            return {"busy": True, "kernels": node["kernels"]}
        raise Picked(self.host.address)

    monkeypatch.setattr(ssh, "reach", reach)
    monkeypatch.setattr(ssh, "count", count)
    monkeypatch.setattr(SshProvisioner, "_start_agent", start_agent)
    yield nodes, calls
    ssh._counts.clear()


async def start(hosts: list[str], max_kernels: int = 1) -> str:
    spec = KernelSpec(argv=["python"], display_name="x", language="python")
    provisioner = SshProvisioner(
        kernel_id="k", kernel_spec=spec, hosts=hosts, user="kernels", known_hosts="/kh", max_kernels=max_kernels
    )
    kwargs = await provisioner.pre_launch(env={})
    with pytest.raises(Picked) as picked:
        await provisioner.launch_kernel(kwargs.pop("cmd"), **kwargs)
    return str(picked.value)


async def test_one_node_is_not_counted_before_the_start_its_agent_checks_room(fakes):
    nodes, calls = fakes
    nodes["a"] = {"kernels": 0}
    assert await start(["a"]) == "a"
    assert calls["count"] == [], "no SSH session before the agent's"
    assert calls["agent"] == ["a"]


async def test_a_full_single_node_is_refused_by_its_agent_with_the_busy_sentence(fakes):
    nodes, calls = fakes
    nodes["a"] = {"kernels": 1}
    spec = KernelSpec(argv=["python"], display_name="x", language="python")
    provisioner = SshProvisioner(
        kernel_id="k", kernel_spec=spec, hosts=["a"], user="kernels", known_hosts="/kh", max_kernels=1
    )
    kwargs = await provisioner.pre_launch(env={})
    with pytest.raises(RemoteRefused) as refused:
        await provisioner.launch_kernel(kwargs.pop("cmd"), **kwargs)
    assert str(refused.value) == (
        "No node can take this kernel. All its reachable nodes are busy (a: 1 of 1 kernels): "
        "try again later or choose another tier."
    )
    assert all(conn.closed for conn in calls["conns"])
    assert ssh.last_count(Host("a")) == 1


async def test_the_least_loaded_node_is_tried_first_and_a_busy_one_passes_to_the_next(fakes):
    nodes, calls = fakes
    nodes.update(a={"kernels": 3}, b={"kernels": 1}, c={"kernels": 2})
    assert await start(["a", "b", "c"], max_kernels=4) == "b"
    assert sorted(calls["count"]) == ["a", "b", "c"], "uncounted nodes are counted, together"
    assert all(conn.closed for conn in calls["conns"]), "the other nodes' connections are closed"

    # The counts are now known (the availability check or earlier starts): no session before the agent.
    calls["count"].clear()
    nodes["b"]["kernels"] = 4  # full since its count: its agent says so, and the next node takes it
    assert await start(["a", "b", "c"], max_kernels=4) == "c"
    assert calls["count"] == []
    assert calls["agent"][-2:] == ["b", "c"]


async def test_every_node_busy_or_down_is_one_sentence(fakes):
    nodes, calls = fakes
    nodes.update(a={"kernels": 1}, b={"kernels": 1}, c={"kernels": 0, "up": False})
    spec = KernelSpec(argv=["python"], display_name="x", language="python")
    provisioner = SshProvisioner(
        kernel_id="k", kernel_spec=spec, hosts=["a", "b:2222", "c"], user="kernels", known_hosts="/kh", max_kernels=1
    )
    kwargs = await provisioner.pre_launch(env={})
    with pytest.raises(RemoteRefused) as refused:
        await provisioner.launch_kernel(kwargs.pop("cmd"), **kwargs)
    assert str(refused.value) == (
        "No node can take this kernel. All its reachable nodes are busy (a: 1 of 1, b:2222: 1 of 1 kernels): "
        "try again later or choose another tier."
    )
    assert all(conn.closed for conn in calls["conns"])


def test_a_tier_without_user_logs_in_as_the_servers_user():
    """As documented; the provisioner's traits once made a missing user an empty one."""
    import getpass

    spec = KernelSpec(argv=["python"], display_name="x", language="python")
    provisioner = SshProvisioner(kernel_id="k", kernel_spec=spec, hosts=["a"], known_hosts="/kh")
    assert provisioner.settings.user == getpass.getuser()


# -- the agent's count -------------------------------------------------------------------


def sleeper(marker: str) -> str:
    return f"# {marker}\nimport time; time.sleep(60)"


def wait_for_marked(agent: dict, marker: bytes, n: int) -> None:
    deadline = time.monotonic() + 15
    while len(agent["_agents"](marker)) < n:
        assert time.monotonic() < deadline, f"{n} processes with the marker never ran"
        time.sleep(0.05)


def test_the_agent_counts_each_older_agent_once_and_not_itself_nor_younger_ones(tmp_path):
    agent = runpy.run_path(str(AGENT))  # its functions, without running main
    marker = f"compute-panel-node-agent-test-{uuid.uuid4().hex}"
    flag = tmp_path / "count-now"
    counter = (
        f"# {marker}\nimport os, runpy, time\n"
        f"count = runpy.run_path({str(AGENT)!r})['_kernels_before_me']\n"
        f"while not os.path.exists({str(flag)!r}): time.sleep(0.02)\n"
        f"print(count({marker.encode()!r}))\n"
    )
    procs = []
    try:
        # Two older agents, the second run by a shell that does not exec it (both carry the marker).
        procs.append(subprocess.Popen([sys.executable, "-c", sleeper(marker)]))
        procs.append(subprocess.Popen(["sh", "-c", f"{sys.executable} -c '{sleeper(marker)}'; true"]))
        wait_for_marked(agent, marker.encode(), 3)
        time.sleep(0.05)  # a later clock tick
        # The counting agent, also under a shell of its own, then a younger agent.
        counting = subprocess.Popen(
            ["sh", "-c", f'{sys.executable} -c "$0"; true', counter], stdout=subprocess.PIPE, text=True
        )
        wait_for_marked(agent, marker.encode(), 5)
        time.sleep(0.05)
        procs.append(subprocess.Popen([sys.executable, "-c", sleeper(marker)]))
        wait_for_marked(agent, marker.encode(), 6)
        flag.touch()
        out, _ = counting.communicate(timeout=30)
        assert out.strip() == "2"
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        for pid in agent["_agents"](marker.encode()):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


def test_the_agent_starts_the_kernel_in_a_session_of_its_own_with_default_signals(tmp_path):
    agent = runpy.run_path(str(AGENT))
    out = tmp_path / "out"
    kernel = agent["Kernel"](
        [
            "sh",
            "-c",
            f'grep -E "^(SigIgn|PPid):" /proc/$$/status > {out}; cut -d" " -f6 /proc/$$/stat >> {out}; pwd >> {out}; echo "$X" >> {out}; exit 3',
        ],
        {**os.environ, "X": "from the spec"},
        str(tmp_path),
    )
    deadline = time.monotonic() + 15
    while kernel.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert kernel.returncode == 3
    *status, session, cwd, env = out.read_text().splitlines()
    status = dict(line.split(":\t") for line in status)
    assert int(status["SigIgn"], 16) & (1 << (signal.SIGPIPE - 1)) == 0, "SIGPIPE is not left ignored"
    assert int(status["PPid"]) == os.getpid()
    assert int(session) == kernel.pid, "the kernel leads a session (process group) of its own"
    assert (cwd, env) == (str(tmp_path), "from the spec")


@pytest.mark.parametrize(
    ("argv", "cwd", "error"),
    [
        (["/nonexistent/python", "-m", "ipykernel_launcher"], None, "No such file or directory"),
        (["sh", "-c", "true"], "/nonexistent/folder", "No such file or directory"),
        ([str(AGENT), "-f"], None, "Permission denied"),
    ],
)
def test_a_kernel_that_cannot_start_is_an_oserror_with_the_reason(tmp_path, argv, cwd, error):
    agent = runpy.run_path(str(AGENT))
    with pytest.raises(OSError) as raised:
        agent["Kernel"](argv, dict(os.environ), cwd or str(tmp_path))
    assert str(raised.value) == error
