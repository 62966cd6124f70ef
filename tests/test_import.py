"""Tests of `review import`: the sync of a study log into cards and their history."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from freezegun import freeze_time
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler

Run = Callable[..., Result]
RunJson = Callable[..., Any]
WriteLog = Callable[..., Path]
Query = Callable[[str], list[tuple[Any, ...]]]

NOW = "2025-06-01 08:00:00"  # UTC; every test runs at this moment

LOG = """\
# 学习记录 Study log

## 第一周 线性代数

| 章节 | 状态 | 日期 | 自测 |
|------|------|------|------|
| 1.1 向量 | ✅ | 2025-03-01 | ✅ 2025-03-03 |
| 1.2 矩阵乘法 | ✅ | 2025-03-02 | ❌ 2025-03-05, 2025-03-09 hard |
| 1.3 行列式 | ⏳ | | |

## Week 2: Probability

| Topic | Status | Date | Self-test | Notes |
|---|---|---|---|---|
| Bayes' theorem | done | 2025-03-10 | 2025-03-13 | prior, likelihood |
| Random variables | done | 2025-03-11 | | discrete and continuous |
| Markov chains | todo | | | |
"""
# Card ids after importing LOG into an empty database, in log order.
VECTORS, MATMUL, BAYES, RANDOM_VARS = 1, 2, 3, 4

NEW_ROW = "| Expectation | done | 2025-03-14 | | linearity |\n"


@pytest.fixture(autouse=True)
def frozen_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    if "db_url" in request.fixturenames:
        request.getfixturevalue("db_url")  # the database (and its driver) before the clock
    with freeze_time(NOW):
        yield


def edit(text: str, old: str, new: str) -> str:
    """`text` with its one occurrence of `old` replaced."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def import_json(run_json: RunJson, *paths: Path) -> dict[str, Any]:
    return run_json("import", *map(str, paths))  # type: ignore[no-any-return]


def report(created: int = 0, updated: int = 0, unchanged: int = 0, reviews: int = 0,
           pending: int = 0, warnings: list[dict[str, Any]] | None = None,
           gone: list[int] | None = None, planned: int = 0,
           skipped: int = 0) -> dict[str, Any]:
    """The JSON an import prints."""
    return {"cards_created": created, "cards_updated": updated, "cards_unchanged": unchanged,
            "reviews_added": reviews, "pending": pending, "planned": planned,
            "skipped": skipped, "warnings": warnings or [], "no_longer_in_log": gone or [],
            "moved": []}


def card(run_json: RunJson, card_id: int) -> dict[str, Any]:
    return run_json("show", str(card_id))  # type: ignore[no-any-return]


def history(run_json: RunJson, card_id: int) -> list[tuple[str, str]]:
    """A card's history as (at, rating) pairs, oldest first."""
    return [(entry["at"], entry["rating"]) for entry in card(run_json, card_id)["history"]]


def fuzz_off(run: Run) -> None:
    assert run("config", "set", "fuzz", "off").exit_code == 0


def db_file(srs_home: Path) -> Path:
    return srs_home / "data" / "srs.db"


def dump(srs_home: Path) -> list[str]:
    """Every row of the database as SQL, to tell that nothing was written."""
    with closing(sqlite3.connect(db_file(srs_home))) as conn:
        return list(conn.iterdump())


def sqlite_rows(srs_home: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db_file(srs_home))) as conn:
        return conn.execute(sql).fetchall()


def noon(day: str, tz: str = "UTC") -> datetime:
    """Noon local time on `day`, in UTC, as the importer dates an event known by its date."""
    return datetime.combine(date.fromisoformat(day), time(12), ZoneInfo(tz)).astimezone(
        timezone.utc)


def fsrs_replay(card_id: int, reviews: list[tuple[str, Rating]]) -> FsrsCard:
    """The card py-fsrs itself makes of a history counted in study days, without learning
    steps or fuzz: each review at noon UTC of its date, so that py-fsrs's whole days
    between reviews are the study days between them in any zone."""
    scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    state = FsrsCard(card_id=card_id)
    for day, rating in reviews:
        state, _log = scheduler.review_card(state, rating, noon(day))
    return state


def fsrs_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in
            ("state", "stability", "difficulty", "due", "last_review")}


def expected_fields(state: FsrsCard, tz: str = "UTC") -> dict[str, Any]:
    """What `show --json` says of a card in that state: due a study day, the last review at
    local noon of its date."""
    assert state.last_review is not None
    last = noon(state.last_review.date().isoformat(), tz)
    return {
        "state": state.state.name.lower(),
        "stability": state.stability,
        "difficulty": state.difficulty,
        "due": state.due.date().isoformat(),
        "last_review": last.astimezone(ZoneInfo(tz)).isoformat(),
    }


