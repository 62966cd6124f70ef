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
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

from srs.clock import DayClock
from srs.db import Database, open_database
from srs.engine import Engine, SchedulerSettings
from srs.models import Card, Review, Setting
from srs.optimize import MIN_CARDS, MIN_SELF_TESTS, PREVIOUS_KEY, optimize, revert
from srs.repository import PARAMETERS_KEY

UTC = timezone.utc
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CLOCK = DayClock(UTC, 4)
SETTINGS = SchedulerSettings(fuzz=False)

# A person who forgets faster than FSRS's defaults assume, and recovers less after a lapse.
TRUE_PARAMETERS = list(DEFAULT_PARAMETERS)
TRUE_PARAMETERS[0:4] = [0.1, 0.5, 0.9, 3.0]
TRUE_PARAMETERS[8] = 1.0


def simulate(cards: int, seed: int) -> list[list[tuple[datetime, int]]]:
    """Histories scheduled by the defaults, remembered as TRUE_PARAMETERS say (seeded).

    Each card is studied once (good), then tested whenever the default scheduler says;
    recall is drawn from the true retrievability at that moment, and a recalled card is
    graded hard, good or easy at random.
    """
    rng = random.Random(seed)
    truth = Scheduler(parameters=TRUE_PARAMETERS, learning_steps=(), relearning_steps=(),
                      enable_fuzzing=False)
    schedule = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    start = datetime(2026, 1, 5, 12, tzinfo=UTC)
    histories = []
    for card_id in range(cards):
        at = start + timedelta(days=rng.randrange(150), minutes=rng.randrange(600))
        memory, _log = truth.review_card(FsrsCard(card_id=card_id), Rating.Good, at)
        planned, _log = schedule.review_card(FsrsCard(card_id=card_id), Rating.Good, at)
        history = [(at, 3)]
        while planned.due < NOW - timedelta(days=1):
            at = planned.due
            recalled = rng.random() < truth.get_card_retrievability(memory, at)
            rating = rng.choices((2, 3, 4), (15, 75, 10))[0] if recalled else 1
            memory, _log = truth.review_card(memory, Rating(rating), at)
            planned, _log = schedule.review_card(planned, Rating(rating), at)
            history.append((at, rating))
        histories.append(history)
    return histories


def load(db: Database, histories: list[list[tuple[datetime, int]]]) -> None:
    """Put the histories in the database as cards with their reviews, states replayed."""
    from srs.optimize import replay_all

    def work(session: Any) -> None:
        for n, history in enumerate(histories):
            first = history[0][0]
            card = Card(topic=f"topic {n}", learned_on=first.date(), state=1, step=0,
                        due=first.date(), suspended=False, in_log=False, created_at=first,
                        updated_at=first)
            session.add(card)
            session.flush()
            for at, rating in history:
                session.add(Review(card_id=card.id, at=at, kind="review", rating=rating,
                                   source="cli", recorded_at=at))
        replay_all(session, Engine(SETTINGS, CLOCK), NOW)

    db.write(work)


@pytest.fixture
def synthetic(srs_home: Path) -> Iterator[Database]:
    """40 cards of synthetic history in the database the commands use."""
    db = open_database(f"sqlite:///{srs_home / 'data' / 'srs.db'}")
    load(db, simulate(40, seed=1))
    yield db
    db.close()


def states(db: Database) -> dict[int, tuple[Any, ...]]:
    from sqlalchemy import select

    with db.reading() as session:
        return {c.id: (c.state, c.stability, c.difficulty, c.due, c.last_review)
                for c in session.scalars(select(Card))}


def setting(db: Database, key: str) -> Any:
    with db.reading() as session:
        row = session.get(Setting, key)
        return None if row is None else json.loads(row.value)


def test_fit_beats_the_defaults_in_well_under_a_second(synthetic: Database) -> None:
    started = time.perf_counter()
    with synthetic.reading() as session:
        result = optimize(session, settings=SETTINGS, clock=CLOCK, now=NOW)
    seconds = time.perf_counter() - started
    assert result.training.enough
    assert 300 <= result.training.self_tests <= 600
    assert result.training.cards == 40
    assert result.new is not None and len(result.new) == 21
    assert result.current_score is not None and result.new_score is not None
    assert result.new_score.log_loss < result.current_score.log_loss
    assert result.better and not result.applied
    assert seconds < 1.0, seconds
    # The initial stability after a first "good" moves towards the true one (0.9 days).
    assert abs(result.new[2] - 0.9) < abs(DEFAULT_PARAMETERS[2] - 0.9)
    assert setting(synthetic, PARAMETERS_KEY) is None


