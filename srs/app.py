"""What a command needs: the user's folders, settings, database and zone, opened lazily."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from srs import clock
from srs.clock import DayClock
from srs.config import Config, load
from srs.i18n import _
from srs.paths import Paths, user_paths
from srs.sql import sqlite_path

if TYPE_CHECKING:
    from srs.db import Database
    from srs.engine import Engine
    from srs.schedule import Rescheduled
    from srs.sql import SqlConn, SQLiteConn


T = TypeVar("T")


class App:
    """One invocation's view of the user's data; nothing is opened until it is used."""

    def __init__(self, db_url: str | None = None, paths: Paths | None = None,
                 notify: Callable[[Rescheduled], None] | None = None) -> None:
        self.db_url = db_url
        self.paths = paths or user_paths()
        # Told when opening the database replayed every card for another clock.
        self.notify = notify

    @cached_property
    def config(self) -> Config:
        return load(self.paths.config_file)

    @cached_property
    def url(self) -> str:
        import os

        return self.db_url or os.environ.get("SRS_DATABASE_URL") or (
            f"sqlite:///{self.paths.default_db}")

    @property
    def shown_database(self) -> str:
        """The database as a message names it: its file, or its URL without the password."""
        import re

        path = sqlite_path(self.url)
        if path is not None:
            return str(path)
        return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", self.url)

    @cached_property
    def db(self) -> Database:
        """SQLAlchemy's side: migrations, and the engine for PostgreSQL. Commands reach the
        data through `reading` and `write`, never through this."""
        from srs.db import open_database

        self._check_folder()
        db = open_database(self.url, clock=self.clock)
        self._follow_clock(db.write_connection)
        return db

    @cached_property
    def _raw(self) -> SQLiteConn | None:
        """A plain sqlite3 connection for an SQLite file (migrated first when it is new or
        behind: the one time SQLAlchemy is loaded for it); None for other databases."""
        from srs.schema import SCHEMA_HEAD
        from srs.sql import open_sqlite, writing

        path = sqlite_path(self.url)
        if path is None:
            return None
        raw = open_sqlite(path, SCHEMA_HEAD)
        if raw is None:
            self.db.close()  # creates or migrates the file
            raw = open_sqlite(path, SCHEMA_HEAD)
            if raw is None:
                from srs.errors import DatabaseError

                raise DatabaseError(_("cannot open database {path}").format(path=path))
        self._follow_clock(lambda work: writing(raw, work))
        return raw

    def _check_folder(self) -> None:
        """A database named by --db or SRS_DATABASE_URL goes in a folder that exists: a
        mistyped folder is an error, not a new tree of folders (only the default place is
        created)."""
        import os

        path = sqlite_path(self.url)
        explicit = self.db_url or os.environ.get("SRS_DATABASE_URL")
        if (path is not None and explicit and not path.parent.exists()
                and path.expanduser().resolve().parent
                != self.paths.default_db.expanduser().resolve().parent):
            from srs.errors import DatabaseError

            raise DatabaseError(_("no folder {folder} for database {path} (create the folder "
                                  "first, or name another file)").format(
                                      folder=path.parent, path=path))

    def _follow_clock(self, write: Callable[[Callable[[SqlConn], Any]], Any]) -> None:
        """Replay every card when the stored schedule follows another clock (told once)."""
        from srs.schedule import clock_is_current, follow_clock

        result = write(lambda conn: None if clock_is_current(conn, self.clock)
                       else follow_clock(conn, self.engine(conn), self.now()))
        if result is not None and self.notify is not None:
            self.notify(result)

    @contextmanager
    def reading(self) -> Iterator[SqlConn]:
        """A read transaction: sqlite3 on an SQLite file, SQLAlchemy Core otherwise."""
        from srs.sql import reading

        if self._raw is not None:
            with reading(self._raw) as conn:
                yield conn
            return
        with self.db.read_connection() as conn:
            yield conn

    def write(self, work: Callable[[SqlConn], T]) -> T:
        """One write transaction, retried while another writer works."""
        from srs.sql import writing

        if self._raw is not None:
            return writing(self._raw, work)
        return self.db.write_connection(work)

    @property
    def dialect(self) -> str:
        """The database's dialect: sqlite or postgresql."""
        if self._raw is not None:
            return "sqlite"
        return str(self.db.engine.dialect.name)

    def engine(self, conn: SqlConn) -> Engine:
        """The FSRS engine from the config and the parameters stored in the database."""
        from srs.engine import Engine, settings_from
        from srs.store import load_parameters

        return Engine(settings_from(self.config, load_parameters(conn)), self.clock)

    @cached_property
    def tz(self) -> ZoneInfo:
        return clock.zone(str(self.config["timezone"]))

    @property
    def day_starts_at(self) -> int:
        return int(self.config["day_starts_at"])

    @cached_property
    def clock(self) -> DayClock:
        """The study days of the configured zone and day start."""
        return DayClock(self.tz, self.day_starts_at)

    def now(self) -> datetime:
        return clock.now()

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()
        raw = self.__dict__.get("_raw")
        if raw is not None:
            raw.conn.close()
