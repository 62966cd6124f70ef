"""Tests of srs.logparse: reading study tables out of markdown logs."""

import os
import pathlib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srs.errors import LogFileError, SrsError
from srs.logparse import LogRow, ParseResult, ParseWarning, SelfTest, parse_log, read_log

D = date


def parse(text: str) -> ParseResult:
    """Parse a log under a fixed file name."""
    return parse_log(text, "log.md")


def warnings_of(result: ParseResult) -> list[str]:
    """The warnings as a person reads them."""
    return [str(w) for w in result.warnings]


def one_row(text: str) -> LogRow:
    """The only row of a log that must parse without warnings."""
    result = parse(text)
    assert result.warnings == []
    assert len(result.rows) == 1
    return result.rows[0]


def table(header: str, *rows: str) -> str:
    """A pipe table with a delimiter row matching the header's width."""
    width = header.strip().strip("|").count("|") + 1
    return "\n".join([header, "|" + "---|" * width, *rows]) + "\n"


CN_LOG = """\
# 学习记录

## 第一周 线性代数

| 章节 | 状态 | 日期 | 自测 |
|------|------|------|------|
| 1.1 向量 | ✅ | 2025-03-01 | ✅ 2025-03-03 |
| 1.2 矩阵乘法 | ✅ | 2025-03-02 ～ 03-04 | ❌ 2025-03-05，✅ 03-09 |
| 1.3 行列式 | ⏳ | | |
"""


# --- a whole log -------------------------------------------------------------------------


def test_chinese_log_reads_every_field() -> None:
    result = parse(CN_LOG)
    assert result.warnings == [] and result.notes == [] and result.tables == 1
    assert [r.topic for r in result.rows] == ["1.1 向量", "1.2 矩阵乘法", "1.3 行列式"]
    assert [r.line for r in result.rows] == [7, 8, 9]
    assert [r.learned_on for r in result.studied] == [D(2025, 3, 1), D(2025, 3, 4)]
    assert [r.topic for r in result.pending] == ["1.3 行列式"]
    assert result.pending[0].learned_on is None
    assert result.rows[1].self_tests == (SelfTest(D(2025, 3, 5), 1), SelfTest(D(2025, 3, 9), 3))
    first = result.rows[0]
    assert first == LogRow(
        file="log.md", line=7, section="第一周 线性代数", table=0, topic="1.1 向量",
        status="✅", studied=True, learned_on=D(2025, 3, 1),
        self_tests=(SelfTest(D(2025, 3, 3), 3),), notes="", is_review=False, review_target="",
    )


def test_english_log_with_notes_column() -> None:
    text = """\
## Week 1: Python

| Topic | Status | Date | Self-test | Notes |
|-------|--------|------|-----------|-------|
| Generators | done | 2025-04-10 | 2025-04-12 good | yield and send |
| Decorators | [ ] | 2025-04-20 | | planned |
"""
    result = parse(text)
    assert result.warnings == []
    assert [(r.topic, r.studied, r.learned_on) for r in result.rows] == [
        ("Generators", True, D(2025, 4, 10)),
        ("Decorators", False, D(2025, 4, 20)),
    ]
    assert result.rows[0].notes == "yield and send"
    assert result.rows[0].self_tests == (SelfTest(D(2025, 4, 12), 3),)
    assert result.rows[0].section == "Week 1: Python"


def test_result_properties_and_warning_format() -> None:
    w = ParseWarning("study.md", 12, "no date")
    assert str(w) == "study.md:12: no date"
    result = parse(CN_LOG)
    assert [r.studied for r in result.rows] == [True, True, False]
    assert result.studied == result.rows[:2] and result.pending == result.rows[2:]
    assert issubclass(LogFileError, SrsError)


def test_empty_and_tableless_text() -> None:
    for text in ["", "\n", "just prose\n", "a | b\n"]:
        result = parse(text)
        assert (result.rows, result.warnings, result.notes, result.tables) == ([], [], [], 0)


# --- table syntax ------------------------------------------------------------------------


def test_pipeless_table() -> None:
    text = "章节 | 状态 | 日期\n--- | --- | ---\n概率论 | ✅ | 2025-05-01\n"
    text += "Statistics | ✅ | 2025-05-02\n"
    result = parse(text)
    assert [(r.topic, r.learned_on) for r in result.rows] == [
        ("概率论", D(2025, 5, 1)),
        ("Statistics", D(2025, 5, 2)),
    ]


