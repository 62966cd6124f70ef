"""FSRS scheduling through py-fsrs: settings, one review, and the replay of a history."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State
from fsrs import scheduler as fsrs_scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

from srs.errors import ConfigError
from srs.i18n import _

RATING_NAMES = {1: "again", 2: "hard", 3: "good", 4: "easy"}
STATE_NAMES = {1: "learning", 2: "review", 3: "relearning"}


@dataclass(frozen=True)
class SchedulerSettings:
    """What the scheduler needs to know, from the config and the stored parameters."""

    desired_retention: float = 0.9
    maximum_interval: int = 36500
    learning_steps: tuple[timedelta, ...] = ()
    relearning_steps: tuple[timedelta, ...] = ()
    fuzz: bool = True
    parameters: tuple[float, ...] = field(default=tuple(DEFAULT_PARAMETERS))


@dataclass(frozen=True)
class CardState:
    """A card's FSRS memory state and when it is due."""

    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None

    def to_fsrs(self, card_id: int) -> FsrsCard:
        return FsrsCard(
            card_id=card_id,
            state=State(self.state),
            step=self.step,
            stability=self.stability,
            difficulty=self.difficulty,
            due=self.due,
            last_review=self.last_review,
        )

    @classmethod
    def from_fsrs(cls, card: FsrsCard) -> CardState:
        return cls(
            state=int(card.state),
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=card.due,
            last_review=card.last_review,
        )


@dataclass(frozen=True)
class Event:
    """One entry of a history: a self-test with its rating, or a manual new due date."""

    at: datetime
    rating: int | None = None
    due_set: datetime | None = None


def validate_parameters(parameters: Sequence[float]) -> tuple[float, ...]:
    """Check 21 FSRS parameters against py-fsrs's bounds."""
    try:
        Scheduler(parameters=tuple(float(p) for p in parameters))
    except (ValueError, TypeError) as err:
        raise ConfigError(
            _("bad FSRS parameters: {reason}").format(reason=str(err).replace("\n", "; "))
        ) from None
    return tuple(float(p) for p in parameters)


class Engine:
    """A py-fsrs scheduler built from the settings, with fuzz seeded per card and review."""

    def __init__(self, settings: SchedulerSettings) -> None:
        self.settings = settings
        self.scheduler = Scheduler(
            parameters=settings.parameters,
            desired_retention=settings.desired_retention,
            learning_steps=settings.learning_steps,
            relearning_steps=settings.relearning_steps,
            maximum_interval=settings.maximum_interval,
            enable_fuzzing=settings.fuzz,
        )
        self._rng = random.Random()

    def new_state(self, at: datetime) -> CardState:
        """A card that has not been reviewed yet."""
        return CardState(state=1, step=0, stability=None, difficulty=None, due=at, last_review=None)

    def review(
        self, card_id: int, state: CardState, rating: int, at: datetime, number: int
    ) -> CardState:
        """The state after the `number`-th review of card `card_id` with `rating` at `at`.

        py-fsrs draws its fuzz from the global `random`; a generator seeded from the card
        and the review number makes the same history give the same due date every time.
        """
        card = state.to_fsrs(card_id)
        if not self.settings.fuzz:
            return CardState.from_fsrs(self.scheduler.review_card(card, Rating(rating), at)[0])
        self._rng.seed(card_id * 1_000_003 + number)
        # py-fsrs calls `random()` imported into its scheduler module; point that name
        # at a generator seeded for this card and review, then put it back.
        fsrs_scheduler.random = self._rng.random  # type: ignore[attr-defined]
        try:
            card, _log = self.scheduler.review_card(card, Rating(rating), at)
        finally:
            fsrs_scheduler.random = random.random  # type: ignore[attr-defined]
        return CardState.from_fsrs(card)

    def replay(self, card_id: int, events: Iterable[Event]) -> CardState:
        """The state a history leads to, events in time order."""
        ordered = sorted(events, key=lambda e: e.at)
        state = self.new_state(ordered[0].at if ordered else datetime.min)
        number = 0
        for event in ordered:
            if event.rating is not None:
                number += 1
                state = self.review(card_id, state, event.rating, event.at, number)
            elif event.due_set is not None:
                state = CardState(
                    state.state, state.step, state.stability, state.difficulty,
                    event.due_set, state.last_review,
                )
        return state

    def retrievability(self, state: CardState, now: datetime) -> float:
        """The chance of passing a self-test at `now`."""
        if state.last_review is None or state.stability is None:
            return 0.0
        return float(self.scheduler.get_card_retrievability(state.to_fsrs(0), now))


def settings_from(config: Any, parameters: Sequence[float] | None) -> SchedulerSettings:
    """Scheduler settings from the config and the stored parameters (None: py-fsrs's)."""
    from srs.config import parse_step

    settings = SchedulerSettings(
        desired_retention=float(config["desired_retention"]),
        maximum_interval=int(config["maximum_interval"]),
        learning_steps=tuple(parse_step(s) for s in config["learning_steps"]),
        relearning_steps=tuple(parse_step(s) for s in config["relearning_steps"]),
        fuzz=bool(config["fuzz"]),
    )
    if parameters is None:
        return settings
    from dataclasses import replace

    return replace(settings, parameters=validate_parameters(parameters))
