"""Today's queue: the cards due on or before a study day, in order, within the daily limits.

Plain SQL on an `SqlConn` (see srs/sql.py), so `review today` never loads SQLAlchemy on an
SQLite file, and only the cards shown are read: a backlog of 100,000 costs a count and one
ordered, limited query.

Two daily limits apply, whichever cuts first: `max_reviews_per_day` counts self-tests,
`max_minutes_per_day` (the time budget, unset by default) their expected minutes
(srs.workload). The budget is what is left of it after the minutes already spent that
study day: each graded self-test counts its recorded duration (capped), or, graded with
none, the minutes it was expected to take. Walking the queue in order, a card is kept
while the running sum stays within what is left, and the walk stops at the first card
that does not fit (the order is the priority: no smaller card further down jumps ahead).
On a day with nothing done yet the first card is kept even if it alone exceeds the
budget, so that a budget shorter than one self-test never hides it forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from srs.cardview import CardLike, card_dicts, card_state
from srs.clock import DayClock
from srs.engine import Engine, unusable
from srs.errors import SrsError
from srs.i18n import _
from srs.sql import SqlConn
from srs.store import card_labels, card_rows, review_counts, source_paths
from srs.workload import Costs, first_self_test, load_costs, minutes

ORDERS = ("retrievability", "due", "log", "random")
# Not suspended, not merged away. An equality (not NOT) so the (suspended, merged_into, due)
# index is searched rather than scanned; the statements bind :no to False.
ACTIVE = "c.suspended = :no AND c.merged_into IS NULL"


@dataclass(frozen=True)
class QueueEntry:
    """A due card with what the queue shows about it."""

    card: CardLike
    retrievability: float
    risk: float  # elapsed study days over stability: the higher, the lower the retrievability
    overdue_days: int
    last_rating: int | None
    last_note: str | None
    minutes: float = 0.0  # what this self-test is expected to take (srs.workload)


@dataclass(frozen=True)
class Queue:
    """The queue of one study day."""

    day: date
    entries: list[QueueEntry]
    due_total: int
    done_today: int
    limit: int | None
    next_due: date | None
    budget: int | None = None  # max_minutes_per_day when it applies (not with --all)
    spent_minutes: float = 0.0  # minutes of the self-tests graded that study day
    over_budget: int = 0  # cards the count limit let in and the budget left out

    @property
    def more(self) -> int:
        """How many due cards are left out by the limits."""
        return self.due_total - len(self.entries)

    @property
    def minutes(self) -> float:
        """The expected minutes of the self-tests in the queue."""
        return sum(entry.minutes for entry in self.entries)


# The self-tests graded through the command line on a study day: only grades count (they
# keep the state before them for undo); the first review a card gets from `review add` is
# not a self-test done today.
_DONE = ("FROM review r WHERE r.at >= :start AND r.at < :end AND r.kind = 'review' "
         "AND r.source = 'cli' AND r.undone_at IS NULL AND r.state_before IS NOT NULL")
# A margin for sums of minutes made of seconds / 60: 45.000000001 still fits in 45.
_SLACK = 1e-6


def reviews_done(conn: SqlConn, start: datetime, end: datetime) -> int:
    """Self-tests graded through the command line with a time inside [start, end)."""
    return int(conn.scalar(f"SELECT count(*) {_DONE}",
                           start=conn.stamp(start), end=conn.stamp(end)) or 0)


def minutes_spent(conn: SqlConn, start: datetime, end: datetime, costs: Costs) -> float:
    """The minutes of the self-tests `reviews_done` counts: each one's recorded duration
    (capped), or for a grade recorded without one (or with 0), the minutes it was
    expected to take."""
    total = 0.0
    for card_id, duration, earlier in conn.all(
            "SELECT r.card_id, r.duration, (SELECT count(*) FROM review p "
            "WHERE p.card_id = r.card_id AND p.kind = 'review' AND p.rating IS NOT NULL "
            "AND p.undone_at IS NULL AND (p.at < r.at OR (p.at = r.at AND p.id < r.id))) "
            f"{_DONE}", start=conn.stamp(start), end=conn.stamp(end)):
        if duration is not None and duration > 0:
            total += minutes(duration)
        else:  # graded with no duration: one graded event before it means its first
            total += costs.expected(int(card_id), int(earlier) <= 1)
    return total


def expected_minutes(conn: SqlConn, costs: Costs, ids: list[int]) -> dict[int, float]:
    """The minutes each card's next self-test is expected to take. Whether it is the card's
    first is read only where it matters: a card without durations of its own, while the
    first and later costs differ (the defaults)."""
    unknown = [card_id for card_id in ids if card_id not in costs.per_card]
    first = first_self_test(conn, unknown) if costs.first != costs.later else set()
    return {card_id: costs.expected(card_id, card_id in first) for card_id in ids}


def fits(used: float, cost: float, budget: float | None, *, empty: bool) -> bool:
    """Whether a self-test of `cost` minutes fits a day with `used` of its `budget` taken:
    always with no budget or on a day with nothing on it yet, else while the sum stays
    within the budget."""
    return budget is None or empty or used + cost <= budget + _SLACK


def within_budget(costs: list[float], budget: float | None, spent: float,
                  started: bool) -> int:
    """How many of the self-tests costing `costs` minutes, in queue order, the budget
    keeps: the walk stops at the first that does not fit (`started`: something was done
    that day already, so the first card has no right to go over)."""
    used = spent
    for kept, cost in enumerate(costs):
        if not fits(used, cost, budget, empty=kept == 0 and not started):
            return kept
        used += cost
    return len(costs)


def _random_key(day: date, card_id: int) -> str:
    import hashlib  # only for the random order

    return hashlib.sha256(f"{day.isoformat()}:{card_id}".encode()).hexdigest()


def order_entries(entries: list[QueueEntry], order: str, day: date) -> list[QueueEntry]:
    """Sort due cards: lowest retrievability, oldest due, log order, or a shuffle fixed per day."""
    if order == "retrievability":
        return sorted(entries, key=lambda e: (-e.risk, e.card.due, e.card.id))
    if order == "due":
        return sorted(entries, key=lambda e: (e.card.due, e.card.id))
    if order == "log":
        return sorted(entries, key=lambda e: (
            e.card.source_id is None, e.card.source_id or 0, e.card.source_line or 0, e.card.id))
    if order == "random":
        return sorted(entries, key=lambda e: _random_key(day, e.card.id))
    raise SrsError(_("unknown order {order!r} (use {choices})").format(
        order=order, choices=", ".join(ORDERS)))


def last_reviews(conn: SqlConn, ids: list[int]) -> dict[int, tuple[int | None, str | None]]:
    """The rating and note of each card's latest self-test."""
    latest: dict[int, tuple[int | None, str | None]] = {}
    for card_id, rating, note in conn.all_in(
        "SELECT card_id, rating, note FROM review WHERE card_id IN ({ids}) "
        "AND kind = 'review' AND undone_at IS NULL ORDER BY card_id, at, id", ids,
    ):
        latest[card_id] = (rating, note)
    return latest


