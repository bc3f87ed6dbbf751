"""A pytest plugin for jupyter_server's own tests, run by scripts/peer_tests.py.

Loaded with ``-p peer_plugin`` in both runs of the peer step:

- ``--peer-outcomes=FILE`` records every test's outcome by node id (with the first line of
  its failure), written to FILE as JSON when the session ends, so that the two runs can be
  compared test by test.
- ``--peer-load-extension`` enables jupyterlab_compute_panel in every test's server the way
  an installed wheel does: its ``jupyter_server_config.d`` file in the environment's config
  path, which pytest-jupyter points at the test's temporary folder (the server config of the
  test itself, ``jp_server_config``, stays the test's own). After each test that started
  servers, it checks that the extension was linked and loaded in each of them: metering
  with its ledger in the test's temporary folder, or, where the server's gateway client is
  configured, disabled with its one log line (the kernels are the gateway's). A test whose
  server lacks it fails with the reason, so the step cannot pass with the extension missing.

This module imports nothing of jupyterlab_compute_panel unless the extension is loaded.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

EXTENSION = "jupyterlab_compute_panel"
# What the wheel installs into <prefix>/etc/jupyter/jupyter_server_config.d (pyproject.toml).
SERVER_CONFIG = Path(__file__).resolve().parents[1] / "jupyter-config" / "server-config" / f"{EXTENSION}.json"
DISABLED = "jupyterlab-compute-panel is disabled:"
GATEWAY_SENTENCE = "this server sends its kernels to a gateway"

_STARTED = pytest.StashKey[list]()  # the ServerApps a test started
_DISABLED_LINES = pytest.StashKey[list]()  # the extension's "is disabled" log lines during the test
_TMP = pytest.StashKey[Path]()
_SERVERS = pytest.StashKey[dict]()  # how many servers ran the extension, by mode


def pytest_addoption(parser):
    group = parser.getgroup("peer", "jupyterlab_compute_panel's peer tests (scripts/peer_tests.py)")
    group.addoption("--peer-outcomes", default=None, help="write every test's outcome to this JSON file")
    group.addoption(
        "--peer-load-extension",
        action="store_true",
        default=False,
        help=f"enable {EXTENSION} in every test's server and check that it loaded",
    )


def pytest_configure(config):
    config.stash[_SERVERS] = {"metering": 0, "gateway": 0}
    path = config.getoption("peer_outcomes")
    if path:
        config.pluginmanager.register(Outcomes(config, Path(path)), "peer-outcomes")


# ---- outcomes ---------------------------------------------------------------------------


def _first_line(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    return (text.strip().splitlines() or [""])[0][:300]


def final_outcome(phases: dict) -> str:
    """One outcome for a test from its phases: an error in collection, set-up or teardown
    counts as a failure."""
    outcomes = {phase: value["outcome"] for phase, value in phases.items()}
    if any(outcome in ("failed", "error") for outcome in outcomes.values()):
        return "failed"
    return outcomes.get("call") or outcomes.get("setup") or "skipped"


class Outcomes:
    """Every test's outcome by node id, written as JSON when the session ends."""

    def __init__(self, config, path: Path) -> None:
        self.config = config
        self.path = path
        self.phases: dict[str, dict] = {}

    def _record(self, nodeid: str, phase: str, outcome: str, message: str = "") -> None:
        self.phases.setdefault(nodeid, {})[phase] = {"outcome": outcome, "message": message}

    def pytest_runtest_logreport(self, report):
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
        elif report.skipped:
            outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        elif report.when == "call":
            outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
        else:
            return
        # A later report of the same phase (a rerun by the flaky plugin) replaces the earlier one.
        self._record(report.nodeid, report.when, outcome, _first_line(report) if report.failed else "")

    def pytest_collectreport(self, report):
        if report.failed:
            self._record(report.nodeid, "collect", "error", _first_line(report))

    def pytest_sessionfinish(self, session):
        tests = {
            nodeid: {
                "outcome": final_outcome(phases),
                "message": next((p["message"] for p in phases.values() if p["message"]), ""),
            }
            for nodeid, phases in self.phases.items()
        }
        servers = self.config.stash[_SERVERS]
        self.path.write_text(json.dumps({"tests": tests, "servers": servers}, indent=1) + "\n")


