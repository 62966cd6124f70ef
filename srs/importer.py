"""Syncing parsed log rows into cards and their log history: idempotent, nothing deleted."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from srs.clock import DayClock
from srs.errors import SrsError
from srs.i18n import _
from srs.logparse import LogOptions, ParseMemo, ParseResult, ParseWarning, normalise_topic
from srs.logparse import LogRow as ParsedRow
from srs.sql import SqlConn

if TYPE_CHECKING:
    from srs.engine import Engine

GOOD = 3
LONGEST_TARGET = 200  # a review row naming a topic longer than this names no known topic
CARD_COLUMNS = ("id", "topic", "notes", "section", "learned_on", "source_id", "source_line",
                "state", "step", "stability", "difficulty", "due", "last_review",
                "last_review_day", "suspended", "in_log", "created_at", "updated_at")
LOG_ROW_COLUMNS = ("id", "source_id", "key", "line", "card_id", "kind", "present")
REVIEW_COLUMNS = ("card_id", "at", "kind", "rating", "source", "note", "duration", "due_set",
                  "log_row_id", "log_entry", "merged_from", "state_before", "recorded_at",
                  "undone_at", "study_day", "prior_state", "elapsed_days", "retrievability",
                  "stability", "difficulty")


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})")


INSERT_CARD = _insert_sql("card", CARD_COLUMNS)
INSERT_LOG_ROW = _insert_sql("log_row", LOG_ROW_COLUMNS)
INSERT_REVIEW = _insert_sql("review", REVIEW_COLUMNS)


@dataclass
class RowOutcome:
    """How one row of a log was read, for `--dry-run`."""

    file: str
    line: int
    action: str
    card_id: int | None = None
    topic: str = ""

    def describe(self) -> str:
        return f"{self.file}:{self.line}: {self.action}"


@dataclass
class ImportReport:
    """What an import did (or, with --dry-run, would do)."""

    cards_created: int = 0
    cards_updated: int = 0
    cards_unchanged: int = 0
    reviews_added: int = 0
    pending: int = 0
    planned: int = 0  # rows dated after now: they become cards once that day comes
    skipped: int = 0  # rest days and repeats of a row of another table
    warnings: list[ParseWarning] = field(default_factory=list)
    notes: list[ParseWarning] = field(default_factory=list)
    no_longer_in_log: list[int] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)  # only when asked for
    moved: list[dict[str, str]] = field(default_factory=list)  # logs found at a new path

    def to_json(self) -> dict[str, Any]:
        return {
            "cards_created": self.cards_created,
            "cards_updated": self.cards_updated,
            "cards_unchanged": self.cards_unchanged,
            "reviews_added": self.reviews_added,
            "pending": self.pending,
            "planned": self.planned,
            "skipped": self.skipped,
            "warnings": [{"file": w.file, "line": w.line, "message": w.message}
                         for w in self.warnings],
            "no_longer_in_log": self.no_longer_in_log,
            "moved": self.moved,
        }


def row_keys(rows: list[ParsedRow], *, raw: bool = False) -> list[str]:
    """Each studied row's identity: topic and learned date, with an ordinal for exact repeats.

    `raw`: the keys earlier versions made, from the topic cell as written (links and
    emphasis kept), so their rows are still found.
    """
    seen: Counter[tuple[str, date | None]] = Counter()
    keys = []
    for row in rows:
        ident = (normalise_topic(row.raw_topic if raw and row.raw_topic else row.topic),
                 row.learned_on)
        keys.append(f"{ident[0]}|{row.learned_on}|{seen[ident]}")
        seen[ident] += 1
    return keys


TableMemos = dict[int, dict[str, Any]]  # study table -> its rows' keys and digests, ...
DIGEST_WIDTH = 20  # hex digits of a row's digest


def _keys(memo: dict[str, Any]) -> list[str]:
    """The keys of a table's studied rows, as a memo keeps them (one string)."""
    text = memo["keys"]
    return text.split("\n") if text else []


def _digests(memo: dict[str, Any]) -> list[str]:
    text = memo["digests"]
    return [text[at:at + DIGEST_WIDTH] for at in range(0, len(text), DIGEST_WIDTH)]


def _row_digest(row: ParsedRow, key: str, today: date) -> str:
    """Everything of a row an import writes, as read on `today`; "" for a row that may
    read differently later today (dated today with a time: it may still be ahead)."""
    assert row.learned_on is not None
    if row.learned_at is not None and row.learned_on >= today:
        return ""
    tests = [(test.on.toordinal(), test.rating, test.planned or test.on > today)
             for test in row.self_tests]
    text = repr((key, row.line, row.topic, row.notes, row.section, row.learned_on.toordinal(),
                 row.learned_at, row.learned_rating, row.is_review, row.review_target, tests))
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


