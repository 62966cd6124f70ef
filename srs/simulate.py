"""The workload ahead, in minutes: a simulation of the next days from the person's own cards.

For each desired retention asked about, the simulation starts from the cards as they are
today (their FSRS stability and difficulty, their last self-test, their due day), adds new
topics at the person's pace (the log's planned rows first), and lives through the next days
one study day at a time, as `review today` would fill them:

- the cards due that day, in the queue's order (lowest retrievability first), up to
  `max_reviews_per_day` and, when set, `max_minutes_per_day` of expected minutes (a card
  that does not fit ends the day; the first card of a day is always taken); the rest wait;
- each self-test passes with the card's retrievability on that day (FSRS-6's forgetting
  curve), and a pass is graded hard, good or easy as often as the person grades them (their
  self-tests, blended with FSRS's defaults while there are few: as fsrs-rs does);
- the card's next memory state and interval come from fsrs-rs (`FSRS.next_states`, the Rust
  FSRS inside Anki) at that retention, rounded to whole days within `maximum_interval`;
- what each self-test costs comes from srs.workload (the person's recorded durations, or
  the stated defaults). Studying a new topic costs nothing here: the person does that anyway;
  its self-tests are what the simulation counts.

fsrs-rs-python's own `simulate` cannot start from existing cards (its Python binding takes
no cards; only `optimal_retention` does), and a study log's workload is mostly the cards
it already has, so the loop is here; every memory transition in it is fsrs-rs's.

Random draws come from one generator per card, seeded from the seed and the card: the same
data, options and seed give the same figures, and every retention meets the same luck.
"""

from __future__ import annotations

import math
import random
from bisect import insort
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from heapq import heappush, heapreplace
from typing import TYPE_CHECKING, Any

from srs.errors import SrsError
from srs.i18n import _

if TYPE_CHECKING:
    from collections.abc import Sequence

    from srs.clock import DayClock
    from srs.engine import Engine
    from srs.sql import SqlConn
    from srs.workload import Costs

DEFAULT_RETENTIONS = (0.75, 0.80, 0.85, 0.90, 0.95)
RETENTION_RANGE = (0.70, 0.99)
MAX_DAYS = 3650
DEFAULT_SEED = 42
PACE_WEEKS = 8  # the person's pace: studied rows per week over the log's last 8 weeks
# fsrs-rs's defaults for how a passed self-test is graded (hard, good, easy), and how many
# of the person's own grades outweigh them (as fsrs-rs's extract_simulator_config blends).
DEFAULT_PASS_GRADES = (0.224, 0.631, 0.145)
BLEND = 50.0
GOOD = 3


class SimulationError(SrsError):
    """Options a simulation cannot run with."""


@dataclass(frozen=True)
class SimCard:
    """A card as the simulation starts from it; days count from today (0)."""

    key: int  # the card's id (new topics get negative keys)
    stability: float
    difficulty: float
    last: int  # day of its last review (0 or before)
    due: int  # day it is due (0 for due or overdue)
    first: bool  # its next self-test is its first
    expected: float  # minutes its next self-test is expected to take


@dataclass(frozen=True)
class Plan:
    """Everything a simulation runs from."""

    cards: list[SimCard]
    planned: list[int | None]  # the log's planned rows, in order: the day each may start
    new_per_week: float
    pace_from_log: bool  # the pace is the person's own (else --new-per-week)
    days: int
    parameters: tuple[float, ...]
    maximum_interval: int
    max_reviews: int | None
    max_minutes: float | None
    costs: Costs
    pass_grades: tuple[float, float, float]
    today: date  # the study day the simulation starts on (day 0)
    seed: int = DEFAULT_SEED
    skipped: int = 0  # cards left out: a stored state that cannot be scheduled from
    runs: int | None = None  # runs averaged per retention (None: as `runs_for` says)


