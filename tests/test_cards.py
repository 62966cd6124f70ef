"""Tests of looking at cards and editing them by hand: cards, show, add, suspend, merge."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from freezegun import freeze_time
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler

Run = Callable[..., Result]
RunJson = Callable[..., Any]
WriteLog = Callable[..., Path]

LOG = """\
## 第三周 概率

| 章节 | 状态 | 日期 | 自测 | 备注 |
|---|---|---|---|---|
| 贝叶斯定理 | ✅ | 2025-03-10 | 2025-03-13 | 先验、似然、后验 |
| 条件概率 | ✅ | 2025-03-11 | | 100% 树状图 |

## Week 4: Statistics

| Topic | Status | Date | Self-test | Notes |
|---|---|---|---|---|
| Bayes' theorem | done | 2025-03-12 | 2025-03-20 hard | same as 贝叶斯定理 |
| Hypothesis_tests | done | 2025-03-14 | | p-values |
"""
CN_BAYES, CONDITIONAL, BAYES, TESTS = 1, 2, 3, 4

CARD_KEYS = ["id", "topic", "label", "notes", "section", "source", "learned_on", "state", "due",
             "stability", "difficulty", "retrievability", "reviews", "last_review",
             "suspended", "in_log"]


@pytest.fixture(autouse=True)
def database(db_url: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return db_url


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with freeze_time("2025-06-01 08:00:00"):
        yield


@pytest.fixture
def log(run: Run, write_log: WriteLog) -> Path:
    """LOG written and imported, fuzz off."""
    assert run("config", "set", "fuzz", "off").exit_code == 0
    path = write_log(LOG)
    assert run("import", str(path)).exit_code == 0
    return path


def edit(text: str, old: str, new: str) -> str:
    """`text` with its one occurrence of `old` replaced."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def ids(run_json: RunJson, *args: str) -> list[int]:
    return [card["id"] for card in run_json("cards", *args)]


def history(run_json: RunJson, card_id: int) -> list[tuple[str, str, str]]:
    """A card's history as (at, rating, source), oldest first."""
    return [(entry["at"], entry["rating"], entry["source"])
            for entry in run_json("show", str(card_id))["history"]]


def noon(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(12), timezone.utc)


def fsrs_replay(card_id: int, reviews: list[tuple[str, Rating]]) -> FsrsCard:
    """The card py-fsrs itself makes of a history, without learning steps or fuzz."""
    scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    state = FsrsCard(card_id=card_id)
    for day, rating in reviews:
        state, _log = scheduler.review_card(state, rating, noon(day))
    return state


# --- cards ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    ((), [1, 2, 3, 4]),
    (("--search", "贝叶斯"), [CN_BAYES, BAYES]),  # topic or notes
    (("--search", "BAYES"), [BAYES]),
    (("--search", "树状图"), [CONDITIONAL]),
    (("--search", "_"), [TESTS]),  # a literal underscore, not LIKE's any-character
    (("--search", "%"), [CONDITIONAL]),
    (("--search", "傅里叶"), []),
    (("--section", "第三周"), [CN_BAYES, CONDITIONAL]),
    (("--section", "week 4"), [BAYES, TESTS]),
    (("--search", "贝叶斯", "--section", "Week"), [BAYES]),
])
def test_cards_search_and_section(log: Path, run_json: RunJson, args: tuple[str, ...],
                                  expected: list[int]) -> None:
    assert ids(run_json, *args) == expected


