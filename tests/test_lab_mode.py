"""The user's server in lab mode, against a real second server standing in for the compute gateway.

The gateway side is a real Jupyter server with the compute panel embedded (it answers the
interface lab mode relies on: /api/kernelspecs, /api/kernels, their websockets and
/compute-panel/* with a token); the user's server runs with ``ComputePanel.lab_mode`` and
kernels-mixer, as docs/deployment.md configures it.
"""

from __future__ import annotations

import json
import signal

import pytest
from conftest import GRANT_A
from servers import Server

from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.hosts.lab import GATEWAY_AWAY, MIXER_CONFIG

pytestmark = pytest.mark.slow


@pytest.fixture
def gateway(tmp_path, db_url):
    server = Server(tmp_path / "gateway", {"db_url": db_url, "owner": "alice"}, token="alice-hub-token").start()
    yield server
    server.close()


def _user_server(home, gateway_url: str, token: str = "alice-hub-token") -> Server:
    server = Server(home, {}, token="alice-browser")
    config = {
        "ComputePanel": {"lab_mode": True},
        "GatewayClient": {"url": gateway_url, "auth_token": token},
        "ServerApp": dict(MIXER_CONFIG),
    }
    (home / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    server.env["JUPYTERHUB_API_TOKEN"] = token
    return server


@pytest.fixture
def alice(tmp_path, gateway):
    server = _user_server(tmp_path / "alice", gateway.url).start()
    yield server
    server.close()


def test_compute_panel_calls_are_answered_by_the_gateway_with_the_users_token(alice, gateway):
    assert alice.request("GET", "/compute-panel/tiers") == gateway.request("GET", "/compute-panel/tiers")
    status, body = alice.request("POST", "/compute-panel/grants", {"id": ""})
    assert (status, body) == gateway.request("POST", "/compute-panel/grants", {"id": ""})
    assert 400 <= status < 500 and body["message"]
    log = alice.log.read_text()
    assert "lab mode" in log and "disabled" not in log


def test_no_ledger_in_the_users_server(alice, gateway):
    status, body = alice.request("GET", "/compute-panel/version")
    assert (status, body) == gateway.request("GET", "/compute-panel/version")
    assert not any("sqlite" in v or "postgres" in v for v in alice.env.values())
    assert not list((alice.home).rglob("*.sqlite*")), "a ledger file in the user's server"


def test_kernelspecs_are_mixed_and_both_kinds_of_kernel_start(alice, gateway):
    status, specs = alice.request("GET", "/api/kernelspecs")
    assert status == 200
    names = set(specs["kernelspecs"])
    _, remote = gateway.request("GET", "/api/kernelspecs")
    assert names >= set(remote["kernelspecs"]) and len(names) >= 1
    status, kernel = alice.request("POST", "/api/kernels", {"name": "python3"})
    assert status == 201, kernel
    status, listed = alice.request("GET", "/api/kernels")
    assert kernel["id"] in {k["id"] for k in listed}
    assert alice.request("POST", f"/api/kernels/{kernel['id']}/interrupt")[0] == 204
    assert alice.request("POST", f"/api/kernels/{kernel['id']}/restart")[0] == 200
    assert alice.request("DELETE", f"/api/kernels/{kernel['id']}")[0] == 204


def test_a_restart_the_gateway_refuses_is_a_403_with_its_sentence_and_kept_for_the_front_end(tmp_path, db_url, ledger):
    ledger.upsert_grant(parse_grant(GRANT_A))
    config = {"db_url": db_url, "owner": "alice", "default_grant": GRANT_A["id"]}
    gateway = Server(tmp_path / "gateway", config, token="alice-hub-token").start()
    alice = _user_server(tmp_path / "alice", gateway.url).start()
    try:
        # As JupyterLab does, the kernelspecs first (kernels-mixer learns the gateway's from this list).
        assert "compute-panel-h200-python3" in alice.request("GET", "/api/kernelspecs")[1]["kernelspecs"]
        session = {"path": "nb.ipynb", "type": "notebook", "name": "", "kernel": {"name": "compute-panel-h200-python3"}}
        status, created = alice.request("POST", "/api/sessions", session)
        assert status == 201, created
        kernel_id = created["kernel"]["id"]  # this server's id of a gateway kernel
        _, remote = gateway.request("GET", "/api/kernels")
        assert len(remote) == 1 and remote[0]["id"] != kernel_id, remote
        # The PI makes alice a viewer while her kernel runs: the gateway refuses its restart.
        ledger.upsert_grant(parse_grant({**GRANT_A, "pi": "someone-else", "members": ["alice:viewer"]}))
        status, body = alice.request("POST", f"/api/kernels/{kernel_id}/restart")
        assert status == 403, body  # jupyter_server answered 500 "Exception restarting kernel"
        assert body["reason"] == "refused", body
        assert body["message"].startswith("You can view grant NSF CNS-2401234 but not charge it"), body
        assert "Gateway" not in body["message"]
        # The gateway dropped its kernel; the sentence is asked by this server's kernel id.
        assert gateway.request("GET", "/api/kernels") == (200, [])
        status, kept = alice.request("GET", f"/compute-panel/kernels/{kernel_id}/refusal")
        assert status == 200, kept
        assert (kept["kernel_id"], kept["message"], kept["reason"]) == (kernel_id, body["message"], "refused")
        # What the front end does next: the notebook's session goes, and with it the kernel.
        assert alice.request("DELETE", f"/api/sessions/{created['id']}")[0] == 204
        assert alice.request("GET", "/api/sessions") == (200, [])
    finally:
        alice.close()
        gateway.close()


def test_a_gateway_that_is_away_is_a_503_with_a_sentence(alice, gateway):
    gateway.stop(signal.SIGTERM)
    status, body = alice.request("GET", "/compute-panel/tiers")
    assert status == 503
    assert body["message"] == GATEWAY_AWAY
    assert "127.0.0.1" not in body["message"] and "Errno" not in body["message"]


def test_lab_mode_without_a_gateway_url_disables_the_extension_with_one_line(tmp_path):
    server = Server(tmp_path / "bare", {"lab_mode": True}).start()
    try:
        status, body = server.request("GET", "/compute-panel/tiers")
        assert status == 503 and "GatewayClient.url" in body["message"]
        assert "Traceback" not in server.log.read_text()
    finally:
        server.close()


def test_gateway_client_configured_without_lab_mode_disables_with_one_line(tmp_path, gateway):
    server = Server(tmp_path / "plain", {})
    (server.home / "config" / "jupyter_server_config.json").write_text(
        json.dumps({"GatewayClient": {"url": gateway.url}})
    )
    server.env["JUPYTERHUB_API_TOKEN"] = gateway.token
    server.start()
    try:
        log = server.log.read_text()
        assert "ComputePanel.lab_mode" in log and "Traceback" not in log
    finally:
        server.close()