@dataclass(frozen=True)
class Outcome:
    """What one desired retention gives over the simulated days: the mean of `runs` runs
    (each its own luck), so that a small deck's figures do not hang on one lapse."""

    retention: float
    self_tests: list[float]  # per day
    minutes: list[float]  # per day
    peak_self_tests: float  # the busiest day of a run
    peak_minutes: float
    remembered: float  # topics remembered at the end: the sum of their retrievability
    remembered_now: float  # the same today, before anything is simulated
    new_studied: int
    backlog: float  # due but not done when the days end
    runs: int = 1

    @property
    def total_self_tests(self) -> float:
        return sum(self.self_tests)

    @property
    def total_minutes(self) -> float:
        return sum(self.minutes)

    @property
    def average_self_tests(self) -> float:
        return self.total_self_tests / len(self.self_tests)

    @property
    def average_minutes(self) -> float:
        return self.total_minutes / len(self.minutes)

    @property
    def minutes_per_topic(self) -> float | None:
        """Minutes of self-tests per topic remembered at the end."""
        return self.total_minutes / self.remembered if self.remembered > 0 else None

    def to_json(self, today: date, configured: bool) -> dict[str, Any]:
        per_topic = self.minutes_per_topic
        return {
            "retention": self.retention,
            "configured": configured,
            "runs": self.runs,
            "self_tests": {"average": round(self.average_self_tests, 2),
                           "peak": round(self.peak_self_tests, 1),
                           "total": round(self.total_self_tests, 1)},
            "minutes": {"average": round(self.average_minutes, 1),
                        "peak": round(self.peak_minutes, 1),
                        "total": round(self.total_minutes, 1)},
            "remembered_at_end": round(self.remembered, 1),
            "remembered_now": round(self.remembered_now, 1),
            "minutes_per_remembered_topic": None if per_topic is None else round(per_topic, 1),
            "new_topics": self.new_studied,
            "backlog_at_end": round(self.backlog, 1),
            "per_day": [{"day": (today + timedelta(days=i)).isoformat(),
                         "self_tests": round(n, 2), "minutes": round(m, 1)}
                        for i, (n, m) in enumerate(zip(self.self_tests, self.minutes,
                                                       strict=True))],
        }


# -- options -----------------------------------------------------------------------------

def check_retentions(values: Sequence[float]) -> tuple[float, ...]:
    """The retentions asked about, each within 0.70-0.99, sorted, without repeats."""
    low, high = RETENTION_RANGE
    for value in values:
        if not (math.isfinite(value) and low <= value <= high):
            raise SimulationError(_("retention {value} is outside {low}-{high}").format(
                value=value, low=f"{low:.2f}", high=f"{high:.2f}"))
    if not values:
        raise SimulationError(_("no retention to simulate"))
    return tuple(sorted({round(v, 4) for v in values}))


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise SimulationError(_("days {value} is outside 1-{high}").format(
            value=days, high=MAX_DAYS))
    return days


def check_pace(pace: float) -> float:
    if not (math.isfinite(pace) and 0 <= pace <= 1000):
        raise SimulationError(_("new topics per week {value} is outside 0-1000").format(
            value=pace))
    return pace


# -- the person's own figures ------------------------------------------------------------

def own_pace(learned: Sequence[date], today: date) -> float:
    """Topics studied per week over the last `PACE_WEEKS` weeks of the log (up to today);
    a log kept for less time counts the weeks it covers (at least one)."""
    days = sorted(day for day in learned if day <= today)
    if not days:
        return 0.0
    last, first = days[-1], days[0]
    start = last - timedelta(days=7 * PACE_WEEKS - 1)
    recent = sum(1 for day in days if day >= start)
    weeks = min(float(PACE_WEEKS), max(1.0, ((last - max(first, start)).days + 1) / 7))
    return recent / weeks


def pass_grades(counts: dict[int, int]) -> tuple[float, float, float]:
    """How often a passed self-test is graded hard, good, easy: the person's own shares,
    blended with fsrs-rs's defaults by weight n / (50 + n)."""
    total = sum(counts.get(r, 0) for r in (2, 3, 4))
    if total == 0:
        return DEFAULT_PASS_GRADES
    weight = total / (BLEND + total)
    shares = [weight * counts.get(r, 0) / total + (1 - weight) * default
              for r, default in zip((2, 3, 4), DEFAULT_PASS_GRADES, strict=True)]
    return (shares[0], shares[1], shares[2])


