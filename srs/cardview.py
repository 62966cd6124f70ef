"""Cards as plain rows and as the JSON objects the README documents (no SQLAlchemy here)."""

from __future__ import annotations

import json
from collections.abc import Iterable
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


@dataclass(slots=True)
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


def card_to_dict(card: CardLike, *, engine: Engine, now: datetime, tz: tzinfo,
                 reviews: int, source_path: str | None, label: str | None = None
                 ) -> dict[str, Any]:
    """A card as the JSON object documented in the README."""
    return card_dicts([card], engine=engine, now=now, tz=tz, reviews={card.id: reviews},
                      paths={card.source_id: source_path}
                      if card.source_id is not None and source_path is not None else {},
                      labels={card.id: label} if label is not None else None)[0]


def card_dicts(cards: Iterable[CardLike], *, engine: Engine, now: datetime, tz: tzinfo,
               reviews: dict[int, int], paths: dict[int, str],
               labels: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """Cards as the JSON objects documented in the README (`card_to_dict` for each).

    `reviews`: self-tests per card id (0 when absent); `paths`: log paths by source id;
    `labels`: what tells each card apart (srs.store.card_labels; the topic when absent).
    Cards share last reviews (a log's dates) and memory states, so each local time and
    retrievability is worked out once: `review cards --json` lists 100,000 cards.
    """
    day = engine.clock.day_of(now)
    local: dict[datetime, str] = {}
    chances: dict[tuple[Any, ...], float] = {}
    result = []
    for card in cards:
        last = card.last_review
        shown = None
        if last is not None:
            shown = local.get(last)
            if shown is None:
                shown = local[last] = last.astimezone(tz).isoformat()
        # What retrievability depends on: the memory state, and the last review's day.
        key = (card.state, card.stability, card.difficulty, last)
        chance = chances.get(key)
        if chance is None:
            chance = chances[key] = round(engine.retrievability(card_state(card), day), 4)
        path = paths.get(card.source_id) if card.source_id is not None else None
        result.append({
            "id": card.id,
            "topic": card.topic,
            "label": labels.get(card.id, card.topic) if labels else card.topic,
            "notes": card.notes,
            "section": card.section,
            "source": (f"{path}:{card.source_line}"
                       if path is not None and card.source_line is not None else None),
            "learned_on": card.learned_on.isoformat(),
            "state": STATE_NAMES.get(card.state, str(card.state)),
            "due": card.due.isoformat(),
            "stability": card.stability,
            "difficulty": card.difficulty,
            "retrievability": chance,
            "reviews": reviews.get(card.id, 0),
            "last_review": shown,
            "suspended": card.suspended,
            "in_log": card.in_log,
        })
    return result


def rating_name(rating: int | None) -> str | None:
    return RATING_NAMES.get(rating) if rating else None


LABEL_JOIN = " · "


def labels(cards: Iterable[tuple[int, str, str, date]]) -> dict[int, str]:
    """What tells each card apart from the others of its topic, by id.

    `cards`: (id, topic, notes, learned_on) of a set of cards and of every other card that
    shares a topic with one of them. A card alone with its topic is labelled by the topic;
    one that shares it, by the topic and the first line of its notes (`机器学习统计 · 感知机`),
    or its learned date when it has no notes or the same first line as another.
    """
    from srs.text import one_line

    by_topic: dict[str, list[tuple[int, str, date]]] = {}
    for card_id, topic, notes, learned in cards:
        first = next((one_line(line) for line in notes.splitlines() if line.strip()), "")
        by_topic.setdefault(topic, []).append((card_id, first, learned))
    found: dict[int, str] = {}
    for topic, group in by_topic.items():
        if len({card_id for card_id, _first, _learned in group}) == 1:
            found[group[0][0]] = topic
            continue
        firsts = [first for _id, first, _learned in group]
        days = [learned for _id, _first, learned in group]
        for card_id, first, learned in group:
            if first and firsts.count(first) == 1:
                suffix = first
            elif days.count(learned) == 1:
                suffix = learned.isoformat() if not first else f"{first} {learned.isoformat()}"
            else:
                suffix = f"{first} #{card_id}" if first else f"#{card_id}"
            found[card_id] = f"{topic}{LABEL_JOIN}{suffix}"
    return found
