"""Recording self-tests: grade, undo, set a due date by hand, spread a backlog.

Everything here runs plain SQL on an `SqlConn` (srs/sql.py), so the commands a person
runs every day do not load SQLAlchemy on an SQLite file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from srs.cardview import CardRow, card_state, state_from_json, state_to_json
from srs.clock import DayClock
from srs.engine import CardState, Engine, ReviewStep
from srs.errors import GradeError, NothingToUndo
from srs.i18n import _
from srs.queue import ACTIVE, build_queue, expected_minutes, fits, minutes_spent, reviews_done
from srs.schedule import STORE_STATE, replay_cards, state_row, step_values
from srs.sql import SqlConn
from srs.store import card_labels, card_row, new_command
from srs.text import short_day, short_time

# How far another machine's clock may run ahead of ours before a last review "after now"
# is a mistake rather than a grade just made there.
CLOCK_SKEW = timedelta(minutes=10)

RATING_WORDS = {
    "again": 1, "a": 1, "1": 1,
    "hard": 2, "h": 2, "2": 2,
    "good": 3, "g": 3, "3": 3,
    "easy": 4, "e": 4, "4": 4,
}
_FRACTION = re.compile(r"^(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")


def parse_rating(text: str, thresholds: list[float]) -> int:
    """A grade from a word, a letter, 1-4, or a score such as `7/10` or `70%`.

    A score below `thresholds[0]` percent is again, below `thresholds[1]` hard, below
    `thresholds[2]` good, and easy from there up.
    """
    word = text.strip().lower()
    if word in RATING_WORDS:
        return RATING_WORDS[word]
    percent: float | None = None
    if match := _FRACTION.match(word):
        got, out_of = float(match.group(1)), float(match.group(2))
        if out_of > 0 and got <= out_of:
            percent = 100 * got / out_of
        else:
            raise GradeError(_("score {text!r} is out of range: a score is at most its whole "
                               "(such as 7/10)").format(text=text))
    elif match := _PERCENT.match(word):
        percent = float(match.group(1))
        if not 0 <= percent <= 100:
            raise GradeError(_("score {text!r} is out of range: a percentage is 0% to "
                               "100%").format(text=text))
    if percent is None:
        raise GradeError(_(
            "unknown rating {text!r} (use again, hard, good, easy, a/h/g/e, 1-4, "
            "or a score such as 7/10 or 70%)").format(text=text))
    for rating, threshold in zip((1, 2, 3), thresholds, strict=True):
        if percent < threshold:
            return rating
    return 4


@dataclass(frozen=True)
class GradeResult:
    """What a grade did, as `review grade --json` prints it."""

    card_id: int
    topic: str
    rating: int
    reviewed_at: datetime
    retrievability_before: float
    due: date
    interval_days: int
    stability: float | None
    difficulty: float | None
    label: str = ""  # what tells the card apart from others of its topic


def _gradable(conn: SqlConn, card_id: int, *, suspended_ok: bool = False) -> CardRow:
    card = card_row(conn, card_id)
    if card.merged_into is not None:
        raise GradeError(_("card {id} was merged into card {into}; grade card {into}").format(
            id=card.id, into=card.merged_into))
    if card.suspended and not suspended_ok:
        raise GradeError(_("card {id} is suspended; run 'review unsuspend {id}' first to "
                           "test yourself on it again").format(id=card.id))
    return card


def store_state(conn: SqlConn, card_id: int, state: CardState, clock: DayClock,
                now: datetime) -> None:
    """Write a card's FSRS state."""
    conn.run(STORE_STATE, **state_row(conn, card_id, state, clock, now))


