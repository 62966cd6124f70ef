"""`review stats` and `review forecast`: numbers checked by hand on histories built here."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from freezegun import freeze_time

from srs.engine import Engine
from srs.sql import SqlConn
from srs.stats import DayActivity, heatmap_weeks

Run = Callable[..., Result]
RunJson = Callable[..., Any]

UTC = timezone.utc
NOW = "2026-11-30 02:00:00"  # 10:00 in Shanghai, study day 2026-11-30 (a Monday)

LOG = """\
| Topic | Status | Date | Self-test |
|---|---|---|---|
| A | done | 2026-10-01 | 2026-10-03, ❌ 2026-10-10, 2026-10-20 |
| B | done | 2026-10-05 | 2026-11-02 hard |
| C | done | 2026-11-10 | |
| D | done | 2026-11-28 | |
| F | done | 2026-06-01 | |
"""
A, B, C, D, F, E = 1, 2, 3, 4, 5, 6


@pytest.fixture
def history(db_url: str, run: Run, write_log: Callable[..., Path]) -> None:
    """The log above in Asia/Shanghai with days starting at 04:00, plus grades made here.

    By study day: A studied 10-01, self-tests 10-03 (good), 10-10 (again), 10-20 (good);
    B studied 10-05, self-test 11-02 (hard); C studied 11-10, graded good at 03:30 local
    on 11-30, which counts for study day 11-29; D studied 11-28, graded again 11-30;
    F studied 06-01 and never tested (overdue since early June); E added by hand as
    studied 11-01 and suspended. Due dates set by hand: A today, B 12-02, C 12-06, D 12-07.
    On the SQLite file and on PostgreSQL.
    """
    for key, value in (("timezone", "Asia/Shanghai"), ("day_starts_at", "4"), ("fuzz", "off")):
        assert run("config", "set", key, value).exit_code == 0
    with freeze_time("2026-11-29 19:00:00"):
        assert run("import", str(write_log(LOG))).exit_code == 0
        assert run("add", "E", "--learned", "2026-11-01").exit_code == 0
    with freeze_time("2026-11-29 19:30:00"):
        assert run("grade", str(C), "good").exit_code == 0
    with freeze_time("2026-11-30 01:00:00"):
        assert run("grade", str(D), "again").exit_code == 0
    with freeze_time(NOW):
        for card, day in ((A, "2026-11-30"), (B, "2026-12-02"), (C, "2026-12-06"),
                          (D, "2026-12-07")):
            assert run("set-due", str(card), day).exit_code == 0
        assert run("suspend", str(E)).exit_code == 0


@pytest.fixture
def frozen() -> Iterator[None]:
    with freeze_time(NOW):
        yield


def test_stats_counts(history: None, frozen: None, run_json: RunJson) -> None:
    data = run_json("stats")
    assert data["today"] == "2026-11-30"
    assert data["cards"] == {"total": 6, "new": 0, "learning": 0, "review": 5,
                             "relearning": 0, "suspended": 1, "not_in_log": 0}
    # F is overdue; A is due today; B and C within the 7 days 11-30..12-06; D on 12-07.
    assert data["due"] == {"overdue": 1, "today": 2, "week": 4}
    assert data["reviews"]["last_30_days"] == {"self_tests": 3, "studied": 3, "per_day": 0.1}
    assert data["reviews"]["last_365_days"] == {"self_tests": 6, "studied": 6,
                                                "per_day": 0.02}
    assert data["reviews"]["days"] == [
        {"date": day, "self_tests": tests, "studied": studied}
        for day, tests, studied in (
            ("2026-06-01", 0, 1), ("2026-10-01", 0, 1), ("2026-10-03", 1, 0),
            ("2026-10-05", 0, 1), ("2026-10-10", 1, 0), ("2026-10-20", 1, 0),
            ("2026-11-01", 0, 1), ("2026-11-02", 1, 0), ("2026-11-10", 0, 1),
            ("2026-11-28", 0, 1), ("2026-11-29", 1, 0), ("2026-11-30", 1, 0))]
    # October: good, again, good; November: hard, good, again.
    assert data["true_retention"] == {
        "overall": 0.6667, "self_tests": 6, "passed": 4,
        "months": [{"month": "2026-10", "self_tests": 3, "passed": 2, "retention": 0.6667},
                   {"month": "2026-11", "self_tests": 3, "passed": 2, "retention": 0.6667}]}
    cards = [c for c in run_json("cards") if not c["suspended"]]
    assert data["memory"]["cards"] == 5
    assert data["memory"]["average_stability"] == round(
        sum(c["stability"] for c in cards) / 5, 2)
    assert data["forecast"]["backlog"] == 1


def test_forecast(history: None, frozen: None, run_json: RunJson) -> None:
    assert run_json("forecast", "--days", "9") == {
        "backlog": 1,
        "days": [{"date": f"2026-{day}", "due": n} for day, n in (
            ("11-30", 1), ("12-01", 0), ("12-02", 1), ("12-03", 0), ("12-04", 0),
            ("12-05", 0), ("12-06", 1), ("12-07", 1), ("12-08", 0))]}
    assert len(run_json("forecast")["days"]) == 30


def test_true_retention_leaves_out_relearning_steps(history: None, frozen: None, run: Run,
                                                    run_json: RunJson) -> None:
    """With a relearning step, A's self-test of 10-20 follows an again: not in review state."""
    assert run("config", "set", "relearning_steps", "10m").exit_code == 0
    data = run_json("stats")
    assert data["true_retention"]["months"] == [
        {"month": "2026-10", "self_tests": 2, "passed": 1, "retention": 0.5},
        {"month": "2026-11", "self_tests": 3, "passed": 2, "retention": 0.6667}]


