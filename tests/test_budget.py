"""The daily time budget (max_minutes_per_day) and the durations `review session` records.

The queue is cut where the minutes run out: each card's expected minutes (srs.workload:
its own median, else 15 for a first self-test and 10 for a later one), after the minutes
already spent that study day. The session's timing is tested twice: through a real
`review` on a pseudo-terminal (freezegun cannot freeze another process's monotonic
clock, and the answer is typed a little over a second after the card is shown), and with
a clock injected into the session's loop for exact values and the cap.
"""

from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from freezegun import freeze_time
from terminal import REVIEW, SGR, home_with, in_terminal

from cli.main import cli
from srs.text import cell_width
from srs.workload import MAX_DURATION_SECONDS

Run = Callable[..., Result]
RunJson = Callable[..., Any]

LOG = """# Log

| Topic | Status | Date |
|---|---|---|
| Alpha | done | 2026-10-01 |
| Beta | done | 2026-10-02 |
| Gamma | done | 2026-10-03 |
| Delta | done | 2026-10-04 |
"""
IMPORTED = "2026-10-05 10:00:00"
EARLIER = "2026-10-10 10:00:00"  # a self-test or two before today
NOW = "2026-11-30 10:00:00"  # every card is due


@pytest.fixture
def cards(db_url: str, run: Run, write_log: Callable[..., Path]) -> None:
    """Cards 1-4 (Alpha to Delta), each studied once: every next self-test is a first."""
    assert run("config", "set", "fuzz", "off").exit_code == 0
    assert run("config", "set", "order", "log").exit_code == 0
    with freeze_time(IMPORTED):
        assert run("import", str(write_log(LOG))).exit_code == 0


def budget(run: Run, minutes: int) -> None:
    assert run("config", "set", "max_minutes_per_day", str(minutes)).exit_code == 0


def queue(run_json: RunJson, *args: str) -> list[tuple[int, float]]:
    """Today's queue at NOW as (id, expected minutes)."""
    with freeze_time(NOW):
        return [(card["id"], card["minutes"]) for card in run_json("today", *args)]


def grade(run: Run, card_id: int, *args: str, at: str = NOW) -> None:
    with freeze_time(at):
        result = run("grade", str(card_id), "good", *args)
    assert result.exit_code == 0, result.output


# --- the queue ---------------------------------------------------------------------------------


def test_the_queue_stops_where_the_recorded_minutes_run_out(cards: None, run: Run,
                                                            run_json: RunJson) -> None:
    for card_id, duration in ((1, "20m"), (2, "25m"), (3, "30m")):
        grade(run, card_id, "--duration", duration, at=EARLIER)
    budget(run, 50)
    # 20 + 25 = 45 fits in 50; 30 more would not: Gamma waits, and Delta after it.
    assert queue(run_json) == [(1, 20.0), (2, 25.0)]
    budget(run, 75)
    assert queue(run_json) == [(1, 20.0), (2, 25.0), (3, 30.0)]


def test_the_default_minutes_tell_first_self_tests_from_later_ones(
        cards: None, run: Run, run_json: RunJson) -> None:
    grade(run, 1, at=EARLIER)  # no duration: Alpha's next self-test is a later one
    assert queue(run_json) == [(1, 10.0), (2, 15.0), (3, 15.0), (4, 15.0)]
    budget(run, 30)
    assert queue(run_json) == [(1, 10.0), (2, 15.0)]  # 25; Gamma would make it 40
    budget(run, 40)
    assert queue(run_json) == [(1, 10.0), (2, 15.0), (3, 15.0)]


def test_the_order_is_kept_no_smaller_card_jumps_ahead(cards: None, run: Run,
                                                      run_json: RunJson) -> None:
    grade(run, 4, at=EARLIER)  # Delta, last in the log, now costs 10
    budget(run, 40)
    # 15 + 15 = 30; Gamma's 15 does not fit the 10 left, and Delta's 10 that would is
    # not taken out of order.
    assert queue(run_json) == [(1, 15.0), (2, 15.0)]


def test_the_first_card_is_kept_when_nothing_was_done_yet(cards: None, run: Run,
                                                          run_json: RunJson) -> None:
    budget(run, 10)
    assert queue(run_json) == [(1, 15.0)]  # 15 minutes, over a 10-minute budget
    grade(run, 1, "--duration", "5m")
    assert queue(run_json) == []  # something done: 5 + 15 is over 10


