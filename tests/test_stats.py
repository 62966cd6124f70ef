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
def history(run: Run, write_log: Callable[..., Path]) -> None:
    """The log above in Asia/Shanghai with days starting at 04:00, plus grades made here.

    By study day: A studied 10-01, self-tests 10-03 (good), 10-10 (again), 10-20 (good);
    B studied 10-05, self-test 11-02 (hard); C studied 11-10, graded good at 03:30 local
    on 11-30, which counts for study day 11-29; D studied 11-28, graded again 11-30;
    F studied 06-01 and never tested (overdue since early June); E added by hand as
    studied 11-01 and suspended. Due dates set by hand: A today, B 12-02, C 12-06, D 12-07.
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


def test_empty_database(run_json: RunJson) -> None:
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


def test_a_few_hundred_self_tests_agree_with_a_count_by_hand(tmp_path: Path) -> None:
    """A random history straight into the database; every number recounted without srs."""
    from srs.clock import DayClock
    from srs.db import open_database
    from srs.engine import Engine, SchedulerSettings
    from srs.models import Card, Review
    from srs.stats import collect_stats, forecast

    tz, starts = ZoneInfo("America/New_York"), 4
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    rng = random.Random(7)

    def day_of(moment: datetime) -> date:
        return (moment.astimezone(tz) - timedelta(hours=starts)).date()

    db = open_database(f"sqlite:///{tmp_path / 'many.db'}")
    graded: list[tuple[datetime, int, bool]] = []  # (at, rating, is first study)
    dues: list[tuple[datetime, bool]] = []  # (due, counts: not suspended)

    def build(session: Any) -> None:
        for n in range(45):
            at = now - timedelta(days=rng.randint(40, 420), minutes=rng.randint(0, 1440))
            due = now + timedelta(days=rng.randint(-20, 40), hours=rng.randint(-12, 12))
            suspended = rng.random() < 0.1
            card = Card(topic=f"topic {n}", learned_on=day_of(at), state=2, due=day_of(due),
                        stability=rng.uniform(1, 50), difficulty=5.0, last_review=at,
                        suspended=suspended, in_log=False, created_at=now, updated_at=now)
            session.add(card)
            session.flush()
            dues.append((due, not suspended))
            for k in range(rng.randint(4, 11)):
                rating = 3 if k == 0 else rng.choice([1, 2, 3, 3, 3, 4])
                undone = k > 0 and rng.random() < 0.05
                session.add(Review(card_id=card.id, at=at, kind="review", rating=rating,
                                   source="cli", recorded_at=at,
                                   undone_at=now if undone else None))
                if not undone:
                    graded.append((at, rating, k == 0))
                at += timedelta(days=rng.randint(1, 30), minutes=rng.randint(-600, 600))
                if at > now:
                    break

    db.write(build)
    clock = DayClock(tz, starts)
    engine = Engine(SchedulerSettings(fuzz=False), clock)
    with db.reading() as session:
        data = collect_stats(session, engine=engine, clock=clock, now=now).to_json()
        ahead = forecast(session, clock=clock, now=now, days=45).to_json()
    db.close()

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
