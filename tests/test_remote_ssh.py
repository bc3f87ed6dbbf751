"""The SSH tier end to end, against a second host: the "RTX node" (tests/remote_node.py).

A notebook moves from Local CPU to a tier whose kernels start on the node over SSH;
its cell reports the node's address. A cut connection, a killed or stopped server and
a wrong host key each leave no kernel on the node and a closed run in the ledger.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import pytest
from conftest import GRANT_A, HEARTBEAT, wait_for
from remote_node import NodeError, RemoteNode, make_node
from servers import Server
from tornado.httpclient import HTTPClientError

from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.ledger import Ledger, RunFilter, utcnow

# Every test here runs against the node: root, a network namespace and sshd (tests/prerequisites.py).
pytestmark = pytest.mark.netns

LOCAL = "compute-panel-local-cpu-python3"
NODE = "compute-panel-rtx-node-python3"
ADDRESS_CELL = (
    "import socket\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.connect(('10.201.0.0', 9))\n"
    "print(s.getsockname()[0])\n"
)


@pytest.fixture(scope="module")
def node():
    # A missing prerequisite was skipped (or failed, --require-all) before this, by the marker;
    # what fails here is making the node on a machine that has everything it needs.
    try:
        made = make_node()
    except NodeError as e:
        pytest.fail(f"cannot make the RTX node for the SSH tier tests: {e}")
    yield made
    made.teardown()


def catalog(node: RemoteNode, **backend) -> list[dict]:
    return [
        {
            "id": "local-cpu",
            "label": "Local CPU",
            "reliability": "local",
            "price": {"per_hour": "0", "currency": "USD"},
        },
        {
            "id": "rtx-node",
            "label": "RTX node",
            "reliability": "community",
            "hardware": {"gpu": {"model": "NVIDIA GeForce RTX 4090", "count": 1}},
            "price": {"per_hour": "0.50", "currency": "USD", "source": "test", "date": "2026-11-01"},
            "backend": {
                "provisioner": "compute-panel-ssh",
                "config": node.backend_config(**{"max_kernels": 1, **backend}),
            },
        },
    ]


@pytest.fixture
def panel_config(db_url, node):
    return {
        "db_url": db_url,
        "heartbeat_interval": HEARTBEAT,
        "reconcile_interval": 2.0,
        "owner": "alice",
        "default_grant": GRANT_A["id"],
        "capture_environment": False,
        "tiers": catalog(node),
    }


@pytest.fixture(autouse=True)
def no_kernel_left(node):
    yield
    assert node.wait_no_kernels(15), f"kernels left on the node: {node.kernels()} agents: {node.agents()}"


async def start_session(jp_fetch, path: str, kernel: str) -> dict:
    body = {"path": path, "type": "notebook", "name": Path(path).name, "kernel": {"name": kernel}}
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    return json.loads(response.body)


async def run_cell(client, code: str, timeout: float = 30) -> str:
    """Execute ``code`` and return what it printed."""
    msg_id = client.execute(code)
    out = []
    deadline = time.monotonic() + timeout
    while True:
        msg = await client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.1))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)


async def runs_of(api, **params) -> list[dict]:
    status, body = await api("GET", "compute-panel/runs", params=params)
    assert status == 200, body
    return body["runs"]


async def closed_run(api, kernel_id: str) -> dict | None:
    runs = await runs_of(api, kernel=kernel_id)
    closed = [r for r in runs if r["status"] == "closed"]
    return closed[-1] if closed else None


async def test_move_from_local_cpu_to_the_node_runs_the_cell_there(jp_fetch, jp_serverapp, api, grants, node):
    session = await start_session(jp_fetch, "move.ipynb", LOCAL)
    local_kernel = session["kernel"]["id"]
    response = await jp_fetch(
        "api", "sessions", session["id"], method="PATCH", body=json.dumps({"kernel": {"name": NODE}})
    )
    kernel_id = json.loads(response.body)["kernel"]["id"]
    assert kernel_id != local_kernel
    assert len(node.kernels()) == 1, "the kernel runs in the node's namespace"

    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        printed = await run_cell(client, ADDRESS_CELL.replace("10.201.0.0", node.host_address))
    finally:
        client.stop_channels()
    assert printed.strip() == node.address, "the cell ran on the other host"
    assert printed.strip() != node.host_address

    [run] = await runs_of(api, kernel=kernel_id)
    assert run["tier_id"] == "rtx-node" and run["status"] == "open" and run["grant_id"] == GRANT_A["id"]
    assert [r["tier_id"] for r in await runs_of(api, notebook="move.ipynb")] == ["rtx-node", "local-cpu"]

    await jp_fetch("api", "sessions", session["id"], method="DELETE")
    run = await wait_for(lambda: closed_run(api, kernel_id), timeout=15)
    assert run["end_reason"] == "shutdown"
    assert node.wait_no_kernels(10), "the kernel stopped on the node"


@pytest.mark.slow
async def test_a_cut_connection_closes_the_run_and_leaves_no_kernel(jp_fetch, jp_serverapp, api, grants, node):
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": NODE}))
    kernel_id = json.loads(response.body)["id"]
    [first_kernel] = node.kernels()
    km = jp_serverapp.kernel_manager
    km.get_kernel(kernel_id).autorestart = False  # see the orphan question alone, not a restart
    await asyncio.sleep(1.5 * HEARTBEAT)

    cut_at = utcnow()
    assert node.cut_ssh_sessions() >= 1
    run = await wait_for(lambda: closed_run(api, kernel_id), timeout=15)
    assert run["end_reason"] == "died"
    ended = run["ended"].rstrip("Z")
    assert abs((utcnow() - cut_at).total_seconds()) < 15 and ended >= run["started"].rstrip("Z")
    assert node.wait_no_kernels(10), f"kernel {first_kernel} outlived its connection"
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")


@pytest.mark.slow
async def test_a_network_partition_closes_the_run_and_the_node_stops_the_kernel(
    jp_fetch, jp_serverapp, api, grants, node
):
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": NODE}))
    kernel_id = json.loads(response.body)["id"]
    jp_serverapp.kernel_manager.get_kernel(kernel_id).autorestart = False
    assert len(node.kernels()) == 1
    node.link(up=False)  # no FIN, no RST: both ends must notice silence
    try:
        # The server: three missed SSH keepalives (1 s each) close the connection.
        run = await wait_for(lambda: closed_run(api, kernel_id), timeout=20)
        assert run["end_reason"] == "died"
        # The node: no word from the server for orphan_timeout (4 s) stops the kernel.
        assert node.wait_no_kernels(15), "the partitioned node kept the kernel"
    finally:
        node.link(up=True)
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def test_a_wrong_host_key_is_refused_with_a_clear_message(jp_fetch, api, grants, node, service):
    from jupyterlab_compute_panel.domain.catalog import parse_catalog

    service.catalog = parse_catalog(catalog(node, known_hosts=str(node.wrong_known_hosts)))
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": NODE}))
    assert refused.value.code == 403
    message = json.loads(refused.value.response.body)["message"]
    assert message == (
        f"No node can take this kernel. Its node is down: The SSH host key of {node.address} does not match "
        f"the known_hosts file {node.wrong_known_hosts} (or is not in it), so no kernel was started there: "
        "check the node's key out of band before trusting it."
    )
    [run] = await runs_of(api, tier="rtx-node")
    assert run["status"] == "closed" and run["end_reason"] == "launch_failed"
    assert not node.agents()


async def availability(api, service) -> dict:
    await service.availability.refresh()
    status, body = await api("GET", "compute-panel/tiers")
    assert status == 200, body
    return {t["id"]: t["availability"] for t in body["tiers"]}


async def test_the_tier_card_says_how_many_nodes_are_reachable_and_free(jp_fetch, api, grants, service, node):
    before = await availability(api, service)
    assert before["local-cpu"] is None  # nothing to check
    rtx = before["rtx-node"]
    assert (rtx["nodes"], rtx["reachable"], rtx["free"], rtx["reason"]) == (1, 1, 1, None)
    assert rtx["hosts"] == [
        {"host": node.address, "reachable": True, "kernels": 0, "max_kernels": 1, "free": True, "error": None}
    ]

    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": NODE}))
    kernel_id = json.loads(response.body)["id"]
    busy = (await availability(api, service))["rtx-node"]
    assert (busy["reachable"], busy["free"], busy["hosts"][0]["kernels"]) == (1, 0, 1)
    assert busy["reason"] == (
        f"RTX node cannot take a kernel now. All its reachable nodes are busy ({node.address}: 1 of 1 kernels): "
        "try again later or choose another tier."
    )
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": NODE}))
    assert refused.value.code == 403
    assert "All its reachable nodes are busy" in json.loads(refused.value.response.body)["message"]
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def test_a_tier_whose_nodes_are_all_down_says_why_and_cannot_be_chosen(jp_fetch, api, grants, service, node):
    node.link(up=False)
    try:
        down = (await availability(api, service))["rtx-node"]
        assert (down["nodes"], down["reachable"], down["free"]) == (1, 0, 0)
        assert down["reason"].startswith(
            f"RTX node cannot take a kernel now. Its node is down: {node.address} cannot be reached over SSH"
        )
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": NODE}))
        assert refused.value.code == 403
        message = json.loads(refused.value.response.body)["message"]
        assert message.startswith(
            f"No node can take this kernel. Its node is down: {node.address} cannot be reached over SSH"
        )
    finally:
        node.link(up=True)
    assert (await availability(api, service))["rtx-node"]["free"] == 1


# -- a real server process, killed or stopped --------------------------------------


@pytest.fixture
def seeded(db_url):
    ledger = Ledger(db_url)
    ledger.migrate()
    ledger.upsert_grant(parse_grant(GRANT_A))
    yield ledger
    ledger.dispose()


@pytest.mark.slow
def test_server_killed_mid_run_leaves_no_orphan_and_the_run_closes_at_its_last_heartbeat(
    tmp_path, panel_config, seeded, node
):
    first = Server(tmp_path / "one", panel_config).start()
    try:
        status, kernel = first.request("POST", "/api/kernels", {"name": NODE})
        assert status == 201, kernel
        assert len(node.kernels()) == 1
        time.sleep(3 * HEARTBEAT + 0.5)
        killed_at = utcnow()
        first.stop(signal.SIGKILL)
    finally:
        first.close()
    assert node.wait_no_kernels(10), "the kernel outlived its server"
    [run] = seeded.list_runs(RunFilter(kernel=kernel["id"]))[0]
    assert run.is_open, "nothing closes the run until a server comes back"

    second = Server(tmp_path / "two", panel_config).start()
    try:
        [closed] = seeded.list_runs(RunFilter(kernel=kernel["id"]))[0]
        assert closed.end_reason == "server_restart" and closed.ended == closed.last_heartbeat
        assert 0 <= (killed_at - closed.ended).total_seconds() <= HEARTBEAT + 0.5
    finally:
        second.stop(signal.SIGTERM)
        second.close()


@pytest.mark.slow
def test_server_stopped_shuts_its_remote_kernels_down(tmp_path, panel_config, seeded, node):
    server = Server(tmp_path / "graceful", panel_config).start()
    try:
        status, kernel = server.request("POST", "/api/kernels", {"name": NODE})
        assert status == 201, kernel
        assert len(node.kernels()) == 1
        time.sleep(1.5)
        stopped_at = utcnow()
        server.stop(signal.SIGTERM)
    finally:
        server.close()
    assert node.wait_no_kernels(10)
    [run] = seeded.list_runs(RunFilter(kernel=kernel["id"]))[0]
    assert run.end_reason == "shutdown"
    assert abs((run.ended - stopped_at).total_seconds()) < 5


async def test_two_starts_for_the_last_place_on_a_node_start_one_kernel(node):
    """The agent counts the node's kernels as it starts (no count before it): of two
    starts racing for a node's last place, the older agent starts, the younger is busy."""
    from jupyter_client.kernelspec import KernelSpec

    from jupyterlab_compute_panel.metering.remote.ssh import RemoteRefused, SshProvisioner

    spec = KernelSpec(argv=["python"], display_name="x", language="python")
    provisioners = [
        SshProvisioner(kernel_id=f"race{i}", kernel_spec=spec, **node.backend_config(max_kernels=1)) for i in range(2)
    ]

    async def start(provisioner):
        kwargs = await provisioner.pre_launch(env={})
        return await provisioner.launch_kernel(kwargs.pop("cmd"), **kwargs)

    try:
        results = await asyncio.gather(*(start(p) for p in provisioners), return_exceptions=True)
        started = [r for r in results if isinstance(r, dict)]
        refused = [r for r in results if isinstance(r, RemoteRefused)]
        assert (len(started), len(refused)) == (1, 1), results
        assert str(refused[0]) == (
            f"No node can take this kernel. All its reachable nodes are busy ({node.address}: 1 of 1 kernels): "
            "try again later or choose another tier."
        )
        assert len(node.kernels()) == 1
    finally:
        for provisioner in provisioners:
            await provisioner.kill()
            await provisioner.cleanup()
