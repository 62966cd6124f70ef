"""Elapsed time counts study days, as Anki counts it: the hour of a self-test never matters.

FSRS's parameters were fitted on day counts taken at Anki's day rollover. These tests pin
that count down from every side: two grades on one study day, days around the hour the day
starts, histories across daylight-saving changes in zones with unusual rules, the memory
state against fsrs-rs (the Rust FSRS inside Anki), changes of the clock itself, and a
database scheduled by the earlier 24-hour count being upgraded.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from freezegun import freeze_time
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from srs.clock import DayClock
from srs.engine import Engine, Event, SchedulerSettings

UTC = timezone.utc
Run = Callable[..., Result]
RunJson = Callable[..., Any]

# Zones whose clocks do unusual things: a half-hour change (Lord Howe), a two-hour one
# (Troll), "negative" summer time (Dublin), summer time suspended for Ramadan
# (Casablanca), changes at midnight so that a day starts at 01:00 (Santiago, Havana),
# 45-minute offsets (Chatham), and the usual ones.
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
         "Antarctica/Troll", "Europe/Dublin", "Africa/Casablanca", "America/Santiago",
         "America/Havana", "Pacific/Chatham", "Asia/Kathmandu"]

# Self-tests on both sides of the 2025 changes of those zones (March-April and
# September-November in the north, April and September-October in the south).
LOG = """# 2025

| Topic | Date | Self-test |
|---|---|---|
| Spring forward | 2025-03-05 | ✅ 2025-03-09, 2025-03-15, ❌ 2025-03-31 |
| Learned before the change | 2025-03-08 | ✅ 2025-03-15 |
| Around Ramadan | 2025-02-20 | ✅ 2025-02-24, hard 2025-03-03, 2025-04-06 |
| Southern autumn | 2025-03-30 | ✅ 2025-04-05, 2025-04-07 |
| Southern spring | 2025-09-01 | ✅ 2025-09-06, 2025-09-08, 2025-10-06 |
| Fall back | 2025-10-20 | ✅ 2025-10-26, easy 2025-11-02, 2025-11-30 |
| Same day twice | 2025-11-28 | ✅ 2025-11-28, ❌ 2025-11-29 |
"""

MEMORY = ("state", "stability", "difficulty", "due", "last_review")


def configure(srs_home: Path, zone: str, day_starts_at: int = 4) -> None:
    config = srs_home / "config" / "config.toml"
    config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config.write_text(f'timezone = "{zone}"\nday_starts_at = {day_starts_at}\nfuzz = false\n',
                      encoding="utf-8")


def memory(run_json: RunJson, *extra: str) -> dict[int, tuple[Any, ...]]:
    """Each card's state, stability, difficulty and due day, as `review cards --json` says."""
    return {card["id"]: (card["state"], card["stability"], card["difficulty"], card["due"])
            for card in run_json(*extra, "cards")}


