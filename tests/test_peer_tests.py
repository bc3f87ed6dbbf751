"""The peer step (scripts/peer_tests.py, `make peers`): its comparison of the two runs, its
unpacking of the sdist, and its plugin's check that the extension loaded in a test's server.

The step itself runs jupyter_server's own suites; these tests make sure it cannot pass for
the wrong reason: a regression hidden by the comparison, the sdist's jupyter_server shadowing
the installed one, or a server in which the extension never loaded.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import peer_tests  # noqa: E402
from peer_plugin import final_outcome  # noqa: E402


def outcomes(**tests: str) -> dict[str, dict]:
    return {nodeid.replace("__", "::"): {"outcome": outcome, "message": ""} for nodeid, outcome in tests.items()}


def test_a_test_that_passes_without_the_extension_and_fails_with_it_is_a_regression():
    without = outcomes(a="passed", b="passed", c="failed", d="skipped", e="failed", f="passed", g="xfailed")
    with_ = outcomes(a="passed", b="failed", c="failed", d="failed", e="passed", g="xfailed")
    result = peer_tests.compare(without, with_)
    # f is missing with the extension: its module no longer imports there.
    assert result.regressions == ["b", "d", "f"]
    assert result.both == ["c"]
    assert result.only_without == ["e"]


def test_a_skip_with_the_extension_of_a_test_that_passed_without_it_is_a_regression():
    result = peer_tests.compare(outcomes(a="passed"), outcomes(a="skipped"))
    assert result.regressions == ["a"]


def test_a_failed_set_up_or_teardown_fails_the_test():
    passed = {"outcome": "passed", "message": ""}
    error = {"outcome": "error", "message": "boom"}
    assert final_outcome({"setup": passed, "call": passed, "teardown": error}) == "failed"
    assert final_outcome({"setup": {"outcome": "skipped", "message": ""}}) == "skipped"
    assert final_outcome({"setup": passed, "call": passed, "teardown": passed}) == "passed"


def _sdist(path: Path, version: str, extra: dict[str, bytes] | None = None) -> Path:
    top = f"jupyter_server-{version}"
    files = {
        f"{top}/PKG-INFO": f"Metadata-Version: 2.4\nName: jupyter_server\nVersion: {version}\n".encode(),
        f"{top}/pyproject.toml": b"[tool.pytest.ini_options]\n",
        f"{top}/tests/__init__.py": b"",
        f"{top}/tests/conftest.py": b"",
        f"{top}/tests/services/kernels/test_api.py": b"def test_x(): pass\n",
        f"{top}/jupyter_server/__init__.py": b"raise ImportError('the sdist copy must not be importable')\n",
        **(extra or {}),
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo(f"{top}/tests/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    return path


def test_only_the_sdists_tests_and_pytest_settings_are_unpacked_once(tmp_path: Path):
    sdist = _sdist(tmp_path / "jupyter_server-9.1.0.tar.gz", "9.1.0")
    folder = peer_tests.unpack_tests(sdist, "9.1.0", tmp_path)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        ".unpacked",
        "pyproject.toml",
        "tests/__init__.py",
        "tests/conftest.py",
        "tests/services/kernels/test_api.py",
    ]
    assert not (folder / "tests" / "link").exists()  # a link out of the folder is left out
    # Unpacked once: a second call keeps what is there.
    (folder / "tests" / "mine.txt").write_text("kept")
    assert peer_tests.unpack_tests(sdist, "9.1.0", tmp_path) == folder
    assert (folder / "tests" / "mine.txt").exists()


def test_an_sdist_of_another_version_is_refused(tmp_path: Path):
    sdist = _sdist(tmp_path / "jupyter_server-9.1.0.tar.gz", "9.0.0")
    with pytest.raises(peer_tests.StepError, match=r"says it is version 9\.0\.0, not the installed 9\.1\.0"):
        peer_tests.unpack_tests(sdist, "9.1.0", tmp_path)


def test_an_archive_with_a_path_out_of_its_folder_is_refused(tmp_path: Path):
    sdist = _sdist(tmp_path / "jupyter_server-9.1.0.tar.gz", "9.1.0", {"../escape.py": b"x"})
    with pytest.raises(peer_tests.StepError, match="not an sdist with one top folder"):
        peer_tests.unpack_tests(sdist, "9.1.0", tmp_path)
    assert not (tmp_path.parent / "escape.py").exists()


# Four tests as jupyter_server's own are written: each test's server config is its own
# (parametrized jp_server_config), and the plugin enables the extension beside it.
PEER_MODULE = """
import pytest