class _Resolver:
    """Finds the card a self-test or review row names, when exactly one fits.

    Topics are indexed so that a log of 100,000 rows does not compare every review row
    with every card: an exact match is a dict look-up, "the name is part of a topic" is a
    search in one joined string, and "a topic is part of the name" looks up each piece of
    the (short) name.
    """

    def __init__(self, load: Callable[[], Iterable[tuple[int, str, date]]]) -> None:
        self.by_topic: dict[str, list[tuple[int, date]]] = {}
        self._blob = ""
        self._starts: list[int] = []
        self._indexed: list[str] = []
        self._recent: list[str] = []
        # The known cards are read when a review row first asks: a re-import that adds
        # no review row never reads (or normalises) the topics of every card.
        self._load: Callable[[], Iterable[tuple[int, str, date]]] | None = load
        self._pending: list[tuple[int, str, date]] = []

    def _ensure(self) -> None:
        if self._load is None:
            return
        load, self._load = self._load, None
        for card_id, topic, learned in load():
            self.add(card_id, topic, learned)
        for card_id, topic, learned in self._pending:
            self.add(card_id, topic, learned)
        self._pending = []
        self._reindex()

    def add(self, card_id: int, topic: str, learned_on: date) -> None:
        if self._load is not None:
            self._pending.append((card_id, topic, learned_on))
            return
        name = normalise_topic(topic)
        if name not in self.by_topic:
            self.by_topic[name] = []
            self._recent.append(name)
        self.by_topic[name].append((card_id, learned_on))

    def rename(self, ids: dict[int, int]) -> None:
        """Give cards added under placeholder ids their real ids."""
        if self._load is not None:
            self._pending = [(ids.get(cid, cid), topic, learned)
                             for cid, topic, learned in self._pending]
            return
        for cards in self.by_topic.values():
            cards[:] = [(ids.get(cid, cid), learned) for cid, learned in cards]

    def stored(self) -> None:
        """The cards added so far are in the database now: a later first read finds them."""
        self._pending = []

    def _reindex(self) -> None:
        self._indexed = list(self.by_topic)
        self._starts, offset = [], 0
        for name in self._indexed:
            self._starts.append(offset)
            offset += len(name) + 1
        self._blob = "\0".join(self._indexed)
        self._recent = []

    def _topics_containing(self, name: str) -> set[str]:
        from bisect import bisect_right

        if len(self._recent) > 1000:
            self._reindex()
        found = {t for t in self._recent if name in t}
        at = self._blob.find(name)
        while at != -1:
            found.add(self._indexed[bisect_right(self._starts, at) - 1])
            at = self._blob.find(name, at + 1)
        return found

    def _topics_inside(self, name: str) -> set[str]:
        """Known topics that are part of `name`: only for names a review row could hold."""
        if len(name) > LONGEST_TARGET:
            return set()
        return {name[i:j] for i in range(len(name)) for j in range(i + 2, len(name) + 1)
                if name[i:j] in self.by_topic}

    def candidates(self, target: str, on: date) -> list[int]:
        """The cards learned by `on` that a review row naming `target` could mean."""
        name = normalise_topic(target)
        if len(name) < 2:
            return []
        self._ensure()

        def earlier(topics: set[str]) -> list[int]:
            return [cid for t in topics for cid, learned in self.by_topic[t] if learned <= on]

        exact = earlier({name} if name in self.by_topic else set())
        if exact:
            return exact
        return sorted(set(earlier(self._topics_containing(name) | self._topics_inside(name))))

    def resolve(self, target: str, on: date) -> int | None:
        found = self.candidates(target, on)
        return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class _Entry:
    """A review (or a planned self-test) a log row records."""

    at: datetime
    rating: int | None
    kind: str = "review"  # review | plan
    exact: bool = False  # the log gave a time; otherwise only the study day counts
    due_set: date | None = None  # a plan's day
    note: str | None = None


def log_moment(day: date, at: time | None, clock: DayClock, now: datetime) -> tuple[datetime,
                                                                                     bool]:
    """When a log's date (and time, if written) happened, and whether the time was written.

    A date alone is placed inside its study day (at noon), but never after `now`: a row
    dated today and read in the morning happened this morning at the latest.
    """
    if at is not None:
        return datetime.combine(day, at, tzinfo=clock.tz).astimezone(timezone.utc), True
    moment = clock.moment_of(day)
    return (min(moment, now) if clock.day_of(now) == day else moment), False


class _Dates:
    """The moments a log's dates are put at, worked out once per day (a log of 100,000 rows
    names a few thousand days)."""

    def __init__(self, clock: DayClock, now: datetime) -> None:
        self.clock, self.now, self.today = clock, now, clock.day_of(now)
        self._moments: dict[date, datetime] = {}

    def moment_of(self, day: date) -> datetime:
        moment = self._moments.get(day)
        if moment is None:
            moment = self._moments[day] = self.clock.moment_of(day)
        return moment

    def log_moment(self, day: date, at: time | None) -> tuple[datetime, bool]:
        """As `log_moment`."""
        if at is not None:
            return log_moment(day, at, self.clock, self.now)
        moment = self.moment_of(day)
        return (min(moment, self.now) if day == self.today else moment), False

    def is_future(self, row: ParsedRow) -> bool:
        """As `is_future`."""
        assert row.learned_on is not None
        if row.learned_on != self.today:
            return row.learned_on > self.today
        return row.learned_at is not None and log_moment(row.learned_on, row.learned_at,
                                                         self.clock, self.now)[0] > self.now

    def entries(self, row: ParsedRow, kind: str) -> dict[str, _Entry]:
        """The reviews a row records, and the self-tests it plans (dated after today, or
        unmarked in a column of planned dates)."""
        assert row.learned_on is not None
        at, exact = self.log_moment(row.learned_on, row.learned_at)
        entries = {kind: _Entry(at, row.learned_rating, exact=exact,
                                note=(row.notes or None) if kind == "row" else None)}
        for test in row.self_tests:
            day = test.on.isoformat()
            if test.on > self.today or test.planned:
                entries[f"plan:{day}"] = _Entry(self.moment_of(test.on), None, "plan",
                                                due_set=test.on)
            else:
                at, exact = self.log_moment(test.on, None)
                entries[f"test:{day}"] = _Entry(at, test.rating, exact=exact)
        return entries


@dataclass
class _Mapped:
    """A log row already known from an earlier import."""

    id: int
    card_id: int
    kind: str
    line: int
    present: bool


class _Existing(NamedTuple):
    """A log review already in the database, as stored (`at` and `due_set` not converted:
    most entries of a re-import are compared as stored and need no conversion)."""

    id: int
    card_id: int
    at: Any
    rating: int | None
    undone: bool
    source: str
    kind: str
    due_set: Any
    note: str | None


@dataclass
class _PlannedRow:
    row: ParsedRow
    key: str
    card_ref: int  # a card id, or a negative placeholder for a card created by this import
    kind: str
    log_row_id: int | None
    created: bool = False
    changed: bool = False
    history_changed: bool = False
    fresh: bool = False  # a row this import adds to the log's rows