def test_missing_trailing_pipes_ragged_spacing_and_trailing_blanks() -> None:
    text = (
        "| 章节         | 状态 | 日期       | 自测 |    \n"
        "|--------------|------|------------|-----------  \n"
        "| 梯度下降 | ✅   | 2025-05-22 | ✅ 2025-05-24   \n"
        "|   反向传播   |  ✅  |   2025-05-23   |     \n"
        "|Dropout|✅|2025-05-24|\n"
    )
    result = parse(text)
    assert result.warnings == []
    assert [r.topic for r in result.rows] == ["梯度下降", "反向传播", "Dropout"]
    assert [r.learned_on for r in result.rows] == [D(2025, 5, 22), D(2025, 5, 23), D(2025, 5, 24)]
    assert result.rows[0].self_tests == (SelfTest(D(2025, 5, 24), 3),)


def test_alignment_colons_in_delimiter() -> None:
    text = "| Topic | Status | Date |\n|:------|:------:|-----:|\n| Sorting | ✅ | 2025-01-05 |\n"
    assert one_row(text).learned_on == D(2025, 1, 5)


def test_escaped_pipe_is_a_literal_pipe() -> None:
    text = table("| Topic | Status | Date | Notes |", r"| a \| b | ✅ | 2025-02-01 | x \|\| y |")
    row = one_row(text)
    assert (row.topic, row.notes) == ("a | b", "x || y")


def test_crlf_line_endings() -> None:
    text = "# 周记\r\n\r\n| 章节 | 状态 | 日期 | 备注 |\r\n|---|---|---|---|\r\n"
    text += "| 链表 | ✅ | 2025-03-01 | 单链表<br>双链表 |\r\n| 栈 | ✅ | bad |  |\r\n"
    result = parse(text)
    assert [(r.topic, r.line, r.notes, r.section) for r in result.rows] == [
        ("链表", 5, "单链表\n双链表", "周记")
    ]
    assert warnings_of(result) == ["log.md:6: cannot read date 'bad'"]


def test_bom_is_ignored_and_counts_as_line_one() -> None:
    text = "\ufeff| Topic | Status | Date |\n|---|---|---|\n"
    text += "| Heaps | ✅ | 2025-02-03 |\n| Tries | ✅ |  |\n"
    result = parse(text)
    assert result.tables == 1
    assert [(r.topic, r.line) for r in result.rows] == [("Heaps", 3)]
    assert warnings_of(result) == ["log.md:4: no date"]


def test_short_rows_get_empty_cells_and_extra_cells_are_ignored() -> None:
    text = table(
        "| 章节 | 日期 | 状态 | 备注 |",
        "| 哈希表 | 2025-04-01 | ✅ |",
        "| 二叉树 | 2025-04-02 | ✅ | 笔记 | extra | more |",
        "| 红黑树 | 2025-04-03 |",
    )
    result = parse(text)
    assert [(r.topic, r.studied, r.notes) for r in result.rows] == [
        ("哈希表", True, ""),
        ("二叉树", True, "笔记"),
        ("红黑树", False, ""),
    ]


def test_rows_of_empty_cells_are_ignored_silently() -> None:
    text = table("| Topic | Status | Date |", "| Graphs | ✅ | 2025-01-01 |", "|  |  |  |", "| | |")
    result = parse(text)
    assert [r.topic for r in result.rows] == ["Graphs"]
    assert result.warnings == []


def test_table_ends_at_blank_line_or_pipeless_line() -> None:
    text = (
        "| Topic | Status | Date |\n|---|---|---|\n| Queues | ✅ | 2025-01-01 |\n"
        "A paragraph line ends the table\n| Not a row | ✅ | 2025-01-02 |\n\n"
        "| 章节 | 状态 | 日期 |\n|---|---|---|\n| 队列 | ✅ | 2025-01-03 |\n\n"
        "| 不是 | ✅ | 2025-01-04 |\n"
    )
    result = parse(text)
    assert [(r.topic, r.table) for r in result.rows] == [("Queues", 0), ("队列", 1)]
    assert result.tables == 2


def test_setext_underline_is_not_a_delimiter_row() -> None:
    assert parse("Topic | Date\n---\n").tables == 0


def test_non_study_table_is_skipped_with_a_note() -> None:
    text = (
        "# Resources\n\n| Book | Author |\n|---|---|\n| SICP | Abelson |\n\n"
        "| 主题 | 状态 |\n|---|---|\n| 图论 | ✅ |\n\n"
        "| Topic | Status | Date |\n|---|---|---|\n| Tries | ✅ | 2025-01-09 |\n"
    )
    result = parse(text)
    assert [str(n) for n in result.notes] == [
        "log.md:3: table skipped: no date column (Book | Author)",
        "log.md:7: table skipped: no date column (主题 | 状态)",
    ]
    assert [(r.topic, r.table) for r in result.rows] == [("Tries", 0)]
    assert result.tables == 1 and result.warnings == []


