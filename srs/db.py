"""Opening a database: the engine, SQLite's pragmas, transactions, and migrate-on-open."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from srs.errors import DatabaseError, SrsError
from srs.i18n import _, ngettext
from srs.schema import KNOWN_REVISIONS, SCHEMA_HEAD  # the newest migration, checked on open

if TYPE_CHECKING:
    from sqlite3 import Connection as SQLiteConnection

    from srs.clock import DayClock
    from srs.sql import SqlConn

T = TypeVar("T")


# How long a write waits for another process before giving up with a clear error.
BUSY_TIMEOUT_MS = 10_000
WRITE_RETRY_SECONDS = 30.0


def migrations_dir() -> Path:
    """The Alembic scripts: shipped inside the package in a wheel, at the top in a checkout."""
    here = Path(__file__).resolve().parent
    shipped = here / "_migrations"
    return shipped if shipped.is_dir() else here.parent / "alembic"


def safe_url(url: URL | str) -> str:
    """A URL fit to show: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return str(url)


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if str(url.database).startswith("file:"):
        return None
    return Path(str(url.database)).expanduser()


def _prepare_sqlite_file(path: Path) -> None:
    """Create the folder (0700) and the file (0600) before SQLite does, so they are private."""
    from srs.paths import make_private_dir

    try:
        if not path.parent.exists():
            make_private_dir(path.parent)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
    except OSError as err:
        raise DatabaseError(
            _("cannot create database {path}: {reason}").format(path=path, reason=err.strerror)
        ) from None


