"""Shared fixtures: every test gets its own SRS_HOME, so none touches the real home."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from postgres import PostgresServer

from cli.main import cli


@pytest.fixture(autouse=True)
def srs_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "srs-home"
    monkeypatch.setenv("SRS_HOME", str(home))
    monkeypatch.delenv("SRS_DATABASE_URL", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    # Messages in English whatever the developer's locale (tests/test_i18n.py sets its own).
    monkeypatch.setenv("LANGUAGE", "en")
    return home


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, srs_home: Path,
           monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on the default SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{srs_home / 'data' / 'srs.db'}"
    else:
        url = request.getfixturevalue("postgres_server").new_database()
    monkeypatch.setenv("SRS_DATABASE_URL", url)
    return url


@pytest.fixture
def query(srs_home: Path) -> Callable[[str], list[tuple[Any, ...]]]:
    """Run SQL on the database the commands use (SRS_DATABASE_URL or the default file)."""
    import os

    from sqlalchemy import create_engine, text

    def run_sql(sql: str) -> list[tuple[Any, ...]]:
        url = os.environ.get("SRS_DATABASE_URL") or f"sqlite:///{srs_home / 'data' / 'srs.db'}"
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql))]
        finally:
            engine.dispose()

    return run_sql


@pytest.fixture
def run(srs_home: Path) -> Callable[..., Result]:
    """Invoke `review ARGS...` in process; the timezone is fixed to UTC unless a test sets it."""
    runner = CliRunner()
    config = srs_home / "config" / "config.toml"
    if not config.exists():
        config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        config.write_text('timezone = "UTC"\n', encoding="utf-8")

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False,
                             prog_name="review")

    return invoke


@pytest.fixture
def run_json(run: Callable[..., Result]) -> Callable[..., Any]:
    """Invoke a command with --json and return the parsed output, asserting success."""

    def invoke(*args: str) -> Any:
        result = run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return invoke


@pytest.fixture
def write_log(tmp_path: Path) -> Callable[..., Path]:
    """Write a log file (str, or bytes for exact control) and return its path."""

    def write(text: str | bytes, name: str = "log.md") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return write
