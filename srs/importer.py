"""Syncing parsed log rows into cards and their log history: idempotent, nothing deleted."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from srs.clock import DayClock
from srs.engine import Engine, Event
from srs.i18n import _
from srs.logparse import LogRow as ParsedRow
from srs.logparse import ParseResult, ParseWarning
from srs.models import Card, LogRow, LogSource, Review
from srs.schedule import follow_clock, mark_clock, replay_cards
from srs.sql import SessionConn

GOOD = 3
# Core tables for the bulk statements: much faster than ORM inserts at 100,000 rows.
CARD: Table = Card.__table__  # type: ignore[assignment]
LOG_ROW: Table = LogRow.__table__  # type: ignore[assignment]
REVIEW: Table = Review.__table__  # type: ignore[assignment]


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
    warnings: list[ParseWarning] = field(default_factory=list)
    notes: list[ParseWarning] = field(default_factory=list)
    no_longer_in_log: list[int] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "cards_created": self.cards_created,
            "cards_updated": self.cards_updated,
            "cards_unchanged": self.cards_unchanged,
            "reviews_added": self.reviews_added,
            "pending": self.pending,
            "warnings": [{"file": w.file, "line": w.line, "message": w.message}
                         for w in self.warnings],
            "no_longer_in_log": self.no_longer_in_log,
        }


def normalise_topic(topic: str) -> str:
    """A topic as compared for identity: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", topic).casefold().split())


def row_keys(rows: list[ParsedRow]) -> list[str]:
    """Each studied row's identity: topic and learned date, with an ordinal for exact repeats."""
    seen: Counter[tuple[str, date | None]] = Counter()
    keys = []
    for row in rows:
        ident = (normalise_topic(row.topic), row.learned_on)
        keys.append(f"{ident[0]}|{row.learned_on}|{seen[ident]}")
        seen[ident] += 1
    return keys


class _Resolver:
    """Finds the card a self-test or review row names, when exactly one fits.

    Topics are indexed so that a log of 100,000 rows does not compare every review row
    with every card: an exact match is a dict look-up, "the name is part of a topic" is a
    search in one joined string, and "a topic is part of the name" looks up each piece of
    the (short) name.
    """

    def __init__(self, cards: list[tuple[int, str, date]]) -> None:
        self.by_topic: dict[str, list[tuple[int, date]]] = {}
        self._blob = ""
        self._starts: list[int] = []
        self._indexed: list[str] = []
        self._recent: list[str] = []
        for card_id, topic, learned in cards:
            self.add(card_id, topic, learned)
        self._reindex()

    def add(self, card_id: int, topic: str, learned_on: date) -> None:
        name = normalise_topic(topic)
        if name not in self.by_topic:
            self.by_topic[name] = []
            self._recent.append(name)
        self.by_topic[name].append((card_id, learned_on))

    def rename(self, ids: dict[int, int]) -> None:
        """Give cards added under placeholder ids their real ids."""
        for cards in self.by_topic.values():
            cards[:] = [(ids.get(cid, cid), learned) for cid, learned in cards]

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
        return {name[i:j] for i in range(len(name)) for j in range(i + 2, len(name) + 1)
                if name[i:j] in self.by_topic}

    def resolve(self, target: str, on: date) -> int | None:
        name = normalise_topic(target)
        if len(name) < 2:
            return None

        def earlier(topics: set[str]) -> list[int]:
            return [cid for t in topics for cid, learned in self.by_topic[t] if learned <= on]

        exact = earlier({name} if name in self.by_topic else set())
        if exact:
            return exact[0] if len(exact) == 1 else None
        near = earlier(self._topics_containing(name) | self._topics_inside(name))
        return near[0] if len(near) == 1 else None


def _expected_entries(row: ParsedRow, kind: str,
                      clock: DayClock) -> dict[str, tuple[datetime, int]]:
    """The reviews a row records; a log gives dates only, so each is put inside its study day."""
    assert row.learned_on is not None
    entries = {kind: (clock.moment_of(row.learned_on), GOOD)}
    for test in row.self_tests:
        entries[f"test:{test.on.isoformat()}"] = (clock.moment_of(test.on), test.rating)
    return entries


