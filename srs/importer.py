"""Syncing parsed log rows into cards and their log history: idempotent, nothing deleted."""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from srs.clock import local_noon
from srs.engine import Engine
from srs.i18n import _
from srs.logparse import LogRow as ParsedRow
from srs.logparse import ParseResult, ParseWarning
from srs.models import Card, LogRow, LogSource, Review
from srs.repository import active_events, replay_card

GOOD = 3


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


@dataclass
class _Known:
    """A card a review row may name."""

    id: int
    topic: str
    learned_on: date


class _Resolver:
    """Finds the card a self-test or review row names, when exactly one fits."""

    def __init__(self, session: Session) -> None:
        self.cards = [
            _Known(cid, normalise_topic(topic), learned)
            for cid, topic, learned in session.execute(
                select(Card.id, Card.topic, Card.learned_on).where(Card.merged_into.is_(None))
            )
        ]

    def add(self, card: Card) -> None:
        self.cards.append(_Known(card.id, normalise_topic(card.topic), card.learned_on))

    def resolve(self, target: str, on: date) -> int | None:
        name = normalise_topic(target)
        if len(name) < 2:
            return None
        earlier = [c for c in self.cards if c.learned_on <= on]
        exact = [c.id for c in earlier if c.topic == name]
        if exact:
            return exact[0] if len(exact) == 1 else None
        near = [c.id for c in earlier if len(c.topic) >= 2 and (name in c.topic or c.topic in name)]
        return near[0] if len(near) == 1 else None


def _expected_entries(row: ParsedRow, kind: str, tz: tzinfo) -> dict[str, tuple[datetime, int]]:
    assert row.learned_on is not None
    entries = {kind if kind == "learned" else "row": (local_noon(row.learned_on, tz), GOOD)}
    for test in row.self_tests:
        entries[f"test:{test.on.isoformat()}"] = (local_noon(test.on, tz), test.rating)
    return entries