def local(text: str, zone: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


# --- one study day, whatever the hour -----------------------------------------------------


@pytest.mark.parametrize("hours", [("05:00", "23:00"), ("09:00", "13:00"),
                                   ("04:00", "2026-12-01 03:59")])
def test_a_morning_and_an_evening_self_test_schedule_alike(
        run: Run, run_json: RunJson, write_log: Callable[..., Path], tmp_path: Path,
        srs_home: Path, hours: tuple[str, str]) -> None:
    """Learned 11-27 (a log date), tested on study day 11-30: three days, at any hour."""
    configure(srs_home, "UTC")
    log = write_log("| Topic | Date |\n|---|---|\n| Chain rule | 2026-11-27 |\n")
    results = []
    for n, hour in enumerate(hours):
        url = f"sqlite:///{tmp_path / f'{n}.db'}"
        moment = hour if " " in hour else f"2026-11-30 {hour}"
        with freeze_time(moment):
            assert run("--db", url, "import", str(log)).exit_code == 0
            graded = run_json("--db", url, "grade", "1", "good")
        results.append((graded["stability"], graded["difficulty"], graded["due"],
                        graded["interval_days"], graded["retrievability_before"]))
    assert results[0] == results[1]
    expected = FsrsCard(card_id=1)
    scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    for day in ("2026-11-27", "2026-11-30"):
        expected, _log = scheduler.review_card(
            expected, Rating.Good, datetime.combine(date.fromisoformat(day), time(12), UTC))
    assert results[0][:3] == (expected.stability, expected.difficulty,
                              expected.due.date().isoformat())


@pytest.mark.parametrize(("second", "same_day"), [
    ("2026-12-01 03:59", True), ("2026-12-01 04:01", False), ("2026-12-01 00:30", True)])
def test_the_hour_the_day_starts_divides_two_self_tests(
        run: Run, run_json: RunJson, write_log: Callable[..., Path], srs_home: Path,
        second: str, same_day: bool) -> None:
    """Graded at 23:59, then again at 03:59 (same study day) or 04:01 (the next one)."""
    configure(srs_home, "UTC")
    log = write_log("| Topic | Date |\n|---|---|\n| Chain rule | 2026-11-20 |\n")
    with freeze_time("2026-11-30 23:59"):
        assert run("import", str(log)).exit_code == 0
        first = run_json("grade", "1", "good")
    with freeze_time(second):
        again = run_json("grade", "1", "good")
    engine = Engine(SchedulerSettings(fuzz=False), DayClock(UTC, 4))
    at = max(datetime.fromisoformat(second).replace(tzinfo=UTC), local("2026-11-30 23:59", "UTC"))
    state = engine.replay(1, [Event(local("2026-11-20 12:00", "UTC"), 3),
                              Event(local("2026-11-30 23:59", "UTC"), 3), Event(at, 3)])
    assert (again["stability"], again["difficulty"], again["due"]) == (
        state.stability, state.difficulty, state.due.isoformat())
    if same_day:
        # FSRS's same-day review: the short-term stability, not a review after 0 days' decay.
        assert again["retrievability_before"] == 1.0
    else:
        assert again["retrievability_before"] < 1.0
    assert first["due"] <= again["due"]


def test_retrievability_changes_only_when_a_study_day_begins(
        run: Run, run_json: RunJson, write_log: Callable[..., Path], srs_home: Path) -> None:
    configure(srs_home, "Europe/Berlin")
    log = write_log("| Topic | Date | Self-test |\n|---|---|---|\n"
                    "| Chain rule | 2026-10-01 | 2026-10-04 |\n")
    with freeze_time("2026-11-30 12:00"):
        assert run("import", str(log)).exit_code == 0

    def shown(moment: datetime) -> float:
        with freeze_time(moment):
            return float(run_json("today", "--all")[0]["retrievability"])

    start = local("2026-11-30 04:00", "Europe/Berlin")
    same_day = {shown(start + timedelta(minutes=m)) for m in (0, 1, 600, 1439)}
    assert len(same_day) == 1  # 04:00 to 03:59 the next morning: one value
    next_day = shown(start + timedelta(days=1))
    assert next_day < same_day.pop()
    assert shown(start + timedelta(days=1, minutes=-1)) != next_day


# --- the same log in every zone -----------------------------------------------------------


@pytest.mark.parametrize("day_starts_at", [0, 4, 13])
def test_a_log_schedules_alike_in_every_zone(
        run: Run, run_json: RunJson, write_log: Callable[..., Path], tmp_path: Path,
        srs_home: Path, day_starts_at: int) -> None:
    """Imported and graded at the same local wall times, any zone gives the same schedule."""
    log = write_log(LOG)
    seen: dict[str, dict[int, tuple[Any, ...]]] = {}
    for zone in ZONES:
        configure(srs_home, zone, day_starts_at)
        url = f"sqlite:///{tmp_path / (zone.replace('/', '-') + '.db')}"
        with freeze_time(local("2025-12-10 12:00", zone)):
            assert run("--db", url, "import", str(log)).exit_code == 0
            # Grades at local times on both sides of the hour the day starts.
            for card, at, rating in ((1, "2025-12-06 00:30", "good"),
                                     (6, "2025-12-07 23:50", "hard"),
                                     (6, "2025-12-08 03:30", "good"),
                                     (7, "2025-12-10 11:00", "again")):
                assert run("--db", url, "grade", str(card), rating, "--at", at).exit_code == 0
            seen[zone] = memory(run_json, "--db", url)
    for zone in ZONES:
        assert seen[zone] == seen["UTC"], zone


def test_a_history_across_the_spring_change_counts_whole_days(
        run: Run, run_json: RunJson, write_log: Callable[..., Path], srs_home: Path) -> None:
    """05 -> 09 March 2025 in New York is four days, though noon to noon is 3 d 23 h."""
    configure(srs_home, "America/New_York")
    log = write_log("| Topic | Date | Self-test |\n|---|---|---|\n"
                    "| Spring forward | 2025-03-05 | 2025-03-09 |\n")
    with freeze_time("2025-03-10 12:00"):
        assert run("import", str(log)).exit_code == 0
        card = run_json("show", "1")
    expected = FsrsCard(card_id=1)
    scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    for day in (5, 9):
        expected, _log = scheduler.review_card(expected, Rating.Good,
                                               datetime(2025, 3, day, 12, tzinfo=UTC))
    assert (card["stability"], card["due"]) == (expected.stability,
                                                 expected.due.date().isoformat())
    # Counted in 24-hour periods between the two local noons, it would have been 3 days.
    shorter = FsrsCard(card_id=1)
    for day in (5, 9):
        shorter, _log = scheduler.review_card(shorter, Rating.Good,
                                              local(f"2025-03-0{day} 12:00", "America/New_York"))
    assert shorter.stability < card["stability"]
    assert [h["at"] for h in card["history"]] == ["2025-03-05T12:00:00-05:00",
                                                   "2025-03-09T12:00:00-04:00"]


# --- the memory state against fsrs-rs ------------------------------------------------------


def _parameters(rng: random.Random) -> list[float]:
    return [min(max(d * (1 + rng.uniform(-0.3, 0.3)), low), high)
            for d, low, high in zip(DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS,
                                    UPPER_BOUNDS_PARAMETERS, strict=True)]


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
                                  "Africa/Casablanca", "America/Santiago", "Asia/Shanghai"])
