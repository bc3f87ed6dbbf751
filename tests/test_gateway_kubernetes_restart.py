"""A gateway killed while a Kubernetes kernel ran: at restart it deletes the kernel's pod.

No cluster here: the Kubernetes API is a local HTTP server answering, in the API's own
shapes, the two calls gateway_provisioners' ``kubernetes-provisioner`` makes to find and
delete a kernel's pod (``list_namespaced_pod`` by the kernel's labels,
``delete_namespaced_pod``), and recording them. What was not run: a real cluster, a pod.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from conftest import free_port

from jupyterlab_compute_panel.hosts.gateway.kernels import STATE_FILE

pytestmark = pytest.mark.slow

KERNEL = "5d0c5a1e-9b7e-4c55-8f0e-2d2b1e7c9a10"
NAMESPACE = "lab-kernels"
POD = f"alice-{KERNEL}"
TIER = {
    "id": "a100-k8s",
    "label": "A100 training (Kubernetes)",
    "reliability": "datacenter",
    "hardware": {"gpu": {"model": "NVIDIA A100 SXM", "count": 1, "memory_gb": 80}},
    "price": {"per_hour": "1.85", "currency": "USD", "source": "test", "date": "2026-07-01"},
    "backend": {"provisioner": "kubernetes-provisioner", "config": {"image_name": "lab/kernel:1"}},
}


class KubernetesAPI(BaseHTTPRequestHandler):
    """The pod of one kernel, as the Kubernetes API describes it; every request recorded."""

    calls: list[tuple[str, str, dict]] = []
    deleted = False

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _pod(self, phase: str) -> dict:
        return {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"name": POD, "namespace": NAMESPACE, "labels": {"kernel_id": KERNEL, "component": "kernel"}},
            "status": {"phase": phase, "podIP": "10.1.2.3", "hostIP": "10.0.0.5"},
        }

    def do_GET(self) -> None:
        url = urlparse(self.path)
        KubernetesAPI.calls.append(("GET", url.path, parse_qs(url.query)))
        items = [] if KubernetesAPI.deleted else [self._pod("Running")]
        self._answer({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})

    def do_DELETE(self) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        KubernetesAPI.calls.append(("DELETE", url.path, body))
        KubernetesAPI.deleted = True
        self._answer(self._pod("Succeeded"))

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def kubernetes_api():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), KubernetesAPI)
    KubernetesAPI.calls = []
    KubernetesAPI.deleted = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_kernel_pod_left_by_a_killed_gateway_is_deleted_at_restart(tmp_path, kubernetes_api):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    # The record a gateway keeps for a Kubernetes kernel (GatewayKernelManager._entry):
    # its owner and run, and the backend's own persistence info (get_provisioner_info).
    record = {
        KERNEL: {
            "user": "alice",
            "run_id": None,
            "pid": None,
            "pid_started": None,
            "kernelspec": "compute-panel-a100-k8s-python3",
            "tier": "a100-k8s",
            "backend": "kubernetes-provisioner",
            # jupyter_client's base fields, gateway_provisioners' remote and Kubernetes ones.
            "info": {
                "kernel_id": KERNEL,
                "connection_info": {},
                "pid": None,
                "pgid": None,
                "ip": None,
                "assigned_ip": "10.1.2.3",
                "assigned_host": POD,
                "comm_ip": None,
                "comm_port": 0,
                "tunneled_connect_info": None,
                "assigned_node_ip": "10.0.0.5",
                "kernel_ns": NAMESPACE,
                "delete_ns": False,
            },
        }
    }
    (state / STATE_FILE).write_text(json.dumps(record))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "lab", "cluster": {"server": kubernetes_api}}],
                "users": [{"name": "gateway", "user": {"token": "gateway-sa-token"}}],
                "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "gateway", "namespace": NAMESPACE}}],
                "current-context": "lab",
            }
        )
    )
    port = free_port()
    config = {
        "ComputeGatewayApp": {"ip": "127.0.0.1", "port": port, "port_retries": 0, "state_dir": str(state)},
        "HubIdentityProvider": {"service_name": "compute-gateway"},
        "HubAuth": {"api_url": "http://127.0.0.1:1/hub/api", "api_token": "unused"},
        "ComputePanel": {"db_url": f"sqlite:///{tmp_path / 'ledger.sqlite'}", "tiers": [TIER]},
    }
    (tmp_path / "gateway_config.json").write_text(json.dumps(config))
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "GP_NAMESPACE": NAMESPACE,
        "GP_USE_INCLUSTER_CONFIG": "false",
        "KUBECONFIG": str(kubeconfig),
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    log = tmp_path / "gateway.log"
    command = [str(Path(sys.executable).with_name("jupyter-compute-panel")), "gateway"]
    proc = subprocess.Popen(
        [*command, f"--config={tmp_path / 'gateway_config.json'}"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        assert proc.poll() is None, log.read_text()
        deletes = [c for c in KubernetesAPI.calls if c[0] == "DELETE"]
        assert [(path, body.get("gracePeriodSeconds")) for _, path, body in deletes] == [
            (f"/api/v1/namespaces/{NAMESPACE}/pods/{POD}", 0)
        ], KubernetesAPI.calls
        (found,) = [c for c in KubernetesAPI.calls if c[0] == "GET"][:1]
        assert found[2]["labelSelector"] == [f"kernel_id={KERNEL},component=kernel"]
        text = log.read_text()
        assert f"stopped kernel {KERNEL} of alice (kubernetes-provisioner) left running by a stopped gateway" in text
        assert json.loads((state / STATE_FILE).read_text()) == {}
    finally:
        proc.terminate()
        proc.wait(30)
