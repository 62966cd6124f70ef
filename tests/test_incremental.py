"""Re-importing a changed log reads and writes only what changed: the result is the same
database, row for row, as reading the whole log again."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from cli.main import cli
from srs.app import App
from srs.importer import Memos, import_salt, log_options, read_logs
from srs.logparse import LogOptions, _Reader, parse_log
from srs.paths import user_paths

NOW = "2026-03-20 09:00:00"
TOPICS = ["向量空间", "矩阵分解", "特征值", "Gradient descent", "反向传播", "注意力机制",
          "Transformer [encoder]", "卷积网络", "正则化", "Batch norm"]


def week(number: int, start: date) -> str:
    """One week's section: a table of studied rows with self-tests, in the seed's likeness."""
    rows = []
    for day in range(5):
        learned = date.fromordinal(start.toordinal() + day)
        test = date.fromordinal(learned.toordinal() + 3)
        mark = "❌" if (number + day) % 4 == 0 else "✅"
        topic = f"{TOPICS[(number * 5 + day) % len(TOPICS)]} {number}.{day}"
        rows.append(f"| {topic} | ✅ | {learned} | {mark} {test} | 笔记 {number}-{day} |")
    rows.append(f"| | | {date.fromordinal(start.toordinal() + 5)} | ✅ "
                f"{date.fromordinal(start.toordinal() + 8)} | 续 |")  # continuation row
    rows.append(f"| 复习 {TOPICS[(number - 1) * 5 % len(TOPICS)]} {max(number - 1, 0)}.0 | ✅ | "
                f"{date.fromordinal(start.toordinal() + 6)} | | 复习 |")  # a review row
    rows.append(f"| 待学 {number} | ⏳ | | | |")  # pending
    return (f"## 第{number}周\n\n| 章节 | 状态 | 日期 | 自测 | 备注 |\n"
            f"|------|------|------|------|------|\n" + "\n".join(rows) + "\n")


def base_log() -> str:
    start = date(2026, 1, 5)
    weeks = [week(n, date.fromordinal(start.toordinal() + 7 * n)) for n in range(8)]
    yearless = ("## 二月\n\n| 日期 | 内容 | 复习 |\n|---|---|---|\n"
                "| 02-27 | 概率论 | 03-02 ✅ |\n| 02-28 | 统计推断 | 03-03 ❌ |\n"
                "| 03-01 | 贝叶斯 | |\n")
    return "# 学习记录\n\n" + "\n".join(weeks) + "\n" + yearless


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n")) if needle in line)


def insert_row_mid(text: str) -> str:
    lines = text.split("\n")
    at = _line_of(text, "3.2")
    lines.insert(at + 1, "| 插入的主题 | ✅ | 2026-01-28 | ✅ 2026-02-01 | 新 |")
    return "\n".join(lines)


def delete_row(text: str) -> str:
    lines = text.split("\n")
    del lines[_line_of(text, "5.1 |")]
    return "\n".join(lines)


EDITS: dict[str, Callable[[str], str]] = {
    "a mark": lambda t: replace_once(t, "✅ 2026-02-06", "❌ 2026-02-06"),
    "a note": lambda t: replace_once(t, "笔记 4-2", "笔记 4-2 改过"),
    "a topic renamed": lambda t: replace_once(t, "卷积网络 3.2 ", "卷积神经网络 3.2 "),
    "a learned date": lambda t: replace_once(t, "| 2026-02-06 |", "| 2026-02-07 |"),
    # the date above a table of dates without a year gives them their year
    "the last date of a table (the next one's context)": lambda t: replace_once(
        t, "| 2026-03-01 | | 复习 |", "| 2025-03-01 | | 复习 |"),
    "a row made pending": lambda t: replace_once(t, "| ✅ | 2026-01-13 |", "| ⏳ | 2026-01-13 |"),
    "a row inserted in the middle": insert_row_mid,
    "a row deleted": delete_row,
    "a row appended": lambda t: t + "| 03-05 | 信息论 | 03-08 ✅ |\n",
    "a repeat of a later table's row": lambda t: replace_once(
        t, "| 向量空间 0.0 | ✅ | 2026-01-05 |", "| 正则化 5.3 | ✅ | 2026-02-12 |"),
    "a heading year": lambda t: replace_once(t, "## 二月\n", "## 二月 (2025)\n"),
    "a self-test added": lambda t: replace_once(
        t, "✅ 2026-02-12 | 笔记 5-0", "✅ 2026-02-12, ✅ 2026-02-20 hard | 笔记 5-0"),
    "nothing": lambda t: t,
}


class Home:
    """A home of its own, and `review` run in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "config").mkdir(parents=True, exist_ok=True)
        (root / "config" / "config.toml").write_text('timezone = "UTC"\n', encoding="utf-8")

    def review(self, *args: str) -> Any:
        result = CliRunner().invoke(cli, [*args, "--json"], env={"SRS_HOME": str(self.root)},
                                    catch_exceptions=False, prog_name="review")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def memos(self) -> list[Path]:
        return sorted((self.root / "state" / "memo").glob("*.json"))

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, without the moments of writing."""
        moments = {"recorded_at", "imported_at", "updated_at", "created_at", "undone_at"}
        with closing(sqlite3.connect(self.root / "data" / "srs.db")) as conn:
            names = [name for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'")]
            found = {}
            for name in names:
                columns = [row[1] for row in conn.execute(f"PRAGMA table_info({name})")
                           if row[1] not in moments]
                found[name] = conn.execute(
                    f"SELECT {', '.join(columns)} FROM {name} ORDER BY 1").fetchall()
            return found


@pytest.fixture
def frozen() -> Iterator[None]:
    with freeze_time(NOW):
        yield


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_changed_log_reads_as_a_whole_reading_would(edit: str, tmp_path: Path,
                                                      frozen: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.md"
    text = base_log()
    log.write_text(text, encoding="utf-8")
    memo, whole = Home(tmp_path / "memo"), Home(tmp_path / "whole")
    first = memo.review("import", str(log))
    assert first["cards_created"] > 40 and memo.memos()
    shutil.copytree(memo.root / "data", whole.root / "data")

    log.write_text(EDITS[edit](text), encoding="utf-8")
    read: list[int] = []
    table = _Reader.read_table

    def counted(self: _Reader, *args: Any) -> Any:
        read.append(1)
        return table(self, *args)

    monkeypatch.setattr(_Reader, "read_table", counted)
    by_memo = memo.review("import", str(log))
    tables_by_memo = len(read)
    by_whole = whole.review("import", str(log))  # no memo: the whole log is read
    assert by_memo == by_whole
    assert tables_by_memo < len(read) - tables_by_memo or edit == "nothing"
    assert memo.tables() == whole.tables()
    # and the memo written after the edit serves the next edit as well
    log.write_text(EDITS[edit](text).replace("笔记 6-1", "笔记 6-1 再改"), encoding="utf-8")
    for home in (memo, whole):
        for path in home.memos():
            if home is whole:
                path.unlink()
        home.review("import", str(log))
    assert memo.tables() == whole.tables()


def test_only_the_changed_table_is_read_again(tmp_path: Path) -> None:
    text = base_log()
    options = LogOptions(today=date(2026, 3, 20))
    first = parse_log(text, "log.md", options)
    assert not first.reused and first.memo is not None
    changed = replace_once(text, "✅ 2026-02-06", "❌ 2026-02-06")
    again = parse_log(changed, "log.md", options, first.memo)
    whole = parse_log(changed, "log.md", options)
    assert again.reused == set(range(again.tables)) - {4}  # the table of that row
    assert again.rows == [row for row in whole.rows if row.table not in again.reused]
    assert (again.warnings, again.notes, again.table_info, again.counts) == (
        whole.warnings, whole.notes, whole.table_info, whole.counts)
    # its last date is the next table's context: changing it reads the next one too
    moved = EDITS["the last date of a table (the next one's context)"](text)
    assert len(parse_log(moved, "log.md", options, first.memo).reused) == first.tables - 2
    # a table holding a date of the day it was read (or later) is read again another day
    early = parse_log(text, "log.md", LogOptions(today=date(2026, 3, 3)))
    later = parse_log(text, "log.md", LogOptions(today=date(2026, 3, 4)), early.memo)
    assert later.reused == set(range(7))  # weeks 0-6; week 7 and February hold 03-03


def test_a_memo_counts_only_for_the_import_that_wrote_it(tmp_path: Path, frozen: None) -> None:
    """A memo of another import (a failed one, a restored database) is not used."""
    log = tmp_path / "log.md"
    text = base_log()
    log.write_text(text, encoding="utf-8")
    home = Home(tmp_path / "home")
    home.review("import", str(log))
    [memo_file] = home.memos()
    app = App(paths=user_paths({"SRS_HOME": str(home.root)}))
    options = log_options(app.config, date(2026, 3, 20))
    salt = import_salt(app.clock, options)
    memos = Memos(home.root / "state" / "memo", app.url)
    stored = json.loads(memo_file.read_text(encoding="utf-8"))
    assert memos.load(log.resolve(), stored["digest"], salt) is not None
    assert memos.load(log.resolve(), "another digest", salt) is None
    assert memos.load(log.resolve(), stored["digest"], salt + "x") is None
    memo_file.write_text(re.sub(r'"digests":"[0-9a-f]{3}', '"digests":"',
                                memo_file.read_text(encoding="utf-8"), count=1),
                         encoding="utf-8")
    assert memos.load(log.resolve(), stored["digest"], salt) is None  # a damaged memo
    memo_file.write_text("{not json", encoding="utf-8")
    files = read_logs([str(log)], salt=salt, options=options, memos=memos,
                      known=lambda paths: {str(log.resolve()): (stored["digest"], "2000-01-01")})
    assert files[0].parsed is not None and not files[0].parsed.reused


def test_a_later_day_reads_the_plans_that_came_due(tmp_path: Path) -> None:
    """Days later, a planned self-test and a row dated ahead have come: the tables holding
    them are read again, the others are taken as read."""
    log = tmp_path / "log.md"
    text = base_log() + "| 03-22 | 信息论 | 03-25 |\n"  # ahead of the first import's day
    text = replace_once(text, "✅ 2026-02-12 | 笔记 5-0", "✅ 2026-02-12, 2026-03-24 | 笔记 5-0")
    log.write_text(text, encoding="utf-8")
    memo, whole = Home(tmp_path / "memo"), Home(tmp_path / "whole")
    with freeze_time(NOW):
        first = memo.review("import", str(log))
    assert first["planned"] == 1
    shutil.copytree(memo.root / "data", whole.root / "data")
    log.write_text(replace_once(text, "笔记 2-1", "笔记 2-1 改"), encoding="utf-8")
    with freeze_time("2026-03-26 09:00:00"):
        by_memo = memo.review("import", str(log))
        by_whole = whole.review("import", str(log))
    assert by_memo == by_whole and by_memo["cards_created"] == 1 and by_memo["planned"] == 0
    assert memo.tables() == whole.tables()
