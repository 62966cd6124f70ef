"""Backup and portability: JSON backup and restore, the review CSV, the ICS calendar."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from freezegun import freeze_time

try:  # psycopg's C module must load before freezegun swaps datetime.date
    import psycopg  # noqa: F401
except ImportError:  # pragma: no cover
    pass

Run = Callable[..., Result]
RunJson = Callable[..., Any]
UTC = timezone.utc

NOW = "2026-11-30 10:00:00"

LOG = """\
# Log

| 章节 | 状态 | 日期 | 自测 |
|------|------|------|------|
| 向量 Vectors | ✅ | 2026-10-01 | ✅ 2026-10-03 |
| 矩阵 Matrices | ✅ | 2026-10-02 | ❌ 2026-10-05, 2026-10-09 hard |
| Determinants | ✅ | 2026-10-03 | |
| Determinants (2) | ✅ | 2026-10-04 | |
| Eigenvalues | ✅ | 2026-11-20 | |
"""
VECTORS, MATRICES, DETERMINANTS, DETERMINANTS_2, EIGEN, BAYES = 1, 2, 3, 4, 5, 6


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with freeze_time(NOW):
        yield


@pytest.fixture
def history(run: Run, write_log: Callable[..., Path], srs_home: Path) -> Path:
    """Every kind of row: log rows and sources, grades, an undone grade, a reschedule,
    a merge, a suspended card, a card from no log, a note, stored FSRS parameters."""
    from fsrs.scheduler import DEFAULT_PARAMETERS

    from srs.db import open_database
    from srs.repository import PARAMETERS_KEY, store_setting

    log = write_log(LOG)
    for args in (("config", "set", "fuzz", "off"), ("import", str(log)),
                 ("grade", str(VECTORS), "good", "--note", "easy one", "--duration", "42"),
                 ("grade", str(MATRICES), "again"), ("undo",),
                 ("grade", str(MATRICES), "hard"),
                 ("set-due", str(EIGEN), "2026-12-24"),
                 ("merge", str(DETERMINANTS_2), str(DETERMINANTS)),
                 ("add", "Bayes", "--learned", "2026-11-01", "--notes", "prior"),
                 ("suspend", str(VECTORS))):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
    db = open_database(f"sqlite:///{srs_home / 'data' / 'srs.db'}")
    parameters = [round(p * 1.01, 4) for p in DEFAULT_PARAMETERS]
    db.write(lambda s: store_setting(s, PARAMETERS_KEY, parameters))
    db.close()
    return log


def views(run_json: RunJson, *db: str) -> dict[str, Any]:
    """What a person sees of every card, `review cards --json` and each `review show --json`."""
    cards = run_json(*db, "cards")
    ids = [card["id"] for card in cards] + [DETERMINANTS_2]
    return {"cards": cards, **{str(i): run_json(*db, "show", str(i)) for i in ids}}


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database to restore into, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    return str(request.getfixturevalue("postgres_server").new_database())


def export_json(run: Run, *db: str) -> dict[str, Any]:
    result = run(*db, "export")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_restore_into_an_empty_database_gives_identical_output(
        history: Path, run: Run, run_json: RunJson, tmp_path: Path, target: str) -> None:
    backup = tmp_path / "backup.json"
    assert run("export", "-o", str(backup)).exit_code == 0
    before = views(run_json)
    result = run("--db", target, "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"restored {backup}: ")
    assert views(run_json, "--db", target) == before
    # Every row of every table came back, undone reviews and settings included.
    original, restored = export_json(run), export_json(run, "--db", target)
    assert restored["tables"] == original["tables"]
    reviews = original["tables"]["review"]
    undone = reviews["columns"].index("undone_at")
    assert sum(1 for row in reviews["rows"] if row[undone] is not None) == 1
    # New rows get fresh ids after a restore (PostgreSQL's counters were moved on).
    assert run("--db", target, "grade", str(EIGEN), "good").exit_code == 0
    assert run_json("--db", target, "show", str(EIGEN))["reviews"] == 2


def test_backup_holds_every_table_and_the_schema(history: Path, run: Run,
                                                 query: Callable[[str], Any]) -> None:
    data = export_json(run)
    tables = {name for (name,) in query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    assert set(data["tables"]) == tables - {"alembic_version"}
    assert {"card", "review", "log_source", "log_row", "setting"} <= set(data["tables"])
    assert data["format"] == "srs-backup" and data["version"] == 1
    assert data["schema"] == query("SELECT version_num FROM alembic_version")[0][0]
    assert data["created_at"] == "2026-11-30T10:00:00+00:00"
    assert data["config"] == {"timezone": "UTC", "fuzz": False}
    settings = dict(data["tables"]["setting"]["rows"])
    assert "fsrs.parameters" in settings


def _fill(table: Any) -> dict[str, Any]:
    """One row of plausible values for a table known only by its columns."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key and column.autoincrement in (True, "auto"):
            continue
        kind = getattr(column.type, "impl_instance", column.type).python_type
        values[column.name] = {str: "x", int: 1, float: 1.0, bool: False,
                               datetime: datetime(2026, 11, 30, 9, tzinfo=UTC),
                               date: date(2026, 11, 30)}.get(kind)
    return values


