"""SSH tiers: what the compute panel adds to a kernel on another host, and a meter round over 50 of them.

The other host is the test suite's "RTX node" (tests/remote_node.py): a network
namespace with its own address and Debian's sshd. Root is needed to make it.

1. **Start latency.** ``POST /api/kernels`` on the SSH tier of a real Jupyter server,
   until the kernel's first kernel_info reply to a client of the server's connection
   file (jupyter_server answers once the kernel is launched, before it replies), against a bare SSH-launched
   ipykernel on the same node: one asyncssh connection, one command that writes the
   connection file and execs ``python -m ipykernel_launcher``, five local forwards, and a
   kernel client waiting for the kernel's first reply. Aim: overhead at most 10 % (medians).
2. **Move latency.** ``PATCH /api/sessions/{id}`` from Local CPU to the SSH tier (what
   the panel's "Move here" does): the start above plus jupyter_server's session switch
   and the shutdown of the Local CPU kernel. Reported against the same baseline, with
   the same move between two local tiers as context: that part is not SSH's.
3. **A heartbeat round with 50 remote kernels** (``MeteringService.heartbeat()``): 50 live
   ``compute-panel-ssh`` kernels (each its own SSH connection and agent; the kernel
   command is a sleeping Python, so that 50 of them fit on 2 cores) whose runs are
   heartbeaten in one round on a SQLite ledger. Aim: p95 < 200 ms.

Usage: python bench/bench_remote.py [--repeat 5] [--kernels 50] [--strict]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bare_ssh import ENTRY_POINT, bare_launch  # noqa: E402 - from the paths above

AIM_OVERHEAD = 0.10
AIM_ROUND_MS = 200.0
LOCAL = "compute-panel-local-cpu-python3"
TIER = "compute-panel-rtx-node-python3"
BARE_KERNEL = "bench-bare-ssh"


def catalog(node, **extra) -> list[dict]:
    return [
        {
            "id": "local-cpu",
            "label": "Local CPU",
            "reliability": "local",
            "price": {"per_hour": "0", "currency": "USD"},
        },
        {"id": "local-b", "label": "Local B", "reliability": "local", "price": {"per_hour": "0", "currency": "USD"}},
        {
            "id": "rtx-node",
            "label": "RTX node",
            "reliability": "community",
            "price": {"per_hour": "0", "currency": "USD"},
            "backend": {"provisioner": "compute-panel-ssh", "config": node.backend_config(**extra)},
        },
    ]


async def bare_start(node) -> float:
    """Seconds from nothing to a kernel on the node answering kernel_info, by hand."""
    started = time.perf_counter()
    kernel = await bare_launch(node.address, "root", str(node.key_file), str(node.known_hosts), sys.executable)
    try:
        await first_reply(kernel.info)
        return time.perf_counter() - started
    finally:
        await kernel.close()


async def first_reply(info: dict) -> None:
    """Wait for a kernel's first kernel_info reply, as the browser does before a cell runs.

    ZeroMQ queues the request until the kernel binds. (wait_for_ready would give up on
    the heartbeat of a kernel that is still starting: it has no manager to ask.)"""
    from jupyter_client.asynchronous import AsyncKernelClient

    client = AsyncKernelClient()
    client.load_connection_info(info)
    client.start_channels()
    try:
        msg_id = client.kernel_info()
        while (await client.get_shell_msg(timeout=60))["parent_header"].get("msg_id") != msg_id:
            pass
    finally:
        client.stop_channels()


def ready(server, kernel_id: str, name: str = "") -> None:
    """jupyter_server answers once the kernel is launched; wait for its first reply too."""
    info = json.loads((server.home / "runtime" / f"kernel-{kernel_id}.json").read_text())
    try:
        asyncio.run(first_reply(info))
    except queue.Empty:
        # A kernel that died at start (a port taken between its choice and the bind) is
        # restarted by jupyter_server on other ports: say so rather than time out quietly.
        _, model = server.request("GET", f"/api/kernels/{kernel_id}")
        raise RuntimeError(
            f"kernel {kernel_id} ({name or 'Local CPU'}) never answered kernel_info in 60 s; now: {model}; "
            f"server log: {server.log}"
        ) from None


def add_bare_kernelspec(server, node) -> None:
    """The baseline kernelspec: bare_ssh.BareSshProvisioner, registered for this server only."""
    folder = server.home / "bare-provisioner"
    dist = folder / "bench_bare_ssh-0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: bench-bare-ssh\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(
        f"[jupyter_client.kernel_provisioners]\n{ENTRY_POINT} = bare_ssh:BareSshProvisioner\n"
    )
    path = [str(folder), str(Path(__file__).resolve().parent), server.env.get("PYTHONPATH", "")]
    server.env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
    spec = server.home / "data" / "kernels" / BARE_KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    config = {
        "host": node.address,
        "user": "root",
        "key_file": str(node.key_file),
        "known_hosts": str(node.known_hosts),
        "python": sys.executable,
    }
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "bare SSH (bench)",
                "language": "python",
                "metadata": {"kernel_provisioner": {"provisioner_name": ENTRY_POINT, "config": config}},
            }
        )
    )


def kernel_start(server, name: str) -> float:
    t = time.perf_counter()
    status, kernel = server.request("POST", "/api/kernels", {"name": name})
    assert status == 201, kernel
    ready(server, kernel["id"], name)
    elapsed = time.perf_counter() - t
    status, _ = server.request("DELETE", f"/api/kernels/{kernel['id']}")
    assert status == 204, status
    return elapsed


def session_move(server, path: str, name: str) -> float:
    """PATCH a Local CPU session to kernelspec ``name`` (the panel's "Move here"), until
    the new kernel's first reply; jupyter_server shuts the Local CPU kernel down before
    it answers."""
    body = {"path": path, "type": "notebook", "name": path, "kernel": {"name": LOCAL}}
    status, session = server.request("POST", "/api/sessions", body)
    assert status == 201, session
    ready(server, session["kernel"]["id"])  # a live Local CPU kernel, as in a notebook
    t = time.perf_counter()
    status, moved = server.request("PATCH", f"/api/sessions/{session['id']}", {"kernel": {"name": name}})
    assert status == 200, moved
    ready(server, moved["kernel"]["id"], name)
    elapsed = time.perf_counter() - t
    status, _ = server.request("DELETE", f"/api/sessions/{session['id']}")
    assert status == 204, status
    return elapsed


def latencies(node, repeat: int) -> dict[str, list[float]]:
    """Every latency, interleaved: each round measures the tier and the baseline back to
    back, and alternates which goes first, so that the other work on the machine weighs
    on both alike."""
    from servers import Server

    home = Path(tempfile.mkdtemp(prefix="compute-panel-bench-remote-"))
    config = {
        "db_url": f"sqlite:///{home / 'ledger.sqlite'}",
        "owner": "bench",
        "capture_environment": False,
        "tiers": catalog(node),
    }
    server = Server(home, config)
    add_bare_kernelspec(server, node)
    server.start()
    times: dict[str, list[float]] = {
        k: [] for k in ("by_hand", "tier_start", "bare_start", "tier_move", "bare_move", "local_move")
    }
    try:
        _, kernelspecs = server.request("GET", "/api/kernelspecs")
        assert BARE_KERNEL in kernelspecs["kernelspecs"], sorted(kernelspecs["kernelspecs"])
        for i in range(-1, repeat):  # round -1 warms imports and connections up, unmeasured
            order = [(TIER, "tier"), (BARE_KERNEL, "bare")]
            if i % 2:
                order.reverse()
            sample = {"by_hand": asyncio.run(bare_start(node))}
            for name, key in order:
                sample[f"{key}_start"] = kernel_start(server, name)
            for name, key in order:
                sample[f"{key}_move"] = session_move(server, f"{key}{i}.ipynb", name)
            # The same move between two local tiers: jupyter_server's session switch without SSH.
            sample["local_move"] = session_move(server, f"local{i}.ipynb", "compute-panel-local-b-python3")
            if i >= 0:
                for key, value in sample.items():
                    times[key].append(value)
    finally:
        server.stop(signal.SIGTERM)
        server.close()
    return times


async def heartbeat_round(node, kernels: int, rounds: int) -> list[float]:
    from jupyter_client.kernelspec import KernelSpec

    from jupyterlab_compute_panel.domain.catalog import parse_catalog
    from jupyterlab_compute_panel.ledger import Ledger
    from jupyterlab_compute_panel.metering.provisioner import ComputePanelProvisioner
    from jupyterlab_compute_panel.metering.remote.ssh import SshProvisioner
    from jupyterlab_compute_panel.metering.service import MeteringService

    sleeper = [sys.executable, "-c", "import time; time.sleep(3600)", "{connection_file}"]
    cat = parse_catalog(catalog(node, kernel_cmd=sleeper, orphan_timeout=30, keepalive_interval=5))
    folder = Path(tempfile.mkdtemp(prefix="compute-panel-bench-hb-"))
    ledger = Ledger(f"sqlite:///{folder / 'ledger.sqlite'}")
    ledger.migrate()
    ledger.sync_tiers(cat)
    service = MeteringService(catalog=cat, ledger=ledger, owner="bench", heartbeat_interval=3600)
    tier = cat.get("rtx-node")
    spec = KernelSpec(argv=["python"], display_name="x", language="python")
    outers = []

    async def start(i: int) -> None:
        inner = SshProvisioner(kernel_id=f"k{i}", kernel_spec=spec, **tier.backend.config)
        kwargs = await inner.pre_launch(env={})
        await inner.launch_kernel(kwargs.pop("cmd"), **kwargs)
        outer = ComputePanelProvisioner(kernel_id=f"k{i}", kernel_spec=spec, tier="rtx-node")
        outer.inner = inner
        outer._service = service  # not the standalone service of this process's config files
        outer._launch = {"tier": tier, "grant_id": None, "user": "bench", "notebook": None}
        await outer.resume_metering()  # opens its run and puts it under the meter
        outers.append(outer)

    for batch in range(0, kernels, 10):  # sshd's MaxStartups: not all at once
        await asyncio.gather(*(start(i) for i in range(batch, min(batch + 10, kernels))))
    assert len(node.agents()) >= kernels, f"only {len(node.agents())} agents on the node"
    times = []
    try:
        for _ in range(rounds):
            t = time.perf_counter()
            alive = await service.heartbeat()
            times.append((time.perf_counter() - t) * 1000)
            assert alive == kernels, alive
    finally:
        for outer in outers:
            await outer.inner.kill()
            await outer.inner.cleanup()
        await service.stop()
        ledger.dispose()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="measured rounds of every latency (median of these)")
    parser.add_argument("--kernels", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--samples", action="store_true", help="print every latency sample too")
    parser.add_argument("--strict", action="store_true", help="exit 1 when an aim is missed")
    args = parser.parse_args(argv)

    from remote_node import NodeError, make_node

    try:
        node = make_node()
    except NodeError as e:
        print(f"bench_remote: cannot make the RTX node: {e}")
        return 1
    try:
        times = latencies(node, args.repeat)
        if not node.wait_no_kernels(15):
            print("bench_remote: kernels left on the node after the latency runs")
            return 1
        rounds = asyncio.run(heartbeat_round(node, args.kernels, args.rounds)) if args.kernels else []
    finally:
        node.teardown()

    def ms(key: str) -> float:
        return statistics.median(times[key]) * 1000

    def paired(tier: str, bare: str) -> float:
        """Median of the round-by-round differences (the two were measured back to back)."""
        return statistics.median(a - b for a, b in zip(times[tier], times[bare], strict=True)) * 1000

    start_over = ms("tier_start") / ms("bare_start") - 1
    move_over = ms("tier_move") / ms("bare_move") - 1
    results = [
        ("start: bare SSH kernelspec (POST /api/kernels)", f"{ms('bare_start'):.0f} ms", "(baseline)", None),
        (
            "start: SSH tier (POST /api/kernels)",
            f"{ms('tier_start'):.0f} ms ({start_over:+.0%}, {paired('tier_start', 'bare_start'):+.0f} ms)",
            "<= +10 %",
            start_over <= AIM_OVERHEAD,
        ),
        ("  (bare SSH launch by hand, no server)", f"{ms('by_hand'):.0f} ms", "(context)", None),
        ("move Local CPU -> bare SSH kernelspec (PATCH)", f"{ms('bare_move'):.0f} ms", "(baseline)", None),
        (
            "move Local CPU -> SSH tier (PATCH)",
            f"{ms('tier_move'):.0f} ms ({move_over:+.0%}, {paired('tier_move', 'bare_move'):+.0f} ms)",
            "<= +10 %",
            move_over <= AIM_OVERHEAD,
        ),
        ("  (move Local CPU -> Local B, no SSH)", f"{ms('local_move'):.0f} ms", "(context)", None),
    ]
    if rounds:
        p95 = sorted(rounds)[max(0, int(len(rounds) * 0.95) - 1)]
        results.append(
            (
                f"heartbeat round, {args.kernels} remote kernels, p95",
                f"{p95:.1f} ms",
                f"< {AIM_ROUND_MS:g} ms",
                p95 < AIM_ROUND_MS,
            )
        )
    print(
        f"SSH tiers on {os.cpu_count()} cores; node {node.address} in a network namespace; "
        f"medians of {args.repeat} interleaved rounds (overhead: ratio of medians, median paired difference)"
    )
    for name, measured, aim, ok in results:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"  {name:<46} {measured:<28} {aim:<10} {verdict}")
    if args.samples:
        for key, values in times.items():
            print(f"  {key:<12} " + " ".join(f"{v * 1000:.0f}" for v in values))
    missed = any(ok is False for *_, ok in results)
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