def test_inline_triple_backticks_do_not_open_a_fence() -> None:
    text = "```python``` is inline code\n\n" + table("| Topic | Date |", "| Slices | 2025-01-01 |")
    assert [(r.topic, r.line) for r in parse(text).rows] == [("Slices", 5)]


def test_tables_in_code_fences_are_ignored() -> None:
    text = (
        "# Real\n\n```markdown\n# Fake heading\n| Topic | Status | Date |\n|---|---|---|\n"
        "| Fenced | ✅ | 2025-01-01 |\n```\n\n~~~~\n| 章节 | 状态 | 日期 |\n|---|---|---|\n"
        "| 围栏 | ✅ | 2025-01-02 |\n~~~\n| still | ✅ | 2025-01-03 |\n~~~~\n\n"
        "| Topic | Status | Date |\n|---|---|---|\n| Outside | ✅ | 2025-01-04 |\n\n"
        "```\n| Topic | Status | Date |\n|---|---|---|\n| Unclosed | ✅ | 2025-01-05 |\n"
    )
    result = parse(text)
    assert [(r.topic, r.section, r.line) for r in result.rows] == [("Outside", "Real", 20)]
    assert result.tables == 1


# --- sections and multiple tables --------------------------------------------------------


def test_section_is_the_nearest_heading_above_each_table() -> None:
    text = (
        "| Topic | Status | Date |\n|---|---|---|\n| Before any heading | ✅ | 2025-01-01 |\n\n"
        "# 总标题\n## 第二周 ##\nsome text\n\n| 章节 | 状态 | 日期 |\n|---|---|---|\n"
        "| 动态规划 | ✅ | 2025-01-08 |\n\n###### Deep   heading ###\n\n"
        "| Topic | Status | Date |\n|---|---|---|\n| Greedy | ✅ | 2025-01-09 |\n#not a heading\n"
    )
    result = parse(text)
    assert [(r.topic, r.section, r.table) for r in result.rows] == [
        ("Before any heading", "", 0),
        ("动态规划", "第二周", 1),
        ("Greedy", "Deep   heading", 2),
    ]


# --- columns -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "| 章节 | 状态 | 日期 | 自测 | 备注 |",
        "| 主题 | 状态 | 时间 | 测验 | 笔记 |",
        "| 课程名称 | 学习状态 | 学习日期 | 自测记录 | 内容 |",
        "| Topic | Status | Date | Self-test | Notes |",
        "| **Chapter** | `Status` | __When__ | Selftest | Note |",
        "| TITLE | status | Date learned | Self test | Details |",
        "| Subject | Status | When | Quiz | Detail |",
        "| Topic | Status | Date | Test | Content |",
    ],
)
def test_header_synonyms(header: str) -> None:
    row = one_row(table(header, "| Sets | ✅ | 2025-06-01 | ❌ 2025-06-02 | n1 |"))
    assert (row.topic, row.status, row.learned_on, row.notes) == ("Sets", "✅", D(2025, 6, 1), "n1")
    assert row.self_tests == (SelfTest(D(2025, 6, 2), 1),)


@pytest.mark.parametrize(
    "self_test_header", ["Self-test date", "Quiz date", "自测日期", "Test when"]
)
def test_self_test_role_is_checked_before_date(self_test_header: str) -> None:
    header = f"| {self_test_header} | Topic | Date |"
    row = one_row(table(header, "| 2025-06-05 | Maps | 2025-06-01 |"))
    assert (row.topic, row.learned_on, row.studied) == ("Maps", D(2025, 6, 1), True)
    assert row.self_tests == (SelfTest(D(2025, 6, 5), 3),)


def test_first_matching_column_wins_and_columns_take_one_role() -> None:
    header = "| Topic | Title | Status | Date | Date again | Latest |"
    row = one_row(table(header, "| First | Second | ✅ | 2025-06-01 | 2025-06-09 | x |"))
    assert (row.topic, row.learned_on) == ("First", D(2025, 6, 1))


def test_keywords_match_whole_words_only() -> None:
    from srs.logwords import header_roles

    # "Topical" and "Updated" contain keywords but not as words: the headers name nothing...
    assert header_roles(["Topical", "Updated", "Latest", "Notebook"]) == {}
    # ...so the cells decide: a column of text is the topic, a column of dates the date.
    result = parse(table("| Topical | Updated |", "| Sorting | 2025-01-01 |"))
    assert [(r.topic, r.learned_on) for r in result.rows] == [("Sorting", D(2025, 1, 1))]
    assert result.table_info[0].roles == ("topic", "date")


