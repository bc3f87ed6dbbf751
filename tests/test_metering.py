"""Every way of starting a kernel on a tier is metered: right tier, grant, times and cost."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import HEARTBEAT, assert_grant_spend_matches_runs, wait_for
from tornado.httpclient import HTTPClientError

from jupyterlab_compute_panel.domain.money import cost_micros, parse_amount
from jupyterlab_compute_panel.ledger import RunFilter, utcnow

RTX = "compute-panel-rtx4090-python3"
H200 = "compute-panel-h200-python3"
LOCAL = "compute-panel-local-cpu-python3"


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.rstrip("Z"))


def micros(amount: str) -> int:
    return parse_amount(amount)


def assert_cost_exact(run: dict) -> None:
    """A closed run's cost is its rate times its published duration, to the micro-unit."""
    started, ended = parse_iso(run["started"]), parse_iso(run["ended"])
    expected = cost_micros(micros(run["rate"]["amount"]), (ended - started) // dt.timedelta(milliseconds=1))
    assert micros(run["cost"]["amount"]) == expected


async def runs_of(api, **params) -> list[dict]:
    status, body = await api("GET", "compute-panel/runs", params=params)
    assert status == 200, body
    return body["runs"]


async def start_session(jp_fetch, path: str, kernel: str) -> dict:
    response = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps({"path": path, "type": "notebook", "name": Path(path).name, "kernel": {"name": kernel}}),
    )
    return json.loads(response.body)


@pytest.mark.slow
async def test_session_on_paid_tier_records_tier_grant_times_and_cost(jp_fetch, jp_root_dir, api, grants, service):
    (jp_root_dir / "lab").mkdir()
    status, _ = await api("PUT", "compute-panel/bindings", {"path": "lab/robust.ipynb", "grant_id": grants[0]})
    assert status == 200
    before = utcnow()
    session = await start_session(jp_fetch, "lab/robust.ipynb", RTX)
    kernel_id = session["kernel"]["id"]

    status, run = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert status == 200, run
    assert run["tier_id"] == "rtx4090"
    assert run["grant_id"] == grants[0]
    assert run["user"] == "alice"
    assert run["notebook"] == "lab/robust.ipynb"
    assert run["kernelspec"] == RTX
    assert run["rate"] == {"amount": "0.50", "currency": "USD"}
    assert run["status"] == "open"
    assert abs((parse_iso(run["started"]) - before).total_seconds()) < 2

    await asyncio.sleep(2.5)
    stop_requested = utcnow()
    await jp_fetch("api", "sessions", session["id"], method="DELETE")
    [closed] = await runs_of(api, kernel=kernel_id)
    assert closed["status"] == "closed" and closed["end_reason"] == "shutdown"
    assert abs((parse_iso(closed["ended"]) - stop_requested).total_seconds()) < 2
    assert 2.0 <= closed["duration_s"] <= 6.0
    assert_cost_exact(closed)
    assert closed["cost"]["amount"] != "0.00"


async def test_free_tier_run_has_no_grant(jp_fetch, api, grants):
    session = await start_session(jp_fetch, "free.ipynb", LOCAL)
    [run] = await runs_of(api, kernel=session["kernel"]["id"])
    assert run["tier_id"] == "local-cpu" and run["grant_id"] is None and run["cost"]["amount"] == "0.00"
    await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_change_kernel_dialog_path_meters_each_tier(jp_fetch, api, grants):
    """JupyterLab's Change kernel dialog PATCHes the session: the old run closes, a new one opens."""
    await api("PUT", "compute-panel/bindings", {"path": "move.ipynb", "grant_id": grants[0]})
    session = await start_session(jp_fetch, "move.ipynb", LOCAL)
    local_kernel = session["kernel"]["id"]
    response = await jp_fetch(
        "api", "sessions", session["id"], method="PATCH", body=json.dumps({"kernel": {"name": H200}})
    )
    h200_kernel = json.loads(response.body)["kernel"]["id"]
    assert h200_kernel != local_kernel

    async def local_closed():
        runs = await runs_of(api, kernel=local_kernel)
        return runs and runs[0]["status"] == "closed"

    await wait_for(local_closed, timeout=15)
    [h200_run] = await runs_of(api, kernel=h200_kernel, status="open")
    assert h200_run["tier_id"] == "h200" and h200_run["grant_id"] == grants[0]
    assert h200_run["rate"]["amount"] == "3.50"
    runs = await runs_of(api, notebook="move.ipynb")
    assert [r["tier_id"] for r in runs] == ["h200", "local-cpu"]
    await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_refused_move_keeps_the_previous_kernel(jp_fetch, api, grants):
    session = await start_session(jp_fetch, "nogrant.ipynb", LOCAL)
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("api", "sessions", session["id"], method="PATCH", body=json.dumps({"kernel": {"name": RTX}}))
    message = json.loads(refused.value.response.body)["message"]
    assert "RTX 4090 prototyping is a paid tier (0.50 USD/h), and no grant is chosen for this notebook" in message
    response = await jp_fetch("api", "sessions", session["id"])
    assert json.loads(response.body)["kernel"]["id"] == session["kernel"]["id"]
    assert [r["tier_id"] for r in await runs_of(api, notebook="nogrant.ipynb")] == ["local-cpu"]
    await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_expired_grant_is_refused_with_one_sentence(jp_fetch, api, grants, service):
    service.default_grant = grants[1]
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": H200}))
    assert refused.value.code == 403
    message = json.loads(refused.value.response.body)["message"]
    assert message == (
        "Grant DOE SC-0001 is not active today (it runs from 2020-01-01 to 2021-01-01): choose another grant to use H200 training."
    )
    assert await runs_of(api, tier="h200") == []