def test_stats_human_output(history: None, frozen: None, run: Run) -> None:
    result = run("stats")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "Study day 2026-11-30",
        "Cards: 6 (0 new, 0 learning, 5 in review, 0 relearning; 1 suspended; "
        "0 no longer in the log)",
        "Due: 2 today (1 overdue), 4 within 7 days",
        "Self-tests, last 30 days: 3 (0.1 a day), 3 first studies",
        "Self-tests, last 365 days: 6 (0.02 a day), 6 first studies",
    ]
    assert "Self-tests in the last year" in result.stdout
    assert "· 0  █ 1" in result.stdout
    assert "Self-tests due per day" in result.stdout
    assert lines[-1] == "Backlog (due before today): 1"
    assert "\x1b[" not in result.stdout  # no colour codes when not a terminal


def test_forecast_human_output(history: None, frozen: None, run: Run) -> None:
    result = run("forecast", "--days", "7")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        "Backlog (due before today): 1; due in the next 7 days: 3")


def test_forecast_rejects_a_bad_number_of_days(run: Run) -> None:
    result = run("forecast", "--days", "0")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--days" in result.stderr


def test_plot_without_matplotlib_says_what_to_install(history: None, frozen: None, run: Run,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run("forecast", "--plot", str(tmp_path / "f.png"))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --plot needs matplotlib; install it with: pip install 'srs[plot]'\n")
    assert not (tmp_path / "f.png").exists()


def test_empty_database(db_url: str, run_json: RunJson) -> None:
    data = run_json("stats")
    assert data["cards"]["total"] == 0
    assert data["true_retention"] == {"overall": None, "self_tests": 0, "passed": 0,
                                      "months": []}
    assert data["memory"] == {"cards": 0, "average_stability": None,
                              "average_retrievability": None}


def test_heatmap_grid() -> None:
    today = date(2026, 11, 30)  # a Monday; the year shown starts on Monday 2025-12-01
    start, grid = heatmap_weeks([DayActivity(date(2025, 12, 1), 4, 0),
                                 DayActivity(date(2026, 11, 29), 2, 1),
                                 DayActivity(today, 1, 0)], today)
    assert start == date(2025, 12, 1)
    assert len(grid) == 7 and all(len(row) == 53 for row in grid)
    assert grid[0][0] == 4
    assert grid[6][51] == 2  # Sunday 11-29
    assert grid[0][52] == 1
    assert [row[52] for row in grid[1:]] == [None] * 6
    assert sum(v or 0 for row in grid for v in row) == 7


# -- a few hundred self-tests, counted independently -----------------------------------


def _store_steps(conn: SqlConn, engine: Engine) -> None:
    """Store what each self-test did, as a replay does, leaving the cards' states alone."""
    from srs.schedule import STORE_STEP, changed_steps, load_histories

    for card_id, history in load_histories(conn).items():
        _state, steps = engine.replay_history(card_id, history.events)
        conn.run_many(STORE_STEP, changed_steps(conn, history, steps))


def test_a_few_hundred_self_tests_agree_with_a_count_by_hand(db_url: str) -> None:
    """A random history straight into the database; every number recounted without srs."""
    from srs.app import App
    from srs.clock import DayClock
    from srs.engine import SchedulerSettings
    from srs.stats import collect_stats, forecast

    tz, starts = ZoneInfo("America/New_York"), 4
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    rng = random.Random(7)
    clock = DayClock(tz, starts)
    engine = Engine(SchedulerSettings(fuzz=False), clock)

    def day_of(moment: datetime) -> date:
        return (moment.astimezone(tz) - timedelta(hours=starts)).date()

    graded: list[tuple[datetime, int, bool]] = []  # (at, rating, is first study)
    dues: list[tuple[datetime, bool]] = []  # (due, counts: not suspended)

    def build(conn: SqlConn) -> None:
        for n in range(45):
            at = now - timedelta(days=rng.randint(40, 420), minutes=rng.randint(0, 1440))
            due = now + timedelta(days=rng.randint(-20, 40), hours=rng.randint(-12, 12))
            suspended = rng.random() < 0.1
            card_id = conn.insert(
                "INSERT INTO card (topic, notes, section, learned_on, state, stability, "
                "difficulty, due, last_review, last_review_day, suspended, in_log, "
                "created_at, updated_at) VALUES (:topic, '', '', :learned, 2, :stability, "
                "5.0, :due, :at, :at_day, :suspended, :no, :now, :now)",
                topic=f"topic {n}", learned=conn.day_value(day_of(at)),
                stability=rng.uniform(1, 50), due=conn.day_value(day_of(due)),
                at=conn.stamp(at), at_day=day_of(at).toordinal(), suspended=suspended,
                no=False, now=conn.stamp(now))
            dues.append((due, not suspended))
            for k in range(rng.randint(4, 11)):
                rating = 3 if k == 0 else rng.choice([1, 2, 3, 3, 3, 4])
                undone = k > 0 and rng.random() < 0.05
                conn.run("INSERT INTO review (card_id, at, kind, rating, source, recorded_at, "
                         "undone_at) VALUES (:card, :at, 'review', :rating, 'cli', :at, "
                         ":undone)", card=card_id, at=conn.stamp(at), rating=rating,
                         undone=conn.stamp(now) if undone else None)
                if not undone:
                    graded.append((at, rating, k == 0))
                at += timedelta(days=rng.randint(1, 30), minutes=rng.randint(-600, 600))
                if at > now:
                    break
        _store_steps(conn, engine)

    app = App()
    try:
        app.write(build)
        with app.reading() as conn:
            data = collect_stats(conn, engine=engine, clock=clock, now=now).to_json()
            ahead = forecast(conn, clock=clock, now=now, days=45).to_json()
    finally:
        app.close()

    today = day_of(now)
    tests = [(day_of(at), rating) for at, rating, first in graded if not first]
    assert len(tests) > 250
    for days, key in ((30, "last_30_days"), (365, "last_365_days")):
        since = today - timedelta(days=days - 1)
        assert data["reviews"][key]["self_tests"] == sum(1 for d, _r in tests if d >= since)
        assert data["reviews"][key]["studied"] == sum(
            1 for at, _r, first in graded if first and day_of(at) >= since)
    months: dict[str, list[int]] = {}
    for day, rating in tests:
        month = months.setdefault(day.strftime("%Y-%m"), [0, 0])
        month[0] += 1
        month[1] += rating >= 2
    assert [(m["month"], m["self_tests"], m["passed"])
            for m in data["true_retention"]["months"]] == [
        (m, n, p) for m, (n, p) in sorted(months.items())]
    per_day = Counter(day_of(due) for due, active in dues if active)
    assert ahead["backlog"] == sum(n for d, n in per_day.items() if d < today)
    assert [d["due"] for d in ahead["days"]] == [
        per_day.get(today + timedelta(days=i), 0) for i in range(45)]
    assert data["due"]["today"] == sum(n for d, n in per_day.items() if d <= today)
    assert data["due"]["week"] == sum(
        n for d, n in per_day.items() if d <= today + timedelta(days=6))
    assert data["cards"]["total"] == 45
    assert data["cards"]["suspended"] == sum(1 for _due, active in dues if not active)


# -- the stored steps against a replay of every card ------------------------------------


def _generated_log(rng: random.Random, rows: int) -> str:
    """A log of `rows` studied topics with up to six self-tests each, some failed or hard."""
    lines = ["| Topic | Status | Date | Self-test |", "|---|---|---|---|"]
    for n in range(rows):
        learned = day = date(2025, 10, 1) + timedelta(days=rng.randrange(420))
        tests = []
        for _k in range(rng.randrange(7)):
            day += timedelta(days=rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 34]))
            if day >= date(2026, 11, 29):
                break
            mark = rng.choice(["", "", "", "❌ "])
            word = rng.choice(["", "", "", " hard", " easy"]) if not mark else ""
            tests.append(f"{mark}{day.isoformat()}{word}")
        lines.append(f"| topic {n} | done | {learned.isoformat()} | {', '.join(tests)} |")
    return "\n".join(lines) + "\n"