class _FileImport:
    """The sync of one parsed file, inside the caller's transaction."""

    def __init__(self, session: Session, parsed: ParseResult, text_hash: str, path: str,
                 engine: Engine, tz: tzinfo, now: datetime, report: ImportReport,
                 resolver: _Resolver) -> None:
        self.session, self.parsed, self.engine = session, parsed, engine
        self.tz, self.now, self.report, self.resolver = tz, now, report, resolver
        self.hash, self.path = text_hash, path
        self.dirty: dict[int, Card] = {}

    def run(self) -> None:
        session = self.session
        source = session.scalars(select(LogSource).where(LogSource.path == self.path)).first()
        if source is None:
            source = LogSource(path=self.path, content_hash="")
            session.add(source)
            session.flush()
        self.source = source
        mapping = {
            lr.key: lr
            for lr in session.scalars(select(LogRow).where(LogRow.source_id == source.id))
        }
        by_row: dict[int, dict[str, Review]] = {}
        if mapping:
            for review in session.scalars(
                select(Review).where(Review.log_row_id.in_([lr.id for lr in mapping.values()]))
            ):
                assert review.log_row_id is not None and review.log_entry is not None
                by_row.setdefault(review.log_row_id, {})[review.log_entry] = review
        studied = [row for row in self.parsed.rows if row.studied and row.learned_on is not None]
        seen: set[str] = set()
        for row, key in zip(studied, row_keys(studied), strict=True):
            seen.add(key)
            self._sync_row(row, key, mapping.get(key), by_row)
        for row in self.parsed.rows:
            if not row.studied:
                self.report.pending += 1
                self.report.outcomes.append(RowOutcome(row.file, row.line, _("pending"),
                                                       topic=row.topic))
        for key, lr in mapping.items():
            if key in seen:
                continue
            lr.present = False
            if lr.kind == "card":
                card = session.get(Card, lr.card_id)
                if card is not None and card.in_log:
                    card.in_log = False
                    card.updated_at = self.now
        gone = session.scalars(
            select(Card.id).where(Card.source_id == source.id, Card.in_log.is_(False))
            .order_by(Card.id)
        )
        self.report.no_longer_in_log.extend(gone)
        self._replay()
        source.content_hash = self.hash
        source.imported_at = self.now

    def _new_card(self, row: ParsedRow) -> Card:
        assert row.learned_on is not None
        card = Card(
            topic=row.topic, notes=row.notes, section=row.section, learned_on=row.learned_on,
            source_id=self.source.id, source_line=row.line, state=1, step=0,
            due=local_noon(row.learned_on, self.tz), suspended=False, in_log=True,
            created_at=self.now, updated_at=self.now,
        )
        self.session.add(card)
        self.session.flush()
        self.resolver.add(card)
        self.report.cards_created += 1
        return card

    def _final(self, card_id: int) -> Card:
        card = self.session.get(Card, card_id)
        assert card is not None
        while card.merged_into is not None:
            nxt = self.session.get(Card, card.merged_into)
            assert nxt is not None
            card = nxt
        return card

    def _sync_row(self, row: ParsedRow, key: str, lr: LogRow | None,
                  by_row: dict[int, dict[str, Review]]) -> None:
        assert row.learned_on is not None
        created = changed = False
        if lr is None:
            target = (self.resolver.resolve(row.review_target, row.learned_on)
                      if row.is_review else None)
            if target is not None:
                own, kind = self._final(target), "review"
            else:
                own, kind, created = self._new_card(row), "card", True
            lr = LogRow(source_id=self.source.id, key=key, line=row.line, card_id=own.id,
                        kind=kind, present=True)
            self.session.add(lr)
            self.session.flush()
        else:
            own = self.session.get(Card, lr.card_id)  # type: ignore[assignment]
            assert own is not None
            lr.line, lr.present = row.line, True
            if lr.kind == "card":
                changed = self._update_fields(own, row)
        final = self._final(own.id)
        history_changed = self._sync_entries(
            row, lr, final, own, by_row.get(lr.id, {}),
            "learned" if lr.kind == "card" else "row",
        )
        if history_changed:
            self.dirty[final.id] = final
        if lr.kind == "review":
            action = _("review of card {id}").format(id=final.id)
        elif created:
            action = _("new card {id}").format(id=own.id)
        elif changed or history_changed:
            action = _("update card {id}").format(id=own.id)
            self.report.cards_updated += 1
        else:
            action = _("unchanged card {id}").format(id=own.id)
            self.report.cards_unchanged += 1
        self.report.outcomes.append(RowOutcome(row.file, row.line, action, final.id, row.topic))

    def _update_fields(self, card: Card, row: ParsedRow) -> bool:
        wanted = {"topic": row.topic, "notes": row.notes, "section": row.section,
                  "source_line": row.line, "in_log": True, "source_id": self.source.id}
        changed = False
        for name, value in wanted.items():
            if getattr(card, name) != value:
                setattr(card, name, value)
                changed = changed or name not in ("source_line",)
        if changed:
            card.updated_at = self.now
        return changed

    def _sync_entries(self, row: ParsedRow, lr: LogRow, final: Card, own: Card,
                      existing: dict[str, Review], kind: str) -> bool:
        expected = _expected_entries(row, kind, self.tz)
        changed = False
        for entry, (at, rating) in expected.items():
            review = existing.get(entry)
            if review is None:
                self.session.add(Review(
                    card_id=final.id, at=at, kind="review", rating=rating, source="log",
                    log_row_id=lr.id, log_entry=entry, recorded_at=self.now,
                    merged_from=own.id if own.id != final.id else None,
                ))
                self.report.reviews_added += 1
                changed = True
            elif (review.rating != rating or review.undone_at is not None or review.at != at
                  or review.card_id != final.id):
                # An entry undone before a merge comes back on the card it was merged into.
                review.rating, review.undone_at, review.at = rating, None, at
                review.card_id = final.id
                review.merged_from = own.id if own.id != final.id else None
                changed = True
        for entry, review in existing.items():
            if entry not in expected and review.undone_at is None:
                # The entry left the log: keep the row as a trace, stop counting it.
                review.undone_at = self.now
                changed = True
        return changed

    def _replay(self) -> None:
        if not self.dirty:
            return
        self.session.flush()
        events = active_events(self.session, list(self.dirty))
        for card_id, card in self.dirty.items():
            replay_card(self.session, self.engine, card, self.now, events[card_id])


def import_parsed(session: Session, files: list[tuple[Path, ParseResult, str]], *,
                  engine: Engine, tz: tzinfo, now: datetime,
                  progress: Callable[[int], None] | None = None) -> ImportReport:
    """Sync parsed files (path, result, text hash) into the database in the caller's transaction."""
    report = ImportReport()
    resolver = _Resolver(session)
    for path, parsed, text_hash in files:
        report.warnings.extend(parsed.warnings)
        report.notes.extend(parsed.notes)
        _FileImport(session, parsed, text_hash, str(path), engine, tz, now, report,
                    resolver).run()
        if progress is not None:
            progress(len(parsed.rows))
    report.outcomes.extend(
        RowOutcome(w.file, w.line, _("warning: {reason}").format(reason=w.message))
        for w in report.warnings
    )
    report.outcomes.sort(key=lambda o: (o.file, o.line))
    return report


def read_logs(paths: list[str]) -> list[tuple[Path, ParseResult, str]]:
    """Parse every file first, so a bad one stops the import before anything is written."""
    from srs.logparse import read_log

    files = []
    seen: set[Path] = set()
    for name in paths:
        parsed = read_log(name)
        path = Path(name).resolve()
        if path in seen:  # the same log named twice (overlapping globs) is imported once
            continue
        seen.add(path)
        files.append((path, parsed, content_hash_bytes(path.read_bytes())))
    return files


def content_hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