def test_tables_added_later_are_backed_up_and_restored(history: Path, run: Run,
                                                      srs_home: Path, tmp_path: Path) -> None:
    """The reminder ledger (or any other table the models gain) goes into the backup.

    Every table beyond the first five gets a row; and a table only the database knows
    (as a migration newer than this code would leave) travels as well.
    """
    from sqlalchemy import insert, text

    from srs.db import open_database
    from srs.models import Base

    known = {"card", "review", "log_source", "log_row", "setting"}
    extra = [t for t in Base.metadata.sorted_tables if t.name not in known]
    source = open_database(f"sqlite:///{srs_home / 'data' / 'srs.db'}")
    target_url = f"sqlite:///{tmp_path / 'restored.db'}"
    fresh = open_database(target_url)
    for db in (source, fresh):
        db.write(lambda s: s.execute(text(
            "CREATE TABLE side_notes (id INTEGER PRIMARY KEY, body TEXT, at DATETIME)")))
    source.write(lambda s: s.execute(text(
        "INSERT INTO side_notes (body, at) VALUES ('好', '2026-11-30 09:00:00')")))
    for table in extra:
        source.write(lambda s, t=table: s.execute(insert(t), [_fill(t)]))
    source.close()
    fresh.close()
    data = export_json(run)
    assert data["tables"]["side_notes"]["rows"] == [[1, "好", "2026-11-30T09:00:00"]]
    for table in extra:
        assert len(data["tables"][table.name]["rows"]) == 1
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps(data), encoding="utf-8")
    assert run("--db", target_url, "restore", str(backup)).exit_code == 0
    assert export_json(run, "--db", target_url)["tables"] == data["tables"]


def test_restore_into_a_database_that_lacks_a_table_is_refused(
        history: Path, run: Run, tmp_path: Path) -> None:
    data = export_json(run)
    data["tables"]["from_the_future"] = {"columns": ["id"], "rows": [[1]]}
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps(data), encoding="utf-8")
    target_url = f"sqlite:///{tmp_path / 'restored.db'}"
    result = run("--db", target_url, "restore", str(backup))
    assert result.exit_code == 1
    assert result.stderr == ("Error: the backup has tables this database lacks: "
                             "from_the_future\n")
    assert export_json(run, "--db", target_url)["tables"]["card"]["rows"] == []


def test_non_empty_database_is_refused_unless_replace(history: Path, run: Run,
                                                     run_json: RunJson,
                                                     tmp_path: Path) -> None:
    backup = tmp_path / "backup.json"
    assert run("export", "-o", str(backup)).exit_code == 0
    before = views(run_json)
    assert run("grade", str(EIGEN), "easy").exit_code == 0
    changed = views(run_json)
    result = run("restore", str(backup))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == ("Error: the database is not empty; restore into an empty "
                             "database, or add --replace to replace everything in it\n")
    assert views(run_json) == changed
    result = run("restore", str(backup), "--replace")
    assert result.exit_code == 0, result.output
    assert views(run_json) == before


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "Error: not an srs backup: not JSON (Expecting property name enclosed in "
                  "double quotes: line 1 column 2 (char 1))\n"),
    ('{"format": "anki"}', 'Error: not an srs backup: no "format": "srs-backup"\n'),
    ('{"format": "srs-backup", "version": 9, "tables": {}}',
     "Error: backup version 9 is not 1; it was made by another version of srs\n"),
    ('{"format": "srs-backup", "version": 1, "tables": {"card": {"columns": ["id"], '
     '"rows": [[1, 2]]}}}', "Error: not an srs backup: table 'card' is malformed\n"),
    ('{"format": "srs-backup", "version": 1, "schema": "0001", "tables": {"setting": '
     '{"columns": ["key", "value"], "rows": [["k", 5]]}}}',
     "Error: bad value 5 for setting.value in the backup\n"),
])
def test_bad_backup_files_one_line_nothing_written(run: Run, run_json: RunJson,
                                                   tmp_path: Path, content: str,
                                                   message: str) -> None:
    backup = tmp_path / "backup.json"
    backup.write_text(content, encoding="utf-8")
    result = run("restore", str(backup))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == message
    assert run_json("cards") == []


