"""The daily loop: today's queue, grade, undo, set-due, spread and the piped session."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from freezegun import freeze_time
from fsrs import Card, Rating, Scheduler

from srs.text import short_day

UTC = timezone.utc

LOG = """# Log

## Week 1

| 章节 | 状态 | 日期 | 自测 |
|------|------|------|------|
| 向量 Vectors | ✅ | 2026-10-01 | ✅ 2026-10-04 |
| 矩阵 Matrices | ✅ | 2026-10-02 | |
| Determinants | ✅ | 2026-10-03 | ❌ 2026-10-10 |

## Week 2

| Topic | Status | Date | Self-test |
|---|---|---|---|
| Eigenvalues | done | 2026-11-20 | |
| Probability | done | 2026-11-25 | |
"""

NOW = "2026-11-30 10:00:00"


@pytest.fixture
def loaded(db_url: str, run: Callable[..., Result], write_log: Callable[..., Path]) -> Path:
    """The log above imported with fuzz off, in UTC, at NOW, on SQLite and PostgreSQL."""
    assert run("config", "set", "fuzz", "off").exit_code == 0
    path = write_log(LOG)
    with freeze_time(NOW):
        assert run("import", str(path)).exit_code == 0
    return path


def queue_ids(run_json: Callable[..., Any], *args: str) -> list[int]:
    return [card["id"] for card in run_json("today", *args)]


def assert_one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr


# -- today -------------------------------------------------------------------


def test_today_orders(loaded: Path, run_json: Callable[..., Any]) -> None:
    with freeze_time(NOW):
        # due dates (fuzz off): 1 -> 10-18, 2 -> 10-04, 3 -> 10-11, 4 -> 11-22, 5 -> 11-27
        assert queue_ids(run_json, "--order", "due") == [2, 3, 1, 4, 5]
        assert queue_ids(run_json, "--order", "log") == [1, 2, 3, 4, 5]
        by_r = run_json("today", "--order", "retrievability")
        rs = [card["retrievability"] for card in by_r]
        assert rs == sorted(rs)
        # 3 failed a self-test; 4 (stability 2.3, last study 10 study days ago) is less
        # retrievable than 1 (stability 14.0, tested 57 study days ago).
        assert [c["id"] for c in by_r] == [3, 2, 4, 1, 5]
        shuffled = queue_ids(run_json, "--order", "random")
        assert sorted(shuffled) == [1, 2, 3, 4, 5]
        assert queue_ids(run_json, "--order", "random") == shuffled  # stable within a day


def test_random_order_changes_with_the_day(loaded: Path, run_json: Callable[..., Any]) -> None:
    orders = set()
    for day in range(1, 8):
        with freeze_time(f"2026-12-0{day} 10:00:00"):
            orders.add(tuple(queue_ids(run_json, "--order", "random", "--all")))
    assert len(orders) > 1


def test_today_json_fields(loaded: Path, run_json: Callable[..., Any]) -> None:
    with freeze_time(NOW):
        first = run_json("today", "--order", "log")[0]
    assert first["id"] == 1
    assert first["overdue_days"] == 43  # due 2026-10-18
    assert first["due"] == "2026-10-18"  # a study day
    assert first["last_rating"] == "good"
    assert set(first) >= {"id", "topic", "notes", "section", "source", "learned_on", "state",
                          "due", "stability", "difficulty", "retrievability", "reviews",
                          "last_review", "suspended", "in_log", "overdue_days"}


def test_today_human_output_and_limit_footer(loaded: Path, run: Callable[..., Result]) -> None:
    assert run("config", "set", "max_reviews_per_day", "2").exit_code == 0
    with freeze_time(NOW):
        result = run("today", "--order", "due")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Study day Mon 11-30: 2 of 5 due (0 done today)"
    assert "57 days overdue" in result.stdout  # card 2, due 2026-10-04
    assert "3 more due beyond today's limit" in result.stdout


def test_limit_counts_reviews_done_this_study_day(loaded: Path, run: Callable[..., Result],
                                                  run_json: Callable[..., Any]) -> None:
    assert run("config", "set", "max_reviews_per_day", "3").exit_code == 0
    with freeze_time("2026-11-30 03:59:59"):  # still study day 2026-11-29
        assert run("grade", "2", "good").exit_code == 0
        assert queue_ids(run_json, "--order", "due") == [3, 1]
    with freeze_time("2026-11-30 04:00:01"):  # a new study day: the count starts again
        assert queue_ids(run_json, "--order", "due") == [3, 1, 4]
        assert run("grade", "3", "good").exit_code == 0
        assert queue_ids(run_json, "--order", "due") == [1, 4]
        assert queue_ids(run_json, "--order", "due", "--limit", "1") == [1]
        assert queue_ids(run_json, "--order", "due", "--all") == [1, 4, 5]


def test_a_review_after_midnight_counts_for_the_day_before(
        loaded: Path, run: Callable[..., Result], run_json: Callable[..., Any]) -> None:
    assert run("config", "set", "timezone", "Asia/Shanghai").exit_code == 0
    assert run("config", "set", "max_reviews_per_day", "2").exit_code == 0
    # 02:00 in Shanghai on 1 December is still study day 30 November.
    with freeze_time("2026-11-30 18:00:00"):
        assert run("grade", "2", "good").exit_code == 0
        assert len(run_json("today")) == 1
    with freeze_time("2026-11-30 20:00:00"):  # 04:00 in Shanghai: the new day
        assert len(run_json("today")) == 2


@pytest.mark.parametrize(("zone", "before", "after"), [
    # the night Berlin's clocks go back (25 Oct 2026): 03:59 CET is 02:59 UTC
    ("Europe/Berlin", "2026-10-25 02:59:59", "2026-10-25 03:00:01"),
    # the night New York's clocks go forward (8 Mar 2026): 03:59 EDT is 07:59 UTC
    ("America/New_York", "2026-03-08 07:59:59", "2026-03-08 08:00:01"),
])
def test_limit_resets_at_day_start_across_dst(db_url: str, run: Callable[..., Result],
                                              run_json: Callable[..., Any],
                                              write_log: Callable[..., Path],
                                              zone: str, before: str, after: str) -> None:
    rows = "\n".join(f"| T{i} | 2025-06-0{i + 1} |" for i in range(4))
    path = write_log(f"| Topic | Date |\n|---|---|\n{rows}\n")
    run("config", "set", "timezone", zone)
    run("config", "set", "max_reviews_per_day", "2")
    with freeze_time(before):
        run("import", str(path))
        assert run("grade", "1", "good").exit_code == 0
        assert len(run_json("today")) == 1
    with freeze_time(after):
        assert len(run_json("today")) == 2


def test_empty_queue_names_the_next_due_date(db_url: str, run: Callable[..., Result],
                                             write_log: Callable[..., Path]) -> None:
    path = write_log("| Topic | Date |\n|---|---|\n| Fresh | 2026-11-29 |\n")
    run("config", "set", "fuzz", "off")
    with freeze_time(NOW):
        run("import", str(path))
        result = run("today")
    assert result.exit_code == 0
    assert result.stdout == "Nothing due on Mon 11-30. Next self-test: Tue 12-01.\n"


def test_date_previews_another_day(loaded: Path, run_json: Callable[..., Any]) -> None:
    with freeze_time("2026-11-10 10:00:00"):
        assert queue_ids(run_json, "--order", "due") == [2, 3, 1]
        assert queue_ids(run_json, "--order", "due", "--date", "2026-11-25") == [2, 3, 1, 4]


def test_suspended_cards_leave_the_queue(loaded: Path, run: Callable[..., Result],
                                         run_json: Callable[..., Any]) -> None:
    with freeze_time(NOW):
        run("suspend", "2")
        assert 2 not in queue_ids(run_json, "--all")
        run("unsuspend", "2")
        assert 2 in queue_ids(run_json, "--all")


# -- grade ---------------------------------------------------------------------


def expected_after(history: list[tuple[datetime, Rating]], card_id: int) -> Card:
    scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    card = Card(card_id=card_id, due=history[0][0])
    for at, rating in history:
        card, _ = scheduler.review_card(card, rating, at)
    return card


def test_grade_schedules_with_fsrs(loaded: Path, run: Callable[..., Result],
                                   run_json: Callable[..., Any]) -> None:
    with freeze_time(NOW):
        result = run_json("grade", "1", "good", "--note", "recalled all but one")
    # FSRS counts study days: 10-04 to the grade at 10:00 on 11-30 is 57 days, not the
    # 56 whole 24-hour periods between the two moments.
    noon = lambda d: datetime.fromisoformat(d).replace(hour=12, tzinfo=UTC)  # noqa: E731
    card = expected_after([(noon("2026-10-01"), Rating.Good), (noon("2026-10-04"), Rating.Good),
                           (noon("2026-11-30"), Rating.Good)], 1)
    assert result["id"] == 1
    assert result["rating"] == "good"
    assert result["reviewed_at"] == "2026-11-30T10:00:00+00:00"
    assert result["due"] == card.due.date().isoformat()
    assert result["stability"] == card.stability
    assert result["difficulty"] == card.difficulty
    assert result["interval_days"] == (card.due.date() - noon("2026-11-30").date()).days
    assert 0 < result["retrievability_before"] < 1
    with freeze_time(NOW):
        shown = run_json("show", "1")
    assert shown["history"][-1] == {"at": "2026-11-30T10:00:00+00:00", "rating": "good",
                                    "source": "cli", "note": "recalled all but one"}


def test_grade_message(loaded: Path, run: Callable[..., Result]) -> None:
    with freeze_time(NOW):
        result = run("grade", "5", "easy")
    assert result.exit_code == 0
    assert result.stdout.startswith("card 5 easy: Probability; next self-test Fri 2027-01-01")
    assert ", in " in result.stdout and " days" in result.stdout


@pytest.mark.parametrize(("text", "rating"), [
    ("again", "again"), ("a", "again"), ("1", "again"), ("HARD", "hard"), ("h", "hard"),
    ("2", "hard"), ("good", "good"), ("g", "good"), ("3", "good"), ("easy", "easy"),
    ("e", "easy"), ("4", "easy"), ("5/10", "again"), ("6/10", "hard"), ("7/10", "hard"),
    ("8/10", "good"), ("95%", "easy"), ("59.5%", "again"), ("100%", "easy"),
])
def test_rating_forms(loaded: Path, run_json: Callable[..., Any], text: str,
                      rating: str) -> None:
    with freeze_time(NOW):
        assert run_json("grade", "4", text)["rating"] == rating


def test_score_thresholds_come_from_the_config(loaded: Path, run: Callable[..., Result],
                                               run_json: Callable[..., Any]) -> None:
    assert run("config", "set", "score_thresholds", "50,70,90").exit_code == 0
    with freeze_time(NOW):
        assert run_json("grade", "4", "7/10")["rating"] == "good"


def test_grade_at_backdates(loaded: Path, run_json: Callable[..., Any]) -> None:
    with freeze_time(NOW):
        result = run_json("grade", "4", "hard", "--at", "2026-11-28 20:30")
        assert result["reviewed_at"] == "2026-11-28T20:30:00+00:00"
        assert run_json("show", "4")["last_review"] == "2026-11-28T20:30:00+00:00"


def test_grading_early_is_allowed(loaded: Path, run_json: Callable[..., Any]) -> None:
    with freeze_time(NOW):
        first = run_json("grade", "5", "good")
        again = run_json("grade", "5", "good")
    assert again["due"] >= first["due"]


@pytest.mark.parametrize(("args", "needles"), [
    (("grade", "999", "good"), ("no card 999",)),
    (("grade", "1", "great"), ("'great'",)),
    (("grade", "1", "11/10"), ("'11/10' is out of range",)),
    (("grade", "1", "120%"), ("'120%' is out of range",)),
    (("grade", "1", "good", "--at", "2026-12-01 09:00"), ("in the future",)),
    (("grade", "1", "good", "--at", "2026-10-03"), ("before card 1's last review",)),
    (("grade", "1", "good", "--at", "sometime"), ("'sometime'", "yesterday", "-Nd")),
    (("grade", "1", "good", "--at", "25:00"), ("'25:00' is not a time of day",)),
    (("grade", "1", "good", "--at", "2026-12-01 09:00"), ("12-01 09:00 is in the future",)),
    (("grade", "x", "good"), ("'x'",)),
    (("today", "--date", "2026-02-30"), ("'2026-02-30'",)),
    (("today", "--order", "alphabetical"), ("'alphabetical'",)),
    (("set-due", "1", "soon"), ("'soon'", "+Nd")),
    (("set-due", "1", "2026-11-01"), ("Sun 11-01 is in the past",)),
    (("set-due", "77", "+3d"), ("no card 77",)),
    (("spread", "--days", "0"), ("0 is not in the range 1<=x<=3650",)),
    (("undo",), ("nothing to undo",)),
])
def test_bad_input_one_line_nothing_written(loaded: Path, query: Callable[[str], Any],
                                            run: Callable[..., Result],
                                            args: tuple[str, ...],
                                            needles: tuple[str, ...]) -> None:
    before = query("SELECT * FROM review ORDER BY id") + query("SELECT * FROM card ORDER BY id")
    with freeze_time(NOW):
        result = run(*args)
    assert_one_line_error(result, *needles)
    after = query("SELECT * FROM review ORDER BY id") + query("SELECT * FROM card ORDER BY id")
    assert after == before


# -- undo ----------------------------------------------------------------------


def test_undo_restores_the_card_bit_for_bit(loaded: Path, query: Callable[[str], Any],
                                            run: Callable[..., Result]) -> None:
    card_sql = ("SELECT state, step, stability, difficulty, due, last_review FROM card "
                "WHERE id = 3")
    before = query(card_sql)
    with freeze_time(NOW):
        assert run("grade", "3", "easy").exit_code == 0
        assert query(card_sql) != before
        result = run("undo")
    assert result.exit_code == 0
    assert result.stdout == ("undid easy of card 3 (Determinants); due again Sun 10-11\n")
    assert query(card_sql) == before
    # the undone review keeps its row, marked
    assert query("SELECT rating, source, undone_at IS NOT NULL FROM review "
                             "WHERE source = 'cli'") == [(4, "cli", 1)]


def test_undo_walks_back_and_never_undoes_the_log(loaded: Path, query: Callable[[str], Any],
                                                  run: Callable[..., Result],
                                                  run_json: Callable[..., Any]) -> None:
    with freeze_time(NOW):
        original = {i: run_json("show", str(i)) for i in (1, 2)}
    with freeze_time(NOW) as clock:
        run("grade", "1", "good")
        clock.tick(60)
        run("grade", "2", "again")
        clock.tick(60)
        run("grade", "1", "hard")
        for _ in range(3):
            clock.tick(1)
            assert run("undo").exit_code == 0
        assert_one_line_error(run("undo"), "nothing to undo")
    with freeze_time(NOW):
        for i in (1, 2):
            assert run_json("show", str(i)) == original[i]


def test_undo_after_a_later_import_replays_the_history_without_the_grade(
        loaded: Path, run: Callable[..., Result], run_json: Callable[..., Any]) -> None:
    with freeze_time(NOW) as clock:
        assert run("grade", "2", "easy").exit_code == 0
        clock.tick(60)
        # The log gains a self-test of the same card, recorded after the grade: the state
        # kept before the grade no longer describes the card.
        loaded.write_text(LOG.replace("| 矩阵 Matrices | ✅ | 2026-10-02 | |",
                                      "| 矩阵 Matrices | ✅ | 2026-10-02 | ✅ 2026-11-28 |"),
                          encoding="utf-8")
        assert run("import", str(loaded)).exit_code == 0
        clock.tick(60)
        result = run("undo")
        assert result.exit_code == 0, result.output
        shown = run_json("show", "2")
    noon = lambda d: datetime.fromisoformat(d).replace(hour=12, tzinfo=UTC)  # noqa: E731
    card = expected_after([(noon("2026-10-02"), Rating.Good),
                           (noon("2026-11-28"), Rating.Good)], 2)
    assert result.stdout == (
        f"undid easy of card 2 (矩阵 Matrices); due again "
        f"{short_day(card.due.date(), date(2026, 11, 30))}\n")
    assert (shown["due"], shown["stability"], shown["difficulty"], shown["reviews"]) == (
        card.due.date().isoformat(), card.stability, card.difficulty, 2)
    assert [entry["source"] for entry in shown["history"]] == ["log", "log"]


# -- set-due and spread ------------------------------------------------------


def test_set_due(loaded: Path, run: Callable[..., Result],
                 run_json: Callable[..., Any]) -> None:
    with freeze_time(NOW):
        history = run_json("show", "2")["history"]
        assert run("set-due", "2", "+3d").stdout == (
            "card 2 (矩阵 Matrices) is due on Thu 12-03\n")
        card = run_json("show", "2")
        assert card["due"] == "2026-12-03"  # a study day
        assert [h for h in card["history"] if h["source"] == "log"] == history
        assert 2 not in queue_ids(run_json, "--all")
        assert run("set-due", "2", "2026-12-24").exit_code == 0
        assert run_json("show", "2")["due"] == "2026-12-24"
    with freeze_time("2026-12-24 05:00:00"):
        assert 2 in queue_ids(run_json, "--all")
    with freeze_time(NOW):
        assert run("undo").exit_code == 0
        assert run_json("show", "2")["due"] == "2026-12-03"


def backlog_log(n: int) -> str:
    rows = "\n".join(f"| Topic {i:02d} | ✅ | 2026-{1 + i % 9:02d}-{1 + i % 27:02d} |"
                     for i in range(n))
    return f"| 章节 | 状态 | 日期 |\n|---|---|---|\n{rows}\n"


def due_days(run_json: Callable[..., Any]) -> Counter[str]:
    return Counter(card["due"][:10] for card in run_json("cards"))


def test_spread_caps_every_day_and_puts_most_at_risk_first(
        db_url: str, run: Callable[..., Result], run_json: Callable[..., Any],
        write_log: Callable[..., Path]) -> None:
    run("config", "set", "fuzz", "off")
    run("config", "set", "max_reviews_per_day", "4")
    path = write_log(backlog_log(23))
    with freeze_time(NOW):
        run("import", str(path))
        at_risk = run_json("today", "--all", "--order", "retrievability")
        assert len(at_risk) == 23
        plan = run_json("spread", "--days", "5", "--dry-run")
        assert run_json("today", "--all") == at_risk  # dry run changed nothing
        moved = run_json("spread", "--days", "5")
    assert moved["moved"] == [dict(m) for m in plan["moved"]]
    per_day = Counter(m["to"] for m in moved["moved"])
    assert max(per_day.values()) <= 4
    # 23 cards over 5 days: an even share is 5, capped at 4 -> 4 today and 4 a day after
    assert sorted(per_day.items()) == [("2026-12-01", 4), ("2026-12-02", 4),
                                       ("2026-12-03", 4), ("2026-12-04", 4),
                                       ("2026-12-05", 3)]
    with freeze_time(NOW):
        kept = queue_ids(run_json, "--all", "--order", "retrievability")
    assert kept == [card["id"] for card in at_risk[:4]]  # the most at risk stay today
    order = [m["id"] for m in moved["moved"]]
    assert order == [card["id"] for card in at_risk[4:]]
    with freeze_time(NOW):
        dues = due_days(run_json)
    assert all(dues[f"2026-12-0{day}"] <= 4 for day in range(1, 6))


def test_spread_counts_cards_already_due_on_a_day(db_url: str, run: Callable[..., Result],
                                                  run_json: Callable[..., Any],
                                                  write_log: Callable[..., Path]) -> None:
    run("config", "set", "fuzz", "off")
    run("config", "set", "max_reviews_per_day", "3")
    # six old topics (a backlog) and three studied on 2026-11-29, due 2026-12-01
    old = "\n".join(f"| Old {i} | ✅ | 2026-0{1 + i}-01 |" for i in range(6))
    new = "\n".join(f"| New {i} | ✅ | 2026-11-29 |" for i in range(3))
    path = write_log(f"| 章节 | 状态 | 日期 |\n|---|---|---|\n{old}\n{new}\n")
    with freeze_time(NOW):
        run("import", str(path))
        moved = run_json("spread", "--days", "2")["moved"]
    days = Counter(m["to"] for m in moved)
    assert "2026-12-01" not in days  # already full with the three new topics
    assert days == {"2026-12-02": 3}


# -- session -------------------------------------------------------------------


def test_piped_session_records_each_answer(loaded: Path, query: Callable[[str], Any],
                                           run: Callable[..., Result]) -> None:
    run("config", "set", "order", "due")  # cards 2, 3, 1, 4, 5
    with freeze_time(NOW):
        result = run("session", input="g\n?\ns\nh\nu\ne\nq\n")
    assert result.exit_code == 0, result.output
    assert "card 2 good: 矩阵 Matrices; next self-test" in result.stdout
    assert "card 1 hard" in result.stdout
    assert "undid hard of card 1" in result.stdout
    assert "1 of 5 · card 2: 矩阵 Matrices" in result.stdout
    assert "card 1 easy" in result.stdout
    assert "Stopped: 2 graded." in result.stdout
    rows = query("SELECT card_id, rating, undone_at IS NOT NULL FROM review "
                             "WHERE source = 'cli' ORDER BY id")
    assert rows == [(2, 3, 0), (1, 2, 1), (1, 4, 0)]


def test_session_ends_at_end_of_input_and_keeps_answers(loaded: Path, query: Callable[[str], Any],
                                                        run: Callable[..., Result]) -> None:
    with freeze_time(NOW):
        result = run("session", input="a\nbogus\n")
    assert result.exit_code == 0
    assert "Error: unknown rating 'bogus'" in result.stderr
    assert query("SELECT count(*) FROM review WHERE source = 'cli'") == [(1,)]


def test_session_walks_the_queue_to_the_end(loaded: Path, run: Callable[..., Result]) -> None:
    with freeze_time(NOW):
        result = run("session", input="g\n" * 5)
    assert "Done: 5 graded. Nothing more due today." in result.stdout


def test_grade_json_matches_show(loaded: Path, run_json: Callable[..., Any]) -> None:
    with freeze_time(NOW):
        graded = run_json("grade", "4", "good")
        shown = run_json("show", "4")
    assert shown["due"] == graded["due"]
    assert shown["stability"] == graded["stability"]
    assert json.dumps(shown["history"][-1]["rating"]) == '"good"'
    assert (date.fromisoformat(shown["due"]) - datetime.fromisoformat(
        graded["reviewed_at"]).date()).days == graded["interval_days"]


@pytest.mark.parametrize(("at", "expected"), [
    ("yesterday 20:30", "2026-11-29T20:30:00+00:00"),
    ("yesterday", "2026-11-29T12:00:00+00:00"),  # a day alone: noon of that study day
    ("-2d", "2026-11-28T12:00:00+00:00"),
    ("09:00", "2026-11-30T09:00:00+00:00"),
    ("today 08:15", "2026-11-30T08:15:00+00:00"),
    ("today", "2026-11-30T10:00:00+00:00"),  # noon is still to come: now
])
def test_at_takes_the_days_and_times_people_type(loaded: Path, run_json: Callable[..., Any],
                                                 at: str, expected: str) -> None:
    with freeze_time(NOW):
        graded = run_json("grade", "1", "good", "--at", at)
    assert graded["reviewed_at"] == expected


def test_a_suspended_card_is_not_graded(loaded: Path, run: Callable[..., Result],
                                        query: Callable[[str], Any]) -> None:
    with freeze_time(NOW):
        assert run("suspend", "1").exit_code == 0
        before = query("SELECT count(*) FROM review")
        result = run("grade", "1", "good")
        assert_one_line_error(result, "card 1 is suspended", "review unsuspend 1")
        assert query("SELECT count(*) FROM review") == before
        assert run("unsuspend", "1").exit_code == 0
        assert run("grade", "1", "good").exit_code == 0
