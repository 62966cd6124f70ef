"""The retrievability order picks exactly the least retrievable due cards, however many."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from srs.cardview import CardRow, card_state
from srs.clock import DayClock
from srs.db import open_database
from srs.engine import Engine, SchedulerSettings
from srs.queue import build_queue
from srs.schema import SCHEMA_HEAD
from srs.sql import SQLITE_STAMP, open_sqlite, reading
from srs.store import card_rows

UTC = timezone.utc
NOW = datetime(2026, 11, 30, 10, tzinfo=UTC)
CLOCK = DayClock(UTC, 4)


def fill(path: Path, seed: int, cards: int) -> None:
    """Cards with random stability, last review and due day, some suspended, one new.

    Stabilities come from a short list half the time, so many cards tie on elapsed study
    days over stability: the order must settle ties by due day and id, in SQL as in Python.
    """
    open_database(f"sqlite:///{path}").close()
    rng = random.Random(seed)
    today = CLOCK.day_of(NOW)
    rows = []
    for card_id in range(1, cards + 1):
        last_day = today - timedelta(days=rng.randint(0, 900))
        last = CLOCK.start(last_day) + timedelta(hours=rng.uniform(0, 23.9))
        stability = rng.choice([rng.uniform(0.5, 400), rng.choice([1.0, 2.5, 10.0, 40.0])])
        due = last_day + timedelta(days=round(stability * rng.uniform(0.5, 1.5)))
        new = card_id == 7
        if new:
            due = today - timedelta(days=1)
        rows.append((card_id, f"topic {card_id}", "", "", "2024-01-01", 2,
                     None if new else stability, None if new else 5.0,
                     due.isoformat(), None if new else last.strftime(SQLITE_STAMP),
                     None if new else last_day.toordinal(),
                     int(rng.random() < 0.05 and not new), 0, NOW.strftime(SQLITE_STAMP),
                     NOW.strftime(SQLITE_STAMP)))
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO card (id, topic, notes, section, learned_on, state, stability, "
            "difficulty, due, last_review, last_review_day, suspended, in_log, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def elapsed_over_stability(card: CardRow) -> float:
    if card.stability is None or card.last_review is None:
        return float("inf")
    return (CLOCK.day_of(NOW) - CLOCK.day_of(card.last_review)).days / card.stability


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("limit", [1, 10, 50])
def test_the_walk_by_stability_matches_a_full_sort(tmp_path: Path, seed: int,
                                                   limit: int) -> None:
    path = tmp_path / "q.db"
    fill(path, seed, 3000)
    engine = Engine(SchedulerSettings(fuzz=False), CLOCK)
    conn = open_sqlite(path, SCHEMA_HEAD)
    assert conn is not None
    with reading(conn):
        queue = build_queue(conn, engine=engine, clock=CLOCK, now=NOW, limit=limit)
        everyone = card_rows(conn, list(range(1, 3001)))
    today = CLOCK.day_of(NOW)
    due = [c for c in everyone.values() if not c.suspended and c.due <= today]
    expected = sorted(due, key=lambda c: (-elapsed_over_stability(c), c.due, c.id))
    assert [e.card.id for e in queue.entries] == [c.id for c in expected[:limit]]
    assert queue.entries[0].card.id == 7  # never reviewed: retrievability 0
    assert queue.due_total == len(due)
    shown = [e.retrievability for e in queue.entries]
    assert shown == sorted(shown)  # the least retrievable first
    assert shown[0] == 0.0 and all(r == engine.retrievability(card_state(c), today)
                                   for r, c in zip(shown, (e.card for e in queue.entries),
                                                   strict=True))

    # Through SQLAlchemy Core (how a database being migrated is read): the same queue.
    db = open_database(f"sqlite:///{path}")
    try:
        with db.read_connection() as other_conn:
            other = build_queue(other_conn, engine=engine, clock=CLOCK, now=NOW, limit=limit)
    finally:
        db.close()
    assert [e.card.id for e in other.entries] == [e.card.id for e in queue.entries]
