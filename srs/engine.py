"""FSRS scheduling through py-fsrs: settings, one review, and the replay of a history."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State
from fsrs import scheduler as fsrs_scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

from srs.errors import ConfigError, SrsError
from srs.i18n import _

if TYPE_CHECKING:
    from srs.clock import DayClock

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
    """A card's FSRS memory state, the study day it is due, and when it was last reviewed."""

    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: date
    last_review: datetime | None


@dataclass(frozen=True)
class Event:
    """One entry of a history: a self-test with its rating, a manual new due day, or a
    self-test the log plans for a day (`plan`, its day in `due_set`)."""

    at: datetime
    rating: int | None = None
    due_set: date | None = None
    plan: bool = False


@dataclass(frozen=True)
class ReviewStep:
    """What one self-test of a history did, as stored beside it for statistics and fitting
    (derived data: recomputed whenever the history is replayed)."""

    study_day: date  # the study day it counts for
    prior_state: int  # 0 never reviewed, 1 learning, 2 review, 3 relearning
    elapsed_days: int | None  # study days since the previous self-test; None for the first
    retrievability: float | None  # the chance of passing it, as FSRS saw it; None for the first
    stability: float  # after it
    difficulty: float  # after it


def anchor(day: date) -> datetime:
    """A study day as py-fsrs sees it: noon UTC of that date.

    py-fsrs counts elapsed time in whole 24-hour periods between the moments it is given.
    Given one fixed instant per study day, that count is exactly the number of study days
    between two reviews, whatever the hours of the reviews and the length of the days in
    between; and an interval of N days lands on the anchor of the study day N days later.
    """
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


def validate_parameters(parameters: Sequence[float]) -> tuple[float, ...]:
    """Check 21 FSRS parameters against py-fsrs's bounds."""
    try:
        Scheduler(parameters=tuple(float(p) for p in parameters))
    except (ValueError, TypeError) as err:
        raise ConfigError(
            _("bad FSRS parameters: {reason}").format(reason=str(err).replace("\n", "; "))
        ) from None
    return tuple(float(p) for p in parameters)


_RATINGS = {int(r): r for r in Rating}


class StateError(SrsError):
    """A stored card state the scheduler cannot take (a hand edit, a damaged database)."""


def unusable(state: CardState) -> str | None:
    """Why a stored state cannot be scheduled from, None when it can."""
    if state.state not in (1, 2, 3):
        return _("state {value}").format(value=state.state)
    if state.stability is not None and not (math.isfinite(state.stability)
                                            and state.stability > 0):
        return _("stability {value}").format(value=state.stability)
    if state.difficulty is not None and not (math.isfinite(state.difficulty)
                                             and 1 <= state.difficulty <= 10):
        return _("difficulty {value}").format(value=state.difficulty)
    return None
_CACHE_LIMIT = 50_000  # moments and days remembered: a log has a few thousand dates