def test_card_json_has_the_documented_keys(log: Path, run_json: RunJson) -> None:
    bayes = run_json("cards")[BAYES - 1]
    assert list(bayes) == CARD_KEYS
    expected = fsrs_replay(BAYES, [("2025-03-12", Rating.Good), ("2025-03-20", Rating.Hard)])
    assert bayes == {
        "id": BAYES, "topic": "Bayes' theorem", "label": "Bayes' theorem",
        "notes": "same as 贝叶斯定理",
        "section": "Week 4: Statistics", "source": f"{log}:12", "learned_on": "2025-03-12",
        "state": "review", "due": expected.due.date().isoformat(),
        "stability": expected.stability, "difficulty": expected.difficulty,
        "retrievability": bayes["retrievability"], "reviews": 2,
        "last_review": "2025-03-20T12:00:00+00:00", "suspended": False, "in_log": True,
    }
    # At 08:00 on 06-01 (study day 06-01), 73 study days after the self-test on 03-20.
    retrievability = Scheduler(enable_fuzzing=False).get_card_retrievability(
        expected, noon("2025-06-01"))
    assert bayes["retrievability"] == round(retrievability, 4)


def test_cards_human_table(log: Path, run: Run) -> None:
    result = run("cards", "--section", "第三周")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    # Piped: tab-separated, a header first; the section's words shared by every row left out.
    assert lines[0].split("\t") == ["id", "topic", "section", "learned", "due", "R", "reviews",
                                    ""]
    assert lines[1].split("\t")[:4] == ["1", "贝叶斯定理", "概率", "Mon 03-10"]
    assert lines[2].split("\t")[:4] == ["2", "条件概率", "概率", "Tue 03-11"]
    assert len(lines) == 3


def test_cards_on_an_empty_database(run: Run, run_json: RunJson) -> None:
    assert run_json("cards") == []
    result = run("cards")
    assert (result.exit_code, result.stdout) == (
        0, "no cards (import a log with 'review import PATH')\n")


def test_text_that_looks_like_markup_prints_as_written(run: Run, run_json: RunJson) -> None:
    run_json("add", "Slicing a[/] and [red]x", "--learned", "2025-05-01")
    run_json("add", "Lists [bold] 列表", "--learned", "2025-05-01")
    listed = run("cards")
    assert listed.exit_code == 0
    assert [line.split()[:4] for line in listed.stdout.splitlines()[1:]] == [
        ["1", "Slicing", "a[/]", "and"], ["2", "Lists", "[bold]", "列表"]]
    for card_id, title in ((1, "1. Slicing a[/] and [red]x"), (2, "2. Lists [bold] 列表")):
        shown = run("show", str(card_id))
        assert (shown.exit_code, shown.stdout.splitlines()[0]) == (0, title)


