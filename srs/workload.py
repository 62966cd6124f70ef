"""What a self-test costs in minutes: the person's recorded durations, or stated defaults.

A topic's self-test takes minutes, not a flashcard's seconds. Durations are recorded by
`review grade --duration` and by `review session` (from showing the card to the answer).
Until there are `MIN_RECORDED` of them, a card's first self-test is taken to cost
`DEFAULT_FIRST_MINUTES` and a later one `DEFAULT_LATER_MINUTES`; from then on the medians
of the recorded ones: per rating (for the simulator, which draws the rating), and over all
(for a queue, which cannot know the rating in advance). A card with durations of its own
is expected to take their median. Every duration counts at most `MAX_DURATION_SECONDS`.

Only self-tests count: a card's first graded event is the study of the topic (a row of
the log, or `review add`), which the person does anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from srs.sql import SqlConn

DEFAULT_FIRST_MINUTES = 15.0
DEFAULT_LATER_MINUTES = 10.0
MIN_RECORDED = 20  # durations before the person's own medians replace the defaults
MIN_PER_RATING = 3  # durations of one rating before its own median is used
MAX_DURATION_SECONDS = 2 * 3600  # a self-test left open over lunch is not a 5-hour one
RATINGS = (1, 2, 3, 4)

# Graded self-tests that count, with a recorded duration: every graded event but a card's
# first (its study, prior_state 0). Also what `stats` sums by study day.
TIMED_SELF_TESTS = ("undone_at IS NULL AND kind = 'review' AND rating IS NOT NULL "
                    "AND duration IS NOT NULL AND duration > 0 AND prior_state IS NOT NULL "
                    "AND prior_state > 0")
_DURATIONS = f"SELECT card_id, rating, duration FROM review WHERE {TIMED_SELF_TESTS}"


@dataclass(frozen=True)
class Costs:
    """Minutes per self-test: the person's own medians, or the defaults."""

    recorded: int  # durations recorded, all cards
    first: float  # a card's first self-test, when it has no duration of its own
    later: float  # a later self-test, likewise
    by_rating: dict[int, float]  # a self-test answered with each rating (1-4)
    per_card: dict[int, float] = field(default_factory=dict)  # a card's own median

    @property
    def from_history(self) -> bool:
        """True when the medians come from the person's recorded durations."""
        return self.recorded >= MIN_RECORDED

    def expected(self, card_id: int, first: bool) -> float:
        """The minutes card `card_id`'s next self-test is expected to take (`first`: it
        has had none yet)."""
        own = self.per_card.get(card_id)
        if own is not None:
            return own
        return self.first if first else self.later

    def of_rating(self, rating: int, first: bool) -> float:
        """The minutes of a self-test answered with `rating` (the simulator's cost)."""
        if self.from_history:
            return self.by_rating[rating]
        return self.first if first else self.later

    def to_json(self) -> dict[str, Any]:
        return {
            "source": "recorded" if self.from_history else "default",
            "recorded": self.recorded,
            "needed": MIN_RECORDED,
            "first_minutes": round(self.first, 2),
            "later_minutes": round(self.later, 2),
            "minutes_by_rating": {name: round(self.by_rating[r], 2)
                                  for r, name in zip(RATINGS, ("again", "hard", "good", "easy"),
                                                     strict=True)},
        }


def minutes(seconds: float) -> float:
    """A recorded duration in minutes, capped."""
    return min(float(seconds), MAX_DURATION_SECONDS) / 60.0


def costs_from(durations: Iterable[tuple[int, int, float]]) -> Costs:
    """Costs from (card_id, rating, seconds) of recorded self-tests."""
    from statistics import median  # brings fractions and decimal: not on every command's path

    everything: list[float] = []
    rated: dict[int, list[float]] = {r: [] for r in RATINGS}
    cards: dict[int, list[float]] = {}
    for card_id, rating, seconds in durations:
        value = minutes(seconds)
        everything.append(value)
        if rating in rated:
            rated[rating].append(value)
        cards.setdefault(int(card_id), []).append(value)
    per_card = {card_id: float(median(values)) for card_id, values in cards.items()}
    if len(everything) < MIN_RECORDED:
        return Costs(len(everything), DEFAULT_FIRST_MINUTES, DEFAULT_LATER_MINUTES,
                     {r: DEFAULT_LATER_MINUTES for r in RATINGS}, per_card)
    overall = float(median(everything))
    by_rating = {r: float(median(values)) if len(values) >= MIN_PER_RATING else overall
                 for r, values in rated.items()}
    return Costs(len(everything), overall, overall, by_rating, per_card)


def load_costs(conn: SqlConn) -> Costs:
    """The costs the recorded durations give (one read of the reviews that have one)."""
    return costs_from((int(c), int(r), float(d)) for c, r, d in conn.stream(_DURATIONS))


def first_self_test(conn: SqlConn, card_ids: list[int]) -> set[int]:
    """Of `card_ids`, those whose next self-test is their first (one graded event so far)."""
    from srs.store import review_counts

    if not card_ids:
        return set()
    graded = review_counts(conn, card_ids)  # a review is a graded event (it has a rating)
    return {card_id for card_id in card_ids if graded.get(card_id, 0) <= 1}