class Engine:
    """A py-fsrs scheduler that counts time in study days, with fuzz seeded per card and review.

    Every review reaches py-fsrs at the anchor of its study day (see `anchor`), so two
    self-tests on one study day are 0 days apart (FSRS's same-day review) and a self-test
    at 09:00 three days after a study at 20:00 is 3 days later, as in Anki. Due dates come
    back as study days; a learning step shorter than a day is rounded to whole days (under
    12 hours: the same study day).
    """

    def __init__(self, settings: SchedulerSettings, clock: DayClock) -> None:
        self.settings = settings
        self.clock = clock
        self.scheduler = Scheduler(
            parameters=settings.parameters,
            desired_retention=settings.desired_retention,
            learning_steps=settings.learning_steps,
            relearning_steps=settings.relearning_steps,
            maximum_interval=settings.maximum_interval,
            enable_fuzzing=settings.fuzz,
        )
        self._rng = random.Random()
        # A log's reviews share a few thousand dates: their study days and anchors are
        # worked out once (a replay of 100,000 cards would otherwise spend much of its
        # time converting the same moments).
        self._days: dict[datetime, date] = {}
        self._anchors: dict[date, datetime] = {}

    def day_of(self, moment: datetime) -> date:
        """The study day of a moment (the clock's, remembered)."""
        day = self._days.get(moment)
        if day is None:
            if len(self._days) > _CACHE_LIMIT:
                self._days.clear()
            day = self._days[moment] = self.clock.day_of(moment)
        return day

    def _anchor(self, day: date) -> datetime:
        moment = self._anchors.get(day)
        if moment is None:
            if len(self._anchors) > _CACHE_LIMIT:
                self._anchors.clear()
            moment = self._anchors[day] = anchor(day)
        return moment

    def new_state(self, day: date) -> CardState:
        """A card that has not been reviewed yet, due on study day `day`."""
        return CardState(state=1, step=0, stability=None, difficulty=None, due=day,
                         last_review=None)

    def last_day(self, state: CardState) -> date | None:
        """The study day of the card's last review."""
        return self.day_of(state.last_review) if state.last_review is not None else None

    def _fsrs_card(self, card_id: int, state: CardState) -> FsrsCard:
        reason = unusable(state)
        if reason is not None:
            raise StateError(_("card {id}'s stored state is unusable ({reason}); run 'review "
                               "check --repair' to re-derive it from its history").format(
                                   id=card_id, reason=reason))
        last = self.last_day(state)
        return FsrsCard(card_id=card_id, state=State(state.state), step=state.step,
                        stability=state.stability, difficulty=state.difficulty,
                        due=self._anchor(state.due),
                        last_review=self._anchor(last) if last is not None else None)

    def _step(self, card: FsrsCard, rating: int, day: date, number: int) -> FsrsCard:
        """py-fsrs's review of `card` on study day `day`, the `number`-th of the card."""
        if not self.settings.fuzz:
            return self.scheduler.review_card(card, _RATINGS[rating], self._anchor(day))[0]
        # py-fsrs draws its fuzz from the global `random`, through the name its scheduler
        # module imported; point that name at a generator seeded from the card and the
        # review number, so one history always gives one due day.
        self._rng.seed(card.card_id * 1_000_003 + number)
        fsrs_scheduler.random = self._rng.random  # type: ignore[attr-defined]
        try:
            return self.scheduler.review_card(card, _RATINGS[rating], self._anchor(day))[0]
        finally:
            fsrs_scheduler.random = random.random  # type: ignore[attr-defined]

    @staticmethod
    def _state(card: FsrsCard, last_review: datetime | None) -> CardState:
        return CardState(int(card.state), card.step, card.stability, card.difficulty,
                         card.due.date(), last_review)

    def review(
        self, card_id: int, state: CardState, rating: int, at: datetime, number: int
    ) -> CardState:
        """The state after the `number`-th review of card `card_id` with `rating` at `at`."""
        card = self._step(self._fsrs_card(card_id, state), rating, self.day_of(at), number)
        return self._state(card, at)

    def replay(self, card_id: int, events: Iterable[Event]) -> CardState:
        """The state a history leads to, events in time order (see `replay_history`)."""
        return self.replay_history(card_id, list(events))[0]

    def replay_history(self, card_id: int, events: Sequence[Event]
                       ) -> tuple[CardState, list[ReviewStep | None]]:
        """The state a history leads to, and what each of its self-tests did.

        The steps are in the order of `events` (None for an event that is not a self-test).
        A self-test the log plans makes the card due on the earliest planned day after its
        last review (the person's own plan stands until a self-test follows it), unless a
        due day was set by hand after that review.
        """
        plans = sorted(e.due_set for e in events if e.plan and e.due_set is not None)
        order = sorted((i for i, e in enumerate(events) if not e.plan),
                       key=lambda i: events[i].at)
        if not order:
            raise ValueError("an empty history has no state")
        steps: list[ReviewStep | None] = [None] * len(events)
        card = FsrsCard(card_id=card_id, due=self._anchor(self.day_of(events[order[0]].at)))
        last: datetime | None = None
        last_day: date | None = None
        set_by_hand = False
        number = 0
        for index in order:
            event = events[index]
            if event.rating is not None:
                number += 1
                day = self.day_of(event.at)
                prior, chance = int(card.state) if last is not None else 0, None
                if last_day is not None and card.stability is not None:
                    chance = float(self.scheduler.get_card_retrievability(
                        card, max(self._anchor(day), self._anchor(last_day))))
                card = self._step(card, event.rating, day, number)
                assert card.stability is not None and card.difficulty is not None
                steps[index] = ReviewStep(
                    day, prior, (day - last_day).days if last_day is not None else None,
                    chance, card.stability, card.difficulty)
                last, last_day, set_by_hand = event.at, day, False
            elif event.due_set is not None:
                card = copy(card)
                card.due = self._anchor(event.due_set)
                set_by_hand = True
        if plans and not set_by_hand:
            upcoming = [day for day in plans if last_day is None or day > last_day]
            if upcoming:
                card = copy(card)
                card.due = self._anchor(upcoming[0])
        return self._state(card, last), steps

    def retrievability(self, state: CardState, day: date) -> float:
        """The chance of passing a self-test on study day `day` (0 for a state that is
        unusable: such a card is shown first, as if never reviewed)."""
        if state.last_review is None or state.stability is None or unusable(state):
            return 0.0
        last = self._anchor(self.day_of(state.last_review))
        # py-fsrs reads only these two of a card here: a whole Card is a third of the cost
        # of `review cards` at 100,000 cards.
        memory = _Memory(state.stability, last)
        return float(self.scheduler.get_card_retrievability(
            memory, max(self._anchor(day), last)))  # type: ignore[arg-type]


class _Memory(NamedTuple):
    """What py-fsrs's retrievability reads of a card."""

    stability: float
    last_review: datetime


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
