"""Getting data out and back in: a JSON backup of every table, a review CSV, an ICS calendar.

The JSON backup (format `srs-backup`, version 1) holds every row of every table in the
database except Alembic's own, so a table added by a later migration is included without
a change here::

    {"format": "srs-backup", "version": 1, "schema": "0001", "srs_version": "0.1.0",
     "created_at": "2026-11-30T10:00:00+00:00", "config": {"timezone": "UTC", ...},
     "tables": {"card": {"columns": ["id", "topic", ...], "rows": [[1, "Vectors", ...]]}, ...}}

Timestamps are ISO 8601 with their offset, dates ISO, everything else as JSON has it.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, delete, func, insert, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from srs.clock import DayClock
from srs.engine import Engine
from srs.errors import SrsError
from srs.i18n import _
from srs.models import Base, Card, LogSource, Review, Setting
from srs.repository import active_cards

BACKUP_FORMAT = "srs-backup"
BACKUP_VERSION = 1
IDENTITY_KEY = "srs.identity"
CSV_COLUMNS = ("card_id", "review_time", "review_rating", "review_state", "review_duration")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


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


# -- the JSON backup ----------------------------------------------------------------------


def database_tables(session: Session) -> list[Table]:
    """Every table in the database except Alembic's, parents before children.

    Tables the models know are used as the models declare them (so timestamps come back
    in UTC); a table they do not know is read as the database describes it.
    """
    reflected = MetaData()
    reflected.reflect(bind=session.connection())
    return [Base.metadata.tables.get(table.name, table) for table in reflected.sorted_tables
            if table.name != "alembic_version"]


def _python_type(column: Any) -> type | None:
    kind = column.type
    if isinstance(kind, TypeDecorator):  # its own python_type is `object`
        kind = kind.impl_instance
    try:
        found: type = kind.python_type
    except NotImplementedError:
        return None
    return found


def _dump(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    raise ExportError(_("cannot write a value of type {type} to a backup").format(
        type=type(value).__name__))


def _load(value: Any, column: Any, clock: DayClock) -> Any:
    kind = _python_type(column)
    if value is None or kind is None:
        return value
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        if isinstance(value, str) and len(value) > 10:
            # A backup made before due dates were study days holds a due moment: the
            # study day it falls on is the day the person was shown.
            from srs.clock import to_utc

            return clock.day_of(to_utc(datetime.fromisoformat(value)))
        return date.fromisoformat(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(value)
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(value)
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(value)
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    return value


def schema_revision(session: Session) -> str | None:
    """The Alembic revision of the database."""
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def make_backup(session: Session, *, now: datetime, config: dict[str, Any],
                version: str) -> dict[str, Any]:
    """Every row of every table, with the schema revision and the person's set config values."""
    tables: dict[str, Any] = {}
    for table in database_tables(session):
        columns = [c.name for c in table.columns]
        order = list(table.primary_key.columns) or list(table.columns)
        rows = session.execute(select(*table.columns).order_by(*order))
        tables[table.name] = {"columns": columns,
                              "rows": [[_dump(v) for v in row] for row in rows]}
    return {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "schema": schema_revision(session),
        "srs_version": version,
        "created_at": now.isoformat(),
        "config": config,
        "tables": tables,
    }


def _not_backup(reason: str) -> ExportError:
    return ExportError(_("not an srs backup: {reason}").format(reason=reason))


def parse_backup(text_: str) -> dict[str, Any]:
    """Read a backup file's text and check all of it, before anything of it is written.

    Raises ExportError for text that is no srs backup or one from a newer srs, and
    `srs.backupcheck.InvalidBackup`, naming the first bad value by its place in the file,
    for a backup with a value this version cannot take.
    """
    from srs.backupcheck import check_backup
    from srs.schema import KNOWN_REVISIONS

    try:
        data = json.loads(text_)
    except RecursionError:
        raise _not_backup(_("not JSON (nested too deeply)")) from None
    except ValueError as err:  # a JSONDecodeError, or an integer of more than 4300 digits
        raise _not_backup(_("not JSON ({reason})").format(reason=err)) from None
    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise _not_backup(_("no \"format\": \"{format}\"").format(format=BACKUP_FORMAT))
    version = data.get("version")
    if type(version) is not int or version != BACKUP_VERSION:
        from srs.backupcheck import show

        raise ExportError(_("backup version {found} is not {version}; it was made by "
                            "another version of srs").format(
                                found=show(version), version=BACKUP_VERSION))
    schema = data.get("schema")
    if isinstance(schema, str) and schema.isascii() and schema.isdigit() and (
            schema not in KNOWN_REVISIONS and schema > max(KNOWN_REVISIONS)):
        raise ExportError(_("the backup has schema {schema}, newer than this version of srs "
                            "understands; upgrade srs").format(schema=schema))
    check_backup(data)
    return data