# --- the report ----------------------------------------------------------------------------


def test_import_json_counts(run_json: RunJson, write_log: WriteLog, db_url: str) -> None:
    assert import_json(run_json, write_log(LOG)) == report(created=4, reviews=8, pending=2)


def test_import_prints_a_short_summary(run: Run, write_log: WriteLog) -> None:
    result = run("import", str(write_log(LOG)))
    assert result.exit_code == 0
    assert result.stdout == (
        "4 new, 0 updated, 0 unchanged cards; 8 reviews added; 2 pending; 0 warnings\n")
    assert result.stderr == ""


def test_cards_after_import_in_log_order(run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    cards = run_json("cards")
    assert [(c["id"], c["topic"], c["section"], c["learned_on"], c["reviews"], c["source"])
            for c in cards] == [
        (VECTORS, "1.1 向量", "第一周 线性代数", "2025-03-01", 2, f"{path}:7"),
        (MATMUL, "1.2 矩阵乘法", "第一周 线性代数", "2025-03-02", 3, f"{path}:8"),
        (BAYES, "Bayes' theorem", "Week 2: Probability", "2025-03-10", 2, f"{path}:15"),
        (RANDOM_VARS, "Random variables", "Week 2: Probability", "2025-03-11", 1, f"{path}:16"),
    ]
    assert [c["notes"] for c in cards] == ["", "", "prior, likelihood", "discrete and continuous"]
    assert all(c["in_log"] and not c["suspended"] for c in cards)


# --- re-imports ----------------------------------------------------------------------------


def test_reimporting_an_unchanged_log_changes_nothing(
        run_json: RunJson, write_log: WriteLog, query: Query, db_url: str) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    cards, rows = run_json("cards"), query("SELECT * FROM review ORDER BY id")
    assert import_json(run_json, path) == report(unchanged=4, pending=2)
    assert run_json("cards") == cards
    assert query("SELECT * FROM review ORDER BY id") == rows


def test_edited_notes_update_the_card_in_place(run_json: RunJson, write_log: WriteLog,
                                                db_url: str) -> None:
    import_json(run_json, write_log(LOG))
    edited = edit(LOG, "prior, likelihood", "prior, likelihood<br>posterior")
    assert import_json(run_json, write_log(edited)) == report(updated=1, unchanged=3, pending=2)
    bayes = card(run_json, BAYES)
    assert (bayes["topic"], bayes["notes"]) == ("Bayes' theorem", "prior, likelihood\nposterior")
    assert len(run_json("cards")) == 4


def test_an_appended_row_adds_one_card(run_json: RunJson, write_log: WriteLog,
                                       db_url: str) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    write_log(LOG + NEW_ROW)
    assert import_json(run_json, path) == report(created=1, unchanged=4, reviews=1, pending=2)
    cards = run_json("cards")
    assert [c["id"] for c in cards] == [1, 2, 3, 4, 5]
    assert (cards[-1]["topic"], cards[-1]["learned_on"], cards[-1]["source"]) == (
        "Expectation", "2025-03-14", f"{path}:18")


def test_a_removed_row_keeps_its_card_and_history(run_json: RunJson, write_log: WriteLog,
                                                  db_url: str) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    before = card(run_json, MATMUL)
    write_log(edit(LOG, "| 1.2 矩阵乘法 | ✅ | 2025-03-02 | ❌ 2025-03-05, 2025-03-09 hard |\n",
                   ""))
    assert import_json(run_json, path) == report(unchanged=3, pending=2, gone=[MATMUL])
    after = card(run_json, MATMUL)
    assert after["in_log"] is False
    assert {**after, "in_log": True} == before
    assert [c["id"] for c in run_json("cards")] == [1, 2, 3, 4]
    # Imported again unchanged, it is still reported as no longer in the log.
    assert import_json(run_json, path) == report(unchanged=3, pending=2, gone=[MATMUL])


def test_the_summary_names_cards_no_longer_in_the_log(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    write_log(edit(LOG, "| 1.1 向量 | ✅ | 2025-03-01 | ✅ 2025-03-03 |\n", ""))
    result = run("import", str(path))
    assert (result.exit_code, result.stdout) == (0, (
        "0 new, 0 updated, 3 unchanged cards; 0 reviews added; 2 pending; 0 warnings\n"
        "no longer in the log (kept): card 1\n"))
    listed = run("cards").stdout.splitlines()
    assert listed[1].split()[0] == "1" and listed[1].rstrip().endswith("not in log")
    assert not any(line.rstrip().endswith("not in log") for line in listed[2:])


def test_a_row_put_back_is_in_the_log_again(run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    write_log(edit(LOG, "| Random variables | done | 2025-03-11 | | discrete and continuous |\n",
                   ""))
    import_json(run_json, path)
    write_log(LOG)
    assert import_json(run_json, path) == report(updated=1, unchanged=3, pending=2)
    restored = card(run_json, RANDOM_VARS)
    assert (restored["in_log"], restored["reviews"]) == (True, 1)


def test_reordered_rows_keep_their_cards(run_json: RunJson, write_log: WriteLog,
                                         db_url: str) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    first = "| 1.1 向量 | ✅ | 2025-03-01 | ✅ 2025-03-03 |\n"
    second = "| 1.2 矩阵乘法 | ✅ | 2025-03-02 | ❌ 2025-03-05, 2025-03-09 hard |\n"
    write_log(edit(LOG, first + second, second + first))
    assert import_json(run_json, path) == report(unchanged=4, pending=2)
    assert [(c["id"], c["source"]) for c in run_json("cards")][:2] == [
        (MATMUL, f"{path}:7"), (VECTORS, f"{path}:8")]


def test_a_relative_and_an_absolute_path_are_the_same_log(
        run_json: RunJson, write_log: WriteLog, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_log(LOG)
    monkeypatch.chdir(tmp_path)
    assert run_json("import", "log.md") == report(created=4, reviews=8, pending=2)
    assert import_json(run_json, path) == report(unchanged=4, pending=2)
    assert run_json("cards")[0]["source"] == f"{path}:7"


def test_a_pending_row_once_done_becomes_a_card(run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    write_log(edit(LOG, "| 1.3 行列式 | ⏳ | | |", "| 1.3 行列式 | ✅ | 2025-03-04 | |"))
    assert import_json(run_json, path) == report(created=1, unchanged=4, reviews=1, pending=1)
    assert [c["topic"] for c in run_json("cards")][2] == "1.3 行列式"


def test_a_changed_grade_updates_the_review(
        run: Run, run_json: RunJson, write_log: WriteLog, db_url: str) -> None:
    fuzz_off(run)
    path = write_log(LOG)
    import_json(run_json, path)
    write_log(edit(LOG, "2025-03-09 hard", "2025-03-09 easy"))
    assert import_json(run_json, path) == report(updated=1, unchanged=3, pending=2)
    assert history(run_json, MATMUL)[-1] == ("2025-03-09T12:00:00+00:00", "easy")
    expected = fsrs_replay(
        MATMUL,
        [("2025-03-02", Rating.Good), ("2025-03-05", Rating.Again), ("2025-03-09", Rating.Easy)])
    assert fsrs_fields(card(run_json, MATMUL)) == expected_fields(expected)


def test_a_new_self_test_adds_a_review_and_moves_due(
        run: Run, run_json: RunJson, write_log: WriteLog, db_url: str) -> None:
    fuzz_off(run)
    path = write_log(LOG)
    import_json(run_json, path)
    due_before = card(run_json, VECTORS)["due"]
    write_log(edit(LOG, "✅ 2025-03-03 |", "✅ 2025-03-03、2025-03-20 |"))
    assert import_json(run_json, path) == report(updated=1, unchanged=3, reviews=1, pending=2)
    vectors = card(run_json, VECTORS)
    assert history(run_json, VECTORS) == [
        ("2025-03-01T12:00:00+00:00", "good"),
        ("2025-03-03T12:00:00+00:00", "good"),
        ("2025-03-20T12:00:00+00:00", "good"),
    ]
    assert vectors["due"] != due_before
    expected = fsrs_replay(VECTORS, [("2025-03-01", Rating.Good), ("2025-03-03", Rating.Good),
                                     ("2025-03-20", Rating.Good)])
    assert vectors["due"] == expected.due.date().isoformat()


def test_a_removed_self_test_stops_counting_but_is_kept(
        run: Run, run_json: RunJson, write_log: WriteLog, srs_home: Path) -> None:
    fuzz_off(run)
    path = write_log(LOG)
    import_json(run_json, path)
    before = card(run_json, MATMUL)
    write_log(edit(LOG, "❌ 2025-03-05, 2025-03-09 hard", "❌ 2025-03-05"))
    assert import_json(run_json, path) == report(updated=1, unchanged=3, pending=2)
    assert history(run_json, MATMUL) == [
        ("2025-03-02T12:00:00+00:00", "good"),
        ("2025-03-05T12:00:00+00:00", "again"),
    ]
    after = card(run_json, MATMUL)
    assert after["reviews"] == 2
    expected = fsrs_replay(MATMUL, [("2025-03-02", Rating.Good), ("2025-03-05", Rating.Again)])
    assert fsrs_fields(after) == expected_fields(expected)
    assert after["due"] != before["due"]
    assert sqlite_rows(srs_home, f"SELECT log_entry, rating, undone_at FROM review "
                           f"WHERE card_id = {MATMUL} ORDER BY id") == [
        ("learned", 3, None),
        ("test:2025-03-05", 1, None),
        ("test:2025-03-09", 2, "2025-06-01 08:00:00.000000"),
    ]


def test_a_self_test_written_back_counts_again(run_json: RunJson, write_log: WriteLog,
                                               db_url: str) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    before = card(run_json, MATMUL)
    write_log(edit(LOG, "❌ 2025-03-05, 2025-03-09 hard", "❌ 2025-03-05"))
    import_json(run_json, path)
    write_log(LOG)
    assert import_json(run_json, path) == report(updated=1, unchanged=3, pending=2)
    assert card(run_json, MATMUL) == before


# --- history and the FSRS state ------------------------------------------------------------


def test_history_is_dated_at_local_noon_and_replayed_through_fsrs(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    assert run("config", "set", "timezone", "Asia/Shanghai").exit_code == 0
    fuzz_off(run)
    import_json(run_json, write_log(LOG))
    assert history(run_json, MATMUL) == [
        ("2025-03-02T12:00:00+08:00", "good"),
        ("2025-03-05T12:00:00+08:00", "again"),
        ("2025-03-09T12:00:00+08:00", "hard"),
    ]
    assert [entry["source"] for entry in card(run_json, MATMUL)["history"]] == ["log"] * 3
    expected = fsrs_replay(
        MATMUL,
        [("2025-03-02", Rating.Good), ("2025-03-05", Rating.Again), ("2025-03-09", Rating.Hard)],
    )
    assert fsrs_fields(card(run_json, MATMUL)) == expected_fields(expected, "Asia/Shanghai")
    assert card(run_json, MATMUL)["learned_on"] == "2025-03-02"

    expected = fsrs_replay(VECTORS, [("2025-03-01", Rating.Good), ("2025-03-03", Rating.Good)])
    assert fsrs_fields(card(run_json, VECTORS)) == expected_fields(expected, "Asia/Shanghai")
    expected = fsrs_replay(RANDOM_VARS, [("2025-03-11", Rating.Good)])
    assert fsrs_fields(card(run_json, RANDOM_VARS)) == expected_fields(expected, "Asia/Shanghai")


def test_a_learned_date_range_ends_the_range(run_json: RunJson, write_log: WriteLog) -> None:
    import_json(run_json, write_log(edit(LOG, "| 2025-03-10 |", "| 2025-03-08 ～ 10 |")))
    assert card(run_json, BAYES)["learned_on"] == "2025-03-10"
    assert history(run_json, BAYES)[0] == ("2025-03-10T12:00:00+00:00", "good")


def test_fuzz_gives_the_same_due_in_two_databases(
        run: Run, write_log: WriteLog, tmp_path: Path) -> None:
    text = edit(LOG, "✅ 2025-03-03 |", "✅ 2025-03-03, 2025-03-12, 2025-04-02 |")
    path = write_log(text)
    dues = []
    for name in ("one.db", "two.db"):
        url = f"sqlite:///{tmp_path / name}"
        assert run("--db", url, "import", str(path)).exit_code == 0
        dues.append(json.loads(run("--db", url, "show", str(VECTORS), "--json").stdout)["due"])
    assert dues[0] == dues[1]
    unfuzzed = fsrs_replay(VECTORS, [("2025-03-01", Rating.Good), ("2025-03-03", Rating.Good),
                                     ("2025-03-12", Rating.Good), ("2025-04-02", Rating.Good)])
    assert dues[0] != unfuzzed.due.date().isoformat()  # fuzz moved it, the same way twice


def test_exact_repeats_make_two_cards_that_stay(run_json: RunJson, write_log: WriteLog) -> None:
    repeated = "| 1.1 向量 | ✅ | 2025-03-01 | ✅ 2025-03-03 |\n"
    text = edit(LOG, repeated, repeated + "| 1.1 向量 | ✅ | 2025-03-01 | ❌ 2025-03-04 |\n")
    path = write_log(text)
    assert import_json(run_json, path) == report(created=5, reviews=10, pending=2)
    assert [(c["id"], c["topic"], c["learned_on"]) for c in run_json("cards")][:2] == [
        (1, "1.1 向量", "2025-03-01"), (2, "1.1 向量", "2025-03-01")]
    assert history(run_json, 2) == [("2025-03-01T12:00:00+00:00", "good"),
                                    ("2025-03-04T12:00:00+00:00", "again")]
    assert import_json(run_json, path) == report(unchanged=5, pending=2)
    assert history(run_json, 2) == [("2025-03-01T12:00:00+00:00", "good"),
                                    ("2025-03-04T12:00:00+00:00", "again")]


# --- review rows ---------------------------------------------------------------------------

CN_REVIEW = "| 自测 矩阵乘法 | ✅ | 2025-03-12 | |\n"
EN_REVIEW = "| Review: Bayes | done | 2025-03-20 | | 5 of 6 right |\n"


def with_review_rows(cn_row: str = CN_REVIEW, en_row: str = EN_REVIEW) -> str:
    text = edit(LOG, "| 1.3 行列式 | ⏳ | | |\n", "| 1.3 行列式 | ⏳ | | |\n" + cn_row)
    return text + en_row


def test_review_rows_become_reviews_of_the_card_they_name(
        run: Run, run_json: RunJson, write_log: WriteLog, db_url: str) -> None:
    path = write_log(with_review_rows())
    result = run("import", str(path), "--dry-run")
    assert result.exit_code == 0
    assert f"{path}:10: review of card {MATMUL} 自测 矩阵乘法\n" in result.stdout
    assert f"{path}:19: review of card {BAYES} Review: Bayes\n" in result.stdout
    assert import_json(run_json, path) == report(created=4, reviews=10, pending=2)
    assert history(run_json, MATMUL)[-1] == ("2025-03-12T12:00:00+00:00", "good")
    assert history(run_json, BAYES) == [
        ("2025-03-10T12:00:00+00:00", "good"),
        ("2025-03-13T12:00:00+00:00", "good"),
        ("2025-03-20T12:00:00+00:00", "good"),
    ]
    assert len(run_json("cards")) == 4
    assert import_json(run_json, path) == report(unchanged=4, pending=2)


def test_a_review_row_naming_two_cards_is_a_card_of_its_own(
        run_json: RunJson, write_log: WriteLog) -> None:
    text = with_review_rows(en_row="| Naive Bayes | done | 2025-03-15 | | |\n" + EN_REVIEW)
    assert import_json(run_json, write_log(text)) == report(created=6, reviews=11, pending=2)
    topics = [c["topic"] for c in run_json("cards")]
    assert topics[-2:] == ["Naive Bayes", "Review: Bayes"]
    assert history(run_json, BAYES)[-1] == ("2025-03-13T12:00:00+00:00", "good")


def test_a_review_row_naming_no_card_is_a_card_of_its_own(
        run_json: RunJson, write_log: WriteLog) -> None:
    text = with_review_rows(cn_row="| 复习 傅里叶变换 | ✅ | 2025-03-12 | |\n")
    assert import_json(run_json, write_log(text)) == report(created=5, reviews=10, pending=2)
    assert [c["topic"] for c in run_json("cards")][2] == "复习 傅里叶变换"


def test_a_review_row_before_its_topic_was_learned_is_a_card(
        run_json: RunJson, write_log: WriteLog) -> None:
    text = with_review_rows(en_row="| Review: Bayes | done | 2025-03-09 | | |\n")
    assert import_json(run_json, write_log(text)) == report(created=5, reviews=10, pending=2)
    assert [c["topic"] for c in run_json("cards")][-1] == "Review: Bayes"


# --- on both databases ---------------------------------------------------------------------

TABLES = ("log_source", "log_row", "card", "review", "setting")


def every_row(query: Query) -> dict[str, list[tuple[Any, ...]]]:
    return {table: query(f"SELECT * FROM {table} ORDER BY 1") for table in TABLES}


STEPS = ("SELECT id, study_day, prior_state, elapsed_days, retrievability, stability, "
         "difficulty FROM review ORDER BY id")


def test_every_self_test_stores_what_it_did_as_a_replay_would(
        run: Run, run_json: RunJson, write_log: WriteLog, query: Query, db_url: str) -> None:
    path = write_log(with_review_rows())
    import_json(run_json, path)
    write_log(edit(with_review_rows(), "✅ 2025-03-03 |", "✅ 2025-03-03、2025-03-20 |")
              + NEW_ROW)
    assert import_json(run_json, path) == report(created=1, updated=1, unchanged=3,
                                                  reviews=2, pending=2)
    imported = query(STEPS)
    counted = {rid for rid, kind, undone in query(
        "SELECT id, kind, undone_at FROM review ORDER BY id")
        if kind == "review" and undone is None}
    assert len(counted) == 12
    assert all(step[1] is not None and step[5] is not None for step in imported
               if step[0] in counted)
    cards = [(c["id"], c["due"], c["stability"]) for c in run_json("cards")]
    # A replay of every card from its history writes the same steps and states.
    assert run("check", "--repair").exit_code == 0
    assert query(STEPS) == imported
    assert [(c["id"], c["due"], c["stability"]) for c in run_json("cards")] == cards


def test_a_dry_run_writes_nothing_and_takes_the_ids_an_import_would(
        run: Run, run_json: RunJson, write_log: WriteLog, query: Query, db_url: str) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    before = every_row(query)
    write_log(edit(LOG, "prior, likelihood", "prior") + NEW_ROW)
    result = run("import", str(path), "--dry-run")
    assert result.exit_code == 0
    assert f"{path}:18: new card 5 Expectation\n" in result.stdout
    assert every_row(query) == before
    assert import_json(run_json, path) == report(created=1, updated=1, unchanged=3, reviews=1,
                                                  pending=2)
    assert [c["id"] for c in run_json("cards")] == [1, 2, 3, 4, 5]


def test_logs_lists_and_moves_a_log(run: Run, run_json: RunJson, write_log: WriteLog,
                                    tmp_path: Path, db_url: str) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    [listed] = run_json("logs")
    assert {k: listed[k] for k in ("id", "path", "rows", "cards", "pending", "state")} == {
        "id": 1, "path": str(path), "rows": 6, "cards": 4, "pending": 2, "state": "unchanged"}
    moved = tmp_path / "moved.md"
    path.rename(moved)
    assert run_json("logs")[0]["state"] == "missing"
    info = run_json("logs", "move", str(path), str(moved))
    assert (info["id"], info["path"], info["cards"], info["state"]) == (
        1, str(moved), 4, "unchanged")
    assert import_json(run_json, moved) == report(unchanged=4, pending=2)


# --- dry run, strict, several files --------------------------------------------------------


def test_dry_run_prints_each_row_and_writes_nothing(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    bad = "| 1.4 特征值 | ✅ | 2025-13-01 | |\n"
    path = write_log(edit(LOG, "| 1.3 行列式 | ⏳ | | |\n", "| 1.3 行列式 | ⏳ | | |\n" + bad))
    result = run("import", str(path), "--dry-run")
    assert result.exit_code == 0
    assert result.stdout == (
        f"{path}:5: table [章节=topic, 状态=status, 日期=date, 自测=self_test]: 3 rows\n"
        f"{path}:14: table [Topic=topic, Status=status, Date=date, Self-test=self_test, "
        "Notes=notes]: 3 rows\n"
        f"{path}:7: new card 1 1.1 向量\n"
        f"{path}:8: new card 2 1.2 矩阵乘法\n"
        f"{path}:9: pending 1.3 行列式\n"
        f"{path}:10: warning: cannot read date '2025-13-01'\n"
        f"{path}:16: new card 3 Bayes' theorem\n"
        f"{path}:17: new card 4 Random variables\n"
        f"{path}:18: pending Markov chains\n"
        "4 new, 0 updated, 0 unchanged cards; 8 reviews added; 2 pending; 1 warning\n"
        "dry run: nothing written\n"
    )
    assert run_json("cards") == []


def test_dry_run_on_an_imported_log_writes_nothing(
        run: Run, run_json: RunJson, write_log: WriteLog, srs_home: Path) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    before = dump(srs_home)
    write_log(edit(LOG, "prior, likelihood", "prior") + NEW_ROW)
    result = run("import", str(path), "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{path}:5: table [章节=topic, 状态=status, 日期=date, 自测=self_test]: 3 rows",
        f"{path}:13: table [Topic=topic, Status=status, Date=date, Self-test=self_test, "
        "Notes=notes]: 4 rows",
        f"{path}:7: unchanged card 1 1.1 向量",
        f"{path}:8: unchanged card 2 1.2 矩阵乘法",
        f"{path}:9: pending 1.3 行列式",
        f"{path}:15: update card 3 Bayes' theorem",
        f"{path}:16: unchanged card 4 Random variables",
        f"{path}:17: pending Markov chains",
        f"{path}:18: new card 5 Expectation",
        "1 new, 1 updated, 3 unchanged cards; 1 review added; 2 pending; 0 warnings",
        "dry run: nothing written",
    ]
    assert dump(srs_home) == before
    assert run_json("import", str(path), "--dry-run") == report(
        created=1, updated=1, unchanged=3, reviews=1, pending=2)
    assert dump(srs_home) == before


BAD_ROW = "| Variance | done | 2025-02-30 | | |\n"


def test_without_strict_a_bad_row_is_reported_and_good_rows_import(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log(LOG + BAD_ROW)
    result = run("import", str(path))
    assert result.exit_code == 0
    assert result.stderr == f"{path}:18: cannot read date '2025-02-30'\n"
    assert result.stdout == (
        "4 new, 0 updated, 0 unchanged cards; 8 reviews added; 2 pending; 1 warning\n")
    assert len(run_json("cards")) == 4


def test_warnings_in_json(run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log(LOG + BAD_ROW)
    warning = {"file": str(path), "line": 18, "message": "cannot read date '2025-02-30'"}
    assert import_json(run_json, path) == report(created=4, reviews=8, pending=2,
                                                 warnings=[warning])


def test_strict_with_a_bad_row_writes_nothing(
        run: Run, run_json: RunJson, write_log: WriteLog, srs_home: Path) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    before = dump(srs_home)
    write_log(LOG + NEW_ROW + BAD_ROW.replace("Variance", "Variance 方差"))
    result = run("import", str(path), "--strict")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: 1 warning with --strict, nothing imported; "
        f"first: {path}:19: cannot read date '2025-02-30'\n")
    assert "Traceback" not in result.output
    assert dump(srs_home) == before


def test_strict_without_warnings_imports(run_json: RunJson, write_log: WriteLog) -> None:
    assert run_json("import", str(write_log(LOG)), "--strict") == report(
        created=4, reviews=8, pending=2)


ENGLISH_ONLY = """\
Topic | Date | Quiz
--- | --- | ---
Linear regression | 2025-04-01 | 2025-04-03 easy
Logistic regression | 2025-04-02 |
"""


def test_several_files_import_together(run_json: RunJson, write_log: WriteLog) -> None:
    first, second = write_log(LOG), write_log(ENGLISH_ONLY, "ml.md")
    assert import_json(run_json, first, second) == report(created=6, reviews=11, pending=2)
    cards = run_json("cards")
    assert [(c["id"], c["topic"], c["source"]) for c in cards[4:]] == [
        (5, "Linear regression", f"{second}:3"), (6, "Logistic regression", f"{second}:4")]
    assert history(run_json, 5) == [("2025-04-01T12:00:00+00:00", "good"),
                                    ("2025-04-03T12:00:00+00:00", "easy")]
    assert import_json(run_json, first, second) == report(unchanged=6, pending=2)


def test_a_file_named_twice_is_imported_once(
        run_json: RunJson, write_log: WriteLog, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_log(LOG + BAD_ROW)
    monkeypatch.chdir(tmp_path)
    warning = {"file": str(path), "line": 18, "message": "cannot read date '2025-02-30'"}
    assert import_json(run_json, path, Path("log.md")) == report(
        created=4, reviews=8, pending=2, warnings=[warning])


def test_reviews_recorded_through_the_cli_are_kept(
        run: Run, run_json: RunJson, write_log: WriteLog, srs_home: Path) -> None:
    fuzz_off(run)
    path = write_log(LOG)
    import_json(run_json, path)
    with closing(sqlite3.connect(db_file(srs_home))) as conn, conn:
        conn.execute("INSERT INTO review (card_id, at, kind, rating, source, recorded_at) "
                     "VALUES (?, '2025-03-20 09:30:00.000000', 'review', 2, 'cli', "
                     "'2025-03-20 09:30:00.000000')", (VECTORS,))
    write_log(edit(LOG, "✅ 2025-03-03 |", "|"))  # the log's own self-test goes away
    assert import_json(run_json, path) == report(updated=1, unchanged=3, pending=2)
    assert [(e["at"], e["rating"], e["source"]) for e in card(run_json, VECTORS)["history"]] == [
        ("2025-03-01T12:00:00+00:00", "good", "log"),
        ("2025-03-20T09:30:00+00:00", "hard", "cli"),
    ]
    # 09:30 on 03-20 is 19 study days after the study on 03-01 (18 days 21.5 hours).
    expected = fsrs_replay(VECTORS, [("2025-03-01", Rating.Good), ("2025-03-20", Rating.Hard)])
    assert fsrs_fields(card(run_json, VECTORS)) == {
        **expected_fields(expected), "last_review": "2025-03-20T09:30:00+00:00"}
    assert sqlite_rows(srs_home, "SELECT source, undone_at FROM review WHERE source = 'cli'") == [
        ("cli", None)]


@pytest.mark.parametrize("second", ["missing.md", "latin1.md"])
def test_a_bad_second_file_aborts_before_writing(
        run: Run, write_log: WriteLog, srs_home: Path, tmp_path: Path, second: str) -> None:
    first = write_log(LOG)
    if second == "latin1.md":
        write_log("| Thema | Datum |\n|---|---|\n| Größe | 2025-03-01 |\n".encode("latin-1"),
                  second)
    bad = tmp_path / second
    result = run("import", str(first), str(bad))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert str(bad) in result.stderr
    assert "Traceback" not in result.output
    assert not db_file(srs_home).exists()


def test_a_failed_import_leaves_an_existing_database_as_it_was(
        run: Run, run_json: RunJson, write_log: WriteLog, srs_home: Path, tmp_path: Path) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    before = dump(srs_home)
    write_log(LOG + NEW_ROW)
    result = run("import", str(path), str(tmp_path / "missing.md"))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'missing.md'}: no such file\n"
    assert dump(srs_home) == before


# --- the database file and the installed command -------------------------------------------


def test_database_file_is_private(run_json: RunJson, write_log: WriteLog, srs_home: Path) -> None:
    import_json(run_json, write_log(LOG))
    assert stat.S_IMODE(db_file(srs_home).stat().st_mode) == 0o600
    assert stat.S_IMODE(db_file(srs_home).parent.stat().st_mode) == 0o700


def review_command() -> str:
    """The installed `review` script next to the running interpreter."""
    script = Path(sys.executable).parent / "review"
    assert script.is_file(), script
    return str(script)


def test_installed_command_imports_and_lists_cards(tmp_path: Path, write_log: WriteLog) -> None:
    path = write_log(LOG)
    env = {**os.environ, "SRS_HOME": str(tmp_path / "home"), "TZ": "UTC"}
    env.pop("SRS_DATABASE_URL", None)

    def review(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([review_command(), *args], env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    assert review("config", "set", "timezone", "UTC").returncode == 0
    imported = review("import", str(path), "--json")
    assert (imported.returncode, imported.stderr) == (0, "")
    assert json.loads(imported.stdout) == report(created=4, reviews=8, pending=2)
    listed = review("cards", "--json")
    assert listed.returncode == 0
    assert [(c["id"], c["topic"]) for c in json.loads(listed.stdout)] == [
        (1, "1.1 向量"), (2, "1.2 矩阵乘法"), (3, "Bayes' theorem"), (4, "Random variables")]
    assert stat.S_IMODE((tmp_path / "home" / "data" / "srs.db").stat().st_mode) == 0o600


# --- an unchanged file is not parsed again ------------------------------------------------

MONTH_13 = "| Bad date | ✅ | 2025-13-40 | |\n"


def test_unchanged_reimport_reports_from_the_last_import_without_parsing(
        run: Run, run_json: RunJson, write_log: WriteLog,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_log(edit(LOG, "| 1.3 行列式 | ⏳ | | |\n", "| 1.3 行列式 | ⏳ | | |\n" + MONTH_13))
    first = import_json(run_json, path)
    assert len(first["warnings"]) == 1

    import srs.logparse

    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an unchanged log was parsed again")

    monkeypatch.setattr(srs.logparse, "parse_log_bytes", no_parsing)
    second = import_json(run_json, path)
    assert second == report(unchanged=4, pending=2, warnings=first["warnings"])


def test_a_new_timezone_makes_an_unchanged_log_sync_again(run: Run, run_json: RunJson,
                                                          write_log: WriteLog) -> None:
    path = write_log(LOG)
    import_json(run_json, path)
    assert history(run_json, VECTORS)[0][0] == "2025-03-01T12:00:00+00:00"
    assert run("config", "set", "timezone", "Asia/Shanghai").exit_code == 0
    # The change of zone moved every log review to noon in Shanghai and replayed the cards;
    # the log is read again (its digest depends on the zone) and agrees.
    assert history(run_json, VECTORS)[0][0] == "2025-03-01T12:00:00+08:00"
    again = import_json(run_json, path)
    assert (again["cards_updated"], again["cards_unchanged"]) == (0, 4)
    assert history(run_json, VECTORS)[0][0] == "2025-03-01T12:00:00+08:00"


def test_strict_still_checks_an_unchanged_log(run: Run, run_json: RunJson,
                                              write_log: WriteLog, srs_home: Path) -> None:
    path = write_log(LOG + "\n| Topic | Date |\n|---|---|\n| Bad | 2025-02-30 |\n")
    import_json(run_json, path)
    before = dump(srs_home)
    result = run("import", "--strict", str(path))
    assert result.exit_code == 1
    assert "2025-02-30" in result.stderr
    assert dump(srs_home) == before