def _replayed(conn: SqlConn, engine: Engine, today: date) -> dict[str, Any]:
    """Activity, true retention and memory recomputed by replaying every card's events
    through Engine.replay_history (nothing stored about a review is read)."""
    from srs.cardview import card_state
    from srs.engine import Event
    from srs.store import card_rows

    events: dict[int, list[Event]] = {}
    ratings: dict[int, list[int | None]] = {}
    for card_id, at, kind, rating, due_set in conn.all(
            "SELECT r.card_id, r.at, r.kind, r.rating, r.due_set FROM review r "
            "JOIN card c ON c.id = r.card_id WHERE r.undone_at IS NULL "
            "AND c.merged_into IS NULL ORDER BY r.card_id, r.at, r.id"):
        moment = conn.moment(at)
        assert moment is not None
        events.setdefault(card_id, []).append(Event(
            moment, rating if kind == "review" else None,
            conn.day(due_set) if due_set is not None else None, plan=kind == "plan"))
        ratings.setdefault(card_id, []).append(rating if kind == "review" else None)
    tests: Counter[date] = Counter()
    studied: Counter[date] = Counter()
    months: dict[str, list[int]] = {}
    for card_id, history in events.items():
        if all(event.plan for event in history):
            continue
        _state, steps = engine.replay_history(card_id, history)
        for step, rating in zip(steps, ratings[card_id], strict=True):
            if step is None:
                continue
            if step.prior_state == 0:
                studied[step.study_day] += 1
                continue
            tests[step.study_day] += 1
            if step.prior_state == 2:
                month = months.setdefault(step.study_day.strftime("%Y-%m"), [0, 0])
                month[0] += 1
                month[1] += int((rating or 0) >= 2)
    first = today - timedelta(days=364)
    days = [{"date": day.isoformat(), "self_tests": tests.get(day, 0),
             "studied": studied.get(day, 0)}
            for day in sorted(set(tests) | set(studied)) if first <= day <= today]
    active = [row for row in card_rows(conn, [card_id for (card_id,) in conn.all(
        "SELECT id FROM card WHERE merged_into IS NULL AND suspended = :no", no=False)]
    ).values() if row.stability is not None and row.last_review is not None]
    chances = [engine.retrievability(card_state(row), today) for row in active]
    return {
        "days": days,
        "months": [{"month": m, "self_tests": n, "passed": p}
                   for m, (n, p) in sorted(months.items())],
        "memory": {"cards": len(active),
                   "average_stability": round(sum(r.stability or 0 for r in active)
                                              / len(active), 2),
                   "average_retrievability": round(sum(chances) / len(active), 4)},
    }


