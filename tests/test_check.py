"""`review check`, and database and file-system faults turned into one line that says what to do."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import Result
from freezegun import freeze_time
from terminal import REVIEW

Run = Callable[..., Result]

LOG = """\
## Week 1

| date | topic | self-test |
|---|---|---|
| 2026-11-01 | Vectors | ✅ 2026-11-03 |
| 2026-11-02 | Matrices | ❌ 2026-11-04, ✅ 2026-11-08 |
| 2026-11-03 | Determinants | |
"""


def db_file(srs_home: Path) -> Path:
    return srs_home / "data" / "srs.db"


def sql(srs_home: Path, statement: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db_file(srs_home))) as conn, conn:
        return conn.execute(statement).fetchall()


@pytest.fixture
def imported(run: Run, tmp_path: Path) -> Path:
    log = tmp_path / "log.md"
    log.write_text(LOG, encoding="utf-8")
    with freeze_time("2026-11-20 10:00:00"):
        assert run("import", str(log)).exit_code == 0
        assert run("grade", "1", "good").exit_code == 0
        assert run("set-due", "2", "+3d").exit_code == 0
    return log


def test_check_is_clean_after_import_grade_and_set_due(imported: Path, run: Run) -> None:
    with freeze_time("2026-11-21 10:00:00"):
        result = run("check")
        data = json.loads(run("check", "--json").stdout)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith(": 0 problems")
    assert data["ok"] is True and data["problems"] == [] and data["counts"]["cards"] == 3


@pytest.mark.parametrize(("tamper", "said"), [
    ("UPDATE card SET due = '2030-01-01' WHERE id = 1", "card 1: due 2030-01-01"),
    ("UPDATE card SET stability = stability * 3 WHERE id = 2", "card 2: stability"),
    ("UPDATE card SET stability = 0 WHERE id = 2", "card 2: stability 0.0 is not a positive"),
    ("UPDATE card SET stability = -4 WHERE id = 1", "card 1: stability -4.0 is not a positive"),
    ("UPDATE card SET state = 99 WHERE id = 1", "card 1: state 99 is not 1-3"),
    ("UPDATE card SET difficulty = 42 WHERE id = 3", "card 3: difficulty 42.0 is not between"),
    ("UPDATE card SET last_review_day = 5 WHERE id = 3", "card 3: study day of the last"),
])
def test_a_stored_state_that_differs_from_the_history_is_found_and_repaired(
        imported: Path, run: Run, srs_home: Path, tamper: str, said: str) -> None:
    sql(srs_home, tamper)
    with freeze_time("2026-11-21 10:00:00"):
        # The queue and the statistics still work on the damaged card.
        assert run("today").exit_code == 0
        assert run("stats").exit_code == 0
        found = run("check")
        repaired = run("check", "--repair")
        after = run("check")
    assert found.exit_code == 1
    assert said in found.stdout, found.stdout
    assert "run 'review check --repair'" in found.stdout
    assert repaired.exit_code == 0, repaired.output
    assert after.exit_code == 0, after.output


def test_repair_gives_back_the_states_the_history_gives(imported: Path, run: Run,
                                                         srs_home: Path) -> None:
    columns = "id, state, step, stability, difficulty, due, last_review, last_review_day"
    before = sql(srs_home, f"SELECT {columns} FROM card ORDER BY id")
    sql(srs_home, "UPDATE card SET stability = 0.5, due = '2027-01-01', state = 1")
    with freeze_time("2026-11-21 10:00:00"):
        assert run("check", "--repair").exit_code == 0
    assert sql(srs_home, f"SELECT {columns} FROM card ORDER BY id") == before


def test_broken_references_and_values_are_listed(imported: Path, run: Run,
                                                 srs_home: Path) -> None:
    with closing(sqlite3.connect(db_file(srs_home))) as conn, conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE review SET card_id = 99 WHERE id = 1")
        conn.execute("UPDATE review SET rating = 9 WHERE id = 2")
        conn.execute("INSERT INTO setting (key, value) VALUES ('fsrs.parameters', '[1, 2')")
    with freeze_time("2026-11-21 10:00:00"):
        result = run("check", "--json")
    problems = {(p["where"], p["check"]) for p in json.loads(result.stdout)["problems"]}
    assert result.exit_code == 1
    assert ("review 1", "references") in problems
    assert ("review 2", "values") in problems
    assert ("setting fsrs.parameters", "values") in problems


def test_a_log_changed_since_its_import_is_a_notice(imported: Path, run: Run) -> None:
    imported.write_text(LOG + "| 2026-11-04 | Rank | |\n", encoding="utf-8")
    with freeze_time("2026-11-21 10:00:00"):
        result = run("check")
    assert result.exit_code == 0
    assert f"log {imported}: changed since it was last imported" in result.stdout
    imported.unlink()
    with freeze_time("2026-11-21 10:00:00"):
        assert "is no longer there" in run("check").stdout


def _damage_an_index(path: Path) -> None:
    """Overwrite a page of the index the queue walks, as a failing disk would."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        [(root,)] = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'ix_card_by_stability'").fetchall()
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * page_size)