def grade(conn: SqlConn, card_id: int, rating: int, *, engine: Engine, clock: DayClock,
          now: datetime, at: datetime | None = None, note: str | None = None,
          duration: int | None = None) -> GradeResult:
    """Record a self-test of a card through the command line and schedule the next one."""
    card = _gradable(conn, card_id)
    if card.last_review is not None and card.last_review > now + CLOCK_SKEW:
        raise GradeError(_(
            "card {id}'s last review is recorded at {last}, after now: a date in the log or a "
            "clock was wrong; correct the date in the log and run 'review import', or take "
            "that grade back with 'review undo'").format(
                id=card.id, last=short_day(clock.day_of(card.last_review), clock.day_of(now))))
    if at is None:
        # "Now" on another machine or process may be a hair behind a grade it just saw.
        at = max(now, card.last_review) if card.last_review else now
    today = clock.day_of(now)
    if at > now and at != card.last_review:
        raise GradeError(_("--at {at} is in the future").format(
            at=short_time(at, clock.tz, today)))
    if card.last_review is not None and at < card.last_review:
        raise GradeError(_("--at {at} is before card {id}'s last review at {last}").format(
            at=short_time(at, clock.tz, today), id=card.id,
            last=short_time(card.last_review, clock.tz, today)))
    before = card_state(card)
    day = clock.day_of(at)
    retrievability = engine.retrievability(before, day)
    number = int(conn.scalar(
        "SELECT count(*) FROM review WHERE card_id = :id AND kind = 'review' "
        "AND undone_at IS NULL", id=card.id) or 0) + 1
    after = engine.review(card.id, before, rating, at, number)
    last_day = engine.last_day(before)
    assert after.stability is not None and after.difficulty is not None
    step = ReviewStep(day, before.state if last_day is not None else 0,
                      (day - last_day).days if last_day is not None else None,
                      retrievability if last_day is not None else None,
                      after.stability, after.difficulty)
    conn.run(  # the review and what it did, in one statement
        "INSERT INTO review (card_id, at, kind, rating, source, note, duration, state_before, "
        "recorded_at, study_day, prior_state, elapsed_days, retrievability, stability, "
        "difficulty, command) VALUES (:card_id, :at, 'review', :rating, 'cli', :note, "
        ":duration, :state_before, :now, :study_day, :prior_state, :elapsed_days, "
        ":retrievability, :stability, :difficulty, :command)",
        card_id=card.id, at=conn.stamp(at), rating=rating, note=note or None,
        duration=duration, state_before=state_to_json(before), now=conn.stamp(now),
        command=new_command(), **step_values(conn, step))
    store_state(conn, card.id, after, clock, now)
    interval = (after.due - day).days
    return GradeResult(card.id, card.topic, rating, at, retrievability, after.due, interval,
                       after.stability, after.difficulty,
                       card_labels(conn, [card]).get(card.id, card.topic))


@dataclass(frozen=True)
class UndoResult:
    """Which event was taken back, and the card's due date now."""

    card_id: int
    topic: str
    kind: str
    rating: int | None
    at: datetime
    due: date
    left_in_log: str | None = None
    label: str = ""
    also: int = 0  # more moves taken back with it, made by the same command
    merged_into: int | None = None  # a merge taken back: the card it had been merged into


_UNDOABLE = ("SELECT id, card_id, kind, rating, at, state_before, recorded_at, log_row_id, "
             "command FROM review WHERE state_before IS NOT NULL AND undone_at IS NULL ")


def undo(conn: SqlConn, *, engine: Engine, now: datetime) -> UndoResult:
    """Take back what the newest command that graded or rescheduled by hand did (a grade, a
    set-due, every move of a spread); never history from the log.

    The result names the newest event and counts the others of its command in `also`.
    """
    row = conn.one(_UNDOABLE + "ORDER BY recorded_at DESC, id DESC LIMIT 1")
    merge = _last_merge(conn)
    newest = conn.moment(row[6]) if row is not None else None
    if merge is not None and (newest is None or merge[1] > newest):
        return _undo_merge(conn, *merge, engine=engine, now=now)
    if row is None:
        raise NothingToUndo(_("nothing to undo: no grade recorded with 'review grade' is left"))
    result = _undo_one(conn, row, engine=engine, now=now)
    same = conn.all(_UNDOABLE + "AND command = :command ORDER BY id DESC",
                    command=row[8]) if row[8] is not None else []
    for other in same:
        _undo_one(conn, other, engine=engine, now=now)
    return replace(result, also=len(same))


