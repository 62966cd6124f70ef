"""What a command needs: the user's folders, settings, database and zone, opened lazily."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from srs import clock
from srs.config import Config, load
from srs.paths import Paths, user_paths

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from srs.db import Database
    from srs.engine import Engine
    from srs.queue import DayClock


class App:
    """One invocation's view of the user's data; nothing is opened until it is used."""

    def __init__(self, db_url: str | None = None, paths: Paths | None = None) -> None:
        self.db_url = db_url
        self.paths = paths or user_paths()

    @cached_property
    def config(self) -> Config:
        return load(self.paths.config_file)

    @cached_property
    def db(self) -> Database:
        import os

        from srs.db import open_database

        url = self.db_url or os.environ.get("SRS_DATABASE_URL") or (
            f"sqlite:///{self.paths.default_db}"
        )
        return open_database(url)

    @cached_property
    def tz(self) -> ZoneInfo:
        return clock.zone(str(self.config["timezone"]))

    @property
    def day_starts_at(self) -> int:
        return int(self.config["day_starts_at"])

    @property
    def clock(self) -> DayClock:
        from srs.queue import DayClock

        return DayClock(self.tz, self.day_starts_at)

    def now(self) -> datetime:
        return clock.now()

    def engine(self, session: Session) -> Engine:
        from srs.engine import Engine
        from srs.repository import scheduler_settings

        return Engine(scheduler_settings(session, self.config))

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()
