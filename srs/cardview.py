"""Cards as plain rows and as the JSON objects the README documents (no SQLAlchemy here)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from srs.engine import RATING_NAMES, STATE_NAMES, CardState, Engine

if TYPE_CHECKING:
    from srs.clock import DayClock

CARD_COLUMNS = ("id, topic, notes, section, learned_on, source_id, source_line, state, step, "
                "stability, difficulty, due, last_review, suspended, in_log, merged_into")


class CardLike(Protocol):
    """What rendering needs of a card: a CardRow or the ORM Card."""

    id: int
    topic: str
    notes: str
    section: str
    learned_on: date
    source_id: int | None
    source_line: int | None
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: date
    last_review: datetime | None
    suspended: bool
    in_log: bool
    merged_into: int | None


@dataclass
class CardRow:
    """A card read with plain SQL."""

    id: int
    topic: str
    notes: str
    section: str
    learned_on: date
    source_id: int | None
    source_line: int | None
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: date
    last_review: datetime | None
    suspended: bool
    in_log: bool
    merged_into: int | None


def card_state(card: CardLike) -> CardState:
    """The FSRS state stored on a card."""
    return CardState(card.state, card.step, card.stability, card.difficulty, card.due,
                     card.last_review)


def state_to_json(state: CardState) -> str:
    """A card state as JSON text, exact enough to restore it bit for bit."""
    return json.dumps({
        "state": state.state, "step": state.step,
        "stability": state.stability, "difficulty": state.difficulty,
        "due": state.due.isoformat(),
        "last_review": state.last_review.isoformat() if state.last_review else None,
    })


def state_from_json(text: str, clock: DayClock) -> CardState:
    """A state stored by `state_to_json`.

    States stored before due dates were study days hold a due moment: it becomes the
    study day it fell on, the day the person was shown.
    """
    from srs.clock import to_utc

    data = json.loads(text)
    due = str(data["due"])
    return CardState(
        data["state"], data["step"], data["stability"], data["difficulty"],
        date.fromisoformat(due) if len(due) == 10 else clock.day_of(
            to_utc(datetime.fromisoformat(due))),
        to_utc(datetime.fromisoformat(data["last_review"])) if data["last_review"] else None,
    )


def _iso(moment: datetime | None, tz: tzinfo) -> str | None:
    return moment.astimezone(tz).isoformat() if moment else None


def card_to_dict(card: CardLike, *, engine: Engine, now: datetime, tz: tzinfo,
                 reviews: int, source_path: str | None) -> dict[str, Any]:
    """A card as the JSON object documented in the README."""
    return {
        "id": card.id,
        "topic": card.topic,
        "notes": card.notes,
        "section": card.section,
        "source": (f"{source_path}:{card.source_line}"
                   if source_path is not None and card.source_line is not None else None),
        "learned_on": card.learned_on.isoformat(),
        "state": STATE_NAMES.get(card.state, str(card.state)),
        "due": card.due.isoformat(),
        "stability": card.stability,
        "difficulty": card.difficulty,
        "retrievability": round(engine.retrievability(card_state(card),
                                                      engine.clock.day_of(now)), 4),
        "reviews": reviews,
        "last_review": _iso(card.last_review, tz),
        "suspended": card.suspended,
        "in_log": card.in_log,
    }


def rating_name(rating: int | None) -> str | None:
    return RATING_NAMES.get(rating) if rating else None
