"""The benchmark's generated logs: as dense as real logs, read without a warning, and
imported into exactly the cards and reviews the generator says it wrote."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

from click.testing import Result
from freezegun import freeze_time

from benchmarks.generate import generate
from benchmarks.run import changed_log
from srs.logparse import LogOptions, parse_log

END = date(2026, 12, 2)


def test_the_same_seed_and_end_make_the_same_log() -> None:
    assert generate(300, end=END)[0] == generate(300, end=END)[0]
    assert generate(300, end=END)[0] != generate(300, end=END, seed=8)[0]


def test_a_log_has_the_density_of_real_logs() -> None:
    text, stats = generate(5000, end=END)
    density = stats.density()
    assert stats.rows == 5000
    assert 2.2 <= density["self_tests_per_studied_row"] <= 2.6
    assert 0.04 <= density["review_rows_share"] <= 0.06
    assert 0.04 <= density["continuation_rows_share"] <= 0.09
    assert 0.03 <= density["pending_rows_share"] <= 0.06
    assert 0.08 <= density["again_share_of_self_tests"] <= 0.2
    assert stats.grade_words > 0 and stats.br_notes > 0 and stats.cjk_rows > stats.rows / 2
    assert stats.yearless_dates > stats.studied / 5
    assert stats.content_tables > 10 and stats.plan_tables > 5
    assert stats.plans > 0 and stats.future_rows == 15
    for shape in ("11月", "| Nov ", "; Nov ", "|天|日期|学习内容|状态|复习记录|",
                  "| Day | Date | What I learned | Done? | Reviews |", "下次复习", "Next review",
                  "<br />", "〃", "自测 ", "Review: ", "复习 ", "❌ ", " hard", " easy"):
        assert shape in text, shape


def test_the_parser_reads_what_the_generator_wrote() -> None:
    text, stats = generate(4000, end=END)
    result = parse_log(text, "log.md", LogOptions(today=END))
    assert result.warnings == []
    assert result.tables == stats.tables
    rows = [row for row in result.rows if not row.skip]
    assert len(rows) == len(result.rows) == stats.rows
    studied = [r for r in rows if r.studied and r.learned_on is not None and r.learned_on <= END]
    assert len(studied) == stats.studied
    assert len([r for r in rows if r.studied and r.learned_on and r.learned_on > END]) == \
        stats.future_rows
    assert len([r for r in rows if not r.studied]) == stats.pending
    assert sum(r.is_review for r in studied) == stats.review_rows
    tests = [t for r in studied for t in r.self_tests]
    assert sum(1 for t in tests if t.on > END or t.planned) == stats.plans
    assert len(tests) - stats.plans == stats.self_tests
    assert sum(1 for t in tests if t.rating == 1) == stats.again


def test_an_import_makes_the_cards_and_reviews_the_log_holds(
        run: Callable[..., Result], write_log: Callable[..., Path], srs_home: Path) -> None:
    text, stats = generate(600, end=END)
    path = write_log(text)
    with freeze_time("2026-12-02 12:00:00"):
        result = run("import", str(path))
    assert result.exit_code == 0, result.output
    assert "; 0 warnings;" in result.stdout
    con = sqlite3.connect(srs_home / "data" / "srs.db")
    try:
        (cards,) = con.execute("SELECT count(*) FROM card").fetchone()
        kinds = dict(con.execute("SELECT kind, count(*) FROM review GROUP BY kind").fetchall())
    finally:
        con.close()
    assert (cards, kinds.get("review"), kinds.get("plan", 0)) == (
        stats.cards, stats.reviews, stats.plans)


def test_one_self_test_changed_in_a_copy_of_the_log() -> None:
    text, _stats = generate(200, end=END)
    changed, line = changed_log(text) or ("", 0)
    before, after = text.split("\n"), changed.split("\n")
    assert [n + 1 for n, (a, b) in enumerate(zip(before, after, strict=True)) if a != b] == [line]
    old, new = before[line - 1], after[line - 1]
    assert (new.count("❌"), new.count("✅")) == (old.count("❌") + 1, old.count("✅") - 1)
    assert changed_log("| Topic | Date |\n|---|---|\n| Sets | 2026-01-01 |\n") is None
