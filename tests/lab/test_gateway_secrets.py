"""What a student with a shell in their own account can and cannot do in the lab.

The gateway holds the ledger's password (PostgreSQL with password checks, the ledger
writable by the gateway's role only), the node's SSH key and the Hub service token, all in
its config and key files at mode 600 in its own home. A paid tier runs on the SSH test
host (a network namespace with its own sshd, tests/remote_node.py) as the lab's GPU node.
Everything alice tries here she tries as the Unix user alice, with the tools any student
has: cat, Python with psycopg, ssh.
"""

from __future__ import annotations

import json
import shutil
import sys
import time

import pytest
from remote_node import NodeError, make_node

from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.ledger import Ledger

from .conftest import GRANT, RACE_GRANT
from .gateway import GatewayProcess
from .ledger_db import GATEWAY_ROLE, LabPostgres
from .test_gateway import bind, start_kernel
from .users import GATEWAY_USER, run_as, write_secret

pytestmark = [pytest.mark.lab, pytest.mark.netns, pytest.mark.postgres]


@pytest.fixture(scope="module")
def lab_postgres(lab_users):
    db = LabPostgres().start()
    ledger = Ledger(db.gateway_url)
    ledger.migrate()
    for grant in (GRANT, RACE_GRANT):
        ledger.upsert_grant(parse_grant(grant))
    ledger.dispose()
    yield db
    db.close()


@pytest.fixture(scope="module")
def node():
    try:
        made = make_node()
    except NodeError as e:
        pytest.fail(f"cannot make the GPU node for the lab tests: {e}")
    yield made
    made.teardown()


@pytest.fixture(scope="module")
def gateway(hub, lab_users, lab_postgres, node, gateway_port):
    account = lab_users[GATEWAY_USER]
    process_home = GatewayProcess.home_for(gateway_port)
    key = write_secret(account, process_home / "node_key", node.key_file.read_text())
    known_hosts = write_secret(account, process_home / "known_hosts", node.known_hosts.read_text())
    tiers = [
        {
            "id": "h200",
            "label": "H200 training",
            "reliability": "datacenter",
            "hardware": {"gpu": {"model": "NVIDIA H200 SXM", "count": 1, "memory_gb": 141}},
            "price": {"per_hour": "3.60", "currency": "USD", "source": "the lab's test price", "date": "2026-11-01"},
            "backend": {
                "provisioner": "compute-panel-ssh",
                "config": node.backend_config(key_file=str(key), known_hosts=str(known_hosts), max_kernels=4),
            },
        }
    ]
    process = GatewayProcess(
        hub, gateway_port, lab_postgres.gateway_url, tiers, extra={"ComputeGatewayApp": {"allow_local_tiers": False}}
    ).start()
    yield process
    process.stop()
    shutil.rmtree(process.home, ignore_errors=True)


@pytest.fixture(scope="module")
def alices_kernel(gateway, tokens, node):
    bind(gateway, tokens["alice"], "pgd.ipynb")
    kernel = start_kernel(gateway, tokens["alice"], "pgd.ipynb", {"KERNEL_USERNAME": "bob"})
    yield kernel
    gateway.request("DELETE", f"/api/kernels/{kernel['id']}", token=tokens["alice"])


def test_alices_paid_kernel_runs_on_the_node_metered_under_her(gateway, tokens, node, alices_kernel):
    deadline = time.monotonic() + 20
    while not node.kernels() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert node.kernels(), "no kernel on the node"
    status, run = gateway.request("GET", f"/compute-panel/kernels/{alices_kernel['id']}/run", token=tokens["alice"])
    assert status == 200 and (run["user"], run["grant_id"], run["tier_id"]) == ("alice", GRANT["id"], "h200")
    # The gateway's record knows the kernel's backend and the backend's own persistence info.
    entry = json.loads((gateway.state_dir / "kernels.json").read_text())[alices_kernel["id"]]
    assert (entry["user"], entry["tier"], entry["backend"]) == ("alice", "h200", "compute-panel-ssh")
    assert entry["info"]["kernel_id"] == alices_kernel["id"] and entry["info"]["remote_pid"] in node.kernels()


