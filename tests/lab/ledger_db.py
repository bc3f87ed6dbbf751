"""The lab's ledger database: a real PostgreSQL that only the gateway's role may write.

Unlike the other tests' throwaway server (trust authentication), this one checks
passwords (scram-sha-256) on TCP and peer identity on its socket, as a lab's would. Its
superuser's password is the test's; the role ``compute_gateway`` owns the ledger database
and is the only role that can write it; its password exists only in the gateway's config
(mode 600 in the gateway account's home). No other role may connect to the ledger.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import prerequisites
from conftest import free_port

GATEWAY_ROLE = "compute_gateway"


class LabPostgres:
    def __init__(self) -> None:
        self.bindir = prerequisites.postgres_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="compute-panel-lab-pg-"))
        self.port = free_port()
        self.superuser_password = secrets.token_hex(16)
        self.gateway_password = secrets.token_hex(16)
        self.run_as = ["runuser", "-u", "postgres", "--"]

    def start(self) -> LabPostgres:
        shutil.chown(self.root, "postgres")
        pwfile = self.root / "pw"
        pwfile.write_text(self.superuser_password + "\n")
        shutil.chown(pwfile, "postgres")
        pwfile.chmod(0o600)
        data = self.root / "data"
        subprocess.run(
            [
                *self.run_as,
                str(self.bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "labsuper",
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
        )
        pwfile.unlink()
        subprocess.run(
            [
                *self.run_as,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.root / "pg.log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        self.sql(f"CREATE ROLE {GATEWAY_ROLE} LOGIN PASSWORD '{self.gateway_password}'")
        self.sql(f"CREATE DATABASE ledger OWNER {GATEWAY_ROLE}")
        self.sql("REVOKE ALL ON DATABASE ledger FROM PUBLIC")
        return self

    def sql(self, statement: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(
            self.url("labsuper", self.superuser_password, database, driver=False), autocommit=True
        ) as c:
            c.execute(statement)

    def url(self, role: str, password: str, database: str = "ledger", driver: bool = True) -> str:
        scheme = "postgresql+psycopg" if driver else "postgresql"
        return f"{scheme}://{role}:{password}@127.0.0.1:{self.port}/{database}"

    @property
    def gateway_url(self) -> str:
        return self.url(GATEWAY_ROLE, self.gateway_password)

    def close(self) -> None:
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)
