"""Plain SQL for the hot commands (`today`, `grade`), on SQLite without SQLAlchemy.

Opening SQLAlchemy costs a few hundred milliseconds, more than the whole of `review today`
should take, so the two commands a person runs most work on a thin connection: the
standard library's sqlite3 for an SQLite file whose schema is current, or the SQLAlchemy
session's own connection otherwise (PostgreSQL, a database that needs migrating, or a
transaction shared with write-back). The SQL is the same for both: named parameters, and
nothing a dialect spells differently except where `dialect` is asked.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from srs.errors import DatabaseError
from srs.i18n import _

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.engine import Connection

T = TypeVar("T")
UTC = timezone.utc
# SQLAlchemy's storage format for DateTime on SQLite; text comparison relies on it.
SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"


class SqlConn:
    """A connection the hot paths run SQL on."""

    dialect: str

    def all(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def one(self, sql: str, **params: Any) -> tuple[Any, ...] | None:
        rows = self.all(sql, **params)
        return rows[0] if rows else None

    def scalar(self, sql: str, **params: Any) -> Any:
        row = self.one(sql, **params)
        return row[0] if row else None

    def all_in(self, sql: str, ids: Sequence[Any], **params: Any) -> list[tuple[Any, ...]]:
        """Rows of `sql` whose `{ids}` is an IN list of `ids`, 500 at a time."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join(f":i{n}" for n in range(len(chunk)))
            rows.extend(self.all(sql.format(ids=marks), **params,
                                 **{f"i{n}": value for n, value in enumerate(chunk)}))
        return rows

    def run(self, sql: str, **params: Any) -> None:
        raise NotImplementedError

    def run_many(self, sql: str, rows: list[dict[str, Any]]) -> None:
        """Run `sql` once for each set of parameters."""
        raise NotImplementedError

    def insert(self, sql: str, **params: Any) -> int:
        """Run an INSERT of one row and return the row's new id."""
        raise NotImplementedError

    def stream(self, sql: str, **params: Any) -> Iterator[tuple[Any, ...]]:
        """Rows one at a time, fetched in batches, for a scan that may stop early."""
        yield from self.all(sql, **params)

    def stamp(self, moment: datetime) -> Any:
        """A datetime as this database stores it."""
        raise NotImplementedError

    def moment(self, value: Any) -> datetime | None:
        """A stored timestamp as a UTC datetime with `timezone.utc`."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]

    def day(self, value: Any) -> Any:
        """A stored date as a `date`."""
        return date.fromisoformat(value) if isinstance(value, str) else value

    def day_value(self, day: date) -> Any:
        """A date as this database stores it (SQLite: ISO text, which sorts as dates do)."""
        return day.isoformat() if self.dialect == "sqlite" else day


class SQLiteConn(SqlConn):
    """The standard library's sqlite3, with the pragmas srs.db sets."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def all(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def run(self, sql: str, **params: Any) -> None:
        self.conn.execute(sql, params)

    def run_many(self, sql: str, rows: list[dict[str, Any]]) -> None:
        self.conn.executemany(sql, rows)

    def insert(self, sql: str, **params: Any) -> int:
        row_id = self.conn.execute(sql, params).lastrowid
        assert row_id is not None
        return row_id

    def stream(self, sql: str, **params: Any) -> Iterator[tuple[Any, ...]]:
        cursor = self.conn.execute(sql, params)
        while rows := cursor.fetchmany(256):
            yield from rows
        cursor.close()

    def stamp(self, moment: datetime) -> Any:
        return moment.astimezone(UTC).strftime(SQLITE_STAMP)


class AlchemyConn(SqlConn):
    """A SQLAlchemy Core connection (PostgreSQL, or SQLite while it is being migrated),
    inside a transaction its opener began. No ORM is involved."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    def all(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        return [tuple(row) for row in self.conn.execute(text(sql), params)]

    def run(self, sql: str, **params: Any) -> None:
        from sqlalchemy import text

        self.conn.execute(text(sql), params)

    def run_many(self, sql: str, rows: list[dict[str, Any]]) -> None:
        from sqlalchemy import text

        if rows:
            self.conn.execute(text(sql), rows)

    def insert(self, sql: str, **params: Any) -> int:
        from sqlalchemy import text

        if self.dialect == "postgresql":
            return int(self.conn.execute(text(sql + " RETURNING id"), params).scalar_one())
        result = self.conn.execute(text(sql), params)
        assert result.lastrowid is not None
        return int(result.lastrowid)

    def stream(self, sql: str, **params: Any) -> Iterator[tuple[Any, ...]]:
        from sqlalchemy import text

        # A server-side cursor: a scan of every row holds one batch at a time.
        # (for this statement only: Connection.execution_options would set it for the rest)
        result = self.conn.execute(text(sql), params, execution_options={
            "stream_results": True, "max_row_buffer": 1000})
        while rows := result.fetchmany(256):
            yield from (tuple(row) for row in rows)

    def stamp(self, moment: datetime) -> Any:
        moment = moment.astimezone(UTC)
        return moment.strftime(SQLITE_STAMP) if self.dialect == "sqlite" else moment


def sqlite_path(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL, None for anything else."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url[len(prefix):]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    from urllib.parse import unquote

    return Path(unquote(path)).expanduser()  # as SQLAlchemy's URL reads it


def open_sqlite(path: Path, head: str) -> SQLiteConn | None:
    """A raw connection to an existing SQLite file at schema `head`; None to take the long way."""
    import sqlite3

    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        # The same pragmas as srs.db: WAL is kept in the file, the others per connection.
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        conn.close()
        return None
    if version is None or version[0] != head:
        conn.close()
        return None
    return SQLiteConn(conn)


@contextmanager
def reading(conn: SQLiteConn) -> Iterator[SQLiteConn]:
    """A read transaction (one snapshot) on a raw connection."""
    conn.conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.conn.execute("ROLLBACK")


def writing(conn: SQLiteConn, work: Callable[[SQLiteConn], T], *,
            retry_seconds: float = 30.0) -> T:
    """Run `work` in BEGIN IMMEDIATE, retried with backoff while another process writes."""
    import sqlite3

    deadline = time.monotonic() + retry_seconds
    delay = 0.05
    while True:
        try:
            conn.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise DatabaseError(str(err)) from None
            if time.monotonic() >= deadline:
                raise DatabaseError(_(
                    "the database stayed busy for {seconds:.0f} s; nothing was written, "
                    "try again").format(seconds=retry_seconds)) from None
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)
            continue
        try:
            result = work(conn)
        except BaseException:
            conn.conn.execute("ROLLBACK")
            raise
        conn.conn.execute("COMMIT")
        return result
