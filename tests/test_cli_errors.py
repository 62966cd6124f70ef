"""Bad input everywhere: one line on stderr naming the bad value, no traceback, nothing written."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

Run = Callable[..., Result]
RunJson = Callable[..., Any]
WriteLog = Callable[..., Path]

LOG = """\
## 第一周

| 章节 | 状态 | 日期 | 自测 |
|---|---|---|---|
| 1.1 向量 | ✅ | 2025-03-01 | ✅ 2025-03-03 |
| Eigenvalues | ✅ | 2025-03-02 | |
"""


def db_file(srs_home: Path) -> Path:
    return srs_home / "data" / "srs.db"


def dump(srs_home: Path) -> list[str]:
    """Every row of the database as SQL, to tell that nothing was written."""
    with closing(sqlite3.connect(db_file(srs_home))) as conn:
        return list(conn.iterdump())


@pytest.fixture
def imported(run: Run, write_log: WriteLog, srs_home: Path) -> list[str]:
    """LOG imported; the database's content."""
    assert run("import", str(write_log(LOG))).exit_code == 0
    return dump(srs_home)


def assert_one_line(result: Result, exit_code: int, *named: str) -> None:
    """A failure told in one line on stderr that names each of `named`."""
    assert result.exit_code == exit_code, result.output
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert "Traceback" not in result.output
    for value in named:
        assert value in result.stderr


# --- card ids ------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("show", "999"), ("show", "999", "--json"), ("suspend", "999"), ("unsuspend", "999"),
    ("merge", "999", "1"), ("merge", "1", "999"),
])
def test_an_unknown_card_id(run: Run, imported: list[str], srs_home: Path,
                            args: tuple[str, ...]) -> None:
    result = run(*args)
    assert_one_line(result, 1)
    assert result.stderr == "Error: no card 999 (see 'review cards')\n"
    assert dump(srs_home) == imported


@pytest.mark.parametrize("args", [("show", "abc"), ("suspend", "1.5"), ("merge", "1", "x")])
def test_an_id_that_is_not_a_number_is_misuse(run: Run, imported: list[str], srs_home: Path,
                                              args: tuple[str, ...]) -> None:
    result = run(*args)
    assert_one_line(result, 2, repr(args[-1]))
    assert dump(srs_home) == imported


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2025-13-01", "2025-02-30", "yesterday", "01/03/2025", ""])
def test_a_bad_learned_date(run: Run, imported: list[str], srs_home: Path, value: str) -> None:
    result = run("add", "Fourier", "--learned", value)
    assert_one_line(result, 2, f"{value!r} is not a date; use YYYY-MM-DD", "--learned")
    assert dump(srs_home) == imported


# --- database URLs -------------------------------------------------------------------------


def test_an_unknown_database_url(run: Run, srs_home: Path) -> None:
    result = run("--db", "foo://x", "cards")
    assert result.stderr == ("Error: unknown database URL 'foo://x' "
                             "(try sqlite:///PATH or postgresql+psycopg://USER@HOST/NAME)\n")
    assert_one_line(result, 1)
    assert not (srs_home / "data").exists()


def test_a_database_url_that_is_no_url(run: Run, write_log: WriteLog, srs_home: Path) -> None:
    result = run("--db", "not a url", "import", str(write_log(LOG)))
    assert_one_line(result, 1, "'not a url'")
    assert not (srs_home / "data").exists()


