"""Logs as people keep them: every shape here was seen in study logs people keep in public
repositories, rewritten with topics of our own (nothing is copied from them).

Each test reads a log through `review import` (or the parser where the row detail
matters) and checks what the writer would count: which rows are cards, on which day,
with what history, and what is said about the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srs.logparse import LogOptions, ParseResult, parse_log

Run = Callable[..., Result]
RunJson = Callable[..., Any]
WriteLog = Callable[..., Path]
TODAY = date(2026, 12, 2)
NOW = "2026-12-02 12:00:00"


def parse(text: str, name: str = "log.md", **options: Any) -> ParseResult:
    return parse_log(text, name, LogOptions(today=TODAY, **options))


def rows(text: str, name: str = "log.md") -> list[tuple[str, bool, date | None]]:
    return [(r.topic, r.studied, r.learned_on) for r in parse(text, name).rows if not r.skip]


def imported(run: Run, run_json: RunJson, path: Path, *args: str) -> dict[str, Any]:
    with freeze_time(NOW):
        result = run("import", str(path), *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def cards(run_json: RunJson) -> list[tuple[str, str]]:
    with freeze_time(NOW):
        return [(c["topic"], c["learned_on"]) for c in run_json("cards")]


# --- what was studied, when no header says "topic" -------------------------------------------


@pytest.mark.parametrize("header", ["内容", "学习内容", "题目", "任务", "知识点", "课程内容",
                                    "练习内容", "Task", "Lesson", "Item", "Problem", "Topics"])
def test_the_thing_studied_under_other_words(header: str) -> None:
    text = (f"| 天 | 日期 | {header} | 状态 |\n|---|---|---|---|\n"
            "| 1 | 2026-03-02 | 二叉树遍历 | ✅ |\n| 2 | 2026-03-03 | 堆与优先队列 | ⏳ |\n")
    assert rows(text) == [("二叉树遍历", True, date(2026, 3, 2)),
                          ("堆与优先队列", False, date(2026, 3, 3))]


def test_a_topic_and_a_content_column_make_the_content_notes() -> None:
    text = ("| # | 章节 | 学习内容 | 日期 |\n|---|---|---|---|\n"
            "| 1 | 第3章 概率 | 条件概率、贝叶斯公式 | 2026-04-01 |\n")
    (row,) = parse(text).rows
    assert (row.topic, row.notes) == ("第3章 概率", "条件概率、贝叶斯公式")


def test_with_no_header_words_the_cells_decide() -> None:
    text = ("| Wk | When | What I did | Mood |\n|---|---|---|---|\n"
            "| W1 | 2026-05-04 | Pointers and arrays | :) |\n"
            "| W1 | 2026-05-05 | Structs and unions | :) |\n")
    result = parse(text)
    assert result.table_info[0].roles == ("index", "date", "topic", "")
    assert [r.topic for r in result.rows] == ["Pointers and arrays", "Structs and unions"]


def test_a_category_column_is_not_the_topic() -> None:
    text = ("| 日期 | 时长 | 阶段 | 产出 |\n|---|---|---|---|\n"
            "| 2026-01-06 | 1h | 阶段 0 | 音阶：C 大调 |\n"
            "| 2026-01-07 | 2h | 阶段 0 | 和弦转换 C-G |\n"
            "| 2026-01-09 | 1h | 阶段 1 | 扫弦节奏型 |\n")
    assert [r.topic for r in parse(text).rows] == ["音阶：C 大调", "和弦转换 C-G", "扫弦节奏型"]


def test_links_and_emphasis_in_a_topic_show_as_text() -> None:
    text = ("| Date | Problem | Difficulty |\n|---|---|---|\n"
            "| 2026-06-01 | [Two Sum (#1)](https://example.org/p/1) | Easy |\n"
            "| 2026-06-02 | **206. 反转链表** `iterative` | Easy |\n")
    assert [r.topic for r in parse(text).rows] == ["Two Sum (#1)", "206. 反转链表 iterative"]


def test_attempt_columns_give_the_first_study_and_the_self_tests() -> None:
    text = ("| 题目 | 一刷 | 二刷 |\n|---|---|---|\n"
            "| 55. 跳跃游戏 | 2025.4.1 看了提示才想到贪心 | 2025.4.8 一次通过 |\n"
            "| 45. 跳跃游戏 II | 2025.4.2 自己写出 | |\n")
    first, second = parse(text).rows
    assert (first.learned_on, [t.on for t in first.self_tests]) == (
        date(2025, 4, 1), [date(2025, 4, 8)])
    assert first.notes == "看了提示才想到贪心"
    assert (second.learned_on, second.self_tests) == (date(2025, 4, 2), ())


def test_a_hash_column_of_problem_names_and_ordinal_review_columns() -> None:
    # A problem list repeated on a fixed ladder of days: "#" heads the names, and "1st"
    # to "5th" the days each was done.
    text = ("> 1st - Day 1; 2nd - Day 3; 3rd - Day 7\n\n"
            "| #                         |    1st     |    2nd     |    3rd     |\n"
            "| ------------------------- |:----------:| ----------:| ----------:|\n"
            "| 0070 Climbing Stairs      | 03/02/2026 | 03/04/2026 | 03/09/2026 |\n"
            "| 0098 Validate BST         | 03/03/2026 |            |            |\n")
    result = parse(text)
    assert result.table_info[0].roles == ("topic", "attempt", "attempt", "attempt")
    first, second = result.rows
    assert first.topic == "0070 Climbing Stairs"
    assert (first.learned_on, [t.on for t in first.self_tests]) == (
        date(2026, 3, 2), [date(2026, 3, 4), date(2026, 3, 9)])
    assert (second.learned_on, second.self_tests) == (date(2026, 3, 3), ())
    # an index column of numbers stays an index
    numbered = parse("| # | Topic | Date |\n|---|---|---|\n| 1 | Heaps | 2026-03-02 |\n"
                     "| 2 | Tries | 2026-03-03 |\n")
    assert numbered.table_info[0].roles == ("index", "topic", "date")


# --- dates as people write them --------------------------------------------------------------


@pytest.mark.parametrize(("cell", "day"), [
    ("2026年7月10日", date(2026, 7, 10)), ("2026年07月10号", date(2026, 7, 10)),
    ("10 June 2026", date(2026, 6, 10)), ("June 10, 2026", date(2026, 6, 10)),
    ("Jun 10 2026", date(2026, 6, 10)), ("2026-06-17 (Tue)", date(2026, 6, 17)),
    ("2026-06-17 周二", date(2026, 6, 17)), ("**2026-06-17**", date(2026, 6, 17)),
    ("[2026-06-17](daily/2026-06-17.md)", date(2026, 6, 17)), ("20260617", date(2026, 6, 17)),
    ("2026/6/17", date(2026, 6, 17)), ("2026.6.17", date(2026, 6, 17)),
    ("6/17/2026", date(2026, 6, 17)), ("Wed 17 Jun 2026", date(2026, 6, 17)),
    ("2026-06-15 ~ 2026-06-17", date(2026, 6, 17)), ("2026-06-15 → 06-17", date(2026, 6, 17)),
])
def test_full_dates_in_many_spellings(cell: str, day: date) -> None:
    text = f"| Topic | Date |\n|---|---|\n| Graphs | {cell} |\n"
    assert rows(text) == [("Graphs", True, day)]


def test_a_time_after_the_date_is_kept() -> None:
    (row,) = parse("| Topic | Date |\n|---|---|\n| Heaps | 2026-06-17 14:30 |\n").rows
    assert (row.learned_on, row.learned_at and row.learned_at.isoformat()) == (
        date(2026, 6, 17), "14:30:00")


def test_dates_without_a_year_take_it_from_the_date_above() -> None:
    text = ("Started on 2025-11-20.\n\n| Day | Date | Topic |\n|---|---|---|\n"
            "| 1 | 11/27 | Ownership |\n| 2 | 12/30 | Lifetimes |\n"
            "| 3 | 1/2 | Traits |\n| 4 | 01/03 | Error handling |\n")
    result = parse(text)
    assert [r.learned_on for r in result.rows] == [
        date(2025, 11, 27), date(2025, 12, 30), date(2026, 1, 2), date(2026, 1, 3)]
    assert [r.year_from for r in result.rows] == ["line:1", "line:5", "line:6", "line:7"]


def test_a_log_kept_newest_first_rolls_back_across_a_new_year() -> None:
    text = ("# Notes 2026\n\n| Date | Topic |\n|---|---|\n| 01/03 | Traits |\n"
            "| 01/02 | Lifetimes |\n| 12/30 | Ownership |\n| 12/29 | Cargo |\n")
    assert [r.learned_on for r in parse(text).rows] == [
        date(2026, 1, 3), date(2026, 1, 2), date(2025, 12, 30), date(2025, 12, 29)]


@pytest.mark.parametrize(("text", "day", "source"), [
    ("## 2024 秋季\n\n| 日期 | 内容 |\n|---|---|\n| 9月3日 | 极限 |\n", date(2024, 9, 3),
     "heading:1"),
    ("# 2023 学习记录\n\n## 第一周\n\n| 日期 | 内容 |\n|---|---|\n| 7.27 | 极限 |\n",
     date(2023, 7, 27), "heading:1"),
    ("| 日期 | 内容 |\n|---|---|\n| 06-01 | 极限 |\n", date(2026, 6, 1), "this year"),
    ("| 日期 | 内容 |\n|---|---|\n| 12-20 | 极限 |\n", date(2025, 12, 20), "last year"),
])
def test_the_year_of_a_date_without_one(text: str, day: date, source: str) -> None:
    (row,) = parse(text).rows
    assert (row.learned_on, row.year_from) == (day, source)


def test_a_year_in_the_file_name() -> None:
    (row,) = parse("| Date | Topic |\n|---|---|\n| Mar 4 | Sets |\n", "notes-2024.md").rows
    assert (row.learned_on, row.year_from) == (date(2024, 3, 4), "title")


def test_day_first_when_the_file_shows_it() -> None:
    text = ("| Date | Topic |\n|---|---|\n| 3/5/2026 | Sets |\n| 13/5/2026 | Maps |\n"
            "| 4.6.2026 | Lists |\n")
    assert [r.learned_on for r in parse(text).rows] == [
        date(2026, 5, 3), date(2026, 5, 13), date(2026, 6, 4)]


def test_month_first_otherwise() -> None:
    text = "| Date | Topic |\n|---|---|\n| 3/5/2026 | Sets |\n| 4/6/2026 | Maps |\n"
    assert [r.learned_on for r in parse(text).rows] == [date(2026, 3, 5), date(2026, 4, 6)]


def test_the_date_of_a_heading_dates_a_table_without_one() -> None:
    text = "# 训练总结: 2026-01-27\n\n| 平台 | 题目名称 |\n|---|---|\n| LC | 两数之和 |\n"
    (row,) = parse(text).rows
    assert (row.topic, row.learned_on, row.studied) == ("两数之和", date(2026, 1, 27), True)


def test_dry_run_says_where_a_year_came_from(run: Run, write_log: WriteLog) -> None:
    path = write_log("# 2025\n\n| Date | Topic |\n|---|---|\n| 3/4 | Sets |\n")
    with freeze_time(NOW):
        result = run("import", str(path), "--dry-run")
    assert f"{path}:5: new card 1 [2025-03-04, year from the heading on line 1] Sets" \
        in result.stdout


# --- status words, both languages ------------------------------------------------------------


@pytest.mark.parametrize("status", ["完成（逾期补交）", "已完成 Completed", "✅ Done", "Completed",
                                    "已掌握", "done (late)", "☑", "✔ 已解决：改用双指针",
                                    "<input type=\"checkbox\" checked>", "100%"])
def test_done_with_a_remark(status: str) -> None:
    text = ("| 内容 | 状态 | 日期 |\n|---|---|---|\n"
            f"| 链表 | {status} | 2026-03-01 |\n| 栈 | ⬜ | 2026-03-02 |\n")
    assert [r.studied for r in parse(text).rows] == [True, False]
    assert parse(text).warnings == []


def test_an_unknown_status_is_warned_once_and_added_by_config(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log("| Topic | Status | Date |\n|---|---|---|\n| Sets | nailed | 2026-03-01 |\n"
                     "| Maps | nailed | 2026-03-02 |\n| Lists | ✅ | 2026-03-03 |\n")
    first = imported(run, run_json, path)
    assert first["cards_created"] == 1 and first["pending"] == 2
    assert [w["message"] for w in first["warnings"]] == [
        "status 'nailed' on 2 rows is not a done mark; counted as not yet studied (add it "
        "with 'review config set log.done_words ...')"]
    assert run("config", "set", "log.done_words", "nailed").exit_code == 0
    again = imported(run, run_json, path)
    assert (again["cards_created"], again["pending"], again["warnings"]) == (2, 0, [])


# --- plans ------------------------------------------------------------------------------------


def test_a_row_dated_after_now_is_planned_and_becomes_a_card_on_its_day(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log("| Topic | Date |\n|---|---|\n| Sets | 2026-11-30 |\n"
                     "| Maps | 2026-12-05 |\n| Typo | 2062-01-01 |\n")
    first = imported(run, run_json, path)
    assert (first["cards_created"], first["planned"]) == (1, 2)
    assert cards(run_json) == [("Sets", "2026-11-30")]
    with freeze_time("2026-12-05 13:00"):
        again = json.loads(run("import", str(path), "--json").stdout)  # same bytes, new day
        assert (again["cards_created"], again["planned"]) == (1, 1)
        assert [c["topic"] for c in run_json("cards")] == ["Sets", "Maps"]


def test_a_self_test_dated_after_today_is_planned_not_done(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log("| Topic | Date | Self-test |\n|---|---|---|\n"
                     "| Sets | 2026-11-20 | ✅ 2026-11-23, 2026-12-09 |\n")
    imported(run, run_json, path)
    with freeze_time(NOW):
        card = run_json("show", "1")
        shown = run("show", "1").stdout
    assert card["due"] == "2026-12-09"  # the person's own plan
    assert card["reviews"] == 2  # the study and one self-test: the plan is no review
    assert card["history"][-1] == {"at": "2026-12-09T12:00:00+00:00", "rating": None,
                                   "source": "log", "note": None, "kind": "plan",
                                   "due": "2026-12-09"}
    assert "self-test planned for Wed 12-09" in shown
    assert card["last_review"] == "2026-11-23T12:00:00+00:00"


def test_a_column_of_planned_review_dates_is_a_plan_even_once_passed(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log("| Date | Problem | Review Due |\n|---|---|---|\n"
                     "| 2026-11-20 | Flood fill | 2026-11-23 |\n"
                     "| 2026-11-21 | Clone graph | ✅ 2026-11-24 |\n")
    imported(run, run_json, path)
    with freeze_time(NOW):
        flood, clone = run_json("show", "1"), run_json("show", "2")
    assert (flood["reviews"], flood["due"]) == (1, "2026-11-23")  # planned, not done: overdue
    assert clone["reviews"] == 2  # marked done


def test_dates_outside_1970_to_2100_are_a_warning_not_a_crash(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log("| Topic | Date | Self-test |\n|---|---|---|\n"
                     "| Sets | 9999-12-31 | |\n| Maps | 1900-01-01 | |\n"
                     "| Lists | 2026-01-01 | 9999-12-31 |\n")
    report = imported(run, run_json, path)
    assert [w["message"] for w in report["warnings"]] == [
        "date '9999-12-31' is not between 1970 and 2100",
        "date '1900-01-01' is not between 1970 and 2100",
        "self-test date 9999-12-31 is not between 1970 and 2100"]
    assert report["cards_created"] == 1


def test_grade_refuses_a_last_review_in_the_future(
        run: Run, srs_home: Path, write_log: WriteLog) -> None:
    import sqlite3
    from contextlib import closing

    path = write_log("| Topic | Date |\n|---|---|\n| Sets | 2026-11-20 |\n")
    with freeze_time(NOW):
        assert run("import", str(path)).exit_code == 0
    with closing(sqlite3.connect(srs_home / "data" / "srs.db")) as conn, conn:
        # What an old database holds after a log row dated years ahead was imported.
        conn.execute("UPDATE card SET last_review = '2031-01-01 12:00:00.000000'")
    with freeze_time(NOW):
        result = run("grade", "1", "good")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: card 1's last review is recorded at Wed 2031-01-01, "
                                    "after now")


# --- mastery ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "rating"), [
    ("熟练", 3), ("一般", 2), ("生疏", 1), ("高", 3), ("中", 2), ("低", 1), ("★★★★★", 4),
    ("★★★☆☆", 2), ("⭐⭐⭐⭐", 3), ("3/5", 2), ("4/5", 3), ("80%", 3), ("96%", 4), ("2", 1),
    ("🎯 已掌握", 3), ("", 3),
])
def test_mastery_grades_the_first_study(cell: str, rating: int) -> None:
    text = f"| 知识点 | 日期 | 掌握程度 |\n|---|---|---|\n| 极限 | 2026-03-01 | {cell} |\n"
    (row,) = parse(text).rows
    assert row.learned_rating == rating


def test_an_unknown_mastery_is_warned_once() -> None:
    text = ("| 知识点 | 日期 | 掌握程度 |\n|---|---|---|\n| 极限 | 2026-03-01 | 待定 |\n"
            "| 导数 | 2026-03-02 | 待定 |\n")
    result = parse(text)
    assert [r.learned_rating for r in result.rows] == [3, 3]
    assert [str(w) for w in result.warnings] == [
        "log.md:3: mastery '待定' on 2 rows is not understood; those rows count as good"]


def test_mastery_reaches_the_schedule(run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log("| Topic | Date | Confidence |\n|---|---|---|\n"
                     "| Sets | 2026-11-20 | low |\n| Maps | 2026-11-20 | high |\n")
    imported(run, run_json, path)
    with freeze_time(NOW):
        low, high = run_json("show", "1"), run_json("show", "2")
    assert low["history"][0]["rating"] == "again" and high["history"][0]["rating"] == "good"
    assert low["stability"] < high["stability"]


def test_a_quiz_score_without_a_date_grades_the_first_study() -> None:
    text = ("| Date | Lesson | Quiz |\n|---|---|---|\n| 2026-03-01 | Tensors | 2/3 |\n"
            "| 2026-03-02 | Autograd | 3/3 |\n")
    assert [(r.learned_rating, r.self_tests) for r in parse(text).rows] == [(2, ()), (4, ())]


# --- tables that are not the log, rows that are no card --------------------------------------


def test_tables_in_comments_and_code_are_not_read_but_in_details_quotes_and_lists_are() -> None:
    text = (
        "<!--\n| Topic | Date |\n|---|---|\n| Hidden | 2026-01-01 |\n-->\n\n"
        "```md\n| Topic | Date |\n|---|---|\n| Fenced | 2026-01-02 |\n```\n\n"
        "<details><summary>Archive</summary>\n\n| Topic | Date |\n|---|---|\n"
        "| In details | 2026-01-03 |\n\n</details>\n\n"
        "> | Topic | Date |\n> |---|---|\n> | Quoted | 2026-01-04 |\n\n"
        "- Week 1\n\n  | Topic | Date |\n  |---|---|\n  | In a list | 2026-01-05 |\n")
    assert [r.topic for r in parse(text).rows] == ["In details", "Quoted", "In a list"]


def test_a_marker_comment_inside_a_table_does_not_end_it() -> None:
    text = ("| Date | Problem |\n|---|---|\n<!-- LOG_START -->\n| 2026-05-14 | Course schedule |\n"
            "| 2026-05-12 | Clone graph |\n<!-- LOG_END -->\n")
    assert [r.topic for r in parse(text).rows] == ["Course schedule", "Clone graph"]


def test_rest_section_total_and_placeholder_rows_are_no_cards() -> None:
    text = ("| Day | Date | Topic | Status |\n|---|---|---|---|\n"
            "| **Part 1 — Basics** | | | |\n"
            "| 1 | 2026-02-02 | Sets | ✔ |\n| 2 | 2026-02-03 | Rest Day (sick) | ✔ |\n"
            "| 3 | 2026-02-04 | 休息 | ✔ |\n| 4 | 2026-02-05 | Travel mode | ✔ |\n"
            "| — | — | — | — |\n|  |  |  |  |\n| **Total** | | 4 days | |\n")
    result = parse(text)
    assert [(r.topic, r.skip) for r in result.rows] == [
        ("Sets", ""), ("Rest Day (sick)", "rest"), ("休息", "rest"), ("Travel mode", "rest")]
    assert result.warnings == []


def test_rest_words_come_from_the_config(run: Run, run_json: RunJson,
                                         write_log: WriteLog) -> None:
    path = write_log("| Topic | Date |\n|---|---|\n| Sets | 2026-11-20 |\n"
                     "| 体测 | 2026-11-21 |\n")
    assert run("config", "set", "log.skip_words", "体测,休息").exit_code == 0
    report = imported(run, run_json, path)
    assert (report["cards_created"], report["skipped"]) == (1, 1)


def test_a_summary_table_repeating_rows_makes_no_second_card(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log("## Log\n\n| Day | Date | Topic |\n|---|---|---|\n"
                     "| 1 | 2026-11-20 | Sets |\n| 2 | 2026-11-21 | Maps |\n\n"
                     "## Recent progress\n\n| Day | Date | Topic |\n|---|---|---|\n"
                     "| 2 | 2026-11-21 | Maps |\n")
    report = imported(run, run_json, path)
    assert (report["cards_created"], report["skipped"]) == (2, 1)
    with freeze_time(NOW):
        dry = run("import", str(path), "--dry-run").stdout
    assert f"{path}:12: repeats line 6: the same card Maps" in dry


def test_done_marks_in_the_topic_or_day_cell_when_there_is_no_status_column() -> None:
    text = ("| 天 | 日期 | 内容 |\n|---|---|---|\n| 1 | 2026-03-28 | 供给与需求（✅ 已完成） |\n"
            "| 2 | 2026-03-29 | 弹性 |\n\n| Day | Date | Topic |\n|---|---|---|\n"
            "| 1 ✅ | 2026-03-30 | Sets |\n| 2 | 2026-03-31 | Maps |\n")
    assert rows(text) == [("供给与需求", True, date(2026, 3, 28)),
                          ("弹性", False, date(2026, 3, 29)),
                          ("Sets", True, date(2026, 3, 30)),
                          ("Maps", False, date(2026, 3, 31))]


# --- review rows -------------------------------------------------------------------------------


def test_a_review_row_is_decided_by_its_topic_and_its_notes_become_the_note(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log("| 章节 | 日期 | 内容 |\n|---|---|---|\n"
                     "| 动态规划 | 2026-11-10 | 背包问题 |\n"
                     "| 练习题 | 2026-11-11 | 先复习基本方法再做题 |\n"
                     "| 复习动态规划 | 2026-11-14 | 状态转移还要再练 |\n")
    report = imported(run, run_json, path)
    assert report["cards_created"] == 2  # 练习题 is a card of its own
    with freeze_time(NOW):
        history = run_json("show", "1")["history"]
    assert history[-1]["note"] == "状态转移还要再练"


def test_dry_run_names_the_cards_an_ambiguous_review_row_could_mean(
        run: Run, write_log: WriteLog) -> None:
    path = write_log("| 章节 | 日期 |\n|---|---|\n| 注意力机制 | 2026-11-10 |\n"
                     "| 注意力机制 | 2026-11-11 |\n| 注意力机制回顾 | 2026-11-14 |\n")
    with freeze_time(NOW):
        result = run("import", str(path), "--dry-run")
    assert (f"{path}:5: new card 3 (a review row that could mean cards 1, 2: made its own "
            "card) 注意力机制回顾") in result.stdout


# --- self-test cells ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["03-05 ✅ / 03-09 ❌", "✅03-05/❌03-09", "03-05 → ❌ 03-09",
                                  "✅ 3月5日，❌ 3月9日"])
def test_self_test_cells_split_on_slashes_and_arrows(cell: str) -> None:
    text = f"| 内容 | 日期 | 复习 |\n|---|---|---|\n| 极限 | 2026-03-01 | {cell} |\n"
    (row,) = parse(text).rows
    assert [(t.on, t.rating) for t in row.self_tests] == [
        (date(2026, 3, 5), 3), (date(2026, 3, 9), 1)]


# --- nothing imports: say why ---------------------------------------------------------------


def test_a_file_without_a_study_table_says_what_each_table_lacked(
        run: Run, write_log: WriteLog) -> None:
    path = write_log("| Book | Author |\n|---|---|\n| SICP | Abelson |\n\n"
                     "| Day | Date | Topic |\n|---|---|---|\n| 1 | Day 1 | Sets |\n")
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"Error: {path}: no study table: line 1 [Book | Author] has no date column; "
        "line 5 [Day | Date | Topic] has no dates in its date column. A study table needs")


def test_dry_run_prints_the_role_of_every_column(run: Run, write_log: WriteLog) -> None:
    path = write_log("| # | 学习内容 | 完成情况 | 日期 | 掌握程度 | 链接 |\n"
                     "|---|---|---|---|---|---|\n"
                     "| 1 | 极限 | ✅ | 2026-03-01 | 熟练 | [笔记](a.md) |\n")
    with freeze_time(NOW):
        result = run("import", str(path), "--dry-run")
    assert result.stdout.splitlines()[0] == (
        f"{path}:1: table [#=index, 学习内容=topic, 完成情况=status, 日期=date, "
        "掌握程度=mastery, 链接=link]: 1 row")


# --- a moved log -------------------------------------------------------------------------------


LOG = ("| Topic | Date | Self-test |\n|---|---|---|\n| Sets | 2026-11-10 | 2026-11-13 |\n"
       "| Maps | 2026-11-11 | |\n| Lists | 2026-11-12 | |\n")


def test_a_renamed_log_is_the_same_log(run: Run, run_json: RunJson, write_log: WriteLog,
                                       tmp_path: Path) -> None:
    old = write_log(LOG, "old.md")
    imported(run, run_json, old)
    new = tmp_path / "renamed.md"
    old.rename(new)
    report = imported(run, run_json, new)
    assert report["moved"] == [{"from": str(old), "to": str(new)}]
    assert (report["cards_created"], report["cards_unchanged"]) == (0, 3)
    with freeze_time(NOW):
        logs = run_json("logs")
    assert [(log["path"], log["cards"], log["state"]) for log in logs] == [
        (str(new), 3, "unchanged")]


def test_a_copy_beside_the_original_is_refused_unless_as_new(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    old = write_log(LOG, "old.md")
    imported(run, run_json, old)
    copy = write_log(LOG, "copy.md")
    with freeze_time(NOW):
        result = run("import", str(copy))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {copy} holds the rows of {old} (3 of 3), which is still there; if the log "
        f"moved, run 'review logs move {old} {copy}'; to import it as a log of its own, add "
        "--as-new\n")
    assert imported(run, run_json, copy, "--as-new")["cards_created"] == 3


def test_logs_move_and_what_logs_shows(run: Run, run_json: RunJson, write_log: WriteLog,
                                       tmp_path: Path) -> None:
    old = write_log(LOG + "| Heaps | 2026-12-20 | |\n| Tries | | |\n", "old.md")
    imported(run, run_json, old)
    new = tmp_path / "elsewhere.md"
    new.write_bytes(old.read_bytes() + b"| Graphs | 2026-11-14 | |\n")
    with freeze_time(NOW):
        moved = run_json("logs", "move", str(old), str(new))
        assert (moved["path"], moved["state"]) == (str(new), "changed")
        (log,) = run_json("logs")
        assert (log["rows"], log["cards"], log["pending"], log["planned"]) == (5, 3, 1, 1)
        assert run("logs", "move", str(tmp_path / "nope.md"), str(old)).exit_code == 1
    assert imported(run, run_json, new)["cards_created"] == 1


# --- the seed's shapes still read the same -----------------------------------------------------


def test_a_weekly_chinese_log_like_the_seed(run: Run, run_json: RunJson,
                                            write_log: WriteLog) -> None:
    path = write_log(
        "# 学习进度\n\n## 第一周\n\n| 章节 | 状态 | 日期 | 自测 |\n|---|---|---|---|\n"
        "| 1.1 张量 | ✅ | 2025-05-22 | ✅ 2025-05-24 |\n"
        "| 1.2 广播 | ✅ | 2025-05-23 | ✅ 2025-05-26 |\n"
        "| 基础自测 | ✅ | 2025-05-27 | |\n\n## 第二周\n\n"
        "| 章节 | 状态 | 日期 | 内容 |\n|---|---|---|---|\n"
        "| 卷积 | ✅ | 2025-06-09 ～ 06-12 | 卷积核 |\n| - | ✅ | 2025-06-13 | 池化 |\n"
        "| | ✅ | 2025-06-14 | 填充<br />步幅 |\n| 自测广播 | ✅ | 2025-06-15 | 结果一般 |\n")
    report = imported(run, run_json, path)
    assert (report["cards_created"], report["reviews_added"]) == (6, 9)
    assert cards(run_json) == [("1.1 张量", "2025-05-22"), ("1.2 广播", "2025-05-23"),
                               ("基础自测", "2025-05-27"), ("卷积", "2025-06-12"),
                               ("卷积", "2025-06-13"), ("卷积", "2025-06-14")]


# --- any mix of columns and cells --------------------------------------------------------------

HEADERS = ["章节", "内容", "题目", "Task", "Date", "日期", "状态", "Status", "自测", "复习日期",
           "掌握程度", "Day", "#", "一刷", "二刷", "备注", "链接", "Difficulty", "", "x"]
CELLS = ["2026-03-01", "3/1", "3月1日", "Mar 1", "✅", "⬜", "完成（逾期）", "★★☆", "3/5", "Day 3",
         "[a](b)", "**b**", "<br>", "—", "", "休息", "Total", "✅ 03-05 / ❌ 03-09", "9999-12-31",
         "<!--", "```", "> x", "2026-01-01 ~ 3", "第1天", "12/31", "13/13/13", "\\|", "🎯 熟练"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7),
       body=st.lists(st.lists(st.one_of(st.sampled_from(CELLS), st.text(max_size=12)),
                              max_size=8), max_size=8),
       prefix=st.sampled_from(["", "# 2025\n\n", "> ", "  ", "Started 2024-12-30.\n\n"]))
def test_any_mix_of_columns_and_cells_never_raises(header: list[str], body: list[list[str]],
                                                   prefix: str) -> None:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("\n", " ") for c in cells) + " |"

    text = prefix + "\n".join([line(header), line(["---"] * len(header)),
                               *(line(cells) for cells in body)]) + "\n"
    result = parse(text)
    for row in result.rows:
        assert row.learned_on is None or 1970 <= row.learned_on.year <= 2100
        assert all(1970 <= test.on.year <= 2100 for test in row.self_tests)


# --- what a second look at real logs found ------------------------------------------------------


def test_a_log_of_last_winter_without_years_is_last_winter() -> None:
    """11/27 to 03/10, every row marked done, read on 2026-12-02: the winter just past,
    not dates running into next year."""
    text = ("| Day | Date | Topic | Status |\n|---|---|---|---|\n"
            "| Day1 | 11/27 | OOP basics | ✔ |\n| Day2 | 12/31 | Generics | ✔ |\n"
            "| Day3 | 01/01 | Streams | ✔ |\n| Day4 | 03/10 | Reflection | ✔ |\n")
    result = parse(text)
    assert [r.learned_on for r in result.rows] == [
        date(2025, 11, 27), date(2025, 12, 31), date(2026, 1, 1), date(2026, 3, 10)]
    assert result.rows[0].year_from == "year before"


def test_a_plan_without_years_keeps_its_dates_ahead() -> None:
    text = ("| Week | Dates | Topics | Done? |\n|---|---|---|---|\n"
            "| 1 | Nov 23–29 | Arrays | ☑ |\n| 2 | Dec 7–13 | Graphs | ☐ |\n")
    assert rows(text) == [("Arrays", True, date(2026, 11, 29)),
                          ("Graphs", False, date(2026, 12, 13))]


def test_a_header_that_says_when_over_text_is_no_date_column() -> None:
    text = ("| Pattern | When to use | Key problems |\n|---|---|---|\n"
            "| Two pointers | Sorted array, pair sums | 15, 167 |\n"
            "| Sliding window | Substring with a constraint | 3, 76 |\n")
    result = parse(text)
    assert (result.tables, result.warnings) == (0, [])
    assert result.table_info[0].skipped == "no dates in its date column"


def test_a_file_that_marks_done_topics_marks_them_in_every_table() -> None:
    text = ("## Phase 1\n\n| 天 | 日期 | 内容 |\n|---|---|---|\n"
            "| 1 | 2026-03-01 | 语法（✅ 已完成） |\n| 2 | 2026-03-02 | 函数 |\n\n"
            "## Phase 2\n\n| 天 | 日期 | 内容 |\n|---|---|---|\n| 3 | 2026-03-03 | 文件 |\n")
    assert rows(text) == [("语法", True, date(2026, 3, 1)), ("函数", False, date(2026, 3, 2)),
                          ("文件", False, date(2026, 3, 3))]


def test_a_date_found_or_due_is_not_a_date_studied() -> None:
    text = ("| 框架 | 来源 | 优先级 | 发现日期 |\n|---|---|---|---|\n"
            "| MetaAgent | arXiv | P0 | 2026-03-31 |\n")
    assert rows(text) == [("MetaAgent", False, date(2026, 3, 31))]


def test_changelogs_and_tables_of_keys_and_values_are_no_study_tables() -> None:
    text = ("| 日期 | 更新内容 |\n|---|---|\n| 2026-03-30 | 添加验收标准 |\n\n"
            "### 2026-02-06\n\n| 属性 | 值 |\n|---|---|\n| 题号 | 3634 |\n| 难度 | 中等 |\n")
    result = parse(text)
    assert (result.tables, result.rows) == (0, [])


def test_a_status_said_in_brackets_after_the_topic() -> None:
    text = ("| # | Date | Problem |\n|---|---|---|\n| 1 | 2026-01-20 | Two Sum |\n"
            "| 2 | 2026-01-21 | Add Two Numbers (In Progress) |\n"
            "| 3 | 2026-01-22 | LRU cache (part 2) |\n")
    assert rows(text) == [("Two Sum", True, date(2026, 1, 20)),
                          ("Add Two Numbers", False, date(2026, 1, 21)),
                          ("LRU cache (part 2)", True, date(2026, 1, 22))]


def test_identical_rows_and_shortened_summaries_are_one_card(
        run: Run, run_json: RunJson, write_log: WriteLog) -> None:
    path = write_log(
        "## Archive\n\n| Day | Date | Topic |\n|---|---|---|\n"
        "| Day 7 | 2026-11-20 | RegTech framework: modular AML engine |\n"
        "| Day 8 | 2026-11-21 | Proxies |\n| Day 8 | 2026-11-21 | Proxies |\n\n"
        "## Recent progress\n\n| Day | Date | Topic |\n|---|---|---|\n"
        "| Day 7 | 2026-11-20 | RegTech framework |\n")
    report = imported(run, run_json, path)
    assert (report["cards_created"], report["skipped"]) == (2, 2)


def test_plans_are_not_counted_as_reviews_added(run: Run, run_json: RunJson,
                                                write_log: WriteLog) -> None:
    path = write_log("| Date | Problem | Review Due |\n|---|---|---|\n"
                     "| 2026-11-20 | Flood fill | 2026-12-09 |\n")
    assert imported(run, run_json, path)["reviews_added"] == 1


def test_empty_template_rows_are_skipped_silently() -> None:
    text = ("| Week | Dates | Topics covered | Solved |\n|---|---|---|---|\n"
            "| 1 | 2026-03-30 → 2026-04-05 | | 0 |\n| 2 | 2026-04-06 → 2026-04-12 | | 0 |\n")
    result = parse(text)
    assert (result.rows, result.warnings) == ([], [])


def test_one_word_before_a_rest_word_is_still_rest() -> None:
    text = ("| Date | Topic |\n|---|---|\n| 2026-02-01 | Java break |\n"
            "| 2026-02-02 | Breadth-first search |\n")
    assert [(r.topic, r.skip) for r in parse(text).rows] == [
        ("Java break", "rest"), ("Breadth-first search", "")]
