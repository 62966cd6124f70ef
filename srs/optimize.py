"""Fitting the 21 FSRS parameters to a person's own self-tests with fsrs-rs-python.

The history is every graded event that was not undone, grouped per card in time order,
with intervals in whole study days (the configured zone and `day_starts_at`), as FSRS
models them: read straight from the steps each replay stores beside its reviews
(`review.elapsed_days`), so nothing is replayed to fit. Each self-test that comes at least
a day after the card's previous event is one training item: the card's history up to it,
whose last rating is to be predicted.
Same-day events stay in the history but are not predicted, as fsrs-rs prescribes. The
items are put in the time order of the self-tests they predict (ties by card id).

Deciding out of sample. A fit scored on the self-tests it was fitted to always looks at
least as good as it is: it has followed their noise. So the fitting *procedure* is scored
on self-tests it has not seen, with fsrs-rs's `evaluate_with_time_series_splits`: the
time-ordered items are cut into `SPLITS + 1` segments, and for each of the last `SPLITS`
the parameters are fitted to every item before it and predict it (the last one runs to the
end); all those predictions are scored together. The current parameters are scored on
exactly the same predicted items (`TrainingSet.held_out`). They were not fitted to them,
unless an earlier `--apply` fitted them to much of this history: then they have seen the
items they are scored on, which flatters them and leans towards keeping them (the safe
side); when the fit comes out the very parameters in use, nothing is applied again (so
`--revert` still goes back to what they replaced). The fitted parameters are applied only
when their out-of-sample log loss is lower (log loss alone decides, as in Anki's FSRS
helper: it is the proper score fsrs-rs minimises; RMSE(bins) is shown beside it but
depends on how a few hundred predictions fall into bins). What is applied is the fit to
all the items. The in-sample figures (each parameter set scored on every item) are
reported too, as such.

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
from typing import TYPE_CHECKING, Any

from srs.engine import Engine, validate_parameters
from srs.errors import ConfigError, SrsError
from srs.i18n import _, ngettext
from srs.store import PARAMETERS_KEY, delete_setting, store_setting

if TYPE_CHECKING:
    from srs.sql import SqlConn

PREVIOUS_KEY = "fsrs.parameters.previous"
MIN_CARDS = 20
MIN_SELF_TESTS = 100
SPLITS = 5  # fsrs-rs's time-series splits: SPLITS + 1 segments, the first never predicted
# Each graded event not undone with what its replay stored: the elapsed study days since
# the card's previous one (NULL for its first study), in the order the replay took them.
_HISTORY = """
SELECT card_id, at, elapsed_days, rating FROM review
WHERE undone_at IS NULL AND kind = 'review' AND rating IS NOT NULL
  AND prior_state IS NOT NULL
ORDER BY card_id, at, id"""


class OptimizeError(SrsError):
    """Parameters that cannot be fitted, applied or reverted."""


@dataclass(frozen=True)
class TrainingSet:
    """The self-tests FSRS is fitted to and scored on, in the time order of the self-test
    each item predicts."""

    items: list[Any]  # fsrs_rs_python.FSRSItem, which ships no usable type for mypy
    cards: int
    reviews: int

    @property
    def self_tests(self) -> int:
        return len(self.items)

    @property
    def held_out(self) -> list[Any]:
        """The items the time-series splits predict: all but the first segment."""
        return self.items[len(self.items) // (SPLITS + 1):]

    @property
    def cards_needed(self) -> int:
        return max(0, MIN_CARDS - self.cards)

    @property
    def self_tests_needed(self) -> int:
        return max(0, MIN_SELF_TESTS - self.self_tests)

    @property
    def enough(self) -> bool:
        return self.cards_needed == 0 and self.self_tests_needed == 0


def training_set(conn: SqlConn) -> TrainingSet:
    """The graded events not undone, per card in time order, as fsrs-rs training items in
    the time order of the self-tests they predict (ties by card id).

    Read in one pass from the steps the last replay stored (srs.engine.ReviewStep), whose
    elapsed days are whole study days of the clock the schedule follows.
    """
    from fsrs_rs_python import FSRSItem, FSRSReview

    # (moment, card id, item): a moment as stored, which sorts as time does within one
    # database (fixed-width UTC text on SQLite, aware datetimes on PostgreSQL).
    found: list[tuple[Any, int, Any]] = []
    cards: set[int] = set()
    previous_card: int | None = None
    reviews: list[Any] = []
    count = 0
    for card_id, at, elapsed, rating in conn.stream(_HISTORY):
        count += 1
        if card_id != previous_card:
            previous_card, reviews = card_id, []
        delta = int(elapsed or 0)
        reviews.append(FSRSReview(int(rating), delta))
        if delta > 0 and len(reviews) > 1:
            item = FSRSItem(list(reviews))
            if item.long_term_review_cnt() > 0:
                found.append((at, int(card_id), item))
                cards.add(card_id)
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return TrainingSet([item for _at, _card, item in found], len(cards), count)


@dataclass(frozen=True)
class Score:
    """How well parameters predict the self-tests: lower is better for both."""

    log_loss: float
    rmse_bins: float

    def to_json(self) -> dict[str, float]:
        return {"log_loss": round(self.log_loss, 6), "rmse_bins": round(self.rmse_bins, 6)}


def score(parameters: tuple[float, ...], items: list[Any]) -> Score | None:
    """fsrs-rs's evaluation of `parameters` on `items`; None without any."""
    if not items:
        return None
    from fsrs_rs_python import FSRS

    result = FSRS(list(parameters)).evaluate(items)
    return Score(float(result.log_loss), float(result.rmse_bins))


