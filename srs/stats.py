"""How a person is doing: cards by state, self-tests per study day, true retention, forecast.

Words used here, as the README documents them:

- A card's *first study* is the first event of its history (the learned date of a log row,
  or `review add`); every later graded event is a *self-test*.
- *True retention* of a month is the share of passed self-tests (hard, good or easy) among
  the self-tests of cards that were in FSRS's review state just before them, the state read
  from a replay of the card's history with the current settings. Self-tests inside learning
  or relearning steps are left out, as Anki's True Retention table leaves them out.
- Every count is by *study day* (the configured zone and `day_starts_at`), as `review today`
  counts; a month is the month of the study day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from srs.clock import DayClock
from srs.engine import CardState, Engine
from srs.models import Card, Review
from srs.repository import active_cards, active_events, card_state

REVIEW_STATE = 2
PASS = 2  # hard or better
HEATMAP_DAYS = 365


@dataclass(frozen=True)
class GradedEvent:
    """One graded event of a card's history with the memory state the card had just before it."""

    review: Review
    before: CardState | None  # None: the card had never been studied (a first study)

    @property
    def is_self_test(self) -> bool:
        return self.before is not None


def graded_history(engine: Engine, card_id: int,
                   events: Sequence[Review]) -> list[GradedEvent]:
    """Replay a card's events (oldest first) and pair each graded one with the state before it.

    The same walk as `Engine.replay`, so the states are the ones the card went through.
    """
    ordered = sorted(events, key=lambda r: r.at)
    graded: list[GradedEvent] = []
    state: CardState | None = None
    number = 0
    for review in ordered:
        if review.kind == "review" and review.rating is not None:
            graded.append(GradedEvent(review, state))
            number += 1
            current = state or engine.new_state(engine.clock.day_of(review.at))
            state = engine.review(card_id, current, review.rating, review.at, number)
        elif review.kind == "reschedule" and review.due_set is not None and state is not None:
            state = CardState(state.state, state.step, state.stability, state.difficulty,
                              review.due_set, state.last_review)
    return graded


def all_graded(session: Session, engine: Engine) -> dict[int, list[GradedEvent]]:
    """Every card's graded history (cards merged away have none left)."""
    ids = list(session.scalars(select(Card.id).where(Card.merged_into.is_(None))
                               .order_by(Card.id)))
    events = active_events(session, ids)
    return {card_id: graded_history(engine, card_id, events[card_id]) for card_id in ids}


@dataclass(frozen=True)
class Forecast:
    """Self-tests falling due per study day from today, and the backlog before today."""

    today: date
    backlog: int
    days: list[tuple[date, int]]

    def to_json(self) -> dict[str, Any]:
        return {"backlog": self.backlog,
                "days": [{"date": day.isoformat(), "due": n} for day, n in self.days]}


def forecast(session: Session, *, clock: DayClock, now: datetime, days: int = 30) -> Forecast:
    """How many active cards (not suspended, not merged) fall due on each of the next `days` days.

    Day 1 is today's study day: it counts the cards due at any time of it, including
    those already due this morning; the backlog counts cards due on earlier study days.
    """
    today = clock.day_of(now)
    per_day: Counter[date] = Counter(session.scalars(active_cards().with_only_columns(Card.due)))
    backlog = sum(n for day, n in per_day.items() if day < today)
    span = [today + timedelta(days=i) for i in range(days)]
    return Forecast(today, backlog, [(day, per_day.get(day, 0)) for day in span])


@dataclass(frozen=True)
class DayActivity:
    """What happened on one study day."""

    day: date
    self_tests: int = 0
    studied: int = 0


@dataclass(frozen=True)
class MonthRetention:
    """True retention of one month."""

    month: str
    self_tests: int
    passed: int

    @property
    def retention(self) -> float:
        return self.passed / self.self_tests