_GRADES = """
SELECT rating, count(*) FROM review
WHERE undone_at IS NULL AND kind = 'review' AND rating IS NOT NULL
  AND prior_state IS NOT NULL AND prior_state > 0
GROUP BY rating"""
_CARDS = """
SELECT id, stability, difficulty, state, due, last_review, learned_on FROM card
WHERE suspended = :no AND merged_into IS NULL ORDER BY id"""


def gather(conn: SqlConn, *, engine: Engine, clock: DayClock, today: date,
           costs: Costs, planned: list[date | None], days: int,
           new_per_week: float | None, max_reviews: int | None,
           max_minutes: float | None, seed: int = DEFAULT_SEED) -> Plan:
    """The plan of a simulation from the database: the active cards, the person's pace and
    grades, and `planned` (the log's planned rows, each with the day it is dated or None)."""
    from srs.engine import CardState, unusable
    from srs.workload import first_self_test

    rows = conn.all(_CARDS, no=False)
    firsts = first_self_test(conn, [int(row[0]) for row in rows])
    cards: list[SimCard] = []
    learned: list[date] = []
    skipped = 0
    late: list[int | None] = []
    for card_id, stability, difficulty, state, due, last_review, learned_on in rows:
        learned.append(conn.day(learned_on))
        due_day = max(0, (conn.day(due) - today).days)
        if stability is None or last_review is None:
            late.append(due_day)  # never studied: a new topic on its day
            continue
        moment = conn.moment(last_review)
        assert moment is not None
        if unusable(CardState(int(state), None, float(stability),
                              None if difficulty is None else float(difficulty),
                              conn.day(due), moment)) or difficulty is None:
            skipped += 1
            continue
        last = min(0, (clock.day_of(moment) - today).days)
        first = int(card_id) in firsts
        cards.append(SimCard(int(card_id), float(stability), float(difficulty), last,
                             due_day, first, costs.expected(int(card_id), first)))
    grades = {int(r): int(n) for r, n in conn.all(_GRADES)}
    ahead = [None if day is None else max(0, (day - today).days) for day in planned]
    check_days(days)
    pace_from_log = new_per_week is None
    pace = own_pace(learned, today) if new_per_week is None else new_per_week
    return Plan(cards=cards, planned=late + ahead, new_per_week=pace,
                pace_from_log=pace_from_log, days=days,
                parameters=tuple(engine.settings.parameters),
                maximum_interval=int(engine.settings.maximum_interval),
                max_reviews=max_reviews, max_minutes=max_minutes, costs=costs,
                pass_grades=pass_grades(grades), seed=seed, today=today, skipped=skipped)


# -- the simulation ----------------------------------------------------------------------

class _Card:
    """A card while it is simulated."""

    __slots__ = ("key", "stability", "difficulty", "last", "first", "expected", "seed",
                 "_rng", "due")

    def __init__(self, key: int, stability: float, difficulty: float, last: int,
                 first: bool, expected: float, seed: int, due: int) -> None:
        self.key, self.stability, self.difficulty, self.last = key, stability, difficulty, last
        self.first, self.expected, self.due = first, expected, due
        self.seed = seed * 1_000_003 + key
        self._rng: random.Random | None = None

    @property
    def rng(self) -> random.Random:
        """The card's own generator, made at its first self-test (most cards of a long
        backlog never get one)."""
        if self._rng is None:
            self._rng = random.Random(self.seed)
        return self._rng


def _last(card: _Card) -> int:
    return card.last


