"""The tables as plain data: each column's name, kind and constraints, in restore order.

What srs/models.py declares, written out so that backups, restores and checks read the
schema without loading SQLAlchemy (a test keeps the two equal). `database_tables` adds
the tables a database holds beyond these (a migration newer than this code, or a table a
person made), described as the database declares them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from srs.sql import SqlConn

# What a column holds, as Python has it: int, float, text, bool, date (a study day or a
# calendar date), moment (a UTC timestamp: UTCDateTime), datetime (a timestamp without a
# zone, in a table only the database knows), any (a type srs does not convert).
KINDS = ("int", "float", "text", "bool", "date", "moment", "datetime", "any")


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Column:
    """One column: `type_name` as the database declares it (INTEGER, VARCHAR(16), ...)."""

    name: str
    kind: str
    type_name: str
    nullable: bool = False
    default: Any = NO_DEFAULT  # the value a row without this column gets (srs's tables only)
    primary_key: bool = False
    references: tuple[str, str] | None = None  # (table, column)
    length: int | None = None  # of a VARCHAR

    @property
    def has_default(self) -> bool:
        """True when a row may leave the column out."""
        return self.nullable or self.default is not NO_DEFAULT


@dataclass(frozen=True)
class Table:
    """One table: its columns in order, and the groups of columns that are unique."""

    name: str
    columns: tuple[Column, ...]
    unique: tuple[tuple[str, ...], ...] = ()
    known: bool = True  # False: described from the database, not from srs's schema

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.primary_key)

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None


def _id() -> Column:
    return Column("id", "int", "INTEGER", primary_key=True)


def _int(name: str, *, nullable: bool = False, default: Any = NO_DEFAULT,
         references: tuple[str, str] | None = None) -> Column:
    return Column(name, "int", "INTEGER", nullable, default, references=references)


def _text(name: str, *, nullable: bool = False, default: Any = NO_DEFAULT) -> Column:
    return Column(name, "text", "TEXT", nullable, default)


def _varchar(name: str, length: int, *, nullable: bool = False, default: Any = NO_DEFAULT,
             primary_key: bool = False) -> Column:
    return Column(name, "text", f"VARCHAR({length})", nullable, default, primary_key,
                  length=length)


def _float(name: str) -> Column:
    return Column(name, "float", "FLOAT", nullable=True)


def _date(name: str, *, nullable: bool = False) -> Column:
    return Column(name, "date", "DATE", nullable)


def _moment(name: str, *, nullable: bool = False) -> Column:
    return Column(name, "moment", "DATETIME", nullable)


def _bool(name: str, default: bool) -> Column:
    return Column(name, "bool", "BOOLEAN", default=default)


LOG_SOURCE = Table("log_source", (
    _id(), _text("path"), _varchar("content_hash", 64, default=""),
    _moment("imported_at", nullable=True), _text("summary", nullable=True),
), unique=(("path",),))

REMINDER = Table("reminder", (
    _id(), _varchar("kind", 16), _varchar("key", 64), _varchar("channel", 64),
    _date("study_day"), _varchar("status", 16), _int("attempts", default=0),
    _varchar("batch", 32), _text("title", default=""), _text("body", default=""),
    _text("payload", default="{}"), _moment("due_at"), _moment("claimed_at"),
    _varchar("claimed_by", 128, default=""), _moment("sent_at", nullable=True),
    _moment("retry_at", nullable=True), _text("detail", nullable=True),
), unique=(("kind", "key", "channel"),))

SETTING = Table("setting", (
    _varchar("key", 64, primary_key=True), _text("value"),
))

CARD = Table("card", (
    _id(), _text("topic"), _text("notes", default=""), _text("section", default=""),
    _date("learned_on"), _int("source_id", nullable=True, references=("log_source", "id")),
    _int("source_line", nullable=True), _int("state", default=1), _int("step", nullable=True),
    _float("stability"), _float("difficulty"), _date("due"),
    _moment("last_review", nullable=True), _bool("suspended", False), _bool("in_log", False),
    _int("merged_into", nullable=True, references=("card", "id")), _moment("created_at"),
    _moment("updated_at"), _float("last_review_day"),
))

LOG_ROW = Table("log_row", (
    _id(), _int("source_id", references=("log_source", "id")), _text("key"), _int("line"),
    _int("card_id", references=("card", "id")), _varchar("kind", 16, default="card"),
    _bool("present", True),
), unique=(("source_id", "key"),))

REVIEW = Table("review", (
    _id(), _int("card_id", references=("card", "id")), _moment("at"),
    _varchar("kind", 16, default="review"), _int("rating", nullable=True),
    _varchar("source", 16), _text("note", nullable=True), _int("duration", nullable=True),
    _date("due_set", nullable=True),
    _int("log_row_id", nullable=True, references=("log_row", "id")),
    _varchar("log_entry", 32, nullable=True),
    _int("merged_from", nullable=True, references=("card", "id")),
    _text("state_before", nullable=True), _moment("recorded_at"),
    _moment("undone_at", nullable=True), _date("study_day", nullable=True),
    _int("prior_state", nullable=True), _int("elapsed_days", nullable=True),
    _float("retrievability"), _float("stability"), _float("difficulty"),
    _varchar("command", 32, nullable=True),
))

# Parents before children: the order a restore inserts in.
TABLES: tuple[Table, ...] = (LOG_SOURCE, REMINDER, SETTING, CARD, LOG_ROW, REVIEW)
BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
SKIPPED = "alembic_version"


def restore_order(tables: Iterable[Table]) -> list[Table]:
    """Tables with every table they refer to before them; by name where the order is free.

    Layer by layer: the tables that refer to nothing left, in name order, then those that
    referred only to them, and so on (SQLAlchemy's `sorted_tables` order). A loop of
    references keeps the rest in name order at the end.
    """
    waiting = sorted(tables, key=lambda table: table.name)
    names = {table.name for table in waiting}
    done: set[str] = set()
    ordered: list[Table] = []
    while waiting:
        ready = [table for table in waiting if all(
            column.references[0] in done or column.references[0] == table.name
            or column.references[0] not in names
            for column in table.columns if column.references is not None)]
        if not ready:
            ready = waiting
        ordered += ready
        done.update(table.name for table in ready)
        waiting = [table for table in waiting if table.name not in done]
    return ordered


# -- tables only the database knows ------------------------------------------------------------

def quoted(name: str) -> str:
    """A table or column name as SQL names it, whatever it holds."""
    return '"' + name.replace('"', '""') + '"'


def _sqlite_kind(declared: str) -> str:
    """Python's kind for a column SQLite declares so (as SQLAlchemy reads such a column)."""
    name = re.sub(r"\(.*", "", declared).strip().upper()
    if name in ("DATETIME", "TIMESTAMP"):
        return "datetime"
    if name == "DATE":
        return "date"
    if name in ("BOOLEAN", "BOOL"):
        return "bool"
    if "INT" in name:
        return "int"
    if name in ("REAL", "FLOAT", "DOUBLE", "DOUBLE PRECISION"):
        return "float"
    if "CHAR" in name or "CLOB" in name or "TEXT" in name:
        return "text"
    return "any"


def _sqlite_table(conn: SqlConn, name: str) -> Table:
    references = {row[3]: (row[2], row[4] or "id") for row in conn.all(
        f"PRAGMA foreign_key_list({quoted(name)})")}
    columns = []
    for _cid, column, declared, notnull, _default, pk in conn.all(
            f"PRAGMA table_info({quoted(name)})"):
        columns.append(Column(column, _sqlite_kind(declared or ""), (declared or "").upper(),
                              nullable=not notnull, primary_key=bool(pk),
                              references=references.get(column)))
    return Table(name, tuple(columns), known=False)


_PG_KINDS = {"integer": "int", "bigint": "int", "smallint": "int", "boolean": "bool",
             "double precision": "float", "real": "float", "text": "text",
             "character varying": "text", "character": "text", "date": "date",
             "timestamp without time zone": "datetime",
             "timestamp with time zone": "moment"}


def _postgres_table(conn: SqlConn, name: str) -> Table:
    keys = {row[0]: row[1] for row in conn.all(
        "SELECT k.column_name, c.constraint_type FROM information_schema.table_constraints c "
        "JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name "
        "AND k.table_schema = c.table_schema WHERE c.table_schema = current_schema() "
        "AND c.table_name = :t AND c.constraint_type = 'PRIMARY KEY'", t=name)}
    references = {row[0]: (row[1], row[2]) for row in conn.all(
        "SELECT k.column_name, u.table_name, u.column_name "
        "FROM information_schema.table_constraints c "
        "JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name "
        "AND k.table_schema = c.table_schema "
        "JOIN information_schema.constraint_column_usage u "
        "ON u.constraint_name = c.constraint_name AND u.table_schema = c.table_schema "
        "WHERE c.table_schema = current_schema() AND c.table_name = :t "
        "AND c.constraint_type = 'FOREIGN KEY'", t=name)}
    columns = []
    for column, data_type, nullable in conn.all(
            "SELECT column_name, data_type, is_nullable "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = :t ORDER BY ordinal_position", t=name):
        columns.append(Column(column, _PG_KINDS.get(data_type, "any"), data_type.upper(),
                              nullable=nullable == "YES", primary_key=column in keys,
                              references=references.get(column)))
    return Table(name, tuple(columns), known=False)


def table_names(conn: SqlConn) -> list[str]:
    """Every table in the database except Alembic's (and SQLite's own)."""
    if conn.dialect == "sqlite":
        rows = conn.all("SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite~_%' ESCAPE '~'")
    else:
        rows = conn.all("SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
    return sorted(str(row[0]) for row in rows if row[0] != SKIPPED)


def database_tables(conn: SqlConn) -> list[Table]:
    """Every table in the database except Alembic's, in restore order: srs's own as
    TABLES describes them, any other as the database declares it."""
    found = []
    for name in table_names(conn):
        if name in BY_NAME:
            found.append(BY_NAME[name])
        elif conn.dialect == "sqlite":
            found.append(_sqlite_table(conn, name))
        else:
            found.append(_postgres_table(conn, name))
    return restore_order(found)
