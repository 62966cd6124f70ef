"""`review optimize`: fitting FSRS to a history generated from known parameters."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from freezegun import freeze_time
from fsrs.scheduler import DEFAULT_PARAMETERS
from fsrs_rs_python import FSRS

from srs.app import App
from srs.cardview import card_state
from srs.clock import DayClock
from srs.engine import Engine, SchedulerSettings
from srs.optimize import (
    MIN_CARDS,
    MIN_SELF_TESTS,
    PREVIOUS_KEY,
    TrainingSet,
    optimize,
    revert,
    training_set,
)
from srs.schedule import load_histories, mark_clock
from srs.sql import SqlConn
from srs.store import PARAMETERS_KEY, card_rows

UTC = timezone.utc
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CLOCK = DayClock(UTC, 4)
SETTINGS = SchedulerSettings(fuzz=False)

START = datetime(2026, 1, 5, 12, tzinfo=UTC)  # noon: every event on the study day it says
HORIZON = 300  # days of history, all before NOW
CARDS = 300
DEFAULTS = [float(p) for p in DEFAULT_PARAMETERS]
# A person whose first memory of a topic lasts three times as long as FSRS assumes, whose
# memory grows faster after each recall, and whose forgetting curve is steeper (decay 0.3,
# inside fsrs-rs's bounds of 0.1 to 0.8).
TRUE = list(DEFAULTS)
TRUE[0:4] = [3 * w for w in DEFAULTS[0:4]]
TRUE[8] = 2.5
TRUE[20] = 0.3
RATINGS = {1: "again", 2: "hard", 3: "good", 4: "easy"}

History = list[list[tuple[datetime, int]]]


def recall(parameters: list[float], days: float, stability: float) -> float:
    """FSRS's forgetting curve: the chance of recall `days` after a review."""
    decay = parameters[20]
    factor = 0.9 ** (-1 / decay) - 1
    return float((1 + factor * days / stability) ** -decay)


def generate(parameters: list[float], cards: int, seed: int) -> History:
    """Each card studied once (mostly good), then tested on the day `parameters` schedule it
    for (desired retention 0.9), remembered with their forgetting curve's chance."""
    rng = random.Random(seed)
    truth = FSRS(parameters)
    histories = []
    for _card in range(cards):
        day = rng.randrange(HORIZON - 30)
        rating = rng.choices((1, 2, 3, 4), (5, 10, 75, 10))[0]
        state = getattr(truth.next_states(None, 0.9, 0), RATINGS[rating])
        history = [(START + timedelta(days=day), rating)]
        while True:
            gap = max(1, round(state.interval))
            if day + gap >= HORIZON:
                break
            day += gap
            recalled = rng.random() < recall(parameters, gap, state.memory.stability)
            rating = rng.choices((2, 3, 4), (15, 75, 10))[0] if recalled else 1
            state = getattr(truth.next_states(state.memory, 0.9, gap), RATINGS[rating])
            history.append((START + timedelta(days=day), rating))
        histories.append(history)
    return histories


def load(app: App, histories: list[list[tuple[datetime, int]]]) -> None:
    """Put the histories in the database as cards with their reviews, states replayed."""
    from srs.optimize import replay_all

    def work(conn: SqlConn) -> None:
        for n, history in enumerate(histories):
            first = history[0][0]
            card_id = conn.insert(
                "INSERT INTO card (topic, notes, section, learned_on, state, step, due, "
                "suspended, in_log, created_at, updated_at) VALUES (:topic, '', '', :day, 1, "
                "0, :day, :no, :no, :first, :first)",
                topic=f"topic {n}", day=conn.day_value(first.date()), no=False,
                first=conn.stamp(first))
            conn.run_many(
                "INSERT INTO review (card_id, at, kind, rating, source, recorded_at) "
                "VALUES (:card, :at, 'review', :rating, 'cli', :at)",
                [{"card": card_id, "at": conn.stamp(at), "rating": rating}
                 for at, rating in history])
        replay_all(conn, Engine(SETTINGS, CLOCK), NOW)
        mark_clock(conn, CLOCK)

    app.write(work)


@pytest.fixture
def synthetic(db_url: str) -> Iterator[App]:
    """300 cards of history generated from TRUE in the database the commands use (SQLite
    and PostgreSQL)."""
    app = App()
    load(app, generate(TRUE, CARDS, seed=3))
    yield app
    app.close()


MISSING = "missing"


def states(app: App) -> dict[int, tuple[Any, ...]]:
    with app.reading() as conn:
        return {card_id: (state, stability, difficulty, conn.day(due), conn.moment(last))
                for card_id, state, stability, difficulty, due, last in conn.all(
                    "SELECT id, state, stability, difficulty, due, last_review FROM card")}


def setting(app: App, key: str) -> Any:
    """A stored setting's value, MISSING when there is no row (a stored null is None)."""
    with app.reading() as conn:
        value = conn.scalar("SELECT value FROM setting WHERE key = :key", key=key)
    return MISSING if value is None else json.loads(value)


