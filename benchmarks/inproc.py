"""In-process timings, each in a worker process of its own so nothing leaks between them.

`benchmarks.run` starts `python -m benchmarks.inproc KIND ...` and reads one JSON object
from its stdout. Only the operation is timed: opening the database or the collection,
and choosing the cards, are not.

    python -m benchmarks.inproc ours-queue SRS_HOME --runs 20
    python -m benchmarks.inproc ours-grade SRS_HOME --ids 5,6,7
    python -m benchmarks.inproc ours-due-ids SRS_HOME --count 15
    python -m benchmarks.inproc ours-replay SRS_HOME --runs 3
    python -m benchmarks.inproc ours-parse LOG.md --runs 5
    python -m benchmarks.inproc ours-insert SRS_HOME --runs 3
    python -m benchmarks.inproc anki-queue COLLECTION --runs 10
    python -m benchmarks.inproc anki-answer COLLECTION --runs 10
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any


def _app(home: str) -> Any:
    from srs.app import App
    from srs.paths import user_paths

    return App(paths=user_paths({"SRS_HOME": home}))


def ours_queue(home: str, runs: int, budget: float) -> dict[str, Any]:
    """srs.queue.build_queue in a fresh read transaction each run, as `review today` calls it."""
    from srs.queue import build_queue

    app = _app(home)
    config = app.config
    samples: list[float] = []
    started = time.perf_counter()
    due_total = shown = 0
    for _run in range(runs):
        with app.reading() as conn:
            engine = app.engine(conn)
            now = app.now()
            gc.collect()
            t0 = time.perf_counter()
            queue = build_queue(conn, engine=engine, clock=app.clock, now=now,
                                order=str(config["order"]),
                                max_per_day=int(config["max_reviews_per_day"]))
            samples.append(time.perf_counter() - t0)
            due_total, shown = queue.due_total, len(queue.entries)
        if time.perf_counter() - started > budget and len(samples) >= 3:
            break
    app.close()
    return {"samples": samples, "due_total": due_total, "shown": shown}


def ours_due_ids(home: str, count: int) -> dict[str, Any]:
    """The ids of due cards, most at risk first, to grade (not timed)."""
    from srs.queue import build_queue

    app = _app(home)
    with app.reading() as conn:
        queue = build_queue(conn, engine=app.engine(conn), clock=app.clock,
                            now=app.now(), limit=count)
        ids = [entry.card.id for entry in queue.entries]
    app.close()
    return {"ids": ids}


def ours_grade(home: str, ids: list[int]) -> dict[str, Any]:
    """srs.grading.grade in its own write transaction (committed), one card per run."""
    from srs.grading import grade

    app = _app(home)
    app.write(lambda c: app.engine(c))  # open, pragmas and schema check: not timed
    samples = []
    for card_id in ids:
        gc.collect()
        t0 = time.perf_counter()
        app.write(lambda c, cid=card_id: grade(
            c, cid, 3, engine=app.engine(c), clock=app.clock, now=app.now()))
        samples.append(time.perf_counter() - t0)
    app.close()
    return {"samples": samples}


def anki_queue(path: str, runs: int, budget: float) -> dict[str, Any]:
    """Anki's v3 queue built from scratch: a freshly opened collection each run.

    The backend caches the queue until the collection changes, so a second call on the
    same collection would time the cache; reopening (not timed) makes every run a build.
    """
    from anki.collection import Collection

    samples: list[float] = []
    started = time.perf_counter()
    review_count = 0
    for _run in range(runs):
        col = Collection(path)
        col.card_count()  # opened and the database touched: not timed
        gc.collect()
        t0 = time.perf_counter()
        queued = col.sched.get_queued_cards()
        samples.append(time.perf_counter() - t0)
        review_count = queued.review_count
        col.close()
        if time.perf_counter() - started > budget and len(samples) >= 3:
            break
    return {"samples": samples, "review_count": review_count}


def anki_answer(path: str, runs: int) -> dict[str, Any]:
    """Anki answering the top card of its queue Good: build_answer and answer_card."""
    from anki.collection import Collection  # first: anki.cards alone is a circular import

    # isort: split
    from anki.cards import Card

    col = Collection(path)
    samples = []
    for _run in range(runs):
        queued = col.sched.get_queued_cards().cards[0]  # not timed
        card = Card(col, backend_card=queued.card)
        card.start_timer()
        gc.collect()
        t0 = time.perf_counter()
        answer = col.sched.build_answer(card=card, states=queued.states, rating=3)
        col.sched.answer_card(answer)
        samples.append(time.perf_counter() - t0)
    col.close()
    return {"samples": samples}


def _replay_24h(scheduler: Any, card_id: int, events: list[Any]) -> Any:
    """The reference: a history replayed through py-fsrs on the reviews' own moments.

    This is how the import replayed before elapsed time was counted in study days (py-fsrs
    then counted whole 24-hour periods), with the same seeded fuzz: the study-day replay
    is measured against it, in the same process, on the same histories.
    """
    import random

    from fsrs import Card, Rating
    from fsrs import scheduler as fsrs_scheduler

    card = Card(card_id=card_id, due=events[0].at)
    rng = random.Random()
    number = 0
    for event in events:
        if event.rating is None:
            continue
        number += 1
        rng.seed(card_id * 1_000_003 + number)
        fsrs_scheduler.random = rng.random  # type: ignore[attr-defined]
        try:
            card, _log = scheduler.review_card(card, Rating(event.rating), event.at)
        finally:
            fsrs_scheduler.random = random.random  # type: ignore[attr-defined]
    return card


def ours_replay(home: str, runs: int) -> dict[str, Any]:
    """Every card's history replayed as the import replays it, beside the 24-hour reference.

    The histories are read once (not timed); each run times our replay of all of them and
    the reference's, alternating, so both see the same machine.
    """
    from srs.schedule import load_histories

    app = _app(home)
    with app.reading() as conn:
        engine = app.engine(conn)
        merged = {row[0] for row in conn.all("SELECT id FROM card WHERE merged_into IS NOT NULL")}
        histories = [(card_id, history.events) for card_id, history
                     in load_histories(conn).items()
                     if card_id not in merged and history.events
                     and not all(event.plan for event in history.events)]
    app.close()
    ours: list[float] = []
    reference: list[float] = []
    for _run in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        for card_id, events in histories:
            engine.replay(card_id, events)
        ours.append(time.perf_counter() - t0)
        gc.collect()
        t0 = time.perf_counter()
        for card_id, events in histories:
            _replay_24h(engine.scheduler, card_id, events)
        reference.append(time.perf_counter() - t0)
    return {"samples": ours, "reference": reference, "cards": len(histories),
            "reviews": sum(len(events) for _id, events in histories)}


def ours_parse(log: str, runs: int) -> dict[str, Any]:
    """srs.logparse.parse_log on a whole log, beside the floor of any table reader: splitting
    the same file's table lines into cells and nothing more (both timed in this process)."""
    from datetime import date

    from srs.logparse import LogOptions, parse_log, split_cells

    text = Path(log).read_text(encoding="utf-8")
    options = LogOptions(today=date.today())
    samples: list[float] = []
    floor: list[float] = []
    rows = warnings = 0
    for _run in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        result = parse_log(text, log, options)
        samples.append(time.perf_counter() - t0)
        rows, warnings = len(result.rows), len(result.warnings)
        gc.collect()
        t0 = time.perf_counter()
        cells = [split_cells(line) for line in text.split("\n") if "|" in line]
        floor.append(time.perf_counter() - t0)
        del cells
    return {"samples": samples, "reference": floor, "rows": rows, "warnings": warnings}


