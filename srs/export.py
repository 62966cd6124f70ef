"""Getting data out and back in: a JSON backup of every table, a review CSV, an ICS calendar.

The JSON backup (format `srs-backup`, version 1) holds every row of every table in the
database except Alembic's own, so a table added by a later migration is included without
a change here::

    {"format": "srs-backup", "version": 1, "schema": "0001", "srs_version": "0.1.0",
     "created_at": "2026-11-30T10:00:00+00:00", "config": {"timezone": "UTC", ...},
     "tables": {"card": {"columns": ["id", "topic", ...], "rows": [[1, "Vectors", ...]]}, ...}}

Timestamps are ISO 8601 with their offset, dates ISO, everything else as JSON has it.

Every export is written as it is read, a few hundred rows at a time, and a restore reads
the file the same way (srs/backupcheck.py): memory stays the same whatever the number of
cards. Everything here runs on an `SqlConn` (srs/sql.py), without SQLAlchemy on SQLite.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from srs.errors import SrsError
from srs.i18n import _
from srs.sql import SQLITE_STAMP, SqlConn
from srs.tables import Column, Table, database_tables, quoted, restore_order
from srs.text import json_safe

if TYPE_CHECKING:
    from srs.backupcheck import BackupFile
    from srs.clock import DayClock
    from srs.engine import Engine

BACKUP_FORMAT = "srs-backup"
BACKUP_VERSION = 1
IDENTITY_KEY = "srs.identity"
CSV_COLUMNS = ("card_id", "review_time", "review_rating", "review_state", "review_duration")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
UTC = timezone.utc
BATCH = 1000  # rows written, or inserted, at a time

Write = Callable[[bytes], None]


class ExportError(SrsError):
    """A file that cannot be written, or a backup that cannot be restored."""


# -- files --------------------------------------------------------------------------------


def atomic_write(path: Path, data: bytes, *, mode: int | None = None,
                 check: Callable[[], None] | None = None) -> None:
    """Replace `path` with `data` all at once (see srs/atomic.py); a new file gets `mode`.

    `check` runs just before the rename and may raise to leave `path` as it was.
    """
    from srs.atomic import replace_file

    try:
        replace_file(Path(path), data, mode=mode, check=check)
    except OSError as err:
        raise ExportError(_("cannot write {path}: {reason}").format(
            path=path, reason=err.strerror or err)) from None


@contextmanager
def replacing(path: Path, *, mode: int | None = None) -> Iterator[BinaryIO]:
    """`srs.atomic.replacing`, its failure an ExportError naming the file."""
    from srs.atomic import replacing as atomic_replacing

    try:
        with atomic_replacing(path, mode=mode) as out:
            yield out
    except OSError as err:
        raise ExportError(_("cannot write {path}: {reason}").format(
            path=path, reason=err.strerror or err)) from None


# -- values as a backup holds them -----------------------------------------------------------

# The same characters in UTF-8, found from their first byte (a fast search) and then
# matched: a backup of CJK notes is mostly characters above them.
_UNSAFE_UTF8 = re.compile(rb"\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8b\x8c\x8e\x8f\xaa-\xae]|"
                          rb"\xe2\x81[\xa0-\xa4\xa6-\xa9]|\xef\xbb\xbf")
_UNSAFE_FIRST = (b"\x7f", b"\xc2", b"\xd8", b"\xe2", b"\xef")


def _has_unsafe(data: bytes) -> bool:
    """True when UTF-8 `data` holds a character `UNSAFE_IN_JSON` matches."""
    for first in _UNSAFE_FIRST:
        at = data.find(first)
        while at >= 0:
            if _UNSAFE_UTF8.match(data, at):
                return True
            at = data.find(first, at + 1)
    return False


def _utf8(text: str) -> bytes:
    """JSON text as UTF-8, with what a terminal would obey or hide written as \\u escapes."""
    data = text.encode("utf-8")
    if not _has_unsafe(data):
        return data
    return json_safe(text).encode("utf-8")


def _dump(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    raise ExportError(_("cannot write a value of type {type} to a backup").format(
        type=type(value).__name__))


def _sqlite_moment(value: Any) -> Any:
    """A UTC timestamp as SQLite keeps it ("2026-11-30 10:00:00.000000") in ISO 8601."""
    if type(value) is str and len(value) == 26 and value[10] == " ":
        if value.endswith(".000000"):
            return f"{value[:10]}T{value[11:19]}+00:00"
        return f"{value[:10]}T{value[11:]}+00:00"
    return _moment_of(value)


def _moment_of(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    return value


def _naive_datetime(value: Any) -> Any:
    """A timestamp without a zone (a table only the database knows), as SQLAlchemy reads it."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).isoformat()
        except ValueError:
            return value
    return _dump(value)


