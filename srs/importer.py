"""Syncing parsed log rows into cards and their log history: idempotent, nothing deleted."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from srs.clock import DayClock
from srs.engine import Engine, Event
from srs.errors import SrsError
from srs.i18n import _
from srs.logparse import LogOptions, ParseResult, ParseWarning, normalise_topic
from srs.logparse import LogRow as ParsedRow
from srs.models import Card, LogRow, LogSource, Review
from srs.schedule import follow_clock, mark_clock, replay_cards
from srs.sql import SessionConn

GOOD = 3
LONGEST_TARGET = 200  # a review row naming a topic longer than this names no known topic
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
    planned: int = 0  # rows dated after now: they become cards once that day comes
    skipped: int = 0  # rest days and repeats of a row of another table
    warnings: list[ParseWarning] = field(default_factory=list)
    notes: list[ParseWarning] = field(default_factory=list)
    no_longer_in_log: list[int] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)
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


def is_future(row: ParsedRow, clock: DayClock, now: datetime) -> bool:
    """True for a row dated after now: a plan, not something studied."""
    assert row.learned_on is not None
    today = clock.day_of(now)
    if row.learned_on != today:
        return row.learned_on > today
    return row.learned_at is not None and log_moment(row.learned_on, row.learned_at, clock,
                                                     now)[0] > now


def _expected_entries(row: ParsedRow, kind: str, clock: DayClock,
                      now: datetime) -> dict[str, _Entry]:
    """The reviews a row records, and the self-tests it plans (dated after today, or
    unmarked in a column of planned dates)."""
    assert row.learned_on is not None
    today = clock.day_of(now)
    at, exact = log_moment(row.learned_on, row.learned_at, clock, now)
    entries = {kind: _Entry(at, row.learned_rating, exact=exact,
                            note=(row.notes or None) if kind == "row" else None)}
    for test in row.self_tests:
        day = test.on.isoformat()
        if test.on > today or test.planned:
            entries[f"plan:{day}"] = _Entry(clock.moment_of(test.on), None, "plan",
                                            due_set=test.on)
        else:
            at, exact = log_moment(test.on, None, clock, now)
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


@dataclass
class _Existing:
    """A log review already in the database."""

    id: int
    card_id: int
    at: datetime
    rating: int | None
    undone: bool
    source: str
    kind: str = "review"
    due_set: date | None = None
    note: str | None = None


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
    """The sync of one parsed file, inside the caller's transaction, in bulk statements."""

    def __init__(self, session: Session, parsed: ParseResult, text_hash: str, path: str,
                 engine: Engine, now: datetime, report: ImportReport,
                 resolver: _Resolver, merged: dict[int, int]) -> None:
        self.session, self.parsed, self.engine = session, parsed, engine
        self.clock, self.now, self.report, self.resolver = engine.clock, now, report, resolver
        self.hash, self.path, self.merged = text_hash, path, merged
        self.dirty: set[int] = set()
        self.new_cards: list[dict[str, Any]] = []
        self.future: list[ParsedRow] = []
        self.ambiguous: dict[int, list[int]] = {}  # line -> the cards a review row could mean

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
            for (rid, row_id, entry, card_id, at, rating, undone, origin, kind, due_set,
                 note) in session.execute(
                select(Review.id, Review.log_row_id, Review.log_entry, Review.card_id,
                       Review.at, Review.rating, Review.undone_at.is_not(None), Review.source,
                       Review.kind, Review.due_set, Review.note)
                .join(LogRow, LogRow.id == Review.log_row_id)
                .where(LogRow.source_id == source.id)
            ):
                assert row_id is not None and entry is not None
                existing.setdefault(row_id, {})[entry] = _Existing(
                    rid, card_id, at, rating, bool(undone), origin, kind, due_set, note)
        own_cards = {
            cid: (topic, notes, section, line, in_log)
            for cid, topic, notes, section, line, in_log in session.execute(
                select(Card.id, Card.topic, Card.notes, Card.section, Card.source_line,
                       Card.in_log).where(Card.source_id == source.id))
        }
        dated = [row for row in self.parsed.rows
                 if row.studied and row.learned_on is not None and not row.skip]
        self.future = [row for row in dated if is_future(row, self.clock, self.now)]
        studied = [row for row in dated if not is_future(row, self.clock, self.now)]
        keys = row_keys(studied)
        legacy = row_keys(studied, raw=True)
        planned = []
        for row, key, old_key in zip(studied, keys, legacy, strict=True):
            mapped = mapping.get(key)
            if mapped is None and old_key != key and old_key in mapping:
                mapped = mapping.pop(old_key)  # the key an earlier version made of the row
                mapping[key] = mapped
                self.session.execute(update(LogRow).where(LogRow.id == mapped.id).values(
                    key=key))
            planned.append(self._plan_row(row, key, mapped, own_cards))
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
        source.summary = _summary(self.parsed, self.clock.day_of(self.now), len(self.future))

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
        options = (self.resolver.candidates(row.review_target, row.learned_on)
                   if row.is_review else [])
        if len(options) == 1:
            return _PlannedRow(row, key, self._final(options[0]), "review", None)
        if len(options) > 1:
            self.ambiguous[row.line] = options  # cards made by this import: placeholders yet
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
                                         self.clock, self.now)
            for entry, want in expected.items():
                old = have.get(entry)
                if old is not None and old.source != "log":
                    # A self-test graded here and written back into the log: the grade
                    # recorded at the time stands (and stays undone if it was undone).
                    continue
                if old is None:
                    new_reviews.append((plan, dict(
                        card_id=final, at=want.at, kind=want.kind, rating=want.rating,
                        source="log", log_row_id=plan.log_row_id, log_entry=entry,
                        recorded_at=self.now, merged_from=merged_from, note=want.note,
                        duration=None, due_set=want.due_set, state_before=None,
                        undone_at=None)))
                elif self._differs(old, want, final):
                    # An entry undone before a merge comes back on the card it was merged into.
                    moved = want.exact and old.at != want.at or (
                        not want.exact and self.clock.day_of(old.at) != self.clock.day_of(
                            want.at))
                    changes.append(dict(id=old.id, rating=want.rating,
                                        at=want.at if moved else old.at, undone_at=None,
                                        card_id=final, merged_from=merged_from, kind=want.kind,
                                        due_set=want.due_set, note=want.note))
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
            self.report.reviews_added += sum(1 for _plan, review in new_reviews
                                             if review["kind"] == "review")
        if changes:
            self.session.execute(update(Review), changes)

    def _differs(self, old: _Existing, want: _Entry, card_id: int) -> bool:
        """Whether a stored log entry must change to say what the log says now.

        A date-only entry compares by its study day: a row dated today and first read in
        the morning keeps the moment it was given then.
        """
        if want.exact:
            moved = old.at != want.at
        else:
            moved = self.clock.day_of(old.at) != self.clock.day_of(want.at)
        return (moved or old.rating != want.rating or old.undone or old.card_id != card_id
                or old.kind != want.kind or old.due_set != want.due_set
                or old.note != want.note)

    def _insert_new_cards(self, new_reviews: list[dict[str, Any]]) -> None:
        """Replay each new card's history in memory and insert it with its final state."""
        for review in new_reviews:  # what each self-test did: for existing cards, the replay
            review.update(study_day=None, prior_state=None, elapsed_days=None,
                          retrievability=None, stability=None, difficulty=None)
        if not self.new_cards:
            return
        events: dict[int, list[Event]] = {card["id"]: [] for card in self.new_cards}
        rows: dict[int, list[dict[str, Any]]] = {card["id"]: [] for card in self.new_cards}
        for review in new_reviews:
            if review["card_id"] in events:
                events[review["card_id"]].append(Event(
                    review["at"], review["rating"], review["due_set"],
                    plan=review["kind"] == "plan"))
                rows[review["card_id"]].append(review)
        for card in self.new_cards:
            history = events[card["id"]]
            if history and not all(event.plan for event in history):
                state, steps = self.engine.replay_history(card["id"], history)
                for review, step in zip(rows[card["id"]], steps, strict=True):
                    if step is not None:
                        review.update(study_day=step.study_day, prior_state=step.prior_state,
                                      elapsed_days=step.elapsed_days,
                                      retrievability=step.retrievability,
                                      stability=step.stability, difficulty=step.difficulty)
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
            could = [self._final(ids.get(card, card)) for card in
                     self.ambiguous.get(plan.row.line, [])]
            if could:
                action += " " + _("(a review row that could mean cards {ids}: made its own "
                                  "card)").format(ids=", ".join(map(str, sorted(could))))
            if plan.row.year_from:
                action += " " + _("[{date}, year {source}]").format(
                    date=plan.row.learned_on, source=_year_source(plan.row.year_from))
            report.outcomes.append(RowOutcome(plan.row.file, plan.row.line, action,
                                              self._final(own), plan.row.topic))
        for row in self.future:
            report.planned += 1
            report.outcomes.append(RowOutcome(row.file, row.line, _(
                "planned for {day}: a card from that day on").format(day=row.learned_on),
                topic=row.topic))
        for row in self.parsed.rows:
            if row.skip == "rest":
                report.skipped += 1
                report.outcomes.append(RowOutcome(row.file, row.line, _("rest day: no card"),
                                                  topic=row.topic))
            elif row.skip.startswith("repeat:"):
                report.skipped += 1
                report.outcomes.append(RowOutcome(row.file, row.line, _(
                    "repeats line {line}: the same card").format(line=row.skip[7:]),
                    topic=row.topic))
            elif not row.studied:
                report.pending += 1
                report.outcomes.append(RowOutcome(row.file, row.line, _("pending"),
                                                  topic=row.topic))