# --- continuation ------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["", "-", "—", "–", "〃", '"', "”", "同上"])
def test_continuation_markers(marker: str) -> None:
    text = table(
        "| 章节 | 状态 | 日期 |", "| 排序 | ✅ | 2025-03-01 |", f"| {marker} | ✅ | 2025-03-02 |"
    )
    result = parse(text)
    assert result.warnings == []
    assert [(r.topic, r.learned_on) for r in result.rows] == [
        ("排序", D(2025, 3, 1)),
        ("排序", D(2025, 3, 2)),
    ]


def test_continuation_chains_use_the_resolved_topic() -> None:
    text = table(
        "| Topic | Status | Date |",
        "| Hash maps | ✅ | 2025-03-01 |",
        "| - | ✅ | 2025-03-02 |",
        "|  | ✅ | 2025-03-03 |",
        "| 同上 | ❌ | |",
        "| Sets | ✅ | 2025-03-05 |",
        "| 〃 | ✅ | 2025-03-06 |",
    )
    result = parse(text)
    assert [r.topic for r in result.rows] == ["Hash maps"] * 4 + ["Sets"] * 2


def test_continuation_in_first_row_warns_and_skips() -> None:
    text = (
        table("| Topic | Status | Date |", "| Tries | ✅ | 2025-03-01 |")
        + "\n"
        + table(
            "| Topic | Status | Date |", "| - | ✅ | 2025-03-02 |", "| Heaps | ✅ | 2025-03-03 |"
        )
    )
    result = parse(text)
    assert warnings_of(result) == ["log.md:7: no topic above to continue"]
    assert [r.topic for r in result.rows] == ["Tries", "Heaps"]


# --- status ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    ["✅", "✔", "✔️", "☑", "☑️", "[x]", "[X]", "done", "Done", "DONE!", "完成", "已完成", "yes",
     "Y", "true", "✅ 完成", "**已完成**", "Done (not reviewed)"],
)
def test_studied_statuses(status: str) -> None:
    row = one_row(table("| 章节 | 状态 | 日期 |", f"| 堆排序 | {status} | 2025-03-01 |"))
    assert (row.studied, row.status) == (True, status)


@pytest.mark.parametrize(
    "status",
    ["未完成", "not done", "Not yet done", "❌", "⏳", "🔄", "todo", "[ ]", "in progress",
     "进行中", "not_started", "⬜", "🟡", "📅 计划", "▶️ 进行中", "计划", "待开始", "50%", "—", ""],
)
def test_pending_statuses(status: str) -> None:
    # A second row with a mark shows the status column is in use: an empty cell is not done.
    result = parse(table("| 章节 | 状态 | 日期 |", f"| 快速排序 | {status} | 2025-03-01 |",
                         "| 归并排序 | ✅ | 2025-03-02 |"))
    assert result.warnings == []
    row = result.rows[0]
    assert (row.studied, row.learned_on) == (False, D(2025, 3, 1))


@pytest.mark.parametrize("status", ["undone", "yesterday", "完成一半", "🧳", "maybe"])
def test_unknown_statuses_are_pending_and_warned_once_per_file(status: str) -> None:
    result = parse(table("| 章节 | 状态 | 日期 |", f"| 快速排序 | {status} | 2025-03-01 |",
                         f"| 堆排序 | {status} | 2025-03-02 |", "| 桶排序 | ✅ | 2025-03-03 |"))
    assert [r.studied for r in result.rows] == [False, False, True]
    assert warnings_of(result) == [
        f"log.md:3: status {status!r} on 2 rows is not a done mark; counted as not yet "
        "studied (add it with 'review config set log.done_words ...')"]


def test_extra_done_and_pending_words_come_from_the_options() -> None:
    from srs.logparse import LogOptions

    text = table("| Topic | Status | Date |", "| Heaps | nailed it | 2025-03-01 |",
                 "| Tries | meh | 2025-03-02 |", "| Graphs | ✅ | 2025-03-03 |")
    result = parse_log(text, "log.md", LogOptions(done_words=("nailed",),
                                                  pending_words=("meh",)))
    assert [r.studied for r in result.rows] == [True, False, True]
    assert result.warnings == []


def test_a_status_column_never_filled_in_leaves_the_dates_to_decide() -> None:
    text = table("| Topic | Status | Date |", "| Heaps |  | 2025-03-01 |",
                 "| Tries | | |", "| Graphs | <input type=\"checkbox\"> | 2025-03-03 |")
    result = parse(text)
    assert [(r.topic, r.studied) for r in result.rows] == [
        ("Heaps", True), ("Tries", False), ("Graphs", True)]