def test_stability_and_difficulty_match_fsrs_rs_on_study_day_counts(zone: str) -> None:
    """After every review of random histories at random hours, across daylight-saving
    changes: our state is fsrs-rs's memory state for the study-day counts, to 1e-4."""
    from fsrs_rs_python import FSRS, FSRSItem, FSRSReview

    rng = random.Random(zone)
    clock = DayClock(ZoneInfo(zone), rng.choice([0, 4, 6]))
    compared = 0
    for n in range(120):
        parameters = _parameters(rng) if n % 2 else list(DEFAULT_PARAMETERS)
        engine = Engine(SchedulerSettings(fuzz=False, parameters=tuple(parameters)), clock)
        rust = FSRS(parameters)
        at = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(600 * 1440))
        state = engine.new_state(clock.day_of(at))
        reviews: list[Any] = []
        last: date | None = None
        for number in range(1, rng.randint(2, 12)):
            gap = rng.choice([0, 0, 1, 2, 3, 7, 20, 60, 200]) * 1440 + rng.randrange(-900, 900)
            at += timedelta(minutes=max(gap, 1))
            rating = rng.choice([1, 2, 3, 3, 3, 4])
            state = engine.review(n, state, rating, at, number)
            day = clock.day_of(at)
            reviews.append(FSRSReview(rating, (day - last).days if last else 0))
            last = day
            expected = rust.memory_state(FSRSItem(reviews))
            assert state.stability is not None and state.difficulty is not None
            assert state.stability == pytest.approx(expected.stability, rel=1e-4)
            assert state.difficulty == pytest.approx(expected.difficulty, abs=1e-4)
            compared += 1
    assert compared > 500


# --- changing the clock ---------------------------------------------------------------------


def test_changing_day_starts_at_reschedules_and_setting_it_back_restores(
        run: Run, run_json: RunJson, write_log: Callable[..., Path], srs_home: Path) -> None:
    configure(srs_home, "UTC")
    log = write_log("| Topic | Date | Self-test |\n|---|---|---|\n"
                    "| One | 2026-11-01 | 2026-11-05 |\n| Two | 2026-11-02 | |\n"
                    "| Three | 2026-11-20 | |\n")
    with freeze_time("2026-11-30 12:00"):
        assert run("import", str(log)).exit_code == 0
        # 02:30 belongs to the day before while days start at 04:00, to its own at 00:00.
        for card, at in ((1, "2026-11-24 02:30"), (2, "2026-11-25 23:30"),
                         (3, "2026-11-28 03:00")):
            assert run("grade", str(card), "good", "--at", at).exit_code == 0
        before = run_json("cards")
        changed = run("config", "set", "day_starts_at", "0")
        assert changed.exit_code == 0
        assert changed.stdout.splitlines() == [
            "day_starts_at = 0",
            "every card replayed with the new study days; 2 due dates moved"]
        after = run_json("cards")
        assert [c["due"] for c in after] != [c["due"] for c in before]
        assert after[1] == before[1]  # 23:30 is on the same day either way
        # Undoing the last grade takes back that grade, not the change of setting.
        back = run("config", "set", "day_starts_at", "4")
        assert back.stdout.splitlines()[-1] == (
            "every card replayed with the new study days; 2 due dates moved")
        assert run_json("cards") == before


