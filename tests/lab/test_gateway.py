"""The compute gateway under a real JupyterHub: who a request is, and what it may reach.

Every request carries a real Hub API token made by the hub for alice, bob or carol (with
the scopes a lab server's token has), and the gateway checks it with the hub. Kernels are
started the way a user's server in lab mode starts them (jupyter_server's gateway client):
``POST /api/kernels`` with the server's ``KERNEL_*`` variables and allowed variables in ``env``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tornado import httpclient, websocket

from .conftest import GRANT

pytestmark = pytest.mark.lab

KERNEL = "compute-panel-h200-python3"
INJECTED = {
    "KERNEL_USERNAME": "bob",
    "KERNEL_UID": "0",
    "KERNEL_IMAGE": "attacker/image:latest",
    "KERNEL_GPU_COUNT": "8",
    "KERNEL_NAMESPACE": "kube-system",
    "KERNEL_SERVICE_ACCOUNT_NAME": "admin",
    "KERNEL_WORKING_DIR": "/home/bob",
    "COMPUTE_PANEL_GRANT": "someone-elses-grant",
}


def start_kernel(gateway, token: str, notebook: str, env: dict | None = None) -> dict:
    body = {"name": KERNEL, "env": {"COMPUTE_PANEL_NOTEBOOK": notebook, **(env or {})}}
    status, kernel = gateway.request("POST", "/api/kernels", body, token=token)
    assert status == 201, kernel
    return kernel


def bind(gateway, token: str, notebook: str) -> None:
    body = {"path": notebook, "grant_id": GRANT["id"], "tier_id": "h200"}
    status, binding = gateway.request("PUT", "/compute-panel/bindings", body, token=token)
    assert status == 200, binding


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def kernel_pid(gateway, kernel_id: str) -> int:
    state = json.loads((gateway.state_dir / "kernels.json").read_text())
    return state[kernel_id]["pid"]


async def channels(gateway, kernel_id: str, token: str | None) -> int:
    """The status of the websocket handshake to a kernel's channels (101 when it opens)."""
    headers = {"Authorization": f"token {token}"} if token else {}
    request = httpclient.HTTPRequest(f"ws://127.0.0.1:{gateway.port}/api/kernels/{kernel_id}/channels", headers=headers)
    try:
        conn = await websocket.websocket_connect(request)
    except httpclient.HTTPClientError as e:
        return e.code
    conn.close()
    return 101


@pytest.fixture(scope="module")
def alices_kernel(gateway, tokens):
    bind(gateway, tokens["alice"], "robustness/pgd.ipynb")
    kernel = start_kernel(gateway, tokens["alice"], "robustness/pgd.ipynb", INJECTED)
    yield kernel
    gateway.request("DELETE", f"/api/kernels/{kernel['id']}", token=tokens["alice"])


def test_tiers_answer_a_users_hub_token(gateway, tokens):
    status, tiers = gateway.request("GET", "/compute-panel/tiers", token=tokens["alice"])
    assert status == 200, tiers
    assert [t["id"] for t in tiers["tiers"]] == ["h200"]


@pytest.mark.parametrize("path", ["/compute-panel/tiers", "/compute-panel/runs", "/api/kernels", "/api/kernelspecs"])
def test_no_token_a_wrong_one_or_one_without_the_access_scope_is_refused(gateway, hub, path):
    without_scope = hub.token_for("alice", scopes=["access:servers!server=alice/"])
    for token in (None, "not-a-hub-token", hub.gateway_token, without_scope):
        status, body = gateway.request("GET", path, token=token)
        assert status == 403, (token, body)


def test_a_kernel_started_with_bobs_name_in_its_env_is_alices(gateway, tokens, alices_kernel):
    status, run = gateway.request("GET", f"/compute-panel/kernels/{alices_kernel['id']}/run", token=tokens["alice"])
    assert status == 200, run
    assert (run["user"], run["grant_id"], run["tier_id"]) == ("alice", GRANT["id"], "h200")
    assert run["notebook"] == "robustness/pgd.ipynb"
    env = environ_of(kernel_pid(gateway, alices_kernel["id"]))
    assert not set(INJECTED) & set(env), env  # (Kernel Gateway sets KERNEL_GATEWAY=1 itself)
    assert {k for k in env if k.startswith("KERNEL_")} <= {"KERNEL_GATEWAY"}
    assert os.stat(f"/proc/{kernel_pid(gateway, alices_kernel['id'])}").st_uid == gateway.account.pw_uid
    assert "dropped" in gateway.log.read_text() and "KERNEL_USERNAME" in gateway.log.read_text()