def _year_source(source: str) -> str:
    """Where a year-less date took its year from, as a person reads it."""
    kind, _sep, where = source.partition(":")
    return {
        "line": _("from the date on line {line}"),
        "heading": _("from the heading on line {line}"),
        "title": _("from the title"),
        "this year": _("this year"),
        "last year": _("last year (this year's would be in the future)"),
        "year before": _("the year before (this year would put studied rows after today)"),
    }.get(kind, source).format(line=where)


class _FileImport:
    """The sync of one parsed file, inside the caller's transaction, in bulk statements.

    Everything the file's rows are compared with is read once (its log rows, their
    reviews, its cards); new cards are replayed in memory and inserted once with their
    final state and the step of every self-test; existing cards whose history changed
    are replayed afterwards from the database.
    """

    def __init__(self, conn: SqlConn, parsed: ParseResult, text_hash: str, path: str,
                 engine: Engine, now: datetime, report: ImportReport,
                 resolver: _Resolver, merged: dict[int, int], dry_run: bool,
                 previous: TableMemos | None = None) -> None:
        self.conn, self.parsed, self.engine = conn, parsed, engine
        self.dry_run = dry_run
        # The last import's memo of this file, when the database is as that import left
        # it: only the rows that read differently from then are compared and written.
        self.previous = previous
        self.kept: TableMemos = {}  # this import's memo
        self.clock, self.now, self.report, self.resolver = engine.clock, now, report, resolver
        self.hash, self.path, self.merged = text_hash, path, merged
        self.dates = _Dates(engine.clock, now)
        self.dirty: set[int] = set()
        self.new_cards: list[dict[str, Any]] = []
        self.future: list[ParsedRow] = []
        self.ambiguous: dict[int, list[int]] = {}  # line -> the cards a review row could mean
        self.card_updates: list[dict[str, Any]] = []
        self.line_updates: list[dict[str, Any]] = []
        self.stamp_now = conn.stamp(now)
        self._stamps: dict[datetime, Any] = {}

    def _stamp(self, moment: datetime) -> Any:
        stamp = self._stamps.get(moment)
        if stamp is None:
            stamp = self._stamps[moment] = self.conn.stamp(moment)
        return stamp

    def _final(self, card_id: int) -> int:
        seen = 0
        while card_id in self.merged and seen < 1000:
            card_id, seen = self.merged[card_id], seen + 1
        return card_id

    def run(self) -> None:
        conn = self.conn
        source_id = conn.scalar("SELECT id FROM log_source WHERE path = :path", path=self.path)
        if source_id is None:
            source_id = conn.insert(
                "INSERT INTO log_source (path, content_hash) VALUES (:path, '')",
                path=self.path)
        self.source_id = source_id
        dated = [row for row in self.parsed.rows
                 if row.studied and row.learned_on is not None and not row.skip]
        self.future = [row for row in dated if self.dates.is_future(row)]
        studied = [row for row in dated if not self.dates.is_future(row)]
        keys = row_keys(studied)
        digests = self._keep(studied, keys)
        if self.previous is None:
            mapping = {
                key: _Mapped(lr_id, card_id, kind, line, bool(present))
                for lr_id, key, card_id, kind, line, present in conn.all(
                    "SELECT id, key, card_id, kind, line, present FROM log_row "
                    "WHERE source_id = :source", source=source_id)
            }
            todo = list(zip(studied, keys, strict=True))
        else:
            # Only the tables read again can hold a row that changed (or left the log).
            before: dict[str, str] = {}
            for index, memo in self.previous.items():
                if index not in self.parsed.reused:
                    before.update(zip(_keys(memo), _digests(memo), strict=True))
            todo = [(row, key) for row, key in zip(studied, keys, strict=True)
                    if not digests[key] or before.get(key) != digests[key]]
            now_there = set(keys)
            wanted = [key for _row, key in todo] + [key for key in before
                                                     if key not in now_there]
            mapping = {
                key: _Mapped(lr_id, card_id, kind, line, bool(present))
                for lr_id, key, card_id, kind, line, present in conn.all_in(
                    "SELECT id, key, card_id, kind, line, present FROM log_row "
                    "WHERE source_id = :source AND key IN ({ids})", wanted, source=source_id)
            }
        existing: dict[int, dict[str, _Existing]] = {}
        if mapping:
            review_sql = ("SELECT r.id, r.log_row_id, r.log_entry, r.card_id, r.at, r.rating, "
                          "r.undone_at, r.source, r.kind, r.due_set, r.note "
                          "FROM review r JOIN log_row l ON l.id = r.log_row_id ")
            found = conn.all(review_sql + "WHERE l.source_id = :source", source=source_id) \
                if self.previous is None else conn.all_in(
                    review_sql + "WHERE r.log_row_id IN ({ids})",
                    [mapping[key].id for _row, key in todo if key in mapping])
            for (rid, row_id, entry, card_id, at, rating, undone, origin, kind, due_set,
                 note) in found:
                existing.setdefault(row_id, {})[entry] = _Existing(
                    rid, card_id, at, rating, undone is not None, origin, kind, due_set, note)
        card_sql = ("SELECT id, topic, notes, section, source_line, in_log FROM card "
                    "WHERE source_id = :source")
        own_cards = {
            cid: (topic, notes, section, line, bool(in_log))
            for cid, topic, notes, section, line, in_log in (
                conn.all(card_sql, source=source_id) if self.previous is None else
                conn.all_in(card_sql + " AND id IN ({ids})",
                            sorted({m.card_id for m in mapping.values()}), source=source_id))
        } if mapping else {}
        # The keys earlier versions made matter only for a row not found by its own key.
        legacy = [key for _row, key in todo]
        if mapping and self.previous is None and any(key not in mapping for key in keys):
            legacy = row_keys(studied, raw=True)
        renamed = []
        planned = []
        for (row, key), old_key in zip(todo, legacy, strict=True):
            mapped = mapping.get(key)
            if mapped is None and old_key != key and old_key in mapping:
                mapped = mapping.pop(old_key)  # the key an earlier version made of the row
                mapping[key] = mapped
                renamed.append({"id": mapped.id, "key": key})
            planned.append(self._plan_row(row, key, mapped, own_cards))
        conn.run_many("UPDATE log_row SET key = :key WHERE id = :id", renamed)
        conn.run_many("UPDATE card SET topic = :topic, notes = :notes, section = :section, "
                      "source_line = :line, in_log = :yes, source_id = :source, "
                      "updated_at = coalesce(:updated, updated_at) WHERE id = :id",
                      self.card_updates)
        conn.run_many("UPDATE log_row SET line = :line, present = :yes WHERE id = :id",
                      self.line_updates)
        ids = self._allocate_ids(planned)
        self._write_rows(planned, ids, existing)
        seen = set(keys)
        gone_rows = [m for key, m in mapping.items() if key not in seen]
        self._mark_gone(gone_rows, own_cards)
        self._replay({ids.get(ref, ref) for ref in self.dirty})
        self._report(planned, ids)
        self.report.no_longer_in_log.extend(_gone_cards(conn, source_id))
        conn.run("UPDATE log_source SET content_hash = :hash, imported_at = :now, "
                 "summary = :summary WHERE id = :id", hash=self.hash, now=self.stamp_now,
                 summary=self._summary(), id=source_id)

    def _keep(self, studied: list[ParsedRow], keys: list[str]) -> dict[str, str]:
        """This import's memo of each table (its rows' keys and digests, its planned rows,
        the day it reads differently); the digest of each studied row by key."""
        parsed, today = self.parsed, self.dates.today
        kept: TableMemos = {}
        table_keys: dict[int, list[str]] = {}
        table_digests: dict[int, list[str]] = {}
        for index in range(parsed.tables):
            if index in parsed.reused:
                assert self.previous is not None
                kept[index] = self.previous[index]
            else:
                kept[index] = {"keys": "", "digests": "", "future": 0, "again": None,
                               "plans": []}
                table_keys[index], table_digests[index] = [], []
        digests = {}
        for row, key in zip(studied, keys, strict=True):
            digest = digests[key] = _row_digest(row, key, today)
            table_keys[row.table].append(key)
            table_digests[row.table].append(digest or "-" * DIGEST_WIDTH)
        for index, listed in table_keys.items():
            kept[index]["keys"] = "\n".join(listed)
            kept[index]["digests"] = "".join(table_digests[index])
        for row in self.future:
            kept[row.table]["future"] += 1
        read = [row for row in parsed.rows if row.table not in parsed.reused]
        for row, day in planned_topics(read, today, self.dates.is_future):
            kept[row.table]["plans"].append(day.isoformat() if day else None)
        again: dict[int, date] = {}
        for row in parsed.rows:
            day = read_again_on(row, today)
            if day is not None and (row.table not in again or day < again[row.table]):
                again[row.table] = day
        for index, day in again.items():
            kept[index]["again"] = day.isoformat()
        self.kept = kept
        return digests

    def _summary(self) -> str:
        """What the last import of the file read, as stored with it."""
        def dump(items: list[ParseWarning]) -> list[list[Any]]:
            return [[w.file, w.line, w.message] for w in items]

        parsed = self.parsed
        rows, pending, skipped = parsed.counts
        days = [memo["again"] for memo in self.kept.values() if memo["again"]]
        # Every table's planned topics in the log's order; not known when a table was
        # taken from the memo of an import older than this field.
        plans = [memo.get("plans") for _index, memo in sorted(self.kept.items())]
        return json.dumps({"rows": rows, "pending": pending,
                           "planned_rows": None if any(p is None for p in plans) else
                           [day for table in plans for day in table or ()],
                           "planned": sum(int(memo["future"]) for memo in self.kept.values()),
                           "skipped": skipped,
                           "warnings": dump(parsed.warnings), "notes": dump(parsed.notes),
                           "read_again_on": min(days, default=None)},
                          ensure_ascii=False)

    def _plan_row(self, row: ParsedRow, key: str, mapped: _Mapped | None,
                  own_cards: dict[int, tuple[str, str, str, int | None, bool]]) -> _PlannedRow:
        assert row.learned_on is not None
        if mapped is not None:
            plan = _PlannedRow(row, key, mapped.card_id, mapped.kind, mapped.id)
            if mapped.kind == "card" and mapped.card_id in own_cards:
                topic, notes, section, line, in_log = own_cards[mapped.card_id]
                if (topic, notes, section, in_log) != (row.topic, row.notes, row.section, True):
                    plan.changed = True
                if plan.changed or line != row.line:
                    self.card_updates.append({
                        "id": mapped.card_id, "topic": row.topic, "notes": row.notes,
                        "section": row.section, "line": row.line, "yes": True,
                        "source": self.source_id,
                        # a change the person made; a row that only moved is none
                        "updated": self.stamp_now if plan.changed else None})
            if mapped.line != row.line or not mapped.present:
                self.line_updates.append({"id": mapped.id, "line": row.line, "yes": True})
            return plan
        options = (self.resolver.candidates(row.review_target, row.learned_on)
                   if row.is_review else [])
        if len(options) == 1:
            return _PlannedRow(row, key, self._final(options[0]), "review", None)
        if len(options) > 1:
            self.ambiguous[row.line] = options  # cards made by this import: placeholders yet
        ref = -(len(self.new_cards) + 1)
        learned = self.conn.day_value(row.learned_on)
        self.new_cards.append({
            "id": ref, "topic": row.topic, "notes": row.notes, "section": row.section,
            "learned_on": learned, "source_id": self.source_id, "source_line": row.line,
            "state": 1, "step": 0, "stability": None, "difficulty": None, "due": learned,
            "last_review": None, "last_review_day": None, "suspended": False,
            "in_log": True, "created_at": self.stamp_now, "updated_at": self.stamp_now})
        self.resolver.add(ref, row.topic, row.learned_on)
        return _PlannedRow(row, key, ref, "card", None, created=True)

    def _allocate_ids(self, planned: list[_PlannedRow]) -> dict[int, int]:
        """Real ids for the new cards (placeholder -> id) and the new log rows, taken before
        they are inserted.

        Knowing the ids first lets each new card be replayed (its fuzz is seeded by id) and
        inserted once with its final state, and each new review name its log row, all in
        bulk statements that return nothing.
        """
        taken = _new_ids(self.conn, "card", len(self.new_cards), self.dry_run)
        ids = {-(n + 1): card_id for n, card_id in enumerate(taken)}
        for card, card_id in zip(self.new_cards, taken, strict=True):
            card["id"] = card_id
        if ids:
            self.resolver.rename(ids)
        fresh = [plan for plan in planned if plan.log_row_id is None]
        for plan, row_id in zip(fresh, _new_ids(self.conn, "log_row", len(fresh),
                                                self.dry_run), strict=True):
            plan.log_row_id, plan.fresh = row_id, True
        return ids

    def _write_rows(self, planned: list[_PlannedRow], ids: dict[int, int],
                    existing: dict[int, dict[str, _Existing]]) -> None:
        from srs.engine import Event

        conn = self.conn
        new_reviews: list[dict[str, Any]] = []
        histories: dict[int, list[tuple[Event, dict[str, Any]]]] = {
            card["id"]: [] for card in self.new_cards}
        changes: list[dict[str, Any]] = []
        retracted: list[dict[str, Any]] = []
        new_rows: list[dict[str, Any]] = []
        day_value = conn.day_value
        for plan in planned:
            own = ids.get(plan.card_ref, plan.card_ref)
            final = self._final(own)
            merged_from = own if own != final else None
            if plan.fresh:
                new_rows.append({"id": plan.log_row_id, "source_id": self.source_id,
                                 "key": plan.key, "line": plan.row.line, "card_id": own,
                                 "kind": plan.kind, "present": True})
            have = existing.get(plan.log_row_id, {}) \
                if plan.log_row_id is not None and not plan.fresh else {}
            expected = self.dates.entries(plan.row, "learned" if plan.kind == "card" else "row")
            history = histories.get(final)
            for entry, want in expected.items():
                old = have.get(entry)
                if old is not None and old.source != "log":
                    # A self-test graded here and written back into the log: the grade
                    # recorded at the time stands (and stays undone if it was undone).
                    continue
                if old is None:
                    review = {
                        "card_id": final, "at": self._stamp(want.at), "kind": want.kind,
                        "rating": want.rating, "source": "log", "note": want.note,
                        "duration": None,
                        "due_set": day_value(want.due_set) if want.due_set else None,
                        "log_row_id": plan.log_row_id, "log_entry": entry,
                        "merged_from": merged_from, "state_before": None,
                        "recorded_at": self.stamp_now, "undone_at": None,
                        "study_day": None, "prior_state": None, "elapsed_days": None,
                        "retrievability": None, "stability": None, "difficulty": None}
                    new_reviews.append(review)
                    if history is not None:
                        history.append((Event(want.at, want.rating, want.due_set,
                                              plan=want.kind == "plan"), review))
                elif self._differs(old, want, final):
                    # An entry undone before a merge comes back on the card it was merged into.
                    changes.append({
                        "id": old.id, "rating": want.rating,
                        "at": self._stamp(want.at) if self._moved(old, want) else old.at,
                        "card_id": final, "merged_from": merged_from, "kind": want.kind,
                        "due_set": day_value(want.due_set) if want.due_set else None,
                        "note": want.note})
                    self.dirty.add(old.card_id)
                else:
                    continue
                plan.history_changed = True
                self.dirty.add(final)
            for entry, old in have.items():
                if entry not in expected and not old.undone and old.source == "log":
                    # The entry left the log: keep the row as a trace, stop counting it.
                    retracted.append({"id": old.id, "now": self.stamp_now})
                    plan.history_changed = True
                    self.dirty.add(old.card_id)
        self._insert_new_cards(histories)
        conn.run_many(INSERT_LOG_ROW, new_rows)
        conn.run_many(INSERT_REVIEW, new_reviews)
        self.report.reviews_added += sum(1 for review in new_reviews
                                         if review["kind"] == "review")
        conn.run_many("UPDATE review SET rating = :rating, at = :at, undone_at = NULL, "
                      "card_id = :card_id, merged_from = :merged_from, kind = :kind, "
                      "due_set = :due_set, note = :note WHERE id = :id", changes)
        conn.run_many("UPDATE review SET undone_at = :now WHERE id = :id", retracted)

    def _moved(self, old: _Existing, want: _Entry) -> bool:
        """Whether a stored entry happened at another time than the log now says.

        A date-only entry compares by its study day: a row dated today and first read in
        the morning keeps the moment it was given then.
        """
        if old.at == self._stamp(want.at):
            return False
        at = self.conn.moment(old.at)
        assert at is not None
        if want.exact:
            return at != want.at
        return self.clock.day_of(at) != self.clock.day_of(want.at)

    def _differs(self, old: _Existing, want: _Entry, card_id: int) -> bool:
        """Whether a stored log entry must change to say what the log says now."""
        due = old.due_set
        if due is not None and not isinstance(due, date):
            due = self.conn.day(due)
        return (old.rating != want.rating or old.undone or old.card_id != card_id
                or old.kind != want.kind or due != want.due_set or old.note != want.note
                or self._moved(old, want))

    def _insert_new_cards(self, histories: dict[int, list[tuple[Any, dict[str, Any]]]]
                          ) -> None:
        """Replay each new card's history in memory and insert it with its final state and
        what each of its self-tests did."""
        from srs.schedule import step_values

        conn, day_of, day_value = self.conn, self.clock.day_of, self.conn.day_value
        for card in self.new_cards:
            history = histories[card["id"]]
            if not history or all(event.plan for event, _review in history):
                continue
            state, steps = self.engine.replay_history(card["id"],
                                                      [event for event, _review in history])
            for (_event, review), step in zip(history, steps, strict=True):
                if step is not None:
                    review.update(step_values(conn, step))
            last = state.last_review
            card.update(state=state.state, step=state.step, stability=state.stability,
                        difficulty=state.difficulty, due=day_value(state.due),
                        last_review=self._stamp(last) if last is not None else None,
                        last_review_day=day_of(last).toordinal() if last is not None else None)
            self.dirty.discard(card["id"])
        conn.run_many(INSERT_CARD, self.new_cards)
        self.resolver.stored()

    def _mark_gone(self, gone: list[_Mapped],
                   own_cards: dict[int, tuple[str, str, str, int | None, bool]]) -> None:
        self.conn.run_many("UPDATE log_row SET present = :no WHERE id = :id",
                           [{"id": m.id, "no": False} for m in gone if m.present])
        self.conn.run_many(
            "UPDATE card SET in_log = :no, updated_at = :now WHERE id = :id",
            [{"id": m.card_id, "no": False, "now": self.stamp_now} for m in gone
             if m.kind == "card" and own_cards.get(m.card_id, ("", "", "", 0, False))[4]])

    def _replay(self, card_ids: set[int]) -> None:
        """Recompute the state of every card whose history changed, and what each of its
        self-tests did (only what changed is written)."""
        from srs.schedule import replay_cards

        if card_ids:
            replay_cards(self.conn, self.engine, self.now, sorted(card_ids))

    def _report(self, planned: list[_PlannedRow], ids: dict[int, int]) -> None:
        report = self.report
        created = updated = unchanged = 0
        for plan in planned:
            if plan.kind == "review":
                continue
            if plan.created:
                created += 1
            elif plan.changed or plan.history_changed:
                updated += 1
            else:
                unchanged += 1
        if self.previous is not None:  # the rows not compared are unchanged
            unchanged = int(self.conn.scalar(
                "SELECT count(*) FROM log_row WHERE source_id = :source AND present = :yes "
                "AND kind = 'card'", source=self.source_id, yes=True) or 0) - created - updated
        report.cards_created += created
        report.cards_updated += updated
        report.cards_unchanged += unchanged
        report.planned += sum(int(memo["future"]) for memo in self.kept.values())
        _rows, pending, skipped = self.parsed.counts
        report.pending += pending
        report.skipped += skipped
        if self.dry_run:
            self._outcomes(planned, ids)

    def _outcomes(self, planned: list[_PlannedRow], ids: dict[int, int]) -> None:
        """How each row was read, for --dry-run."""
        outcomes = self.report.outcomes
        for plan in planned:
            own = ids.get(plan.card_ref, plan.card_ref)
            if plan.kind == "review":
                action = _("review of card {id}").format(id=self._final(own))
            elif plan.created:
                action = _("new card {id}").format(id=own)
            elif plan.changed or plan.history_changed:
                action = _("update card {id}").format(id=own)
            else:
                action = _("unchanged card {id}").format(id=own)
            could = [self._final(ids.get(card, card)) for card in
                     self.ambiguous.get(plan.row.line, [])]
            if could:
                action += " " + _("(a review row that could mean cards {ids}: made its own "
                                  "card)").format(ids=", ".join(map(str, sorted(could))))
            if plan.row.year_from:
                action += " " + _("[{date}, year {source}]").format(
                    date=plan.row.learned_on, source=_year_source(plan.row.year_from))
            outcomes.append(RowOutcome(plan.row.file, plan.row.line, action,
                                       self._final(own), plan.row.topic))
        for row in self.future:
            outcomes.append(RowOutcome(row.file, row.line, _(
                "planned for {day}: a card from that day on").format(day=row.learned_on),
                topic=row.topic))
        for row in self.parsed.rows:
            if row.skip == "rest":
                outcomes.append(RowOutcome(row.file, row.line, _("rest day: no card"),
                                           topic=row.topic))
            elif row.skip.startswith("repeat:"):
                outcomes.append(RowOutcome(row.file, row.line, _(
                    "repeats line {line}: the same card").format(line=row.skip[7:]),
                    topic=row.topic))
            elif not row.studied:
                outcomes.append(RowOutcome(row.file, row.line, _("pending"), topic=row.topic))