# Study days since the last review over stability: the higher, the lower the retrievability
# (FSRS's forgetting curve falls with elapsed days / stability alone). last_review_day is
# the study day of the last review as a day number, so this reads only the index.
NEVER = 1e300  # a card never reviewed: retrievability 0, before every other
RISK = (f"CASE WHEN c.stability IS NULL OR c.stability <= 0 OR c.last_review_day IS NULL "
        f"THEN {NEVER} "
        "ELSE (:today - c.last_review_day) / c.stability END")


def risk_of(card: CardLike, engine: Engine, day: date) -> float:
    """The RISK of a card on study day `day`, computed as the SQL computes it."""
    last = engine.last_day(card_state(card))
    if card.stability is None or not card.stability > 0 or last is None:
        return NEVER
    return (day.toordinal() - last.toordinal()) / card.stability


def _least_retrievable(conn: SqlConn, today: int, day: date, count: int) -> list[int]:
    """The `count` cards due by `day` that are most at risk, ties by due day and id, exactly.

    Walks the active cards by rising stability and stops once no card left could make
    the list: with stability S, none can exceed (today - the oldest review day) / S. A
    backlog of 90,000 due cards is settled after a few hundred rows instead of a sort of
    them all.
    """
    import heapq

    oldest = conn.scalar("SELECT min(last_review_day) FROM card")
    day_value = conn.day_value(day)
    never = [row[0] for row in conn.all(  # never reviewed: retrievability 0, first of all
        f"SELECT c.id FROM card c INDEXED BY ix_card_by_stability WHERE {ACTIVE} "
        "AND c.stability IS NULL AND c.due <= :day "
        f"ORDER BY c.due, c.id LIMIT {int(count)}", day=day_value, no=False)]
    if oldest is None or len(never) >= count:
        return never
    want = count - len(never)
    # The heap keeps the `want` most at risk; its root is the least at risk of them. "More
    # at risk" is a higher risk, then an earlier due day, then a lower id.
    best: list[tuple[float, int, int]] = []
    for card_id, stability, last_day, due in conn.stream(
            "SELECT c.id, c.stability, c.last_review_day, c.due "
            f"FROM card c INDEXED BY ix_card_by_stability WHERE {ACTIVE} "
            "AND c.stability IS NOT NULL ORDER BY c.stability", no=False):
        if stability is None or not stability > 0:  # unusable: first, as never reviewed
            risk = NEVER
        elif len(best) == want and (today - oldest) / stability < best[0][0]:
            break
        else:
            risk = (today - last_day) / stability if last_day is not None else NEVER
        if due > day_value:
            continue
        key = (risk, -conn.day(due).toordinal(), -card_id)
        if len(best) < want:
            heapq.heappush(best, key)
        elif key > best[0]:
            heapq.heapreplace(best, key)
    return never + [-neg_id for _risk, _due, neg_id in sorted(best, reverse=True)]


