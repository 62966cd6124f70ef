"""Rows to domain objects and back: cards, their histories, stored parameters."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from srs import cardview
from srs.cardview import card_state, state_from_json, state_to_json
from srs.engine import RATING_NAMES, CardState, Engine, Event, SchedulerSettings
from srs.errors import CardNotFound
from srs.i18n import _
from srs.models import Card, LogSource, Review, Setting

if TYPE_CHECKING:
    from srs.clock import DayClock

PARAMETERS_KEY = "fsrs.parameters"



def apply_state(card: Card, state: CardState, now: datetime, clock: DayClock) -> bool:
    """Store `state` on the card row; True when anything changed."""
    if card_state(card) == state:
        return False
    card.state, card.step = state.state, state.step
    card.stability, card.difficulty = state.stability, state.difficulty
    card.due, card.last_review = state.due, state.last_review
    card.last_review_day = (clock.day_of(state.last_review).toordinal()
                            if state.last_review is not None else None)
    card.updated_at = now
    return True




def get_card(session: Session, card_id: int, *, follow_merge: bool = False) -> Card:
    """The card with that id (raises CardNotFound)."""
    card = session.get(Card, card_id)
    if card is None:
        raise CardNotFound(_("no card {id} (see 'review cards')").format(id=card_id))
    if follow_merge:
        while card.merged_into is not None:
            card = session.get(Card, card.merged_into) or card
    return card


def active_events(session: Session, card_ids: Sequence[int]) -> dict[int, list[Review]]:
    """The events that count (not undone) of each card, oldest first."""
    result: dict[int, list[Review]] = {card_id: [] for card_id in card_ids}
    if not card_ids:
        return result
    for start in range(0, len(card_ids), 500):
        chunk = card_ids[start:start + 500]
        rows = session.scalars(
            select(Review)
            .where(Review.card_id.in_(chunk), Review.undone_at.is_(None))
            .order_by(Review.card_id, Review.at, Review.id)
        )
        for review in rows:
            result[review.card_id].append(review)
    return result


def to_events(reviews: Iterable[Review]) -> list[Event]:
    return [Event(r.at, r.rating if r.kind == "review" else None, r.due_set,
                  plan=r.kind == "plan") for r in reviews]


def replay_card(session: Session, engine: Engine, card: Card, now: datetime) -> bool:
    """Recompute a card's state, and its self-tests' steps, from its history; True when the
    state changed."""
    from srs.schedule import replay_cards
    from srs.sql import SessionConn

    session.flush()
    changed = replay_cards(SessionConn(session), engine, now, [card.id]).changed
    session.refresh(card)
    return bool(changed)


def active_cards() -> Select[Card]:
    """Cards that can be due: not suspended, not merged away."""
    return select(Card).where(Card.suspended.is_(False), Card.merged_into.is_(None))


def load_parameters(session: Session) -> tuple[float, ...] | None:
    """The stored FSRS parameters, None when the defaults apply."""
    row = session.get(Setting, PARAMETERS_KEY)
    return tuple(json.loads(row.value)) if row else None


__all__ = ["card_state", "state_from_json", "state_to_json"]


def store_setting(session: Session, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=json.dumps(value)))
    else:
        row.value = json.dumps(value)


def scheduler_settings(session: Session, config: Any) -> SchedulerSettings:
    """The scheduler settings from config.toml and the parameters stored in the database."""
    from srs.engine import settings_from

    return settings_from(config, load_parameters(session))


def _iso(moment: datetime | None, tz: tzinfo) -> str | None:
    return moment.astimezone(tz).isoformat() if moment else None


def card_to_dict(card: Card, *, engine: Engine, now: datetime, tz: tzinfo,
                 reviews: int, source: LogSource | None) -> dict[str, Any]:
    """A card as the JSON object documented in the README."""
    return cardview.card_to_dict(card, engine=engine, now=now, tz=tz, reviews=reviews,
                                 source_path=source.path if source is not None else None)


def review_to_dict(review: Review, tz: tzinfo) -> dict[str, Any]:
    """One entry of a card's history, as shown by `review show --json`."""
    entry: dict[str, Any] = {
        "at": _iso(review.at, tz),
        "rating": RATING_NAMES.get(review.rating or 0) if review.kind == "review" else None,
        "source": review.source,
        "note": review.note,
    }
    if review.kind != "review":
        entry["kind"] = review.kind
        entry["due"] = review.due_set.isoformat() if review.due_set is not None else None
    if review.duration is not None:
        entry["duration"] = review.duration
    return entry
