"""``jupyter compute-panel gateway``: a bad setting is one line on stderr and exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GPU_TIER = {
    "id": "h200",
    "label": "H200 training",
    "reliability": "datacenter",
    "price": {"per_hour": "3.60", "currency": "USD", "source": "test", "date": "2026-11-01"},
    "backend": {"provisioner": "local-provisioner"},
}


def gateway(tmp_path: Path, config: dict) -> subprocess.CompletedProcess:
    (tmp_path / "gateway_config.json").write_text(json.dumps(config))
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERHUB_API_TOKEN": "unused",
        "JUPYTERHUB_API_URL": "http://127.0.0.1:1/hub/api",
    }
    if os.environ.get("PYTHONPATH"):  # a worktree tested against the checkout's environment
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    command = [str(Path(sys.executable).with_name("jupyter-compute-panel")), "gateway"]
    return subprocess.run(
        [*command, f"--config={tmp_path / 'gateway_config.json'}"], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "config, says",
    [
        (
            {"ComputePanel": {"tiers": [GPU_TIER], "db_url": "sqlite:///{tmp}/l.sqlite"}},
            "tier 'h200' runs its kernels on the gateway's own machine",
        ),
        ({"ComputePanel": {"heartbeat_interval": 0}}, "ComputePanel.heartbeat_interval: must be between"),
        ({"ComputePanel": {"heartbeat_interval": "fast"}}, "ComputePanel.heartbeat_interval: "),
        ({"ComputePanel": {"tiers": [{"id": "Bad Id"}]}}, "tier"),
    ],
    ids=["local-tier", "bad-panel-setting", "bad-panel-type", "bad-catalog"],
)
def test_a_bad_setting_is_one_line_and_exit_2(tmp_path, config, says):
    text = json.dumps(config).replace("{tmp}", str(tmp_path))
    done = gateway(tmp_path, json.loads(text))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jupyter compute-panel gateway: "), done.stderr
    assert says in lines[0]
    assert "Traceback" not in done.stderr


def test_a_gateway_setting_of_the_wrong_type_is_jupyters_one_line(tmp_path):
    """Settings of the application itself are checked by traitlets while the file loads:
    Jupyter's own one line ('Bad config encountered ...'), exit status 1, as for jupyter lab."""
    done = gateway(tmp_path, {"ComputeGatewayApp": {"allow_local_tiers": "maybe"}})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "'allow_local_tiers' trait of a ComputeGatewayApp" in lines[0], done.stderr