def _bool(value: Any) -> Any:
    return bool(value) if type(value) is int else value


def _out(column: Column, dialect: str) -> Callable[[Any], Any] | None:
    """How a stored value of `column` becomes the backup's (None: as it is)."""
    if dialect == "sqlite":
        return {"moment": _sqlite_moment, "datetime": _naive_datetime, "bool": _bool,
                "any": _dump}.get(column.kind)
    if column.kind == "moment":
        return _moment_of
    return _dump if column.kind in ("date", "datetime", "any") else None


def schema_revision(conn: SqlConn) -> str | None:
    """The Alembic revision of the database."""
    value = conn.scalar("SELECT version_num FROM alembic_version")
    return None if value is None else str(value)


def _select(table: Table) -> str:
    order = table.primary_key or tuple(table.names)
    return (f"SELECT {', '.join(quoted(n) for n in table.names)} FROM {quoted(table.name)} "
            f"ORDER BY {', '.join(quoted(n) for n in order)}")


def _indented(value: Any, depth: int) -> str:
    """`value` as json.dumps(indent=1) writes it `depth` levels down."""
    return json.dumps(value, ensure_ascii=False, indent=1).replace("\n", "\n" + " " * depth)


def _bad_value(rows: list[Any]) -> ExportError:
    for row in rows:
        for value in row:
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                return ExportError(_("cannot write a value of type {type} to a backup").format(
                    type=type(value).__name__))
    return ExportError(_("cannot write a value to a backup"))  # pragma: no cover


# A row's values are one to a line in the backup. The json module's C encoder writes a
# batch of rows with that separator between values; "],\n     [" then only ever falls
# between two rows of scalars (no scalar ends with "]", and JSON escapes a newline).
_ROWS = json.JSONEncoder(ensure_ascii=False, separators=(",\n     ", ": ")).encode


def _rows_text(rows: list[Any]) -> str:
    """Rows of scalars as json.dumps(indent=1) writes them inside a table's "rows"."""
    try:
        text = _ROWS(rows)
    except (TypeError, ValueError):
        raise _bad_value(rows) from None
    return ("\n    [\n     " + text[2:-2].replace("],\n     [", "\n    ],\n    [\n     ")
            + "\n    ]")


def _converter(table: Table, dialect: str) -> Callable[[tuple[Any, ...]], Sequence[Any]] | None:
    """How a stored row of `table` becomes the backup's values (None: as it is)."""
    change = [(i, f) for i, column in enumerate(table.columns)
              if (f := _out(column, dialect)) is not None]
    if not change:
        return None
    if len(change) == 1:
        (at, f), = change

        def convert_one(row: tuple[Any, ...]) -> tuple[Any, ...]:
            value = row[at]
            if value is None:
                return row
            return (*row[:at], f(value), *row[at + 1:])

        return convert_one

    def convert(row: tuple[Any, ...]) -> list[Any]:
        values = list(row)
        for i, f in change:
            value = values[i]
            if value is not None:
                values[i] = f(value)
        return values

    return convert