def _new_ids(conn: SqlConn, table: str, count: int, preview: bool = False) -> list[int]:
    """`count` ids for rows of `table` inserted next, in this write transaction.

    `preview`: the ids an insert would take, for a transaction that is rolled back (a
    PostgreSQL sequence hands out nothing twice, rolled back or not).
    """
    if not count:
        return []
    if conn.dialect == "postgresql":
        if preview:
            sequence = conn.scalar(f"SELECT pg_get_serial_sequence('{table}', 'id')")
            last, called = conn.one(f"SELECT last_value, is_called FROM {sequence}") or (0, 0)
            first = int(last) + 1 if called else int(last)
            return list(range(first, first + count))
        return [int(row[0]) for row in conn.all(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
            "FROM generate_series(1, :n)", n=count)]
    # SQLite, inside BEGIN IMMEDIATE: nobody else can take these
    first = int(conn.scalar(f"SELECT coalesce(max(id), 0) FROM {table}")) + 1
    return list(range(first, first + count))


def _gone_cards(conn: SqlConn, source_id: int) -> list[int]:
    """The cards of a log whose rows are no longer in it."""
    return [int(card_id) for (card_id,) in conn.all(
        "SELECT id FROM card WHERE source_id = :source AND in_log = :no ORDER BY id",
        source=source_id, no=False)]