@dataclass
class _Mapped:
    """A log row already known from an earlier import."""

    id: int
    card_id: int
    kind: str
    line: int
    present: bool


@dataclass
class _Existing:
    """A log review already in the database."""

    id: int
    card_id: int
    at: datetime
    rating: int | None
    undone: bool
    source: str


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


class _FileImport:
    """The sync of one parsed file, inside the caller's transaction, in bulk statements."""

    def __init__(self, session: Session, parsed: ParseResult, text_hash: str, path: str,
                 engine: Engine, now: datetime, report: ImportReport,
                 resolver: _Resolver, merged: dict[int, int]) -> None:
        self.session, self.parsed, self.engine = session, parsed, engine
        self.clock, self.now, self.report, self.resolver = engine.clock, now, report, resolver
        self.hash, self.path, self.merged = text_hash, path, merged
        self.dirty: set[int] = set()
        self.new_cards: list[dict[str, Any]] = []

    def _final(self, card_id: int) -> int:
        seen = 0
        while card_id in self.merged and seen < 1000:
            card_id, seen = self.merged[card_id], seen + 1
        return card_id

    def run(self) -> None:
        session = self.session
        source = session.scalars(select(LogSource).where(LogSource.path == self.path)).first()
        if source is None:
            source = LogSource(path=self.path, content_hash="")
            session.add(source)
            session.flush()
        self.source_id = source.id
        mapping = {
            key: _Mapped(lr_id, card_id, kind, line, present)
            for lr_id, key, card_id, kind, line, present in session.execute(
                select(LogRow.id, LogRow.key, LogRow.card_id, LogRow.kind, LogRow.line,
                       LogRow.present).where(LogRow.source_id == source.id))
        }
        existing: dict[int, dict[str, _Existing]] = {}
        if mapping:
            for rid, row_id, entry, card_id, at, rating, undone, origin in session.execute(
                select(Review.id, Review.log_row_id, Review.log_entry, Review.card_id,
                       Review.at, Review.rating, Review.undone_at.is_not(None), Review.source)
                .join(LogRow, LogRow.id == Review.log_row_id)
                .where(LogRow.source_id == source.id)
            ):
                assert row_id is not None and entry is not None
                existing.setdefault(row_id, {})[entry] = _Existing(rid, card_id, at, rating,
                                                                   bool(undone), origin)
        own_cards = {
            cid: (topic, notes, section, line, in_log)
            for cid, topic, notes, section, line, in_log in session.execute(
                select(Card.id, Card.topic, Card.notes, Card.section, Card.source_line,
                       Card.in_log).where(Card.source_id == source.id))
        }
        studied = [row for row in self.parsed.rows if row.studied and row.learned_on is not None]
        planned = [self._plan_row(row, key, mapping.get(key), own_cards)
                   for row, key in zip(studied, row_keys(studied), strict=True)]
        ids = self._allocate_ids()
        self._write_rows(planned, ids, existing)
        seen = {p.key for p in planned}
        gone_rows = [m for key, m in mapping.items() if key not in seen]
        self._mark_gone(gone_rows, own_cards)
        self._replay({ids.get(ref, ref) for ref in self.dirty})
        self._report(planned, ids)
        self.report.no_longer_in_log.extend(session.scalars(
            select(Card.id).where(Card.source_id == source.id, Card.in_log.is_(False))
            .order_by(Card.id)))
        source.content_hash = self.hash
        source.imported_at = self.now
        source.summary = _summary(self.parsed)

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
                    self.session.execute(
                        update(Card).where(Card.id == mapped.card_id).values(
                            topic=row.topic, notes=row.notes, section=row.section,
                            source_line=row.line, in_log=True, source_id=self.source_id,
                            **({"updated_at": self.now} if plan.changed else {})))
            if mapped.line != row.line or not mapped.present:
                self.session.execute(update(LogRow).where(LogRow.id == mapped.id).values(
                    line=row.line, present=True))
            return plan
        target = (self.resolver.resolve(row.review_target, row.learned_on)
                  if row.is_review else None)
        if target is not None:
            return _PlannedRow(row, key, self._final(target), "review", None)
        ref = -(len(self.new_cards) + 1)
        self.new_cards.append(dict(
            topic=row.topic, notes=row.notes, section=row.section, learned_on=row.learned_on,
            source_id=self.source_id, source_line=row.line, state=1, step=0,
            due=row.learned_on, suspended=False, in_log=True,
            created_at=self.now, updated_at=self.now, stability=None, difficulty=None,
            last_review=None, last_review_day=None))
        self.resolver.add(ref, row.topic, row.learned_on)
        return _PlannedRow(row, key, ref, "card", None, created=True)

    def _allocate_ids(self) -> dict[int, int]:
        """Real ids for the new cards (placeholder -> id), taken before they are inserted.

        Knowing the ids first lets each new card be replayed (its fuzz is seeded by id) and
        inserted once with its final state, instead of inserted and then updated.
        """
        count = len(self.new_cards)
        if not count:
            return {}
        if self.session.get_bind().dialect.name == "postgresql":
            taken = list(self.session.scalars(text(
                "SELECT nextval(pg_get_serial_sequence('card', 'id')) "
                "FROM generate_series(1, :n)"), {"n": count}))
        else:  # inside BEGIN IMMEDIATE: nobody else can take these
            first = int(self.session.scalar(select(func.coalesce(func.max(Card.id), 0))) or 0) + 1
            taken = list(range(first, first + count))
        ids = {-(n + 1): card_id for n, card_id in enumerate(taken)}
        for card, card_id in zip(self.new_cards, taken, strict=True):
            card["id"] = card_id
        self.resolver.rename(ids)
        return ids

    def _write_rows(self, planned: list[_PlannedRow], ids: dict[int, int],
                    existing: dict[int, dict[str, _Existing]]) -> None:
        new_reviews: list[tuple[_PlannedRow, dict[str, Any]]] = []
        changes: list[dict[str, Any]] = []
        for plan in planned:
            own = ids.get(plan.card_ref, plan.card_ref)
            final = self._final(own)
            merged_from = own if own != final else None
            have = existing.get(plan.log_row_id, {}) if plan.log_row_id is not None else {}
            expected = _expected_entries(plan.row, "learned" if plan.kind == "card" else "row",
                                         self.clock)
            for entry, (at, rating) in expected.items():
                old = have.get(entry)
                if old is not None and old.source != "log":
                    # A self-test graded here and written back into the log: the grade
                    # recorded at the time stands (and stays undone if it was undone).
                    continue
                if old is None:
                    new_reviews.append((plan, dict(
                        card_id=final, at=at, kind="review", rating=rating, source="log",
                        log_row_id=plan.log_row_id, log_entry=entry, recorded_at=self.now,
                        merged_from=merged_from, note=None, duration=None, due_set=None,
                        state_before=None, undone_at=None)))
                elif old.rating != rating or old.undone or old.at != at or old.card_id != final:
                    # An entry undone before a merge comes back on the card it was merged into.
                    changes.append(dict(id=old.id, rating=rating, at=at, undone_at=None,
                                        card_id=final, merged_from=merged_from))
                    self.dirty.add(old.card_id)
                else:
                    continue
                plan.history_changed = True
                self.dirty.add(final)
            for entry, old in have.items():
                if entry not in expected and not old.undone and old.source == "log":
                    # The entry left the log: keep the row as a trace, stop counting it.
                    self.session.execute(update(Review).where(Review.id == old.id).values(
                        undone_at=self.now))
                    plan.history_changed = True
                    self.dirty.add(old.card_id)
        self._insert_new_cards([review for _plan, review in new_reviews])
        fresh = [p for p in planned if p.log_row_id is None]
        if fresh:
            result = self.session.execute(
                insert(LOG_ROW).returning(LOG_ROW.c.id, sort_by_parameter_order=True),
                [dict(source_id=self.source_id, key=p.key, line=p.row.line,
                      card_id=ids.get(p.card_ref, p.card_ref), kind=p.kind, present=True)
                 for p in fresh])
            for plan, row_id in zip(fresh, result.scalars(), strict=True):
                plan.log_row_id = row_id
        if new_reviews:
            for plan, review in new_reviews:
                review["log_row_id"] = plan.log_row_id
            self.session.execute(insert(REVIEW), [review for _plan, review in new_reviews])
            self.report.reviews_added += len(new_reviews)
        if changes:
            self.session.execute(update(Review), changes)

    def _insert_new_cards(self, new_reviews: list[dict[str, Any]]) -> None:
        """Replay each new card's history in memory and insert it with its final state."""
        if not self.new_cards:
            return
        events: dict[int, list[Event]] = {card["id"]: [] for card in self.new_cards}
        for review in new_reviews:
            if review["card_id"] in events:
                events[review["card_id"]].append(Event(review["at"], review["rating"]))
        for card in self.new_cards:
            history = events[card["id"]]
            if history:
                state = self.engine.replay(card["id"], history)
                card.update(state=state.state, step=state.step, stability=state.stability,
                            difficulty=state.difficulty, due=state.due,
                            last_review=state.last_review,
                            last_review_day=self.clock.day_of(state.last_review).toordinal()
                            if state.last_review else None)
            self.dirty.discard(card["id"])
        self.session.execute(insert(CARD), self.new_cards)

    def _mark_gone(self, gone: list[_Mapped],
                   own_cards: dict[int, tuple[str, str, str, int | None, bool]]) -> None:
        present = [m.id for m in gone if m.present]
        for start in range(0, len(present), 500):
            self.session.execute(update(LogRow).where(LogRow.id.in_(present[start:start + 500]))
                                 .values(present=False))
        cards = [m.card_id for m in gone
                 if m.kind == "card" and own_cards.get(m.card_id, ("", "", "", 0, False))[4]]
        for start in range(0, len(cards), 500):
            self.session.execute(update(Card).where(Card.id.in_(cards[start:start + 500]))
                                 .values(in_log=False, updated_at=self.now))

    def _replay(self, card_ids: set[int]) -> None:
        """Recompute the state of every card whose history changed, in one bulk update."""
        if card_ids:
            self.session.flush()
            replay_cards(SessionConn(self.session), self.engine, self.now, sorted(card_ids))

    def _report(self, planned: list[_PlannedRow], ids: dict[int, int]) -> None:
        report = self.report
        for plan in planned:
            own = ids.get(plan.card_ref, plan.card_ref)
            if plan.kind == "review":
                action = _("review of card {id}").format(id=self._final(own))
            elif plan.created:
                report.cards_created += 1
                action = _("new card {id}").format(id=own)
            elif plan.changed or plan.history_changed:
                report.cards_updated += 1
                action = _("update card {id}").format(id=own)
            else:
                report.cards_unchanged += 1
                action = _("unchanged card {id}").format(id=own)
            report.outcomes.append(RowOutcome(plan.row.file, plan.row.line, action,
                                              self._final(own), plan.row.topic))
        for row in self.parsed.rows:
            if not row.studied:
                report.pending += 1
                report.outcomes.append(RowOutcome(row.file, row.line, _("pending"),
                                                  topic=row.topic))


