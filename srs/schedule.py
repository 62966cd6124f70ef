"""The stored schedule follows the histories: replaying cards, and the clock it was computed with.

A card's FSRS state and due day are derived data: the replay of its history in study days.
Study days depend on the zone and the hour a day starts, so the database records the
clock its schedule was computed with (`schedule.clock` in the `setting` table). When the
configured clock differs (a `review config set timezone`, a hand edit of config.toml, a
restore from a database kept elsewhere, or the upgrade that introduced study days), every
card is replayed with the new clock, in one transaction, before anything else reads it.

Everything here runs on an `SqlConn` (srs/sql.py): sqlite3 on an SQLite file, the
SQLAlchemy session's connection otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from srs.clock import DayClock, clock_from_record
from srs.engine import CardState, Engine, Event
from srs.sql import SqlConn

CLOCK_KEY = "schedule.clock"
STATE_COLUMNS = "id, state, step, stability, difficulty, due, last_review, last_review_day"
STORE_STATE = (
    "UPDATE card SET state = :state, step = :step, stability = :stability, "
    "difficulty = :difficulty, due = :due, last_review = :last_review, "
    "last_review_day = :last_review_day, updated_at = :now WHERE id = :id")
EVENT_COLUMNS = "card_id, at, kind, rating, due_set"


@dataclass(frozen=True)
class Rescheduled:
    """What a replay changed: cards whose state changed, and of them, whose due day moved."""

    changed: int = 0
    moved: int = 0
    cards: int = 0
    previous: dict[str, Any] | None = None  # the clock the schedule followed before


def state_row(conn: SqlConn, card_id: int, state: CardState, clock: DayClock,
              now: datetime) -> dict[str, Any]:
    """The parameters of STORE_STATE for one card."""
    last = state.last_review
    return {
        "id": card_id, "state": state.state, "step": state.step,
        "stability": state.stability, "difficulty": state.difficulty,
        "due": conn.day_value(state.due),
        "last_review": conn.stamp(last) if last is not None else None,
        "last_review_day": clock.day_of(last).toordinal() if last is not None else None,
        "now": conn.stamp(now),
    }


def store_states(conn: SqlConn, states: dict[int, CardState], clock: DayClock,
                 now: datetime) -> None:
    """Write cards' FSRS states, due days and last-review days."""
    conn.run_many(STORE_STATE, [state_row(conn, card_id, state, clock, now)
                                for card_id, state in states.items()])


def stored_state(conn: SqlConn, row: tuple[Any, ...]) -> tuple[CardState, Any]:
    """A CardState and the stored last-review day from a row of STATE_COLUMNS (id first)."""
    _id, state, step, stability, difficulty, due, last, last_day = row
    return (CardState(int(state), step, stability, difficulty, conn.day(due),
                      conn.moment(last)), last_day)


def _events(conn: SqlConn, rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, Event]]:
    for card_id, at, kind, rating, due_set in rows:
        moment = conn.moment(at)
        assert moment is not None
        yield card_id, Event(moment, rating if kind == "review" else None,
                             conn.day(due_set) if due_set is not None else None,
                             plan=kind == "plan")


def load_events(conn: SqlConn, ids: list[int]) -> dict[int, list[Event]]:
    """The history that counts (not undone) of each card, oldest first."""
    result: dict[int, list[Event]] = {card_id: [] for card_id in ids}
    rows = conn.all_in(
        f"SELECT {EVENT_COLUMNS} FROM review WHERE card_id IN ({{ids}}) AND undone_at IS NULL "
        "ORDER BY card_id, at, id", ids)
    for card_id, event in _events(conn, rows):
        result[card_id].append(event)
    return result