def test_apply_replays_every_card_and_revert_restores(synthetic: Database) -> None:
    before = states(synthetic)
    result = synthetic.write(lambda s: optimize(s, settings=SETTINGS, clock=CLOCK, now=NOW,
                                                apply=True))
    assert result.applied and result.rescheduled == 40
    assert result.new is not None
    assert setting(synthetic, PARAMETERS_KEY) == list(result.new)
    assert setting(synthetic, PREVIOUS_KEY) is None  # the defaults were in force
    engine = Engine(SchedulerSettings(fuzz=False, parameters=result.new), CLOCK)
    from sqlalchemy import select

    from srs.repository import active_events, card_state, to_events

    with synthetic.reading() as session:
        events = active_events(session, list(before))
        for card in session.scalars(select(Card)):
            assert card_state(card) == engine.replay(card.id, to_events(events[card.id]))
    assert states(synthetic) != before

    # Fitting again finds nothing better, and changes nothing.
    again = synthetic.write(lambda s: optimize(
        s, settings=SchedulerSettings(fuzz=False, parameters=result.new), clock=CLOCK,
        now=NOW, apply=True))
    assert not again.applied and not again.better
    assert "no better" in again.reason
    assert setting(synthetic, PARAMETERS_KEY) == list(result.new)

    reverted = synthetic.write(lambda s: revert(
        s, settings=SchedulerSettings(fuzz=False, parameters=result.new), clock=CLOCK,
            now=NOW))
    assert reverted.is_default and reverted.rescheduled == 40
    assert setting(synthetic, PARAMETERS_KEY) is None
    assert setting(synthetic, PREVIOUS_KEY) is None
    assert states(synthetic) == before


def test_cli_apply_then_revert(synthetic: Database, run: Callable[..., Result],
                               run_json: Callable[..., Any]) -> None:
    assert run("config", "set", "fuzz", "off").exit_code == 0
    with freeze_time(NOW):
        before = run_json("cards")
        applied = run_json("optimize", "--apply")
        assert applied["applied"] and applied["better"]
        assert applied["new"]["log_loss"] < applied["current"]["log_loss"]
        assert applied["current"]["default"] is True
        assert applied["seconds"] < 1.0
        assert run_json("cards") != before
        human = run("optimize")
        assert human.exit_code == 0
        assert "current (fitted): log loss" in human.stdout
        reverted = run_json("optimize", "--revert")
        assert reverted["reverted"] and reverted["default"]
        assert run_json("cards") == before
        result = run("optimize", "--revert")
    assert result.exit_code == 1
    assert result.stderr == ("Error: nothing to revert: 'review optimize --apply' has not "
                             "changed the parameters since the last revert\n")


def test_too_little_history_says_how_much_more_and_changes_nothing(
        run: Callable[..., Result], run_json: Callable[..., Any],
        write_log: Callable[..., Path], query: Callable[[str], Any]) -> None:
    log = write_log("| Topic | Status | Date | Self-test |\n|---|---|---|---|\n"
                    "| A | done | 2026-10-01 | 2026-10-03, ❌ 2026-10-10, 2026-10-20 |\n"
                    "| B | done | 2026-10-05 | 2026-11-02 hard |\n"
                    "| C | done | 2026-11-10 | |\n")
    with freeze_time(NOW):
        assert run("import", str(log)).exit_code == 0
        before = run_json("cards")
        data = run_json("optimize", "--apply")
        assert run_json("cards") == before
    assert data["history"] == {"reviews": 7, "self_tests": 4, "cards": 2}
    assert data["enough"] is False
    assert data["needed"] == {"self_tests": MIN_SELF_TESTS - 4, "cards": MIN_CARDS - 2}
    assert data["new"] is None and data["applied"] is False
    assert data["current"]["default"] is True and data["current"]["log_loss"] is not None
    assert data["reason"] == ("not enough history to fit: 4 self-tests on 2 cards; needs "
                              "96 more self-tests and 18 more cards with one (at least 100 on "
                              "20 cards)")
    assert query("SELECT COUNT(*) FROM setting WHERE key LIKE 'fsrs.%'") == [(0,)]


def test_same_day_reviews_stay_in_the_history_but_are_not_predicted(srs_home: Path) -> None:
    from srs.optimize import training_set

    db = open_database(f"sqlite:///{srs_home / 'data' / 'srs.db'}")
    day = datetime(2026, 11, 1, 12, tzinfo=UTC)
    load(db, [[(day, 3), (day + timedelta(hours=3), 1), (day + timedelta(days=2), 3),
               (day + timedelta(days=2, hours=20), 3)]])
    with db.reading() as session:
        training = training_set(session, CLOCK)
    db.close()
    # Day-level gaps 0, 0, 2, 1 (the last is 08:00 on 11-04, the next study day);
    # the again three hours after the first study is history, not a prediction.
    def review(rating: int, delta: int) -> str:
        return f"FSRSReview {{ rating: {rating}, delta_t: {delta} }}"

    assert [[repr(r) for r in item.reviews] for item in training.items] == [
        [review(3, 0), review(1, 0), review(3, 2)],
        [review(3, 0), review(1, 0), review(3, 2), review(3, 1)]]
    assert training.reviews == 4 and training.cards == 1


def test_apply_and_revert_together_is_misuse(run: Callable[..., Result]) -> None:
    result = run("optimize", "--apply", "--revert")
    assert result.exit_code == 2
    assert "--apply or --revert" in result.stderr