class _Due:
    """The cards due and not yet done, in bins of stability (each a factor of `_STEP`
    wide), each bin in the order of their last reviews: enough to tell which cards cannot
    be more at risk than those already found."""

    _STEP = math.log(1.25)
    _LOW = math.log(0.001)  # FSRS's least stability

    def __init__(self) -> None:
        self.bins: list[list[_Card]] = []

    def __bool__(self) -> bool:
        return any(self.bins)

    def __len__(self) -> int:
        return sum(len(cards) for cards in self.bins)

    def add(self, card: _Card) -> None:
        number = max(0, int((math.log(card.stability) - self._LOW) / self._STEP))
        while len(self.bins) <= number:
            self.bins.append([])
        insort(self.bins[number], card, key=_last)

    def floor(self, number: int) -> float:
        """The least stability a card in bin `number` has."""
        return math.exp(self._LOW + number * self._STEP)

    def most_at_risk(self, day: int, count: int | None) -> list[tuple[int, int]]:
        """(bin, place) of the `count` cards most at risk on `day` (all with no count), in
        the queue's order: highest elapsed days over stability, then earliest due day, then
        key, as `review today` orders them.

        As srs.queue does in SQL, the walk leaves out the cards that could not make the
        list: in a bin of stability at least S, a card last reviewed on day L and every
        card after it (reviewed later) stay below (day - L) / S. A backlog of tens of
        thousands costs a few hundred cards a day rather than a sort of them all.
        """
        best: list[tuple[float, int, int, int, int]] = []
        for number, cards in enumerate(self.bins):
            floor = self.floor(number)
            for place, card in enumerate(cards):
                if (count is not None and len(best) == count
                        and (day - card.last) / floor < best[0][0]):
                    break
                item = ((day - card.last) / card.stability, -card.due, -card.key, number, place)
                if count is None or len(best) < count:
                    heappush(best, item)
                elif item > best[0]:
                    heapreplace(best, item)
        return [(number, place) for *_order, number, place in sorted(best, reverse=True)]

    def remove(self, places: list[tuple[int, int]]) -> None:
        for number, place in sorted(places, reverse=True):
            del self.bins[number][place]


def _curve(parameters: Sequence[float]) -> tuple[float, float]:
    """FSRS-6's forgetting curve R(t, S) = (1 + factor * t / S) ** -decay: (decay, factor)."""
    decay = -parameters[20]
    return decay, 0.9 ** (1 / decay) - 1


PATHS = 1000  # card-runs a retention is averaged over, at least (see `runs_for`)
MOST_RUNS = 64


def runs_for(plan: Plan) -> int:
    """How many runs a retention is averaged over: enough that about `PATHS` topics are
    lived through in all (one run for a deck of 1,000; 64 at most for a handful), so the
    figures of a small deck follow FSRS's expectation rather than one run's lapses."""
    if plan.runs is not None:
        return plan.runs
    topics = len(plan.cards) + len(plan.planned) + plan.new_per_week * plan.days / 7
    return max(1, min(MOST_RUNS, math.ceil(PATHS / max(1.0, topics))))


def simulate(plan: Plan, retention: float) -> Outcome:
    """Live through `plan.days` study days at desired `retention`: the mean of the runs."""
    runs = [_run(plan, retention, plan.seed * 1_009 + i) for i in range(runs_for(plan))]
    count = len(runs)

    def mean(values: list[float]) -> float:
        return sum(values) / count

    return Outcome(
        retention,
        [mean([float(run.self_tests[d]) for run in runs]) for d in range(plan.days)],
        [mean([run.minutes[d] for run in runs]) for d in range(plan.days)],
        mean([float(max(run.self_tests)) for run in runs]),
        mean([max(run.minutes) for run in runs]),
        mean([run.remembered for run in runs]), runs[0].remembered_now,
        runs[0].new_studied, mean([float(run.backlog) for run in runs]), count)


@dataclass(frozen=True)
class _Result:
    """One run."""

    self_tests: list[int]
    minutes: list[float]
    remembered: float
    remembered_now: float
    new_studied: int
    backlog: int


