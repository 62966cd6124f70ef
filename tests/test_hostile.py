"""Hostile text and hostile numbers: shown as text, never obeyed; refused in one line.

Topics, notes, sections, file names and settings made of markup brackets, escape
sequences (ESC, OSC 52 that writes the clipboard, BEL, CR, C1 controls), zero-width and
bidi characters go through every command, on a real terminal 60 columns wide and piped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from terminal import SGR, in_terminal, stray_controls

Run = Callable[..., Result]

HOSTILE = ("path [/usr/bin] [bold]x[/bold] [/x] \x1b]52;c;aGk=\x07 \x1b[31mred\r"
           "\u200b\u202eevil [Lecture 3](http://x) \u009b2J")
NOTE = "note [red]n[/red] \x1b]0;title\x07 \x1b[2J\u2066bidi\u2069"
SECTION = "Week [1] \x1b]8;;http://evil\x07link\x1b]8;;\x07"
# What must be seen as written (brackets are text, not markup).
VISIBLE = ["[/usr/bin]", "[bold]x[/bold]", "[/x]"]


@pytest.fixture
def hostile(run: Run, tmp_path: Path, srs_home: Path) -> dict[str, str]:
    """A database and a log full of hostile text; the environment to run `review` in."""
    log = tmp_path / "log [bold]\x1b[31m.md"
    log.write_text(
        f"## {SECTION}\n\n| date | topic | self-test |\n|---|---|---|\n"
        f"| 2020-01-01 | {HOSTILE} | 2020-01-03 \x1b[5m[blink] |\n"
        "| 2020-01-02 | regex [a-z] classes | |\n"
        "| 2020-01-02 | vectors [part 1] | |\n", encoding="utf-8")
    assert run("import", str(log)).exit_code == 0
    assert run("add", HOSTILE, "--notes", NOTE, "--learned", "2020-01-05").exit_code == 0
    assert run("grade", "4", "good", "--note", NOTE, "--at", "2020-01-09").exit_code == 0
    assert run("config", "set", "log.done_words", "done[/x]\x1b]0;t\x07").exit_code == 0
    return {**os.environ}


COMMANDS = [
    ["today"], ["today", "--all"], ["cards"], ["cards", "--search", "usr"], ["show", "1"],
    ["show", "4"], ["stats"], ["forecast"], ["logs"], ["remind", "--dry-run"], ["reminders"],
    ["check"], ["config", "show"], ["today", "--json"], ["cards", "--json"],
    ["show", "4", "--json"], ["export"], ["export", "--format", "csv"],
    ["export", "--format", "ics"],
]


@pytest.mark.parametrize("args", COMMANDS[:-1], ids=" ".join)
def test_hostile_text_piped_is_text(hostile: dict[str, str], run: Run,
                                    args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 0, result.output
    output = result.stdout_bytes + result.stderr_bytes
    assert stray_controls(output) == []
    assert b"Traceback" not in output


@pytest.mark.parametrize("args", COMMANDS[:13] + COMMANDS[-1:], ids=" ".join)
def test_hostile_text_on_a_terminal_is_text(hostile: dict[str, str], args: list[str]) -> None:
    status, output = in_terminal(args, env=hostile, columns=60)
    assert status == 0, output.decode()
    assert stray_controls(output) == []
    assert b"Traceback" not in output


def test_show_prints_brackets_and_controls_as_written(hostile: dict[str, str],
                                                      run: Run) -> None:
    status, output = in_terminal(["show", "4"], env=hostile, columns=60)
    text = " ".join(SGR.sub(b"", output).decode().split())
    assert status == 0
    for part in VISIBLE + ["[Lecture 3](http://x)", "␛]52;c;aGk=␇", "␛[31mred␍evil", "\\x9b2J",
                           "note [red]n[/red] ␛]0;title␇ ␛[2Jbidi"]:
        assert part in text, part
    # From the log, a link is its text; a lone CR ends a line there, as old Mac files do.
    piped = " ".join(run("show", "1").stdout.split())
    assert "path [/usr/bin] [bold]x[/bold] [/x] ␛]52;c;aGk=␇ ␛[31mred" in piped


def test_today_shows_bracketed_topics_whole(run: Run) -> None:
    for topic in ("regex [a-z] classes", "vectors [part 1]", "[Lecture 3](https://x.org/3)"):
        assert run("add", topic, "--learned", "2020-01-01").exit_code == 0
    out = run("today").stdout
    for topic in ("regex [a-z] classes", "vectors [part 1]", "[Lecture 3](https://x.org/3)"):
        assert topic in out


def test_grade_undo_set_due_and_session_say_the_topic_as_text(hostile: dict[str, str],
                                                               run: Run) -> None:
    said = [run("grade", "1", "good", "--note", NOTE), run("undo"), run("set-due", "1", "+2d"),
            run("undo")]
    for result in said:
        assert result.exit_code == 0, result.output
        assert stray_controls(result.stdout_bytes + result.stderr_bytes) == []
    for result in said[1:]:
        assert "[/usr/bin]" in result.stdout
    status, output = in_terminal(["session"], env=hostile, columns=60, typed=b"g\nq\n")
    assert status == 0, output.decode()
    assert stray_controls(output) == []
    assert "Week [1] ␛]8;;http://evil␇link".encode() in output


def test_an_unreadable_cell_is_quoted_in_the_warning_as_text(run: Run, tmp_path: Path) -> None:
    log = tmp_path / "log.md"
    log.write_text("| date | topic | self-test |\n|---|---|---|\n"
                   "| 2020-01-01 | t | 2020-01-03 \x1b]52;c;aGk=\x07oops |\n", encoding="utf-8")
    result = run("import", str(log))
    assert result.exit_code == 0
    assert stray_controls(result.stdout_bytes + result.stderr_bytes) == []


def test_a_calendar_piped_is_the_data_itself(hostile: dict[str, str], run: Run) -> None:
    # why: piped or written to a file, an export is data for another program: kept exact
    assert b"\x1b]52\\;c\\;aGk=\x07" in run("export", "--format", "ics").stdout_bytes


def test_json_escapes_what_a_terminal_would_obey(hostile: dict[str, str], run: Run) -> None:
    import json

    result = run("show", "4", "--json")
    assert "\\u001b]0;title\\u0007" in result.stdout and "\\u2066bidi\\u2069" in result.stdout
    assert json.loads(result.stdout)["notes"] == NOTE  # the data itself is unchanged


# --- hostile numbers and dates -------------------------------------------------------------


BAD_ARGUMENTS = [
    (["set-due", "1", "9999-12-31"], "'9999-12-31' is not between 1970-01-01 and 2100-12-31"),
    (["set-due", "1", "+99999999d"], "'+99999999d' is not between"),
    (["set-due", "1", "+50000d"], "'+50000d' is not between"),
    (["today", "--date", "9999-12-31"], "'9999-12-31' is not between"),
    (["today", "--date", "1969-12-31"], "'1969-12-31' is not between"),
    (["spread", "--days", "999999999"], "999999999 is not in the range 1<=x<=3650"),
    (["grade", "1", "good", "--at", "0001-01-01T00:00+14:00"], "'0001-01-01T00:00+14:00'"),
    (["grade", "1", "good", "--at", "9999-12-31T23:59-14:00"], "'9999-12-31T23:59-14:00'"),
    (["grade", "1", "good", "--at", "2101-01-01 10:00"], "'2101-01-01 10:00' is not between"),
    (["config", "set", "learning_steps", "99999999999999d"], "'99999999999999d'"),
    (["config", "set", "learning_steps", "1h,3000000d"], "'3000000d'"),
    (["grade", "99999999999999999999", "good"], "99999999999999999999 is not in the range"),
    (["today", "--limit", "9223372036854775808"], "9223372036854775808 is not in the range"),
    (["grade", "1", "good", "--duration", "99999999999999999999"],
     "'99999999999999999999' is longer than 2h"),
    (["show", "0"], "0 is not in the range"),
    (["merge", "1", "18446744073709551616"], "18446744073709551616 is not in the range"),
    (["add", "x", "--learned", "1900-01-01"], "'1900-01-01' is not between"),
    (["session", "--limit", "-1"], "-1 is not in the range"),
    (["reminders", "--limit", "99999999999"], "99999999999 is not in the range"),
    (["forecast", "--days", "0"], "0 is not in the range"),
]


@pytest.mark.parametrize(("args", "named"), BAD_ARGUMENTS, ids=lambda v: " ".join(v)
                         if isinstance(v, list) else "")
def test_a_number_or_date_out_of_range_is_one_line(run: Run, srs_home: Path,
                                                   args: list[str], named: str) -> None:
    assert run("add", "t", "--learned", "2026-01-01").exit_code == 0
    db = (srs_home / "data" / "srs.db").read_bytes()
    config = (srs_home / "config" / "config.toml").read_bytes()
    result = run(*args)
    assert result.exit_code in (1, 2)
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and named in result.stderr, result.stderr
    assert (srs_home / "data" / "srs.db").read_bytes() == db
    assert (srs_home / "config" / "config.toml").read_bytes() == config


def test_arguments_that_are_not_utf8_are_refused_in_one_line(srs_home: Path,
                                                             tmp_path: Path) -> None:
    import subprocess

    from terminal import REVIEW

    for args in ([b"add", b"caf\xe9"], [b"import", str(tmp_path).encode() + b"/\xff.md"],
                 [b"grade", b"1", b"good", b"--note", b"\xc3("]):
        done = subprocess.run([REVIEW.encode(), *args], capture_output=True, timeout=60,
                              env={**os.environ, "LC_ALL": "C.UTF-8"})
        assert done.returncode == 2
        lines = done.stderr.decode().splitlines()
        assert len(lines) == 1 and "is not UTF-8 text" in lines[0], done.stderr
        assert b"\\x" in done.stderr and not (srs_home / "data").exists()


def test_dates_past_the_edges_in_a_log_are_warnings(run: Run, tmp_path: Path) -> None:
    log = tmp_path / "log.md"
    log.write_text("| date | topic | self-test |\n|---|---|---|\n"
                   "| 9999-12-31 | far | |\n"
                   "| 2026-01-01 | near | 9999-12-31 |\n"
                   "| 1000-01-01 | old | 0001-01-01 |\n", encoding="utf-8")
    result = run("import", str(log))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "9999-12-31" in result.stderr


def test_a_grade_made_under_a_clock_years_ahead_does_not_pin_the_card(run: Run,
                                                                      run_json: Callable[
                                                                          ..., object]) -> None:
    from freezegun import freeze_time

    with freeze_time("2026-11-01 10:00:00"):
        assert run("add", "t").exit_code == 0
    with freeze_time("2031-11-05 10:00:00"):  # the machine's clock was five years ahead
        assert run("grade", "1", "good").exit_code == 0
    with freeze_time("2026-11-05 10:00:00"):
        refused = run("grade", "1", "good")
        assert refused.exit_code == 1
        assert len(refused.stderr.splitlines()) == 1 and "review undo" in refused.stderr
        assert run("undo").exit_code == 0
        assert run("grade", "1", "good").exit_code == 0


# --- linear time on hostile logs -------------------------------------------------------------


def _spaces_heading() -> str:
    return "# a" + " " * 1_000_000 + "b\n\n| date | topic |\n|---|---|\n| 2026-01-01 | t |\n"


def _long_topic() -> str:
    return ("| date | topic | self-test |\n|---|---|---|\n| 2026-01-01 | " + "x" * 1_000_000
            + " | 2026-01-03 |\n")


def _review_row() -> str:
    words = " ".join(f"w{i} [x](u) 2026-01-{i % 28 + 1:02d}" for i in range(4000))
    return ("| date | topic | self-test |\n|---|---|---|\n| 2026-01-01 | alpha beta | |\n"
            f"| 2026-01-05 | 复习 {words} | 2026-01-06 {words} |\n")


def _wide_table() -> str:
    n = 100_000
    return ("|" + "|".join(["date", "topic"] + [f"c{i}" for i in range(n)]) + "|\n|"
            + "|".join(["---"] * (n + 2)) + "|\n|"
            + "|".join(["2026-01-01", "t"] + ["2026-01-02"] * n) + "|\n")


def _closing_hashes() -> str:
    return "## a" + " #" * 300_000 + " b\n\n| date | topic |\n|---|---|\n| 2026-01-01 | t |\n"


@pytest.mark.parametrize("make", [_spaces_heading, _long_topic, _review_row, _wide_table,
                                  _closing_hashes], ids=lambda f: f.__name__.strip("_"))
def test_a_hostile_log_imports_in_linear_time(run: Run, tmp_path: Path,
                                              make: Callable[[], str]) -> None:
    # why: a bound ten times what these take, to catch a quadratic or worse path (the
    # cubic one took hours on a 100 KB row), not to measure speed; benchmarks do that.
    log = tmp_path / "log.md"
    log.write_text(make(), encoding="utf-8")
    assert run("today").exit_code == 0  # the database exists: only the import is timed
    started = time.process_time()
    result = run("import", str(log))
    spent = time.process_time() - started
    assert result.exit_code == 0, result.output
    assert spent < 2.0, f"{spent:.2f} s of CPU"
    assert len(result.stderr.splitlines()) <= 10  # warnings on one line are counted