def test_minutes_spent_today_reduce_what_is_left(cards: None, run: Run,
                                                 run_json: RunJson) -> None:
    budget(run, 40)
    grade(run, 1, "--duration", "10m")
    assert queue(run_json) == [(2, 15.0), (3, 15.0)]  # 10 + 30 = 40
    with freeze_time(NOW):
        assert run("undo").exit_code == 0
    grade(run, 1)  # graded with no duration: it counts the 15 it was expected to take
    assert queue(run_json) == [(2, 15.0)]  # 15 + 15 = 30; 15 more would be 45
    grade(run, 2, "--duration", "2h")  # the longest duration a self-test is counted at
    assert queue(run_json) == []


def test_the_count_limit_may_cut_before_the_budget(cards: None, run: Run,
                                                   run_json: RunJson) -> None:
    budget(run, 1000)
    assert run("config", "set", "max_reviews_per_day", "2").exit_code == 0
    assert queue(run_json) == [(1, 15.0), (2, 15.0)]
    with freeze_time(NOW):
        result = run("today")
    assert "2 more due beyond today's limit" in result.stdout
    assert "Budget" not in result.stdout


def test_all_ignores_the_budget_and_limit_keeps_it(cards: None, run: Run,
                                                   run_json: RunJson) -> None:
    budget(run, 30)
    assert [card_id for card_id, _m in queue(run_json, "--all")] == [1, 2, 3, 4]
    # --limit replaces the count limit only: the budget still cuts.
    assert [card_id for card_id, _m in queue(run_json, "--limit", "3")] == [1, 2]
    assert [card_id for card_id, _m in queue(run_json, "--limit", "1")] == [1]


def test_today_says_the_minutes_and_what_the_budget_left_out(cards: None, run: Run) -> None:
    with freeze_time(NOW):
        plain = run("today").stdout.splitlines()
    assert plain[-2] == "4 self-tests, about 60 min"  # always, budget or not
    budget(run, 30)
    with freeze_time(NOW):
        lines = run("today").stdout.splitlines()
    assert lines[0] == "Study day Mon 11-30: 2 of 4 due (0 done today)"
    assert lines[-3:-1] == [
        "2 self-tests, about 30 min",
        "Budget 30 min: 2 more due wait for another day (review today --all, or review "
        "spread --days N)."]
    grade(run, 1, "--duration", "5m")
    with freeze_time(NOW):
        lines = run("today").stdout.splitlines()
    assert lines[-3:-1] == [
        "1 self-test, about 15 min",
        "Budget 30 min, about 5 min done today: 2 more due wait for another day (review "
        "today --all, or review spread --days N)."]
    grade(run, 2, "--duration", "20m")
    with freeze_time(NOW):
        lines = run("today").stdout.splitlines()
    assert lines == ["Study day Mon 11-30: today's budget of 30 min is used (about 25 min "
                     "done); 2 more due (review today --all)."]


def test_the_digest_follows_the_budget(cards: None, run: Run, run_json: RunJson) -> None:
    digest_time = "2026-11-30 09:01:00"  # just after the 09:00 digest
    budget(run, 30)
    with freeze_time(digest_time):
        result = run("remind", "--dry-run", "--json")
    sent = json.loads(result.stdout)["would_send"]
    assert sent["title"] == "2 self-tests due today"
    assert sent["body"].splitlines() == [
        "• Alpha", "• Beta", "about 30 min of your 30 min budget",
        "2 more due beyond today's budget", "Start with: review session"]
    grade(run, 1, "--duration", "30m", at="2026-11-30 08:30:00")
    with freeze_time(digest_time):
        assert run("remind").exit_code == 0
        ledger = run_json("reminders")
    [digest] = [row for row in ledger if row["kind"] == "digest"]
    assert digest["status"] == "skipped"
    assert digest["detail"] == "today's budget of 30 min is used (3 more due: review today --all)"


# --- spread ------------------------------------------------------------------------------------


def spread_plan(run: Run, days: int) -> dict[str, list[int]]:
    with freeze_time(NOW):
        result = run("spread", "--days", str(days), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan: dict[str, list[int]] = {}
    for move in json.loads(result.stdout)["moved"]:
        plan.setdefault(move["to"], []).append(move["id"])
    return plan


def at_risk_first(run: Run) -> list[int]:
    """The due cards in the order spread places them: most at risk first."""
    with freeze_time(NOW):
        return [card["id"] for card in json.loads(
            run("today", "--all", "--order", "retrievability", "--json").stdout)]


def test_spread_keeps_each_day_within_the_budget(cards: None, run: Run) -> None:
    budget(run, 30)
    order = at_risk_first(run)
    # Four 15-minute self-tests in one day would be 60: two stay today, two go tomorrow.
    assert spread_plan(run, 1) == {"2026-12-01": order[2:]}
    # A budget shorter than one self-test: still one card a day, the rest on the days after.
    budget(run, 10)
    assert spread_plan(run, 2) == {"2026-12-01": [order[1]], "2026-12-02": [order[2]],
                                   "2026-12-03": [order[3]]}


def test_spread_counts_the_minutes_already_due_on_a_day(cards: None, run: Run) -> None:
    budget(run, 30)
    with freeze_time(NOW):
        assert run("set-due", "4", "2026-12-01").exit_code == 0
        assert run("set-due", "3", "2026-12-01").exit_code == 0
    assert spread_plan(run, 1) == {}  # Alpha and Beta (30) fit today
    # 20 minutes: one stays today; tomorrow already holds 30 minutes, so the other goes
    # on to the day after.
    budget(run, 20)
    assert spread_plan(run, 1) == {"2026-12-02": at_risk_first(run)[1:]}


# --- the setting -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "named"), [
    ("0", "0"), ("-5", "-5"), ("2000", "2000"), ("abc", "'abc'"), ("1.5", "'1.5'")])