def engine(parameters: tuple[float, ...] | None = None) -> Engine:
    settings = SETTINGS if parameters is None else SchedulerSettings(fuzz=False,
                                                                     parameters=parameters)
    return Engine(settings, CLOCK)


def test_fit_beats_the_defaults_in_well_under_a_second(synthetic: App) -> None:
    started = time.perf_counter()
    with synthetic.reading() as conn:
        result = optimize(conn, engine=engine(), now=NOW)
    seconds = time.perf_counter() - started
    assert result.training.enough
    assert result.training.self_tests == 901
    assert result.training.cards == CARDS
    assert result.new is not None and len(result.new) == 21
    assert result.new_scores is not None
    current, new = result.current_scores, result.new_scores
    assert current.out_of_sample is not None and new.out_of_sample is not None
    assert new.out_of_sample.log_loss < current.out_of_sample.log_loss
    assert current.in_sample is not None and new.in_sample is not None
    assert new.in_sample.log_loss < current.in_sample.log_loss
    assert result.better and not result.applied
    assert result.reason.startswith("better out of sample (log loss ")
    assert seconds < 1.0, seconds
    # The initial stability after a first "good" moves towards the true one.
    assert abs(result.new[2] - TRUE[2]) < abs(DEFAULTS[2] - TRUE[2])
    assert setting(synthetic, PARAMETERS_KEY) == MISSING


def test_apply_replays_every_card_and_revert_restores(synthetic: App) -> None:
    before = states(synthetic)
    result = synthetic.write(lambda conn: optimize(conn, engine=engine(), now=NOW, apply=True))
    assert result.applied and result.rescheduled == CARDS
    assert result.new is not None
    assert setting(synthetic, PARAMETERS_KEY) == list(result.new)
    assert setting(synthetic, PREVIOUS_KEY) is None  # the defaults were in force
    fitted = engine(result.new)
    with synthetic.reading() as conn:
        histories = load_histories(conn)
        cards = card_rows(conn, list(histories))
        stored = {card_id: list(history.stored)
                  for card_id, history in histories.items()}
    assert len(cards) == CARDS
    for card_id, history in histories.items():
        state, steps = fitted.replay_history(card_id, history.events)
        assert card_state(cards[card_id]) == state
        # What each self-test did is stored again, as the fitted parameters see it.
        assert [(s[2], s[4], s[5]) for s in stored[card_id]] == [
            (step.elapsed_days, step.stability, step.difficulty) for step in steps
            if step is not None]
    assert states(synthetic) != before

    # Fitting again finds the parameters in use, and changes nothing.
    again = synthetic.write(lambda conn: optimize(conn, engine=fitted, now=NOW, apply=True))
    assert again.new == result.new
    assert not again.applied and not again.better
    assert again.reason == "the fitted parameters are the ones in use; nothing changes"
    assert setting(synthetic, PREVIOUS_KEY) is None  # revert still goes back to the defaults
    assert setting(synthetic, PARAMETERS_KEY) == list(result.new)

    reverted = synthetic.write(lambda conn: revert(conn, engine=fitted, now=NOW))
    assert reverted.is_default and reverted.rescheduled == CARDS
    assert setting(synthetic, PARAMETERS_KEY) == MISSING
    assert setting(synthetic, PREVIOUS_KEY) == MISSING
    assert states(synthetic) == before


def test_cli_apply_then_revert(synthetic: App, run: Callable[..., Result],
                               run_json: Callable[..., Any]) -> None:
    assert run("config", "set", "fuzz", "off").exit_code == 0
    with freeze_time(NOW):
        before = run_json("cards")
        applied = run_json("optimize", "--apply")
        assert applied["applied"] and applied["better"]
        assert (applied["new"]["out_of_sample"]["log_loss"]
                < applied["current"]["out_of_sample"]["log_loss"])
        assert applied["current"]["default"] is True
        assert applied["seconds"] < 1.0
        assert run_json("cards") != before
        human = run("optimize")
        assert human.exit_code == 0
        assert "  current (fitted): log loss" in human.stdout
        reverted = run_json("optimize", "--revert")
        assert reverted["reverted"] and reverted["default"]
        assert run_json("cards") == before
        result = run("optimize", "--revert")
    assert result.exit_code == 1
    assert result.stderr == ("Error: nothing to revert: the parameters in use were not set by "
                             "'review optimize --apply'\n")