@dataclass
class RestoreReport:
    """How many rows each table received."""

    rows: dict[str, int] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    rescheduled: int = 0  # cards whose due day moved: the backup followed another clock

    def to_json(self) -> dict[str, Any]:
        return {"restored": self.rows, "rescheduled": self.rescheduled}


def is_empty(session: Session, tables: list[Table] | None = None) -> bool:
    """True when no table holds a row."""
    for table in tables if tables is not None else database_tables(session):
        if session.scalar(select(func.count()).select_from(table)):
            return False
    return True


def _self_ordered(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in an order where a row referring to its own table comes after the row it names."""
    links = [(fk.parent.name, fk.column.name) for fk in table.foreign_keys
             if fk.column.table.name == table.name]
    if not links:
        return rows
    done: set[tuple[str, Any]] = set()
    ordered: list[dict[str, Any]] = []
    waiting = rows
    while waiting:
        later = []
        for row in waiting:
            if all(row[src] is None or (dst, row[src]) in done for src, dst in links):
                ordered.append(row)
                done.update((dst, row[dst]) for _src, dst in links)
            else:
                later.append(row)
        if len(later) == len(waiting):  # a loop or a dangling reference: let the database say
            ordered.extend(later)
            break
        waiting = later
    return ordered


def restore_backup(session: Session, data: dict[str, Any], *, replace: bool,
                   known_revisions: tuple[str, ...], clock: DayClock) -> RestoreReport:
    """Load a parsed backup into the database, in the caller's transaction.

    Refused when the database holds anything, unless `replace`, which first empties
    every table. Raises ExportError for a backup this database cannot hold. `clock` reads
    the due moments of a backup made before due dates were study days.
    """
    schema = data.get("schema")
    if schema is not None and schema not in known_revisions:
        raise ExportError(_("the backup has schema {schema}, newer than this version of srs "
                            "understands; upgrade srs").format(schema=schema))
    tables = database_tables(session)
    by_name = {t.name: t for t in tables}
    unknown = sorted(set(data["tables"]) - set(by_name))
    if unknown:
        raise ExportError(_("the backup has tables this database lacks: {names}").format(
            names=", ".join(unknown)))
    if not is_empty(session, tables):
        if not replace:
            raise ExportError(_("the database is not empty; restore into an empty database, "
                                "or add --replace to replace everything in it"))
        for table in reversed(tables):
            session.execute(delete(table))
    report = RestoreReport(config=dict(data.get("config") or {}))
    for table in tables:
        if table.name not in data["tables"]:
            continue
        stored = data["tables"][table.name]
        names = stored["columns"]
        extra = sorted(set(names) - set(table.columns.keys()))
        if extra:
            raise ExportError(_("table {table} in the backup has columns this database "
                                "lacks: {names}").format(table=table.name,
                                                         names=", ".join(extra)))
        rows = []
        for index, values in enumerate(stored["rows"]):
            row: dict[str, Any] = {}
            given = dict(zip(names, values, strict=True))
            for column in table.columns:
                if column.name in given:
                    try:
                        row[column.name] = _load(given[column.name], column, clock)
                    except (ValueError, TypeError, OverflowError):
                        from srs.backupcheck import InvalidBackup, show

                        raise InvalidBackup(
                            ("tables", table.name, "rows", index, column.name),
                            _("{value} does not fit column {column} ({type})").format(
                                value=show(given[column.name]), column=column.name,
                                type=column.type)) from None
                elif column.default is not None and getattr(column.default, "is_scalar", False):
                    row[column.name] = column.default.arg  # type: ignore[attr-defined]
                elif column.nullable:
                    row[column.name] = None
                else:
                    from srs.backupcheck import InvalidBackup

                    raise InvalidBackup(("tables", table.name, "columns"),
                                        _("column {column} is missing").format(
                                            column=column.name))
            rows.append(row)
        if rows:
            try:
                session.execute(insert(table), _self_ordered(table, rows))
            except (IntegrityError, DataError) as err:
                # Only a table the models do not know gets here: the others were checked.
                reason = str(err.orig).splitlines()[0] if err.orig is not None else str(err)
                raise ExportError(_("the database refused table {table} of the backup: "
                                    "{reason}").format(table=table.name, reason=reason)) from None
        report.rows[table.name] = len(rows)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        _reset_sequences(session, tables)
    return report


def _reset_sequences(session: Session, tables: list[Table]) -> None:
    """Move PostgreSQL's id counters past the restored ids, so new rows do not collide."""
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                    column.autoincrement == "auto" and _python_type(column) is int
                    and len(table.primary_key.columns) == 1):
                sequence = session.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                          {"t": table.name, "c": column.name})
                if sequence:
                    session.execute(
                        text(f"SELECT setval(:s, COALESCE((SELECT MAX({column.name}) FROM "
                             f"{table.name}), 0) + 1, false)"), {"s": sequence})


