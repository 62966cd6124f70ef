"""The few reads and writes every part of srs shares, in plain SQL on an `SqlConn`.

Each query is written once here or in the module that alone needs it; none goes through
the ORM. SQLite files are read with the standard library's sqlite3, PostgreSQL through
SQLAlchemy Core (srs/sql.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from srs.cardview import CARD_COLUMNS, CardLike, CardRow
from srs.errors import CardNotFound
from srs.i18n import _
from srs.sql import SqlConn

PARAMETERS_KEY = "fsrs.parameters"


def cards_from_rows(conn: SqlConn, rows: list[tuple[Any, ...]]) -> list[CardRow]:
    """CardRows from rows of CARD_COLUMNS; the days and moments they share (a log's
    dates) are read once."""
    days: dict[Any, date] = {}
    moments: dict[Any, datetime | None] = {None: None}

    def day(stored: Any) -> date:
        found = days.get(stored)
        if found is None:
            found = days[stored] = conn.day(stored)
        return found

    def moment(stored: Any) -> datetime | None:
        if stored in moments:
            return moments[stored]
        found = moments[stored] = conn.moment(stored)
        return found

    return [CardRow(card_id, topic, notes, section, day(learned_on), source_id, source_line,
                    state, step, stability, difficulty, day(due), moment(last_review),
                    bool(suspended), bool(in_log), merged_into)
            for (card_id, topic, notes, section, learned_on, source_id, source_line, state,
                 step, stability, difficulty, due, last_review, suspended, in_log,
                 merged_into) in rows]


def card_rows(conn: SqlConn, ids: list[int]) -> dict[int, CardRow]:
    """Cards by id."""
    rows = conn.all_in(f"SELECT {CARD_COLUMNS} FROM card WHERE id IN ({{ids}})", ids)
    return {card.id: card for card in cards_from_rows(conn, rows)}


def load_parameters(conn: SqlConn) -> tuple[float, ...] | None:
    """The stored FSRS parameters, None when py-fsrs's defaults apply."""
    value = conn.scalar("SELECT value FROM setting WHERE key = :key", key=PARAMETERS_KEY)
    return tuple(json.loads(value)) if value else None


def card_row(conn: SqlConn, card_id: int, *, follow_merge: bool = False) -> CardRow:
    """The card with that id (raises CardNotFound); with `follow_merge`, the card it was
    merged into, followed to the end."""
    card = card_rows(conn, [card_id]).get(card_id)
    if card is None:
        raise CardNotFound(_("no card {id} (see 'review cards')").format(id=card_id))
    seen = {card.id}
    while follow_merge and card.merged_into is not None and card.merged_into not in seen:
        into = card_rows(conn, [card.merged_into]).get(card.merged_into)
        if into is None:
            break
        card = into
        seen.add(card.id)
    return card


def new_command() -> str:
    """An identity for one command's changes, which `review undo` takes back together."""
    import secrets

    return secrets.token_hex(8)


def load_setting(conn: SqlConn, key: str) -> Any:
    """A stored setting's value (JSON), None when it is not set."""
    value = conn.scalar("SELECT value FROM setting WHERE key = :key", key=key)
    return json.loads(value) if value is not None else None


def store_setting(conn: SqlConn, key: str, value: Any) -> None:
    """Store a setting's value as JSON, replacing what was there."""
    text = json.dumps(value)
    if conn.scalar("SELECT 1 FROM setting WHERE key = :key", key=key) is None:
        conn.run("INSERT INTO setting (key, value) VALUES (:key, :value)", key=key, value=text)
    else:
        conn.run("UPDATE setting SET value = :value WHERE key = :key", key=key, value=text)


def delete_setting(conn: SqlConn, key: str) -> None:
    conn.run("DELETE FROM setting WHERE key = :key", key=key)


# Above this many cards, counting every card's self-tests in one scan beats asking for
# them 500 ids at a time.
_COUNT_ALL_FROM = 2000


def review_counts(conn: SqlConn, card_ids: list[int] | None = None) -> dict[int, int]:
    """Self-tests that count (not undone) per card: of `card_ids`, or of every card (also
    for a list of thousands: then it may hold other cards too)."""
    sql = ("SELECT card_id, count(*) FROM review WHERE kind = 'review' AND undone_at IS NULL"
           "{where} GROUP BY card_id")
    if card_ids is None or len(card_ids) >= _COUNT_ALL_FROM:
        return {card_id: int(n) for card_id, n in conn.all(sql.format(where=""))}
    return {card_id: int(n) for card_id, n in conn.all_in(
        sql.format(where=" AND card_id IN ({ids})"), card_ids)}


def source_paths(conn: SqlConn) -> dict[int, str]:
    """Every followed log's path by its id."""
    return {int(source_id): str(path)
            for source_id, path in conn.all("SELECT id, path FROM log_source")}


_LABEL_ROWS = "SELECT id, topic, notes, learned_on FROM card WHERE merged_into IS NULL AND "
_SHARED_TOPICS = _LABEL_ROWS + ("topic IN (SELECT topic FROM card WHERE merged_into IS NULL "
                                "GROUP BY topic HAVING count(*) > 1)")


def _label_rows(conn: SqlConn, rows: Iterable[tuple[Any, ...]]
                ) -> dict[int, tuple[int, str, str, date]]:
    return {int(card_id): (int(card_id), topic, notes or "", conn.day(learned))
            for card_id, topic, notes, learned in rows}


def shared_labels(conn: SqlConn) -> dict[int, str]:
    """The labels of every card whose topic another card shares (srs.cardview.labels), in
    one pass; every other card is named by its topic."""
    from srs.cardview import labels

    return labels(_label_rows(conn, conn.all(_SHARED_TOPICS)).values())


def card_labels(conn: SqlConn, cards: Sequence[CardLike]) -> dict[int, str]:
    """Each card's label (srs.cardview.labels), by id: its topic, and what tells it apart
    when another card has the same topic."""
    from srs.cardview import labels

    if not cards:
        return {}
    if len(cards) > 500:  # a whole list: the topics shared at all, in one pass
        rows: Iterable[tuple[Any, ...]] = conn.all(_SHARED_TOPICS)
    else:
        rows = conn.all_in(_LABEL_ROWS + "topic IN ({ids})",
                           sorted({card.topic for card in cards}))
    known = _label_rows(conn, rows)
    topics = {topic for _id, topic, _notes, _learned in known.values()}
    shared = labels([*known.values(), *((card.id, card.topic, card.notes, card.learned_on)
                                        for card in cards
                                        if card.id not in known and card.topic in topics)])
    return {card.id: shared.get(card.id, card.topic) for card in cards}
