"""Writing a self-test back into the log: one cell changes, every other byte stays."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from freezegun import freeze_time

from srs.errors import SrsError
from srs.writeback import WriteBackError, entry_text, plan_edit

Run = Callable[..., Result]
RunJson = Callable[..., Any]
WriteLog = Callable[..., Path]

NOW = "2026-11-30 10:00:00"  # UTC; a Monday

LOG = """\
# 学习记录

## 第一周

| 章节 | 状态 | 日期 | 自测 |
|------|------|------|------|
| 向量 Vectors | ✅ | 2026-10-01 | ✅ 2026-10-04 |
| 矩阵 Matrices | ✅ | 2026-10-02 |  |
| 行列式 | ✅ | 2026-10-03 | ❌ 2026-10-10，2026-10-12 |

## Week 2

| Topic | Status | Date | Notes |
|---|---|---|---|
| Eigenvalues | done | 2026-11-20 | no self-test column here |
"""
VECTORS, MATRICES, DETERMINANTS, EIGEN = 1, 2, 3, 4


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with freeze_time(NOW):
        yield


@pytest.fixture
def log(run: Run, write_log: WriteLog) -> Path:
    assert run("config", "set", "fuzz", "off").exit_code == 0
    path = write_log(LOG)
    assert run("import", str(path)).exit_code == 0
    return path


def reviews_of(run_json: RunJson, card_id: int) -> list[dict[str, Any]]:
    return run_json("show", str(card_id))["history"]  # type: ignore[no-any-return]


def one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    for needle in needles:
        assert needle in result.stderr, result.stderr


# -- the edit itself ---------------------------------------------------------------------


def test_entry_text() -> None:
    day = date(2026, 11, 30)
    assert [entry_text(day, r) for r in (1, 2, 3, 4)] == [
        "❌ 2026-11-30", "✅ 2026-11-30 hard", "✅ 2026-11-30", "✅ 2026-11-30 easy"]


def test_pass_into_an_empty_cell_changes_only_that_cell(log: Path, run: Run) -> None:
    result = run("grade", str(MATRICES), "good", "--write-back")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"wrote ✅ 2026-11-30 to {log}:8"
    assert log.read_text(encoding="utf-8") == LOG.replace(
        "| 矩阵 Matrices | ✅ | 2026-10-02 |  |",
        "| 矩阵 Matrices | ✅ | 2026-10-02 | ✅ 2026-11-30 |")


def test_again_is_appended_with_the_cells_own_separator(log: Path, run: Run) -> None:
    assert run("grade", str(DETERMINANTS), "again", "--write-back").exit_code == 0
    assert log.read_text(encoding="utf-8") == LOG.replace(
        "❌ 2026-10-10，2026-10-12 |", "❌ 2026-10-10，2026-10-12，❌ 2026-11-30 |")


def test_comma_separated_cell_and_hard_grade(log: Path, run: Run) -> None:
    assert run("grade", str(VECTORS), "hard", "--write-back").exit_code == 0
    assert log.read_text(encoding="utf-8") == LOG.replace(
        "| ✅ 2026-10-04 |", "| ✅ 2026-10-04, ✅ 2026-11-30 hard |")


def test_crlf_log_keeps_its_line_endings_byte_for_byte(run: Run, write_log: WriteLog) -> None:
    original = LOG.replace("\n", "\r\n").encode("utf-8")
    path = write_log(original)
    assert run("import", str(path)).exit_code == 0
    assert run("grade", str(MATRICES), "good", "--write-back").exit_code == 0
    assert path.read_bytes() == original.replace(
        "| 矩阵 Matrices | ✅ | 2026-10-02 |  |\r\n".encode(),
        "| 矩阵 Matrices | ✅ | 2026-10-02 | ✅ 2026-11-30 |\r\n".encode())


def test_mixed_endings_bom_and_no_final_newline(run: Run, write_log: WriteLog) -> None:
    text = ("\ufeff| Topic | Status | Date | Self-test |\r\n|---|---|---|---|\n"
            "| A | done | 2026-11-01 |\r\n| B | done | 2026-11-02 | 11-05 |")
    path = write_log(text.encode("utf-8"))
    assert run("import", str(path)).exit_code == 0
    assert run("grade", "1", "good", "--write-back").exit_code == 0
    assert run("grade", "2", "again", "--write-back").exit_code == 0
    assert path.read_bytes() == (
        "\ufeff| Topic | Status | Date | Self-test |\r\n|---|---|---|---|\n"
        "| A | done | 2026-11-01 | ✅ 2026-11-30 |\r\n"
        "| B | done | 2026-11-02 | 11-05, ❌ 2026-11-30 |").encode("utf-8")


def test_row_moved_in_the_file_is_found_by_its_identity(log: Path, run: Run) -> None:
    moved = LOG.replace(
        "| 向量 Vectors |",
        "| 新的一行 | ⏳ | | |\n| 向量 Vectors |").replace(
        "| 矩阵 Matrices | ✅ | 2026-10-02 |  |\n", "").replace(
        "| 行列式 |", "| 矩阵 Matrices | ✅ | 2026-10-02 |  |\n| 行列式 |")
    log.write_text(moved, encoding="utf-8")
    result = run("grade", str(MATRICES), "easy", "--write-back")
    assert result.exit_code == 0, result.output
    assert f"{log}:9" in result.stdout
    assert log.read_text(encoding="utf-8") == moved.replace(
        "| 矩阵 Matrices | ✅ | 2026-10-02 |  |",
        "| 矩阵 Matrices | ✅ | 2026-10-02 | ✅ 2026-11-30 easy |")


def test_row_no_longer_found_refuses_and_records_nothing(log: Path, run: Run,
                                                        run_json: RunJson) -> None:
    changed = LOG.replace("矩阵 Matrices", "Matrix multiplication")
    log.write_text(changed, encoding="utf-8")
    one_line_error(run("grade", str(MATRICES), "good", "--write-back"),
                   "cannot find the row", f"review import {log}")
    assert log.read_text(encoding="utf-8") == changed
    assert len(reviews_of(run_json, MATRICES)) == 1


def test_file_changed_between_read_and_write_is_refused(log: Path, run: Run,
                                                       run_json: RunJson,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import srs.writeback as writeback

    real = writeback.prepare

    def prepare_then_edit(*args: Any, **kwargs: Any) -> Any:
        planned = real(*args, **kwargs)
        with log.open("a", encoding="utf-8") as out:
            out.write("| Typed meanwhile | done | 2026-11-30 | |\n")
        return planned

    monkeypatch.setattr(writeback, "prepare", prepare_then_edit)
    one_line_error(run("grade", str(MATRICES), "good", "--write-back"),
                   "changed while the self-test was being written")
    assert log.read_text(encoding="utf-8") == LOG + "| Typed meanwhile | done | 2026-11-30 | |\n"
    assert len(reviews_of(run_json, MATRICES)) == 1


def test_atomic_write_checks_again_just_before_the_rename(tmp_path: Path) -> None:
    from srs.export import atomic_write

    path = tmp_path / "log.md"
    path.write_text(LOG, encoding="utf-8")

    def changed() -> None:
        raise WriteBackError("changed")

    with pytest.raises(WriteBackError):
        atomic_write(path, b"new", check=changed)
    assert path.read_text(encoding="utf-8") == LOG
    assert [p.name for p in tmp_path.iterdir()] == ["log.md"]


def test_table_without_self_test_column_gets_nothing_and_says_so(log: Path, run: Run,
                                                                run_json: RunJson) -> None:
    result = run("grade", str(EIGEN), "good", "--write-back")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        f"not written back: the table of {log}:15 has no self-test column; nothing written back")
    assert log.read_text(encoding="utf-8") == LOG
    assert len(reviews_of(run_json, EIGEN)) == 2


def test_keeps_a_copy_of_the_previous_version(log: Path, run: Run, srs_home: Path) -> None:
    assert run("grade", str(MATRICES), "good", "--write-back").exit_code == 0
    copies = list((srs_home / "state" / "log-backups").iterdir())
    assert len(copies) == 1
    assert copies[0].name.startswith("log.md.") and copies[0].name.endswith(".bak")
    assert copies[0].read_text(encoding="utf-8") == LOG
    assert copies[0].stat().st_mode & 0o777 == 0o600


def test_importing_afterwards_adds_nothing_twice(log: Path, run: Run, run_json: RunJson,
                                                query: Callable[[str], Any]) -> None:
    assert run("grade", str(MATRICES), "good", "--write-back").exit_code == 0
    assert run("grade", str(DETERMINANTS), "again", "--write-back").exit_code == 0
    before = query("SELECT COUNT(*) FROM review WHERE undone_at IS NULL")[0][0]
    report = run_json("import", str(log))
    assert report["reviews_added"] == 0
    assert query("SELECT COUNT(*) FROM review WHERE undone_at IS NULL")[0][0] == before
    history = reviews_of(run_json, MATRICES)
    assert [(h["at"][:10], h["rating"], h["source"]) for h in history] == [
        ("2026-10-02", "good", "log"), ("2026-11-30", "good", "cli")]
    assert [h["rating"] for h in reviews_of(run_json, DETERMINANTS)] == [
        "good", "again", "good", "again"]
    # A fresh database reads the written self-tests back from the log alone.
    fresh = f"sqlite:///{log.parent / 'fresh.db'}"
    assert run_json("--db", fresh, "import", str(log))["reviews_added"] == 9
    assert [(h["at"][:10], h["rating"]) for h in run_json("--db", fresh, "show", "2")["history"]
            ] == [("2026-10-02", "good"), ("2026-11-30", "good")]


def test_write_back_setting_turns_it_on(log: Path, run: Run) -> None:
    assert run("config", "set", "write_back", "on").exit_code == 0
    assert run("grade", str(MATRICES), "good").exit_code == 0
    assert "| 矩阵 Matrices | ✅ | 2026-10-02 | ✅ 2026-11-30 |" in log.read_text(encoding="utf-8")
    # A card from no log is graded as usual, with a note.
    assert run("add", "Bayes", "--learned", "2026-11-01").exit_code == 0
    result = run("grade", "5", "good")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        "not written back: card 5 is in no log; nothing to write back to")


def test_explicit_flag_on_a_card_from_no_log_is_an_error(log: Path, run: Run,
                                                        run_json: RunJson) -> None:
    assert run("add", "Bayes", "--learned", "2026-11-01").exit_code == 0
    one_line_error(run("grade", "5", "good", "--write-back"), "card 5 is in no log")
    assert len(reviews_of(run_json, 5)) == 1


def test_second_self_test_the_same_day_is_not_written_twice(log: Path, run: Run,
                                                           run_json: RunJson) -> None:
    assert run("grade", str(MATRICES), "good", "--write-back").exit_code == 0
    written = log.read_text(encoding="utf-8")
    with freeze_time("2026-11-30 18:00:00"):
        data = run_json("grade", str(MATRICES), "again", "--write-back")
    assert data["write_back"] == {
        "file": str(log), "line": 8, "entry": "❌ 2026-11-30", "written": False,
        "reason": f"{log}:8 already has a self-test on 2026-11-30"}
    assert log.read_text(encoding="utf-8") == written


def test_grade_json_reports_the_write_back(log: Path, run_json: RunJson) -> None:
    data = run_json("grade", str(MATRICES), "8/10", "--write-back")
    assert data["write_back"] == {"file": str(log), "line": 8, "entry": "✅ 2026-11-30",
                                  "written": True, "reason": None}


def test_short_row_gets_its_missing_cells(run: Run, write_log: WriteLog) -> None:
    text = ("| Topic | Date | Notes | Self-test |\n|---|---|---|---|\n"
            "| A | 2026-11-01 |\nB | 2026-11-02\n")
    path = write_log(text)
    assert run("import", str(path)).exit_code == 0
    assert run("grade", "1", "good", "--write-back").exit_code == 0
    assert run("grade", "2", "good", "--write-back").exit_code == 0
    assert path.read_text(encoding="utf-8") == (
        "| Topic | Date | Notes | Self-test |\n|---|---|---|---|\n"
        "| A | 2026-11-01 | | ✅ 2026-11-30 |\nB | 2026-11-02 |  | ✅ 2026-11-30\n")


def test_duplicate_rows_that_moved_are_ambiguous() -> None:
    # Two rows of one topic and date that differ (rows identical in every cell are one).
    text = ("| Topic | Date | Self-test |\n|---|---|---|\n| A | 2026-11-01 | 2026-11-03 |\n"
            "| A | 2026-11-01 | |\n")
    edit = plan_edit(text.encode(), file="log.md", key="a|2026-11-01|1", line_hint=4,
                     day=date(2026, 11, 30), rating=3)
    assert edit.new == text.replace("| A | 2026-11-01 | |\n",
                                    "| A | 2026-11-01 | ✅ 2026-11-30 |\n").encode()
    moved = "\n" + text
    with pytest.raises(WriteBackError, match="2 rows for the same topic and date"):
        plan_edit(moved.encode(), file="log.md", key="a|2026-11-01|1", line_hint=4,
                  day=date(2026, 11, 30), rating=3)


def test_write_back_errors_are_domain_errors() -> None:
    assert issubclass(WriteBackError, SrsError)


def test_importing_afterwards_keeps_the_time_of_the_self_test(log: Path, run: Run,
                                                             run_json: RunJson) -> None:
    assert run("grade", str(MATRICES), "good", "--write-back").exit_code == 0
    assert run_json("import", str(log))["cards_updated"] == 0
    assert reviews_of(run_json, MATRICES)[-1]["at"] == "2026-11-30T10:00:00+00:00"


def test_an_undone_written_back_grade_stays_undone_after_import(log: Path, run: Run,
                                                                run_json: RunJson) -> None:
    assert run("grade", str(MATRICES), "again", "--write-back").exit_code == 0
    before = reviews_of(run_json, MATRICES)
    assert run("undo").exit_code == 0
    assert run_json("import", str(log))["reviews_added"] == 0
    assert reviews_of(run_json, MATRICES) == before[:-1]


# -- the file, not the path ---------------------------------------------------------------


MATRICES_DONE = "| 矩阵 Matrices | ✅ | 2026-10-02 | ✅ 2026-11-30 |"


def _import(run: Run, path: Path) -> None:
    assert run("config", "set", "fuzz", "off").exit_code == 0
    assert run("import", str(path)).exit_code == 0


def test_a_symlinked_log_is_written_through_to_its_file(run: Run, tmp_path: Path) -> None:
    real = tmp_path / "notes" / "progress.md"
    real.parent.mkdir()
    real.write_text(LOG, encoding="utf-8")
    link = tmp_path / "log.md"
    link.symlink_to(real)
    _import(run, link)
    result = run("grade", str(MATRICES), "good", "--write-back")
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == real
    assert MATRICES_DONE in real.read_text(encoding="utf-8")


def test_a_read_only_log_is_not_written_and_the_grade_stands(run: Run, run_json: RunJson,
                                                              write_log: WriteLog) -> None:
    path = write_log(LOG)
    _import(run, path)
    path.chmod(0o444)
    try:
        result = run("grade", str(MATRICES), "good", "--write-back")
    finally:
        mode = path.stat().st_mode & 0o777
        path.chmod(0o644)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        f"not written back: {path} is read-only; not written back (make it writable, or "
        "write the self-test in yourself)")
    assert mode == 0o444 and path.read_text(encoding="utf-8") == LOG
    assert [r["rating"] for r in reviews_of(run_json, MATRICES)][-1] == "good"


def test_a_hard_linked_log_is_refused_so_no_link_is_cut(run: Run, write_log: WriteLog,
                                                        tmp_path: Path) -> None:
    # why: an atomic replace gives the path a new file and leaves the other link on the old
    # one; writing in place would not be atomic. Refusing, said, keeps both whole.
    path = write_log(LOG)
    other = tmp_path / "elsewhere.md"
    os.link(path, other)
    _import(run, path)
    result = run("grade", str(MATRICES), "good", "--write-back")
    assert result.exit_code == 0
    assert "has 2 hard links" in result.stdout
    assert path.read_text(encoding="utf-8") == other.read_text(encoding="utf-8") == LOG
    assert os.stat(path).st_ino == os.stat(other).st_ino


def test_the_logs_mode_is_kept(run: Run, write_log: WriteLog) -> None:
    path = write_log(LOG)
    path.chmod(0o640)
    _import(run, path)
    assert run("grade", str(MATRICES), "good", "--write-back").exit_code == 0
    assert MATRICES_DONE in path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_log_with_the_longest_name_gets_its_entry_and_a_backup(run: Run, tmp_path: Path,
                                                                 srs_home: Path) -> None:
    name = "学" * 81 + "x.md"  # 248 bytes of UTF-8: within NAME_MAX, with no room to spare
    assert len(name.encode()) <= 255
    path = tmp_path / name
    path.write_text(LOG, encoding="utf-8")
    _import(run, path)
    result = run("grade", str(MATRICES), "good", "--write-back")
    assert result.exit_code == 0, result.output
    assert MATRICES_DONE in path.read_text(encoding="utf-8")
    backups = [p for p in srs_home.rglob("*.bak")]
    assert len(backups) == 1 and len(backups[0].name.encode()) <= 255
    assert backups[0].read_text(encoding="utf-8") == LOG
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".srs-")] == []


def test_session_writes_back_as_grade_does(log: Path, run: Run) -> None:
    assert run("config", "set", "write_back", "on").exit_code == 0
    assert run("set-due", str(MATRICES), "2026-11-30").exit_code == 0
    result = run("session", "--limit", "1", input="g\n")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout
    text = log.read_text(encoding="utf-8")
    assert sum("2026-11-30" in line for line in text.splitlines()) == 1