async def test_plain(jp_fetch):
    response = await jp_fetch("api", "kernelspecs")
    assert response.code == 200

@pytest.mark.parametrize("jp_server_config", [{"ServerApp": {"jpserver_extensions": {"jupyterlab_compute_panel": False}}}])
def test_extension_turned_off(jp_serverapp):
    pass

@pytest.mark.parametrize("jp_server_config", [{"ComputePanel": {"heartbeat_interval": 0}}])
def test_bad_setting(jp_serverapp):
    pass

@pytest.fixture
def fresh_gateway_client():
    # GatewayClient is a singleton: one made by an earlier test's server would be reused, unconfigured.
    from jupyter_server.gateway.gateway_client import GatewayClient

    GatewayClient.clear_instance()
    yield
    GatewayClient.clear_instance()

@pytest.mark.parametrize("jp_server_config", [{"GatewayClient": {"url": "http://127.0.0.1:9"}}])
def test_gateway_client(fresh_gateway_client, jp_serverapp):
    assert jp_serverapp.gateway_config.gateway_enabled
"""


def run_with_plugin(tmp_path: Path, module: str, *options: str) -> tuple[dict, str]:
    """pytest with pytest-jupyter and the peer plugin on ``module``: its outcomes, and its output."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["pytest_jupyter.jupyter_server"]\n')
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:asyncio\ntimeout = 120\n")
    (tmp_path / "test_peer.py").write_text(textwrap.dedent(module))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SCRIPTS), env.get("PYTHONPATH", "")) if p)
    out = tmp_path / "outcomes.json"
    plugin = ["-p", "no:cacheprovider", "-p", "peer_plugin", f"--peer-outcomes={out}", *options]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, f"--basetemp={tmp_path / 'tmp'}", "-q", "test_peer.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = done.stdout[-4000:] + done.stderr[-2000:]
    assert out.exists(), output
    return json.loads(out.read_text()), output


@pytest.mark.slow
def test_the_plugin_fails_a_test_whose_server_did_not_load_the_extension(tmp_path: Path):
    recorded, output = run_with_plugin(tmp_path, PEER_MODULE, "--peer-load-extension")
    tests = {nodeid.split("::")[1].split("[")[0]: test for nodeid, test in recorded["tests"].items()}
    assert {name: test["outcome"] for name, test in tests.items()} == {
        "test_plain": "passed",
        "test_extension_turned_off": "failed",
        "test_bad_setting": "failed",
        "test_gateway_client": "passed",
    }, output
    assert "not enabled" in tests["test_extension_turned_off"]["message"]
    assert "disabled (ComputePanel.heartbeat_interval: must be between" in tests["test_bad_setting"]["message"]
    # Counted where it loaded as it should: metering, and disabled with its line for the gateway.
    assert recorded["servers"] == {"metering": 1, "gateway": 1}


@pytest.mark.slow
def test_the_run_without_the_extension_has_none_of_it(tmp_path: Path):
    # pytest-jupyter points the config path at the test's folder: this venv's own
    # etc/jupyter, which enables the extension, is not read.
    module = """
    def test_server(jp_serverapp):
        assert "jupyterlab_compute_panel" not in jp_serverapp.extension_manager.extensions
    """
    recorded, output = run_with_plugin(tmp_path, module)
    assert recorded["tests"] == {"test_peer.py::test_server": {"outcome": "passed", "message": ""}}, output
