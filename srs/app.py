"""What a command needs: the user's folders, settings, database and zone, opened lazily."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from srs import clock
from srs.clock import DayClock
from srs.config import Config, load
from srs.paths import Paths, user_paths

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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

        from srs.sql import sqlite_path

        path = sqlite_path(self.url)
        if path is not None:
            return str(path)
        return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", self.url)

    @cached_property
    def db(self) -> Database:
        from srs.db import open_database
        from srs.schedule import clock_is_current, follow_clock
        from srs.sql import SessionConn

        db = open_database(self.url, clock=self.clock)
        with db.reading() as session:
            current = clock_is_current(SessionConn(session), self.clock)
        if not current:
            self._followed(db.write(lambda s: follow_clock(
                SessionConn(s), self.engine(s), self.now())))
        return db

    @cached_property
    def _raw(self) -> SQLiteConn | None:
        """A plain sqlite3 connection when the database is an up-to-date SQLite file."""
        from srs.schedule import clock_is_current, follow_clock
        from srs.schema import SCHEMA_HEAD
        from srs.sql import open_sqlite, sqlite_path, writing

        path = sqlite_path(self.url)
        raw = open_sqlite(path, SCHEMA_HEAD) if path is not None else None
        if raw is not None and not clock_is_current(raw, self.clock):
            self._followed(writing(raw, lambda c: follow_clock(
                c, self.sql_engine(c), self.now())))
        return raw

    def _followed(self, result: Rescheduled | None) -> None:
        if result is not None and self.notify is not None:
            self.notify(result)

    @contextmanager
    def sql_reading(self) -> Iterator[SqlConn]:
        """A read transaction for the hot commands: sqlite3 when it can, else SQLAlchemy."""
        from srs.sql import SessionConn, reading

        if self._raw is not None:
            with reading(self._raw) as conn:
                yield conn
            return
        with self.db.reading() as session:
            yield SessionConn(session)

    def sql_write(self, work: Callable[[SqlConn], T]) -> T:
        """One write transaction for the hot commands, retried while another writer works."""
        from srs.sql import SessionConn, writing

        if self._raw is not None:
            return writing(self._raw, work)
        return self.db.write(lambda session: work(SessionConn(session)))

    def sql_dialect(self) -> str:
        """The database's dialect (sqlite, postgresql), read without opening SQLAlchemy
        when the plain path serves."""
        if self._raw is not None:
            return "sqlite"
        return str(self.db.engine.dialect.name)

    def sql_engine(self, conn: SqlConn) -> Engine:
        """The FSRS engine from the config and the parameters stored in the database."""
        from srs.engine import Engine, settings_from
        from srs.queue import load_parameters

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

    def engine(self, session: Session) -> Engine:
        from srs.engine import Engine
        from srs.repository import scheduler_settings

        return Engine(scheduler_settings(session, self.config), self.clock)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()
        raw = self.__dict__.get("_raw")
        if raw is not None:
            raw.conn.close()
