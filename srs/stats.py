"""How a person is doing: cards by state, self-tests per study day, true retention, forecast.

Words used here, as the README documents them:

- A card's *first study* is the first event of its history (the learned date of a log row,
  or `review add`); every later graded event is a *self-test*.
- *True retention* of a month is the share of passed self-tests (hard, good or easy) among
  the self-tests of cards that were in FSRS's review state just before them, the state of
  the replay of the card's history with the current settings. Self-tests inside learning
  or relearning steps are left out, as Anki's True Retention table leaves them out.
- Every count is by *study day* (the configured zone and `day_starts_at`), as `review today`
  counts; a month is the month of the study day.
- *Minutes* of a study day are the recorded durations of its self-tests (`review session`
  times each one, `review grade --duration` records one), each capped as srs.workload
  caps it; self-tests without a duration add nothing and are not counted as timed.

Nothing is replayed here: each self-test's step (its study day, the state before it; see
`srs.engine.ReviewStep`) is stored beside it by every grade, import and replay, so the
figures are SQL aggregates over `review` and `card` whose small results reach Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from srs.clock import DayClock

if TYPE_CHECKING:
    from srs.engine import Engine
    from srs.sql import SqlConn

REVIEW_STATE = 2
PASS = 2  # hard or better
HEATMAP_DAYS = 365
MINUTES_DAYS = 30

# The recorded durations of the self-tests of study days `since` to `today` that count, as
# srs.workload reads them: graded, not undone, not a card's first study.
_DURATIONS = ("SELECT study_day, duration FROM review WHERE {timed} "
              "AND study_day >= :since AND study_day <= :today")

# Graded events not undone, per study day: first studies, self-tests, and the self-tests
# of cards in review with how many of them passed. A merge moves the merged card's events
# to the card it went into, so every event here belongs to a card not merged away.
_PER_DAY = """
SELECT study_day,
       sum(CASE WHEN prior_state = 0 THEN 1 ELSE 0 END),
       sum(CASE WHEN prior_state > 0 THEN 1 ELSE 0 END),
       sum(CASE WHEN prior_state = :review THEN 1 ELSE 0 END),
       sum(CASE WHEN prior_state = :review AND rating >= :passing THEN 1 ELSE 0 END)
FROM review
WHERE undone_at IS NULL AND prior_state IS NOT NULL AND study_day IS NOT NULL
GROUP BY study_day"""

# Cards not merged away, grouped by what the counts tell apart, with the sums of their
# stabilities and of their retrievabilities today in one pass over the table. The
# retrievability is py-fsrs's, (1 + factor * elapsed / stability) ** decay, the elapsed
# study days counted from the stored day of the last review (as Engine.retrievability
# counts them), and 0 for a state the scheduler cannot take (srs.engine.unusable).
_CARDS = """
SELECT suspended, CASE WHEN last_review IS NULL THEN 1 ELSE 0 END, state, in_log,
       CASE WHEN source_id IS NULL THEN 1 ELSE 0 END, count(*), count(stability),
       sum(stability),
       sum(CASE WHEN state IN (1, 2, 3) AND stability > 0 AND stability < :infinity
                     AND (difficulty IS NULL OR (difficulty >= 1 AND difficulty <= 10))
                THEN power(1 + :factor * (CASE WHEN last_review_day < :today
                                               THEN :today - last_review_day ELSE 0 END)
                                   / stability, :decay)
                ELSE 0 END)