def import_parsed(conn: SqlConn, files: Sequence[Iterable[Any]], *,
                  engine: Engine, now: datetime,
                  progress: Callable[[int], None] | None = None,
                  as_new: bool = False, dry_run: bool = False) -> ImportReport:
    """Sync parsed files (path, result, text hash) into the database in the caller's write
    transaction.

    Log reviews are dated inside their study days with the engine's clock, and the
    schedule is recorded as following that clock. A file at a new path that holds the
    rows of a known log whose file is gone is that log, moved (unless `as_new`). An
    unchanged file (no result) is reported from what its last import stored.

    `dry_run`: the caller rolls the transaction back; the report says how each row was
    read, and new ids are the ones an import would take, not taken from a sequence.
    """
    from srs.schedule import follow_clock, mark_clock

    report = ImportReport()
    changed = [file for file in files if tuple(file)[1] is not None]
    if changed:
        follow_clock(conn, engine, now)  # the cards already here, replayed if the clock changed
    resolver = _Resolver(lambda: [
        (card_id, topic, conn.day(learned)) for card_id, topic, learned in conn.all(
            "SELECT id, topic, learned_on FROM card WHERE merged_into IS NULL ORDER BY id")])
    merged: dict[int, int] = {
        card_id: into for card_id, into in conn.all(
            "SELECT id, merged_into FROM card WHERE merged_into IS NOT NULL")
    } if changed else {}
    for file in files:
        path, parsed, text_hash = file
        if parsed is None:
            _report_unchanged(conn, path, report)
            continue
        report.warnings.extend(parsed.warnings)
        report.notes.extend(parsed.notes)
        if not as_new:
            moved = adopt_moved_log(conn, Path(path), parsed, engine.clock, now)
            if moved is not None:
                report.moved.append({"from": moved, "to": str(path)})
        previous = getattr(file, "previous", None)
        if parsed.reused and previous is None:
            raise AssertionError("a partial reading without the last import's memo")
        sync = _FileImport(conn, parsed, text_hash, str(path), engine, now, report,
                           resolver, merged, dry_run, previous)
        sync.run()
        if isinstance(file, LogFile):
            file.kept = sync.kept
        if progress is not None:
            progress(len(parsed.rows))
    if dry_run:
        report.outcomes.extend(
            RowOutcome(w.file, w.line, _("warning: {reason}").format(reason=w.message))
            for w in report.warnings
        )
        report.outcomes.sort(key=lambda o: (o.file, o.line))
    if changed:
        mark_clock(conn, engine.clock)
    return report

