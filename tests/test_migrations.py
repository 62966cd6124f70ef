"""The schema comes from Alembic migrations, applied on open, and ships in the wheel."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from srs.clock import DayClock
from srs.db import KNOWN_REVISIONS, SCHEMA_HEAD, Database, migrations_dir, open_database
from srs.models import Base

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc


def script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return ScriptDirectory.from_config(config)


def test_schema_head_matches_the_migrations() -> None:
    revisions = [rev.revision for rev in script().walk_revisions()]
    assert script().get_current_head() == SCHEMA_HEAD
    assert sorted(revisions) == sorted(KNOWN_REVISIONS)


def test_empty_database_upgrades_to_the_models(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'new.db'}")
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert db.schema_version() == SCHEMA_HEAD


def test_populated_database_upgrades_from_the_first_revision(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first = list(script().walk_revisions())[-1].revision
    old = Database(f"sqlite:///{path}")
    old.upgrade(first)
    at = datetime(2025, 5, 22, 4, tzinfo=UTC)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO card (id, topic, notes, section, learned_on, state, due, suspended, "
            "in_log, created_at, updated_at) VALUES (1, '数据操作', '', 'Week01', '2025-05-22', "
            "2, '2025-05-24 04:00:00.000000', 0, 1, '2025-05-22 04:00:00.000000', "
            "'2025-05-22 04:00:00.000000')")
        conn.execute(
            "INSERT INTO review (card_id, at, kind, rating, source, recorded_at) VALUES "
            "(1, '2025-05-22 04:00:00.000000', 'review', 3, 'log', '2025-05-22 04:00:00.000000')")
    old.close()
    db = open_database(f"sqlite:///{path}", clock=DayClock(UTC, 4))
    assert db.schema_version() == SCHEMA_HEAD
    with db.read_connection() as conn:
        row = conn.one("SELECT topic, learned_on, due FROM card WHERE id = 1")
        assert row is not None
        # The due moment became the study day it falls on.
        assert (row[0], conn.day(row[1]), conn.day(row[2])) == (
            "数据操作", date(2025, 5, 22), date(2025, 5, 24))
        moments = [conn.moment(value) for (value,) in conn.all("SELECT at FROM review")]
        assert moments == [at]
        assert [m.tzinfo for m in moments if m is not None] == [timezone.utc]
    db.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    backups = sorted(p.name for p in tmp_path.glob("old.db.*.bak"))
    assert len(backups) == (0 if first == SCHEMA_HEAD else 1)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    from srs.errors import DatabaseError

    path = tmp_path / "future.db"
    open_database(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(DatabaseError, match="newer than this version"):
        open_database(f"sqlite:///{path}")


def test_top_level_alembic_folder_never_shadows_the_library() -> None:
    assert not (ROOT / "alembic" / "__init__.py").exists()
    code = "import alembic, alembic.command; print(alembic.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "site-packages" in out


def test_hot_commands_do_not_load_alembic_or_apscheduler(tmp_path: Path) -> None:
    env = dict(os.environ, SRS_HOME=str(tmp_path / "home"))
    review = [sys.executable, "-c",
              "import sys; from cli.main import cli\n"
              "try: cli(sys.argv[1:])\n"
              "except SystemExit: pass\n"
              "print(sorted(m for m in ('alembic', 'apscheduler', 'fsrs_rs_python', "
              "'icalendar', 'watchdog') if m in sys.modules))"]
    subprocess.run([*review, "cards"], env=env, check=True, capture_output=True)  # migrates
    out = subprocess.run([*review, "today"], env=env, check=True, capture_output=True,
                         text=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_a_plain_install_works_from_another_folder(tmp_path: Path) -> None:
    """Build the wheel, install it apart from the checkout, and migrate a database with it."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True)
    target = tmp_path / "site"
    (wheel,) = wheels.glob("srs-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(wheel)], check=True, capture_output=True)
    assert (target / "srs" / "_migrations" / "env.py").exists()
    assert not (target / "alembic" / "env.py").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    log = elsewhere / "log.md"
    log.write_text("| Topic | Date |\n|---|---|\n| Installed | 2026-01-02 |\n", encoding="utf-8")
    env = dict(os.environ, SRS_HOME=str(tmp_path / "home"), PYTHONPATH=str(target))
    code = ("import srs, sys; from cli.main import cli; "
            "print(srs.__file__, file=sys.stderr); cli(['import', 'log.md'])")
    result = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(str(target / "srs"))
    assert "1 new" in result.stdout