def test_stats_from_stored_steps_equal_a_replay_of_every_card(
        db_url: str, run: Run, run_json: RunJson, write_log: Callable[..., Path]) -> None:
    """A generated log, then grades, an undo, a hand-set due day, a merge, a suspension, a
    settings change that replays everything and a damaged card: `stats` reads what the
    commands stored, and every figure equals a replay of the same cards."""
    from srs.app import App

    rng = random.Random(11)
    for key, value in (("timezone", "America/New_York"), ("day_starts_at", "4"),
                       ("fuzz", "off"), ("learning_steps", "10m")):
        assert run("config", "set", key, value).exit_code == 0
    with freeze_time("2026-11-29 12:00:00"):
        result = run("import", str(write_log(_generated_log(rng, 80))))
        assert result.exit_code == 0, result.output
    for moment, card, rating in (("2026-11-29 15:00:00", 3, "again"),
                                 ("2026-11-29 16:00:00", 5, "good"),
                                 ("2026-11-30 06:30:00", 7, "hard"),  # 01:30 local: 11-29
                                 ("2026-11-30 14:00:00", 3, "good"),
                                 ("2026-11-30 14:05:00", 9, "easy")):
        with freeze_time(moment):
            assert run("grade", str(card), rating).exit_code == 0
    with freeze_time("2026-11-30 14:10:00"):
        assert run("undo").exit_code == 0
        assert run("set-due", "11", "2026-12-03").exit_code == 0
        assert run("merge", "12", "13").exit_code == 0
        assert run("suspend", "14").exit_code == 0
        # A relearning step changes which self-tests were in review: everything is replayed.
        assert run("config", "set", "relearning_steps", "10m").exit_code == 0
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    app = App()
    try:
        app.write(lambda conn: conn.run("UPDATE card SET difficulty = 11 WHERE id = 15"))
        with app.reading() as conn:
            expected = _replayed(conn, app.engine(conn), app.clock.day_of(now))
    finally:
        app.close()
    with freeze_time(now):
        data = run_json("stats")
    assert data["reviews"]["days"] == expected["days"]
    assert [{k: m[k] for k in ("month", "self_tests", "passed")}
            for m in data["true_retention"]["months"]] == expected["months"]
    assert data["memory"] == expected["memory"]
    for days, key in ((30, "last_30_days"), (365, "last_365_days")):
        since = (now - timedelta(days=days - 1)).date().isoformat()
        inside = [d for d in expected["days"] if d["date"] >= since]
        assert data["reviews"][key]["self_tests"] == sum(d["self_tests"] for d in inside)
        assert data["reviews"][key]["studied"] == sum(d["studied"] for d in inside)
    # The history is rich enough for the comparison to mean something.
    assert sum(m["self_tests"] for m in expected["months"]) > 60
    assert sum(d["self_tests"] for d in expected["days"]) > sum(
        m["self_tests"] for m in expected["months"])  # some self-tests were not in review