def test_cards_json_is_the_text_print_json_writes(log: Path, run: Run,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import cli.output

    # Text that looks like the JSON around it, or that a terminal would act on.
    assert run("add", 'a"},\n    {"id": 9}', "--notes", "x\u202ey\x85z\n\\u0041 {}[]",
               "--learned", "2025-05-01").exit_code == 0
    fast = run("cards", "--json")
    assert fast.exit_code == 0
    with monkeypatch.context() as patch:
        patch.setattr(cli.output, "_JSON_CHUNK", 2)
        assert run("cards", "--json").stdout == fast.stdout
    # The same text json.dumps with an indent (the general path) writes.
    assert fast.stdout == cli.output.json_text(json.loads(fast.stdout)) + "\n"
    cards = json.loads(fast.stdout)
    assert [card["id"] for card in cards] == [1, 2, 3, 4, 5]
    assert cards[-1]["notes"] == "x\u202ey\x85z\n\\u0041 {}[]"
    assert "\\u202e" in fast.stdout and "\\u0085" in fast.stdout


# --- show ----------------------------------------------------------------------------------


def test_show_has_the_history_oldest_first(log: Path, run_json: RunJson) -> None:
    shown = run_json("show", str(CN_BAYES))
    assert list(shown) == [*CARD_KEYS, "history"]
    assert shown["history"] == [
        {"at": "2025-03-10T12:00:00+00:00", "rating": "good", "source": "log", "note": None},
        {"at": "2025-03-13T12:00:00+00:00", "rating": "good", "source": "log", "note": None},
    ]
    assert shown["notes"] == "先验、似然、后验"


def test_show_human(log: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the log's temporary path, on one line
    result = run("show", str(BAYES))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "3. Bayes' theorem"
    assert "        source: " + f"{log}:12" in lines
    assert lines[-3].split() == ["at", "rating", "source", "note"]
    assert [line.split() for line in lines[-2:]] == [
        ["03-12", "12:00", "good", "log"], ["03-20", "12:00", "hard", "log"]]


# --- add -----------------------------------------------------------------------------------


def test_add_with_a_learned_date(run: Run, run_json: RunJson) -> None:
    assert run("config", "set", "fuzz", "off").exit_code == 0
    added = run_json("add", "傅里叶变换", "--notes", "FFT", "--learned", "2025-05-01")
    expected = fsrs_replay(1, [("2025-05-01", Rating.Good)])
    assert added == {
        "id": 1, "topic": "傅里叶变换", "label": "傅里叶变换", "notes": "FFT", "section": "",
        "source": None,
        "learned_on": "2025-05-01", "state": "review", "due": expected.due.date().isoformat(),
        "stability": expected.stability, "difficulty": expected.difficulty,
        "retrievability": added["retrievability"], "reviews": 1,
        "last_review": "2025-05-01T12:00:00+00:00", "suspended": False, "in_log": False,
    }
    assert history(run_json, 1) == [("2025-05-01T12:00:00+00:00", "good", "cli")]
    assert ids(run_json) == [1]


def test_add_without_a_learned_date_is_learned_now(run: Run, run_json: RunJson) -> None:
    result = run("add", "Fourier transform")
    assert result.exit_code == 0
    assert result.stdout.startswith("added card 1: Fourier transform, next self-test Tue 06-03")
    shown = run_json("show", "1")
    assert (shown["learned_on"], shown["notes"]) == ("2025-06-01", "")
    assert history(run_json, 1) == [("2025-06-01T08:00:00+00:00", "good", "cli")]


def test_add_learned_today_before_noon(run_json: RunJson) -> None:
    added = run_json("add", "Laplace transform", "--learned", "2025-06-01")
    assert added["learned_on"] == "2025-06-01"
    assert history(run_json, 1) == [("2025-06-01T08:00:00+00:00", "good", "cli")]


def test_add_learned_in_the_future_is_rejected(run: Run, run_json: RunJson) -> None:
    result = run("add", "Z transform", "--learned", "2025-06-02")
    assert result.exit_code == 1
    assert result.stderr == "Error: learned date 2025-06-02 is in the future\n"
    assert run_json("cards") == []


def test_add_an_empty_topic_is_rejected(run: Run, run_json: RunJson) -> None:
    result = run("add", "  ")
    assert (result.exit_code, result.stderr) == (1, "Error: the topic is empty\n")
    assert run_json("cards") == []


def test_added_cards_survive_an_import(log: Path, run: Run, run_json: RunJson) -> None:
    run_json("add", "傅里叶变换", "--learned", "2025-05-01")
    assert run("import", str(log)).exit_code == 0
    assert ids(run_json) == [1, 2, 3, 4, 5]
    assert run_json("show", "5")["in_log"] is False


# --- suspend -------------------------------------------------------------------------------


def test_suspend_and_unsuspend(log: Path, run: Run, run_json: RunJson) -> None:
    result = run("suspend", str(CONDITIONAL))
    assert (result.exit_code, result.stdout) == (0, "suspended card 2: 条件概率\n")
    assert [c["suspended"] for c in run_json("cards")] == [False, True, False, False]
    assert run("import", str(log)).exit_code == 0  # a re-import keeps it suspended
    assert run_json("show", str(CONDITIONAL))["suspended"] is True
    result = run("unsuspend", str(CONDITIONAL))
    assert (result.exit_code, result.stdout) == (0, "card 2 is back in the queue: 条件概率\n")
    assert [c["suspended"] for c in run_json("cards")] == [False] * 4
    assert len(history(run_json, CONDITIONAL)) == 1


# --- merge ---------------------------------------------------------------------------------

MERGED_HISTORY = [
    ("2025-03-10T12:00:00+00:00", "good", "log"),
    ("2025-03-12T12:00:00+00:00", "good", "log"),
    ("2025-03-13T12:00:00+00:00", "good", "log"),
    ("2025-03-20T12:00:00+00:00", "hard", "log"),
]


def test_merge_moves_the_history(log: Path, run: Run, run_json: RunJson) -> None:
    result = run("merge", str(CN_BAYES), str(BAYES))
    assert (result.exit_code, result.stdout) == (
        0, "merged card 1 into card 3: Bayes' theorem\n")
    assert ids(run_json) == [CONDITIONAL, BAYES, TESTS]
    assert history(run_json, BAYES) == MERGED_HISTORY
    merged = run_json("show", str(BAYES))
    expected = fsrs_replay(BAYES, [(at[:10], Rating[rating.capitalize()])
                                   for at, rating, _source in MERGED_HISTORY])
    assert (merged["due"], merged["stability"], merged["difficulty"], merged["reviews"]) == (
        expected.due.date().isoformat(), expected.stability, expected.difficulty, 4)
    trace = run_json("show", str(CN_BAYES))
    assert (trace["merged_into"], trace["history"]) == (BAYES, [])


def test_a_reimport_keeps_the_merge(log: Path, run: Run, run_json: RunJson) -> None:
    assert run("merge", str(CN_BAYES), str(BAYES)).exit_code == 0
    assert run_json("import", str(log))["cards_created"] == 0
    assert ids(run_json) == [CONDITIONAL, BAYES, TESTS]
    assert history(run_json, BAYES) == MERGED_HISTORY


def test_a_new_self_test_on_a_merged_row_goes_to_the_merged_card(
        log: Path, run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    assert run("merge", str(CN_BAYES), str(BAYES)).exit_code == 0
    write_log(edit(LOG, "| 2025-03-13 |", "| 2025-03-13, 2025-04-10 ❌ |"))
    assert run_json("import", str(log)) == {
        "cards_created": 0, "cards_updated": 1, "cards_unchanged": 3, "reviews_added": 1,
        "pending": 0, "planned": 0, "skipped": 0, "warnings": [], "no_longer_in_log": [],
        "moved": []}
    assert ids(run_json) == [CONDITIONAL, BAYES, TESTS]
    assert history(run_json, BAYES) == [
        *MERGED_HISTORY, ("2025-04-10T12:00:00+00:00", "again", "log")]
    assert run_json("show", str(CN_BAYES))["history"] == []


def test_a_self_test_put_back_after_a_merge_goes_to_the_merged_card(
        log: Path, run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    write_log(edit(LOG, "| 2025-03-13 |", "| |"))
    assert run("import", str(log)).exit_code == 0
    assert run("merge", str(CN_BAYES), str(BAYES)).exit_code == 0
    write_log(LOG)
    assert run("import", str(log)).exit_code == 0
    assert history(run_json, BAYES) == MERGED_HISTORY
    assert run_json("show", str(BAYES))["reviews"] == 4


@pytest.mark.parametrize(("args", "message"), [
    (("1", "1"), "cannot merge card 1 into itself"),
    (("1", "999"), "no card 999 (see 'review cards')"),
    (("999", "1"), "no card 999 (see 'review cards')"),
])
def test_merge_errors(log: Path, run: Run, run_json: RunJson, args: tuple[str, ...],
                      message: str) -> None:
    result = run("merge", *args)
    assert (result.exit_code, result.stderr) == (1, f"Error: {message}\n")
    assert ids(run_json) == [1, 2, 3, 4]


def test_merging_a_merged_card_again_is_refused(log: Path, run: Run, run_json: RunJson) -> None:
    assert run("merge", str(CN_BAYES), str(BAYES)).exit_code == 0
    result = run("merge", str(CN_BAYES), str(TESTS))
    assert (result.exit_code, result.stderr) == (
        1, "Error: card 1 is already merged into card 3\n")
    result = run("merge", str(TESTS), str(CN_BAYES))
    assert (result.exit_code, result.stderr) == (
        1, "Error: card 1 is merged into card 3; merge into that one\n")
    assert history(run_json, BAYES) == MERGED_HISTORY