def import_parsed(session: Session, files: Sequence[Iterable[Any]], *,
                  engine: Engine, now: datetime,
                  progress: Callable[[int], None] | None = None) -> ImportReport:
    """Sync parsed files (path, result, text hash) into the database in the caller's transaction.

    Log reviews are dated inside their study days with the engine's clock, and the
    schedule is recorded as following that clock.
    """
    report = ImportReport()
    conn = SessionConn(session)
    follow_clock(conn, engine, now)  # the cards already here, replayed if the clock changed
    resolver = _Resolver(list(session.execute(
        select(Card.id, Card.topic, Card.learned_on).where(Card.merged_into.is_(None)))))
    merged: dict[int, int] = {
        card_id: into for card_id, into in session.execute(
            select(Card.id, Card.merged_into).where(Card.merged_into.is_not(None)))
        if into is not None}
    for path, parsed, text_hash in files:
        if parsed is None:
            _report_unchanged(session, path, report)
            continue
        report.warnings.extend(parsed.warnings)
        report.notes.extend(parsed.notes)
        _FileImport(session, parsed, text_hash, str(path), engine, now, report,
                    resolver, merged).run()
        if progress is not None:
            progress(len(parsed.rows))
    report.outcomes.extend(
        RowOutcome(w.file, w.line, _("warning: {reason}").format(reason=w.message))
        for w in report.warnings
    )
    report.outcomes.sort(key=lambda o: (o.file, o.line))
    session.flush()
    mark_clock(conn, engine.clock)
    return report