def test_the_database_url_from_the_environment(
        run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRS_DATABASE_URL", "foo://x")
    assert_one_line(run("cards"), 1, "'foo://x'")


def test_a_database_under_a_file(run: Run, write_log: WriteLog, tmp_path: Path) -> None:
    blocker = write_log("not a folder", "blocker")
    result = run("--db", f"sqlite:///{blocker}/srs.db", "import", str(write_log(LOG)))
    assert_one_line(result, 1, f"{blocker}/srs.db")
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_a_database_that_is_a_folder(run: Run, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    result = run("--db", f"sqlite:///{folder}", "cards")
    assert_one_line(result, 1, str(folder))
    assert list(folder.iterdir()) == []


def test_an_unreachable_server_hides_the_password(run: Run) -> None:
    result = run("--db", "postgresql+psycopg://srs:secret@127.0.0.1:1/srs", "cards")
    assert_one_line(result, 1, "postgresql+psycopg://srs:***@127.0.0.1:1/srs")
    assert "secret" not in result.stderr


def test_a_database_url_to_a_file_that_is_no_database(
        run: Run, write_log: WriteLog) -> None:
    text = "# notes\n\n" + "this is a markdown file, not an SQLite database\n" * 20
    notes = write_log(text, "notes.md")
    result = run("--db", f"sqlite:///{notes}", "cards")
    assert_one_line(result, 1, str(notes))
    assert notes.read_text(encoding="utf-8") == text


# --- log files -----------------------------------------------------------------------------


def bad_log(kind: str, write_log: WriteLog, tmp_path: Path) -> tuple[Path, str]:
    """A path that is no readable study log, and what the error says about it."""
    if kind == "missing":
        return tmp_path / "missing.md", "no such file"
    if kind == "folder":
        (tmp_path / "logs").mkdir()
        return tmp_path / "logs", "is a directory, not a log file"
    if kind == "gbk":
        return (write_log("| 章节 | 日期 |\n|---|---|\n| 向量 | 2025-03-01 |\n".encode("gbk"),
                          "gbk.md"), "not UTF-8 text (bad byte at offset 2)")
    if kind == "binary":
        return write_log(b"\x89PNG\r\n\x1a\n\x00\x00", "image.md"), "binary file"
    if kind == "no-table":
        text = "# 学习计划\n\n| Plan | Hours |\n|---|---|\n| 线性代数 | 10 |\n"
        return write_log(text, "plan.md"), "no study table"
    assert kind == "empty"
    return write_log("", "empty.md"), "no study table"


KINDS = ["missing", "folder", "gbk", "binary", "no-table", "empty"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_log_file_on_a_fresh_home(run: Run, write_log: WriteLog, tmp_path: Path,
                                        srs_home: Path, kind: str) -> None:
    path, reason = bad_log(kind, write_log, tmp_path)
    result = run("import", str(path))
    assert_one_line(result, 1, f"{path}: {reason}")
    assert not db_file(srs_home).exists()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("flags", [(), ("--dry-run",), ("--json",), ("--strict",)])
def test_a_bad_log_file_after_a_good_one(run: Run, write_log: WriteLog, tmp_path: Path,
                                         srs_home: Path, imported: list[str], kind: str,
                                         flags: tuple[str, ...]) -> None:
    path, reason = bad_log(kind, write_log, tmp_path)
    write_log(LOG + "| Determinants | ✅ | 2025-03-04 | |\n")
    result = run("import", str(tmp_path / "log.md"), str(path), *flags)
    assert_one_line(result, 1, f"{path}: {reason}")
    assert dump(srs_home) == imported


def test_import_without_a_path_is_misuse(run: Run) -> None:
    assert_one_line(run("import"), 2, "PATH")


# --- the command line as people expect ------------------------------------------------------


def test_bare_review_says_how_to_start_and_creates_nothing(run: Run, srs_home: Path) -> None:
    result = run()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        "No log imported yet. Start with:", "    review import progress-log.md",
        "    review today"]
    assert not db_file(srs_home).exists()


def test_bare_review_counts_what_is_due_today(run: Run, imported: list[str],
                                              srs_home: Path) -> None:
    from freezegun import freeze_time

    with freeze_time("2025-03-20 12:00:00"):
        result = run()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "2 of 2 topics due for a self-test today (Thu 03-20)."
    assert [line.split()[:2] for line in lines[2:5]] == [
        ["review", "today"], ["review", "session"], ["review", "grade"]]
    assert dump(srs_home) == imported


@pytest.mark.parametrize(("args", "message"), [
    (("todya",), "Error: no such command 'todya'; did you mean 'today'?"),
    (("stast",), "Error: no such command 'stast'; did you mean 'stats'?"),
    (("xyzzy",), "Error: no such command 'xyzzy' (see 'review -h')"),
    (("daemon", "strat"), "Error: no such command 'strat'; did you mean 'start'?"),
    (("config", "gte", "timezone"), "Error: no such command 'gte'; did you mean 'get'?"),
    (("today", "--jsn"), "Error: no such option '--jsn'; did you mean '--json'?"),
    (("today", "--zzz"), "Error: no such option '--zzz' (see 'review today -h')"),
])
def test_a_typo_names_the_nearest_command_in_one_line(run: Run, args: tuple[str, ...],
                                                      message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert result.stdout == ""


def test_a_reader_that_stops_reading_ends_the_command_quietly(imported: list[str],
                                                              srs_home: Path) -> None:
    """`review cards | head -1`: the output's reader is gone before everything is written;
    that is no error of the database's, and nothing is said about it."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SRS_HOME": str(srs_home)}
    for args in (("cards", "--json"), ("stats",), ("export", "--format", "json")):
        read, write = os.pipe()
        os.close(read)  # nobody will ever read
        with os.fdopen(write, "wb") as out:
            done = subprocess.run([sys.executable, "-m", "cli", *args], stdout=out,
                                  stderr=subprocess.PIPE, env=env, timeout=120,
                                  cwd=Path(__file__).resolve().parent.parent)
        assert done.returncode == 1, args
        assert done.stderr == b"", (args, done.stderr)
    assert dump(srs_home) == imported