def replay_cards(conn: SqlConn, engine: Engine, now: datetime,
                 ids: list[int] | None = None) -> Rescheduled:
    """Recompute cards' states from their histories (every card not merged away by default).

    Only cards whose state (or stored study day of the last review) changes are written,
    with `updated_at = now`; a card with no history left keeps the state it has.
    """
    if ids is None:
        current = {row[0]: stored_state(conn, row) for row in conn.stream(
            f"SELECT {STATE_COLUMNS} FROM card WHERE merged_into IS NULL ORDER BY id")}
        events: dict[int, list[Event]] = {card_id: [] for card_id in current}
        for card_id, event in _events(conn, conn.stream(
                f"SELECT {EVENT_COLUMNS} FROM review WHERE undone_at IS NULL "
                "ORDER BY card_id, at, id")):
            if card_id in events:
                events[card_id].append(event)
    else:
        current = {row[0]: stored_state(conn, row) for row in conn.all_in(
            f"SELECT {STATE_COLUMNS} FROM card WHERE id IN ({{ids}})", ids)}
        events = load_events(conn, sorted(current))
    changed: dict[int, CardState] = {}
    moved = 0
    day_of = engine.clock.day_of
    for card_id, (old, old_day) in current.items():
        history = events.get(card_id)
        if not history or all(event.plan for event in history):
            continue  # nothing but plans: the card keeps the state it has
        new = engine.replay(card_id, history)
        new_day = day_of(new.last_review).toordinal() if new.last_review is not None else None
        if new != old or old_day != new_day:
            changed[card_id] = new
            moved += new.due != old.due
    store_states(conn, changed, engine.clock, now)
    return Rescheduled(len(changed), moved, len(current))


def _stored_record(conn: SqlConn) -> dict[str, Any] | None:
    value = conn.scalar("SELECT value FROM setting WHERE key = :key", key=CLOCK_KEY)
    try:
        record = json.loads(value) if value else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def clock_is_current(conn: SqlConn, clock: DayClock) -> bool:
    """True when the stored schedule was computed with `clock` (or there is nothing stored)."""
    record = _stored_record(conn)
    if record is not None:
        return record == clock.record()
    return conn.scalar("SELECT id FROM card LIMIT 1") is None


def mark_clock(conn: SqlConn, clock: DayClock) -> None:
    """Record that the stored schedule follows `clock` (nothing to record without cards)."""
    if conn.scalar("SELECT id FROM card LIMIT 1") is None:
        return
    value = json.dumps(clock.record())
    if conn.scalar("SELECT value FROM setting WHERE key = :key", key=CLOCK_KEY) is None:
        conn.run("INSERT INTO setting (key, value) VALUES (:key, :value)",
                 key=CLOCK_KEY, value=value)
    else:
        conn.run("UPDATE setting SET value = :value WHERE key = :key",
                 key=CLOCK_KEY, value=value)


def _move_dated_events(conn: SqlConn, before: DayClock, after: DayClock) -> None:
    """Put each review the log gave only a date to at the new clock's moment of that date.

    The date is the local date of the stored moment in the zone it was stored with:
    every version of srs stored such a review inside its date (local noon, or the hour a
    study day starts when that is after noon).
    """
    moves = []
    for review_id, at in conn.all(
            "SELECT id, at FROM review WHERE source = 'log' AND kind = 'review'"):
        moment = conn.moment(at)
        assert moment is not None
        placed = after.moment_of(moment.astimezone(before.tz).date())
        if placed != moment:
            moves.append({"id": review_id, "at": conn.stamp(placed)})
    conn.run_many("UPDATE review SET at = :at WHERE id = :id", moves)


def follow_clock(conn: SqlConn, engine: Engine, now: datetime) -> Rescheduled | None:
    """Replay every card when the stored schedule follows another clock than `engine`'s.

    Returns None when nothing had to be done. Runs inside the caller's write transaction.
    """
    clock = engine.clock
    record = _stored_record(conn)
    if record == clock.record():
        return None
    if record is None and conn.scalar("SELECT id FROM card LIMIT 1") is None:
        return None  # an empty database: the first import records its clock
    before = clock_from_record(record) or clock
    _move_dated_events(conn, before, clock)
    result = replay_cards(conn, engine, now)
    mark_clock(conn, clock)
    return Rescheduled(result.changed, result.moved, result.cards, record)