def test_a_bad_budget_is_one_line_and_nothing_is_written(run: Run, srs_home: Path,
                                                         value: str, named: str) -> None:
    config = srs_home / "config" / "config.toml"
    before = config.read_bytes()
    result = run("config", "set", "--", "max_minutes_per_day", value)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (f"Error: bad value {named} for max_minutes_per_day: expected a "
                             "whole number from 1 to 1440\n")
    assert config.read_bytes() == before


def test_the_budget_is_set_and_unset(run: Run, run_json: RunJson) -> None:
    assert run_json("config", "get", "max_minutes_per_day") is None
    assert run("config", "get", "max_minutes_per_day").stdout == "none\n"
    assert run("config", "set", "max_minutes_per_day", "60").stdout == "max_minutes_per_day = 60\n"
    assert run_json("config", "get", "max_minutes_per_day") == 60
    assert run("config", "unset", "max_minutes_per_day").stdout == (
        "max_minutes_per_day = none (default)\n")


# --- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "seconds"), [
    ("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("1.5h", 5400),
    ("2h", MAX_DURATION_SECONDS), ("0", 0)])
def test_grade_takes_a_duration_in_seconds_or_units(cards: None, run: Run,
                                                    query: Callable[[str], Any], typed: str,
                                                    seconds: int) -> None:
    grade(run, 1, "--duration", typed)
    assert query("SELECT duration FROM review WHERE source = 'cli'") == [(seconds,)]


@pytest.mark.parametrize(("typed", "message"), [
    ("abc", "'abc' is not a duration; use seconds (90) or 90s, 15m, 1h, 1h30m"),
    ("15x", "'15x' is not a duration; use seconds (90) or 90s, 15m, 1h, 1h30m"),
    ("1h1h", "'1h1h' is not a duration; use seconds (90) or 90s, 15m, 1h, 1h30m"),
    ("-5m", "'-5m' is not a duration; use seconds (90) or 90s, 15m, 1h, 1h30m"),
    ("3h", "'3h' is longer than 2h, the most a self-test is recorded as taking"),
    ("7201", "'7201' is longer than 2h, the most a self-test is recorded as taking"),
])
def test_a_bad_duration_is_refused_in_one_line(cards: None, run: Run,
                                               query: Callable[[str], Any], typed: str,
                                               message: str) -> None:
    with freeze_time(NOW):
        result = run("grade", "1", "good", f"--duration={typed}")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: Invalid value for '--duration': {message} "
                             "(see 'review grade -h')\n")
    assert query("SELECT count(*) FROM review WHERE source = 'cli'") == [(0,)]


class Ticks:
    """A monotonic clock that reads the next of its values at each call."""

    def __init__(self, *values: float) -> None:
        self.values: Iterator[float] = iter(values)

    def __call__(self) -> float:
        return next(self.values)