def _top_ids(conn: SqlConn, order: str, day: date, risk_day: date,
             count: int | None) -> list[int]:
    """The ids of the first `count` cards due by `day` in `order` (all when count is None)."""
    where = f"FROM card c WHERE {ACTIVE} AND c.due <= :day"
    params: dict[str, Any] = {"day": conn.day_value(day), "no": False}
    if order == "retrievability" and count is not None and conn.dialect == "sqlite":
        # SQLite is told which index to walk: its planner would take the one by due date.
        return _least_retrievable(conn, risk_day.toordinal(), day, count)
    if order == "random":
        ids = sorted((row[0] for row in conn.all(f"SELECT c.id {where}", **params)),
                     key=lambda card_id: _random_key(day, card_id))
        return ids if count is None else ids[:count]
    if order == "retrievability":
        params["today"] = risk_day.toordinal()
        sort = f"{RISK} DESC, c.due, c.id"
    elif order == "due":
        sort = "c.due, c.id"
    elif order == "log":
        sort = "c.source_id IS NULL, c.source_id, c.source_line, c.id"
    else:
        order_entries([], order, day)  # raises the unknown-order error
    limit = "" if count is None else f" LIMIT {int(count)}"
    return [row[0] for row in conn.all(f"SELECT c.id {where} ORDER BY {sort}{limit}", **params)]


