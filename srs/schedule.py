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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from srs.clock import DayClock, clock_from_record
from srs.engine import CardState, Engine, Event, ReviewStep
from srs.sql import SqlConn

CLOCK_KEY = "schedule.clock"
# What the stored schedule holds besides the clock: 2 = the review steps are stored too. A
# database marked otherwise is replayed once on open, which writes what is missing.
SCHEDULE_FORMAT = 2
STATE_COLUMNS = "id, state, step, stability, difficulty, due, last_review, last_review_day"
STORE_STATE = (
    "UPDATE card SET state = :state, step = :step, stability = :stability, "
    "difficulty = :difficulty, due = :due, last_review = :last_review, "
    "last_review_day = :last_review_day, updated_at = :now WHERE id = :id")
EVENT_COLUMNS = "card_id, at, kind, rating, due_set"
STEP_COLUMNS = "study_day, prior_state, elapsed_days, retrievability, stability, difficulty"
STORE_STEP = (
    "UPDATE review SET study_day = :study_day, prior_state = :prior_state, "
    "elapsed_days = :elapsed_days, retrievability = :retrievability, "
    "stability = :stability, difficulty = :difficulty WHERE id = :id")


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


def step_values(conn: SqlConn, step: ReviewStep | None) -> dict[str, Any]:
    """A review's step columns as stored (None clears a step)."""
    if step is None:
        return {"study_day": None, "prior_state": None, "elapsed_days": None,
                "retrievability": None, "stability": None, "difficulty": None}
    return {"study_day": conn.day_value(step.study_day),
            "prior_state": step.prior_state, "elapsed_days": step.elapsed_days,
            "retrievability": step.retrievability, "stability": step.stability,
            "difficulty": step.difficulty}


def step_row(conn: SqlConn, review_id: int, step: ReviewStep | None) -> dict[str, Any]:
    """The parameters of STORE_STEP for one review (None clears a step)."""
    return {"id": review_id, **step_values(conn, step)}


@dataclass
class History:
    """A card's events that count, oldest first, with their review ids and stored steps."""

    ids: list[int]
    events: list[Event]
    stored: list[tuple[Any, ...]]  # STEP_COLUMNS as stored, one tuple per event


def load_histories(conn: SqlConn, ids: list[int] | None = None) -> dict[int, History]:
    """The histories of cards `ids` (every card when None), with what each step stored."""
    columns = f"id, {EVENT_COLUMNS}, {STEP_COLUMNS}"
    if ids is None:
        rows: Iterable[tuple[Any, ...]] = conn.stream(
            f"SELECT {columns} FROM review WHERE undone_at IS NULL ORDER BY card_id, at, id")
    else:
        rows = conn.all_in(f"SELECT {columns} FROM review WHERE card_id IN ({{ids}}) "
                           "AND undone_at IS NULL ORDER BY card_id, at, id", ids)
    found: dict[int, History] = {}
    for row in rows:
        review_id, card_id, at, kind, rating, due_set = row[:6]
        history = found.get(card_id)
        if history is None:
            history = found[card_id] = History([], [], [])
        moment = conn.moment(at)
        assert moment is not None
        history.ids.append(review_id)
        history.events.append(Event(moment, rating if kind == "review" else None,
                                    conn.day(due_set) if due_set is not None else None,
                                    plan=kind == "plan"))
        history.stored.append(row[6:])
    return found


def _stored_step(conn: SqlConn, stored: tuple[Any, ...]) -> ReviewStep | None:
    day, prior, elapsed, chance, stability, difficulty = stored
    if day is None or prior is None or stability is None or difficulty is None:
        return None
    return ReviewStep(conn.day(day), int(prior), elapsed, chance, float(stability),
                      float(difficulty))


def changed_steps(conn: SqlConn, history: History, steps: list[ReviewStep | None]
                  ) -> list[dict[str, Any]]:
    """STORE_STEP parameters for the reviews whose stored step differs from `steps`."""
    return [step_row(conn, review_id, step)
            for review_id, step, stored in zip(history.ids, steps, history.stored, strict=True)
            if _stored_step(conn, stored) != step]


def replay_cards(conn: SqlConn, engine: Engine, now: datetime,
                 ids: list[int] | None = None) -> Rescheduled:
    """Recompute cards' states, and what each self-test did, from their histories (every
    card not merged away by default).

    Only cards whose state (or stored study day of the last review) changes are written,
    with `updated_at = now`, and only reviews whose step changes; a card with no history
    left (or only plans) keeps the state it has.
    """
    if ids is None:
        current = {row[0]: stored_state(conn, row) for row in conn.stream(
            f"SELECT {STATE_COLUMNS} FROM card WHERE merged_into IS NULL ORDER BY id")}
        histories = load_histories(conn)
    else:
        current = {row[0]: stored_state(conn, row) for row in conn.all_in(
            f"SELECT {STATE_COLUMNS} FROM card WHERE id IN ({{ids}})", ids)}
        histories = load_histories(conn, sorted(current))
    changed: dict[int, CardState] = {}
    step_rows: list[dict[str, Any]] = []
    moved = 0
    day_of = engine.clock.day_of
    for card_id, (old, old_day) in current.items():
        history = histories.get(card_id)
        if history is None or all(event.plan for event in history.events):
            continue  # nothing but plans: the card keeps the state it has
        new, steps = engine.replay_history(card_id, history.events)
        step_rows += changed_steps(conn, history, steps)
        new_day = day_of(new.last_review).toordinal() if new.last_review is not None else None
        if new != old or old_day != new_day:
            changed[card_id] = new
            moved += new.due != old.due
    store_states(conn, changed, engine.clock, now)
    conn.run_many(STORE_STEP, step_rows)
    return Rescheduled(len(changed), moved, len(current))


def _marker(clock: DayClock) -> dict[str, Any]:
    return {**clock.record(), "format": SCHEDULE_FORMAT}


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
        return record == _marker(clock)
    return conn.scalar("SELECT id FROM card LIMIT 1") is None


def mark_clock(conn: SqlConn, clock: DayClock) -> None:
    """Record that the stored schedule follows `clock` (nothing to record without cards)."""
    if conn.scalar("SELECT id FROM card LIMIT 1") is None:
        return
    from srs.store import store_setting

    store_setting(conn, CLOCK_KEY, _marker(clock))


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
    if record == _marker(clock):
        return None
    if record is None and conn.scalar("SELECT id FROM card LIMIT 1") is None:
        return None  # an empty database: the first import records its clock
    before = clock_from_record(record) or clock
    _move_dated_events(conn, before, clock)
    result = replay_cards(conn, engine, now)
    mark_clock(conn, clock)
    return Rescheduled(result.changed, result.moved, result.cards, record)
