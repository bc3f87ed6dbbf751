"""deploy/kubernetes/, checked as far as no cluster is needed.

- ``gateway.yaml``: every document is a valid object of its kind for the Kubernetes API
  (the official client's models: required fields, types, and no unknown field), and the
  gateway's config in its secret starts a real compute gateway (its tiers' provisioner,
  gateway_provisioners' ``kubernetes-provisioner``, configured from a kubeconfig).
- ``values.yaml`` (Zero to JupyterHub): the hub's service, roles and server token scopes
  are the ones the lab tests run against a real JupyterHub (tests/lab/hub.py), and every
  scope is one JupyterHub knows; the users' lab-mode config file starts a real Jupyter
  server in lab mode.

Not run here: ``helm template`` against the z2jh chart (no chart offline), a cluster, a
kernel pod, or the network policies' enforcement (docs/deployment.md says so).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from servers import Server

from jupyterlab_compute_panel.hosts.lab import GATEWAY_AWAY, GATEWAY_CLIENT_CONFIG, MIXER_CONFIG

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"
MODELS = {
    "ServiceAccount": "V1ServiceAccount",
    "Role": "V1Role",
    "RoleBinding": "V1RoleBinding",
    "Secret": "V1Secret",
    "Deployment": "V1Deployment",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "Service": "V1Service",
    "NetworkPolicy": "V1NetworkPolicy",
}


def documents() -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / "gateway.yaml").read_text()) if d]


def _unknown_keys(given: object, kept: object, path: str = "") -> list[str]:
    if isinstance(given, dict):
        kept = kept if isinstance(kept, dict) else {}
        return [
            p
            for k, v in given.items()
            for p in ([f"{path}.{k}"] if k not in kept else _unknown_keys(v, kept[k], f"{path}.{k}"))
        ]
    if isinstance(given, list) and isinstance(kept, list):
        return [
            p for i, (a, b) in enumerate(zip(given, kept, strict=False)) for p in _unknown_keys(a, b, f"{path}[{i}]")
        ]
    return []


@pytest.mark.parametrize("doc", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_manifest_is_a_valid_kubernetes_object(doc):
    api = client.ApiClient()
    model = api.deserialize(json.dumps(doc), MODELS[doc["kind"]], "application/json")  # required fields and types
    kept = api.sanitize_for_serialization(model)
    assert _unknown_keys(doc, kept) == [], "fields the Kubernetes API does not know"


def test_only_the_gateway_mounts_the_secrets_and_runs_unprivileged():
    docs = {(d["kind"], d["metadata"]["name"]): d for d in documents()}
    pod = docs[("Deployment", "compute-gateway")]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "compute-gateway"
    assert pod["securityContext"]["runAsNonRoot"] is True
    (volume,) = [v for v in pod["volumes"] if "secret" in v]
    assert volume["secret"]["secretName"] == "compute-gateway-config" and volume["secret"]["defaultMode"] == 0o400
    ledger = docs[("NetworkPolicy", "ledger-db")]["spec"]["ingress"]
    assert ledger == [
        {
            "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "compute-gateway"}}}],
            "ports": [{"port": 5432, "protocol": "TCP"}],
        }
    ]


def _free_port() -> int:
    from conftest import free_port

    return free_port()


def test_the_gateways_config_in_its_secret_starts_a_gateway(tmp_path):
    secret = next(d for d in documents() if d["kind"] == "Secret")["stringData"]
    etc = tmp_path / "etc"
    etc.mkdir()
    port = _free_port()
    config = secret["gateway_config.py"].replace("/etc/compute-gateway", str(etc))
    config = config.replace("/var/lib/compute-gateway", str(tmp_path / "var"))
    config += f"\nc.ComputeGatewayApp.ip = '127.0.0.1'\nc.ComputeGatewayApp.port = {port}\n"
    (etc / "gateway_config.py").write_text(config)
    (etc / "tiers.yaml").write_text(secret["tiers.yaml"])
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "none", "user": {"token": "none"}}],
                "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
                "current-context": "none",
            }
        )
    )
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "JUPYTER_DATA_DIR": str(tmp_path / "var" / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "var" / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "COMPUTE_GATEWAY_HUB_TOKEN": "a-service-token",
        "COMPUTE_PANEL_DB_URL": f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        "GP_NAMESPACE": "lab-kernels",
        "GP_USE_INCLUSTER_CONFIG": "false",
        "KUBECONFIG": str(kubeconfig),
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    log = (tmp_path / "gateway.log").open("wb")
    command = [
        str(Path(sys.executable).with_name("jupyter-compute-panel")),
        "gateway",
        f"--config={etc / 'gateway_config.py'}",
    ]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        text = (tmp_path / "gateway.log").read_text()
        assert proc.poll() is None, text
        assert "compute-gateway: 1 tiers" in text, text
        request = urllib.request.Request(f"http://127.0.0.1:{port}/compute-panel/tiers")
        with pytest.raises(urllib.error.HTTPError) as refused:  # no Hub token: no user
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
    finally:
        proc.terminate()
        proc.wait(30)


def test_the_hub_values_are_the_ones_the_lab_tests_run():
    from jupyterhub.scopes import _check_scopes_exist
    from lab.hub import ACCESS_SCOPE, GATEWAY_SERVICE, SERVER_TOKEN_SCOPES

    hub = yaml.safe_load((DEPLOY / "values.yaml").read_text())["hub"]
    assert set(hub["services"]) == {GATEWAY_SERVICE}
    assert hub["services"][GATEWAY_SERVICE]["url"] == "http://compute-gateway:8890"
    assert hub["loadRoles"]["user"]["scopes"] == ["self", ACCESS_SCOPE]
    scopes = hub["config"]["KubeSpawner"]["server_token_scopes"]
    assert scopes == SERVER_TOKEN_SCOPES
    _check_scopes_exist([s for s in scopes + hub["loadRoles"]["user"]["scopes"] if s != "self"])


@pytest.mark.slow
def test_the_users_lab_mode_file_starts_a_server_in_lab_mode(tmp_path):
    single = yaml.safe_load((DEPLOY / "values.yaml").read_text())["singleuser"]
    (file,) = single["extraFiles"].values()
    assert file["mountPath"] == "/etc/jupyter/jupyter_server_config.py"
    text = file["stringData"]
    for key, value in {
        **{f"GatewayClient.{k}": v for k, v in GATEWAY_CLIENT_CONFIG.items()},
        **{f"ServerApp.{k}": v for k, v in MIXER_CONFIG.items()},
    }.items():
        assert f"c.{key} = {value!r}".replace("'", '"') in text, key
    away = f"http://127.0.0.1:{_free_port()}"
    server = Server(tmp_path / "user", {})
    (server.home / "config" / "jupyter_server_config.json").unlink()
    (server.home / "config" / "jupyter_server_config.py").write_text(text.replace("http://compute-gateway:8890", away))
    server.env["JUPYTERHUB_API_TOKEN"] = "alice-hub-token"
    server.start()
    try:
        status, body = server.request("GET", "/compute-panel/tiers")
        assert (status, body["message"]) == (503, GATEWAY_AWAY)
        assert "lab mode" in server.log.read_text()
    finally:
        server.close()
