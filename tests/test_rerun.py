# ruff: noqa: RUF001 - the summary line is asserted with its multiplication signs
"""Re-run a notebook on a tier and compare runs, through a real server with real kernels:
metered batch runs, progress, cancel, time limit, a failing cell, refusals, and the verdict."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re

import nbformat
import pytest
from conftest import GRANT_A, assert_compare_contract, assert_grant_spend_matches_runs, wait_for

from jupyterlab_compute_panel.domain.compare import RunInput, compare_runs, text_distance

G = GRANT_A["id"]


def _notebook(*sources: str) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# A study")] + [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def _write(root, name: str, nb) -> str:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(json.dumps(nb))
    return name


async def _finished(api, rerun_id: str, timeout: float = 90.0) -> dict:
    async def ended():
        _, body = await api("GET", f"compute-panel/reruns/{rerun_id}")
        return body if body.get("ended") else None

    return await wait_for(ended, timeout=timeout, interval=0.25)


STUDY = (
    "import math\nacc = round(0.8731 + 1e-9 * math.pi, 12)\nprint('clean accuracy', acc)",
    "for eps in (0.01, 0.03):\n    print('eps', eps, 'robust', round(0.61 - eps, 6))",
    "acc * 100",
)


async def test_rerun_on_two_tiers_then_compare(jp_root_dir, api, grants, service):
    path = _write(jp_root_dir, "study/robust.ipynb", _notebook(*STUDY))
    ids = {}
    for tier in ("local-cpu", "rtx4090"):
        status, body = await api("POST", "compute-panel/reruns", {"path": path, "tier_id": tier, "grant_id": G})
        assert status == 201, body
        assert body["status"] == "running" and body["cells_total"] == 3 and body["run_id"]
        done = await _finished(api, body["id"])
        assert done["status"] == "completed", done
        assert done["cells_done"] == 3 and done["error"] is None
        assert done["output"].startswith(f"study/robust.{tier}.") and done["output"].endswith(".ipynb")
        ids[tier] = done
    # Metered: one closed run each, ended right after the last cell, charged to the grant on the paid tier.
    status, rtx_run = await api("GET", f"compute-panel/runs/{ids['rtx4090']['run_id']}")
    assert rtx_run["status"] == "closed" and rtx_run["end_reason"] == "completed"
    assert rtx_run["grant_id"] == G and rtx_run["notebook"] == path
    assert float(rtx_run["cost"]["amount"]) > 0
    status, cpu_run = await api("GET", f"compute-panel/runs/{ids['local-cpu']['run_id']}")
    assert cpu_run["end_reason"] == "completed" and cpu_run["grant_id"] is None
    assert_grant_spend_matches_runs(service.ledger)
    # The executed copy has the outputs and its provenance.
    copy = json.loads((jp_root_dir / ids["rtx4090"]["output"]).read_text())
    assert "clean accuracy 0.8731" in "".join(copy["cells"][1]["outputs"][0]["text"])
    provenance = copy["metadata"]["jupyterlab_compute_panel"]["provenance"]
    assert provenance["run_id"] == rtx_run["id"] and provenance["tier"] == "rtx4090" and provenance["grant"] == G
    assert provenance["price_per_hour"] == rtx_run["rate"] and provenance["status"] == "completed"
    assert "cuda" in provenance  # the fingerprint's CUDA part (empty on a machine without CUDA)
    # The source notebook is untouched.
    assert json.loads((jp_root_dir / path).read_text())["cells"][1]["outputs"] == []

    status, result = await api(
        "GET", "compute-panel/compare", params={"runs": f"{cpu_run['id']},{rtx_run['id']}", "rtol": "1e-3"}
    )
    assert status == 200, result
    assert_compare_contract(result)
    assert result["verdict"] == "match", result["summary"]
    assert result["summary"].startswith("outputs are identical; RTX 4090")
    assert "Local CPU was free" in result["summary"]
    assert [c["verdicts"] for c in result["cells"]] == [[None, "same"]] * 3
    assert all(d is not None for c in result["cells"] for d in c["durations_s"])
    assert result["timing"] == "cells"
    # RTX 4090 prototyping is simulated: its kernel ran on this machine, so no speed is claimed.
    assert result["summary"].endswith("speed is not comparable: RTX 4090 prototyping is a simulated tier")
    assert [r["simulated"] for r in result["runs"]] == [False, True]
    assert result["runs"][1]["speed"] == {"ratio": None, "cells": 0, "reason": "simulated"}
    assert result["runs"][1]["cost"] == {"amount": rtx_run["cost"]["amount"], "currency": "USD"}
    # Both environments were captured before the cells ran; only what differs is listed.
    differing = {f["key"]: f["values"] for f in result["environment"]["fields"]}
    assert differing["tier.id"] == ["local-cpu", "rtx4090"]
    assert "kernel.probe_seconds" not in differing
    assert not any(key.startswith("notebook.") for key in differing)  # the file's hash changes with every save
    assert "python.version" not in differing and result["environment"]["packages"] == []
    assert result["environment"]["missing"] == []


async def test_a_failing_cell_ends_the_rerun_with_its_error(jp_root_dir, api, grants):
    path = _write(jp_root_dir, "fails.ipynb", _notebook("x = 1", "1 / 0", "print('never')"))
    status, body = await api("POST", "compute-panel/reruns", {"path": path, "tier_id": "local-cpu"})
    assert status == 201, body
    done = await _finished(api, body["id"])
    assert done["status"] == "failed"
    assert done["error"] == "Cell 2 of 3 raised ZeroDivisionError: division by zero"
    assert done["cells_done"] == 2  # the failing cell ran too
    _, run = await api("GET", f"compute-panel/runs/{done['run_id']}")
    assert run["end_reason"] == "cell_error"
    copy = json.loads((jp_root_dir / done["output"]).read_text())
    assert copy["cells"][2]["outputs"][0]["ename"] == "ZeroDivisionError"
    assert copy["cells"][3]["outputs"] == []


async def test_cancel_stops_the_kernel_now(jp_root_dir, api, grants, service, jp_serverapp):
    source = _notebook("print('started')", "import time\ntime.sleep(120)", "1")
    # The source was run before: its last cell keeps an old result and timing.
    source.cells[3].execution_count = 7
    source.cells[3].outputs = [nbformat.from_dict(_result("1"))]
    source.cells[3].metadata["execution"] = {
        "iopub.execute_input": "2026-01-01T00:00:00.000000Z",
        "shell.execute_reply": "2026-01-01T00:00:01.000000Z",
    }
    path = _write(jp_root_dir, "slow.ipynb", source)
    status, body = await api("POST", "compute-panel/reruns", {"path": path, "tier_id": "rtx4090", "grant_id": G})
    assert status == 201, body
    kernel_id = body["kernel_id"]

    async def sleeping():
        _, state = await api("GET", f"compute-panel/reruns/{body['id']}")
        return state["current_cell"] == 2

    await wait_for(sleeping, timeout=60)
    status, cancelled = await api("DELETE", f"compute-panel/reruns/{body['id']}")
    assert status == 200, cancelled
    assert cancelled["status"] == "cancelled" and "in cell 2 of 3" in cancelled["error"]
    assert kernel_id not in jp_serverapp.kernel_manager
    _, run = await api("GET", f"compute-panel/runs/{cancelled['run_id']}")
    assert run["end_reason"] == "cancelled" and run["status"] == "closed"
    assert run["duration_s"] < 60
    assert_grant_spend_matches_runs(service.ledger)
    status, again = await api("DELETE", f"compute-panel/reruns/{body['id']}")
    assert status == 409 and "already ended" in again["message"]
    # The copy holds what this re-run ran: the cell it never reached is empty, not the source's old result.
    done = await _finished(api, body["id"])
    copy = json.loads((jp_root_dir / done["output"]).read_text())
    assert "".join(copy["cells"][1]["outputs"][0]["text"]) == "started\n"
    last = copy["cells"][3]
    assert last["outputs"] == [] and last["execution_count"] is None and "execution" not in last["metadata"]


LOCAL = "compute-panel-local-cpu-python3"


async def test_an_open_interactive_run_compares_honestly(jp_root_dir, api, grants, jp_fetch):
    """The README's walkthrough: a notebook open on Local CPU (its kernel still running), then
    re-run headlessly. The open kernel's lifetime is never its speed, and a notebook saved
    before any cell ran is incomplete, not different."""
    from jupyterlab_compute_panel.metering.reruns import METADATA_KEY

    path = _write(jp_root_dir, "study/open.ipynb", _notebook(*STUDY))
    response = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps({"path": path, "type": "notebook", "name": "open.ipynb", "kernel": {"name": LOCAL}}),
    )
    kernel_id = json.loads(response.body)["kernel"]["id"]
    _, interactive = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert interactive["status"] == "open"

    def save(cells=None):
        """The notebook as JupyterLab saves it on that kernel: its provenance names the open run."""
        nb = _notebook(*STUDY)
        if cells is not None:
            nb.cells = [nbformat.from_dict(c) for c in cells]
        nb.metadata[METADATA_KEY] = {
            "tier": "local-cpu",
            "grant": None,
            "provenance": {"run_id": interactive["id"], "tier": "local-cpu"},
        }
        _write(jp_root_dir, path, nb)

    save()
    status, body = await api("POST", "compute-panel/reruns", {"path": path, "tier_id": "local-cpu"})
    assert status == 201, body
    rerun = await _finished(api, body["id"])
    assert rerun["status"] == "completed", rerun
    runs = {"runs": f"{interactive['id']},{rerun['run_id']}"}

    # Saved before any cell ran: incomplete, and no speed from the open kernel's lifetime.
    status, result = await api("GET", "compute-panel/compare", params=runs)
    assert status == 200, result
    assert_compare_contract(result)
    assert result["verdict"] == "incomplete"
    assert result["summary"] == (
        "Local CPU (the baseline) ran no cell; Local CPU cost nothing either; "
        "speed is not comparable: Local CPU (the baseline) recorded no cell timings"
    )
    assert result["runs"][0]["status"] == "open" and result["runs"][0]["outputs_available"] is False
    assert [c["verdicts"] for c in result["cells"]] == [[None, "not_run"]] * 3
    assert result["runs"][0]["time_s"] is None and result["runs"][1]["time_s"] > 0

    # The cells run in JupyterLab (record timing off, its default): the same outputs, still no speed.
    executed = json.loads((jp_root_dir / rerun["output"]).read_text())["cells"]
    untimed = [dict(c, metadata={}) for c in executed]
    save(untimed)
    _, result = await api("GET", "compute-panel/compare", params=runs)
    assert result["verdict"] == "match", result["summary"]
    assert result["summary"].endswith("speed is not comparable: Local CPU (the baseline) recorded no cell timings")
    assert result["runs"][1]["speed"]["reason"] == "untimed"

    # With record timing on, while the run is open: the cells' own times are compared.
    started = dt.datetime.fromisoformat(interactive["started"].replace("Z", "+00:00"))

    def timed(at):
        cells = []
        for c in executed:
            c = dict(c, metadata={})
            if c["cell_type"] == "code":
                c["metadata"] = {
                    "execution": {
                        "iopub.execute_input": at.isoformat().replace("+00:00", "Z"),
                        "shell.execute_reply": (at + dt.timedelta(seconds=0.5)).isoformat().replace("+00:00", "Z"),
                    }
                }
                at += dt.timedelta(seconds=0.5)
            cells.append(c)
        return cells

    save(timed(started))
    _, result = await api("GET", "compute-panel/compare", params=runs)
    assert_compare_contract(result)
    assert result["verdict"] == "match" and result["timing"] == "cells"
    assert result["runs"][0]["time_s"] == 1.5
    assert result["runs"][1]["speed"]["cells"] == 3 and result["runs"][1]["speed"]["ratio"] > 0
    assert re.search(
        r"; Local CPU (was [\d.]+× (faster|slower)|took as long) and cost nothing either$", result["summary"]
    )

    # Outputs saved from yesterday's kernel are not this run's.
    save(timed(started - dt.timedelta(days=1)))
    _, result = await api("GET", "compute-panel/compare", params=runs)
    assert result["verdict"] == "incomplete"
    assert result["summary"].startswith("Local CPU (the baseline) ran no cell")
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")


@pytest.mark.slow
async def test_time_limit(jp_root_dir, api, grants):
    path = _write(jp_root_dir, "long.ipynb", _notebook("import time\ntime.sleep(60)"))
    status, body = await api("POST", "compute-panel/reruns", {"path": path, "tier_id": "local-cpu", "time_limit_s": 3})
    assert status == 201, body
    done = await _finished(api, body["id"], timeout=40)
    assert done["status"] == "timed_out", done["error"]
    assert "time limit of 3 seconds" in done["error"]
    _, run = await api("GET", f"compute-panel/runs/{done['run_id']}")
    assert run["end_reason"] == "time_limit" and run["duration_s"] < 20


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ({"path": "nope.ipynb", "tier_id": "local-cpu"}, 404, "path", "nope.ipynb"),
        ({"path": "ok.ipynb", "tier_id": "tpu-v9"}, 422, "tier_id", "not a tier"),
        ({"path": "ok.ipynb"}, 422, "tier_id", "required"),
        ({"path": "../ok.ipynb", "tier_id": "local-cpu"}, 422, "path", "inside the server root"),
        ({"path": "ok.txt", "tier_id": "local-cpu"}, 422, "path", ".ipynb"),
        ({"path": "ok.ipynb", "tier_id": "local-cpu", "time_limit_s": "soon"}, 422, "time_limit_s", "whole number"),
        ({"path": "ok.ipynb", "tier_id": "local-cpu", "time_limit_s": 0}, 422, "time_limit_s", "from 1"),
        # In the re-run dialog's unit (minutes), with no field id: the dialog sent 100000 minutes.
        (
            {"path": "ok.ipynb", "tier_id": "local-cpu", "time_limit_s": 6_000_000},
            422,
            "time_limit_s",
            "The time limit must be from 1 second to 1440 minutes, got 100000 minutes",
        ),
        ({"path": "ok.ipynb", "tier_id": "local-cpu", "speed": "max"}, 400, "speed", "not a field"),
        ({"path": "ok.ipynb", "tier_id": "h200", "grant_id": "old-grant"}, 403, "grant_id", "not active today"),
        ({"path": "ok.ipynb", "tier_id": "h200", "grant_id": "no-such"}, 403, "grant_id", "does not exist"),
    ],
)
async def test_bad_reruns_are_refused_by_field(jp_root_dir, api, grants, body, status, field, words):
    _write(jp_root_dir, "ok.ipynb", _notebook("1"))
    got, reply = await api("POST", "compute-panel/reruns", body)
    assert got == status, reply
    assert reply["field"] == field and words in reply["message"], reply


async def test_refused_rerun_is_recorded_without_a_run(jp_root_dir, api, grants):
    _write(jp_root_dir, "ok.ipynb", _notebook("1"))
    status, _ = await api(
        "POST", "compute-panel/reruns", {"path": "ok.ipynb", "tier_id": "h200", "grant_id": "old-grant"}
    )
    assert status == 403
    _, listing = await api("GET", "compute-panel/reruns", params={"path": "ok.ipynb"})
    assert [(r["status"], r["run_id"]) for r in listing["reruns"]] == [("refused", None)]


async def test_compare_errors(jp_root_dir, api, grants):
    status, body = await api("GET", "compute-panel/compare", params={"runs": "one"})
    assert status == 422 and body["field"] == "runs"
    status, body = await api("GET", "compute-panel/compare", params={"runs": "a,b", "rtol": "2"})
    assert status == 422 and body["field"] == "rtol"
    status, body = await api("GET", "compute-panel/compare", params={"runs": "a,b"})
    assert status == 404 and "'a'" in body["message"]


# -- the comparison itself --------------------------------------------------------------------------


def _executed(*outputs_per_cell, seconds=None) -> dict:
    nb = _notebook(*[f"cell{i}" for i in range(len(outputs_per_cell))])
    for i, (cell, outputs) in enumerate(zip(nb.cells[1:], outputs_per_cell, strict=True)):
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        if seconds:
            cell.metadata["execution"] = {
                "iopub.execute_input": "2026-01-01T00:00:00.000000Z",
                "shell.execute_reply": f"2026-01-01T00:00:{seconds[i]:09.6f}Z",
            }
    return nb


def _stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def _result(text):
    return {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"text/plain": text}}


def _image(data):
    return {"output_type": "display_data", "metadata": {}, "data": {"image/png": data, "text/plain": "<Figure>"}}


def _run(label, nb, cost="0", duration="10", env=None):
    from decimal import Decimal

    return RunInput(label, label, Decimal(duration), Decimal(cost), "USD", nb, env)


def test_numbers_within_a_relative_tolerance():
    assert text_distance("acc 0.8731", "acc 0.8731", 1e-12) == 0.0
    assert text_distance("acc 0.87310", "acc 0.87318", 1e-12) == pytest.approx(0.00008 / 0.87318)
    assert text_distance("acc 0.8731", "loss 0.8731", 1e-12) is None
    assert text_distance("[1.0, 2.0]", "[1.0, 2.0, 3.0]", 1e-12) is None
    assert text_distance("x 1e-17", "x 0.0", 1e-12) == 0.0  # below the absolute floor
    assert text_distance("nan", "nan", 1e-12) == 0.0
    assert text_distance("inf", "1e308", 1e-12) is None


def test_the_verdict_and_the_summary_line():
    cpu = _executed([_stream("acc 0.87310\n")], [_result("61.2")], [_image("aGVsbG8=")], seconds=[4.1, 8.2, 0.5])
    gpu = _executed([_stream("acc 0.87318\n")], [_result("61.2")], [_image("aGVsbG8=")], seconds=[1.0, 2.0, 0.1])
    result = compare_runs([_run("Local CPU", cpu), _run("H200", gpu, cost="0.42")], rtol=1e-3)
    assert result["verdict"] == "match_within_tolerance"
    assert (
        result["summary"]
        == "outputs match within 0.001; H200 was 4.1× faster and cost 0.42 USD more (Local CPU was free)"
    )
    assert [c["verdicts"][1] for c in result["cells"]] == ["within_tolerance", "same", "same"]
    assert result["cells"][0]["outputs"][0][0]["content"] == "acc 0.87310\n"  # shown where they differ
    assert "outputs" not in result["cells"][1]

    strict = compare_runs([_run("Local CPU", cpu), _run("H200", gpu)], rtol=1e-6)
    assert strict["verdict"] == "differ" and strict["differing_cells"] == [0]
    assert strict["summary"].startswith("outputs differ in 1 of 3 cells (first: cell 1)")


def test_images_compare_by_hash_and_costs_by_ratio():
    a = _executed([_image("aGVsbG8=")])
    b = _executed([_image("d29ybGQ=")])
    result = compare_runs(
        [_run("RTX 4090", a, cost="0.10", duration="100"), _run("H200", b, cost="0.23", duration="40")]
    )
    assert result["verdict"] == "differ"
    # No cell timings: the runs' durations in the ledger (100 s, 40 s) make no speed.
    assert result["timing"] == "none"
    assert result["summary"].endswith(
        "H200 cost 2.3× more; speed is not comparable: RTX 4090 and H200 recorded no cell timings"
    )


def test_missing_outputs_and_environment_diff():
    env_a = {"python": "3.11.4", "gpu": {"model": None}, "packages": {"list": ["numpy==2.1.0", "torch==2.5.1"]}}
    env_b = {
        "python": "3.11.4",
        "gpu": {"model": "NVIDIA H200"},
        "packages": {"list": ["numpy==2.1.0", "torch==2.5.1+cu124"]},
    }
    result = compare_runs([_run("A", _executed([])), _run("B", None)], rtol=1e-3)
    assert result["verdict"] == "incomplete"
    diff = compare_runs([_run("A", _executed([]), env=env_a), _run("B", _executed([]), env=env_b)])["environment"]
    assert diff["fields"] == [{"key": "gpu.model", "values": [None, "NVIDIA H200"]}]
    assert diff["packages"] == [{"name": "torch", "versions": ["2.5.1", "2.5.1+cu124"]}]


async def test_two_hundred_cells_compare(jp_root_dir):
    """Two 200-cell notebooks: every cell paired (the time is measured by make bench)."""
    cells = [[_stream(f"step {i}: loss {1 / (i + 1):.6f}\n"), _result(f"{i * 0.5}")] for i in range(200)]
    a, b = _executed(*cells), _executed(*cells)
    result = await asyncio.get_running_loop().run_in_executor(None, compare_runs, [_run("A", a), _run("B", b)])
    assert len(result["cells"]) == 200 and result["verdict"] == "match"


@pytest.mark.slow
async def test_the_demo_notebook_reruns_on_two_tiers_and_matches(jp_root_dir, api, grants):
    """examples/adversarial-robustness.ipynb: seeded, so two tiers on one machine agree exactly."""
    from pathlib import Path

    demo = Path(__file__).parent.parent / "examples" / "adversarial-robustness.ipynb"
    path = _write(jp_root_dir, "examples/adversarial-robustness.ipynb", json.loads(demo.read_text()))
    runs = []
    for tier in ("local-cpu", "h200"):
        status, body = await api("POST", "compute-panel/reruns", {"path": path, "tier_id": tier, "grant_id": G})
        assert status == 201, body
        done = await _finished(api, body["id"], timeout=180)
        assert done["status"] == "completed", done["error"]
        runs.append(done["run_id"])
    copy = json.loads((jp_root_dir / done["output"]).read_text())
    summary = copy["cells"][-1]["outputs"][0]["data"]["text/plain"]
    assert "'clean': 0.9" in "".join(summary)
    status, result = await api("GET", "compute-panel/compare", params={"runs": ",".join(runs)})
    assert status == 200, result
    assert result["verdict"] == "match", result["summary"]
    assert result["summary"].startswith("outputs are identical; H200 training")