def test_too_little_history_says_how_much_more_and_changes_nothing(
        db_url: str, run: Callable[..., Result], run_json: Callable[..., Any],
        write_log: Callable[..., Path], query: Callable[[str], Any]) -> None:
    log = write_log("| Topic | Status | Date | Self-test |\n|---|---|---|---|\n"
                    "| A | done | 2026-10-01 | 2026-10-03, ❌ 2026-10-10, 2026-10-20 |\n"
                    "| B | done | 2026-10-05 | 2026-11-02 hard |\n"
                    "| C | done | 2026-11-10 | |\n")
    with freeze_time(NOW):
        assert run("import", str(log)).exit_code == 0
        before = run_json("cards")
        asked = run("optimize", "--apply", "--json")
        assert asked.exit_code == 1  # asked to apply, nothing applied
        data = json.loads(asked.stdout)
        human = run("optimize", "--apply")
        assert human.exit_code == 1 and "not applied: not enough history" in human.stdout
        assert run_json("cards") == before
    assert data["history"] == {"reviews": 7, "self_tests": 4, "cards": 2}
    assert data["enough"] is False
    assert data["needed"] == {"self_tests": MIN_SELF_TESTS - 4, "cards": MIN_CARDS - 2}
    assert data["new"] is None and data["applied"] is False
    assert data["current"]["default"] is True
    assert data["current"]["in_sample"]["log_loss"] is not None
    assert data["current"]["out_of_sample"] == {"log_loss": None, "rmse_bins": None}
    assert data["held_out"] == {"splits": 5, "self_tests": 0}
    assert data["reason"] == ("not enough history to fit: 4 self-tests on 2 cards; needs "
                              "96 more self-tests and 18 more cards with one (at least 100 on "
                              "20 cards)")
    assert query("SELECT COUNT(*) FROM setting WHERE key LIKE 'fsrs.%'") == [(0,)]


def _items(training: TrainingSet) -> list[list[str]]:
    return [[repr(r) for r in item.reviews] for item in training.items]


def test_same_day_reviews_stay_in_the_history_but_are_not_predicted() -> None:
    app = App()
    day = datetime(2026, 11, 1, 12, tzinfo=UTC)
    load(app, [[(day, 3), (day + timedelta(hours=3), 1), (day + timedelta(days=2), 3),
                (day + timedelta(days=2, hours=20), 3)]])
    with app.reading() as conn:
        training = training_set(conn)
    app.close()
    # Day-level gaps 0, 0, 2, 1 (the last is 08:00 on 11-04, the next study day);
    # the again three hours after the first study is history, not a prediction.
    def review(rating: int, delta: int) -> str:
        return f"FSRSReview {{ rating: {rating}, delta_t: {delta} }}"

    assert _items(training) == [
        [review(3, 0), review(1, 0), review(3, 2)],
        [review(3, 0), review(1, 0), review(3, 2), review(3, 1)]]
    assert training.reviews == 4 and training.cards == 1


def test_training_items_from_stored_steps_equal_the_history_in_study_days(
        db_url: str) -> None:
    """Events at every hour of the day, some of them undone: the items read from the
    stored steps are the ones the study days of the events that count give."""
    from fsrs_rs_python import FSRSItem, FSRSReview

    from srs.optimize import replay_all

    rng = random.Random(5)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    histories = []
    for _card in range(30):
        at = start + timedelta(days=rng.randrange(120), minutes=rng.randrange(1440))
        history = [(at, 3)]
        for _k in range(rng.randrange(2, 10)):
            at += timedelta(days=rng.choice([0, 0, 1, 2, 4, 9, 20]),
                            minutes=rng.randrange(-300, 300))
            history.append((at, rng.choice([1, 2, 3, 3, 4])))
        histories.append(history)
    app = App()
    try:
        load(app, histories)

        def undo_some(conn: SqlConn) -> None:
            conn.run("UPDATE review SET undone_at = :now WHERE id % 7 = 0",
                     now=conn.stamp(NOW))
            replay_all(conn, engine(), NOW)  # as 'review undo' does

        app.write(undo_some)
        with app.reading() as conn:
            training = training_set(conn)
            rows = [(card_id, conn.moment(at), rating) for card_id, at, rating in conn.all(
                "SELECT card_id, at, rating FROM review WHERE undone_at IS NULL "
                "AND kind = 'review' ORDER BY card_id, at, id")]
    finally:
        app.close()
    expected: list[tuple[datetime, int, Any]] = []  # in the order of the self-tests
    cards: set[int] = set()
    previous: tuple[int, Any] | None = None
    reviews: list[Any] = []
    for card_id, moment, rating in rows:
        assert moment is not None
        day = CLOCK.day_of(moment)
        if previous is None or previous[0] != card_id:
            reviews, previous = [], (card_id, day)
        delta = (day - previous[1]).days
        reviews.append(FSRSReview(rating, delta))
        previous = (card_id, day)
        if delta > 0 and len(reviews) > 1:
            expected.append((moment, card_id, FSRSItem(list(reviews))))
            cards.add(card_id)
    expected.sort(key=lambda entry: (entry[0], entry[1]))
    assert _items(training) == [[repr(r) for r in item.reviews] for *_key, item in expected]
    assert training.reviews == len(rows) and training.cards == len(cards)
    assert len(expected) > 80 and any(
        repr(r).endswith("delta_t: 0 }") for *_key, item in expected for r in item.reviews[1:])
    # Not in card order: the cards' histories overlap in time.
    assert [card for _at, card, _item in expected] != sorted(card for _at, card, _i in expected)


def test_apply_and_revert_together_is_misuse(run: Callable[..., Result]) -> None:
    result = run("optimize", "--apply", "--revert")
    assert result.exit_code == 2
    assert "--apply or --revert" in result.stderr