SAME_LOG = 0.9  # the share of a known log's rows a file must hold to be that log, moved


class LogMoved(SrsError):
    """A file that holds a known log whose file still exists: moved, or a copy?"""


def adopt_moved_log(conn: SqlConn, path: Path, parsed: ParseResult, clock: DayClock,
                    now: datetime) -> str | None:
    """Move a known log to `path` when this new file holds at least 90 % of its rows.

    Returns the old path when the log was moved (its file is gone). Raises LogMoved when
    the old file still exists: a copy and a move cannot be told apart, so the person says.
    """
    if conn.scalar("SELECT id FROM log_source WHERE path = :path", path=str(path)) is not None:
        return None
    dates = _Dates(clock, now)
    rows = [row for row in parsed.rows if row.studied and row.learned_on is not None
            and not row.skip and not dates.is_future(row)]
    keys = set(row_keys(rows)) | set(row_keys(rows, raw=True))
    if not keys:
        return None
    for source_id, old_path in conn.all("SELECT id, path FROM log_source ORDER BY id"):
        known = {key for (key,) in conn.all(
            "SELECT key FROM log_row WHERE source_id = :source AND present = :yes",
            source=source_id, yes=True)}
        if not known or len(known & keys) < SAME_LOG * len(known):
            continue
        if Path(old_path).exists():
            raise LogMoved(_(
                "{new} holds the rows of {old} ({n} of {total}), which is still there; "
                "if the log moved, run 'review logs move {old} {new}'; to import it as a "
                "log of its own, add --as-new").format(
                    new=path, old=old_path, n=len(known & keys), total=len(known)))
        conn.run("UPDATE log_source SET path = :path WHERE id = :id", path=str(path),
                 id=source_id)
        return str(old_path)
    return None