def test_a_hand_edited_zone_is_followed_on_the_next_command(
        run: Run, run_json: RunJson, write_log: Callable[..., Path], srs_home: Path) -> None:
    configure(srs_home, "UTC")
    log = write_log("| Topic | Date |\n|---|---|\n| One | 2026-11-20 |\n")
    with freeze_time("2026-11-30 12:00"):
        assert run("import", str(log)).exit_code == 0
        assert run("grade", "1", "good", "--at", "2026-11-27 20:00").exit_code == 0
        in_utc = run_json("show", "1")
        configure(srs_home, "Asia/Tokyo")  # as if edited in an editor: 20:00 UTC is 05:00
        result = run("today", "--json")
        assert result.exit_code == 0
        assert "every card was replayed" in result.stderr
        in_tokyo = run_json("show", "1")
    assert in_tokyo["history"][0]["at"] == "2026-11-20T12:00:00+09:00"  # still that date
    assert in_tokyo["stability"] != in_utc["stability"]  # 8 study days apart, not 7
    with freeze_time("2026-11-30 12:00"):
        assert "replayed" not in run("today").stderr  # once


def test_restore_into_a_database_with_other_settings_reschedules(
        run: Run, run_json: RunJson, write_log: Callable[..., Path], srs_home: Path,
        tmp_path: Path) -> None:
    configure(srs_home, "UTC")
    log = write_log("| Topic | Date |\n|---|---|\n| One | 2026-11-20 |\n| Two | 2026-11-21 |\n")
    with freeze_time("2026-11-30 12:00"):
        assert run("import", str(log)).exit_code == 0
        assert run("grade", "1", "good", "--at", "2026-11-27 20:00").exit_code == 0
        assert run("export", "-o", str(tmp_path / "backup.json")).exit_code == 0
        assert run("config", "set", "timezone", "Asia/Tokyo").exit_code == 0
        in_tokyo = run_json("cards")
        other = f"sqlite:///{tmp_path / 'other.db'}"
        restored = run("--db", other, "restore", str(tmp_path / "backup.json"))
        assert restored.exit_code == 0
        assert "1 due date moved" in restored.stdout
        assert run_json("--db", other, "cards") == in_tokyo


# --- due is a study day everywhere ----------------------------------------------------------


def test_every_command_shows_the_same_due_day(
        run: Run, run_json: RunJson, write_log: Callable[..., Path], srs_home: Path) -> None:
    from icalendar import Calendar

    configure(srs_home, "Pacific/Chatham")  # +13:45 in December: far from UTC
    log = write_log("| Topic | Date | Self-test |\n|---|---|---|\n"
                    "| One | 2026-11-01 | 2026-11-04 |\n| Two | 2026-11-20 | |\n")
    now = local("2026-11-30 09:00", "Pacific/Chatham")
    with freeze_time(now):
        assert run("import", str(log)).exit_code == 0
        assert run("set-due", "2", "2026-12-03").exit_code == 0
        cards = {c["id"]: c["due"] for c in run_json("cards")}
        assert cards[2] == "2026-12-03"
        assert run_json("show", "2")["due"] == "2026-12-03"
        forecast = {d["date"]: d["due"] for d in run_json("forecast", "--days", "60")["days"]}
        events = Calendar.from_ical(run("export", "--format", "ics").stdout_bytes).walk("VEVENT")
        calendar = {str(e["UID"]).split("@")[0]: e["DTSTART"].dt.isoformat() for e in events}
        for card_id, due in cards.items():
            day = max(due, "2026-11-30")
            assert calendar[f"card-{card_id}"] == day
            preview = run_json("today", "--all", "--date", day)
            assert card_id in [c["id"] for c in preview]
            if due > "2026-11-30":
                assert forecast[due] >= 1
                earlier = (date.fromisoformat(due) - timedelta(days=1)).isoformat()
                assert card_id not in [c["id"] for c in run_json("today", "--all",
                                                                 "--date", earlier)]
        stats = run_json("stats")
    assert stats["today"] == "2026-11-30"


# --- a database scheduled by 24-hour periods ------------------------------------------------