def test_the_gateways_secrets_are_unreadable_to_alice(gateway):
    config = json.loads(gateway.config_file.read_text())  # (as root, the test reads what it wrote)
    assert "compute_gateway:" in config["ComputePanel"]["db_url"]
    for path in (gateway.config_file, gateway.home / "node_key", gateway.state_dir / "kernels.json"):
        attempt = run_as("alice", ["cat", str(path)], timeout=30)
        assert attempt.returncode != 0 and "Permission denied" in attempt.stderr, path
    child = gateway.pid()
    attempt = run_as("alice", ["cat", f"/proc/{child}/environ"], timeout=30)
    assert attempt.returncode != 0 and "Permission denied" in attempt.stderr


def test_the_ledger_refuses_alice(gateway, lab_postgres):
    script = (
        "import sys, psycopg\n"
        "for url in sys.argv[1:]:\n"
        "    try:\n"
        "        with psycopg.connect(url, connect_timeout=5) as c:\n"
        '            c.execute("UPDATE runs SET rate_micros_per_hour = 0")\n'
        "        print('WROTE', url)\n"
        "    except psycopg.Error as e:\n"
        "        print('REFUSED', type(e).__name__, str(e).splitlines()[0])\n"
    )
    guesses = [
        lab_postgres.url(GATEWAY_ROLE, "", driver=False),
        lab_postgres.url(GATEWAY_ROLE, "guess", driver=False),
        lab_postgres.url("alice", "", driver=False),
        lab_postgres.url("labsuper", "", driver=False),
        f"postgresql://{GATEWAY_ROLE}@/ledger?host={lab_postgres.root}&port={lab_postgres.port}",
    ]
    attempt = run_as("alice", [sys.executable, "-c", script, *guesses], timeout=60)
    lines = attempt.stdout.splitlines()
    # Refused at the door (no connection at all), not by a statement that happened to fail.
    assert len(lines) == len(guesses) and all(line.startswith("REFUSED OperationalError") for line in lines), lines
    assert sum("password authentication failed" in line or "no password supplied" in line for line in lines) >= 3


def test_the_node_refuses_alices_ssh(gateway, node, lab_users):
    home = lab_users["alice"].pw_dir
    run_as("alice", ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{home}/.ssh/id_lab_test"], timeout=30)
    for user in ("root", GATEWAY_USER, "alice"):
        attempt = run_as(
            "alice",
            [
                "ssh",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "ConnectTimeout=5",
                "-i",
                f"{home}/.ssh/id_lab_test",
                f"{user}@{node.address}",
                "true",
            ],
            timeout=60,
        )
        assert attempt.returncode == 255 and "Permission denied" in attempt.stderr, (user, attempt.stderr)


def test_kill_9_of_the_gateway_leaves_no_kernel_on_the_node_and_one_closed_run_each(gateway, tokens, node):
    """The gateway's SSH connections end with its process; the node's agent stops each
    kernel when its connection ends; the restart closes each run at its last heartbeat."""
    bind(gateway, tokens["bob"], "bob-node.ipynb")
    kernel = start_kernel(gateway, tokens["bob"], "bob-node.ipynb")["id"]
    deadline = time.monotonic() + 20
    while len(node.kernels()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(node.kernels()) == 2, "alice's and bob's kernels on the node"
    time.sleep(1.5)  # heartbeats
    gateway.kill()
    assert node.wait_no_kernels(15), f"kernels left on the node: {node.kernels()}"
    gateway.start()
    status, runs = gateway.request("GET", "/compute-panel/runs?grant=nsf-lab", token=tokens["carol"])
    assert status == 200, runs
    mine = [r for r in runs["runs"] if r["kernel_id"] == kernel]
    assert len(mine) == 1 and mine[0]["status"] == "closed" and mine[0]["end_reason"] == "server_restart"
    assert mine[0]["ended"] == mine[0]["last_heartbeat"]
    assert all(r["status"] == "closed" for r in runs["runs"]), runs["runs"]