def write_backup(conn: SqlConn, write: Write, *, now: datetime, config: dict[str, Any],
                 version: str) -> None:
    """Every row of every table, with the schema revision and the person's set config values.

    Written to `write` as UTF-8 while the rows are read, a few thousand at a time; the text
    is what `json.dumps(backup, ensure_ascii=False, indent=1)` makes of the whole (with
    what a terminal would obey or hide escaped), and a final newline.
    """
    head = {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "schema": schema_revision(conn),
        "srs_version": version,
        "created_at": now.isoformat(),
        "config": config,
    }
    text = _indented(head, 0)
    tables = database_tables(conn)
    write(_utf8(text[:-2] + ',\n "tables": {' + ("" if tables else "}")))
    for number, table in enumerate(tables):
        write(_utf8(
            f'{"," if number else ""}\n  {json.dumps(table.name, ensure_ascii=False)}: {{\n'
            f'   "columns": {_indented(table.names, 3)},\n   "rows": ['))
        convert = _converter(table, conn.dialect)
        # A table srs knows holds only scalars; another's values (a PostgreSQL array or
        # JSON column) are written one row at a time, as json.dumps would indent them.
        scalars = table.known and bool(table.columns)
        batch: list[Any] = []
        separator = ""
        for row in conn.stream(_select(table)):
            batch.append(convert(row) if convert is not None else row)
            if len(batch) >= BATCH:
                write(_utf8(separator + _batch_text(batch, scalars)))
                separator = ","
                batch = []
        if batch:
            write(_utf8(separator + _batch_text(batch, scalars)))
            separator = ","
        write(b"\n   ]\n  }" if separator else b"]\n  }")
    write(b"\n }\n}\n" if tables else b"\n}\n")


def _batch_text(rows: list[Any], scalars: bool) -> str:
    if scalars:
        return _rows_text(rows)
    try:
        return ",".join("\n    " + _indented(list(row), 4) for row in rows)
    except (TypeError, ValueError):
        raise _bad_value(rows) from None


# -- restoring a backup ----------------------------------------------------------------------


@dataclass
class RestoreReport:
    """How many rows each table received."""

    rows: dict[str, int] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    rescheduled: int = 0  # cards whose due day moved: the backup followed another clock
    steps: int = 0  # self-tests whose step (state before and after) was not in the backup

    def to_json(self) -> dict[str, Any]:
        return {"restored": self.rows, "rescheduled": self.rescheduled}


def is_empty(conn: SqlConn, tables: list[Table] | None = None) -> bool:
    """True when no table holds a row."""
    for table in tables if tables is not None else database_tables(conn):
        if conn.scalar(f"SELECT 1 FROM {quoted(table.name)} LIMIT 1") is not None:
            return False
    return True


def _stamp_utc(conn: SqlConn) -> Callable[[Any], Any]:
    """A (checked) ISO 8601 timestamp with its offset, as `conn` stores a UTC moment."""
    if conn.dialect != "sqlite":
        return lambda value: conn.stamp(datetime.fromisoformat(value))

    def stamp(value: str) -> Any:
        if value.endswith("+00:00") and value[10] == "T":
            if len(value) == 25:
                return f"{value[:10]} {value[11:19]}.000000"
            if len(value) == 32 and value[19] == ".":
                return f"{value[:10]} {value[11:26]}"
        return conn.stamp(datetime.fromisoformat(value))

    return stamp


def _day_in(conn: SqlConn, clock: DayClock, checked: bool) -> Callable[[Any], Any]:
    sqlite = conn.dialect == "sqlite"

    def day(value: Any) -> Any:
        if isinstance(value, str) and len(value) > 10:
            # A backup made before due dates were study days holds a due moment: the
            # study day it falls on is the day the person was shown.
            from srs.clock import to_utc

            return conn.day_value(clock.day_of(to_utc(datetime.fromisoformat(value))))
        if sqlite and checked:
            return value  # checked already, and stored as it is written
        found = date.fromisoformat(value)
        return value if sqlite else found

    return day