def _last_merge(conn: SqlConn) -> tuple[str, datetime, dict[str, Any]] | None:
    """The newest merge not taken back: its record's key, when it was made, and the record."""
    import json

    from srs.cards import MERGE_UNDO

    found = None
    for key, value in conn.all("SELECT key, value FROM setting WHERE key LIKE :prefix",
                               prefix=MERGE_UNDO + "%"):
        record = json.loads(value)
        at = datetime.fromisoformat(record["recorded_at"])
        if found is None or at > found[1]:
            found = (str(key), at, record)
    return found


def _undo_merge(conn: SqlConn, key: str, at: datetime, record: dict[str, Any], *,
                engine: Engine, now: datetime) -> UndoResult:
    """Take a merge back: the events it moved go back to their card, which is a card of its
    own again, and both cards' states are replayed."""
    from srs.store import delete_setting

    source, into = int(record["source"]), int(record["into"])
    conn.run_many("UPDATE review SET card_id = :source, merged_from = :came_from WHERE id = :id",
                  [{"id": review_id, "source": source, "came_from": came_from}
                   for review_id, came_from in record["moved"]])
    conn.run_many("UPDATE card SET merged_into = :source WHERE id = :id",
                  [{"id": child, "source": source} for child in record["children"]])
    conn.run("UPDATE card SET merged_into = NULL, updated_at = :now WHERE id = :id",
             now=conn.stamp(now), id=source)
    replay_cards(conn, engine, now, [source, into])
    delete_setting(conn, key)  # the merge's record: what it did is undone, the events stay
    card = card_row(conn, source)
    return UndoResult(card.id, card.topic, "merge", None, at, card.due,
                      label=card_labels(conn, [card]).get(card.id, card.topic), also=0,
                      merged_into=into)


def _undo_one(conn: SqlConn, row: tuple[Any, ...], *, engine: Engine,
              now: datetime) -> UndoResult:
    review_id, card_id, kind, rating, at, state_before, recorded_at, log_row_id, _cmd = row
    card = card_row(conn, card_id)
    later = conn.scalar(
        "SELECT id FROM review WHERE card_id = :card_id AND undone_at IS NULL "
        "AND recorded_at >= :recorded_at AND id > :id LIMIT 1",
        card_id=card.id, recorded_at=recorded_at, id=review_id)
    merged = conn.scalar(
        "SELECT id FROM review WHERE card_id = :card_id AND merged_from IS NOT NULL LIMIT 1",
        card_id=card.id)
    conn.run("UPDATE review SET undone_at = :now WHERE id = :id",
             now=conn.stamp(now), id=review_id)
    if later is None and merged is None:
        before = state_from_json(state_before, engine.clock)
        if card_state(card) != before:
            store_state(conn, card.id, before, engine.clock, now)
        due = before.due
    else:
        # Something was recorded after it (an import, say), or another card's history was
        # merged in: the exact state before it no longer describes the card, so the
        # history is replayed without it.
        replay_cards(conn, engine, now, [card.id])
        due = card_row(conn, card.id).due
    left_in_log = None
    if log_row_id is not None:
        place = conn.one("SELECT s.path, r.line FROM log_row r "
                         "JOIN log_source s ON s.id = r.source_id WHERE r.id = :id",
                         id=log_row_id)
        if place is not None:
            left_in_log = f"{place[0]}:{place[1]}"
    moment = conn.moment(at)
    assert moment is not None
    return UndoResult(card.id, card.topic, kind, rating, moment, due, left_in_log,
                      card_labels(conn, [card]).get(card.id, card.topic))


