"""The lab's Unix users and the gateway's secrets: real accounts, real file modes."""

from __future__ import annotations

import pwd
import stat
from pathlib import Path

import pytest

from .users import GATEWAY_USER, ensure_lab_users, run_as, write_secret

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def users():
    return ensure_lab_users()


def test_users_are_made_once(users):
    again = ensure_lab_users()
    assert {n: u.pw_uid for n, u in again.items()} == {n: u.pw_uid for n, u in users.items()}
    assert set(users) == {"alice", "bob", "carol", GATEWAY_USER}
    assert len({u.pw_uid for u in users.values()}) == 4


def test_the_gateways_secrets_are_its_alone(users):
    gateway = users[GATEWAY_USER]
    home = pwd.getpwnam(GATEWAY_USER).pw_dir
    secret = write_secret(gateway, Path(home) / "secrets" / "ledger-url", "postgresql://gateway:pw@db/ledger\n")
    mode = secret.stat()
    assert stat.S_IMODE(mode.st_mode) == 0o600 and mode.st_uid == gateway.pw_uid
    as_gateway = run_as(GATEWAY_USER, ["cat", str(secret)], timeout=30)
    assert as_gateway.returncode == 0 and "postgresql://" in as_gateway.stdout
    for student in ("alice", "bob", "carol"):
        attempt = run_as(student, ["cat", str(secret)], timeout=30)
        assert attempt.returncode != 0 and "Permission denied" in attempt.stderr
