"""The whole lab on one machine: JupyterHub spawns alice's and bob's servers as their Unix
users, in lab mode, beside the compute gateway as its own account.

Each request goes where a browser's would: through the hub's proxy to the user's server,
with a token of that user's. The user's server holds only its Hub token; the paid tier's
kernel is the gateway's, metered there under the server's token's user.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from .conftest import ADMIN, GRANT
from .hub import Hub, user_server_config
from .kernel_client import execute
from .test_gateway import INJECTED, KERNEL
from .users import PI, STUDENTS

pytestmark = [pytest.mark.lab, pytest.mark.slow]

NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def image_config(gateway_port):
    """A config folder every user can read (as an image's /etc/jupyter is), with no secret in it."""
    folder = Path(tempfile.mkdtemp(prefix="compute-panel-lab-etc-"))
    folder.chmod(0o755)
    (folder / "jupyter_server_config.py").write_text(user_server_config(f"http://127.0.0.1:{gateway_port}"))
    (folder / "jupyter_server_config.py").chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def hub(tmp_path_factory, lab_users, gateway_port, image_config):
    hub = Hub(tmp_path_factory.mktemp("hub"), f"http://127.0.0.1:{gateway_port}", users=[*STUDENTS, PI, ADMIN])
    # What alice could set in her own server's environment: every KERNEL_* value there is.
    hub.spawner_environment.update(INJECTED, JUPYTER_CONFIG_PATH=str(image_config))
    if os.environ.get("PYTHONPATH"):
        hub.spawner_environment["PYTHONPATH"] = os.environ["PYTHONPATH"]
    hub.start()
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def servers(hub, gateway):
    for user in STUDENTS:
        hub.spawn(user)
    return {user: hub.token_for(user, scopes=[f"access:servers!user={user}"]) for user in STUDENTS}


def test_alice_moves_a_notebook_to_the_paid_tier_and_the_gateway_meters_it(hub, gateway, servers, lab_users, tokens):
    alice = servers["alice"]
    status, _ = hub.server_request(
        "alice", alice, "PUT", "/api/contents/pgd.ipynb", {"type": "notebook", "content": NOTEBOOK}
    )
    assert status in (200, 201)
    # JupyterLab lists the kernelspecs first; kernels-mixer learns there which ones are remote.
    status, specs = hub.server_request("alice", alice, "GET", "/api/kernelspecs")
    assert status == 200 and {"python3", KERNEL} <= set(specs["kernelspecs"]), specs
    status, tiers = hub.server_request("alice", alice, "GET", "/compute-panel/tiers")
    # The gateway's paid tier, after this server's own Local CPU (its kernels stay here).
    assert status == 200 and [t["id"] for t in tiers["tiers"]] == ["local-cpu", "h200"]
    assert tiers["tiers"][0]["kernelspecs"] == {"python3": "python3"} and tiers["tiers"][0]["free"]
    binding = {"path": "pgd.ipynb", "grant_id": GRANT["id"], "tier_id": "h200"}
    status, body = hub.server_request("alice", alice, "PUT", "/compute-panel/bindings", binding)
    assert status == 200, body
    session = {"path": "pgd.ipynb", "name": "pgd.ipynb", "type": "notebook", "kernel": {"name": KERNEL}}
    status, session = hub.server_request("alice", alice, "POST", "/api/sessions", session)
    assert status == 201, session
    kernel_id = session["kernel"]["id"]
    try:
        # The kernel is the gateway's: listed there for alice's Hub token (under the gateway's
        # own id), for no one else's; her server knows it by its own id, and so does the panel.
        (on_gateway,) = gateway.request("GET", "/api/kernels", token=tokens["alice"])[1]
        assert gateway.request("GET", "/api/kernels", token=tokens["bob"])[1] == []
        status, run = hub.server_request("alice", alice, "GET", f"/compute-panel/kernels/{kernel_id}/run")
        assert status == 200, run
        assert (run["user"], run["grant_id"], run["notebook"]) == ("alice", GRANT["id"], "pgd.ipynb")
        assert run["kernel_id"] == kernel_id
        _, direct = gateway.request("GET", f"/compute-panel/kernels/{on_gateway['id']}/run", token=tokens["alice"])
        assert direct["id"] == run["id"]
        status, runs = hub.server_request("alice", alice, "GET", f"/compute-panel/runs?kernel={kernel_id}")
        assert status == 200 and [r["id"] for r in runs["runs"]] == [run["id"]]
        code = "import os; print(os.getuid(), sorted(k for k in os.environ if k.startswith('KERNEL_')))"
        said = execute(f"{hub.url}/user/alice", kernel_id, alice, code)
        assert said.split(maxsplit=1) == [str(lab_users["compute-gateway"].pw_uid), "['KERNEL_GATEWAY']\n"], said
    finally:
        hub.server_request("alice", alice, "DELETE", f"/api/sessions/{session['id']}")
        hub.server_request("alice", alice, "DELETE", f"/api/kernels/{kernel_id}")


def test_from_alices_own_kernel_the_gateways_secrets_are_out_of_reach(hub, gateway, servers, lab_users):
    alice = servers["alice"]
    status, kernel = hub.server_request("alice", alice, "POST", "/api/kernels", {"name": "python3"})
    assert status == 201, kernel
    try:
        code = (
            "import os, subprocess\n"
            "print(os.getuid())\n"
            "print('environ' , 'JUPYTERHUB_API_TOKEN' in os.environ, any('postgres' in v for v in os.environ.values()))\n"
            f"r = subprocess.run(['cat', {str(gateway.config_file)!r}], capture_output=True, text=True)\n"
            "print('cat', r.returncode, r.stderr.strip())\n"
        )
        said = execute(f"{hub.url}/user/alice", kernel["id"], alice, code).splitlines()
        assert said[0] == str(lab_users["alice"].pw_uid)
        assert said[1] == "environ True False"  # her own Hub token, and no ledger URL
        assert said[2].startswith("cat 1") and "Permission denied" in said[2]
    finally:
        hub.server_request("alice", alice, "DELETE", f"/api/kernels/{kernel['id']}")


def test_bob_reaches_neither_alices_server_nor_her_gateway_kernels(hub, gateway, servers, tokens):
    status, _ = hub.server_request("alice", servers["bob"], "GET", "/api/kernels")
    assert status in (403, 404)
    status, listed = hub.server_request("bob", servers["bob"], "GET", "/api/kernels")
    assert status == 200
    alices = {k["id"] for k in gateway.request("GET", "/api/kernels", token=tokens["alice"])[1]}
    assert not alices & {k["id"] for k in listed}