# Part of every stored digest: a new reading of logs, or another clock (log reviews are put
# inside their study days), makes every file count as changed once.
IMPORT_VERSION = "3"  # 3: "#" over names is a topic, "1st" to "8th" are attempts


def log_options(config: Any, today: date) -> LogOptions:
    """How logs are read with these settings, on study day `today`."""
    return LogOptions(
        today=today,
        done_words=tuple(str(w).lower() for w in config["log.done_words"]),
        pending_words=tuple(str(w).lower() for w in config["log.pending_words"]),
        skip_words=tuple(str(w) for w in config["log.skip_words"]),
        thresholds=tuple(float(t) for t in config["score_thresholds"]),  # type: ignore[arg-type]
    )


def import_salt(clock: DayClock, options: LogOptions | None = None) -> str:
    """What reading a log depends on besides its bytes: the clock its dates are read with
    and the words and thresholds it is read with."""
    words = "" if options is None else json.dumps(
        [options.done_words, options.pending_words, options.skip_words, options.thresholds],
        ensure_ascii=False)
    return f"{clock.zone_name}@{clock.day_starts_at}{words}"


@dataclass
class LogFile:
    """A log named on the command line: its digest, and its rows unless it is unchanged."""

    path: Path
    digest: str
    parsed: ParseResult | None  # None: the same bytes were imported last time
    name: str = ""  # as the person named it
    # The last import's memo of the file's tables, when the database is as it left them.
    previous: TableMemos | None = None
    kept: TableMemos | None = None  # this import's, once it has run

    def __iter__(self) -> Any:  # (path, parsed, digest), as import_parsed takes them
        return iter((self.path, self.parsed, self.digest))


def file_digest(data: bytes, salt: str) -> str:
    return hashlib.sha256(f"{IMPORT_VERSION}\0{salt}\0".encode() + data).hexdigest()


MEMO_VERSION = 1


