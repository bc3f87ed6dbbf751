"""A real JupyterHub for the lab tests: its proxy, its database, its users and their tokens.

The hub runs as root (as a lab's hub does) with configurable-http-proxy, the dummy
authenticator (one shared password: the users are real Unix accounts, the password is
the test's) and the local process spawner, so each user's server runs as that user. Two
services are registered: the compute gateway (``GATEWAY_SERVICE``, at the URL the gateway
will listen on) and ``lab-admin``, the test's own service, which makes users' tokens.
The user role and every server's token carry the gateway's access scope, as
docs/deployment.md configures a lab.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import free_port
from prerequisites import configurable_http_proxy

from jupyterlab_compute_panel.hosts.lab import GATEWAY_CLIENT_CONFIG, MIXER_CONFIG

GATEWAY_SERVICE = "compute-gateway"
ACCESS_SCOPE = f"access:services!service={GATEWAY_SERVICE}"
# What a user's server token holds in the lab: the hub's defaults plus the gateway's access.
SERVER_TOKEN_SCOPES = ["users:activity!user", "access:servers!server", ACCESS_SCOPE, "read:users:groups!user"]
PASSWORD = "lab-test-password"


def json_request(
    url: str, method: str, body: object = None, token: str | None = None, timeout: float = 60
) -> tuple[int, object]:
    """(status, JSON answer or its text) of one request, with a Hub-style token if given."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"token {token}"
    request = urllib.request.Request(
        url, data=None if body is None else json.dumps(body).encode(), method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


class Hub:
    def __init__(self, root: Path, gateway_url: str, users: list[str], groups: dict[str, list[str]] | None = None):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)
        self.port = free_port()
        self.hub_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"http://127.0.0.1:{self.hub_port}/hub/api"
        self.gateway_url = gateway_url
        self.gateway_token = secrets.token_hex(24)
        self.admin_token = secrets.token_hex(24)
        self.users = users
        self.groups = groups or {}
        self.spawner_environment: dict[str, str] = {}
        self.singleuser_cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
        self.log = root / "hub.log"
        self.proc: subprocess.Popen | None = None
        self.spawned: set[str] = set()

    def config(self) -> str:
        lines = {
            "c.JupyterHub.bind_url": self.url,
            "c.JupyterHub.hub_bind_url": f"http://127.0.0.1:{self.hub_port}",
            "c.JupyterHub.db_url": f"sqlite:///{self.root / 'jupyterhub.sqlite'}",
            "c.JupyterHub.cookie_secret_file": str(self.root / "cookie_secret"),
            "c.JupyterHub.cleanup_servers": True,
            "c.JupyterHub.authenticator_class": "dummy",
            "c.DummyAuthenticator.password": PASSWORD,
            "c.Authenticator.allowed_users": set(self.users),
            "c.JupyterHub.spawner_class": "localprocess",
            "c.Spawner.cmd": self.singleuser_cmd,
            "c.Spawner.environment": self.spawner_environment,
            "c.Spawner.server_token_scopes": SERVER_TOKEN_SCOPES,
            "c.Spawner.start_timeout": 60,
            "c.Spawner.http_timeout": 60,
            "c.ConfigurableHTTPProxy.command": [configurable_http_proxy()],
            "c.ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{free_port()}",
            "c.ConfigurableHTTPProxy.pid_file": str(self.root / "proxy.pid"),
            "c.JupyterHub.load_groups": {name: {"users": members} for name, members in self.groups.items()},
            "c.JupyterHub.services": [
                {"name": GATEWAY_SERVICE, "url": self.gateway_url, "api_token": self.gateway_token, "display": False},
                {"name": "lab-admin", "api_token": self.admin_token},
            ],
            "c.JupyterHub.load_roles": [
                {"name": "user", "scopes": ["self", ACCESS_SCOPE]},
                {
                    "name": "lab-admin",
                    "scopes": ["admin:users", "admin:servers", "tokens", "list:users", "read:users"],
                    "services": ["lab-admin"],
                },
            ],
        }
        return "".join(f"{key} = {value!r}\n" for key, value in lines.items())

    def start(self, timeout: float = 90) -> Hub:
        (self.root / "jupyterhub_config.py").write_text(self.config())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(self.root / "jupyterhub_config.py")],
            cwd=self.root,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the hub exited: {self.log.read_text()[-3000:]}")
            try:
                if self.api("GET", "/")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"the hub did not start: {self.log.read_text()[-3000:]}")

    def api(self, method: str, path: str, body: object = None, token: str | None = None) -> tuple[int, object]:
        return json_request(self.api_url + path, method, body, token or self.admin_token)

    def spawn(self, user: str, timeout: float = 90) -> None:
        """Start ``user``'s server (as that Unix user) and wait until the hub says it is ready."""
        status, body = self.api("POST", f"/users/{user}/server")
        assert status in (201, 202, 400), (status, body)  # 400: already running
        self.spawned.add(user)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, model = self.api("GET", f"/users/{user}")
            server = (model.get("servers") or {}).get("") if isinstance(model, dict) else None
            if server and server.get("ready"):
                return
            time.sleep(0.5)
        raise AssertionError(f"{user}'s server did not start: {self.log.read_text()[-3000:]}")

    def stop_server(self, user: str, timeout: float = 30) -> None:
        """Stop ``user``'s server and wait until the hub says it is gone."""
        self.api("DELETE", f"/users/{user}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, model = self.api("GET", f"/users/{user}")
            if not isinstance(model, dict) or not model.get("servers"):
                break
            time.sleep(0.3)
        self.spawned.discard(user)

    def server_request(
        self, user: str, token: str | None, method: str, path: str, body: object = None
    ) -> tuple[int, object]:
        """A request to ``user``'s server through the hub's proxy, as a browser's API call."""
        return json_request(f"{self.url}/user/{user}{path}", method, body, token, timeout=90)

    def token_for(self, user: str, scopes: list[str] | None = None) -> str:
        """A new API token of ``user`` with the scopes of a lab server's token (or ``scopes``)."""
        status, body = self.api(
            "POST", f"/users/{user}/tokens", {"scopes": scopes or SERVER_TOKEN_SCOPES, "note": "lab test"}
        )
        assert status == 201, (status, body)
        return body["token"]

    def close(self) -> None:
        """Stop the users' servers, the hub, and its proxy.

        A hub stopped before it finished starting (it waits for its services for a while)
        exits without stopping its proxy: the proxy is stopped here by its pid file then."""
        if self.proc is not None and self.proc.poll() is None:
            for user in sorted(self.spawned):
                try:
                    self.stop_server(user)
                except OSError:  # the hub is going already (a signal to the whole group)
                    break
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            pid = int((self.root / "proxy.pid").read_text().strip())
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            pass


def user_server_config(gateway_url: str) -> str:
    """The single-user image's config in lab mode, as docs/deployment.md gives it."""
    lines = [
        "import os",
        "c.ComputePanel.lab_mode = True",
        f"c.GatewayClient.url = {gateway_url!r}",
        'c.GatewayClient.auth_token = os.environ["JUPYTERHUB_API_TOKEN"]',
        *(f"c.GatewayClient.{k} = {v!r}" for k, v in GATEWAY_CLIENT_CONFIG.items()),
        *(f"c.ServerApp.{k} = {v!r}" for k, v in MIXER_CONFIG.items()),
        'c.MixingKernelSpecManager.remote_display_name_suffix = ""  # the tier labels say where they run',
    ]
    return "\n".join(lines) + "\n"