# ---- the extension, loaded and checked ------------------------------------------------------


@pytest.fixture(autouse=True)
def _compute_panel_installed(request, monkeypatch):
    """Enable the extension in this test's Jupyter config path, and note each server started."""
    if not request.config.getoption("peer_load_extension"):
        return
    from jupyter_server.serverapp import ServerApp

    config_d = request.getfixturevalue("jp_env_config_path") / "jupyter_server_config.d"
    config_d.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SERVER_CONFIG, config_d / SERVER_CONFIG.name)

    item = request.node
    started: list = []
    item.stash[_STARTED] = started
    item.stash[_TMP] = request.getfixturevalue("tmp_path")
    original = ServerApp.start_app

    def start_app(self, *args, **kwargs):
        started.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ServerApp, "start_app", start_app)
    # The extension logs through its ExtensionApp's own logger, which traitlets configures and
    # keeps from propagating: count its lines where every logger hands a record on.
    lines: list = []
    item.stash[_DISABLED_LINES] = lines
    handle = logging.Logger.handle

    def counting_handle(self, record):
        if record.levelno >= logging.ERROR and record.getMessage().startswith(DISABLED):
            lines.append(record.getMessage())
        return handle(self, record)

    monkeypatch.setattr(logging.Logger, "handle", counting_handle)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield  # a test that failed on its own is reported as it is
    started = item.stash.get(_STARTED, None)
    if started:
        servers = item.config.stash[_SERVERS]
        modes = {serverapp: check_loaded(serverapp, item.stash[_TMP]) for serverapp in started}
        for mode in modes.values():
            servers[mode] += 1
        # The extension loads at each start (a test may start the same ServerApp twice):
        # one line per load where the gateway client disables it, none elsewhere.
        lines = item.stash[_DISABLED_LINES]
        expected = sum(modes[serverapp] == "gateway" for serverapp in started)
        assert len(lines) == expected, (
            f"{EXTENSION} logged {len(lines)} 'is disabled' lines in this test, not {expected} "
            f"(one per load with the gateway client configured): {lines}"
        )
    return result


def _route_patterns(router):
    for rule in getattr(router, "rules", ()):
        regex = getattr(rule.matcher, "regex", None)
        if regex is not None:
            yield regex.pattern
        yield from _route_patterns(rule.target)


def check_loaded(serverapp, tmp_path: Path) -> str:
    """How the extension ran in ``serverapp``: "metering", or "gateway" (disabled, as it must
    be there); raises AssertionError with the reason when it did not load as it should."""
    from jupyterlab_compute_panel.metering import hosting

    manager = serverapp.extension_manager
    where = f"{EXTENSION} in the test's server"
    package = manager.extensions.get(EXTENSION)
    assert package is not None and package.enabled, (
        f"{where}: not enabled (extensions: {sorted(manager.extensions)}); its jupyter_server_config.d file was not read"
    )
    assert manager.linked_extensions.get(EXTENSION), f"{where}: enabled but never linked"
    settings = serverapp.web_app.settings
    assert "compute_panel_service" in settings, f"{where}: linked but its initialize_settings never ran (load failed)"
    patterns = list(_route_patterns(serverapp.web_app.default_router))
    assert any("compute-panel/" in pattern for pattern in patterns), f"{where}: loaded but no /compute-panel/ route"
    service = settings["compute_panel_service"]
    error = settings.get("compute_panel_error")
    attached = getattr(serverapp.kernel_manager, hosting.ATTRIBUTE, None)
    gateway = getattr(serverapp, "gateway_config", None)
    if gateway is not None and gateway.gateway_enabled:
        assert service is None and error and error.startswith(GATEWAY_SENTENCE), (
            f"{where}: with the gateway client configured it must disable itself "
            f"({GATEWAY_SENTENCE} ...), but its state is service={service!r}, error={error!r}"
        )
        assert isinstance(attached, Exception) and str(attached) == error, (
            f"{where}: the gateway kernel manager does not carry the reason ({attached!r})"
        )
        return "gateway"
    assert service is not None and error is None, f"{where}: disabled ({error})"
    assert attached is service, f"{where}: its service is not attached to the server's kernel manager"
    location = service.ledger_location
    assert str(tmp_path) in location, f"{where}: the ledger {location} is not in the test's folder {tmp_path}"
    return "metering"
