"""The database tables (SQLAlchemy 2 ORM). The schema itself is made only by migrations."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back with `timezone.utc`.

    SQLite keeps no offset, so values come back naive; PostgreSQL returns its own
    fixed-offset zone. py-fsrs accepts neither, so both are turned into `timezone.utc`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LogSource(Base):
    """A log file that was imported."""

    __tablename__ = "log_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the last import read (pending rows, warnings), so an unchanged file is not
    # parsed again only to report it.
    summary: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("path"),)


class Card(Base):
    """A studied topic and its FSRS state (the replay of its history)."""

    __tablename__ = "card"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text, default="")
    section: Mapped[str] = mapped_column(Text, default="")
    learned_on: Mapped[date] = mapped_column(Date)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("log_source.id"))
    source_line: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[int] = mapped_column(Integer, default=1)
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[date] = mapped_column(Date)  # the study day of the next self-test
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    in_log: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The study day of last_review as a day number (date.toordinal()), written with it:
    # the queue orders 100,000 due cards by (today - last review day) / stability
    # straight from an index.
    last_review_day: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_card_active_due", "suspended", "merged_into", "due"),
        Index("ix_card_risk", "suspended", "merged_into", "due", "last_review_day",
              "stability"),
        Index("ix_card_by_stability", "suspended", "merged_into", "stability",
              "last_review_day", "due"),
        Index("ix_card_last_review_day", "last_review_day"),
        Index("ix_card_topic", "topic", "merged_into"),
    )


class Review(Base):
    """One event in a card's history: a self-test, or a manual reschedule.

    `state_before` holds the card's exact state before a command-line grade so that
    `review undo` can restore it; an undone or retracted event keeps its row and gets
    `undone_at`, so nothing is deleted without a trace.
    """

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16), default="review")
    rating: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[int | None] = mapped_column(Integer)
    due_set: Mapped[date | None] = mapped_column(Date)  # the study day a reschedule chose
    log_row_id: Mapped[int | None] = mapped_column(ForeignKey("log_row.id"))
    log_entry: Mapped[str | None] = mapped_column(String(32))
    merged_from: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    state_before: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What a self-test did (srs.engine.ReviewStep), derived: rewritten by every replay.
    study_day: Mapped[date | None] = mapped_column(Date)
    prior_state: Mapped[int | None] = mapped_column(Integer)
    elapsed_days: Mapped[int | None] = mapped_column(Integer)
    retrievability: Mapped[float | None] = mapped_column(Float)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    # The command that made it (grade, set-due, spread): one `review undo` takes back all
    # a command did. None for history read from a log.
    command: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_review_card_at", "card_id", "at"),
        Index("ix_review_recorded_at", "recorded_at"),
        Index("ix_review_at", "at"),
        Index("ix_review_study_day", "study_day"),
        Index("ix_review_command", "command"),
        # The few timed self-tests (srs/workload.py reads them on every `review today`).
        Index("ix_review_timed", "card_id", sqlite_where=text("duration IS NOT NULL"),
              postgresql_where=text("duration IS NOT NULL")),
    )


class LogRow(Base):
    """Which card a row of a log file became, by the row's identity key."""

    __tablename__ = "log_row"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("log_source.id"))
    key: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    kind: Mapped[str] = mapped_column(String(16), default="card")
    present: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("source_id", "key"),)


class Setting(Base):
    """Shared scheduler data kept with the cards (the FSRS parameters), as JSON text."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Reminder(Base):
    """One reminder on one channel, claimed in the ledger before it is delivered.

    The unique (kind, key, channel) is what makes a reminder go out once: a process
    inserts the row in its own transaction before delivering, and whoever fails to
    insert it knows another process has it. Rows sent together share `batch`.
    """

    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    study_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    batch: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="{}")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(128), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("kind", "key", "channel"),
        Index("ix_reminder_status_retry_at", "status", "retry_at"),
        Index("ix_reminder_batch", "batch"),
    )


# The daemon's change check reads max(card.updated_at) every half minute.
Index("ix_card_updated_at", Card.updated_at)