def test_an_older_database_is_replayed_once_and_undo_restores_what_was_shown(
        run: Run, run_json: RunJson, srs_home: Path) -> None:
    """A database at revision 0003: due moments, Julian days, a grade taken at 09:00."""
    from srs.db import Database

    configure(srs_home, "UTC")
    path = srs_home / "data" / "srs.db"
    path.parent.mkdir(parents=True)
    old = Database(f"sqlite:///{path}")
    old.upgrade("0003")
    old.close()
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    studied = datetime(2026, 11, 20, 12, tzinfo=UTC)
    graded = datetime(2026, 11, 23, 9, tzinfo=UTC)  # 2 d 21 h: the old count said 2 days
    # What the person saw before that grade: the state after the study on 11-20.
    shown = {"state": 2, "step": None, "stability": 2.3065, "difficulty": 2.118103970459016,
             "due": "2026-11-22T12:00:00+00:00", "last_review": studied.isoformat()}
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO card (id, topic, notes, section, learned_on, state, stability, "
            "difficulty, due, last_review, suspended, in_log, created_at, updated_at) VALUES "
            "(1, 'Chain rule', '', '', '2026-11-20', 2, 9.0, 2.0, ?, ?, 0, 0, ?, ?)",
            ("2026-12-02 09:00:00.000000", graded.strftime(stamp), studied.strftime(stamp),
             graded.strftime(stamp)))
        conn.execute(
            "INSERT INTO review (card_id, at, kind, rating, source, recorded_at) VALUES "
            "(1, ?, 'review', 3, 'cli', ?)", (studied.strftime(stamp), studied.strftime(stamp)))
        conn.execute(
            "INSERT INTO review (card_id, at, kind, rating, source, state_before, recorded_at) "
            "VALUES (1, ?, 'review', 3, 'cli', ?, ?)",
            (graded.strftime(stamp), json.dumps(shown), graded.strftime(stamp)))
        assert conn.execute("SELECT last_review_day FROM card").fetchone()[0] > 2_400_000
    with freeze_time("2026-11-30 12:00"):
        first = run("cards", "--json")
        assert first.exit_code == 0
        assert "study days" in first.stderr
        card = run_json("show", "1")
        engine = Engine(SchedulerSettings(fuzz=False), DayClock(UTC, 4))
        state = engine.replay(1, [Event(studied, 3), Event(graded, 3)])
        assert (card["stability"], card["difficulty"], card["due"]) == (
            state.stability, state.difficulty, state.due.isoformat())
        assert "study days" not in run("cards").stderr  # once
        undone = run_json("undo")
        card = run_json("show", "1")
    assert undone["due"] == "2026-11-22"
    assert (card["stability"], card["difficulty"], card["due"], card["last_review"]) == (
        2.3065, 2.118103970459016, "2026-11-22", "2026-11-20T12:00:00+00:00")
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT last_review_day FROM card").fetchone()[0] == (
            date(2026, 11, 20).toordinal())


def test_a_backup_from_before_study_days_restores_and_is_replayed(
        run: Run, run_json: RunJson, write_log: Callable[..., Path], srs_home: Path,
        tmp_path: Path) -> None:
    """A backup of schema 0003 holds due moments and no record of its clock."""
    configure(srs_home, "UTC")
    log = write_log("| Topic | Date | Self-test |\n|---|---|---|\n"
                    "| One | 2026-11-01 | 2026-11-04 |\n| Two | 2026-11-20 | |\n")
    with freeze_time("2026-11-30 12:00"):
        assert run("import", str(log)).exit_code == 0
        assert run("set-due", "2", "2026-12-24").exit_code == 0
        expected = run_json("cards")
        assert run("export", "-o", str(tmp_path / "new.json")).exit_code == 0
    backup = json.loads((tmp_path / "new.json").read_text(encoding="utf-8"))
    backup["schema"] = "0003"
    card, review = backup["tables"]["card"], backup["tables"]["review"]
    for table, column in ((card, "due"), (review, "due_set")):
        at = table["columns"].index(column)
        for row in table["rows"]:
            if row[at] is not None:  # the start of that study day, as 0003 stored it
                row[at] = f"{row[at]}T04:00:00+00:00"
    at = card["columns"].index("last_review_day")
    for row in card["rows"]:
        row[at] = 2461000.5  # a Julian day, as 0003's trigger kept it
    setting = backup["tables"]["setting"]
    setting["rows"] = [row for row in setting["rows"] if row[0] != "schedule.clock"]
    (tmp_path / "old.json").write_text(json.dumps(backup), encoding="utf-8")
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with freeze_time("2026-11-30 12:00"):
        assert run("--db", other, "restore", str(tmp_path / "old.json")).exit_code == 0
        assert run_json("--db", other, "cards") == expected
    with closing(sqlite3.connect(tmp_path / "other.db")) as conn:
        days = conn.execute("SELECT last_review_day FROM card ORDER BY id").fetchall()
    assert days == [(date(2026, 11, 4).toordinal(),), (date(2026, 11, 20).toordinal(),)]
