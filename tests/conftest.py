"""Fixtures: a real in-process Jupyter server with the extension, real kernels, real databases.

The markers (registered in pyproject.toml) say what a test needs beyond the Python
environment: ``postgres`` a PostgreSQL server of its own, ``netns`` the SSH tier's second
host; ``slow`` marks the tests of 2 s or more. A test whose prerequisite is missing is
skipped with the sentence of tests/prerequisites.py that names it; with ``--require-all``
or COMPUTE_PANEL_REQUIRE_ALL=1 (``make test``, CI) it fails with that sentence instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import prerequisites
import pytest

from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.ledger import Ledger

pytest_plugins = ("pytest_jupyter.jupyter_server",)

HEARTBEAT = 1.0

REQUIRE_ALL_ENV = "COMPUTE_PANEL_REQUIRE_ALL"
# Fixtures that need a prerequisite, and the marker every test using them must carry.
PREREQUISITE_FIXTURES = {"postgres_url": "postgres", "node": "netns"}


def pytest_addoption(parser):
    parser.addoption(
        "--require-all",
        action="store_true",
        default=False,
        help="fail, rather than skip, a test whose prerequisite (PostgreSQL, the SSH test host) is missing; "
        f"also set by {REQUIRE_ALL_ENV}=1. `make test` and CI pass it.",
    )


def require_all(config) -> bool:
    env = os.environ.get(REQUIRE_ALL_ENV, "").strip().lower()
    return config.getoption("--require-all") or env in ("1", "true", "yes")


def missing_prerequisite(config, sentence: str):
    """Skip the test with the sentence naming what is missing, or fail it with it under --require-all."""
    if require_all(config):
        pytest.fail(f"{sentence} [a failure, not a skip: --require-all or {REQUIRE_ALL_ENV}=1]", pytrace=False)
    pytest.skip(sentence)


def pytest_collection_modifyitems(config, items):
    """A test that uses a prerequisite's fixture must carry its marker, so that `-m` selects it truly."""
    unmarked = [
        f"{item.nodeid} uses the fixture {fixture} but is not marked @pytest.mark.{marker}"
        for item in items
        for fixture, marker in PREREQUISITE_FIXTURES.items()
        if fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker(marker) is None
    ]
    if unmarked:
        raise pytest.UsageError("\n".join(unmarked))


_missing_counts: dict[str, int] = {}  # marker -> tests it skipped or failed this session


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture: a test marked with a prerequisite that is missing is skipped (or failed)."""
    for marker, check in prerequisites.CHECKS.items():
        if item.get_closest_marker(marker) is not None:
            sentence = check()
            if sentence is not None:
                _missing_counts[marker] = _missing_counts.get(marker, 0) + 1
                missing_prerequisite(item.config, sentence)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Each missing prerequisite once, at the end, with how many tests it took out."""
    if not _missing_counts:
        return
    done = "failed" if require_all(config) else "skipped"
    terminalreporter.section("missing prerequisites")
    for marker, count in _missing_counts.items():
        terminalreporter.write_line(f"{marker} ({count} {done}): {prerequisites.CHECKS[marker]()}")
    if not require_all(config):
        terminalreporter.write_line(f"`make test` (--require-all, or {REQUIRE_ALL_ENV}=1) fails these instead.")


GRANT_A = {
    "id": "nsf-cns-2401234",
    "award_number": "NSF CNS-2401234",
    "title": "Robustness of vision models under adversarial perturbation",
    "funder": "National Science Foundation",
    "pi": "alice",
    "budget": "5000.00",
    "currency": "USD",
    "start_date": "2025-09-01",
    "end_date": "2028-08-31",
}
GRANT_EXPIRED = {
    **GRANT_A,
    "id": "old-grant",
    "award_number": "DOE SC-0001",
    "title": "An ended award",
    "start_date": "2020-01-01",
    "end_date": "2021-01-01",
}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger' / 'ledger.sqlite'}"


@pytest.fixture
def panel_config(db_url: str) -> dict:
    return {
        "db_url": db_url,
        "heartbeat_interval": HEARTBEAT,
        "reconcile_interval": 2.0,
        "owner": "alice",
    }


@pytest.fixture
def jp_server_config(panel_config: dict) -> dict:
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyterlab_compute_panel": True},
            "allow_unauthenticated_access": False,
            "allow_root": True,
        },
        "ComputePanel": panel_config,
        "MappingKernelManager": {"default_kernel_name": "python3"},
    }


@pytest.fixture
def ledger(db_url: str):
    ledger = Ledger(db_url)
    ledger.migrate()
    yield ledger
    ledger.dispose()


@pytest.fixture
def grants(jp_serverapp, ledger):
    """Two grants in the server's ledger: one active, one ended."""
    for grant in (GRANT_A, GRANT_EXPIRED):
        ledger.upsert_grant(parse_grant(grant))
    return GRANT_A["id"], GRANT_EXPIRED["id"]


@pytest.fixture
def service(jp_serverapp):
    service = jp_serverapp.web_app.settings["compute_panel_service"]
    assert service is not None, jp_serverapp.web_app.settings.get("compute_panel_error")
    return service


@pytest.fixture
def api(jp_fetch):
    """JSON requests to /compute-panel/...; returns (status, body) without raising."""
    from tornado.httpclient import HTTPClientError

    async def call(method: str, path: str, body=None, params=None):
        kwargs = {"method": method}
        if body is not None:
            kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
        if params:
            kwargs["params"] = params
        try:
            response = await jp_fetch(*path.strip("/").split("/"), **kwargs)
        except HTTPClientError as e:
            if e.response is None:
                raise
            text = e.response.body.decode() if e.response.body else "{}"
            return e.code, json.loads(text or "{}")
        return response.code, json.loads(response.body.decode() or "{}")

    return call