def test_without_status_column_a_date_means_studied() -> None:
    text = table(
        "| Topic | Date | Notes |",
        "| Tuples | 2025-02-01 | |",
        "| Lists |  | planned |",
        "| Dicts | sometime | |",
    )
    result = parse(text)
    assert [(r.topic, r.studied, r.learned_on, r.status) for r in result.rows] == [
        ("Tuples", True, D(2025, 2, 1), ""),
        ("Lists", False, None, ""),
    ]
    # a written but unreadable date still reads as "studied", so the person hears about it
    assert warnings_of(result) == ["log.md:5: cannot read date 'sometime'"]


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-05-22", D(2025, 5, 22)),
        ("2025/05/22", D(2025, 5, 22)),
        ("2025.05.22", D(2025, 5, 22)),
        ("2025-6-9", D(2025, 6, 9)),
        ("2025/6/9", D(2025, 6, 9)),
        ("  2025.6.09  ", D(2025, 6, 9)),
        ("2024-02-29", D(2024, 2, 29)),
    ],
)
def test_single_date_formats(cell: str, expected: date) -> None:
    assert one_row(table("| 章节 | 状态 | 日期 |", f"| 树 | ✅ |{cell}|")).learned_on == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-06-09 ～ 06-12", D(2025, 6, 12)),
        ("2025-06-09～06-12", D(2025, 6, 12)),
        ("2025-06-09 ~ 2025-06-12", D(2025, 6, 12)),
        ("2025-06-09~12", D(2025, 6, 12)),
        ("2025-06-09 – 06-12", D(2025, 6, 12)),
        ("2025-06-09 — 06-12", D(2025, 6, 12)),
        ("2025-06-09 to 2025-06-15", D(2025, 6, 15)),
        ("2025-06-09 TO 15", D(2025, 6, 15)),
        ("2025-06-09 至 06-13", D(2025, 6, 13)),
        ("2025-06-09至13", D(2025, 6, 13)),
        ("2025-06-09 - 06-12", D(2025, 6, 12)),
        ("2025/06/09 - 6/12", D(2025, 6, 12)),
        ("2025.6.9 ~ 6.12", D(2025, 6, 12)),
        ("2025-06-09 ~ 12", D(2025, 6, 12)),
        ("2025-06-28 ~ 03", D(2025, 7, 3)),
        ("2025-12-30 ~ 01-02", D(2026, 1, 2)),
        ("2025-12-29 ~ 02", D(2026, 1, 2)),
        ("2025-06-09 ~ 2025-06-09", D(2025, 6, 9)),
    ],
)
def test_date_ranges_end_on_their_last_day(cell: str, expected: date) -> None:
    text = table("| Topic | Status | Date |", f"| Transformers | ✅ | {cell} |")
    assert one_row(text).learned_on == expected


@pytest.mark.parametrize(
    "cell",
    ["2025-13-40", "yesterday", "2025-02-30", "2025-06-09-06-12", "2025-06-09 ~", "06-32",
     "2025-06-12 ~ 2025-06-09", "2025-06-09 ~ 06-31", "2025-06/09", "2025-01-31 ~ 30"],
)
def test_unreadable_dates_skip_studied_rows_with_a_warning(cell: str) -> None:
    text = table(
        "| 章节 | 状态 | 日期 |",
        "| 栈 | ✅ | 2025-01-01 |",
        f"| 队列 | ✅ | {cell} |",
        "| 堆 | ✅ | 2025-01-03 |",
    )
    result = parse(text)
    assert [r.topic for r in result.rows] == ["栈", "堆"]
    assert warnings_of(result) == [f"log.md:4: cannot read date {cell.strip()!r}"]


def test_studied_row_without_date_warns_no_date() -> None:
    text = table(
        "| Topic | Status | Date |", "| Loops | ✅ |  |", "| Recursion | ✅ | 2025-01-02 |"
    )
    result = parse(text)
    assert warnings_of(result) == ["log.md:3: no date"]
    assert [r.topic for r in result.rows] == ["Recursion"]


def test_pending_rows_keep_bad_or_missing_dates_quietly() -> None:
    text = table(
        "| Topic | Status | Date |",
        "| Closures | ❌ | 2025-02-30 |",
        "| Iterators | todo |  |",
        "| Coroutines | 未完成 | 2025-03-01 |",
    )
    result = parse(text)
    assert result.warnings == []
    assert [(r.topic, r.studied, r.learned_on) for r in result.rows] == [
        ("Closures", False, None),
        ("Iterators", False, None),
        ("Coroutines", False, D(2025, 3, 1)),
    ]


# --- notes -------------------------------------------------------------------------------


def test_br_variants_become_newlines() -> None:
    cell = "  第一点<br>second<br/>third<br />fourth< BR / >fifth<Br>  **bold** & `code`  "
    row = one_row(table("| 章节 | 状态 | 日期 | 笔记 |", f"| 图 | ✅ | 2025-01-01 | {cell} |"))
    assert row.notes == "第一点\nsecond\nthird\nfourth\nfifth\n  **bold** & `code`"