def _install_sqlite_listeners(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: SQLiteConnection, _record: object) -> None:
        # Take transactions into our own hands (Python 3.11's sqlite3 has no
        # `autocommit`): no implicit BEGIN, so the `begin` listener decides.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writes take the lock up front (BEGIN IMMEDIATE): a deferred transaction that
        # reads and then writes can lose updates or fail with "database is locked".
        mode = "IMMEDIATE" if conn.get_execution_options().get("srs_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def _is_busy(error: exc.DBAPIError) -> bool:
    text = str(error.orig).lower()
    return (
        "database is locked" in text
        or "database is busy" in text
        or "could not serialize" in text
        or "deadlock detected" in text
    )


class Database:
    """An open database through SQLAlchemy: migrations, and Core connections for PostgreSQL."""

    def __init__(self, url: str) -> None:
        try:
            self.url = make_url(url)
        except exc.ArgumentError:
            raise DatabaseError(
                _("bad database URL {url!r} (try sqlite:///PATH or "
                  "postgresql+psycopg://USER@HOST/NAME)").format(url=url)
            ) from None
        self.shown_url = safe_url(self.url)
        self.sqlite_path = _sqlite_file(self.url)
        if self.sqlite_path is not None:
            _prepare_sqlite_file(self.sqlite_path)
        try:
            self.engine = create_engine(self.url)
        except exc.NoSuchModuleError:
            raise DatabaseError(
                _("unknown database URL {url!r} (try sqlite:///PATH or "
                  "postgresql+psycopg://USER@HOST/NAME)").format(url=self.shown_url)
            ) from None
        except (exc.ArgumentError, ImportError) as err:
            raise DatabaseError(
                _("cannot use database URL {url!r}: {reason}").format(
                    url=self.shown_url, reason=str(err).splitlines()[0]
                )
            ) from None
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            _install_sqlite_listeners(self.engine)
        if self.engine.dialect.name == "postgresql":
            # Concurrent writers on a server: SERIALIZABLE turns every lost update into a
            # serialization failure, which write() retries.
            self._writer = self.engine.execution_options(
                srs_write=True, isolation_level="SERIALIZABLE")
        else:
            self._writer = self.engine.execution_options(srs_write=True)

    def close(self) -> None:
        self.engine.dispose()

    def _unreachable(self, err: Exception) -> SrsError:
        from srs.errors import storage_error

        where = str(self.sqlite_path) if self.sqlite_path is not None else self.shown_url
        known = storage_error(err, where)
        if known is not None:
            return known
        reason = str(getattr(err, "orig", err)).strip().splitlines()
        return DatabaseError(
            _("cannot open database {url}: {reason}").format(
                url=where, reason=reason[0] if reason else type(err).__name__
            )
        )

    @contextmanager
    def read_connection(self) -> Iterator[SqlConn]:
        """A read transaction on a SQLAlchemy Core connection (no ORM); nothing committed."""
        from srs.sql import AlchemyConn

        try:
            with self.engine.connect() as conn:
                transaction = conn.begin()
                try:
                    yield AlchemyConn(conn)
                finally:
                    transaction.rollback()
        except exc.DatabaseError as err:
            raise self._unreachable(err) from None

    def write_connection(self, work: Callable[[SqlConn], T]) -> T:
        """Run `work` on a Core connection in one write transaction, retried while busy."""
        from srs.sql import AlchemyConn

        def attempt() -> T:
            with self._writer.begin() as conn:
                return work(AlchemyConn(conn))

        return self._retrying(attempt)

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run one write transaction, again with backoff while another writer holds the lock."""
        deadline = time.monotonic() + WRITE_RETRY_SECONDS
        delay = 0.05
        while True:
            try:
                return attempt()
            except exc.OperationalError as err:
                if not _is_busy(err):
                    raise self._unreachable(err) from None
                if time.monotonic() >= deadline:
                    raise DatabaseError(
                        _("database {url} stayed busy for {seconds:.0f} s; nothing was written, "
                          "try again").format(url=self.shown_url, seconds=WRITE_RETRY_SECONDS)
                    ) from None
            except exc.DBAPIError as err:
                if not _is_busy(err) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)

    # -- schema ---------------------------------------------------------------

    def schema_version(self) -> str | None:
        """The Alembic revision the database is at, None for an empty database."""
        try:
            with self.engine.connect() as conn:
                try:
                    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                except (exc.OperationalError, exc.ProgrammingError) as err:
                    if "alembic_version" not in str(err):
                        raise
                    return None
        except exc.DatabaseError as err:
            raise self._unreachable(err) from None

    def ensure_schema(self, clock: DayClock | None = None) -> None:
        """Bring the schema to the newest revision, backing the database up first.

        `clock` is the person's study-day clock, which a migration may need to turn stored
        moments into study days (the system zone and 04:00 when not given).
        """
        version = self.schema_version()
        if version == SCHEMA_HEAD:
            return
        if version is not None and version not in KNOWN_REVISIONS:
            raise DatabaseError(
                _("database {url} has schema {version}, newer than this version of srs "
                  "understands; upgrade srs").format(url=self.shown_url, version=version)
            )
        if version is not None:
            self.backup_before_upgrade(version)
        self.upgrade(clock=clock)

    def backup_before_upgrade(self, version: str) -> Path | None:
        """Copy an SQLite database aside before a migration changes it."""
        if self.sqlite_path is None:
            return None
        import sqlite3

        from srs.clock import now

        stamp = now().strftime("%Y%m%dT%H%M%SZ")
        target = self.sqlite_path.with_name(f"{self.sqlite_path.name}.{version}.{stamp}.bak")
        fd = os.open(target, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
        with sqlite3.connect(self.sqlite_path) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        src.close()
        dst.close()
        return target

    def upgrade(self, revision: str = "head", *, clock: DayClock | None = None) -> None:
        """Run the migrations up to `revision`, in one transaction, foreign keys off on SQLite."""
        from alembic.config import Config

        from alembic import command

        config = Config()
        config.set_main_option("script_location", str(migrations_dir()))
        try:
            with self._writer.connect() as conn:
                if self.is_sqlite:
                    # Batch migrations copy tables; with foreign keys on, SQLite would
                    # silently delete child rows. Checked again below.
                    _raw_pragma(conn, "foreign_keys = OFF")
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7140001)")
                    config.attributes["connection"] = conn
                    config.attributes["clock"] = clock
                    command.upgrade(config, revision)
                    if self.is_sqlite:
                        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise DatabaseError(
                                ngettext("migration left {n} broken reference; database "
                                         "unchanged", "migration left {n} broken references; "
                                         "database unchanged", len(broken)).format(n=len(broken))
                            )
                if self.is_sqlite:
                    _raw_pragma(conn, "foreign_keys = ON")
        except exc.DatabaseError as err:
            raise self._unreachable(err) from None


def _raw_pragma(conn: Connection, pragma: str) -> None:
    """Run a PRAGMA outside any transaction (inside one, SQLite ignores foreign_keys)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute(f"PRAGMA {pragma}")


def default_url() -> str:
    """The embedded SQLite database in the user's data folder."""
    from srs.paths import user_paths

    return f"sqlite:///{user_paths().default_db}"


def open_database(url: str | None = None, *, migrate: bool = True,
                  clock: DayClock | None = None) -> Database:
    """Open (and by default migrate) the database at `url`, `SRS_DATABASE_URL`, or the default."""
    url = url or os.environ.get("SRS_DATABASE_URL") or default_url()
    db = Database(url)
    if migrate:
        db.ensure_schema(clock)
    return db