# -- CSV for FSRS tools -------------------------------------------------------------------


def _millis(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def reviews_csv(session: Session, *, engine: Engine) -> str:
    """One row per graded event not undone, in the revlog layout of fsrs-rs and fsrs-optimizer.

    `review_time` is milliseconds since the Unix epoch; `review_state` the card's state just
    before (0 new, 1 learning, 2 review, 3 relearning, from a replay); `review_duration` the
    time taken in milliseconds, 0 where none was recorded.
    """
    from srs.stats import all_graded

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for card_id, history in sorted(all_graded(session, engine).items()):
        for event in history:
            review = event.review
            writer.writerow([
                card_id, _millis(review.at), review.rating,
                0 if event.before is None else event.before.state,
                (review.duration or 0) * 1000,
            ])
    return out.getvalue()


# -- ICS calendar -------------------------------------------------------------------------


def identity(session: Session, make: Callable[[], str] = lambda: uuid.uuid4().hex) -> str:
    """This database's own name, made once and kept in it (and in its backups)."""
    row = session.get(Setting, IDENTITY_KEY)
    if row is None:
        value = make()
        session.add(Setting(key=IDENTITY_KEY, value=json.dumps(value)))
        session.flush()
        return value
    found = json.loads(row.value)
    return str(found)


def event_uid(card_id: int, ident: str) -> str:
    """The UID of a card's event: the same every export, so calendars update it in place."""
    return f"card-{card_id}@{ident}.srs"


def calendar_ics(session: Session, *, clock: DayClock, now: datetime, ident: str) -> bytes:
    """Each active card's next self-test as an all-day event on the study day it falls due.

    A card already overdue is put on today. Each card keeps one UID, and SEQUENCE grows
    with its history, so re-importing the file updates events rather than adding them.
    """
    from icalendar import Calendar, Event

    today = clock.day_of(now)
    cards = list(session.scalars(
        active_cards().order_by(Card.due, Card.id)))
    sources = {s.id: s.path for s in session.scalars(select(LogSource))}
    events: dict[int, int] = {card_id: n for card_id, n in session.execute(
        select(Review.card_id, func.count()).group_by(Review.card_id))}
    cal = Calendar()
    cal.add("prodid", "-//srs//review self-tests//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("Self-tests"))
    for card in cards:
        due_day = card.due
        day = max(due_day, today)
        lines = [line for line in (card.section, card.notes) if line]
        if card.source_id is not None and card.source_line is not None:
            lines.append(f"{sources.get(card.source_id, '')}:{card.source_line}")
        if due_day < today:
            lines.append(_("due since {day}").format(day=due_day.isoformat()))
        lines.append(f"review show {card.id}")
        event = Event()
        event.add("uid", event_uid(card.id, ident))
        event.add("dtstamp", now)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", _("Self-test: {topic}").format(topic=card.topic))
        event.add("description", "\n".join(lines))
        event.add("sequence", events.get(card.id, 0))
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
