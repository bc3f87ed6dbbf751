"""The galata lab: a real JupyterHub, the compute gateway and users' servers in lab mode.

The web-server command of ``playwright.lab.config.js`` (needs root, as tests/lab/ does):
it makes the lab's Unix users, a PostgreSQL ledger only the gateway's role may write, the
compute gateway as its own account (the H200 tier's kernels on its machine:
``allow_local_tiers``, a test's shortcut), and a JupyterHub on ``UI_LAB_PORT`` whose
spawner starts alice's and bob's servers as those users, in lab mode, with galata's
helpers. It writes the hub's URL, the password and each user's API token to
``$COMPUTE_PANEL_LAB_INFO`` and runs until stopped.

!! Never use this configuration in production: galata's helpers expose JupyterLab's
objects on the page and turn XSRF checks off in the users' servers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import prerequisites  # noqa: E402 - from the path above


def main() -> int:
    missing = prerequisites.lab() or prerequisites.postgres()
    if missing:
        print(f"lab_server: {missing}", file=sys.stderr)
        return 1
    import jupyterlab
    from conftest import free_port
    from lab.conftest import GRANT, TIERS
    from lab.gateway import GatewayProcess
    from lab.hub import PASSWORD, Hub, user_server_config
    from lab.ledger_db import LabPostgres
    from lab.users import PI, STUDENTS, ensure_lab_users

    from jupyterlab_compute_panel.domain.grants import parse_grant
    from jupyterlab_compute_panel.ledger import Ledger

    ensure_lab_users()
    info_file = Path(os.environ.get("COMPUTE_PANEL_LAB_INFO", HERE / ".lab-data" / "lab.json"))
    info_file.parent.mkdir(parents=True, exist_ok=True)
    etc = Path(tempfile.mkdtemp(prefix="compute-panel-lab-etc-"))
    etc.chmod(0o755)
    db = LabPostgres().start()
    hub = gateway = None
    try:
        ledger = Ledger(db.gateway_url)
        ledger.migrate()
        ledger.upsert_grant(parse_grant(GRANT))
        ledger.dispose()
        port = free_port()
        galata = Path(jupyterlab.__file__).parent / "galata"
        config = user_server_config(f"http://127.0.0.1:{port}") + (
            f"c.LabServerApp.extra_labextensions_path = {str(galata)!r}\n"
            "c.LabApp.expose_app_in_browser = True\n"
            "c.ServerApp.disable_check_xsrf = True\n"
        )
        (etc / "jupyter_server_config.py").write_text(config)
        (etc / "jupyter_server_config.py").chmod(0o644)
        hub_port = int(os.environ.get("UI_LAB_PORT", "8899"))
        hub = Hub(Path(tempfile.mkdtemp(prefix="compute-panel-lab-hub-")), f"http://127.0.0.1:{port}", [*STUDENTS, PI])
        hub.port = hub_port
        hub.url = f"http://127.0.0.1:{hub_port}"
        hub.spawner_environment.update(JUPYTER_CONFIG_PATH=str(etc))
        if os.environ.get("PYTHONPATH"):
            hub.spawner_environment["PYTHONPATH"] = os.environ["PYTHONPATH"]
        hub.start()
        extra = {"ComputePanel": {"heartbeat_interval": 2.0}}
        gateway = GatewayProcess(hub, port, db.gateway_url, TIERS, extra=extra).start()
        tokens = {user: hub.token_for(user, scopes=[f"access:servers!user={user}"]) for user in STUDENTS}
        info = {
            "hub": hub.url,
            "password": PASSWORD,
            "tokens": tokens,
            "grant": GRANT["id"],
            # The grant's PI changes roles on the gateway, as the dashboard would.
            "gateway": f"http://127.0.0.1:{port}",
            "pi_token": hub.token_for(PI),
        }
        info_file.write_text(json.dumps(info))
        print(f"lab_server: the lab's hub at {hub.url}/hub/login", flush=True)
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        while not stop:
            time.sleep(0.5)
    finally:
        # Each part stopped whatever happened to the others (Playwright signals the group).
        if hub is not None:
            hub.spawned.update(STUDENTS)  # spawned at their logins, by the browser
            hub.close()
            shutil.rmtree(hub.root, ignore_errors=True)
        if gateway is not None:
            gateway.stop()
            shutil.rmtree(gateway.home, ignore_errors=True)
        db.close()
        shutil.rmtree(etc, ignore_errors=True)
        info_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