def test_the_session_records_the_time_from_card_to_answer(
        cards: None, run: Run, query: Callable[[str], Any],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.daily import _session
    from srs.app import App

    # Read at each card shown and each answer: Alpha shown at 0, graded at 600 s; Beta
    # skipped (nothing recorded); Gamma answered after three hours (capped at two);
    # Delta shown and graded within half a second (no duration: it timed nothing); then
    # nothing is left: quit is not read.
    ticks = Ticks(0, 600, 1000, 1005, 2000, 2000 + 3 * 3600, 20000, 20000.4)
    monkeypatch.setattr("sys.stdin", io.StringIO("g\ns\nh\ne\n"))
    app = App()
    with freeze_time(NOW):
        _session(app, None, False, [0], timer=ticks)
    app.close()
    assert "Done: 3 graded." in capsys.readouterr().out
    assert query("SELECT card_id, rating, duration FROM review WHERE source = 'cli' "
                 "ORDER BY id") == [(1, 3, 600), (3, 2, MAX_DURATION_SECONDS), (4, 4, None)]


def test_the_session_stops_when_the_budget_is_used(cards: None, run: Run,
                                                    query: Callable[[str], Any],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from cli.daily import _session
    from srs.app import App

    budget(run, 40)  # Alpha, Beta (30); Gamma would make 45
    ticks = Ticks(0, 25 * 60, 1500, 1500 + 20 * 60)  # Alpha took 25 minutes, Beta 20
    monkeypatch.setattr("sys.stdin", io.StringIO("g\ng\ng\n"))
    app = App()
    with freeze_time(NOW):
        _session(app, None, False, [0], timer=ticks)
    app.close()
    out = capsys.readouterr().out
    assert "1 of 2 · card 1: Alpha" in out
    # After Alpha's 25 minutes, Beta's 15 still fit (40); after Beta's 20 (45), nothing.
    assert ("Done: 2 graded; today's budget of 40 min is used ('review session --all' goes "
            "on).") in out
    assert query("SELECT card_id, duration FROM review WHERE source = 'cli' ORDER BY id") == [
        (1, 1500), (2, 1200)]


# --- through a real terminal -------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A home with four cards studied two months ago, as the environment of `review`."""
    studied = date.today() - timedelta(days=60)
    rows = "\n".join(f"| {topic} | ✅ | {studied + timedelta(days=n)} |" for n, topic in
                     enumerate(["反向传播 Backpropagation", "贝叶斯定理 Bayes' theorem",
                                "Gaussian elimination", "Momentum & Adam"]))
    return home_with(tmp_path, f"# 学习记录\n\n| 章节 | 状态 | 日期 |\n|---|---|---|\n{rows}\n",
                     'timezone = "UTC"\norder = "log"\n')


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_today_footer_fits_60_columns(home: dict[str, str], language: str) -> None:
    subprocess.run([REVIEW, "config", "set", "max_minutes_per_day", "30"], env=home,
                   check=True, capture_output=True)
    env = {**home, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "",
           "LANG": "zh_CN.UTF-8" if language == "zh_CN" else "en_US.UTF-8"}
    status, output = in_terminal(["today"], env=env, columns=60)
    assert status == 0
    lines = SGR.sub(b"", output).decode("utf-8").splitlines()
    for line in lines:
        assert cell_width(line) <= 60, line
    text = " ".join(line.strip() for line in lines)
    assert "30" in text and "2" in text  # the queue's minutes and the cards left out
    if language == "en":
        assert "2 self-tests, about 30 min" in text
        assert "Budget 30 min: 2 more due wait for another day" in text


def test_a_session_on_a_terminal_records_how_long_each_self_test_took(
        home: dict[str, str], tmp_path: Path) -> None:
    """Two cards graded a little over a second after each is shown, one skipped, then
    quit."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([REVIEW, "session"], stdin=slave, stdout=slave, stderr=slave,
                            env={**home, "COLUMNS": "80"}, start_new_session=True)
    os.close(slave)
    received = b""
    try:
        for answer in (b"g\n", b"s\n", b"h\n"):
            prompts = received.count(b"grade [") + 1
            deadline = time.monotonic() + 30
            while received.count(b"grade [") < prompts and time.monotonic() < deadline:
                ready, _w, _x = select.select([master], [], [], 0.2)
                if ready:
                    received += os.read(master, 65536)
            assert received.count(b"grade [") == prompts, received
            time.sleep(1.2)  # the self-test: the card has been on the screen this long
            os.write(master, answer)
        os.write(master, b"q\n")  # at Delta's prompt: quit records nothing
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        os.close(master)
    with sqlite3.connect(tmp_path / "home" / "data" / "srs.db") as conn:
        rows = conn.execute("SELECT card_id, rating, duration FROM review "
                            "WHERE source = 'cli' ORDER BY id").fetchall()
    assert [(card_id, rating) for card_id, rating, _d in rows] == [(1, 3), (3, 2)]
    assert all(1 <= duration <= MAX_DURATION_SECONDS for _c, _r, duration in rows), rows
    assert b"Traceback" not in received


def test_a_piped_session_records_no_duration(home: dict[str, str], tmp_path: Path) -> None:
    """Answers typed ahead (piped) time nothing: no duration is stored for them."""
    done = subprocess.run([REVIEW, "session"], env=home, input="g\nq\n", capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Stopped: 1 graded." in done.stdout
    with sqlite3.connect(tmp_path / "home" / "data" / "srs.db") as conn:
        assert conn.execute("SELECT card_id, duration FROM review "
                            "WHERE source = 'cli'").fetchall() == [(1, None)]


def test_grade_help_names_the_duration_forms() -> None:
    result = CliRunner().invoke(cli, ["grade", "--help"])
    assert "15m, 90s, 1h30m (at most 2h)" in " ".join(result.stdout.split())