FROM card WHERE merged_into IS NULL
GROUP BY suspended, CASE WHEN last_review IS NULL THEN 1 ELSE 0 END, state, in_log,
         CASE WHEN source_id IS NULL THEN 1 ELSE 0 END"""

_ACTIVE = "FROM card WHERE suspended = :no AND merged_into IS NULL"  # cards that can be due


@dataclass(frozen=True)
class Forecast:
    """Self-tests falling due per study day from today, and the backlog before today."""

    today: date
    backlog: int
    days: list[tuple[date, int]]

    def to_json(self) -> dict[str, Any]:
        return {"backlog": self.backlog,
                "days": [{"date": day.isoformat(), "due": n} for day, n in self.days]}


def forecast(conn: SqlConn, *, clock: DayClock, now: datetime, days: int = 30) -> Forecast:
    """How many active cards (not suspended, not merged) fall due on each of the next `days` days.

    Day 1 is today's study day: it counts the cards due at any time of it, including
    those already due this morning; the backlog counts cards due on earlier study days.
    """
    today = clock.day_of(now)
    backlog = int(conn.scalar(f"SELECT count(*) {_ACTIVE} AND due < :today", no=False,
                              today=conn.day_value(today)) or 0)
    end = today + timedelta(days=days)
    per_day = {conn.day(day): int(n) for day, n in conn.all(
        f"SELECT due, count(*) {_ACTIVE} AND due >= :today AND due < :end GROUP BY due",
        no=False, today=conn.day_value(today), end=conn.day_value(end))}
    span = [today + timedelta(days=i) for i in range(days)]
    return Forecast(today, backlog, [(day, per_day.get(day, 0)) for day in span])


@dataclass(frozen=True)
class Minutes:
    """Minutes of timed self-tests per study day, the last `MINUTES_DAYS` to today."""

    days: list[tuple[date, float]]  # every study day of the window, oldest first
    timed: int  # self-tests with a recorded duration
    median: float | None  # minutes a timed self-test; None when none is timed

    @property
    def total(self) -> float:
        return sum(n for _day, n in self.days)

    def to_json(self) -> dict[str, Any]:
        return {
            "last_30_days": [{"date": day.isoformat(), "minutes": round(n, 1)}
                             for day, n in self.days],
            "total": round(self.total, 1),
            "per_day": round(self.total / len(self.days), 2),
            "self_tests_timed": self.timed,
            "median_per_self_test": None if self.median is None else round(self.median, 1),
        }


def minutes_per_day(conn: SqlConn, today: date, days: int = MINUTES_DAYS) -> Minutes:
    """The recorded minutes of self-tests on each of the `days` study days up to `today`."""
    from statistics import median

    from srs.workload import TIMED_SELF_TESTS, minutes

    since = today - timedelta(days=days - 1)
    per_day: dict[date, float] = {}
    every: list[float] = []
    for day, seconds in conn.all(_DURATIONS.format(timed=TIMED_SELF_TESTS),
                                 since=conn.day_value(since),
                                 today=conn.day_value(today)):
        value = minutes(float(seconds))
        every.append(value)
        day = conn.day(day)
        per_day[day] = per_day.get(day, 0.0) + value
    span = [since + timedelta(days=i) for i in range(days)]
    return Minutes([(day, per_day.get(day, 0.0)) for day in span], len(every),
                   float(median(every)) if every else None)


@dataclass(frozen=True)
class DayActivity:
    """What happened on one study day."""

    day: date
    self_tests: int = 0
    studied: int = 0


@dataclass(frozen=True)
class MonthRetention:
    """True retention of one month."""

    month: str
    self_tests: int
    passed: int

    @property
    def retention(self) -> float:
        return self.passed / self.self_tests


@dataclass
class Stats:
    """Everything `review stats` shows."""

    today: date
    cards: dict[str, int]
    due: dict[str, int]
    days: list[DayActivity]
    retention: list[MonthRetention]
    memory: dict[str, Any]
    forecast: Forecast
    minutes: Minutes
    windows: dict[int, tuple[int, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def window(n: int) -> dict[str, Any]:
            tests, studied = self.windows[n]
            return {"self_tests": tests, "studied": studied, "per_day": round(tests / n, 2)}

        passed = sum(m.passed for m in self.retention)
        tested = sum(m.self_tests for m in self.retention)
        return {
            "today": self.today.isoformat(),
            "cards": self.cards,
            "due": self.due,
            "reviews": {
                "last_30_days": window(30),
                "last_365_days": window(365),
                "days": [{"date": d.day.isoformat(), "self_tests": d.self_tests,
                          "studied": d.studied} for d in self.days],
            },
            "true_retention": {
                "overall": round(passed / tested, 4) if tested else None,
                "self_tests": tested,
                "passed": passed,
                "months": [{"month": m.month, "self_tests": m.self_tests, "passed": m.passed,
                            "retention": round(m.retention, 4)} for m in self.retention],
            },
            "memory": self.memory,
            "forecast": self.forecast.to_json(),
            "minutes": self.minutes.to_json(),
        }


def cards_and_memory(conn: SqlConn, parameters: Sequence[float], today: date
                     ) -> tuple[dict[str, int], dict[str, Any]]:
    """The cards not merged away, counted, and the memory of the active ones reviewed.

    Counts: in all, by FSRS state (not suspended), suspended, and imported cards whose row
    left the log. Memory: the average stability and retrievability on study day `today`
    (with FSRS `parameters`) of the cards not suspended that have been reviewed.
    """
    counts = dict.fromkeys(
        ("total", "new", "learning", "review", "relearning", "suspended", "not_in_log"), 0)
    decay = -parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    _with_power(conn)
    remembered, stability, chance = 0, 0.0, 0.0
    for (suspended, never, state, in_log, no_source, n, stable, stability_sum,
         chance_sum) in conn.all(_CARDS, infinity=math.inf, factor=factor, decay=decay,
                                 today=today.toordinal()):
        n = int(n)
        counts["total"] += n
        if not in_log and not no_source:
            counts["not_in_log"] += n
        if suspended:
            counts["suspended"] += n
            continue
        if never:
            counts["new"] += n
            continue
        counts[{2: "review", 3: "relearning"}.get(state, "learning")] += n
        if stable:
            remembered += int(stable)
            stability += float(stability_sum)
            chance += float(chance_sum)
    return counts, {
        "cards": remembered,
        "average_stability": round(stability / remembered, 2) if remembered else None,
        "average_retrievability": round(chance / remembered, 4) if remembered else None,
    }


@dataclass(frozen=True)
class StudyDay:
    """The graded events of one study day, as the stored steps count them."""

    day: date
    studied: int
    self_tests: int
    in_review: int  # self-tests of cards in review just before
    passed: int  # of those, passed


def study_days(conn: SqlConn) -> list[StudyDay]:
    """Every study day with a graded event not undone, oldest first."""
    return sorted(
        (StudyDay(conn.day(day), int(studied), int(tests), int(in_review), int(passed))
         for day, studied, tests, in_review, passed in conn.all(
             _PER_DAY, review=REVIEW_STATE, passing=PASS)),
        key=lambda d: d.day)


def _with_power(conn: SqlConn) -> None:
    """SQLite builds without the math functions get `power` from Python's."""
    from srs.sql import SQLiteConn

    if not isinstance(conn, SQLiteConn):
        return  # PostgreSQL has power(); SQLAlchemy's SQLite is the same library
    import sqlite3

    try:
        conn.conn.execute("SELECT power(2.0, 0.5)").fetchall()
    except sqlite3.OperationalError:
        conn.conn.create_function("power", 2, math.pow, deterministic=True)


