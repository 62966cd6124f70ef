"""Fitting the 21 FSRS parameters to a person's own self-tests with fsrs-rs-python.

The history is every graded event that was not undone, grouped per card in time order,
with intervals in whole study days (the configured zone and `day_starts_at`), as FSRS
models them. Each self-test that comes at least a day after the card's previous event is
one training item: the card's history up to it, whose last rating is to be predicted.
Same-day events stay in the history but are not predicted, as fsrs-rs prescribes.

The minimum (`MIN_CARDS`, `MIN_SELF_TESTS`): fsrs-rs first estimates the initial
stabilities from each card's first self-test, and returns the default parameters
unchanged when fewer than 20 cards have one (measured with fsrs-rs-python 0.9.3: 19 cards
give the defaults back whatever their number of self-tests, 20 give a fit). On top of
that, 100 self-tests in all: about five for each of the 19 parameters beyond the initial
stabilities, below which a fit mostly follows noise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from srs.clock import DayClock
from srs.engine import Engine, SchedulerSettings, validate_parameters
from srs.errors import ConfigError, SrsError
from srs.i18n import _
from srs.models import Review, Setting
from srs.repository import PARAMETERS_KEY, store_setting

PREVIOUS_KEY = "fsrs.parameters.previous"
MIN_CARDS = 20
MIN_SELF_TESTS = 100


class OptimizeError(SrsError):
    """Parameters that cannot be fitted, applied or reverted."""


@dataclass(frozen=True)
class TrainingSet:
    """The self-tests FSRS is fitted to and scored on."""

    items: list[Any]  # fsrs_rs_python.FSRSItem, which ships no usable type for mypy
    cards: int
    reviews: int

    @property
    def self_tests(self) -> int:
        return len(self.items)

    @property
    def cards_needed(self) -> int:
        return max(0, MIN_CARDS - self.cards)

    @property
    def self_tests_needed(self) -> int:
        return max(0, MIN_SELF_TESTS - self.self_tests)

    @property
    def enough(self) -> bool:
        return self.cards_needed == 0 and self.self_tests_needed == 0


def training_set(session: Session, clock: DayClock) -> TrainingSet:
    """The graded events not undone, per card in time order, as fsrs-rs training items."""
    from fsrs_rs_python import FSRSItem, FSRSReview

    rows = session.execute(
        select(Review.card_id, Review.at, Review.rating)
        .where(Review.kind == "review", Review.undone_at.is_(None), Review.rating.is_not(None))
        .order_by(Review.card_id, Review.at, Review.id)
    ).all()
    items: list[Any] = []
    cards: set[int] = set()
    previous_card: int | None = None
    reviews: list[Any] = []
    last_day = None
    for card_id, at, rating in rows:
        assert rating is not None
        day = clock.day_of(at)
        if card_id != previous_card:
            previous_card, reviews, last_day = card_id, [], day
        assert last_day is not None
        delta = (day - last_day).days
        reviews.append(FSRSReview(int(rating), delta))
        last_day = day
        if delta > 0 and len(reviews) > 1:
            item = FSRSItem(list(reviews))
            if item.long_term_review_cnt() > 0:
                items.append(item)
                cards.add(card_id)
    return TrainingSet(items, len(cards), len(rows))


@dataclass(frozen=True)
class Score:
    """How well parameters predict the self-tests: lower is better for both."""

    log_loss: float
    rmse_bins: float

    def to_json(self) -> dict[str, float]:
        return {"log_loss": round(self.log_loss, 6), "rmse_bins": round(self.rmse_bins, 6)}


def score(parameters: tuple[float, ...], training: TrainingSet) -> Score | None:
    """fsrs-rs's evaluation of `parameters` on the training items; None without any."""
    if not training.items:
        return None
    from fsrs_rs_python import FSRS

    result = FSRS(list(parameters)).evaluate(training.items)
    return Score(float(result.log_loss), float(result.rmse_bins))