def score_fitting(training: TrainingSet) -> Score | None:
    """The fitting procedure scored out of sample: each of the held-out items predicted by
    parameters fitted to the items before its segment (fsrs-rs's time-series splits).

    None when fsrs-rs cannot fit one of the splits (it says NotEnoughData when the items
    before a segment hold no self-test after a first one: a history whose early part is
    all first self-tests).
    """
    from fsrs_rs_python import evaluate_with_time_series_splits

    try:
        result = evaluate_with_time_series_splits(training.items)
    except ValueError:
        return None
    return Score(float(result.log_loss), float(result.rmse_bins))


@dataclass(frozen=True)
class Scores:
    """One parameter set's scores: on the held-out self-tests, and on all of them."""

    out_of_sample: Score | None
    in_sample: Score | None

    def to_json(self) -> dict[str, Any]:
        def one(result: Score | None) -> dict[str, Any]:
            return result.to_json() if result else {"log_loss": None, "rmse_bins": None}

        return {"out_of_sample": one(self.out_of_sample), "in_sample": one(self.in_sample)}


@dataclass(frozen=True)
class OptimizeResult:
    """The current and the fitted parameters, their scores, and what was done."""

    training: TrainingSet
    current: tuple[float, ...]
    current_is_default: bool
    current_scores: Scores
    new: tuple[float, ...] | None = None
    new_scores: Scores | None = None
    applied: bool = False
    rescheduled: int = 0
    reason: str = ""

    @property
    def better(self) -> bool:
        """Whether the fitting predicts the held-out self-tests with a lower log loss, and
        gives parameters other than those in use."""
        new = self.new_scores.out_of_sample if self.new_scores else None
        old = self.current_scores.out_of_sample
        return (new is not None and old is not None and self.new != self.current
                and new.log_loss < old.log_loss)

    def to_json(self) -> dict[str, Any]:
        training = self.training
        return {
            "history": {"reviews": training.reviews, "self_tests": training.self_tests,
                        "cards": training.cards},
            "minimum": {"self_tests": MIN_SELF_TESTS, "cards": MIN_CARDS},
            "enough": training.enough,
            "needed": {"self_tests": training.self_tests_needed, "cards": training.cards_needed},
            "held_out": {"splits": SPLITS, "self_tests": len(training.held_out)
                         if self.new is not None else 0},
            "current": {"parameters": list(self.current), "default": self.current_is_default,
                        **self.current_scores.to_json()},
            "new": None if self.new is None or self.new_scores is None else {
                "parameters": list(self.new), **self.new_scores.to_json()},
            "decided_by": "out_of_sample.log_loss",
            "better": self.better,
            "applied": self.applied,
            "rescheduled": self.rescheduled,
            "reason": self.reason or None,
        }


def replay_all(conn: SqlConn, engine: Engine, now: datetime) -> int:
    """Recompute every card's state and steps from its history; how many cards changed."""
    from srs.schedule import replay_cards

    return replay_cards(conn, engine, now).changed


def _stored(conn: SqlConn, key: str) -> str | None:
    """A setting's stored text; None when it is not there (a stored JSON null is 'null')."""
    value = conn.scalar("SELECT value FROM setting WHERE key = :key", key=key)
    return None if value is None else str(value)