def test_a_damaged_file_is_one_line_and_check_says_what_to_do(imported: Path, run: Run,
                                                               srs_home: Path) -> None:
    _damage_an_index(db_file(srs_home))
    # What reads the damaged index says so in one line; what does not still works.
    for args in (["today"], ["grade", "3", "good"], ["cards"], ["stats"], ["show", "1"],
                 ["set-due", "1", "+2d"], ["spread", "--days", "3"], ["forecast"]):
        result = run(*args)
        assert "Traceback" not in result.output and "internal error" not in result.output
        if args[0] in ("today", "grade"):
            assert result.exit_code == 1, (args, result.output)
        if result.exit_code:
            assert result.stdout == ""
            [line] = result.stderr.splitlines()
            assert f"database {db_file(srs_home)} is damaged" in line
            assert "review check" in line
    checked = run("check")
    assert checked.exit_code == 1
    assert "review export > backup.json" in checked.stdout
    assert "Traceback" not in checked.output


def test_a_damaged_file_can_be_saved_by_export_and_restore(imported: Path, run: Run,
                                                           srs_home: Path,
                                                           tmp_path: Path) -> None:
    _damage_an_index(db_file(srs_home))
    exported = run("export")
    assert exported.exit_code == 0
    backup = tmp_path / "backup.json"
    backup.write_text(exported.stdout, encoding="utf-8")
    fresh = f"sqlite:///{tmp_path / 'new.db'}"
    assert run("--db", fresh, "restore", str(backup)).exit_code == 0
    with freeze_time("2026-11-21 10:00:00"):
        assert run("--db", fresh, "check").exit_code == 0


# --- a database or folder the person cannot write -----------------------------------------


@pytest.fixture
def other_home(tmp_path: Path) -> Iterator[Path]:
    """A home whose files and folders a test makes read-only; given back writable."""
    home = tmp_path / "home"
    home.mkdir()
    try:
        yield home
    finally:
        for path in [home, *home.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)


def _obey_modes() -> None:
    """Make root obey file modes as a person does: drop the capabilities that override them
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from the bounding set before `review` starts."""
    if os.geteuid() != 0:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def as_person(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """`review ARGS` with file modes obeyed, even when the tests run as root."""
    env = {**os.environ, "SRS_HOME": str(home), "TZ": "UTC"}
    env.pop("SRS_DATABASE_URL", None)
    return subprocess.run([REVIEW, *args], capture_output=True, text=True, env=env,
                          preexec_fn=_obey_modes, timeout=120)


def test_a_read_only_database_is_one_line_and_nothing_is_written(other_home: Path) -> None:
    assert as_person(["add", "Vectors", "--learned", "2026-11-01"], other_home).returncode == 0
    data = other_home / "data"
    db = data / "srs.db"
    before = db.read_bytes()
    db.chmod(0o444)
    data.chmod(0o555)
    for args in (["grade", "1", "good"], ["add", "Matrices"], ["set-due", "1", "+2d"]):
        done = as_person(args, other_home)
        assert done.returncode == 1, done.stderr
        [line] = done.stderr.splitlines()
        assert f"database {db} is read-only" in line, line
        assert "Traceback" not in done.stderr
    assert db.read_bytes() == before


def test_an_unwritable_config_folder_is_one_line(other_home: Path) -> None:
    assert as_person(["config", "set", "max_reviews_per_day", "5"], other_home).returncode == 0
    config = other_home / "config"
    before = (config / "config.toml").read_bytes()
    config.chmod(0o555)
    done = as_person(["config", "set", "max_reviews_per_day", "7"], other_home)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert str(config) in line and "Traceback" not in done.stderr
    assert (config / "config.toml").read_bytes() == before


def test_an_unwritable_data_folder_is_one_line(other_home: Path) -> None:
    (other_home / "data").mkdir(mode=0o555)
    done = as_person(["add", "Vectors"], other_home)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert str(other_home / "data") in line and "Traceback" not in done.stderr


def test_an_unwritable_state_folder_is_one_line(other_home: Path) -> None:
    assert as_person(["add", "Vectors"], other_home).returncode == 0
    (other_home / "state").mkdir(mode=0o555)
    done = as_person(["daemon", "start"], other_home)
    assert done.returncode == 1, done.stdout
    [line] = done.stderr.splitlines()
    assert str(other_home / "state") in line and "Traceback" not in done.stderr


@pytest.mark.parametrize(("key", "value"), [
    ("desired_retention", "0.8"), ("maximum_interval", "7"), ("learning_steps", "1h,1d"),
    ("relearning_steps", "10m"), ("fuzz", "off")])
def test_a_scheduling_setting_replays_every_card_so_check_stays_clean(
        imported: Path, run: Run, key: str, value: str) -> None:
    with freeze_time("2026-11-21 10:00:00"):
        changed = run("config", "set", key, value)
        assert changed.exit_code == 0, changed.output
        assert f"every card replayed with the new {key};" in changed.stdout
        assert run("check").exit_code == 0
        assert run("config", "unset", key).exit_code == 0
        assert run("check").exit_code == 0


def test_undoing_a_grade_after_its_card_was_merged_leaves_the_merged_card_whole(
        imported: Path, run: Run) -> None:
    # Found by the stateful test: the state before the grade was the merged-away card's,
    # not the card that holds the history now.
    with freeze_time("2026-11-21 10:00:00"):
        assert run("add", "Rank", "--learned", "2026-01-01").exit_code == 0
        assert run("grade", "4", "good").exit_code == 0
        assert run("merge", "4", "1").exit_code == 0
        undone = run("undo")
        assert undone.exit_code == 0, undone.output
        assert run("check").exit_code == 0