def import_parsed(session: Session, files: Sequence[Iterable[Any]], *,
                  engine: Engine, now: datetime,
                  progress: Callable[[int], None] | None = None,
                  as_new: bool = False) -> ImportReport:
    """Sync parsed files (path, result, text hash) into the database in the caller's transaction.

    Log reviews are dated inside their study days with the engine's clock, and the
    schedule is recorded as following that clock. A file at a new path that holds the
    rows of a known log whose file is gone is that log, moved (unless `as_new`).
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
        if not as_new:
            moved = adopt_moved_log(session, Path(path), parsed, engine.clock, now)
            if moved is not None:
                report.moved.append({"from": moved, "to": str(path)})
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


SAME_LOG = 0.9  # the share of a known log's rows a file must hold to be that log, moved


class LogMoved(SrsError):
    """A file that holds a known log whose file still exists: moved, or a copy?"""


def adopt_moved_log(session: Session, path: Path, parsed: ParseResult, clock: DayClock,
                    now: datetime) -> str | None:
    """Move a known log to `path` when this new file holds at least 90 % of its rows.

    Returns the old path when the log was moved (its file is gone). Raises LogMoved when
    the old file still exists: a copy and a move cannot be told apart, so the person says.
    """
    if session.scalar(select(LogSource.id).where(LogSource.path == str(path))) is not None:
        return None
    rows = [row for row in parsed.rows if row.studied and row.learned_on is not None
            and not row.skip and not is_future(row, clock, now)]
    keys = set(row_keys(rows)) | set(row_keys(rows, raw=True))
    if not keys:
        return None
    for source_id, old_path in session.execute(select(LogSource.id, LogSource.path)):
        known = set(session.scalars(select(LogRow.key).where(
            LogRow.source_id == source_id, LogRow.present.is_(True))))
        if not known or len(known & keys) < SAME_LOG * len(known):
            continue
        if Path(old_path).exists():
            raise LogMoved(_(
                "{new} holds the rows of {old} ({n} of {total}), which is still there; "
                "if the log moved, run 'review logs move {old} {new}'; to import it as a "
                "log of its own, add --as-new").format(
                    new=path, old=old_path, n=len(known & keys), total=len(known)))
        session.execute(update(LogSource).where(LogSource.id == source_id).values(
            path=str(path)))
        return str(old_path)
    return None


# Part of every stored digest: a new reading of logs, or another clock (log reviews are put
# inside their study days), makes every file count as changed once.
IMPORT_VERSION = "2"


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

    def __iter__(self) -> Any:  # (path, parsed, digest), as import_parsed takes them
        return iter((self.path, self.parsed, self.digest))


def file_digest(data: bytes, salt: str) -> str:
    return hashlib.sha256(f"{IMPORT_VERSION}\0{salt}\0".encode() + data).hexdigest()


Known = dict[str, tuple[str, str | None]]  # path -> (digest, the day its reading may change)


def read_logs(paths: list[str], *, salt: str = "",
              known: Callable[[list[Path]], Known] | None = None,
              options: LogOptions | None = None) -> list[LogFile]:
    """Read every file first, so a bad one stops the import before anything is written.

    `known` gives the digests stored by the last import; a file whose digest is unchanged
    is not parsed again (at 100,000 rows parsing is most of an unchanged re-import), unless
    the day has come when reading it gives something new (a planned row's date, a new year
    for dates without one).
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
        parsed = None if fresh else parse_log_bytes(data, name, options)
        files.append(LogFile(path, digest, parsed, name))
    return files


