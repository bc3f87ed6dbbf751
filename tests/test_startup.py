"""A bad setting disables the extension with one log line; it never stops Jupyter from starting.

Each case starts a real ``python -m jupyter_server`` subprocess, configured on the command
line, with the extension enabled the way an installed wheel enables it
(``<prefix>/etc/jupyter/jupyter_server_config.d``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import free_port

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file
from jupyterlab_compute_panel.metering import kernelspecs

# Every test shares the module's servers, whose start-up takes several seconds.
pytestmark = pytest.mark.slow

TOKEN = "secret"
DISABLED = "jupyterlab-compute-panel is disabled:"

BAD_CATALOG = """\
tiers:
  - id: local-cpu
    label: Local CPU
    price: {per_hour: "0", currency: USD}
    reliability: local
  - id: rtx4090
    label: RTX 4090
    price: {per_hour: "-0.50", currency: USD, source: a list, date: 2026-11-01}
    reliability: community
"""

# name: (command-line settings, the one-line reason as a regular expression)
CASES = {
    "bad-catalog": (
        ["--ComputePanel.catalog_file={tmp}/bad.yaml"],
        re.escape("tier 'rtx4090': price.per_hour: must not be negative, got '-0.50'"),
    ),
    "bad-heartbeat": (
        ["--ComputePanel.heartbeat_interval=0"],
        re.escape("ComputePanel.heartbeat_interval: must be between 0.5 and 3600 seconds, got 0.0"),
    ),
    "bad-db-url": (
        ["--ComputePanel.db_url=notaurl"],
        re.escape("ComputePanel.db_url: 'notaurl' is not a database URL (e.g. sqlite:////path/ledger.sqlite)"),
    ),
    # jupyter_server's gateway client configured: its kernels are the gateway's, not ours to meter
    # (the kernelspec manager is async there; loading used to raise an AttributeError).
    "gateway-mode": (
        ["--GatewayClient.url=http://127.0.0.1:9"],
        re.escape(
            "this server sends its kernels to a gateway (GatewayClient.url = http://127.0.0.1:9), so it meters "
            "none of them; set ComputePanel.lab_mode = True for the lab's compute gateway (docs/deployment.md)"
        ),
    ),
    # Not a number at all: traitlets refuses it while jupyter_server links the extension.
    "bad-type": (["--ComputePanel.heartbeat_interval=fast"], r"ComputePanel\.heartbeat_interval: .*'fast'.*"),
}


@dataclass
class Server:
    name: str
    tmp: Path
    port: int
    process: subprocess.Popen
    stderr_path: Path
    expected: str

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def request(self, path: str, method: str = "GET", body: dict | None = None, token: str | None = TOKEN):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url(path), data=data, method=method)
        if token is not None:
            request.add_header("Authorization", f"token {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text or b"null")
            except ValueError:
                return e.code, text.decode(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def _start(name: str, root: Path) -> Server:
    args, expected = CASES[name]
    tmp = root / name
    for sub in ("config", "data", "runtime", "root"):
        (tmp / sub).mkdir(parents=True)
    (tmp / "bad.yaml").write_text(BAD_CATALOG)
    if name == "bad-catalog":
        # Tier kernelspecs left behind by an earlier, healthy start (see the provisioner test).
        from jupyter_client.kernelspec import KernelSpecManager

        base, _ = kernelspecs.base_kernelspecs(KernelSpecManager(), ["python3"])
        kernelspecs.sync(kernelspecs.derive(read_catalog_file(DEMO_CATALOG), base), base, tmp / "data" / "kernels")
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        HOME=str(tmp),
    )
    # Keep the venv's share/jupyter (kernels, lab assets) and etc/jupyter (extension enabled) visible.
    env.pop("JUPYTER_CONFIG_PATH", None)
    env.pop("JUPYTER_NO_CONFIG", None)
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in [str(Path(sys.prefix) / "share" / "jupyter"), env.get("JUPYTER_PATH", "")] if p
    )
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ip=127.0.0.1",
        "--no-browser",
        "--allow-root",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={tmp / 'root'}",
        *(a.format(tmp=tmp) for a in args),
    ]
    if not any(a.startswith("--ComputePanel.db_url=") for a in args):
        argv.append(f"--ComputePanel.db_url=sqlite:///{tmp / 'l.sqlite'}")
    stderr_path = tmp / "stderr.log"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            argv, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
    return Server(name, tmp, port, process, stderr_path, expected)


def _wait_until_up(server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"{server.name}: jupyter_server exited with {server.process.returncode}:\n{server.stderr()}"
            )
        try:
            status, _ = server.request("api/contents")  # api/status asks a gateway, when one is configured
            if status == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"{server.name}: jupyter_server did not answer in {timeout}s:\n{server.stderr()}")


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        try:
            os.killpg(server.process.pid, signal.SIGTERM)  # the server and any kernel it started
        except ProcessLookupError:
            return
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """All cases' servers, started side by side (start-up dominates these tests)."""
    root = tmp_path_factory.mktemp("startup")
    started: dict[str, Server] = {}
    try:
        for name in CASES:
            started[name] = _start(name, root)
        for server in started.values():
            _wait_until_up(server)
        yield started
    finally:
        for server in started.values():
            _stop(server)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_setting_disables_the_extension_not_jupyter(servers, name):
    server = servers[name]
    stderr = server.stderr()
    assert "Traceback" not in stderr, stderr
    disabled = [line for line in stderr.splitlines() if DISABLED in line]
    assert len(disabled) == 1, stderr
    reason = disabled[0].split(f"{DISABLED} ", 1)[1]
    assert re.fullmatch(server.expected, reason), reason

    # Jupyter itself works.
    status, body = server.request("api/contents")
    assert status == 200 and body["type"] == "directory"

    # The extension says why it is off.
    status, body = server.request("compute-panel/version")
    assert status == 200
    assert body["catalog_error"] == reason
    assert body["owner"] is None

    for path in ("compute-panel/tiers", "compute-panel/grants", "compute-panel/runs"):
        status, body = server.request(path)
        assert status == 503, (path, body)
        assert body == {"message": f"Compute tiers are unavailable: {reason}", "field": None}

    # Still authenticated while disabled.
    status, _ = server.request("compute-panel/version", token=None)
    assert status == 403


def test_no_tier_kernelspecs_are_written_while_disabled(servers):
    kernels = servers["bad-heartbeat"].tmp / "data" / "kernels"
    assert not kernels.exists() or not any(kernels.glob("compute-panel-*"))


def test_stale_tier_kernelspec_is_refused_while_disabled(servers):
    server = servers["bad-catalog"]
    status, body = server.request("api/kernels", "POST", {"name": "compute-panel-local-cpu-python3"})
    if status == 201:
        server.request(f"api/kernels/{body['id']}", "DELETE")
    assert status in (403, 500, 503), body
    assert "unavailable" in json.dumps(body)
    assert not (server.tmp / "data" / "compute_panel" / "ledger.sqlite").exists()