# Part of every stored digest: a new reading of logs, or another clock (log reviews are put
# inside their study days), makes every file count as changed once.
IMPORT_VERSION = "2"


def import_salt(clock: DayClock) -> str:
    """What the digest of a log depends on besides its bytes: the clock its dates are read with."""
    return f"{clock.zone_name}@{clock.day_starts_at}"


@dataclass
class LogFile:
    """A log named on the command line: its digest, and its rows unless it is unchanged."""

    path: Path
    digest: str
    parsed: ParseResult | None  # None: the same bytes were imported last time

    def __iter__(self) -> Any:  # (path, parsed, digest), as import_parsed takes them
        return iter((self.path, self.parsed, self.digest))


def file_digest(data: bytes, salt: str) -> str:
    return hashlib.sha256(f"{IMPORT_VERSION}\0{salt}\0".encode() + data).hexdigest()


def read_logs(paths: list[str], *, salt: str = "",
              known: Callable[[list[Path]], dict[str, str]] | None = None) -> list[LogFile]:
    """Read every file first, so a bad one stops the import before anything is written.

    `known` gives the digests stored by the last import; a file whose digest is unchanged
    is not parsed again (at 100,000 rows parsing is most of an unchanged re-import).
    """
    from srs.logparse import parse_log_bytes, read_log_bytes

    named: dict[Path, tuple[str, bytes]] = {}
    for name in paths:
        data = read_log_bytes(name)
        path = Path(name).resolve()
        named.setdefault(path, (name, data))  # the same log named twice is imported once
    stored = known(list(named)) if known is not None else {}
    files = []
    for path, (name, data) in named.items():
        digest = file_digest(data, salt)
        parsed = None if stored.get(str(path)) == digest else parse_log_bytes(data, name)
        files.append(LogFile(path, digest, parsed))
    return files