def test_no_notes_column_gives_empty_notes() -> None:
    assert one_row(table("| Topic | Date |", "| Sets | 2025-01-01 |")).notes == ""


# --- self-tests --------------------------------------------------------------------------


def self_tests(cell: str, learned: str = "2025-05-20") -> tuple[tuple[SelfTest, ...], list[str]]:
    """The self-tests and warnings of one row with that self-test cell."""
    result = parse(table("| 章节 | 状态 | 日期 | 自测 |", f"| 概率 | ✅ | {learned} | {cell} |"))
    assert len(result.rows) == 1
    return result.rows[0].self_tests, warnings_of(result)


@pytest.mark.parametrize(
    "cell",
    ["2025-05-21, 2025-05-25", "2025-05-21，2025-05-25", "2025-05-21; 2025-05-25",
     "2025-05-21；2025-05-25", "2025-05-21、2025-05-25", "2025-05-21 2025-05-25",
     "2025-05-25 ,, 2025-05-21", "2025/5/21 2025.05.25", "05-21 5/25", "2025-05-21<br>05-25"],
)
def test_self_test_separators(cell: str) -> None:
    assert self_tests(cell) == ((SelfTest(D(2025, 5, 21), 3), SelfTest(D(2025, 5, 25), 3)), [])


@pytest.mark.parametrize(
    ("cell", "rating"),
    [
        ("2025-05-21", 3), ("✅ 2025-05-21", 3), ("2025-05-21 ✅", 3), ("✔2025-05-21", 3),
        ("✔️ 2025-05-21", 3), ("☑ 2025-05-21", 3), ("☑️ 2025-05-21", 3),
        ("❌ 2025-05-21", 1), ("2025-05-21❌", 1), ("✗ 2025-05-21", 1), ("✘ 2025-05-21", 1),
        ("✖ 2025-05-21", 1), ("✖️ 2025-05-21", 1),
        ("2025-05-21 again", 1), ("2025-05-21 hard", 2), ("2025-05-21 good", 3),
        ("2025-05-21 easy", 4), ("2025-05-21 (hard)", 2), ("2025-05-21（Easy）", 4),
        ("HARD 2025-05-21", 2), ("✅ 2025-05-21 (hard)", 2), ("[easy] 05-21", 4),
    ],
)
def test_self_test_marks_and_grade_words(cell: str, rating: int) -> None:
    assert self_tests(cell) == ((SelfTest(D(2025, 5, 21), rating),), [])


def test_marks_go_to_the_following_date_when_the_group_starts_with_a_mark() -> None:
    tests, warnings = self_tests("✅ 05-21 ❌ 05-23 hard 05-25")
    assert tests == (
        SelfTest(D(2025, 5, 21), 3), SelfTest(D(2025, 5, 23), 1), SelfTest(D(2025, 5, 25), 2)
    )
    assert warnings == []


def test_marks_go_to_the_preceding_date_otherwise() -> None:
    tests, warnings = self_tests("05-21 ❌ 05-23 easy 05-25")
    assert tests == (
        SelfTest(D(2025, 5, 21), 1), SelfTest(D(2025, 5, 23), 4), SelfTest(D(2025, 5, 25), 3)
    )
    assert warnings == []


def test_month_day_self_tests_roll_into_the_next_year() -> None:
    assert self_tests("01-03, 12-31", learned="2025-12-28") == (
        (SelfTest(D(2025, 12, 31), 3), SelfTest(D(2026, 1, 3), 3)),
        [],
    )
    # a range's learned date (its end) is what MM-DD is measured from
    assert self_tests("06-13", learned="2025-06-09 ～ 06-12")[0] == (SelfTest(D(2025, 6, 13), 3),)


def test_self_tests_are_sorted_and_exact_duplicates_dropped() -> None:
    tests, warnings = self_tests("2025-06-01, 2025-05-21 hard, 2025-06-01 ✅, 2025-05-21 (hard)")
    assert tests == (SelfTest(D(2025, 5, 21), 2), SelfTest(D(2025, 6, 1), 3))
    assert warnings == []


def test_unreadable_self_test_entries_warn_but_the_row_stays() -> None:
    tests, warnings = self_tests("✅ 2025-05-21, soon, 2025-02-30 ✅; 2025-05-2x; ❌, 2025-05-25")
    assert tests == (SelfTest(D(2025, 5, 21), 3), SelfTest(D(2025, 5, 25), 3))
    assert warnings == [
        "log.md:3: cannot read self-test 'soon'",
        "log.md:3: cannot read self-test date '2025-02-30'",
        "log.md:3: cannot read self-test '2025-05-2x'",
        "log.md:3: self-test '❌' has no date",
    ]