def _reschedule(conn: SqlConn, card: CardRow, due: date, now: datetime, command: str) -> None:
    conn.run(
        "INSERT INTO review (card_id, at, kind, source, due_set, state_before, recorded_at, "
        "command) VALUES (:card_id, :now, 'reschedule', 'manual', :due, :state_before, :now, "
        ":command)",
        card_id=card.id, now=conn.stamp(now), due=conn.day_value(due),
        state_before=state_to_json(card_state(card)), command=command)
    conn.run("UPDATE card SET due = :due, updated_at = :now WHERE id = :id",
             due=conn.day_value(due), now=conn.stamp(now), id=card.id)


def set_due(conn: SqlConn, card_id: int, day: date, *, clock: DayClock,
            now: datetime) -> CardRow:
    """Make a card due on study day `day`; its history stays as it is."""
    card = _gradable(conn, card_id, suspended_ok=True)
    if day < clock.day_of(now):
        raise GradeError(_("{day} is in the past; a new due date must be today or later").format(
            day=short_day(day, clock.day_of(now))))
    _reschedule(conn, card, day, now, new_command())
    return card


@dataclass(frozen=True)
class Move:
    """One card moved by `spread`."""

    card_id: int
    topic: str
    retrievability: float
    old_due: date
    new_day: date


def spread(conn: SqlConn, *, days: int, engine: Engine, clock: DayClock, now: datetime,
           max_per_day: int, max_minutes: int | None = None) -> list[Move]:
    """Spread the cards due by today over `days` days, most at risk first, never above the limit.

    Each of the `days` days from today gets an even share of the backlog, and no day
    more than `max_per_day` counting the cards already due there (and, today, the
    self-tests already done), nor, with `max_minutes`, more expected minutes than that
    (counted as the queue counts them: srs.queue.fits; a day with nothing on it takes one
    card whatever it costs). If the backlog does not fit into `days` days, the rest
    continues on the following days at the same caps rather than overfilling a day.
    """
    if days < 1:
        raise GradeError(_("--days must be at least 1, not {days}").format(days=days))
    today = clock.day_of(now)
    backlog = build_queue(conn, engine=engine, clock=clock, now=now, show_all=True,
                          order="retrievability", minutes=max_minutes is not None).entries
    start, end = clock.bounds(today)
    load = {today: reviews_done(conn, start, end)}
    later = conn.all(f"SELECT c.id, c.due FROM card c WHERE {ACTIVE} AND c.due > :today",
                     today=conn.day_value(today), no=False)
    for _id, due in later:
        day = conn.day(due)
        load[day] = load.get(day, 0) + 1
    used: dict[date, float] = {}  # expected minutes a day, with a budget
    if max_minutes is not None:
        from srs.workload import load_costs

        costs = load_costs(conn)
        used[today] = minutes_spent(conn, start, end, costs)
        expected = expected_minutes(conn, costs, [int(card_id) for card_id, _due in later])
        for card_id, due in later:
            day = conn.day(due)
            used[day] = used.get(day, 0.0) + expected[int(card_id)]
    # An even share per day over the N days, never above the daily limits; what does
    # not fit goes on after them, still capped.
    share = -(-len(backlog) // days)
    last = today + timedelta(days=days - 1)
    moves: list[Move] = []
    command = new_command()  # one spread, one undo
    day, placed = today, 0
    for entry in backlog:
        while (load.get(day, 0) >= max_per_day or (day <= last and placed >= share)
               or not fits(used.get(day, 0.0), entry.minutes, max_minutes,
                           empty=load.get(day, 0) == 0)):
            day, placed = day + timedelta(days=1), 0
        load[day] = load.get(day, 0) + 1
        used[day] = used.get(day, 0.0) + entry.minutes
        placed += 1
        if day != today:
            moves.append(Move(entry.card.id, entry.card.topic, entry.retrievability,
                              entry.card.due, day))
            _reschedule(conn, entry.card, day, now, command)  # type: ignore[arg-type]
    return moves

