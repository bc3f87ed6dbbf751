"""The lab's compute gateway: what metering adds to a gateway kernel, and its heartbeat round.

The lab is the one the tests build (tests/lab/): a real JupyterHub for the identity, the
compute gateway as its own Unix account on a real PostgreSQL ledger, and a user's server
in lab mode (kernels-mixer, the user's Hub token). Root is needed (Unix users, runuser).

1. **Move latency to a gateway tier** (``PATCH /api/sessions/{id}`` from Local CPU, what
   the panel's "Move here" does, until the new kernel answers an execute request over the
   user's server's websocket), against the same move in a second user's server whose
   gateway client points at a bare Kernel Gateway (``jupyter kernelgateway``, no metering,
   the same account, machine and Python kernel). Medians of interleaved rounds; aim:
   overhead at most 10 %.
2. **Kernel message round trip** (an execute request of ``1`` and its idle status, over
   one open websocket) to a gateway tier's kernel through the user's server, against a
   local kernel of the same server. Aim: at most 1.5x (medians).
3. **The gateway's heartbeat round with 2,000 open runs on PostgreSQL**
   (``MeteringService.heartbeat()``, runs of 50 users whose provisioners answer alive, as
   bench_metering.py's round with 200). Aim: p95 < 100 ms.

Usage: python bench/bench_gateway.py [--repeat 9] [--runs 2000] [--rounds 30] [--strict]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

AIM_MOVE_OVERHEAD = 0.10
AIM_ROUND_TRIP_RATIO = 1.5
AIM_ROUND_MS = 100.0
TIER = "compute-panel-h200-python3"
LOCAL = "python3"
# The bare gateway's kernelspec: python3's command under a name of its own (kernels-mixer
# would take a remote kernelspec named like a local one for the local one).
BARE = "bench-bare-python3"
GRANT = {
    "id": "bench-lab",
    "award_number": "BENCH-LAB-1",
    "title": "Benchmark lab grant",
    "funder": "Benchmark",
    "pi": "alice",
    "budget": "1000000.00",
    "currency": "USD",
    "start_date": "2020-01-01",
    "end_date": "2099-12-31",
}
TIERS = [
    {
        "id": "h200",
        "label": "H200 training",
        "reliability": "datacenter",
        "simulated": True,
        "price": {"per_hour": "3.60", "currency": "USD", "source": "benchmark", "date": "2026-11-01"},
        "backend": {"provisioner": "local-provisioner"},
    }
]


def ws_url(server, kernel_id: str) -> str:
    return f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels"


async def open_channels(server, kernel_id: str):
    from tornado import httpclient, websocket

    request = httpclient.HTTPRequest(ws_url(server, kernel_id), headers={"Authorization": f"token {server.token}"})
    conn = await websocket.websocket_connect(request)
    conn.protocol.set_nodelay(True)  # as a browser's socket: no Nagle delay on small messages
    return conn


async def execute(conn, code: str = "1", timeout: float = 60) -> None:
    """One execute request and its idle status on an open channels websocket."""
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "execute_request", "username": "", "session": msg_id, "version": "5.3"}
    content = {"code": code, "silent": False, "store_history": False, "allow_stdin": False}
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
    conn.write_message(json.dumps(message))
    while True:
        raw = await asyncio.wait_for(conn.read_message(), timeout)
        if raw is None:
            raise RuntimeError("the kernel's websocket closed")
        msg = json.loads(raw)
        if (
            msg.get("parent_header", {}).get("msg_id") == msg_id
            and msg["header"]["msg_type"] == "status"
            and msg["content"]["execution_state"] == "idle"
        ):
            return


async def answered(server, kernel_id: str) -> None:
    conn = await open_channels(server, kernel_id)
    try:
        await execute(conn, "pass")
    finally:
        conn.close()


def move(server, path: str, name: str) -> float:
    """Local CPU -> ``name`` by session PATCH, until the new kernel answers."""
    body = {"path": path, "type": "notebook", "name": path, "kernel": {"name": LOCAL}}
    status, session = server.request("POST", "/api/sessions", body)
    assert status == 201, session
    asyncio.run(answered(server, session["kernel"]["id"]))
    t = time.perf_counter()
    status, moved = server.request("PATCH", f"/api/sessions/{session['id']}", {"kernel": {"name": name}})
    assert status == 200, moved
    asyncio.run(answered(server, moved["kernel"]["id"]))
    elapsed = time.perf_counter() - t
    status, _ = server.request("DELETE", f"/api/sessions/{session['id']}")
    assert status == 204, status
    return elapsed


def round_trips(server, name: str, count: int) -> list[float]:
    status, kernel = server.request("POST", "/api/kernels", {"name": name})
    assert status == 201, kernel

    async def measure() -> list[float]:
        conn = await open_channels(server, kernel["id"])
        try:
            for _ in range(5):
                await execute(conn)
            samples = []
            for _ in range(count):
                t = time.perf_counter()
                await execute(conn)
                samples.append(time.perf_counter() - t)
            return samples
        finally:
            conn.close()

    try:
        return asyncio.run(measure())
    finally:
        server.request("DELETE", f"/api/kernels/{kernel['id']}")


def user_server(home: Path, gateway_url: str, token: str):
    from servers import Server

    from jupyterlab_compute_panel.hosts.lab import GATEWAY_CLIENT_CONFIG, MIXER_CONFIG

    server = Server(home, {}, token=secrets.token_hex(8))
    config = {
        "ComputePanel": {"lab_mode": True},
        "GatewayClient": {"url": gateway_url, "auth_token": token, **GATEWAY_CLIENT_CONFIG},
        "ServerApp": dict(MIXER_CONFIG),
    }
    (home / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    server.env["JUPYTERHUB_API_TOKEN"] = token
    return server.start()


def bare_gateway(home: Path, port: int, token: str) -> subprocess.Popen:
    """``jupyter kernelgateway`` as the gateway's account: no metering, the same Python kernel."""
    from lab.users import GATEWAY_USER

    spec = home / "data" / "kernels" / BARE
    spec.mkdir(parents=True, exist_ok=True)
    (home / "runtime").mkdir(exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "bare (bench)", "language": "python"}))
    for path in (home, *home.rglob("*")):
        shutil.chown(path, GATEWAY_USER)
    env = [
        f"PATH={Path(sys.executable).parent}:/usr/bin:/bin",
        f"HOME={home}",
        f"JUPYTER_DATA_DIR={home / 'data'}",
        f"JUPYTER_RUNTIME_DIR={home / 'runtime'}",
        f"KG_AUTH_TOKEN={token}",
    ]
    command = [
        str(Path(sys.executable).with_name("jupyter-kernelgateway")),
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port_retries=0",
        "--JupyterWebsocketPersonality.list_kernels=True",
    ]
    proc = subprocess.Popen(
        ["runuser", "-u", GATEWAY_USER, "--", "env", "-i", *env, *command],
        stdout=(home / "kg.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/kernelspecs", headers={"Authorization": f"token {token}"}
            )
            urllib.request.urlopen(request, timeout=5).read()  # noqa: S310 - the local gateway
            return proc
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the bare Kernel Gateway did not start: {(home / 'kg.log').read_text()[-2000:]}")


def latencies(db, repeat: int, trips: int) -> dict[str, list[float]]:
    from conftest import free_port
    from lab.gateway import GatewayProcess
    from lab.hub import Hub

    from jupyterlab_compute_panel.domain.grants import parse_grant
    from jupyterlab_compute_panel.ledger import Ledger

    ledger = Ledger(db.gateway_url)
    ledger.migrate()
    ledger.upsert_grant(parse_grant(GRANT))
    ledger.dispose()
    work = Path(tempfile.mkdtemp(prefix="compute-panel-bench-gateway-"))
    work.chmod(0o755)
    port, bare_port = free_port(), free_port()
    hub = Hub(work / "hub", f"http://127.0.0.1:{port}", users=["alice"]).start()
    bare_token = secrets.token_hex(16)
    # A lab's settings, not the lab tests' quick ones: the default heartbeat and reconcile
    # intervals, and HubAuth's token cache at its default (the tests ask the hub every time).
    extra = {
        "ComputePanel": {
            "capture_environment": False,
            "default_grant": GRANT["id"],
            "heartbeat_interval": 15.0,
            "reconcile_interval": 60.0,
        },
        "HubAuth": {"cache_max_age": 300},
    }
    gateway = bare = metered = plain = None
    times: dict[str, list[float]] = {"tier_move": [], "bare_move": [], "tier_trip": [], "local_trip": []}
    try:
        gateway = GatewayProcess(hub, port, db.gateway_url, TIERS, extra=extra).start()
        bare = bare_gateway(work / "bare", bare_port, bare_token)
        token = hub.token_for("alice")
        metered = user_server(work / "metered", gateway.url, token)
        plain = user_server(work / "plain", f"http://127.0.0.1:{bare_port}", bare_token)
        for server, name in ((metered, TIER), (plain, BARE)):
            _, specs = server.request("GET", "/api/kernelspecs")  # kernels-mixer learns the remote names
            assert name in specs["kernelspecs"], sorted(specs["kernelspecs"])
        for i in range(-1, repeat):  # round -1 warms up, unmeasured
            order = [(metered, TIER, "tier_move"), (plain, BARE, "bare_move")]
            if i % 2:
                order.reverse()
            sample = {key: move(server, f"m{i}-{key}.ipynb", name) for server, name, key in order}
            if i >= 0:
                for key, value in sample.items():
                    times[key].append(value)
        times["tier_trip"] = round_trips(metered, TIER, trips)
        times["local_trip"] = round_trips(metered, LOCAL, trips)
    finally:
        for server in (metered, plain):
            if server is not None:
                server.stop(signal.SIGTERM)
                server.close()
        if bare is not None:
            bare.terminate()
            bare.wait(30)
        if gateway is not None:
            gateway.stop()
            shutil.rmtree(gateway.home, ignore_errors=True)
        hub.close()
        shutil.rmtree(work, ignore_errors=True)
    return times


def heartbeat_round(db, runs: int, rounds: int) -> list[float]:
    from bench_metering import PAID_TIER, AliveProvisioner

    from jupyterlab_compute_panel.domain import catalog
    from jupyterlab_compute_panel.domain.grants import parse_grant
    from jupyterlab_compute_panel.ledger import Ledger
    from jupyterlab_compute_panel.metering.service import MeteringService

    db.sql("CREATE DATABASE heartbeat OWNER compute_gateway")
    ledger = Ledger(db.url("compute_gateway", db.gateway_password, "heartbeat"))
    ledger.migrate()
    cat = catalog.read_catalog_file(catalog.DEMO_CATALOG)
    ledger.sync_tiers(cat)
    ledger.upsert_grant(parse_grant({**GRANT, "members": [f"user{i}:member" for i in range(50)]}))
    tier = cat.get(PAID_TIER)
    service = MeteringService(catalog=cat, ledger=ledger, owner="gateway", heartbeat_interval=3600.0)

    async def main() -> list[float]:
        for i in range(runs):
            await service.open_run(
                AliveProvisioner(),
                kernel_id=str(uuid.uuid4()),
                kernelspec=f"compute-panel-{PAID_TIER}-python3",
                tier=tier,
                grant_id=GRANT["id"],
                user=f"user{i % 50}",
                notebook=f"user{i % 50}/nb{i}.ipynb",
            )
        for _ in range(5):
            await service.heartbeat()
        samples = []
        for _ in range(rounds):
            t = time.perf_counter()
            await service.heartbeat()
            samples.append((time.perf_counter() - t) * 1000)
        await service.stop()
        return samples

    try:
        return asyncio.run(main())
    finally:
        service._executor.shutdown(wait=True)
        ledger.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="measured rounds of the move (median of these)")
    parser.add_argument("--trips", type=int, default=50, help="round trips measured on each kernel")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--samples", action="store_true", help="print every latency sample too")
    parser.add_argument("--strict", action="store_true", help="exit 1 when an aim is missed")
    args = parser.parse_args(argv)
    import prerequisites

    missing = prerequisites.lab() or prerequisites.postgres()
    if missing:
        print(f"bench_gateway: {missing}")
        return 1
    from lab.ledger_db import LabPostgres
    from lab.users import ensure_lab_users

    ensure_lab_users()
    db = LabPostgres().start()
    try:
        times = latencies(db, args.repeat, args.trips)
        rounds = heartbeat_round(db, args.runs, args.rounds) if args.runs else []
    finally:
        db.close()

    def ms(key: str) -> float:
        return statistics.median(times[key]) * 1000

    move_over = ms("tier_move") / ms("bare_move") - 1
    trip_ratio = ms("tier_trip") / ms("local_trip")
    paired = statistics.median(a - b for a, b in zip(times["tier_move"], times["bare_move"], strict=True)) * 1000
    results = [
        ("move Local CPU -> bare Kernel Gateway (PATCH)", f"{ms('bare_move'):.0f} ms", "(baseline)", None),
        (
            "move Local CPU -> gateway tier (PATCH)",
            f"{ms('tier_move'):.0f} ms ({move_over:+.0%}, {paired:+.0f} ms)",
            "<= +10 %",
            move_over <= AIM_MOVE_OVERHEAD,
        ),
        ("round trip to a local kernel", f"{ms('local_trip'):.2f} ms", "(baseline)", None),
        (
            "round trip to a gateway tier's kernel",
            f"{ms('tier_trip'):.2f} ms ({trip_ratio:.2f}x)",
            "<= 1.5x",
            trip_ratio <= AIM_ROUND_TRIP_RATIO,
        ),
    ]
    if rounds:
        p95 = statistics.quantiles(rounds, n=20, method="inclusive")[18]
        results.append(
            (
                f"gateway heartbeat round, {args.runs} runs (PostgreSQL), p95",
                f"{p95:.1f} ms",
                "< 100 ms",
                p95 < AIM_ROUND_MS,
            )
        )
    print(
        f"compute gateway on {os.cpu_count()} cores; medians of {args.repeat} interleaved moves, "
        f"{args.trips} round trips per kernel, {args.rounds} heartbeat rounds"
    )
    for name, measured, aim, ok in results:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"  {name:<52} {measured:<26} {aim:<10} {verdict}")
    if args.samples:
        for key, values in times.items():
            print(f"  {key:<12} " + " ".join(f"{v * 1000:.1f}" for v in values))
    missed = any(ok is False for *_, ok in results)
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
