"""Today's queue: the cards due by the end of a study day, in order, within the daily limit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from srs.clock import UTC, day_bounds, study_day
from srs.engine import Engine
from srs.errors import SrsError
from srs.i18n import _
from srs.models import Card, Review
from srs.repository import card_state

ORDERS = ("retrievability", "due", "log", "random")


@dataclass(frozen=True)
class DayClock:
    """The zone and the hour a study day starts: what turns a moment into a study day."""

    tz: tzinfo
    day_starts_at: int

    def day_of(self, moment: datetime) -> date:
        return study_day(moment, self.tz, self.day_starts_at)

    def bounds(self, day: date) -> tuple[datetime, datetime]:
        return day_bounds(day, self.tz, self.day_starts_at)


@dataclass(frozen=True)
class QueueEntry:
    """A due card with what the queue shows about it."""

    card: Card
    retrievability: float
    overdue_days: int
    last_rating: int | None
    last_note: str | None


@dataclass(frozen=True)
class Queue:
    """The queue of one study day."""

    day: date
    entries: list[QueueEntry]
    due_total: int
    done_today: int
    limit: int | None
    next_due: datetime | None

    @property
    def more(self) -> int:
        """How many due cards are left out by the limit."""
        return self.due_total - len(self.entries)


def active_cards() -> Select[Card]:
    """Cards that can be due: not suspended, not merged away."""
    return select(Card).where(Card.suspended.is_(False), Card.merged_into.is_(None))


def reviews_done(session: Session, start: datetime, end: datetime) -> int:
    """Self-tests graded through the command line with a time inside [start, end).

    Only grades count (they keep the state before them for undo); the first review a
    card gets from `review add` is not a self-test done today.
    """
    return int(session.scalar(
        select(func.count()).select_from(Review).where(
            Review.kind == "review", Review.source == "cli", Review.undone_at.is_(None),
            Review.state_before.is_not(None),
            Review.at >= start, Review.at < end,
        )
    ) or 0)


def _random_key(day: date, card_id: int) -> str:
    return hashlib.sha256(f"{day.isoformat()}:{card_id}".encode()).hexdigest()


def order_entries(entries: list[QueueEntry], order: str, day: date) -> list[QueueEntry]:
    """Sort due cards: lowest retrievability, oldest due, log order, or a shuffle fixed per day."""
    if order == "retrievability":
        return sorted(entries, key=lambda e: (e.retrievability, e.card.due, e.card.id))
    if order == "due":
        return sorted(entries, key=lambda e: (e.card.due, e.card.id))
    if order == "log":
        return sorted(entries, key=lambda e: (
            e.card.source_id is None, e.card.source_id or 0, e.card.source_line or 0, e.card.id))
    if order == "random":
        return sorted(entries, key=lambda e: _random_key(day, e.card.id))
    raise SrsError(_("unknown order {order!r} (use {choices})").format(
        order=order, choices=", ".join(ORDERS)))


def last_reviews(session: Session, card_ids: list[int]) -> dict[int, Review]:
    """The latest self-test of each card."""
    latest: dict[int, Review] = {}
    for start in range(0, len(card_ids), 500):
        chunk = card_ids[start:start + 500]
        for review in session.scalars(
            select(Review).where(Review.card_id.in_(chunk), Review.kind == "review",
                                 Review.undone_at.is_(None))
            .order_by(Review.card_id, Review.at, Review.id)
        ):
            latest[review.card_id] = review
    return latest


def due_entries(session: Session, engine: Engine, clock: DayClock, day: date,
                at: datetime) -> list[QueueEntry]:
    """Every active card due before the end of `day`, unordered."""
    _start, end = clock.bounds(day)
    cards = list(session.scalars(active_cards().where(Card.due < end)))
    latest = last_reviews(session, [c.id for c in cards])
    entries = []
    for card in cards:
        last = latest.get(card.id)
        entries.append(QueueEntry(
            card=card,
            retrievability=engine.retrievability(card_state(card), at),
            overdue_days=max(0, (day - clock.day_of(card.due)).days),
            last_rating=last.rating if last else None,
            last_note=last.note if last else None,
        ))
    return entries


def _due_filter(end: datetime) -> ColumnElement[bool]:
    return and_(Card.suspended.is_(False), Card.merged_into.is_(None), Card.due < end)


def _risk_key(session: Session, at: datetime) -> ColumnElement[float]:
    """Whole days since the last review over stability: the higher, the lower the retrievability.

    FSRS's retrievability falls as elapsed days / stability grows, so sorting by this in
    SQL picks the most-at-risk cards without loading every due card.
    """
    elapsed: ColumnElement[Any]
    if session.get_bind().dialect.name == "sqlite":
        stamp = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        elapsed = cast(func.julianday(literal(stamp)) - func.julianday(Card.last_review), Integer)
    else:
        elapsed = func.floor(func.extract("epoch", literal(at) - Card.last_review) / 86400)
    return case(
        (or_(Card.stability.is_(None), Card.last_review.is_(None)), literal(1e300)),
        else_=cast(elapsed, Float) / Card.stability,
    )


def _top_ids(session: Session, order: str, day: date, at: datetime, end: datetime,
             count: int | None) -> list[int]:
    """The ids of the first `count` due cards in `order` (all when count is None)."""
    query = select(Card.id).where(_due_filter(end))
    if order == "random":
        ids = sorted(session.scalars(query), key=lambda card_id: _random_key(day, card_id))
        return ids if count is None else ids[:count]
    if order == "retrievability":
        query = query.order_by(_risk_key(session, at).desc(), Card.due, Card.id)
    elif order == "due":
        query = query.order_by(Card.due, Card.id)
    elif order == "log":
        query = query.order_by(Card.source_id.is_(None), Card.source_id, Card.source_line,
                               Card.id)
    else:
        order_entries([], order, day)  # raises the unknown-order error
    if count is not None:
        query = query.limit(count)
    return list(session.scalars(query))


def build_queue(session: Session, *, engine: Engine, clock: DayClock, now: datetime,
                day: date | None = None, order: str = "retrievability",
                max_per_day: int = 10, limit: int | None = None,
                show_all: bool = False) -> Queue:
    """The queue of study day `day` (default: today) as seen at `now`.

    Without `limit` or `show_all`, it holds `max_per_day` minus the self-tests already
    recorded that study day. Only the cards shown are loaded, so a backlog of 100,000
    costs a count and one indexed, ordered query.
    """
    today = clock.day_of(now)
    day = day or today
    start, end = clock.bounds(day)
    at = now if day <= today else start
    total = int(session.scalar(select(func.count()).select_from(Card).where(_due_filter(end)))
                or 0)
    done = reviews_done(session, start, end)
    if show_all:
        cap = None
    elif limit is not None:
        cap = limit
    else:
        cap = max(0, max_per_day - done)
    ids = _top_ids(session, order, day, at, end, cap) if total and cap != 0 else []
    cards = {c.id: c for start_at in range(0, len(ids), 500) for c in session.scalars(
        select(Card).where(Card.id.in_(ids[start_at:start_at + 500])))}
    latest = last_reviews(session, ids)
    entries = []
    for card_id in ids:
        card, last = cards[card_id], latest.get(card_id)
        entries.append(QueueEntry(
            card=card,
            retrievability=engine.retrievability(card_state(card), at),
            overdue_days=max(0, (day - clock.day_of(card.due)).days),
            last_rating=last.rating if last else None,
            last_note=last.note if last else None,
        ))
    if order == "retrievability":
        entries = order_entries(entries, order, day)  # exact, on the few shown
    next_due = None
    if not total:
        next_due = session.scalar(
            select(func.min(Card.due)).where(
                Card.suspended.is_(False), Card.merged_into.is_(None), Card.due >= end)
        )
    return Queue(day=day, entries=entries, due_total=total, done_today=done,
                 limit=cap, next_due=next_due)