# -- minutes of self-tests ---------------------------------------------------------------


@pytest.fixture
def timed(history: None, run: Run) -> None:
    """Durations on top of `history`: A 12 min at 03:40 local on 11-30 (study day 11-29);
    B 20 min and D 45 min on study day 11-30, D's stored as 5 h (a session left open,
    counted as the 2 h cap); C 30 min, undone."""
    from srs.app import App

    for moment, card, rating, duration in (("2026-11-29 19:40:00", A, "good", "12m"),
                                           ("2026-11-30 03:00:00", B, "hard", "20m"),
                                           ("2026-11-30 03:10:00", D, "good", "45m"),
                                           ("2026-11-30 03:20:00", C, "good", "30m")):
        with freeze_time(moment):
            result = run("grade", str(card), rating, "--duration", duration)
            assert result.exit_code == 0, result.output
    with freeze_time("2026-11-30 03:30:00"):
        assert run("undo").exit_code == 0  # C's grade
    app = App()
    try:
        app.write(lambda conn: conn.run(
            "UPDATE review SET duration = 18000 WHERE card_id = :card AND duration = 2700",
            card=D))
    finally:
        app.close()


def test_minutes_per_study_day(timed: None, run_json: RunJson) -> None:
    with freeze_time("2026-11-30 04:00:00"):
        minutes = run_json("stats")["minutes"]
    days = minutes.pop("last_30_days")
    assert minutes == {"total": 152.0, "per_day": 5.07, "self_tests_timed": 3,
                       "median_per_self_test": 20.0}
    assert [d["date"] for d in days] == [
        (date(2026, 11, 1) + timedelta(days=i)).isoformat() for i in range(30)]
    assert {d["date"]: d["minutes"] for d in days if d["minutes"]} == {
        "2026-11-29": 12.0, "2026-11-30": 140.0}