def test_self_test_before_learned_date_warns_and_is_dropped() -> None:
    tests, warnings = self_tests("✅ 2025-05-01, ✅ 2025-05-20, 2025-05-22")
    assert tests == (SelfTest(D(2025, 5, 20), 3), SelfTest(D(2025, 5, 22), 3))
    assert warnings == ["log.md:3: self-test 2025-05-01 is before the learned date 2025-05-20"]


def test_pending_row_without_date_cannot_place_month_day_self_tests() -> None:
    text = table("| Topic | Status | Date | Quiz |", "| Heaps | ❌ | | 05-01, 2025-05-02 |")
    result = parse(text)
    assert result.rows[0].self_tests == (SelfTest(D(2025, 5, 2), 3),)
    assert warnings_of(result) == ["log.md:3: cannot read self-test date '05-01'"]


# --- review rows -------------------------------------------------------------------------

NOTES_HEADER = "| Topic | Status | Date | Notes |"


@pytest.mark.parametrize(
    ("topic", "notes", "target"),
    [
        ("自测Transformer", "", "Transformer"),
        ("注意力机制回顾", "", "注意力机制"),
        ("复习：卷积网络", "", "卷积网络"),
        ("【复习】卷积网络", "", "卷积网络"),
        ("卷积网络（自测）", "", "卷积网络"),
        ("Review: Linear algebra", "", "Linear algebra"),
        ("Linear algebra review notes", "", "Linear algebra notes"),
        ("Self-test - Graphs", "", "Graphs"),
        ("self test (Graphs)", "", "Graphs"),
        ("Selftest Graphs (part 2)", "", "Graphs (part 2)"),
        ("QUIZ: (a) and (b)", "", "(a) and (b)"),
        ("Review (Transformer", "", "Transformer"),
        ("((注意力))复习", "", "注意力"),
        ("[Quiz] 链表 & 栈 —", "", "链表 & 栈"),
        ("Quiz", "", ""),
    ],
)
def test_review_rows(topic: str, notes: str, target: str) -> None:
    row = one_row(table(NOTES_HEADER, f"| {topic} | ✅ | 2025-01-01 | {notes} |"))
    assert (row.is_review, row.review_target) == (True, target)


@pytest.mark.parametrize(
    ("topic", "notes"),
    [("Preview of chapter 3", ""), ("Reviewer guide", "quizzes later"), ("预习", "测试"),
     # The topic decides: notes that mention a review do not make a row a review row.
     ("Attention", "weekly review of heads"), ("大模型基础", "完成了自测"),
     ("练习题", "先复习基本方法")],
)
def test_non_review_rows(topic: str, notes: str) -> None:
    row = one_row(table(NOTES_HEADER, f"| {topic} | ✅ | 2025-01-01 | {notes} |"))
    assert (row.is_review, row.review_target) == (False, "")


def test_review_of_continued_topic() -> None:
    text = table(
        "| 章节 | 状态 | 日期 |", "| 回顾动态规划 | ✅ | 2025-01-01 |", "| - | ✅ | 2025-01-02 |"
    )
    result = parse(text)
    assert [(r.is_review, r.review_target) for r in result.rows] == [(True, "动态规划")] * 2


# --- never raises ------------------------------------------------------------------------


def assert_sane(text: str, result: ParseResult) -> None:
    """Every line a result points at exists in the text."""
    count = len(text.split("\n"))
    lines = [item.line for item in [*result.warnings, *result.notes]]
    lines += [row.line for row in result.rows]
    assert all(1 <= line <= count for line in lines)


@given(st.text())
def test_parse_log_never_raises_on_any_text(text: str) -> None:
    assert_sane(text, parse_log(text))


CELLS = st.one_of(
    st.sampled_from(
        ["", " ", "|", "\\|", "-", "同上", "✅", "❌", "✔️", "[x]", "done", "未完成", "2025-06-09",
         "2025/6/9 ～ 12", "2025-12-30 ~ 01-02", "2025-02-30", "05-21", "✅ 06-01，❌ 06-03 hard",
         "(easy)", "<br />", "自测", "review", "```", "# h", "\ufeff", "\r", "日期", "Topic"]
    ),
    st.text(max_size=12),
)
HEADERS = st.lists(
    st.sampled_from(["章节", "状态", "日期", "自测", "内容", "Topic", "Status", "Date", "Quiz",
                     "Notes", "Other", ""]),
    min_size=1,
    max_size=6,
)


