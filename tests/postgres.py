"""A real PostgreSQL server for the tests, started in a temporary folder on a Unix socket.

initdb refuses to run as root, so as root the server runs as the `postgres` system user
(`runuser -u postgres`). Where the binaries are missing the PostgreSQL tests are skipped,
naming them, unless SRS_REQUIRE_POSTGRES=1 (set by .ci/run), which fails them instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

BINARIES = ("initdb", "pg_ctl")


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail("running as root, and runuser is missing to start PostgreSQL as 'postgres'")
    return [runuser, "-u", "postgres", "--", *argv]


class PostgresServer:
    """initdb + pg_ctl start in a temporary folder; stop() ends it."""

    def __init__(self) -> None:
        missing = [name for name in BINARIES if shutil.which(name) is None]
        if missing:
            message = f"PostgreSQL binaries not found: {', '.join(missing)}"
            if os.environ.get("SRS_REQUIRE_POSTGRES") == "1":
                pytest.fail(message)
            pytest.skip(message)
        self.root = Path(tempfile.mkdtemp(prefix="srs-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self.data = self.root / "data"
        subprocess.run(
            _as_server_user(["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                             "-E", "UTF8", "--no-sync"]),
            check=True, capture_output=True)
        subprocess.run(
            _as_server_user([
                "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                "-o", f"-k {self.root} -c listen_addresses='' -c fsync=off "
                      "-c full_page_writes=off -c max_connections=200",
                "start"]),
            check=True, capture_output=True)
        self._counter = 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.root}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        self._counter += 1
        name = f"srs_test_{os.getpid()}_{self._counter}"
        with psycopg.connect(host=str(self.root), user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(_as_server_user(["pg_ctl", "-D", str(self.data), "-m", "immediate",
                                        "stop"]), capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
