"""The retrievability order picks exactly the least retrievable due cards, however many."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from srs.cardview import card_state
from srs.db import open_database
from srs.engine import Engine, SchedulerSettings
from srs.queue import DayClock, build_queue, card_rows
from srs.schema import SCHEMA_HEAD
from srs.sql import SQLITE_STAMP, SessionConn, open_sqlite, reading

UTC = timezone.utc
NOW = datetime(2026, 11, 30, 10, tzinfo=UTC)
CLOCK = DayClock(UTC, 4)


def fill(path: Path, seed: int, cards: int) -> None:
    """Cards with random stability, last review and due date, some suspended, one new."""
    open_database(f"sqlite:///{path}").close()
    rng = random.Random(seed)
    rows = []
    for card_id in range(1, cards + 1):
        last = NOW - timedelta(days=rng.uniform(0.5, 900))
        stability = rng.choice([rng.uniform(0.5, 5), rng.uniform(5, 400)])
        due = last + timedelta(days=stability * rng.uniform(0.5, 1.5))
        new = card_id == 7
        if new:
            due = NOW - timedelta(days=1)
        rows.append((card_id, f"topic {card_id}", "", "", "2024-01-01", 2,
                     None if new else stability, None if new else 5.0,
                     due.strftime(SQLITE_STAMP), None if new else last.strftime(SQLITE_STAMP),
                     int(rng.random() < 0.05 and not new), 0, NOW.strftime(SQLITE_STAMP),
                     NOW.strftime(SQLITE_STAMP)))
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO card (id, topic, notes, section, learned_on, state, stability, "
            "difficulty, due, last_review, suspended, in_log, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("limit", [1, 10, 50])
def test_the_walk_by_stability_matches_a_full_sort(tmp_path: Path, seed: int,
                                                   limit: int) -> None:
    path = tmp_path / "q.db"
    fill(path, seed, 3000)
    engine = Engine(SchedulerSettings(fuzz=False))
    conn = open_sqlite(path, SCHEMA_HEAD)
    assert conn is not None
    with reading(conn):
        queue = build_queue(conn, engine=engine, clock=CLOCK, now=NOW, limit=limit)
        everyone = card_rows(conn, list(range(1, 3001)))
    _start, end = CLOCK.bounds(CLOCK.day_of(NOW))
    due = [c for c in everyone.values() if not c.suspended and c.due < end]
    expected = sorted(due, key=lambda c: (engine.retrievability(card_state(c), NOW), c.due, c.id))
    assert [e.card.id for e in queue.entries] == [c.id for c in expected[:limit]]
    assert queue.entries[0].card.id == 7  # never reviewed: retrievability 0
    assert queue.due_total == len(due)

    # The SQLAlchemy path (PostgreSQL, or a database being migrated) sorts in SQL: same.
    db = open_database(f"sqlite:///{path}")
    with db.reading() as session:
        other = build_queue(SessionConn(session), engine=engine, clock=CLOCK, now=NOW,
                            limit=limit)
    assert [e.card.id for e in other.entries] == [e.card.id for e in queue.entries]