def assert_error(status: int, body: dict, expected_status: int, field: str | None = None, contains: str = ""):
    """Every refusal is JSON with a one-line message, and names the field at fault."""
    assert status == expected_status, body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert "\n" not in body["message"]
    assert "Traceback" not in body["message"]
    assert body.get("field") == field, body
    assert contains in body["message"], body


@pytest.fixture
def raw(jp_serverapp, http_server_client, jp_base_url, jp_auth_header):
    """A request with a hand-written path and query (repeated parameters), and chosen headers."""

    async def call(method: str, path_and_query: str, body=None, headers=None, auth: bool = True):
        all_headers = dict(jp_auth_header) if auth else {}
        all_headers.update(headers or {})
        if body is None and method in ("PUT", "POST", "PATCH"):
            body = ""
        response = await http_server_client.fetch(
            jp_base_url + path_and_query,
            method=method,
            body=body,
            headers=all_headers,
            raise_error=False,
            follow_redirects=False,
        )
        try:
            payload = json.loads(response.body or b"null")
        except ValueError:
            payload = response.body
        return response.code, response.headers, payload

    return call


async def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll an (async or sync) predicate until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        await asyncio.sleep(interval)


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free now and never handed out before in this test session.

    Servers started side by side each ask for a port before any of them binds it, and the
    kernel may offer a port just closed again; a server whose port was taken would then
    answer on another (jupyter_server retries the next ports), and a test would talk to its
    neighbour. The servers are started with ``port_retries=0`` as well, so a clash fails loudly.
    """
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


@pytest.fixture(scope="session")
def postgres_url(request):
    """A real PostgreSQL server in a temporary folder, on a free port, for this test session
    (tests using it are marked ``postgres``)."""
    sentence = prerequisites.postgres()
    if sentence is not None:
        missing_prerequisite(request.config, sentence)
    bindir = prerequisites.postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="compute-panel-pg-"))
    data = root / "data"
    user_args: list[str] = []
    env = dict(os.environ)
    run_as: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: run it as the 'postgres' (or 'nobody') user.
        owner = "postgres" if _user_exists("postgres") else "nobody"
        shutil.chown(root, owner)
        run_as = ["runuser", "-u", owner, "--"]
    port = free_port()
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "compute", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        env=env,
    )
    log = root / "pg.log"
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
            *user_args,
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    try:
        subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "compute", "ledger"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://compute@127.0.0.1:{port}/ledger"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


def new_postgres_database(postgres_url: str) -> str:
    """A fresh, empty database on the session's PostgreSQL server; its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db_url(request, tmp_path) -> str:
    """A fresh ledger URL: SQLite, then a real PostgreSQL; tests using it run on both (the
    PostgreSQL case is marked ``postgres``)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'any-ledger.sqlite'}"
    return new_postgres_database(request.getfixturevalue("postgres_url"))


def assert_grant_spend_matches_runs(ledger: Ledger) -> dict:
    """The rollup tables equal, row for row and to the micro-unit, brute-force sums over the
    closed runs charged to a grant: ``grant_day_spend`` (each run counted whole on the UTC
    day it started, by tier) and ``grant_notebook_spend`` (by user and notebook). Returns
    the day rows, {(grant, day, tier): [cost, runs]}."""
    from collections import defaultdict

    from sqlalchemy import select

    from jupyterlab_compute_panel.ledger.models import NO_NOTEBOOK_KEY, GrantDaySpend, GrantNotebookSpend, Run

    by_day: dict = defaultdict(lambda: [0, 0])
    by_notebook: dict = defaultdict(lambda: [0, 0])
    with ledger.session() as s:
        for run in s.scalars(select(Run).where(Run.ended.is_not(None), Run.grant_id.is_not(None))):
            notebook = NO_NOTEBOOK_KEY if run.notebook is None else run.notebook
            for cell in (
                by_day[(run.grant_id, run.started.date(), run.tier_id)],
                by_notebook[(run.grant_id, run.user, notebook)],
            ):
                cell[0] += run.cost_micros
                cell[1] += 1
        days = {(r.grant_id, r.day, r.tier_id): [r.cost_micros, r.runs] for r in s.scalars(select(GrantDaySpend))}
        notebooks = {
            (r.grant_id, r.user, r.notebook): [r.cost_micros, r.runs] for r in s.scalars(select(GrantNotebookSpend))
        }
    assert days == dict(by_day)
    assert notebooks == dict(by_notebook)
    return days


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _json_schema(node, components):
    """An OpenAPI 3.0 schema as JSON Schema: ``nullable`` as a null type, references inlined."""
    if isinstance(node, list):
        return [_json_schema(n, components) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    out = {k: _json_schema(v, components) for k, v in node.items() if k not in ("nullable", "example")}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def assert_compare_contract(answer: dict) -> None:
    """The answer is what openapi.yaml says GET /compare answers."""
    from pathlib import Path

    import jsonschema
    import yaml

    spec = yaml.safe_load((Path(__file__).parents[1] / "jupyterlab_compute_panel" / "openapi.yaml").read_text())
    schema = spec["paths"]["/compare"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(answer, _json_schema(schema, spec["components"]["schemas"]))
