"""Environment fingerprints captured on real kernels (the parsers: test_fingerprint.py).

These tests run a real in-process Jupyter server with real ipykernel kernels: no mocks.
What they prove: the fingerprint appears for a run, describes the kernel's Python and
packages, carries the notebook's hash and git state, and the capture is silent (nothing
in the kernel's history, output or user namespace; the user's first cell is execution 1).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import platform
import runpy
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from conftest import wait_for

from jupyterlab_compute_panel.metering.environment import parse

PROBE = Path(parse.__file__).with_name("probe.py")
LOCAL = "compute-panel-local-cpu-python3"
RTX = "compute-panel-rtx4090-python3"


# -- capture on real kernels -------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


async def start_session(jp_fetch, path: str, kernel: str = LOCAL) -> dict:
    response = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps({"path": path, "type": "notebook", "name": Path(path).name, "kernel": {"name": kernel}}),
    )
    return json.loads(response.body)


async def environment_of(api, run_id: str, status: str = "complete", timeout: float = 60) -> dict:
    async def captured():
        code, body = await api("GET", f"compute-panel/runs/{run_id}/environment")
        return body if code == 200 and body["status"] == status else None

    return await wait_for(captured, timeout=timeout)


async def run_of(api, kernel_id: str) -> dict:
    code, run = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert code == 200, run
    return run


def kernel_client(jp_serverapp, kernel_id: str):
    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    return client


async def reply_to(client, msg_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        msg = await client.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.1))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def this_pythons_packages_hash() -> str:
    namespace = runpy.run_path(str(PROBE))
    return parse.packages_hash(parse.package_lines(namespace["_packages"]()))


async def test_capture_on_a_real_kernel_in_a_git_repository(jp_fetch, jp_root_dir, jp_serverapp, api, service):
    repo = jp_root_dir / "project"
    (repo / "lab").mkdir(parents=True)
    notebook = repo / "lab" / "robust.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, notebook)
    (repo / "helper.py").write_text("A = 1\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "helper.py").write_text("A = 2\n")  # an uncommitted change: dirty
    commit = git(repo, "rev-parse", "HEAD")

    session = await start_session(jp_fetch, "project/lab/robust.ipynb")
    kernel_id = session["kernel"]["id"]
    client = kernel_client(jp_serverapp, kernel_id)
    try:
        # The user's first cell, sent while the capture is under way.
        first = await reply_to(client, client.execute("y = 6 * 7"))
        assert first["status"] == "ok" and first["execution_count"] == 1

        run = await run_of(api, kernel_id)
        env = await environment_of(api, run["id"])
        fp = env["fingerprint"]
        assert env["run_id"] == run["id"] and env["error"] is None
        assert fp["missing"] == {}
        assert fp["tier"]["id"] == "local-cpu" and fp["tier"]["label"] == run["tier_label"]
        assert fp["kernel"]["language"] == "python" and fp["kernel"]["kernelspec"] == LOCAL
        assert fp["python"]["version"] == platform.python_version()
        assert env["packages_hash"] == fp["packages"]["hash"] == this_pythons_packages_hash()
        assert any(line.startswith("ipykernel==") for line in fp["packages"]["list"])
        assert fp["cpu"]["logical_cores"] >= 1 and fp["cpu"]["model"]
        assert fp["host"]["name"] == platform.node()
        assert fp["notebook"] == {
            "path": "project/lab/robust.ipynb",
            "sha256": hashlib.sha256(notebook.read_bytes()).hexdigest(),
        }
        assert fp["git"]["commit"] == commit and fp["git"]["branch"] == "main"
        assert fp["git"]["dirty"] is True and fp["git"]["notebook"] == "unchanged"

        # Silent: the history holds the user's cell only, the namespace the user's names only.
        msg_id = client.history(hist_access_type="tail", n=100, raw=True, output=False)
        history = (await reply_to(client, msg_id))["history"]
        assert [entry[2] for entry in history] == ["y = 6 * 7"]
        names = (
            "sorted(k for k in globals() if not k.startswith('_') "
            "and k not in ('In', 'Out', 'get_ipython', 'exit', 'quit', 'open'))"
        )
        second = await reply_to(client, client.execute("z = y", user_expressions={"names": names}))
        assert second["execution_count"] == 2
        assert second["user_expressions"]["names"]["data"]["text/plain"] == "['y', 'z']"
    finally:
        client.stop_channels()
        await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_a_capture_prints_nothing(jp_fetch, jp_root_dir, jp_serverapp, api, service):
    """Every message the capture causes on IOPub is a status message: no output, no input echo."""
    nbformat.write(nbformat.v4.new_notebook(), jp_root_dir / "quiet.ipynb")
    session = await start_session(jp_fetch, "quiet.ipynb")
    kernel_id = session["kernel"]["id"]
    run = await run_of(api, kernel_id)
    await environment_of(api, run["id"])
    client = kernel_client(jp_serverapp, kernel_id)
    try:
        await reply_to(client, client.kernel_info())  # subscribed and ready
        while True:  # drain what the connection brought
            try:
                await client.get_iopub_msg(timeout=0.5)
            except Exception:
                break
        kernel = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        service.environment.schedule(kernel.provisioner, await service.db(service.ledger.get_run, run["id"]))
        await service.environment.wait(run["id"])
        kinds = []
        while True:
            try:
                kinds.append((await client.get_iopub_msg(timeout=0.5))["msg_type"])
            except Exception:
                break
        assert kinds and set(kinds) == {"status"}, kinds
        assert (await api("GET", f"compute-panel/runs/{run['id']}/environment"))[1]["status"] == "complete"
    finally:
        client.stop_channels()
        await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_a_notebook_outside_git_and_not_saved(jp_fetch, jp_root_dir, api, service):
    (jp_root_dir / "unsaved").mkdir()
    session = await start_session(jp_fetch, "unsaved/new.ipynb", LOCAL)
    run = await run_of(api, session["kernel"]["id"])
    env = await environment_of(api, run["id"], status="partial")
    fp = env["fingerprint"]
    assert fp["notebook"] == {"path": "unsaved/new.ipynb", "sha256": None}
    assert fp["missing"] == {"notebook": "the notebook is not saved yet"}
    assert fp["git"] is None and fp["python"]["version"] == platform.python_version()
    await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_a_paid_run_without_notebook_has_tier_and_no_notebook(jp_fetch, api, grants, service):
    service.default_grant = grants[0]
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": RTX}))
    kernel_id = json.loads(response.body)["id"]
    run = await run_of(api, kernel_id)
    env = await environment_of(api, run["id"])
    fp = env["fingerprint"]
    assert fp["tier"]["id"] == "rtx4090" and fp["tier"]["simulated"] is True
    assert fp["tier"]["hardware"]["gpu"]["model"] == "NVIDIA GeForce RTX 4090"  # what the catalog claims
    assert fp["gpus"]["count"] == 0  # what the kernel found: a simulated tier has no GPU here
    assert fp["notebook"] is None and fp["git"] is None
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def test_a_run_reopened_for_a_live_kernel_keeps_its_environment(jp_fetch, api, grants, service):
    """When another process closes a live kernel's run (it judged its heartbeats stale), the
    meter opens a new run for the rest of the kernel's life: the same kernel, so the same
    environment, and the run history shows it for the new run too."""
    service.default_grant = grants[0]
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": RTX}))
    kernel_id = json.loads(response.body)["id"]
    first = await run_of(api, kernel_id)
    env = await environment_of(api, first["id"])
    service.ledger.close_run(first["id"], "stale")  # as a reconciling server would

    async def reopened():
        run = await run_of(api, kernel_id)
        return run if run["id"] != first["id"] and run["status"] == "open" else None

    second = await wait_for(reopened, timeout=15)
    code, copied = await api("GET", f"compute-panel/runs/{second['id']}/environment")
    assert code == 200, copied
    assert copied["fingerprint"] == env["fingerprint"] and copied["packages_hash"] == env["packages_hash"]
    assert copied["run_id"] == second["id"] and copied["status"] == "complete"
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")


@pytest.fixture
def short_timeout(jp_server_config):
    jp_server_config["ComputePanel"]["environment_timeout"] = 1.0
    return jp_server_config


@pytest.mark.slow
async def test_a_busy_kernel_gets_a_partial_record_then_the_whole_one(
    short_timeout, jp_fetch, jp_serverapp, api, service
):
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": LOCAL}))
    kernel_id = json.loads(response.body)["id"]
    client = kernel_client(jp_serverapp, kernel_id)
    try:
        busy = client.execute("import time; time.sleep(4)")
        run = await run_of(api, kernel_id)
        partial = await environment_of(api, run["id"], status="partial", timeout=30)
        assert "did not answer within 1 s" in partial["fingerprint"]["missing"]["kernel"]
        assert partial["fingerprint"]["tier"]["id"] == "local-cpu"
        complete = await environment_of(api, run["id"], status="complete", timeout=60)
        assert complete["fingerprint"]["python"]["version"] == platform.python_version()
        assert (await reply_to(client, busy))["execution_count"] == 1
    finally:
        client.stop_channels()
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def test_a_kernel_stopped_before_capture_is_recorded_failed(jp_fetch, api, service):
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": LOCAL}))
    kernel_id = json.loads(response.body)["id"]
    run = await run_of(api, kernel_id)
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    await service.environment.wait(run["id"])
    code, env = await api("GET", f"compute-panel/runs/{run['id']}/environment")
    assert code == 200
    # The race is real: a fast kernel may have been captured before it stopped.
    if env["status"] == "failed":
        assert env["error"] == "the kernel stopped before its environment was captured"
        assert env["fingerprint"]["tier"]["id"] == "local-cpu"
    else:
        assert env["status"] == "complete"


async def test_environment_api_visibility_and_messages(jp_fetch, api, service, grants):
    from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file

    tier = read_catalog_file(DEMO_CATALOG).get("local-cpu")
    bobs = service.ledger.open_run(
        kernel_id="kb", kernelspec=LOCAL, tier=tier, grant_id=None, user="bob", notebook=None
    )
    service.ledger.save_environment(bobs.id, fingerprint={"schema": 1}, packages_hash=None, status="complete")
    code, body = await api("GET", f"compute-panel/runs/{bobs.id}/environment")
    assert code == 404 and body == {"message": f"No run {bobs.id!r}", "field": "run_id"}

    mine = service.ledger.open_run(
        kernel_id="ka", kernelspec=LOCAL, tier=tier, grant_id=None, user="alice", notebook=None
    )
    code, body = await api("GET", f"compute-panel/runs/{mine.id}/environment")
    assert code == 404 and "has no environment fingerprint yet: none was captured" in body["message"]
    code, body = await api("GET", f"compute-panel/runs/{mine.id}/environment", params={"x": "1"})
    assert code == 400

    service.ledger.save_environment(mine.id, fingerprint={"schema": 1}, packages_hash="sha256:00", status="complete")
    code, body = await api("GET", f"compute-panel/runs/{mine.id}/environment")
    assert code == 200 and body["packages_hash"] == "sha256:00" and body["fingerprint"] == {"schema": 1}


@pytest.fixture
def capture_off(jp_server_config):
    jp_server_config["ComputePanel"]["capture_environment"] = False
    return jp_server_config


async def test_capture_can_be_turned_off(capture_off, jp_fetch, api, service):
    assert service.environment is None
    session = await start_session(jp_fetch, "off.ipynb")
    run = await run_of(api, session["kernel"]["id"])
    await asyncio.sleep(1)
    code, body = await api("GET", f"compute-panel/runs/{run['id']}/environment")
    assert code == 404 and "environment capture is off on this server" in body["message"]
    await jp_fetch("api", "sessions", session["id"], method="DELETE")