async def test_post_api_kernels_is_metered_with_the_default_grant(jp_fetch, api, grants, service):
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": RTX}))
    assert refused.value.code == 403
    assert "no grant is chosen for this kernel" in json.loads(refused.value.response.body)["message"]

    service.default_grant = grants[0]
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": RTX}))
    kernel_id = json.loads(response.body)["id"]
    [run] = await runs_of(api, kernel=kernel_id)
    assert (run["tier_id"], run["grant_id"], run["notebook"], run["status"]) == ("rtx4090", grants[0], None, "open")
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    [run] = await runs_of(api, kernel=kernel_id)
    assert run["end_reason"] == "shutdown"
    assert_cost_exact(run)


async def test_heartbeats_advance_while_the_kernel_lives(jp_fetch, api, grants, service):
    service.default_grant = grants[0]
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": H200}))
    kernel_id = json.loads(response.body)["id"]
    [run] = await runs_of(api, kernel=kernel_id)
    first = parse_iso(run["last_heartbeat"])

    async def advanced():
        [now] = await runs_of(api, kernel=kernel_id)
        return parse_iso(now["last_heartbeat"]) > first + dt.timedelta(seconds=HEARTBEAT)

    await wait_for(advanced, timeout=10)
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")


@pytest.mark.slow
async def test_kernel_killed_behind_the_servers_back(jp_fetch, jp_serverapp, api, grants, service):
    service.default_grant = grants[0]
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": H200}))
    kernel_id = json.loads(response.body)["id"]
    provisioner = jp_serverapp.kernel_manager.get_kernel(kernel_id).provisioner
    pid = provisioner.inner.process.pid
    killed_at = utcnow()
    os.kill(pid, signal.SIGKILL)

    async def closed():
        runs = await runs_of(api, kernel=kernel_id, status="closed")
        return runs[0] if runs else None

    run = await wait_for(closed, timeout=20)
    assert run["end_reason"] == "died"
    lag = (parse_iso(run["ended"]) - killed_at).total_seconds()
    assert -0.1 <= lag <= HEARTBEAT + 1.5, lag  # at most one heartbeat (plus the poll itself)
    assert_cost_exact(run)

    # The server restarts the dead kernel: its new life is a new run, the dead one stays closed once.
    async def restarted():
        return await runs_of(api, kernel=kernel_id, status="open")

    await wait_for(restarted, timeout=30)
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    runs = await runs_of(api, kernel=kernel_id)
    assert sorted(r["end_reason"] for r in runs) == ["died", "shutdown"]
    assert_grant_spend_matches_runs(service.ledger)