def stored_digests(session: Session, paths: list[Path]) -> Known:
    """The digests the last import stored for these files, and when each must be read again."""
    names = [str(p) for p in paths]
    found: Known = {}
    for path, digest, summary in session.execute(
            select(LogSource.path, LogSource.content_hash, LogSource.summary)
            .where(LogSource.path.in_(names))):
        until = json.loads(summary or "{}").get("read_again_on")
        found[path] = (digest, until if isinstance(until, str) else None)
    return found


def read_again_on(parsed: ParseResult, today: date) -> date | None:
    """The first day the same log would read differently: a planned date comes, or a year
    begins for dates whose year was taken from the current one."""
    days = [row.learned_on for row in parsed.rows if row.learned_on and row.learned_on > today]
    days += [test.on for row in parsed.rows for test in row.self_tests if test.on > today]
    if any(row.year_from in ("this year", "last year") for row in parsed.rows):
        days.append(date(today.year + 1, 1, 1))
    return min(days, default=None)


def _summary(parsed: ParseResult, today: date, planned: int) -> str:
    def dump(items: list[ParseWarning]) -> list[list[Any]]:
        return [[w.file, w.line, w.message] for w in items]

    again = read_again_on(parsed, today)
    return json.dumps({"rows": len(parsed.rows), "pending": len(parsed.pending),
                       "planned": planned,
                       "skipped": sum(1 for row in parsed.rows if row.skip),
                       "warnings": dump(parsed.warnings), "notes": dump(parsed.notes),
                       "read_again_on": again.isoformat() if again else None},
                      ensure_ascii=False)


def stored_warnings(session: Session, path: Path) -> list[ParseWarning]:
    """The warnings the last import of a file reported."""
    summary = session.scalar(select(LogSource.summary).where(LogSource.path == str(path)))
    return [ParseWarning(*w) for w in json.loads(summary or "{}").get("warnings", [])]


def _report_unchanged(session: Session, path: Path, report: ImportReport) -> None:
    """Count an unchanged file from what its last import stored."""
    source = session.scalars(select(LogSource).where(LogSource.path == str(path))).one()
    summary = json.loads(source.summary or "{}")
    report.pending += int(summary.get("pending", 0))
    report.planned += int(summary.get("planned", 0))
    report.skipped += int(summary.get("skipped", 0))
    report.warnings.extend(ParseWarning(*w) for w in summary.get("warnings", []))
    report.notes.extend(ParseWarning(*w) for w in summary.get("notes", []))
    report.cards_unchanged += int(session.scalar(
        select(func.count()).select_from(LogRow).where(
            LogRow.source_id == source.id, LogRow.present.is_(True), LogRow.kind == "card"))
        or 0)
    report.no_longer_in_log.extend(session.scalars(
        select(Card.id).where(Card.source_id == source.id, Card.in_log.is_(False))
        .order_by(Card.id)))