def test_restore_writes_the_settings_only_when_there_are_none(history: Path, run: Run,
                                                             srs_home: Path,
                                                             tmp_path: Path) -> None:
    backup = tmp_path / "backup.json"
    assert run("export", "-o", str(backup)).exit_code == 0
    config = srs_home / "config" / "config.toml"
    config.unlink()
    result = run("--db", f"sqlite:///{tmp_path / 'restored.db'}", "restore", str(backup))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == f"wrote the backup's settings to {config}"
    assert config.read_text(encoding="utf-8") == 'fuzz = false\ntimezone = "UTC"\n'
    result = run("--db", f"sqlite:///{tmp_path / 'again.db'}", "restore", str(backup))
    assert result.stdout.splitlines()[-1] == (
        f"kept the settings in {config}; the backup's are not applied")


def test_output_file_is_written_whole_and_private(history: Path, run: Run,
                                                  tmp_path: Path) -> None:
    out = tmp_path / "backup.json"
    result = run("export", "-o", str(out))
    assert result.exit_code == 0
    assert result.stderr == f"wrote {out}\n"
    assert out.stat().st_mode & 0o777 == 0o600
    assert json.loads(out.read_text(encoding="utf-8")) == export_json(run)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    result = run("export", "-o", str(tmp_path / "missing" / "backup.json"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write ")
    assert result.stderr.count("\n") == 1


# -- CSV ---------------------------------------------------------------------------------


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_csv_has_one_row_per_review_in_the_revlog_layout(run: Run,
                                                        write_log: Callable[..., Path]) -> None:
    log = write_log("| Topic | Status | Date | Self-test |\n|---|---|---|---|\n"
                    "| A | done | 2026-10-01 | 2026-10-03 |\n| B | done | 2026-11-01 | |\n")
    assert run("import", str(log)).exit_code == 0
    assert run("grade", "1", "hard", "--duration", "42").exit_code == 0
    assert run("grade", "2", "again").exit_code == 0
    assert run("undo").exit_code == 0  # an undone review is not exported
    result = run("export", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "card_id,review_time,review_rating,review_state,review_duration",
        f"1,{ms('2026-10-01 12:00')},3,0,0",
        f"1,{ms('2026-10-03 12:00')},3,2,0",
        f"1,{ms('2026-11-30 10:00')},2,2,42000",
        f"2,{ms('2026-11-01 12:00')},3,0,0",
    ]


# -- ICS ---------------------------------------------------------------------------------


def parse_ics(data: bytes) -> list[Any]:
    from icalendar import Calendar

    calendar = Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0"
    return list(calendar.walk("VEVENT"))


def test_ics_has_one_all_day_event_per_upcoming_self_test(history: Path, run: Run,
                                                         run_json: RunJson,
                                                         tmp_path: Path) -> None:
    first = run("export", "--format", "ics")
    assert first.exit_code == 0
    events = parse_ics(first.stdout_bytes)
    cards = [c for c in run_json("cards") if not c["suspended"]]
    assert len(events) == len(cards) == 4
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == 4
    ident = next(iter(uids)).split("@")[1]
    assert uids == {f"card-{c['id']}@{ident}" for c in cards}
    by_uid = {str(e["UID"]): e for e in events}
    today = date(2026, 11, 30)
    for card in cards:
        event = by_uid[f"card-{card['id']}@{ident}"]
        start = event.decoded("DTSTART")
        assert type(start) is date  # all day
        assert event.decoded("DTEND") == date.fromordinal(start.toordinal() + 1)
        assert start == max(date.fromisoformat(card["due"][:10]), today)
        assert str(event["SUMMARY"]) == f"Self-test: {card['topic']}"
    assert by_uid[f"card-{EIGEN}@{ident}"].decoded("DTSTART") == date(2026, 12, 24)
    # The same UIDs the next time, and after a restore into another database.
    assert {str(e["UID"]) for e in parse_ics(run("export", "--format", "ics").stdout_bytes)
            } == uids
    backup = tmp_path / "backup.json"
    assert run("export", "-o", str(backup)).exit_code == 0
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    assert run("--db", target, "restore", str(backup)).exit_code == 0
    again = run("--db", target, "export", "--format", "ics", "-o", str(tmp_path / "x.ics"))
    assert again.exit_code == 0
    assert {str(e["UID"]) for e in parse_ics((tmp_path / "x.ics").read_bytes())} == uids


def test_ics_of_an_empty_database_is_a_valid_empty_calendar(run: Run) -> None:
    result = run("export", "--format", "ics")
    assert result.exit_code == 0
    assert parse_ics(result.stdout_bytes) == []
