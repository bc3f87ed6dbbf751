"""Real faults for the ledger outage tests: a private PostgreSQL cluster that can be stopped
and started again, and file systems that fill up or go read-only under a SQLite ledger.

Nothing here is simulated: PostgreSQL is stopped with ``pg_ctl``, a disk is a small tmpfs
that a filler file fills, and a read-only file system is an ext4 image on a loop device
that the kernel turns read-only (``errors=remount-ro`` and the ``abort`` mount option: what
ext4 does by itself after an I/O error). Making a mount needs root and a kernel that
allows it: tests that do are marked ``mounts`` (tests/prerequisites.py says what is
missing; conftest.py skips them, or fails them under --require-all), and a mount that
still cannot be made fails the test with a sentence saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import prerequisites
import pytest
from conftest import _user_exists, free_port


def cannot(sentence: str) -> None:
    """A fault this machine should make (its ``mounts`` prerequisite is there) but did not:
    a failure, never a silent skip."""
    pytest.fail(sentence, pytrace=False)


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)


class PostgresCluster:
    """A PostgreSQL cluster of its own (initdb in a temporary folder, a free port), run as a
    non-root user when the tests run as root, that a test may stop and start again."""

    def __init__(self) -> None:
        bindir = prerequisites.postgres_bindir()
        if bindir is None:
            pytest.fail(prerequisites.postgres() or "PostgreSQL is not installed", pytrace=False)
        self.bin = bindir
        self.root = Path(tempfile.mkdtemp(prefix="compute-panel-pg-outage-"))
        self.data = self.root / "data"
        self.log = self.root / "pg.log"
        self.port = free_port()
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            owner = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(self.root, owner)
            self.run_as = ["runuser", "-u", owner, "--"]
        done = _run([*self.run_as, str(bindir / "initdb"), "-D", str(self.data), "-U", "compute", "--auth=trust"])
        assert done.returncode == 0, done.stderr
        self.start()
        done = _run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "compute", "ledger"])
        assert done.returncode == 0, done.stderr
        self.url = f"postgresql+psycopg://compute@127.0.0.1:{self.port}/ledger"

    def _ctl(self, *args: str) -> subprocess.CompletedProcess:
        return _run([*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.data), *args])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        done = self._ctl("-l", str(self.log), "-w", "-t", "60", "-o", options, "start")
        assert done.returncode == 0, f"pg_ctl start: {done.stderr} {self.log.read_text()[-2000:]}"

    def stop(self) -> None:
        """Stop the server (``fast``: open connections are cut, as a crash or a failover would)."""
        done = self._ctl("-w", "-m", "fast", "stop")
        assert done.returncode == 0, f"pg_ctl stop: {done.stderr}"

    def close(self) -> None:
        self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class SmallDisk:
    """A tmpfs of ``size_kb`` mounted at ``path``; ``fill()`` leaves no byte free, ``free()``
    gives the space back."""

    def __init__(self, path: Path, size_kb: int = 4096) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            cannot(f"a full disk cannot be made here: mounting a tmpfs needs root (running as uid {os.geteuid()})")
        done = _run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "compute-panel-full", str(path)])
        if done.returncode != 0:
            cannot(f"a full disk cannot be made here: mount -t tmpfs failed ({done.stderr.strip()})")
        self.filler = path / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for chunk in (1 << 16, 1 << 10, 1):
                try:
                    while os.write(fd, b"\0" * chunk):
                        pass
                except OSError:
                    pass  # ENOSPC: try a smaller piece, down to the last byte
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def close(self) -> None:
        _run(["umount", "-l", str(self.path)])


class BreakableFilesystem:
    """An ext4 image on a loop device mounted at ``path`` with ``errors=remount-ro``.

    ``go_read_only()`` makes the kernel turn it read-only under the open files (the
    ``abort`` mount option: what ext4 does after an I/O error), so writes fail with EIO or
    EROFS. ``repair()`` is what an administrator does next: detach the broken mount,
    check the image, and mount it again at the same place."""

    def __init__(self, path: Path, size_mb: int = 32) -> None:
        self.path = path
        self.image = path.parent / f"{path.name}.img"
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            cannot(f"a read-only file system cannot be made here: loop mounts need root (uid {os.geteuid()})")
        if shutil.which("mkfs.ext4") is None or shutil.which("losetup") is None:
            cannot("a read-only file system cannot be made here: mkfs.ext4 and losetup are needed (e2fsprogs, mount)")
        with self.image.open("wb") as f:
            f.truncate(size_mb * 1024 * 1024)
        self.devices: list[str] = []
        done = _run(["mkfs.ext4", "-q", "-F", str(self.image)])
        if done.returncode != 0:
            cannot(f"a read-only file system cannot be made here: mkfs.ext4 failed ({done.stderr.strip()})")
        self._mount()

    def _mount(self) -> None:
        # A loop device of its own each time: mount's "-o loop" would reuse the device of
        # the broken mount while files are still open on it, and with it the broken file system.
        done = _run(["losetup", "--find", "--show", str(self.image)])
        if done.returncode != 0:
            cannot(f"a read-only file system cannot be made here: losetup failed ({done.stderr.strip()})")
        self.devices.append(done.stdout.strip())
        done = _run(["mount", "-o", "errors=remount-ro", self.devices[-1], str(self.path)])
        if done.returncode != 0:
            cannot(f"a read-only file system cannot be made here: a loop mount failed ({done.stderr.strip()})")

    def go_read_only(self) -> None:
        os.sync()
        done = _run(["mount", "-o", "remount,abort", str(self.path)])
        if done.returncode != 0:
            cannot(f"a read-only file system cannot be made here: ext4's abort failed ({done.stderr.strip()})")

    def repair(self) -> None:
        done = _run(["umount", "-l", str(self.path)])
        assert done.returncode == 0, done.stderr
        _run(["e2fsck", "-f", "-y", str(self.image)])
        self._mount()

    def close(self) -> None:
        _run(["umount", "-l", str(self.path)])
        for device in self.devices:
            _run(["losetup", "-d", device])  # detached once its last file is closed
