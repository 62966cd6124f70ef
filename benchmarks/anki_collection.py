"""An Anki collection holding the same cards as one of our databases, for the side by side.

Each of our active cards becomes an Anki review card (Basic note: topic / notes) with
the same due day, interval, FSRS memory state and review history, in one deck whose
options have FSRS on, a review limit of 9999 (Anki's largest) and the same order as
ours, lowest retrievability first. Notes go in through `col.add_notes` in batches; the
scheduling fields and the revlog are then written with SQL into the closed collection
file (Anki's schema: `cards.type/queue/due/ivl/data`, `revlog`), which is much faster
than the per-row backend calls and is not part of any timing.

    python -m benchmarks.anki_collection SRS_HOME OUT.anki2
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

DAY = 86_400
BATCH = 5_000
# Anki's own constants (anki.consts): a review card in the review queue.
CARD_TYPE_REV = 2
QUEUE_TYPE_REV = 2
REVLOG_LRN, REVLOG_REV = 0, 1
REVIEW_ORDER_RETRIEVABILITY_ASCENDING = 7
CREATED_DAYS_AGO = 4_000  # the collection "exists" for years, so every due day is positive


@dataclass
class OurCard:
    """What the collection needs of one of our cards."""

    id: int
    topic: str
    notes: str
    due: datetime
    stability: float | None
    difficulty: float | None
    last_review: datetime | None


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def read_ours(db_file: Path) -> tuple[list[OurCard], dict[int, list[tuple[datetime, int]]]]:
    """Our active cards and their self-tests, straight from the SQLite file."""
    con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    cards = [
        OurCard(cid, topic, notes or "", _moment(due) or datetime.now(timezone.utc),
                stability, difficulty, _moment(last))
        for cid, topic, notes, due, stability, difficulty, last in con.execute(
            "SELECT id, topic, notes, due, stability, difficulty, last_review FROM card "
            "WHERE merged_into IS NULL AND suspended = 0 ORDER BY id")
    ]
    history: dict[int, list[tuple[datetime, int]]] = {}
    for card_id, at, rating in con.execute(
            "SELECT card_id, at, rating FROM review WHERE kind = 'review' AND rating IS NOT NULL "
            "AND undone_at IS NULL ORDER BY card_id, at, id"):
        moment = _moment(at)
        assert moment is not None
        history.setdefault(card_id, []).append((moment, int(rating)))
    con.close()
    return cards, history


def build(srs_home: Path, out: Path) -> dict[str, Any]:
    """Write the collection `out` mirroring the database under `srs_home`; returns its figures."""
    from anki.collection import AddNoteRequest, Collection

    started = time.perf_counter()
    cards, history = read_ours(srs_home / "data" / "srs.db")
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(out.name + "*"):
        stale.unlink()
    col = Collection(str(out))
    deck_id = col.decks.id_for_name("Default") or 1
    model = col.models.by_name("Basic")
    assert model is not None
    requests = []
    for card in cards:
        note = col.new_note(model)
        note["Front"] = card.topic
        note["Back"] = card.notes
        requests.append(AddNoteRequest(note=note, deck_id=deck_id))
        if len(requests) == BATCH:
            col.add_notes(requests)
            requests = []
    if requests:
        col.add_notes(requests)
    col.set_config("fsrs", True)
    conf = col.decks.config_dict_for_deck_id(deck_id)
    conf["rev"]["perDay"] = 9999
    conf["new"]["perDay"] = 0
    conf["reviewOrder"] = REVIEW_ORDER_RETRIEVABILITY_ASCENDING
    conf["desiredRetention"] = 0.9
    col.decks.update_config(conf)
    anki_ids = col.db.list("SELECT id FROM cards ORDER BY nid")
    col.close()

    con = sqlite3.connect(out)
    (crt,) = con.execute("SELECT crt FROM col").fetchone()
    crt -= CREATED_DAYS_AGO * DAY
    con.execute("UPDATE col SET crt = ?", (crt,))
    today_index = CREATED_DAYS_AGO
    today = datetime.now(timezone.utc).date()
    card_rows, revlog_rows = [], []
    revlog_id = int(time.time() * 1000) - CREATED_DAYS_AGO * DAY * 1000
    for anki_id, card in zip(anki_ids, cards, strict=True):
        due_day = today_index + (card.due.date() - today).days
        last = card.last_review or card.due
        interval = max(1, (card.due.date() - last.date()).days)
        reviews = history.get(card.id, [])
        lapses = sum(1 for _at, rating in reviews[1:] if rating == 1)
        data = {"s": round(card.stability or 1.0, 4), "d": round(card.difficulty or 5.0, 4),
                "dr": 0.9, "lrt": int(last.timestamp())}
        card_rows.append((CARD_TYPE_REV, QUEUE_TYPE_REV, due_day, interval, 2500,
                          len(reviews), lapses, json.dumps(data), anki_id))
        previous = 0
        for number, (at, rating) in enumerate(reviews):
            revlog_id = max(revlog_id + 1, int(at.timestamp() * 1000))
            ivl = interval if number == len(reviews) - 1 else max(1, previous or 1)
            revlog_rows.append((revlog_id, anki_id, -1, rating, ivl, previous, 2500, 60_000,
                                REVLOG_LRN if number == 0 else REVLOG_REV))
            previous = ivl
    con.executemany(
        "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, factor = ?, reps = ?, "
        "lapses = ?, data = ? WHERE id = ?", card_rows)
    con.executemany(
        "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", revlog_rows)
    con.commit()
    con.close()

    col = Collection(str(out))
    figures = {
        "cards": col.card_count(),
        "revlog": col.db.scalar("SELECT count() FROM revlog"),
        "due": col.db.scalar(
            f"SELECT count() FROM cards WHERE queue = {QUEUE_TYPE_REV} AND due <= ?",
            col.sched.today),
        "today": col.sched.today,
        "fsrs": bool(col.get_config("fsrs")),
        "seconds": 0.0,
    }
    col.close()
    figures["seconds"] = round(time.perf_counter() - started, 2)
    return figures


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(build(Path(args[0]), Path(args[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