def build_queue(conn: SqlConn, *, engine: Engine, clock: DayClock, now: datetime,
                day: date | None = None, order: str = "retrievability",
                max_per_day: int = 10, limit: int | None = None,
                show_all: bool = False, max_minutes: int | None = None,
                minutes: bool = True) -> Queue:
    """The queue of study day `day` (default: today) as seen at `now`.

    Without `limit` or `show_all`, it holds `max_per_day` minus the self-tests already
    recorded that study day (`limit` replaces that count). With `max_minutes` and without
    `show_all`, it is then cut where the minutes run out (see the module's docstring).
    Retrievability is the one on `day` (today for a past day). Without `minutes` (and
    without a budget), no card's expected minutes are worked out (they read 0).
    """
    today = clock.day_of(now)
    day = day or today
    start, end = clock.bounds(day)
    risk_day = max(day, today)
    total = int(conn.scalar(f"SELECT count(*) FROM card c WHERE {ACTIVE} AND c.due <= :day",
                            day=conn.day_value(day), no=False) or 0)
    done = reviews_done(conn, start, end)
    if show_all:
        cap = None
    elif limit is not None:
        cap = limit
    else:
        cap = max(0, max_per_day - done)
    ids = _top_ids(conn, order, day, risk_day, cap) if total and cap != 0 else []
    budget = None if show_all else max_minutes
    spent, expected = 0.0, dict.fromkeys(ids, 0.0)
    if minutes or budget is not None:
        costs = load_costs(conn)
        spent = minutes_spent(conn, start, end, costs)
        expected = expected_minutes(conn, costs, ids)
    cards = card_rows(conn, ids)
    latest = last_reviews(conn, ids)
    entries = []
    for card_id in ids:
        card = cards[card_id]
        try:
            reason = unusable(card_state(card))
            if reason is None:
                retrievability = engine.retrievability(card_state(card), risk_day)
                risk = risk_of(card, engine, risk_day)
        except (ArithmeticError, TypeError, ValueError) as err:
            reason = str(err)
        if reason is not None:
            # why: one card whose stored state is unusable must not hide the others; it is
            # shown first (as never reviewed), and `review check --repair` re-derives it
            import logging  # a rare warning: kept off the import path

            logging.getLogger("srs.queue").warning(
                _("card {id}: stored state unusable ({reason}); run 'review check'")
                .format(id=card_id, reason=reason))
            retrievability, risk = 0.0, NEVER
        last_rating, last_note = latest.get(card_id, (None, None))
        entries.append(QueueEntry(card=card, retrievability=retrievability, risk=risk,
                                  overdue_days=max(0, (day - card.due).days),
                                  last_rating=last_rating, last_note=last_note,
                                  minutes=expected[card_id]))
    if order == "retrievability":
        entries = order_entries(entries, order, day)  # the order the SQL chose, exactly
    kept = within_budget([entry.minutes for entry in entries], budget, spent, done > 0)
    over_budget = len(entries) - kept
    entries = entries[:kept]
    next_due = None
    if not total:
        next_due = conn.day(conn.scalar(
            f"SELECT min(c.due) FROM card c WHERE {ACTIVE} AND c.due > :day",
            day=conn.day_value(day), no=False))
    return Queue(day=day, entries=entries, due_total=total, done_today=done,
                 limit=cap, next_due=next_due, budget=budget, spent_minutes=spent,
                 over_budget=over_budget)


def queue_dicts(conn: SqlConn, queue: Queue, *, engine: Engine, now: datetime,
                tz: tzinfo) -> list[dict[str, Any]]:
    """The queue as card objects (as `review cards --json`) with overdue_days and the last grade."""
    from srs.cardview import rating_name

    ids = [entry.card.id for entry in queue.entries]
    if not ids:
        return []
    shown = [entry.card for entry in queue.entries]
    cards = card_dicts(shown, engine=engine, now=now, tz=tz, reviews=review_counts(conn, ids),
                       paths=source_paths(conn),
                       labels=card_labels(conn, shown))
    result = []
    for entry, data in zip(queue.entries, cards, strict=True):
        data["retrievability"] = round(entry.retrievability, 4)  # on the queue's day
        data["overdue_days"] = entry.overdue_days
        data["last_rating"] = rating_name(entry.last_rating)
        data["last_note"] = entry.last_note
        data["minutes"] = round(entry.minutes, 2)  # expected (srs.workload)
        result.append(data)
    return result

