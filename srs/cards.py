"""Looking at and editing cards: list, show, add, suspend, merge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from srs.engine import Engine
from srs.errors import SrsError
from srs.i18n import _
from srs.models import Card, LogSource, Review
from srs.repository import (
    active_events,
    card_to_dict,
    get_card,
    replay_card,
    review_to_dict,
)
from srs.schedule import mark_clock
from srs.sql import SessionConn


@dataclass(frozen=True)
class View:
    """What rendering a card needs: the engine for retrievability, the time and the zone."""

    engine: Engine
    now: datetime
    tz: tzinfo


def review_counts(session: Session, card_ids: list[int]) -> dict[int, int]:
    """How many self-tests (not undone) each card has."""
    counts: dict[int, int] = {}
    for start in range(0, len(card_ids), 500):
        chunk = card_ids[start:start + 500]
        rows = session.execute(
            select(Review.card_id, func.count())
            .where(Review.card_id.in_(chunk), Review.undone_at.is_(None), Review.kind == "review")
            .group_by(Review.card_id)
        )
        counts.update({card_id: n for card_id, n in rows})
    return counts


def sources(session: Session) -> dict[int, LogSource]:
    return {s.id: s for s in session.scalars(select(LogSource))}


def cards_to_dicts(session: Session, cards: list[Card], view: View) -> list[dict[str, Any]]:
    counts = review_counts(session, [c.id for c in cards])
    by_id = sources(session)
    return [
        card_to_dict(c, engine=view.engine, now=view.now, tz=view.tz, reviews=counts.get(c.id, 0),
                     source=by_id.get(c.source_id) if c.source_id else None)
        for c in cards
    ]


def list_cards(session: Session, *, search: str | None = None,
               section: str | None = None) -> list[Card]:
    """Every card not merged into another, in log order, optionally filtered."""
    query = select(Card).where(Card.merged_into.is_(None))
    if search:
        query = query.where(or_(Card.topic.icontains(search, autoescape=True),
                                Card.notes.icontains(search, autoescape=True)))
    if section:
        query = query.where(Card.section.icontains(section, autoescape=True))
    # Cards added by hand belong to no log: they come after the logs' cards.
    return list(session.scalars(query.order_by(
        Card.source_id.is_(None), Card.source_id, Card.source_line, Card.id)))


def show_card(session: Session, card_id: int, view: View) -> dict[str, Any]:
    """A card with its full history, oldest first."""
    card = get_card(session, card_id)
    data = cards_to_dicts(session, [card], view)[0]
    history = session.scalars(
        select(Review).where(Review.card_id == card.id, Review.undone_at.is_(None))
        .order_by(Review.at, Review.id)
    )
    data["history"] = [review_to_dict(r, view.tz) for r in history]
    if card.merged_into is not None:
        data["merged_into"] = card.merged_into
    return data


def add_card(session: Session, topic: str, *, notes: str, learned: date | None,
             engine: Engine, now: datetime) -> Card:
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
    card = Card(
        topic=topic, notes=notes, section="", learned_on=learned or today,
        state=1, step=0, due=clock.day_of(at), suspended=False, in_log=False, created_at=now,
        updated_at=now,
    )
    session.add(card)
    session.flush()
    session.add(Review(card_id=card.id, at=at, kind="review", rating=3, source="cli",
                       recorded_at=now))
    session.flush()
    replay_card(session, engine, card, now)
    session.flush()
    mark_clock(SessionConn(session), clock)
    return card


def set_suspended(session: Session, card_id: int, suspended: bool, now: datetime) -> Card:
    """Suspend a card (it leaves the queue, its history stays) or bring it back."""
    card = get_card(session, card_id)
    if card.suspended != suspended:
        card.suspended = suspended
        card.updated_at = now
    return card


def merge_cards(session: Session, source_id: int, into_id: int, *, engine: Engine,
                now: datetime) -> Card:
    """Fold one card's history into another; the first card stays as a trace."""
    if source_id == into_id:
        raise SrsError(_("cannot merge card {id} into itself").format(id=source_id))
    source = get_card(session, source_id)
    into = get_card(session, into_id)
    if source.merged_into is not None:
        raise SrsError(_("card {id} is already merged into card {into}").format(
            id=source_id, into=source.merged_into))
    if into.merged_into is not None:
        raise SrsError(_("card {id} is merged into card {into}; merge into that one").format(
            id=into_id, into=into.merged_into))
    for review in active_events(session, [source.id])[source.id]:
        review.card_id = into.id
        review.merged_from = review.merged_from or source.id
    for earlier in session.scalars(select(Card).where(Card.merged_into == source.id)):
        earlier.merged_into = into.id
    source.merged_into = into.id
    source.updated_at = now
    session.flush()
    replay_card(session, engine, into, now)
    return into