@dataclass
class Stats:
    """Everything `review stats` shows."""

    today: date
    cards: dict[str, int]
    due: dict[str, int]
    days: list[DayActivity]
    retention: list[MonthRetention]
    memory: dict[str, Any]
    forecast: Forecast
    windows: dict[int, tuple[int, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def window(n: int) -> dict[str, Any]:
            tests, studied = self.windows[n]
            return {"self_tests": tests, "studied": studied, "per_day": round(tests / n, 2)}

        passed = sum(m.passed for m in self.retention)
        tested = sum(m.self_tests for m in self.retention)
        return {
            "today": self.today.isoformat(),
            "cards": self.cards,
            "due": self.due,
            "reviews": {
                "last_30_days": window(30),
                "last_365_days": window(365),
                "days": [{"date": d.day.isoformat(), "self_tests": d.self_tests,
                          "studied": d.studied} for d in self.days],
            },
            "true_retention": {
                "overall": round(passed / tested, 4) if tested else None,
                "self_tests": tested,
                "passed": passed,
                "months": [{"month": m.month, "self_tests": m.self_tests, "passed": m.passed,
                            "retention": round(m.retention, 4)} for m in self.retention],
            },
            "memory": self.memory,
            "forecast": self.forecast.to_json(),
        }


def _card_counts(cards: Iterable[Card]) -> dict[str, int]:
    counts = Counter[str]()
    for card in cards:
        counts["total"] += 1
        if not card.in_log and card.source_id is not None:
            counts["not_in_log"] += 1
        if card.suspended:
            counts["suspended"] += 1
        elif card.last_review is None:
            counts["new"] += 1
        else:
            counts[{1: "learning", 2: "review", 3: "relearning"}.get(card.state, "learning")] += 1
    names = ("total", "new", "learning", "review", "relearning", "suspended", "not_in_log")
    return {name: counts.get(name, 0) for name in names}


def collect_stats(session: Session, *, engine: Engine, clock: DayClock, now: datetime,
                  forecast_days: int = 30) -> Stats:
    """Cards by state, what is due, activity per study day, true retention and memory.

    Cards count when not merged into another. `new`, `learning`, `review` and
    `relearning` split the cards that are not suspended by their FSRS state; `suspended`
    and `not_in_log` (imported cards whose row left the log) may overlap them.
    """
    today = clock.day_of(now)
    cards = list(session.scalars(select(Card).where(Card.merged_into.is_(None))))
    active = [c for c in cards if not c.suspended]
    week = today + timedelta(days=6)
    due = {
        "overdue": sum(1 for c in active if c.due < today),
        "today": sum(1 for c in active if c.due <= today),
        "week": sum(1 for c in active if c.due <= week),
    }

    tests: Counter[date] = Counter()
    studied: Counter[date] = Counter()
    months: dict[str, list[int]] = {}
    for history in all_graded(session, engine).values():
        for event in history:
            day = clock.day_of(event.review.at)
            if not event.is_self_test:
                studied[day] += 1
                continue
            tests[day] += 1
            assert event.before is not None
            if event.before.state == REVIEW_STATE:
                month = months.setdefault(day.strftime("%Y-%m"), [0, 0])
                month[0] += 1
                month[1] += int((event.review.rating or 0) >= PASS)
    first = today - timedelta(days=HEATMAP_DAYS - 1)
    days = [DayActivity(day, tests.get(day, 0), studied.get(day, 0))
            for day in sorted(set(tests) | set(studied)) if first <= day <= today]

    def window(n: int) -> tuple[int, int]:
        since = today - timedelta(days=n - 1)
        inside = [d for d in days if since <= d.day]
        return sum(d.self_tests for d in inside), sum(d.studied for d in inside)

    remembered = [(c.stability, engine.retrievability(card_state(c), today))
                  for c in active if c.stability is not None and c.last_review is not None]
    memory: dict[str, Any] = {
        "cards": len(remembered),
        "average_stability": round(sum(s for s, _r in remembered) / len(remembered), 2)
        if remembered else None,
        "average_retrievability": round(sum(r for _s, r in remembered) / len(remembered), 4)
        if remembered else None,
    }
    return Stats(
        today=today,
        cards=_card_counts(cards),
        due=due,
        days=days,
        retention=[MonthRetention(m, n, p) for m, (n, p) in sorted(months.items())],
        memory=memory,
        forecast=forecast(session, clock=clock, now=now, days=forecast_days),
        windows={30: window(30), 365: window(365)},
    )


def heatmap_weeks(days: Sequence[DayActivity], today: date) -> tuple[date, list[list[int | None]]]:
    """Self-tests per study day over the last year as 7 rows (Monday first) of week columns.

    Returns the Monday of the first column and the grid; days after today are None.
    """
    first = today - timedelta(days=HEATMAP_DAYS - 1)
    start = first - timedelta(days=first.weekday())
    weeks = (today - start).days // 7 + 1
    counts = {d.day: d.self_tests for d in days}
    grid: list[list[int | None]] = [[None] * weeks for _ in range(7)]
    for offset in range((today - start).days + 1):
        day = start + timedelta(days=offset)
        grid[day.weekday()][offset // 7] = counts.get(day, 0) if day >= first else None
    return start, grid