def stored_digests(session: Session, paths: list[Path]) -> dict[str, str]:
    """The digests the last import stored for these files."""
    names = [str(p) for p in paths]
    return {path: digest for path, digest in session.execute(
        select(LogSource.path, LogSource.content_hash).where(LogSource.path.in_(names)))}


def _summary(parsed: ParseResult) -> str:
    def dump(items: list[ParseWarning]) -> list[list[Any]]:
        return [[w.file, w.line, w.message] for w in items]

    return json.dumps({"pending": len(parsed.pending), "warnings": dump(parsed.warnings),
                       "notes": dump(parsed.notes)}, ensure_ascii=False)


def stored_warnings(session: Session, path: Path) -> list[ParseWarning]:
    """The warnings the last import of a file reported."""
    summary = session.scalar(select(LogSource.summary).where(LogSource.path == str(path)))
    return [ParseWarning(*w) for w in json.loads(summary or "{}").get("warnings", [])]


def _report_unchanged(session: Session, path: Path, report: ImportReport) -> None:
    """Count an unchanged file from what its last import stored."""
    source = session.scalars(select(LogSource).where(LogSource.path == str(path))).one()
    summary = json.loads(source.summary or "{}")
    report.pending += int(summary.get("pending", 0))
    report.warnings.extend(ParseWarning(*w) for w in summary.get("warnings", []))
    report.notes.extend(ParseWarning(*w) for w in summary.get("notes", []))
    report.cards_unchanged += int(session.scalar(
        select(func.count()).select_from(LogRow).where(
            LogRow.source_id == source.id, LogRow.present.is_(True), LogRow.kind == "card"))
        or 0)
    report.no_longer_in_log.extend(session.scalars(
        select(Card.id).where(Card.source_id == source.id, Card.in_log.is_(False))
        .order_by(Card.id)))