@dataclass(frozen=True)
class Memos:
    """Where the memo of each log's last import is kept: a file per database and log.

    A memo says how each table of the log read and what its rows were, so that the next
    import reads and compares only what changed. It is derived data: it counts only while
    the database still holds the digest of the import that wrote it (so a failed import,
    a restore, another device or a deleted memo just mean a whole reading), and it is
    written after the import is committed.
    """

    folder: Path
    database: str  # the database's URL

    def file(self, log: Path) -> Path:
        name = hashlib.sha256(f"{self.database}\0{log}".encode()).hexdigest()[:32]
        return self.folder / f"{name}.json"

    def load(self, log: Path, digest: str, salt: str
             ) -> tuple[ParseMemo, TableMemos] | None:
        """The memo of the import that left `digest` in the database; None if there is none
        (or it is not one this version wrote)."""
        try:
            data = json.loads(self.file(log).read_bytes())
            if (data.get("version"), data.get("digest"), data.get("salt")) != (
                    MEMO_VERSION, digest, salt):
                return None
            parse = ParseMemo.from_json(data["parse"])
            tables = {int(index): memo for index, memo in data["tables"].items()}
            if set(tables) != {read.index for read in parse.tables if read.index >= 0}:
                return None
            for memo in tables.values():
                if len(memo["digests"]) != DIGEST_WIDTH * len(_keys(memo)):
                    return None
                int(memo["future"])
            return parse, tables
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def keep(self, files: Sequence[LogFile], salt: str) -> None:
        """Write the memo of each file this import read (a failure only costs the next
        import a whole reading)."""
        import os
        import tempfile

        for log in files:
            if log.parsed is None or log.parsed.memo is None or log.kept is None:
                continue
            target = self.file(log.path)
            data = {"version": MEMO_VERSION, "digest": log.digest, "salt": salt,
                    "parse": log.parsed.memo.to_json(),
                    "tables": {str(index): memo for index, memo in log.kept.items()}}
            try:
                self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=".memo-", suffix=".tmp", dir=self.folder)
                try:
                    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
                    with os.fdopen(fd, "w", encoding="utf-8") as out:
                        out.write(text)
                    os.replace(tmp, target)
                except BaseException:
                    with suppress(OSError):
                        os.unlink(tmp)
                    raise
            except OSError:
                with suppress(OSError):
                    target.unlink()


Known = dict[str, tuple[str, str | None]]  # path -> (digest, the day its reading may change)


def read_logs(paths: list[str], *, salt: str = "",
              known: Callable[[list[Path]], Known] | None = None,
              options: LogOptions | None = None, memos: Memos | None = None) -> list[LogFile]:
    """Read every file first, so a bad one stops the import before anything is written.

    `known` gives the digests stored by the last import; a file whose digest is unchanged
    is not parsed again (at 100,000 rows parsing is most of an unchanged re-import), unless
    the day has come when reading it gives something new (a planned row's date, a new year
    for dates without one). With `memos`, a changed file is read again only in the tables
    that changed (or whose context did) since its last import.
    """
    from srs.logparse import parse_log_bytes, read_log_bytes

    named: dict[Path, tuple[str, bytes]] = {}
    for name in paths:
        data = read_log_bytes(name)
        path = Path(name).resolve()
        named.setdefault(path, (name, data))  # the same log named twice is imported once
    stored = known(list(named)) if known is not None else {}
    today = options.today if options is not None else None
    files = []
    for path, (name, data) in named.items():
        digest = file_digest(data, salt)
        last, until = stored.get(str(path), ("", None))
        fresh = last == digest and (until is None or today is None
                                    or today < date.fromisoformat(until))
        if fresh:
            files.append(LogFile(path, digest, None, name))
            continue
        memo = memos.load(path, last, salt) if memos is not None and last else None
        parsed = parse_log_bytes(data, name, options, memo[0] if memo else None)
        files.append(LogFile(path, digest, parsed, name, memo[1] if memo else None))
    return files


def stored_digests(conn: SqlConn, paths: list[Path]) -> Known:
    """The digests the last import stored for these files, and when each must be read again."""
    found: Known = {}
    for path in paths:
        row = conn.one("SELECT content_hash, summary FROM log_source WHERE path = :path",
                       path=str(path))
        if row is not None:
            digest, summary = row
            until = json.loads(summary or "{}").get("read_again_on")
            found[str(path)] = (digest, until if isinstance(until, str) else None)
    return found


def planned_topics(rows: Iterable[ParsedRow], today: date,
                   is_future: Callable[[ParsedRow], bool]) -> list[tuple[ParsedRow, date | None]]:
    """The rows a log plans to study (review simulate's first new topics), in order, each
    with the day it is planned for (None: any day): pending rows, on their date when that
    is ahead, and studied rows dated in the future (`is_future`, asked only of a row with a
    date); never a rest, repeat or review row."""
    planned: list[tuple[ParsedRow, date | None]] = []
    for row in rows:
        if row.skip or row.is_review:
            continue
        if not row.studied:
            ahead = row.learned_on is not None and row.learned_on > today
            planned.append((row, row.learned_on if ahead else None))
        elif row.learned_on is not None and is_future(row):
            planned.append((row, row.learned_on))
    return planned


def read_again_on(row: ParsedRow, today: date) -> date | None:
    """The first day a row would read differently: a planned date comes, or a year begins
    for a date whose year was taken from the current one."""
    days = [test.on for test in row.self_tests if test.on > today]
    if row.learned_on and row.learned_on > today:
        days.append(row.learned_on)
    if row.year_from in ("this year", "last year"):
        days.append(date(today.year + 1, 1, 1))
    return min(days, default=None)


def stored_warnings(conn: SqlConn, path: Path) -> list[ParseWarning]:
    """The warnings the last import of a file reported."""
    summary = conn.scalar("SELECT summary FROM log_source WHERE path = :path", path=str(path))
    return [ParseWarning(*w) for w in json.loads(summary or "{}").get("warnings", [])]


def _report_unchanged(conn: SqlConn, path: Path, report: ImportReport) -> None:
    """Count an unchanged file from what its last import stored."""
    row = conn.one("SELECT id, summary FROM log_source WHERE path = :path", path=str(path))
    assert row is not None, path
    source_id, stored = row
    summary = json.loads(stored or "{}")
    report.pending += int(summary.get("pending", 0))
    report.planned += int(summary.get("planned", 0))
    report.skipped += int(summary.get("skipped", 0))
    report.warnings.extend(ParseWarning(*w) for w in summary.get("warnings", []))
    report.notes.extend(ParseWarning(*w) for w in summary.get("notes", []))
    report.cards_unchanged += int(conn.scalar(
        "SELECT count(*) FROM log_row WHERE source_id = :source AND present = :yes "
        "AND kind = 'card'", source=source_id, yes=True) or 0)
    report.no_longer_in_log.extend(_gone_cards(conn, source_id))
