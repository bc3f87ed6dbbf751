"""Real Unix users for the lab tests: the students, the PI and the gateway's own account.

Made idempotently with ``useradd`` (an existing user is kept). The gateway's secrets (its
config, the ledger's URL, the catalog) are written into its home owned by it at mode 600,
so that no user's server or kernel can read them.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

STUDENTS = ("alice", "bob")
PI = "carol"
GATEWAY_USER = "compute-gateway"


def ensure_user(name: str, *, system: bool = False) -> pwd.struct_passwd:
    """The Unix user ``name``, created with a home of its own if it does not exist."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    command = ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group"]
    if system:
        command += ["--system", "--home-dir", f"/var/lib/{name}"]
    subprocess.run([*command, name], check=True, capture_output=True, text=True, timeout=30)
    return pwd.getpwnam(name)


def ensure_lab_users() -> dict[str, pwd.struct_passwd]:
    users = {name: ensure_user(name) for name in (*STUDENTS, PI)}
    users[GATEWAY_USER] = ensure_user(GATEWAY_USER, system=True)
    return users


def write_secret(owner: pwd.struct_passwd, path: Path, text: str) -> Path:
    """``text`` at ``path``, owned by ``owner``, mode 600 (its folder 700)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chown(path.parent, owner.pw_uid, owner.pw_gid)
    path.parent.chmod(0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chown(path, owner.pw_uid, owner.pw_gid)
    path.chmod(0o600)
    return path


def run_as(user: str, command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """``command`` as the Unix user ``user`` (runuser, as root), its output captured."""
    return subprocess.run(["runuser", "-u", user, "--", *command], capture_output=True, text=True, **kwargs)
