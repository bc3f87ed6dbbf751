"""Fixtures of the lab tests: real Unix users, a real JupyterHub, the compute gateway as its
own account with its ledger and secrets at mode 600 (tests marked ``lab``)."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import GRANT_A, free_port

from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.ledger import Ledger

from .gateway import GatewayProcess, gateway_home
from .hub import Hub
from .users import GATEWAY_USER, PI, STUDENTS, ensure_lab_users

# A hub user in the gateway's admin group: administers every grant without a role on it.
ADMIN, ADMIN_GROUP = "dana", "compute-admins"
GRANT = {**GRANT_A, "id": "nsf-lab", "pi": PI, "members": [f"{s}:member" for s in STUDENTS]}
# Five starts' worth: each start reserves 15 minutes of the tier's 3.60 USD/h (0.90).
RACE_GRANT = {**GRANT, "id": "nsf-race", "award_number": "NSF RACE-1", "budget": "4.50"}
# Ten seconds of the tier, no minimum runtime, stopped when spent.
TINY_GRANT = {
    **GRANT,
    "id": "nsf-tiny",
    "award_number": "NSF TINY-1",
    "budget": "0.01",
    "min_runtime_minutes": 0,
    "hard_stop": True,
}
# Paid tiers on the gateway's machine (allow_local_tiers): the tests of identity, authorization
# and restarts need kernels, not a node; the SSH tier's test uses the node.
TIERS = [
    {
        "id": "h200",
        "label": "H200 training",
        "price": {"per_hour": "3.60", "currency": "USD", "source": "the lab's test price", "date": "2026-11-01"},
        "simulated": True,
        "reliability": "datacenter",
        "hardware": {"gpu": {"model": "NVIDIA H200 SXM", "count": 1, "memory_gb": 141}},
        "backend": {"provisioner": "local-provisioner"},
    },
]


@pytest.fixture(scope="session")
def lab_users():
    return ensure_lab_users()


@pytest.fixture(scope="module")
def lab_db(lab_users):
    """The gateway's SQLite ledger in its own home (mode 700), seeded with carol's grant."""
    account = lab_users[GATEWAY_USER]
    folder = gateway_home() / f"ledger-{free_port()}"
    folder.mkdir(mode=0o700, parents=True)
    url = f"sqlite:///{folder / 'ledger.sqlite'}"
    ledger = Ledger(url)
    ledger.migrate()
    for grant in (GRANT, RACE_GRANT, TINY_GRANT):
        ledger.upsert_grant(parse_grant(grant))
    ledger.dispose()
    for path in (folder, *folder.iterdir()):
        os.chown(path, account.pw_uid, account.pw_gid)
    yield url
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def gateway_port():
    return free_port()


@pytest.fixture(scope="module")
def hub(tmp_path_factory, lab_users, gateway_port):
    hub = Hub(
        tmp_path_factory.mktemp("hub"),
        f"http://127.0.0.1:{gateway_port}",
        users=[*STUDENTS, PI, ADMIN],
        groups={ADMIN_GROUP: [ADMIN]},
    ).start()
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def gateway(hub, lab_db, gateway_port):
    extra = {"HubIdentityProvider": {"admin_groups": [ADMIN_GROUP]}}
    process = GatewayProcess(hub, gateway_port, lab_db, TIERS, extra=extra).start()
    yield process
    process.stop()
    shutil.rmtree(process.home, ignore_errors=True)


@pytest.fixture(scope="module")
def tokens(hub):
    return {user: hub.token_for(user) for user in (*STUDENTS, PI, ADMIN)}
