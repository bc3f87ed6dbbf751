"""The compute gateway as the lab runs it: its own Unix account, its secrets at mode 600.

``GatewayProcess`` writes the gateway's config (the Hub's service token, the ledger's URL,
the catalog) into the gateway account's home at mode 600 and starts
``jupyter compute-panel gateway --config=FILE`` as that account, so a test can kill it with
SIGKILL and start it again on the same port, ledger and state folder.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .hub import GATEWAY_SERVICE, Hub, json_request
from .users import GATEWAY_USER, write_secret

HEARTBEAT = 0.5


def gateway_home() -> Path:
    return Path(pwd.getpwnam(GATEWAY_USER).pw_dir)


class GatewayProcess:
    def __init__(self, hub: Hub, port: int, db_url: str, tiers: list[dict], *, extra: dict | None = None):
        self.hub = hub
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.account = pwd.getpwnam(GATEWAY_USER)
        self.home = self.home_for(port)
        self.state_dir = self.home / "state"
        config = {
            "ComputeGatewayApp": {
                "ip": "127.0.0.1",
                "port": port,
                "port_retries": 0,
                "state_dir": str(self.state_dir),
                "allow_local_tiers": True,
            },
            "HubIdentityProvider": {"service_name": GATEWAY_SERVICE},
            "HubAuth": {"api_url": hub.api_url, "api_token": hub.gateway_token, "cache_max_age": 0},
            "ComputePanel": {
                "db_url": db_url,
                "tiers": tiers,
                "heartbeat_interval": HEARTBEAT,
                "reconcile_interval": 2.0,
                "kernelspec_dir": str(self.home / "data" / "kernels"),
            },
        }
        for section, values in (extra or {}).items():
            config.setdefault(section, {}).update(values)
        self.config_file = write_secret(self.account, self.home / "gateway_config.json", json.dumps(config))
        for sub in ("data", "runtime", "state"):
            (self.home / sub).mkdir(mode=0o700, exist_ok=True)
            os.chown(self.home / sub, self.account.pw_uid, self.account.pw_gid)
        self.log = self.home.parent / f"gateway-{port}.log"
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def home_for(port: int) -> Path:
        return gateway_home() / f"gw-{port}"

    def pid(self) -> int:
        """The gateway's own process (runuser's child)."""
        assert self.proc is not None
        return _child_of(self.proc.pid) or self.proc.pid

    def start(self, timeout: float = 60) -> GatewayProcess:
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(self.home),
            "JUPYTER_CONFIG_DIR": str(self.home / "config"),
            "JUPYTER_DATA_DIR": str(self.home / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "PYTHONUNBUFFERED": "1",
        }
        if os.environ.get("PYTHONPATH"):  # a worktree tested against the checkout's environment
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        command = [
            str(Path(sys.executable).with_name("jupyter-compute-panel")),
            "gateway",
            f"--config={self.config_file}",
        ]
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            ["runuser", "-u", GATEWAY_USER, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), *command],
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the gateway exited: {self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(self.url + "/api", timeout=5).read()
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"the gateway did not start: {self.log.read_text()[-3000:]}")

    def request(self, method: str, path: str, body: object = None, token: str | None = None) -> tuple[int, object]:
        return json_request(self.url + path, method, body, token)

    def kill(self) -> None:
        """SIGKILL, as an OOM killer or a crash would: nothing of the gateway runs its shutdown."""
        assert self.proc is not None
        # runuser forwards signals to its child, but SIGKILL cannot be forwarded: kill the gateway itself.
        os.kill(self.pid(), signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _child_of(pid: int) -> int | None:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None
