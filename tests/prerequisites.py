"""What the test layers need from this machine beyond the Python environment.

Each check looks (without changing anything) for one prerequisite and returns None when
it is there, or one sentence naming what is missing and how to get it on Debian. The
sentence is what a test sees: conftest.py skips a test marked ``postgres`` or ``netns``
with it, or fails the test with it under ``--require-all`` (``make test``, CI).

    python tests/prerequisites.py    # what this machine lacks, layer by layer
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

SSHD = "/usr/sbin/sshd"  # the path tests/remote_node.py starts
POSTGRES_TOOLS = ("initdb", "pg_ctl", "createdb")  # what the postgres_url fixture runs
# Linux capability bits (linux/capability.h): a network namespace and its veth link need both.
CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21


def postgres_bindir() -> Path | None:
    """The folder of PostgreSQL's server programs: Debian's newest /usr/lib/postgresql/N/bin,
    else wherever initdb is on PATH."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


@functools.cache
def postgres() -> str | None:
    """For tests marked ``postgres``: a throwaway PostgreSQL server of their own."""
    bindir = postgres_bindir()
    if bindir is None:
        return (
            "PostgreSQL is not installed: no initdb under /usr/lib/postgresql/*/bin or on PATH "
            "(install the Debian package postgresql: apt-get install postgresql)."
        )
    lacking = [tool for tool in POSTGRES_TOOLS if not os.access(bindir / tool, os.X_OK)]
    if lacking:
        return (
            f"PostgreSQL in {bindir} lacks {', '.join(lacking)} "
            "(install the whole Debian package postgresql: apt-get install postgresql)."
        )
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return (
            "PostgreSQL refuses to run as root and runuser, which starts it as another user, "
            "is missing (Debian package util-linux)."
        )
    if importlib.util.find_spec("psycopg") is None:
        return "The Python package psycopg is missing: pip install -e '.[test]' (or 'psycopg[binary]')."
    return None


def _capabilities() -> int:
    """This process's effective capabilities, as a bit mask (0 when unreadable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError, IndexError):
        pass
    return 0


@functools.cache
def netns() -> str | None:
    """For tests marked ``netns``: the SSH tier's second host (tests/remote_node.py), a
    network namespace with a veth link and its own sshd."""
    missing: list[str] = []
    packages: list[str] = []
    root = os.geteuid() == 0
    if not root:
        missing.append("root (run pytest as root, e.g. with sudo)")
    else:
        caps = _capabilities()
        if not (caps >> CAP_SYS_ADMIN) & 1 or not (caps >> CAP_NET_ADMIN) & 1:
            missing.append(
                "the capabilities CAP_SYS_ADMIN and CAP_NET_ADMIN "
                "(in a container: docker run --cap-add SYS_ADMIN --cap-add NET_ADMIN, or --privileged)"
            )
    ip = shutil.which("ip")
    if ip is None:
        missing.append("the ip command (Debian package iproute2)")
        packages.append("iproute2")
    elif root:
        listed = subprocess.run([ip, "netns", "list"], capture_output=True, text=True, timeout=10)
        if listed.returncode != 0:
            said = (listed.stderr or listed.stdout).strip().splitlines()[-1:] or [f"exit {listed.returncode}"]
            missing.append(f"a working `ip netns` ({said[0]}; Debian package iproute2)")
    if not shutil.which("ssh-keygen"):
        missing.append("ssh-keygen (Debian package openssh-client)")
        packages.append("openssh-client")
    if not os.access(SSHD, os.X_OK):
        missing.append(f"sshd at {SSHD} (Debian package openssh-server)")
        packages.append("openssh-server")
    if not missing:
        return None
    how = f": apt-get install {' '.join(packages)}" if packages else ""
    return (
        "The SSH tier tests make a second host (a network namespace running its own sshd), "
        f"and this machine lacks {'; '.join(missing)}{how}."
    )


CHP = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "configurable-http-proxy"
LAB_TOOLS = ("useradd", "runuser")


def configurable_http_proxy() -> str | None:
    """The proxy JupyterHub starts: this checkout's devDependency, else /work/main's, else PATH."""
    for candidate in (CHP, Path("/work/main/node_modules/.bin/configurable-http-proxy")):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("configurable-http-proxy")


@functools.cache
def lab() -> str | None:
    """For tests marked ``lab``: real Unix users (alice, bob, carol, compute-gateway) and a
    real JupyterHub whose single-user servers run as them."""
    missing: list[str] = []
    if os.geteuid() != 0:
        missing.append("root (it creates Unix users and spawns servers as them)")
    for tool in LAB_TOOLS:
        if not shutil.which(tool):
            missing.append(f"{tool} (Debian packages passwd and util-linux)")
    if configurable_http_proxy() is None:
        missing.append("configurable-http-proxy (npm ci in the checkout installs it)")
    if importlib.util.find_spec("jupyterhub") is None:
        missing.append("the Python package jupyterhub (pip install -e '.[test]')")
    if not missing:
        checkout = Path(__file__).resolve().parents[1]
        unreachable = _blocked_for_others(Path(sys.executable).resolve(), checkout)
        if unreachable is None and checkout.stat().st_mode & 0o005 != 0o005:
            missing.append(
                f"a checkout other users can read ({checkout} is on their Python path, which Python lists: "
                f"chmod o+rx {checkout}, as .ci/run does)"
            )
        elif unreachable:
            missing.append(
                f"a Python and a checkout other users can reach ({unreachable} is closed to them: "
                f"chmod o+x {unreachable}, as .ci/run does)"
            )
    if not missing:
        return None
    return f"The lab tests make real Unix users and a real JupyterHub, and this machine lacks {'; '.join(missing)}."


def _blocked_for_others(*paths: Path) -> Path | None:
    """The first folder above ``paths`` that other users cannot enter (the lab's users run
    this Python and this checkout's code), or None."""
    for path in paths:
        for folder in reversed(path.parents):
            if not folder.stat().st_mode & 0o001:
                return folder
    return None


MOUNT_TOOLS = (("mount", "mount"), ("umount", "mount"), ("losetup", "mount"), ("mkfs.ext4", "e2fsprogs"))


@functools.cache
def mounts() -> str | None:
    """For tests marked ``mounts``: file systems that fill up or turn read-only under a
    SQLite ledger (a small tmpfs, an ext4 image on a loop device; tests/faults.py)."""
    missing: list[str] = []
    if os.geteuid() != 0:
        missing.append("root (mounting a tmpfs or a loop device needs it)")
    elif not (_capabilities() >> CAP_SYS_ADMIN) & 1:
        missing.append("the capability CAP_SYS_ADMIN (in a container: docker run --cap-add SYS_ADMIN, or --privileged)")
    lacking = sorted({package for tool, package in MOUNT_TOOLS if not shutil.which(tool)})
    if lacking:
        missing.append(f"mount, losetup and mkfs.ext4 (apt-get install {' '.join(lacking)})")
    if not Path("/dev/loop-control").exists():
        missing.append(
            "loop devices (/dev/loop-control; modprobe loop, or a container given --device /dev/loop-control)"
        )
    if not missing:
        return None
    return f"The disk-full and read-only ledger tests mount file systems, and this machine lacks {'; '.join(missing)}."


# The markers conftest.py acts on, and the check each one needs.
CHECKS = {"postgres": postgres, "netns": netns, "lab": lab, "mounts": mounts}


def main() -> int:
    missing = 0
    for marker, check in CHECKS.items():
        sentence = check()
        missing += sentence is not None
        print(f"{marker:9} {'ok' if sentence is None else sentence}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