def _run(plan: Plan, retention: float, seed: int) -> _Result:
    """One run through `plan.days` study days at desired `retention`, with `seed`'s luck."""
    from fsrs_rs_python import FSRS, MemoryState

    fsrs = FSRS(list(plan.parameters))
    decay, factor = _curve(plan.parameters)
    costs, longest = plan.costs, plan.maximum_interval
    hard_share, good_share = plan.pass_grades[0], plan.pass_grades[0] + plan.pass_grades[1]
    days = plan.days
    due_on: dict[int, list[_Card]] = {}
    every: list[_Card] = []
    for begin in plan.cards:
        live = _Card(begin.key, begin.stability, begin.difficulty, begin.last, begin.first,
                     begin.expected, seed, begin.due)
        every.append(live)
        due_on.setdefault(begin.due, []).append(live)
    remembered_now = sum((1 + factor * (-c.last) / c.stability) ** decay for c in every)

    def interval(days_ahead: float) -> int:
        return max(1, min(longest, round(days_ahead)))

    new_key = 0
    studied_new = 0
    self_tests = [0] * days
    minutes = [0.0] * days
    waiting = _Due()
    dated = Counter(start for start in plan.planned if start is not None)
    undated = sum(1 for start in plan.planned if start is None)
    pace = plan.new_per_week
    count = plan.max_reviews
    for day in range(days):
        # New topics: the pace's share of this day, the planned rows first; a planned row
        # dated this day comes that day, whatever the pace.
        quota = math.floor((day + 1) * pace / 7 + 1e-9) - math.floor(day * pace / 7 + 1e-9)
        arrivals = dated.get(day, 0)
        quota -= arrivals
        from_plan = min(undated, max(0, quota))
        undated -= from_plan
        arrivals += from_plan + max(0, quota - from_plan)
        for _n in range(arrivals):
            new_key -= 1
            state = fsrs.next_states(None, retention, 0).good
            memory = state.memory
            due = day + interval(state.interval)
            live = _Card(new_key, memory.stability, memory.difficulty, day, True,
                         costs.first, seed, due)
            every.append(live)
            due_on.setdefault(due, []).append(live)
            studied_new += 1
        for card in due_on.pop(day, ()):
            waiting.add(card)
        if not waiting:
            continue
        taken: list[tuple[int, int]] = []
        planned_minutes = 0.0
        for place in waiting.most_at_risk(day, count):
            card = waiting.bins[place[0]][place[1]]
            if (plan.max_minutes is not None and taken
                    and planned_minutes + card.expected > plan.max_minutes):
                break
            taken.append(place)
            planned_minutes += card.expected
            elapsed = day - card.last
            chance = (1 + factor * elapsed / card.stability) ** decay
            # Two draws a self-test, whatever its outcome: a card's k-th self-test meets the
            # same luck at every retention.
            draw, grade = card.rng.random(), card.rng.random()
            if draw >= chance:
                rating = 1
            else:
                rating = 2 if grade < hard_share else 3 if grade < good_share else 4
            states = fsrs.next_states(MemoryState(card.stability, card.difficulty),
                                      retention, elapsed)
            after = (states.again, states.hard, states.good, states.easy)[rating - 1]
            minutes[day] += costs.of_rating(rating, card.first)
            self_tests[day] += 1
            card.stability = after.memory.stability
            card.difficulty = after.memory.difficulty
            card.last, card.first = day, False
            if card.key < 0 or card.key not in costs.per_card:
                card.expected = costs.later
            card.due = day + interval(after.interval)
            due_on.setdefault(card.due, []).append(card)
        waiting.remove(taken)
    remembered = sum((1 + factor * (days - c.last) / c.stability) ** decay for c in every)
    return _Result(self_tests, minutes, remembered, remembered_now, studied_new, len(waiting))


def planned_rows(conn: SqlConn, config: Any, today: date) -> tuple[list[date | None], int]:
    """The rows the followed logs plan to study, in log order, each with its date (None when
    it has none), and how many logs could not be read (moved or deleted: left out).

    As the last import of each log found them (kept with it), so that they agree with the
    cards; a log imported before that was kept is read again.
    """
    import json

    planned: list[date | None] = []
    unread = 0
    for path, summary in conn.all("SELECT path, summary FROM log_source ORDER BY id"):
        kept = json.loads(summary).get("planned_rows") if summary else None
        if isinstance(kept, list):
            planned.extend(date.fromisoformat(day) if day else None for day in kept)
            continue
        found = _read_planned(str(path), config, today)
        if found is None:
            unread += 1
        else:
            planned.extend(found)
    return planned, unread


def _read_planned(path: str, config: Any, today: date) -> list[date | None] | None:
    """A log's planned rows read from the file; None when it cannot be read."""
    from srs.importer import log_options, planned_topics
    from srs.logparse import read_log

    try:
        result = read_log(path, log_options(config, today))
    except (OSError, SrsError):
        return None
    return [day for _row, day in planned_topics(
        result.rows, today, lambda row: row.learned_on is not None and row.learned_on > today)]


def simulate_all(plan: Plan, retentions: Sequence[float]) -> list[Outcome]:
    """One outcome per retention, in the order given."""
    return [simulate(plan, retention) for retention in retentions]