def ours_insert(home: str, runs: int) -> dict[str, Any]:
    """The floor of writing what an import writes: every row of the imported database
    inserted with sqlite3's executemany, one transaction, into a fresh database of the same
    schema (tables and indexes made first, not timed), with the pragmas srs uses."""
    import os
    import sqlite3
    import tempfile

    source = sqlite3.connect(Path(home) / "data" / "srs.db")
    schema = [sql for (sql,) in source.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY type = 'index', rowid")]
    tables = [name for (name,) in source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != 'alembic_version' ORDER BY rowid")]
    data = {}
    for table in tables:
        columns = [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]
        rows = source.execute(f'SELECT * FROM "{table}"').fetchall()
        marks = ", ".join("?" * len(columns))
        data[table] = (f'INSERT INTO "{table}" VALUES ({marks})', rows)
    source.close()
    samples: list[float] = []
    with tempfile.TemporaryDirectory(prefix="srs-insert-") as folder:
        for run in range(runs):
            path = os.path.join(folder, f"fresh{run}.db")
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            for sql in schema:
                conn.execute(sql)
            gc.collect()
            t0 = time.perf_counter()
            conn.execute("BEGIN")
            for sql, rows in data.values():
                conn.executemany(sql, rows)
            conn.execute("COMMIT")
            samples.append(time.perf_counter() - t0)
            conn.close()
            os.remove(path)
    return {"samples": samples, "rows": {table: len(rows) for table, (_sql, rows)
                                         in data.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["ours-queue", "ours-grade", "ours-due-ids",
                                         "ours-replay", "ours-parse", "ours-insert",
                                         "anki-queue",
                                         "anki-answer"])
    parser.add_argument("target", help="SRS_HOME for ours, the collection file for Anki")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--budget", type=float, default=30.0,
                        help="stop repeating after this many seconds (at least 3 runs)")
    parser.add_argument("--ids", default="")
    parser.add_argument("--count", type=int, default=10)
    args = parser.parse_args(argv)
    if args.kind == "ours-queue":
        result = ours_queue(args.target, args.runs, args.budget)
    elif args.kind == "ours-due-ids":
        result = ours_due_ids(args.target, args.count)
    elif args.kind == "ours-replay":
        result = ours_replay(args.target, args.runs)
    elif args.kind == "ours-insert":
        result = ours_insert(args.target, args.runs)
    elif args.kind == "ours-parse":
        result = ours_parse(args.target, args.runs)
    elif args.kind == "ours-grade":
        result = ours_grade(args.target, [int(i) for i in args.ids.split(",") if i])
    elif args.kind == "anki-queue":
        result = anki_queue(str(Path(args.target)), args.runs, args.budget)
    else:
        result = anki_answer(str(Path(args.target)), args.runs)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
