"""Refused starts leave nothing behind: a real server exits on the first SIGTERM."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import GRANT_A
from servers import Server
from tornado.httpclient import HTTPClientError

from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.errors import LaunchRefused, LaunchUnavailable, NotFound
from jupyterlab_compute_panel.metering import restarts
from jupyterlab_compute_panel.metering.identity import acting_as
from jupyterlab_compute_panel.metering.restarts import RefusedRestarts

H200 = "compute-panel-h200-python3"


@pytest.mark.slow
def test_the_server_exits_on_the_first_sigterm_after_refused_starts(tmp_path):
    # No grant is chosen and there is no default: every start on a paid tier is refused.
    server = Server(tmp_path, {"db_url": f"sqlite:///{tmp_path / 'ledger.sqlite'}", "owner": "alice"}).start()
    try:
        for _ in range(5):
            status, body = server.request("POST", "/api/kernels", {"name": H200})
            assert status == 403, body
            assert "no grant is chosen" in body["message"], body
        for i in range(3):  # opening a notebook on the tier: the sessions API's path to the same start
            session = {"path": f"nb{i}.ipynb", "type": "notebook", "name": "", "kernel": {"name": H200}}
            status, body = server.request("POST", "/api/sessions", session)
            assert status == 403, body
            assert body["reason"] == "refused" and "no grant is chosen" in body["message"], body
        status, body = server.request("POST", "/api/kernels", {"name": "python3"})
        assert status == 201, body
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        try:
            code = server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                "the server still runs 30 s after one SIGTERM:\n" + server.log.read_text()[-3000:]
            ) from None
        assert code == 0, server.log.read_text()[-3000:]
        assert time.monotonic() - started < 20
        assert "Kernel does not exist" not in server.log.read_text()
    finally:
        server.close()


def test_a_refused_kernel_change_is_a_403_and_the_notebook_keeps_its_kernel(tmp_path):
    server = Server(tmp_path, {"db_url": f"sqlite:///{tmp_path / 'ledger.sqlite'}", "owner": "alice"}).start()
    try:
        session = {"path": "nb.ipynb", "type": "notebook", "name": "", "kernel": {"name": "python3"}}
        status, created = server.request("POST", "/api/sessions", session)
        assert status == 201, created
        before = created["kernel"]["id"]
        # JupyterLab's *Change kernel*: jupyter_server answered 501 with our sentence quoted in its own.
        status, body = server.request("PATCH", f"/api/sessions/{created['id']}", {"kernel": {"name": H200}})
        assert status == 403, body
        assert body["reason"] == "refused" and body["message"].startswith("H200"), body
        assert "could not be started" not in body["message"]
        status, now = server.request("GET", f"/api/sessions/{created['id']}")
        assert status == 200 and now["kernel"]["id"] == before, now
        status, kernel = server.request("GET", f"/api/kernels/{before}")
        assert status == 200, kernel
        # Anything that is not a refusal is still jupyter_server's own answer.
        status, body = server.request("PATCH", f"/api/sessions/{created['id']}", {"kernel": {"name": "no-such"}})
        assert status == 501, body
    finally:
        server.close()


async def test_a_refused_restart_is_a_403_the_kernel_is_dropped_and_its_sentence_kept(jp_fetch, service):
    service.ledger.upsert_grant(parse_grant(GRANT_A))
    service.default_grant = GRANT_A["id"]
    session = {"path": "nb.ipynb", "type": "notebook", "name": "", "kernel": {"name": H200}}
    created = json.loads((await jp_fetch("api", "sessions", method="POST", body=json.dumps(session))).body)
    kernel_id = created["kernel"]["id"]
    refusal = ("compute-panel", "kernels", kernel_id, "refusal")
    try:
        nothing = await jp_fetch(*refusal, raise_error=False)
        assert nothing.code == 404, nothing.body  # nothing was refused yet
        # The PI makes alice a viewer while her kernel runs: its restart is a new start, refused.
        service.ledger.upsert_grant(parse_grant({**GRANT_A, "pi": "someone-else", "members": ["alice:viewer"]}))
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="{}")
        assert refused.value.code == 403  # jupyter_server answered 500 "Exception restarting kernel"
        body = json.loads(refused.value.response.body)
        assert body["reason"] == "refused", body
        assert body["message"].startswith("You can view grant NSF CNS-2401234 but not charge it"), body

        # The old process is gone: the server no longer lists the kernel (it said "idle"),
        # nor the notebook's session on it; the kernel's run is closed.
        gone = await jp_fetch("api", "kernels", kernel_id, raise_error=False)
        assert gone.code == 404, gone.body
        sessions = json.loads((await jp_fetch("api", "sessions")).body)
        assert [s for s in sessions if s["path"] == "nb.ipynb"] == [], sessions
        run = json.loads((await jp_fetch("compute-panel", "kernels", kernel_id, "run")).body)
        assert run["status"] == "closed", run

        # What JupyterLab does not pass on: the sentence, for the user who asked.
        kept = await jp_fetch(*refusal)
        assert json.loads(kept.body) | {"at": None} == {
            "kernel_id": kernel_id,
            "message": body["message"],
            "reason": "refused",
            "at": None,
        }
        with acting_as("bob"), pytest.raises(NotFound):  # another user of a host that serves many
            service.restart_refusal(kernel_id)
    finally:
        try:
            await jp_fetch("api", "kernels", kernel_id, method="DELETE")
        except HTTPClientError:
            pass


def test_refused_restarts_are_kept_per_user_for_a_while(monkeypatch):
    memory = RefusedRestarts()
    memory.note("k1", "alice", LaunchRefused("No grant."))
    memory.note("k2", "alice", LaunchUnavailable("The ledger is away."))
    assert memory.get("k1", "alice").to_json()["reason"] == "refused"
    assert memory.get("k2", "alice").to_json()["reason"] == "unavailable"
    assert memory.get("k1", "bob") is None
    later = restarts.utcnow() + restarts.MEMORY + dt.timedelta(seconds=1)
    monkeypatch.setattr(restarts, "utcnow", lambda: later)
    assert memory.get("k1", "alice") is None
    for i in range(restarts.LIMIT + 5):
        memory.note(f"k{i}", "alice", LaunchRefused("No grant."))
    assert memory.get("k0", "alice") is None and memory.get(f"k{restarts.LIMIT + 4}", "alice") is not None


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["papermill", "jupyter execute"])
def test_papermill_and_jupyter_execute_say_a_refusal_in_one_line(
    tool, jp_config_dir, jp_root_dir, db_url, jp_serverapp
):
    """Outside a server the refusal ends the run with its sentence on stderr, once, and no traceback."""
    (jp_config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ComputePanel": {"db_url": db_url, "owner": "alice"}})
    )
    source = jp_root_dir / "refused.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(1)")]
    nb.metadata["kernelspec"] = {"name": H200, "display_name": "H200", "language": "python"}
    nbformat.write(nb, source)
    command = {
        "papermill": [
            sys.executable,
            "-m",
            "papermill",
            str(source),
            str(jp_root_dir / "out.ipynb"),
            "--no-progress-bar",
        ],
        "jupyter execute": [str(Path(sys.executable).with_name("jupyter-execute")), str(source)],
    }[tool]
    env = {k: v for k, v in os.environ.items() if k != "COMPUTE_PANEL_GRANT"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0, done
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("no grant is chosen for this kernel") == 1, done.stderr
    assert "alembic" not in done.stderr, done.stderr
