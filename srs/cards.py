"""Looking at and editing cards: list, show, add, suspend, merge.

Plain SQL on an `SqlConn` (srs/sql.py): sqlite3 on an SQLite file, SQLAlchemy Core on
PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from srs.cardview import CARD_COLUMNS, CardRow, card_dicts, rating_name
from srs.engine import Engine
from srs.errors import SrsError
from srs.i18n import _
from srs.schedule import mark_clock, replay_cards
from srs.sql import SqlConn
from srs.store import (
    card_labels,
    card_row,
    cards_from_rows,
    new_command,
    review_counts,
    source_paths,
    store_setting,
)

MERGE_UNDO = "undo.merge."  # a setting per merge, for `review undo`

@dataclass(frozen=True)
class View:
    """What rendering a card needs: the engine for retrievability, the time and the zone."""

    engine: Engine
    now: datetime
    tz: tzinfo


def cards_to_dicts(conn: SqlConn, cards: list[CardRow], view: View) -> list[dict[str, Any]]:
    """Cards as the JSON objects the README documents."""
    if not cards:
        return []
    ids = [card.id for card in cards]
    counts = review_counts(conn, ids)
    return card_dicts(cards, engine=view.engine, now=view.now, tz=view.tz, reviews=counts,
                      paths=source_paths(conn), labels=card_labels(conn, cards))


def _containing(text: str) -> str:
    """A LIKE pattern (escaped with '/') for values that contain `text`; the SQL lowers
    both sides, so the case folds the same way on either side."""
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def list_cards(conn: SqlConn, *, search: str | None = None,
               section: str | None = None) -> list[CardRow]:
    """Every card not merged into another, in log order, optionally filtered."""
    where = ["merged_into IS NULL"]
    params: dict[str, Any] = {}
    if search:
        where.append("(lower(topic) LIKE lower(:search) ESCAPE '/' "
                     "OR lower(notes) LIKE lower(:search) ESCAPE '/')")
        params["search"] = _containing(search)
    if section:
        where.append("lower(section) LIKE lower(:section) ESCAPE '/'")
        params["section"] = _containing(section)
    # Cards added by hand belong to no log: they come after the logs' cards.
    rows = conn.all(f"SELECT {CARD_COLUMNS} FROM card WHERE {' AND '.join(where)} "
                    "ORDER BY source_id IS NULL, source_id, source_line, id", **params)
    return cards_from_rows(conn, rows)


def history_entry(conn: SqlConn, row: tuple[Any, ...], tz: tzinfo) -> dict[str, Any]:
    """One entry of a card's history, as `review show --json` prints it, from a row of
    (at, kind, rating, source, note, due_set, duration)."""
    at, kind, rating, source, note, due_set, duration = row
    moment = conn.moment(at)
    assert moment is not None
    entry: dict[str, Any] = {
        "at": moment.astimezone(tz).isoformat(),
        "rating": rating_name(rating) if kind == "review" else None,
        "source": source,
        "note": note,
    }
    if kind != "review":
        entry["kind"] = kind
        entry["due"] = conn.day(due_set).isoformat() if due_set is not None else None
    if duration is not None:
        entry["duration"] = duration
    return entry


def show_card(conn: SqlConn, card_id: int, view: View) -> dict[str, Any]:
    """A card with its full history, oldest first."""
    card = card_row(conn, card_id)
    data = cards_to_dicts(conn, [card], view)[0]
    rows = conn.all(
        "SELECT at, kind, rating, source, note, due_set, duration FROM review "
        "WHERE card_id = :id AND undone_at IS NULL ORDER BY at, id", id=card.id)
    data["history"] = [history_entry(conn, row, view.tz) for row in rows]
    if card.merged_into is not None:
        data["merged_into"] = card.merged_into
    return data


def add_card(conn: SqlConn, topic: str, *, notes: str, learned: date | None,
             engine: Engine, now: datetime) -> CardRow:
    """A card for a topic that is in no log; studying it is its first review."""
    topic = topic.strip()
    if not topic:
        raise SrsError(_("the topic is empty"))
    clock = engine.clock
    today = clock.day_of(now)
    if learned is not None and learned > today:
        raise SrsError(_("learned date {day} is in the future").format(day=learned))
    # Learned today but before noon: the study cannot have happened after now.
    at = min(clock.moment_of(learned), now) if learned is not None else now
    card_id = conn.insert(
        "INSERT INTO card (topic, notes, section, learned_on, state, step, due, suspended, "
        "in_log, created_at, updated_at) VALUES (:topic, :notes, '', :learned_on, 1, 0, "
        ":due, :no, :no, :now, :now)",
        topic=topic, notes=notes, learned_on=conn.day_value(learned or today),
        due=conn.day_value(clock.day_of(at)), no=False, now=conn.stamp(now))
    conn.run("INSERT INTO review (card_id, at, kind, rating, source, recorded_at) "
             "VALUES (:card_id, :at, 'review', 3, 'cli', :now)",
             card_id=card_id, at=conn.stamp(at), now=conn.stamp(now))
    replay_cards(conn, engine, now, [card_id])
    mark_clock(conn, clock)
    return card_row(conn, card_id)


def set_suspended(conn: SqlConn, card_id: int, suspended: bool, now: datetime) -> CardRow:
    """Suspend a card (it leaves the queue, its history stays) or bring it back."""
    card = card_row(conn, card_id)
    if card.suspended != suspended:
        conn.run("UPDATE card SET suspended = :suspended, updated_at = :now WHERE id = :id",
                 suspended=suspended, now=conn.stamp(now), id=card.id)
        card.suspended = suspended
    return card


def merge_cards(conn: SqlConn, source_id: int, into_id: int, *, engine: Engine,
                now: datetime) -> CardRow:
    """Fold one card's history into another; the first card stays as a trace."""
    if source_id == into_id:
        raise SrsError(_("cannot merge card {id} into itself").format(id=source_id))
    source = card_row(conn, source_id)
    into = card_row(conn, into_id)
    if source.merged_into is not None:
        raise SrsError(_("card {id} is already merged into card {into}").format(
            id=source_id, into=source.merged_into))
    if into.merged_into is not None:
        raise SrsError(_("card {id} is merged into card {into}; merge into that one").format(
            id=into_id, into=into.merged_into))
    # What `review undo` needs to take the merge back: the events that move (and where
    # they came from), the cards merged into this one before, and when.
    moved = [[int(review_id), merged_from] for review_id, merged_from in conn.all(
        "SELECT id, merged_from FROM review WHERE card_id = :source AND undone_at IS NULL",
        source=source.id)]
    children = [int(card_id) for (card_id,) in conn.all(
        "SELECT id FROM card WHERE merged_into = :source", source=source.id)]
    store_setting(conn, f"{MERGE_UNDO}{new_command()}", {
        "recorded_at": now.isoformat(), "source": source.id, "into": into.id,
        "moved": moved, "children": children})
    # The events that count move; undone ones stay with the card they were made on.
    conn.run("UPDATE review SET card_id = :into, merged_from = coalesce(merged_from, :source) "
             "WHERE card_id = :source AND undone_at IS NULL", into=into.id, source=source.id)
    conn.run("UPDATE card SET merged_into = :into WHERE merged_into = :source",
             into=into.id, source=source.id)
    conn.run("UPDATE card SET merged_into = :into, updated_at = :now WHERE id = :source",
             into=into.id, now=conn.stamp(now), source=source.id)
    replay_cards(conn, engine, now, [into.id])
    return card_row(conn, into.id)