def test_bob_reaches_none_of_alices_kernels(gateway, tokens, alices_kernel):
    kernel_id = alices_kernel["id"]
    status, listed = gateway.request("GET", "/api/kernels", token=tokens["bob"])
    assert status == 200 and kernel_id not in {k["id"] for k in listed}
    status, listed = gateway.request("GET", "/api/kernels", token=tokens["alice"])
    assert status == 200 and kernel_id in {k["id"] for k in listed}
    for method, path in (
        ("GET", f"/api/kernels/{kernel_id}"),
        ("POST", f"/api/kernels/{kernel_id}/interrupt"),
        ("POST", f"/api/kernels/{kernel_id}/restart"),
        ("DELETE", f"/api/kernels/{kernel_id}"),
    ):
        status, body = gateway.request(method, path, {} if method == "POST" else None, token=tokens["bob"])
        assert status == 403, (method, path, body)
    status, _ = gateway.request("GET", f"/api/kernels/{kernel_id}", token=tokens["alice"])
    assert status == 200


def test_the_websocket_opens_for_alice_only(gateway, hub, tokens, alices_kernel):
    kernel_id = alices_kernel["id"]
    for token in (None, "not-a-hub-token", tokens["bob"], tokens["carol"]):
        assert asyncio.run(channels(gateway, kernel_id, token)) == 403, token
    assert asyncio.run(channels(gateway, kernel_id, tokens["alice"])) == 101


def test_a_kernel_id_chosen_by_the_client_is_refused(gateway, tokens, alices_kernel):
    body = {"name": KERNEL, "id": alices_kernel["id"], "env": {}}
    status, _ = gateway.request("POST", "/api/kernels", body, token=tokens["bob"])
    assert status in (400, 403, 409)
    status, listed = gateway.request("GET", "/api/kernels", token=tokens["alice"])
    assert [k["id"] for k in listed].count(alices_kernel["id"]) == 1


def test_carol_sees_both_students_spend_and_a_member_only_her_own(gateway, tokens, alices_kernel):
    bind(gateway, tokens["bob"], "bob/fgsm.ipynb")
    bobs = start_kernel(gateway, tokens["bob"], "bob/fgsm.ipynb")
    try:
        status, runs = gateway.request("GET", "/compute-panel/runs?grant=nsf-lab", token=tokens["carol"])
        assert status == 200 and {"alice", "bob"} <= {r["user"] for r in runs["runs"]}
        status, board = gateway.request("GET", "/compute-panel/grants/nsf-lab/dashboard", token=tokens["carol"])
        assert status == 200, board
        assert board["summary"]["open_runs"] >= 2
        for student, other in (("alice", "bob"), ("bob", "alice")):
            status, runs = gateway.request("GET", "/compute-panel/runs?grant=nsf-lab", token=tokens[student])
            assert status == 200 and {r["user"] for r in runs["runs"]} == {student}
            status, body = gateway.request(
                "GET", f"/compute-panel/runs?grant=nsf-lab&user={other}", token=tokens[student]
            )
            assert status in (200, 403) and not (status == 200 and body["runs"]), body
            status, _ = gateway.request("GET", "/compute-panel/grants/nsf-lab/dashboard", token=tokens[student])
            assert status == 403
    finally:
        gateway.request("DELETE", f"/api/kernels/{bobs['id']}", token=tokens["bob"])


def test_twenty_starts_from_two_students_start_exactly_what_the_budget_covers(gateway, tokens):
    for student in ("alice", "bob"):
        status, _ = gateway.request(
            "PUT",
            "/compute-panel/bindings",
            {"path": "race.ipynb", "grant_id": "nsf-race", "tier_id": "h200"},
            token=tokens[student],
        )
        assert status == 200
    body = {"name": KERNEL, "env": {"COMPUTE_PANEL_NOTEBOOK": "race.ipynb"}}

    def start(student: str) -> tuple[str, int, object]:
        return (student, *gateway.request("POST", "/api/kernels", body, token=tokens[student]))

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(start, ["alice", "bob"] * 10))
    started = [(s, k["id"]) for s, status, k in results if status == 201]
    refused = [k["message"] for _, status, k in results if status == 403]
    try:
        assert (len(started), len(refused)) == (5, 15), results
        assert all(m.startswith("Grant NSF RACE-1 has ") for m in refused), refused
        status, runs = gateway.request("GET", "/compute-panel/runs?grant=nsf-race&status=open", token=tokens["carol"])
        assert status == 200 and runs["count"] == 5
        assert sorted(r["user"] for r in runs["runs"]) == sorted(s for s, _ in started)
    finally:
        for student, kernel_id in started:
            gateway.request("DELETE", f"/api/kernels/{kernel_id}", token=tokens[student])