def _in(column: Column, conn: SqlConn, clock: DayClock, *, checked: bool,
        moment_days: bool = True) -> Callable[[Any], Any] | None:
    """How a backup value of `column` is stored; None: as it is.

    A column of srs's own tables holds a value already checked (srs/backupcheck.py), so
    only what the database stores differently is changed. A column of a table only the
    database knows is checked here against the type the database declares: ValueError,
    TypeError or OverflowError for a value it cannot take.
    """
    kind = column.kind
    if kind == "moment":
        return _stamp_utc(conn)
    if kind == "date":
        if checked and conn.dialect == "sqlite" and not moment_days:
            return None
        return _day_in(conn, clock, checked)
    if kind == "datetime":
        return _naive_in(conn)
    return None if checked else _CHECKED.get(kind)


def _naive_in(conn: SqlConn) -> Callable[[Any], Any]:
    def naive(value: Any) -> Any:
        moment = datetime.fromisoformat(value)
        return moment.strftime(SQLITE_STAMP) if conn.dialect == "sqlite" else moment

    return naive


def _boolean_in(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError(value)
    return value


def _whole_in(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(value)
    return value


def _number_in(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(value)
    return float(value)


def _text_in(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


_CHECKED: dict[str, Callable[[Any], Any]] = {
    "bool": _boolean_in, "int": _whole_in, "float": _number_in, "text": _text_in}


class _Inserter:
    """Rows of one table of the backup, inserted a batch at a time."""

    def __init__(self, conn: SqlConn, table: Table, names: list[str], clock: DayClock,
                 moment_days: bool) -> None:
        from srs.tables import NO_DEFAULT

        self.conn = conn
        self.table = table
        self.count = 0
        self.batch: list[dict[str, Any]] = []
        given = {name: i for i, name in enumerate(names)}
        # A reference to a row of the same table is set once all its rows are in: a card
        # may be merged into a card that comes after it.
        key = table.primary_key
        self.later = [column.name for column in table.columns
                      if column.references is not None and column.references[0] == table.name
                      and column.nullable and len(key) == 1 and column.name in given]
        self.updates: list[dict[str, Any]] = []
        self.key = key[0] if len(key) == 1 else ""
        self.fill: list[tuple[str, int | None, Callable[[Any], Any] | None, Any]] = []
        for i, column in enumerate(table.columns):
            at = given.get(column.name)
            if at is not None:
                self.fill.append((f"p{i}", at, _in(column, conn, clock, checked=table.known,
                                                   moment_days=moment_days), None))
            elif column.default is not NO_DEFAULT:
                self.fill.append((f"p{i}", None, None, column.default))
            elif column.nullable:
                self.fill.append((f"p{i}", None, None, None))
            else:
                from srs.backupcheck import InvalidBackup

                raise InvalidBackup(("tables", table.name, "columns"),
                                    _("column {column} is missing").format(column=column.name))
        self.sql = (f"INSERT INTO {quoted(table.name)} "
                    f"({', '.join(quoted(c.name) for c in table.columns)}) VALUES "
                    f"({', '.join(f':p{i}' for i in range(len(table.columns)))})")
        self.later_params = [f"p{table.names.index(name)}" for name in self.later]
        self.params = [param for param, _at, _convert, _default in self.fill]
        self.direct = names == table.names
        self.converts = [(param, at, convert) for param, at, convert, _default in self.fill
                         if at is not None and convert is not None]
        self.key_param = f"p{table.names.index(self.key)}" if self.key else ""

    def add(self, row: list[Any]) -> None:
        if self.direct:  # the backup's columns are the table's: only a few values change
            for param, at, convert in self.converts:
                value = row[at]
                if value is not None:
                    try:
                        row[at] = convert(value)
                    except (ValueError, TypeError, OverflowError):
                        raise self._misfit(param, value) from None
            values = dict(zip(self.params, row, strict=True))
        else:
            values = self._values(row)
        for param, name in zip(self.later_params, self.later, strict=True):
            if values[param] is not None:
                self.updates.append({"id": values[self.key_param], "value": values[param],
                                     "column": name})
                values[param] = None
        self.batch.append(values)
        self.count += 1
        if len(self.batch) >= BATCH:
            self.flush()

    def _values(self, row: list[Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for param, at, convert, default in self.fill:
            if at is None:
                values[param] = default
                continue
            value = row[at]
            if value is not None and convert is not None:
                try:
                    value = convert(value)
                except (ValueError, TypeError, OverflowError):
                    raise self._misfit(param, row[at]) from None
            values[param] = value
        return values

    def _misfit(self, param: str, value: Any) -> SrsError:
        from srs.backupcheck import InvalidBackup, show

        column = self.table.columns[int(param[1:])]
        return InvalidBackup(("tables", self.table.name, "rows", self.count, column.name),
                             _("{value} does not fit column {column} ({type})").format(
                                 value=show(value), column=column.name,
                                 type=column.type_name))

    def flush(self) -> None:
        try:
            self.conn.run_many(self.sql, self.batch)
        except Exception as err:  # noqa: BLE001 - the database's own refusal, in one line
            if not _refused(err):
                raise
            # Only a table srs does not know gets here: srs's own were checked.
            reason = str(getattr(err, "orig", None) or err).splitlines()[0]
            raise ExportError(_("the database refused table {table} of the backup: "
                                "{reason}").format(table=self.table.name,
                                                   reason=reason)) from None
        self.batch = []

    def finish(self) -> None:
        self.flush()
        for name in self.later:
            rows = [{"id": u["id"], "value": u["value"]} for u in self.updates
                    if u["column"] == name]
            self.conn.run_many(f"UPDATE {quoted(self.table.name)} SET {quoted(name)} = :value "
                               f"WHERE {quoted(self.key)} = :id", rows)


def _refused(err: Exception) -> bool:
    """True for a database's refusal of a row (a constraint, a value it cannot hold)."""
    names = {kind.__name__ for kind in type(err).__mro__}
    return bool(names & {"IntegrityError", "DataError"})


def restore_backup(conn: SqlConn, backup: BackupFile, *, replace: bool,
                   clock: DayClock) -> RestoreReport:
    """Load a checked backup file into the database, in the caller's write transaction.

    Refused when the database holds anything, unless `replace`, which first empties
    every table. Raises ExportError for a backup this database cannot hold. `clock` reads
    the due moments of a backup made before due dates were study days. The file is read
    again as it is inserted: once, or once a table when its tables are not in an order
    where each comes after the tables it refers to.
    """
    from srs.backupcheck import MOMENT_DUE_SCHEMAS, read_rows

    tables = database_tables(conn)
    by_name = {t.name: t for t in tables}
    unknown = sorted(set(backup.columns) - set(by_name))
    if unknown:
        raise ExportError(_("the backup has tables this database lacks: {names}").format(
            names=", ".join(unknown)))
    if not is_empty(conn, tables):
        if not replace:
            raise ExportError(_("the database is not empty; restore into an empty database, "
                                "or add --replace to replace everything in it"))
        for table in reversed(tables):
            conn.run(f"DELETE FROM {quoted(table.name)}")
    for table in tables:
        if table.name not in backup.columns:
            continue
        extra = sorted(set(backup.columns[table.name]) - set(table.names))
        if extra:
            raise ExportError(_("table {table} in the backup has columns this database "
                                "lacks: {names}").format(table=table.name,
                                                         names=", ".join(extra)))
    order = [t for t in restore_order(tables) if t.name in backup.columns]
    # Schemas before study days held due moments where dates are now.
    moment_days = backup.head.get("schema") in MOMENT_DUE_SCHEMAS
    report = RestoreReport(config=dict(backup.head.get("config") or {}))
    cache = None
    if conn.dialect == "sqlite":  # room for the indexes a large restore keeps updating
        cache = conn.scalar("PRAGMA cache_size")
        conn.run("PRAGMA cache_size = -65536")
    if _in_order(backup.table_order, order):
        passes = [[t.name for t in order]]
    else:
        passes = [[t.name] for t in order]
    for names in passes:
        inserters = {name: _Inserter(conn, by_name[name], backup.columns[name], clock,
                                     moment_days)
                     for name in names}
        read_rows(backup, inserters)
        for name, inserter in inserters.items():
            report.rows[name] = inserter.count
    if cache is not None:
        conn.run(f"PRAGMA cache_size = {int(cache)}")
    report.rows = {t.name: report.rows[t.name] for t in tables if t.name in report.rows}
    if conn.dialect == "postgresql":
        _reset_sequences(conn, tables)
    return report


def _in_order(found: list[str], order: list[Table]) -> bool:
    """True when every table of the file comes after the tables it refers to."""
    seen: set[str] = set()
    named = {table.name: table for table in order}
    for name in found:
        table = named.get(name)
        if table is None:
            continue
        for column in table.columns:
            refers = column.references[0] if column.references is not None else None
            if refers is not None and refers != name and refers in named and refers not in seen:
                return False
        seen.add(name)
    return True


def _reset_sequences(conn: SqlConn, tables: list[Table]) -> None:
    """Move PostgreSQL's id counters past the restored ids, so new rows do not collide."""
    for table in tables:
        key = [column for column in table.columns if column.primary_key]
        if len(key) != 1 or key[0].kind != "int":
            continue
        sequence = conn.scalar("SELECT pg_get_serial_sequence(:t, :c)", t=table.name,
                               c=key[0].name)
        if sequence:
            conn.scalar(f"SELECT setval(:s, COALESCE((SELECT MAX({quoted(key[0].name)}) FROM "
                        f"{quoted(table.name)}), 0) + 1, false)", s=sequence)


def fill_steps(conn: SqlConn, engine: Engine) -> int:
    """Store what each self-test did where a backup from before such steps were kept left
    none; returns how many were stored. Cards' states are left as they are."""
    from srs.schedule import STORE_STEP, changed_steps, load_histories

    ids = [int(row[0]) for row in conn.all(
        "SELECT DISTINCT card_id FROM review WHERE kind = 'review' AND rating IS NOT NULL "
        "AND undone_at IS NULL AND study_day IS NULL ORDER BY card_id")]
    stored = 0
    for start in range(0, len(ids), BATCH):
        rows: list[dict[str, Any]] = []
        for card_id, history in load_histories(conn, ids[start:start + BATCH]).items():
            if all(event.plan for event in history.events):
                continue
            _state, steps = engine.replay_history(card_id, history.events)
            rows += changed_steps(conn, history, steps)
        conn.run_many(STORE_STEP, rows)
        stored += len(rows)
    return stored


# -- CSV for FSRS tools -------------------------------------------------------------------


def _millis(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def write_reviews_csv(conn: SqlConn, write: Write, *,
                      engine: Callable[[], Engine]) -> None:
    """One row per graded event not undone, in the revlog layout of fsrs-rs and fsrs-optimizer.

    `review_time` is milliseconds since the Unix epoch; `review_state` the card's state just
    before (0 new, 1 learning, 2 review, 3 relearning, as each self-test stored it);
    `review_duration` the time taken in milliseconds, 0 where none was recorded. Cards
    merged away have no rows. `engine` replays a card whose self-tests stored no state.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    replayed: dict[int, int] = {}
    count = 0
    for review_id, card_id, at, rating, prior, duration in conn.stream(
            "SELECT r.id, r.card_id, r.at, r.rating, r.prior_state, r.duration "
            "FROM review r JOIN card c ON c.id = r.card_id "
            "WHERE c.merged_into IS NULL AND r.undone_at IS NULL AND r.kind = 'review' "
            "AND r.rating IS NOT NULL ORDER BY r.card_id, r.at, r.id"):
        if prior is None:
            if review_id not in replayed:
                replayed = _prior_states(conn, engine(), card_id)
            prior = replayed.get(review_id, 0)
        moment = conn.moment(at)
        assert moment is not None
        writer.writerow((card_id, _millis(moment), rating, prior, (duration or 0) * 1000))
        count += 1
        if count % BATCH == 0:
            write(out.getvalue().encode("utf-8"))
            out.seek(0)
            out.truncate()
    write(out.getvalue().encode("utf-8"))


def _prior_states(conn: SqlConn, engine: Engine, card_id: int) -> dict[int, int]:
    """The state before each self-test of one card, from a replay of its history."""
    from srs.schedule import load_histories

    history = load_histories(conn, [card_id]).get(card_id)
    if history is None or all(event.plan for event in history.events):
        return {}
    _state, steps = engine.replay_history(card_id, history.events)
    return {review_id: step.prior_state for review_id, step in zip(history.ids, steps,
                                                                   strict=True)
            if step is not None}


# -- ICS calendar -------------------------------------------------------------------------


def stored_identity(conn: SqlConn) -> str | None:
    """This database's own name, None before the first calendar export made it."""
    from srs.store import load_setting

    found = load_setting(conn, IDENTITY_KEY)
    return None if found is None else str(found)


def identity(conn: SqlConn, make: Callable[[], str] = lambda: uuid.uuid4().hex) -> str:
    """This database's own name, made once and kept in it (and in its backups)."""
    from srs.store import store_setting

    found = stored_identity(conn)
    if found is None:
        found = make()
        store_setting(conn, IDENTITY_KEY, found)
    return found


def event_uid(card_id: int, ident: str) -> str:
    """The UID of a card's event: the same every export, so calendars update it in place."""
    return f"card-{card_id}@{ident}.srs"


def write_calendar(conn: SqlConn, write: Write, *, clock: DayClock, now: datetime,
                   ident: str) -> None:
    """Each active card's next self-test as an all-day event on the study day it falls due.

    A card already overdue is put on today. Each card keeps one UID, and SEQUENCE grows
    with its history, so re-importing the file updates events rather than adding them.
    Written event by event: the calendar's own lines come from icalendar, around events
    each made and written on its own.
    """
    from icalendar import Calendar, Event

    from srs.store import shared_labels, source_paths

    today = clock.day_of(now)
    cal = Calendar()
    cal.add("prodid", "-//srs//review self-tests//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("Self-tests"))
    whole: bytes = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert whole.endswith(end)
    write(whole[:-len(end)])
    sources = source_paths(conn)
    shared = shared_labels(conn)
    parts: list[bytes] = []
    for card_id, topic, notes, section, source_id, source_line, due, events in conn.stream(
            "SELECT c.id, c.topic, c.notes, c.section, c.source_id, c.source_line, c.due, "
            "(SELECT COUNT(*) FROM review r WHERE r.card_id = c.id) FROM card c "
            "WHERE c.suspended = :no AND c.merged_into IS NULL ORDER BY c.due, c.id",
            no=False):
        due_day = conn.day(due)
        day = max(due_day, today)
        lines = [line for line in (section, notes) if line]
        if source_id is not None and source_line is not None:
            lines.append(f"{sources.get(source_id, '')}:{source_line}")
        if due_day < today:
            lines.append(_("due since {day}").format(day=due_day.isoformat()))
        lines.append(f"review show {card_id}")
        event = Event()
        event.add("uid", event_uid(card_id, ident))
        event.add("dtstamp", now)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", _("Self-test: {topic}").format(topic=shared.get(card_id, topic)))
        event.add("description", "\n".join(lines))
        event.add("sequence", int(events))
        event.add("transp", "TRANSPARENT")
        parts.append(event.to_ical())
        if len(parts) >= 200:
            write(b"".join(parts))
            parts = []
    write(b"".join(parts) + end)