@st.composite
def logs(draw: st.DrawFn) -> str:
    """Random logs made of headings, prose and tables of random cells."""
    parts: list[str] = []
    for _index in range(draw(st.integers(1, 3))):
        header = draw(HEADERS)
        lead, trail = draw(st.sampled_from(["|", ""])), draw(st.sampled_from(["|", "", "|  "]))
        lines = [lead + " | ".join(header) + trail, lead + "|".join(":--" for _h in header) + trail]
        for _row in range(draw(st.integers(0, 5))):
            cells = draw(st.lists(CELLS, max_size=len(header) + 2))
            lines.append(draw(st.sampled_from(["|", ""])) + " | ".join(cells) + trail)
        prefix = draw(st.sampled_from(["", "# 标题\n", "```\n", "text\n", "\n"]))
        parts.append(prefix + draw(st.sampled_from(["\n", "\r\n"])).join(lines))
    return "\n".join(parts)


@settings(max_examples=300)
@given(logs())
def test_parse_log_never_raises_on_random_tables(text: str) -> None:
    assert_sane(text, parse_log(text, "random.md"))


# --- read_log ----------------------------------------------------------------------------


def test_read_log_reads_a_file_and_strips_the_bom(tmp_path: Path) -> None:
    path = tmp_path / "进度.md"
    path.write_bytes(b"\xef\xbb\xbf" + CN_LOG.encode("utf-8"))
    result = read_log(path)
    assert [r.line for r in result.rows] == [7, 8, 9]
    assert {r.file for r in result.rows} == {str(path)}
    assert read_log(str(path)).rows == result.rows


def assert_log_error(path: str | os.PathLike[str], *words: str) -> None:
    """read_log fails with a one-line message naming the path."""
    with pytest.raises(LogFileError) as caught:
        read_log(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    for word in words:
        assert word in message


def test_read_log_rejects_bad_files(tmp_path: Path) -> None:
    assert_log_error(tmp_path / "missing.md", "no such file")
    assert_log_error(tmp_path, "directory")
    latin1 = tmp_path / "latin1.md"
    latin1.write_bytes(b"\xff\xfe| Topic | Date |\n|---|---|\n| caf\xe9 | 2025-01-01 |\n")
    assert_log_error(latin1, "UTF-8")
    binary = tmp_path / "binary.md"
    binary.write_bytes(CN_LOG.encode("utf-8") + b"\x00\x01")
    assert_log_error(binary, "binary")
    no_table = tmp_path / "notes.md"
    no_table.write_text("# 笔记\n\n| Book | Author |\n|---|---|\n| SICP | Abelson |\n", "utf-8")
    assert_log_error(no_table, "no study table")
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    assert_log_error(empty, "no study table")


def test_read_log_reports_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.md"
    path.write_text(CN_LOG, "utf-8")

    def refuse(self: pathlib.Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "read_bytes", refuse)
    assert_log_error(path, "permission denied")


def test_read_log_reports_other_os_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "flaky.md"

    def fail(self: pathlib.Path) -> bytes:
        raise OSError(5, "Input/output error", str(self))

    monkeypatch.setattr(pathlib.Path, "read_bytes", fail)
    assert_log_error(path, "Input/output error")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_read_log_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text(CN_LOG, "utf-8")
    path.chmod(0)
    try:
        assert_log_error(path, "permission denied")
    finally:
        path.chmod(0o600)


def test_a_yearless_february_29_is_the_next_one_after_the_learned_date() -> None:
    text = ("| Topic | Date | Self-test |\n|---|---|---|\n"
            "| Leap | 2023-03-10 | ✅ 02-29 |\n"
            "| Plain | 2024-01-10 | ✅ 02-29 |\n")
    result = parse_log(text)
    assert [row.self_tests for row in result.rows] == [
        (SelfTest(D(2024, 2, 29), 3),), (SelfTest(D(2024, 2, 29), 3),)]
    assert result.warnings == []


def test_dates_with_unicode_hyphens_and_full_width_digits_are_dates() -> None:
    # Some editors and keyboard layouts type U+2011 (non-breaking hyphen) or U+2010 for
    # "-", and Chinese input methods full-width digits, in dates and in self-test cells.
    text = ("| Date | Topic | Self-test |\n|---|---|---|\n"
            "| 2026\u201110\u201127 | Sets | ✅ 2026\u201110\u201130 |\n"
            "| 2026\u201010\u201028 | Maps | ❌ 10\u201131 |\n"
            "| ２０２６－１０－２９ | 集合论 | ✅ １１－０２ |\n")
    result = parse_log(text)
    assert result.warnings == []
    assert [(row.topic, row.learned_on, row.self_tests) for row in result.rows] == [
        ("Sets", D(2026, 10, 27), (SelfTest(D(2026, 10, 30), 3),)),
        ("Maps", D(2026, 10, 28), (SelfTest(D(2026, 10, 31), 1),)),
        ("集合论", D(2026, 10, 29), (SelfTest(D(2026, 11, 2), 3),)),
    ]