def test_minutes_leave_out_the_days_before_the_window(timed: None, run_json: RunJson) -> None:
    """Thirty study days on, only the last of the timed days is still in the window."""
    with freeze_time("2026-12-29 04:00:00"):  # study day 12-29: the window starts 11-30
        minutes = run_json("stats")["minutes"]
    assert minutes["total"] == 140.0 and minutes["self_tests_timed"] == 2
    assert minutes["median_per_self_test"] == 70.0
    assert minutes["last_30_days"][0] == {"date": "2026-11-30", "minutes": 140.0}


def test_minutes_in_the_text_and_the_chart(timed: None, run: Run,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    with freeze_time("2026-11-30 04:00:00"):
        result = run("stats")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[5] == ("Minutes of self-tests, last 30 days: 152 (5.07 a day); median 20 "
                        "min a self-test (3 timed)")
    chart = lines[lines.index("Minutes of self-tests per study day"):]
    chart = chart[:chart.index("")]
    # Three-digit bars: 30 of them would take 120 cells, so each bar sums two days.
    assert chart[-1] == "each bar: 2 days from the date under it"
    assert chart[1].split() == ["152"]  # 11-29 and 11-30, the last bar
    assert chart[-2].split()[0] == "11-01"
    assert max(len(line) for line in chart) <= 60, chart


def test_nothing_timed_says_how_to_time(history: None, frozen: None, run: Run,
                                        run_json: RunJson) -> None:
    assert run_json("stats")["minutes"]["self_tests_timed"] == 0
    result = run("stats")
    assert result.stdout.splitlines()[5] == (
        "No self-test timed in the last 30 days: 'review session' times each one, and "
        "'review grade ID good --duration 15m' records one")
    assert "Minutes of self-tests per study day" not in result.stdout


def test_minutes_fit_60_columns_on_a_terminal(run: Run) -> None:
    """On a real terminal of 60 columns (today's real date: a subprocess is not frozen)."""
    import os

    from rich.cells import cell_len
    from terminal import SGR, in_terminal

    for n in range(4):
        assert run("add", f"topic {n}", "--learned", "2026-01-01").exit_code == 0
        assert run("grade", str(n + 1), "good", "--duration", f"{5 * n + 3}m").exit_code == 0
    status, output = in_terminal(["stats"], env={**os.environ}, columns=60)
    text = SGR.sub(b"", output).decode()
    assert status == 0, text
    assert max(cell_len(line) for line in text.splitlines()) <= 60, text
    flat = " ".join(text.split())
    assert "Minutes of self-tests, last 30 days: 42 (1.4 a day); median 10.5 min a self-test " \
        "(4 timed)" in flat
    assert "Minutes of self-tests per study day" in text