def collect_stats(conn: SqlConn, *, engine: Engine, clock: DayClock, now: datetime,
                  forecast_days: int = 30) -> Stats:
    """Cards by state, what is due, activity per study day, true retention, memory and the
    minutes of timed self-tests.

    Cards count when not merged into another. `new`, `learning`, `review` and
    `relearning` split the cards that are not suspended by their FSRS state; `suspended`
    and `not_in_log` (imported cards whose row left the log) may overlap them.
    """
    today = clock.day_of(now)
    ahead = forecast(conn, clock=clock, now=now, days=max(forecast_days, 7))
    due_by = {day: n for day, n in ahead.days}
    due = {
        "overdue": ahead.backlog,
        "today": ahead.backlog + due_by[today],
        "week": ahead.backlog + sum(n for day, n in ahead.days if day <= today + timedelta(6)),
    }
    shown = Forecast(today, ahead.backlog, ahead.days[:forecast_days])

    first = today - timedelta(days=HEATMAP_DAYS - 1)
    months: dict[str, list[int]] = {}
    days: list[DayActivity] = []
    for step in study_days(conn):
        if step.in_review:
            month = months.setdefault(step.day.strftime("%Y-%m"), [0, 0])
            month[0] += step.in_review
            month[1] += step.passed
        if first <= step.day <= today:
            days.append(DayActivity(step.day, step.self_tests, step.studied))

    def window(n: int) -> tuple[int, int]:
        since = today - timedelta(days=n - 1)
        inside = [d for d in days if since <= d.day]
        return sum(d.self_tests for d in inside), sum(d.studied for d in inside)

    cards, remembered = cards_and_memory(conn, engine.settings.parameters, today)
    return Stats(
        today=today,
        cards=cards,
        due=due,
        days=days,
        retention=[MonthRetention(m, n, p) for m, (n, p) in sorted(months.items())],
        memory=remembered,
        forecast=shown,
        minutes=minutes_per_day(conn, today),
        windows={30: window(30), 365: window(365)},
    )


def heatmap_weeks(days: Sequence[DayActivity], today: date) -> tuple[date, list[list[int | None]]]:
    """Self-tests per study day over the last year as 7 rows (Monday first) of week columns.

    Returns the Monday of the first column and the grid; days after today are None.
    """
    first = today - timedelta(days=HEATMAP_DAYS - 1)
    start = first - timedelta(days=first.weekday())
    weeks = (today - start).days // 7 + 1
    counts = {d.day: d.self_tests for d in days}
    grid: list[list[int | None]] = [[None] * weeks for _ in range(7)]
    for offset in range((today - start).days + 1):
        day = start + timedelta(days=offset)
        grid[day.weekday()][offset // 7] = counts.get(day, 0) if day >= first else None
    return start, grid
