"""Every operation of openapi.yaml fuzzed by schemathesis against a real Jupyter server.

The server is a real jupyter_server subprocess with the extension (token login), on a
ledger holding real things to find: grants (one the user is PI of, one ended, one they only
view), runs of real kernels (one still open on a paid tier, with its captured environment,
one closed), two finished re-runs of a notebook, and budget alerts. Schemathesis (``st
run``) sends every operation its four phases: the spec's examples, coverage (boundary and
hostile values for every parameter, missing and extra fields, undeclared methods), fuzzing
(random values, half of the path ids drawn from the real ones so that validation past the
lookup is reached), and stateful sequences that follow the links it infers between
operations. The run is deterministic (schemathesis' deterministic generation) and bounded
(``FUZZ_EXAMPLES`` cases per operation and phase, about 1,800 requests); it fails on:

- a 5xx (``not_a_server_error``);
- a response the spec does not describe: status, content type, headers, body schema;
- a schema-invalid request accepted, or a schema-valid one refused as malformed (400);
  the operations whose bodies the core also checks against state or settings (a grant's
  dates and tiers, a re-run's tier, notebook and time limit) may answer 422 to valid JSON;
- an undeclared method answered without 405 and its ``Allow`` header;
- an operation that answers without credentials, or with wrong ones (``ignored_auth``),
  which test_api.py also asserts for every operation;
- a resource still reachable after its DELETE, or not right after its creation.

Run it alone with ``pytest tests/test_api_fuzz.py`` (``-k sqlite`` for the SQLite ledger
only; the PostgreSQL case is marked ``postgres``); ``COMPUTE_PANEL_FUZZ_EXAMPLES=200`` makes
a deeper run. On a failure the test shows schemathesis' report, with a curl command per
failing case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import GRANT_A, GRANT_EXPIRED
from servers import Server

from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.ledger import Ledger

pytestmark = pytest.mark.slow

SPEC = Path(__file__).resolve().parents[1] / "jupyterlab_compute_panel" / "openapi.yaml"
FUZZ_EXAMPLES = int(os.environ.get("COMPUTE_PANEL_FUZZ_EXAMPLES", "25"))
TOKEN = "fuzz-token"
GRANT_VIEWED = {
    **GRANT_A,
    "id": "erc-viewed",
    "award_number": "ERC StG 1",
    "pi": "carol",
    "members": [{"user": "alice", "role": "viewer"}],
}
NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [], "source": "6 * 7"}
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}
# Statuses that say "this valid request was understood" (schemathesis' default), plus 422
# where the core checks a valid body against state or settings no schema can hold.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
SEMANTIC_422 = {
    "POST /grants": "a grant's end before its start, tiers not in the catalog, thresholds and minutes out of range",
    "PATCH /grants/{grant_id}": "the changed grant is validated whole, like POST /grants",
    "POST /reruns": "the tier must be in the catalog, the notebook's kernel on it, the limit under a setting",
}


def _get(server: Server, path: str, ok: int = 200):
    status, body = server.request("GET", path)
    assert status == ok, (path, status, body)
    return body


def _until(what: str, probe, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def seed(server: Server, ledger: Ledger) -> dict[str, list[str]]:
    """Make real kernels, runs, re-runs and alerts through the server; their ids."""
    status, paid = server.request("POST", "/api/kernels", {"name": "compute-panel-rtx4090-python3"})
    assert status == 201, paid
    status, free = server.request("POST", "/api/kernels", {"name": "compute-panel-local-cpu-python3"})
    assert status == 201, free
    assert server.request("DELETE", f"/api/kernels/{free['id']}")[0] == 204
    reruns = []
    for _ in range(2):
        status, rerun = server.request("POST", "/compute-panel/reruns", {"path": "fuzz.ipynb", "tier_id": "local-cpu"})
        assert status == 201, rerun
        reruns.append(rerun["id"])
    for rerun_id in reruns:
        _until("a re-run to finish", lambda r=rerun_id: _get(server, f"/compute-panel/reruns/{r}")["ended"])
    open_run = _get(server, f"/compute-panel/kernels/{paid['id']}/run")["id"]
    _until(
        "the paid kernel's environment",
        lambda: server.request("GET", f"/compute-panel/runs/{open_run}/environment")[0] == 200,
    )
    runs = [r["id"] for r in _get(server, "/compute-panel/runs")["runs"]]
    assert open_run in runs and len(runs) == 4, runs
    alerts = ledger.record_alerts(GRANT_A["id"], 5_000_000_000, [50, 80], 4_100_000_000)
    return {
        "grants": [GRANT_A["id"], GRANT_EXPIRED["id"], GRANT_VIEWED["id"]],
        "runs": runs,
        "kernels": [paid["id"], free["id"]],
        "reruns": reruns,
        "alerts": [a.id for a in alerts if a.recipient == "alice"],
        "users": ["alice", "bob", "carol"],
        "notebooks": ["fuzz.ipynb"],
        "tiers": ["local-cpu", "rtx4090", "h200"],
    }


def fuzz_config(base_url: str, ids: dict[str, list[str]], reports: Path) -> dict:
    """schemathesis.toml for this run (docs: the configuration reference of schemathesis 4)."""
    bound = {
        # A real id half of the time, else a generated one (404s, hostile text).
        "path.grant_id": "grants",
        "path.run_id": "runs",
        "path.kernel_id": "kernels",
        "path.rerun_id": "reruns",
        "path.alert_id": "alerts",
        "path.user": "users",
        "query.path": "notebooks",
        "body.path": "notebooks",
        "body.grant_id": "grants",
        "body.tier_id": "tiers",
        "body.source_run_id": "runs",
        "query.grant": "grants",
        "query.kernel": "kernels",
        "query.tier": "tiers",
    }
    return {
        "base-url": f"{base_url}/compute-panel",
        "workers": 1,
        "headers": {"Authorization": f"token {TOKEN}"},
        "request-timeout": 30,
        "generation": {
            "max-examples": FUZZ_EXAMPLES,
            "deterministic": True,
            # PostgreSQL stores no NUL in text: the API refuses it with a 400 everywhere
            # (test_hostile_input.py), which would read here as a valid value refused.
            "allow-x00": False,
            "database": "none",
        },
        "phases": {"stateful": {"max-steps": 12}},
        "checks": {
            # jupyter_server answers 403, not 401, to a request without credentials; that
            # answer is asserted for every operation by ignored_auth and by test_api.py.
            "missing_required_header": {"enabled": False},
            # It needs two users, and a token server has one.
            "object_level_authorization": {"enabled": False},
        },
        "dictionaries": {name: {"values": values} for name, values in ids.items()},
        "parameters": {key: {"dictionary": name, "probability": 0.5} for key, name in bound.items()},
        "operations": [
            {
                "include-name": name,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            }
            for name in SEMANTIC_422
        ],
        "reports": {"directory": str(reports), "junit": {"enabled": True}},
    }


def toml(config: dict) -> str:
    """The config as TOML: top-level values, then tables and arrays of tables; deeper
    mappings inline. (The standard library reads TOML but does not write it.)"""

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"

    def table(d: dict) -> list[str]:
        return [f"{json.dumps(k)} = {value(v)}" for k, v in d.items()]

    plain = {k: v for k, v in config.items() if not isinstance(v, (dict, list))}
    lines = table(plain)
    for key, v in config.items():
        if key in plain:
            continue
        if isinstance(v, dict):
            lines += ["", f"[{key}]", *table(v)]
        else:
            for item in v:
                lines += ["", f"[[{key}]]", *table(item)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def target(tmp_path, any_db_url):
    ledger = Ledger(any_db_url)
    ledger.migrate()
    for grant in (GRANT_A, GRANT_EXPIRED, GRANT_VIEWED):
        ledger.upsert_grant(parse_grant(grant))
    config = {
        "db_url": any_db_url,
        "owner": "alice",
        "admins": ["alice"],
        "default_grant": GRANT_A["id"],
        "heartbeat_interval": 1.0,
        # Re-runs the fuzzer starts stop within a minute.
        "rerun_time_limit": 30,
        "rerun_max_time_limit": 60,
    }
    server = Server(tmp_path / "home", config, token=TOKEN)
    (server.home / "root" / "fuzz.ipynb").write_text(json.dumps(NOTEBOOK))
    server.start()
    try:
        yield server, seed(server, ledger)
    finally:
        server.close()
        ledger.dispose()


def test_every_operation_survives_schemathesis(target, tmp_path):
    server, ids = target
    config = tmp_path / "schemathesis.toml"
    config.write_text(toml(fuzz_config(server.url, ids, tmp_path / "reports")))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", str(SPEC), "--no-color"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"schemathesis failed (exit {done.returncode}):\n{report[-20000:]}"
    summary = report[report.rfind("SUMMARY") :]
    operations = sum(1 for item in yaml.safe_load(SPEC.read_text())["paths"].values() for method in item)
    assert f"Selected: {operations}/{operations}" in summary and f"Tested: {operations}" in summary, summary
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in summary, summary
    print(f"schemathesis: {time.monotonic() - started:.0f} s\n{report[report.find('WARNINGS') :]}")
