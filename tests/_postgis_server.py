"""A throwaway PostgreSQL 15 + PostGIS 3 cluster for the tests (Debian's
postgresql-15-postgis-3, installed by .ci/ensure-postgis): ``initdb`` in a fresh folder (as
Debian's ``postgres`` user when the tests run as root: PostgreSQL refuses root), a free
loopback port with password authentication, a socket in that folder (trusted), removed at the
end. Without PostgreSQL or PostGIS the tests that ask for it fail, naming the package: no
silent skip."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
USER = "reachplan"
PASSWORD = "s3cret-Pw_42"  # the test role's; must never appear in any output
DB = "reachplan_test"


@dataclass(frozen=True)
class Server:
    port: int
    socket_dir: str
    dbname: str = DB

    def url(self, params: str, *, password: str | None = None) -> str:
        auth = USER + (f":{password}" if password is not None else "")
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{self.dbname}?{params}"

    def connect(self, dbname: str | None = None) -> Any:
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, dbname=dbname or self.dbname,
                               user=USER, password=PASSWORD, autocommit=True)

    def rows(self, sql: str) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql).fetchall()

    def run(self, sql: str) -> None:
        with self.connect() as conn:
            conn.execute(sql)

    def database(self, name: str) -> Server:
        """This server's database ``name`` with PostGIS, created when missing."""
        with self.connect("postgres") as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (name,)).fetchall():
                conn.execute(f'CREATE DATABASE "{name}"')
        other = replace(self, dbname=name)
        other.run("CREATE EXTENSION IF NOT EXISTS postgis")
        return other


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(paths: list[Path]) -> list[str]:
    """PostgreSQL refuses to run as root: then the cluster runs as Debian's postgres user."""
    if os.getuid() != 0:
        return []
    for path in paths:
        shutil.chown(path, "postgres", "postgres")
    return ["runuser", "-u", "postgres", "--"]


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    if not (PG_BIN / "initdb").exists() or not POSTGIS_CONTROL.exists():
        pytest.fail("PostgreSQL 15 with PostGIS 3 is not installed: run .ci/ensure-postgis "
                    "(Debian's postgresql-15-postgis-3)")
    root = Path(tempfile.mkdtemp(prefix="reachplan-pg-"))  # short: a socket path is < 108 B
    root.chmod(0o755)
    data, pwfile, log = root / "data", root / "pw", root / "log"
    pwfile.write_text(PASSWORD + "\n")
    as_user = _as_server_user([root, pwfile])
    port = _free_port()

    def pg(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True)
        if done.returncode != 0:
            log_text = log.read_text() if log.exists() else ""
            pytest.fail(f"{args[0]} failed: {done.stderr.strip()} {log_text[-2000:]}")

    pg(str(PG_BIN / "initdb"), "-D", str(data), "-U", USER, "-E", "UTF8", "--locale=C",
       "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}")
    pg(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
       f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield Server(port, str(root)).database(DB)
    finally:
        subprocess.run([*as_user, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