async def test_nbclient_through_the_kernelspec_is_metered(jp_config_dir, jp_root_dir, db_url, api, grants):
    """nbclient outside the server finds the tier kernelspec and meters through the same config."""
    from nbclient import NotebookClient

    (jp_config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ComputePanel": {"db_url": db_url, "owner": "alice", "heartbeat_interval": HEARTBEAT}})
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os; print(os.environ['COMPUTE_PANEL_TIER'])")]
    client = NotebookClient(nb, kernel_name=H200, timeout=60, resources={"metadata": {"path": str(jp_root_dir)}})
    env = {**os.environ, "COMPUTE_PANEL_GRANT": grants[0], "COMPUTE_PANEL_NOTEBOOK": "batch/exp.ipynb"}
    await client.async_execute(env=env)
    assert nb.cells[0].outputs[0]["text"].strip() == "h200"
    [run] = await runs_of(api, notebook="batch/exp.ipynb")
    assert (run["tier_id"], run["grant_id"], run["user"], run["status"]) == ("h200", grants[0], "alice", "closed")
    assert run["end_reason"] == "shutdown"
    assert_cost_exact(run)


@pytest.mark.slow
async def test_papermill_through_the_kernelspec_is_metered(jp_config_dir, jp_root_dir, db_url, api, grants):
    (jp_config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ComputePanel": {"db_url": db_url, "owner": "alice"}})
    )
    source, output = jp_root_dir / "pm.ipynb", jp_root_dir / "pm-out.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 6 * 7\nprint(x)")]
    nbformat.write(nb, source)
    env = {**os.environ, "COMPUTE_PANEL_GRANT": grants[0], "COMPUTE_PANEL_NOTEBOOK": "pm.ipynb"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "papermill",
        str(source),
        str(output),
        "-k",
        RTX,
        "--no-progress-bar",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, out.decode()
    assert "42" in nbformat.read(output, 4).cells[0].outputs[0]["text"]
    [run] = await runs_of(api, notebook="pm.ipynb")
    assert (run["tier_id"], run["grant_id"], run["status"], run["end_reason"]) == (
        "rtx4090",
        grants[0],
        "closed",
        "shutdown",
    )


async def test_all_runs_of_a_tier_sum_to_the_listed_total(jp_fetch, api, grants, service):
    service.default_grant = grants[0]
    kernels = []
    for _ in range(3):
        response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": RTX}))
        kernels.append(json.loads(response.body)["id"])
    for kernel_id in kernels:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    status, body = await api("GET", "compute-panel/runs", params={"tier": "rtx4090", "status": "closed"})
    assert status == 200
    total = sum(micros(r["cost"]["amount"]) for r in body["runs"])
    assert body["count"] == 3
    assert micros(body["totals"][0]["amount"]) == total
    flt = RunFilter(tier="rtx4090")
    _, _, totals = service.ledger.list_runs(flt)
    assert totals["USD"] == total


@pytest.fixture
def pg_db_url(postgres_url):
    from conftest import new_postgres_database

    return new_postgres_database(postgres_url)


@pytest.fixture
def db_url_on_postgres(pg_db_url, panel_config):
    panel_config["db_url"] = pg_db_url
    return pg_db_url


@pytest.mark.postgres
async def test_metering_on_postgresql(db_url_on_postgres, jp_fetch, api, service):
    from conftest import GRANT_A

    from jupyterlab_compute_panel.domain.grants import parse_grant

    assert service.ledger.engine.dialect.name == "postgresql"
    service.ledger.upsert_grant(parse_grant(GRANT_A))
    await api("PUT", "compute-panel/bindings", {"path": "pg.ipynb", "grant_id": GRANT_A["id"]})
    session = await start_session(jp_fetch, "pg.ipynb", H200)
    await asyncio.sleep(1.2)
    await jp_fetch("api", "sessions", session["id"], method="DELETE")
    [run] = await runs_of(api, notebook="pg.ipynb")
    assert (run["tier_id"], run["grant_id"], run["end_reason"]) == ("h200", GRANT_A["id"], "shutdown")
    assert_cost_exact(run)
    assert_grant_spend_matches_runs(service.ledger)


async def test_a_stopped_kernels_current_run_is_its_last_closed_run(jp_fetch, api, grants, service):
    service.default_grant = grants[0]
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": RTX}))
    kernel_id = json.loads(response.body)["id"]
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    status, run = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert status == 200 and run["status"] == "closed" and run["end_reason"] == "shutdown"


@pytest.fixture
def culling(jp_server_config):
    jp_server_config["MappingKernelManager"].update(cull_idle_timeout=2, cull_interval=1)
    return jp_server_config


@pytest.mark.slow
async def test_the_servers_idle_culler_is_recorded_as_culled(culling, jp_fetch, api, grants):
    session = await start_session(jp_fetch, "idle.ipynb", LOCAL)
    kernel_id = session["kernel"]["id"]

    async def culled():
        runs = await runs_of(api, kernel=kernel_id, status="closed")
        return runs[0] if runs else None

    run = await wait_for(culled, timeout=30)
    assert run["end_reason"] == "culled"