def test_the_hard_stop_and_the_alerts_reach_the_right_users(gateway, tokens):
    """A grant spent while alice's kernel runs on it: her kernel is stopped (end reason
    budget); the PI and alice, who ran on it, are alerted; bob, a member who did not, is not."""
    status, _ = gateway.request(
        "PUT",
        "/compute-panel/bindings",
        {"path": "tiny.ipynb", "grant_id": "nsf-tiny", "tier_id": "h200"},
        token=tokens["alice"],
    )
    assert status == 200
    kernel = start_kernel(gateway, tokens["alice"], "tiny.ipynb")["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, listed = gateway.request("GET", "/api/kernels", token=tokens["alice"])
        if kernel not in {k["id"] for k in listed}:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the spent grant's kernel still runs")
    status, run = gateway.request("GET", f"/compute-panel/kernels/{kernel}/run", token=tokens["alice"])
    assert status == 200 and run["end_reason"] == "budget", run
    alerted = {}
    for user in ("alice", "bob", "carol"):
        status, body = gateway.request("GET", "/compute-panel/alerts", token=tokens[user])
        assert status == 200, body
        alerted[user] = sorted(a["threshold_pct"] for a in body["alerts"] if a["grant_id"] == "nsf-tiny")
    assert alerted["carol"] and alerted["alice"] and 100 in alerted["carol"], alerted
    assert alerted["bob"] == [], alerted


def test_a_hub_group_makes_an_admin_of_every_grant(gateway, tokens):
    """dana has no role on any grant; her hub group is the gateway's admin_groups."""
    status, body = gateway.request("GET", "/compute-panel/grants", token=tokens["dana"])
    assert status == 200, body
    assert {"nsf-lab", "nsf-race", "nsf-tiny"} <= {g["id"] for g in body["grants"]}
    status, _ = gateway.request("GET", "/compute-panel/grants/nsf-lab/dashboard", token=tokens["dana"])
    assert status == 200
    status, body = gateway.request("GET", "/compute-panel/grants", token=tokens["bob"])
    assert status == 200 and all(g["role"] == "member" for g in body["grants"]), body


def test_the_gateway_offers_no_sessions_api(gateway, tokens, alices_kernel):
    """Sessions live in each user's own server; the gateway's would list every user's."""
    for user in ("alice", "bob"):
        status, body = gateway.request("GET", "/api/sessions", token=tokens[user])
        assert status == 403, body
        body = {"path": "x.ipynb", "type": "notebook", "name": "x.ipynb", "kernel": {"name": KERNEL}}
        status, _ = gateway.request("POST", "/api/sessions", body, token=tokens[user])
        assert status == 403


def test_a_restart_refused_once_alice_is_a_viewer_is_a_403_and_its_sentence_is_hers(gateway, tokens):
    """Her PI makes alice a viewer while her kernel runs: its restart (a new start) is refused
    with the sentence, the gateway drops the kernel whose process the restart stopped, and
    keeps the sentence for alice (her server asks it for JupyterLab, which does not pass it on)."""
    grant = {
        **GRANT,
        "id": "nsf-roles",
        "award_number": "NSF ROLES-1",
        "members": [{"user": "alice", "role": "member"}],
    }
    status, body = gateway.request("POST", "/compute-panel/grants", grant, token=tokens["dana"])
    assert status == 201, body
    body = {"path": "roles.ipynb", "grant_id": "nsf-roles", "tier_id": "h200"}
    assert gateway.request("PUT", "/compute-panel/bindings", body, token=tokens["alice"])[0] == 200
    kernel = start_kernel(gateway, tokens["alice"], "roles.ipynb")["id"]
    try:
        status, body = gateway.request(
            "PUT", "/compute-panel/grants/nsf-roles/members/alice", {"role": "viewer"}, token=tokens["carol"]
        )
        assert status == 200, body
        status, body = gateway.request("POST", f"/api/kernels/{kernel}/restart", {}, token=tokens["alice"])
        assert status == 403, body  # Kernel Gateway answered 500 "Exception restarting kernel"
        assert body["reason"] == "refused", body
        assert body["message"].startswith("You can view grant NSF ROLES-1 but not charge it"), body
        _, listed = gateway.request("GET", "/api/kernels", token=tokens["alice"])
        assert kernel not in {k["id"] for k in listed}, listed
        status, kept = gateway.request("GET", f"/compute-panel/kernels/{kernel}/refusal", token=tokens["alice"])
        assert status == 200, kept
        assert (kept["kernel_id"], kept["message"]) == (kernel, body["message"])
        assert gateway.request("GET", f"/compute-panel/kernels/{kernel}/refusal", token=tokens["bob"])[0] == 404
    finally:
        gateway.request("DELETE", f"/api/kernels/{kernel}", token=tokens["alice"])