@dataclass(frozen=True)
class OptimizeResult:
    """The current and the fitted parameters, their scores, and what was done."""

    training: TrainingSet
    current: tuple[float, ...]
    current_is_default: bool
    current_score: Score | None
    new: tuple[float, ...] | None = None
    new_score: Score | None = None
    applied: bool = False
    rescheduled: int = 0
    reason: str = ""

    @property
    def better(self) -> bool:
        return (self.new_score is not None and self.current_score is not None
                and self.new_score.log_loss < self.current_score.log_loss)

    def to_json(self) -> dict[str, Any]:
        def params(values: tuple[float, ...] | None, result: Score | None,
                   **extra: Any) -> dict[str, Any] | None:
            if values is None:
                return None
            data: dict[str, Any] = {"parameters": list(values), **extra}
            data.update(result.to_json() if result else {"log_loss": None, "rmse_bins": None})
            return data

        training = self.training
        return {
            "history": {"reviews": training.reviews, "self_tests": training.self_tests,
                        "cards": training.cards},
            "minimum": {"self_tests": MIN_SELF_TESTS, "cards": MIN_CARDS},
            "enough": training.enough,
            "needed": {"self_tests": training.self_tests_needed, "cards": training.cards_needed},
            "current": params(self.current, self.current_score, default=self.current_is_default),
            "new": params(self.new, self.new_score),
            "better": self.better,
            "applied": self.applied,
            "rescheduled": self.rescheduled,
            "reason": self.reason or None,
        }


def replay_all(session: Session, engine: Engine, now: datetime) -> int:
    """Recompute every card's state from its history; how many changed."""
    from srs.schedule import replay_cards
    from srs.sql import SessionConn

    session.flush()
    return replay_cards(SessionConn(session), engine, now).changed


def optimize(session: Session, *, settings: SchedulerSettings, clock: DayClock, now: datetime,
             apply: bool = False) -> OptimizeResult:
    """Fit FSRS to the history, score both sets of parameters, and with `apply` keep a better fit.

    Applying stores the new parameters, keeps the ones they replace under `PREVIOUS_KEY`
    for `revert`, and replays every card's history with them.
    """
    training = training_set(session, clock)
    current = tuple(settings.parameters)
    is_default = session.get(Setting, PARAMETERS_KEY) is None
    result = OptimizeResult(training, current, is_default, score(current, training))
    if not training.enough:
        return replace(result, reason=_(
            "not enough history to fit: {tests} self-tests on {cards} cards; needs "
            "{more_tests} more self-tests and {more_cards} more cards with one "
            "(at least {min_tests} on {min_cards} cards)").format(
                tests=training.self_tests, cards=training.cards,
                more_tests=training.self_tests_needed, more_cards=training.cards_needed,
                min_tests=MIN_SELF_TESTS, min_cards=MIN_CARDS))
    from fsrs_rs_python import FSRS

    fitted = tuple(float(p) for p in FSRS(list(current)).compute_parameters(training.items))
    result = replace(result, new=fitted, new_score=score(fitted, training))
    if not result.better:
        assert result.new_score is not None and result.current_score is not None
        return replace(result, reason=_(
            "the fitted parameters predict no better (log loss {new:.4f} against {old:.4f}); "
            "the current ones stay").format(
                new=result.new_score.log_loss, old=result.current_score.log_loss))
    if not apply:
        return result
    try:
        validate_parameters(fitted)
    except ConfigError as err:
        return replace(result, reason=str(err))
    store_setting(session, PREVIOUS_KEY, None if is_default else list(current))
    store_setting(session, PARAMETERS_KEY, list(fitted))
    engine = Engine(replace(settings, parameters=fitted), clock)
    return replace(result, applied=True, rescheduled=replay_all(session, engine, now))


@dataclass(frozen=True)
class RevertResult:
    """The parameters in force again after `revert`."""

    parameters: tuple[float, ...]
    is_default: bool
    rescheduled: int

    def to_json(self) -> dict[str, Any]:
        return {"reverted": True, "parameters": list(self.parameters),
                "default": self.is_default, "rescheduled": self.rescheduled}


def revert(session: Session, *, settings: SchedulerSettings, clock: DayClock,
           now: datetime) -> RevertResult:
    """Go back to the parameters the last `optimize --apply` replaced, and replay every card."""
    from fsrs.scheduler import DEFAULT_PARAMETERS

    kept = session.get(Setting, PREVIOUS_KEY)
    if kept is None:
        raise OptimizeError(_("nothing to revert: 'review optimize --apply' has not changed "
                              "the parameters since the last revert"))
    previous = json.loads(kept.value)
    current = session.get(Setting, PARAMETERS_KEY)
    if previous is None:
        if current is not None:
            session.delete(current)
        parameters = tuple(float(p) for p in DEFAULT_PARAMETERS)
    else:
        parameters = validate_parameters(previous)
        store_setting(session, PARAMETERS_KEY, list(parameters))
    session.delete(kept)
    engine = Engine(replace(settings, parameters=parameters), clock)
    return RevertResult(parameters, previous is None, replay_all(session, engine, now))