def optimize(conn: SqlConn, *, engine: Engine, now: datetime,
             apply: bool = False) -> OptimizeResult:
    """Fit FSRS to the history, score both sets of parameters out of sample (and in sample),
    and with `apply` keep a fit that predicts the held-out self-tests better.

    `engine` holds the settings in force. Applying stores the parameters fitted to every
    self-test, keeps the ones they replace under `PREVIOUS_KEY` for `revert`, and replays
    every card's history with them (in the caller's write transaction).
    """
    training = training_set(conn)
    settings = engine.settings
    current = tuple(settings.parameters)
    is_default = _stored(conn, PARAMETERS_KEY) is None
    result = OptimizeResult(training, current, is_default,
                            Scores(None, score(current, training.items)))
    if not training.enough:
        tests, cards = training.self_tests, training.cards
        more_tests, more_cards = training.self_tests_needed, training.cards_needed
        return replace(result, reason=_(
            "not enough history to fit: {history}; needs {more} (at least {least})").format(
                history=_("{tests} on {cards}").format(
                    tests=ngettext("{n} self-test", "{n} self-tests", tests).format(n=tests),
                    cards=ngettext("{n} card", "{n} cards", cards).format(n=cards)),
                more=_("{tests} and {cards} with one").format(
                    tests=ngettext("{n} more self-test", "{n} more self-tests",
                                   more_tests).format(n=more_tests),
                    cards=ngettext("{n} more card", "{n} more cards",
                                   more_cards).format(n=more_cards)),
                least=_("{tests} on {cards} cards").format(tests=MIN_SELF_TESTS,
                                                            cards=MIN_CARDS)))
    from fsrs_rs_python import FSRS

    fitted = tuple(float(p) for p in FSRS(list(current)).compute_parameters(training.items))
    current_out = score(current, training.held_out)
    new_out = score_fitting(training)
    assert current_out is not None  # MIN_SELF_TESTS leaves every segment some items
    result = replace(result, new=fitted,
                     current_scores=replace(result.current_scores, out_of_sample=current_out),
                     new_scores=Scores(new_out, score(fitted, training.items)))
    if new_out is None:
        return replace(result, reason=_(
            "the fit cannot be scored out of sample (fsrs-rs cannot fit the earliest part of "
            "the history); the current parameters stay"))
    figures = {"new": new_out.log_loss, "old": current_out.log_loss}
    if fitted == current:  # fitted to this very history before: applying again would lose
        return replace(result, reason=_(  # what --revert goes back to
            "the fitted parameters are the ones in use; nothing changes"))
    if not result.better:
        return replace(result, reason=_(
            "no better out of sample (log loss {new:.4f} against {old:.4f}); the current "
            "parameters stay").format(**figures))
    result = replace(result, reason=_(
        "better out of sample (log loss {new:.4f} against {old:.4f})").format(**figures))
    if not apply:
        return result
    try:
        validate_parameters(fitted)
    except ConfigError as err:
        return replace(result, reason=str(err))
    store_setting(conn, PREVIOUS_KEY, None if is_default else list(current))
    store_setting(conn, PARAMETERS_KEY, list(fitted))
    fitted_engine = Engine(replace(settings, parameters=fitted), engine.clock)
    return replace(result, applied=True, rescheduled=replay_all(conn, fitted_engine, now))


@dataclass(frozen=True)
class RevertResult:
    """The parameters in force again after `revert`."""

    parameters: tuple[float, ...]
    is_default: bool
    rescheduled: int

    def to_json(self) -> dict[str, Any]:
        return {"reverted": True, "parameters": list(self.parameters),
                "default": self.is_default, "rescheduled": self.rescheduled}


def revert(conn: SqlConn, *, engine: Engine, now: datetime) -> RevertResult:
    """Go back to the parameters the last `optimize --apply` replaced, and replay every card.

    `engine` holds the settings in force; runs in the caller's write transaction.
    """
    from fsrs.scheduler import DEFAULT_PARAMETERS

    kept = _stored(conn, PREVIOUS_KEY)
    if kept is None:
        raise OptimizeError(_("nothing to revert: the parameters in use were not set by "
                              "'review optimize --apply'") if _stored(conn, PARAMETERS_KEY) is None
                            else _("nothing to revert: the last 'review optimize --apply' was "
                                   "already taken back"))
    previous = json.loads(kept)
    if previous is None:
        delete_setting(conn, PARAMETERS_KEY)
        parameters = tuple(float(p) for p in DEFAULT_PARAMETERS)
    else:
        parameters = validate_parameters(previous)
        store_setting(conn, PARAMETERS_KEY, list(parameters))
    delete_setting(conn, PREVIOUS_KEY)
    reverted = Engine(replace(engine.settings, parameters=parameters), engine.clock)
    return RevertResult(parameters, previous is None, replay_all(conn, reverted, now))
