"""`review check`: is the stored data whole and consistent, and can it be put right?

Checks, in order: the database file itself (SQLite's integrity check), references between
rows, values inside their ranges, every card's stored FSRS state against the replay of its
history, and each imported log against the digest stored at its last import. A card's
state is derived data, so `repair` re-derives it from the history (and rebuilds damaged
SQLite indexes); nothing a person recorded is changed or deleted.

Runs on an `SqlConn` (srs/sql.py): sqlite3 on an SQLite file, SQLAlchemy's connection
otherwise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from srs.engine import CardState, Engine
from srs.i18n import _, ngettext
from srs.schedule import (
    STORE_STEP,
    changed_steps,
    load_histories,
    store_states,
    stored_state,
)
from srs.sql import SqlConn

T = TypeVar("T")
EARLIEST, LATEST = date(1970, 1, 1), date(2100, 12, 31)
STATES = (1, 2, 3)  # py-fsrs: learning, review, relearning
KINDS = ("review", "reschedule", "plan")
TOLERANCE = 1e-6  # stored floats against replayed ones


@dataclass(frozen=True)
class Finding:
    """One thing found wrong (or, for logs, out of date)."""

    check: str  # database | references | values | state | logs
    where: str  # "card 12", "review 40", "log /path", "database"
    message: str
    repairable: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "where": self.where, "message": self.message,
                "repairable": self.repairable}


@dataclass
class CheckReport:
    """What `review check` found: problems make it fail, notices do not."""

    problems: list[Finding] = field(default_factory=list)
    notices: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    repaired: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": [p.to_json() for p in self.problems],
                "notices": [n.to_json() for n in self.notices], "counts": self.counts,
                "repaired": self.repaired}


def integrity_problems(conn: SqlConn) -> list[str]:
    try:
        rows = conn.all("PRAGMA integrity_check")
    except Exception as err:  # noqa: BLE001 - a page so damaged the check itself stops
        return [str(getattr(err, "orig", err)).splitlines()[0]]
    lines = [line for row in rows for line in str(row[0]).splitlines()
             if line.strip() and not line.startswith("*** in database")]
    return [] if lines == ["ok"] else lines


def reindex(conn: SqlConn) -> bool:
    """Rebuild every index (inside the caller's write transaction); True when the file is
    whole afterwards. Raises when a page is too damaged to rebuild in place."""
    conn.run("REINDEX")
    return not integrity_problems(conn)


def _database(conn: SqlConn, report: CheckReport) -> None:
    """SQLite's own check of the file."""
    if conn.dialect != "sqlite":
        return
    lines = integrity_problems(conn)
    if not lines:
        return
    for line in lines[:10]:
        report.problems.append(Finding("database", "database", line))
    if len(lines) > 10:
        report.problems.append(Finding("database", "database", ngettext(
            "{n} more problem in the database file", "{n} more problems in the database file",
            len(lines) - 10).format(n=len(lines) - 10)))
    report.problems.append(Finding("database", "database", _(
        "the database file is damaged: 'review check --repair' rebuilds its indexes; if "
        "that is not enough, save what can be read with 'review export > backup.json' and "
        "restore it into a new database ('review --db sqlite:///NEW.db restore "
        "backup.json')")))


def _references(conn: SqlConn, report: CheckReport) -> None:
    if conn.dialect == "sqlite":
        for table, rowid, parent, _fk in conn.all("PRAGMA foreign_key_check"):
            report.problems.append(Finding("references", f"{table} {rowid}", _(
                "refers to a {parent} row that does not exist").format(parent=parent)))
    for card_id, target in conn.all(
            "SELECT c.id, c.merged_into FROM card c JOIN card t ON t.id = c.merged_into "
            "WHERE t.merged_into IS NOT NULL OR t.id = c.id"):
        report.problems.append(Finding("references", f"card {card_id}", _(
            "is merged into card {target}, which is itself merged away").format(target=target)))


def _day_ok(conn: SqlConn, value: Any) -> bool:
    try:
        day = conn.day(value)
    except (TypeError, ValueError):
        return False
    if isinstance(day, datetime):
        day = day.date()
    return isinstance(day, date) and EARLIEST <= day <= LATEST


def _values(conn: SqlConn, report: CheckReport) -> set[int]:
    """Values outside their ranges; the cards whose stored state is unusable."""
    bad_state: set[int] = set()

    def problem(where: str, message: str, card: int | None = None) -> None:
        report.problems.append(Finding("values", where, message, repairable=card is not None))
        if card is not None:
            bad_state.add(card)

    for card_id, state, stability, difficulty, due, learned in conn.stream(
            "SELECT id, state, stability, difficulty, due, learned_on FROM card "
            "WHERE merged_into IS NULL ORDER BY id"):
        where = f"card {card_id}"
        if state not in STATES:
            problem(where, _("state {value!r} is not 1-3").format(value=state), card_id)
        if stability is not None and not (isinstance(stability, (int, float))
                                          and math.isfinite(stability) and stability > 0):
            problem(where, _("stability {value!r} is not a positive number").format(
                value=stability), card_id)
        if difficulty is not None and not (isinstance(difficulty, (int, float))
                                           and 1 <= difficulty <= 10):
            problem(where, _("difficulty {value!r} is not between 1 and 10").format(
                value=difficulty), card_id)
        if not _day_ok(conn, due):
            problem(where, _("due day {value!r} is not a date between {low} and {high}")
                    .format(value=due, low=EARLIEST, high=LATEST), card_id)
        if not _day_ok(conn, learned):
            problem(where, _("learned day {value!r} is not a date between {low} and "
                             "{high}").format(value=learned, low=EARLIEST, high=LATEST))
    for review_id, kind, rating in conn.stream(
            "SELECT id, kind, rating FROM review ORDER BY id"):
        if kind not in KINDS:
            problem(f"review {review_id}", _("kind {value!r} is unknown").format(value=kind))
        elif kind == "review" and rating not in (1, 2, 3, 4):
            problem(f"review {review_id}", _("rating {value!r} is not 1-4").format(
                value=rating))
    value = conn.scalar("SELECT value FROM setting WHERE key = 'fsrs.parameters'")
    if value:
        from srs.engine import validate_parameters

        try:
            parameters = json.loads(value)
            if not isinstance(parameters, list):
                raise ValueError(_("not a list"))
            validate_parameters(parameters)
        except Exception as err:  # noqa: BLE001 - any reason makes them unusable
            problem("setting fsrs.parameters", _("unusable FSRS parameters: {reason}").format(
                reason=str(err).splitlines()[0] if str(err) else type(err).__name__))
    return bad_state


def _differs(old: CardState, old_day: Any, new: CardState, new_day: int | None) -> str | None:
    """How a stored state differs from the replayed one, None when it does not."""
    def far(a: float | None, b: float | None) -> bool:
        if a is None or b is None:
            return a is not b
        return abs(a - b) > TOLERANCE * max(1.0, abs(b))

    if old.state != new.state or old.step != new.step:
        return _("state {old} but its history gives {new}").format(old=old.state, new=new.state)
    if far(old.stability, new.stability):
        return _("stability {old} but its history gives {new}").format(
            old=old.stability, new=round(new.stability or 0, 4))
    if far(old.difficulty, new.difficulty):
        return _("difficulty {old} but its history gives {new}").format(
            old=old.difficulty, new=round(new.difficulty or 0, 4))
    if old.due != new.due:
        return _("due {old} but its history gives {new}").format(old=old.due, new=new.due)
    if old.last_review != new.last_review:
        return _("last self-test {old} but its history gives {new}").format(
            old=old.last_review, new=new.last_review)
    if (old_day is None) != (new_day is None) or (
            old_day is not None and new_day is not None and int(old_day) != new_day):
        return _("study day of the last self-test {old} but its history gives {new}").format(
            old=old_day, new=new_day)
    return None


@dataclass
class _Fixes:
    """What a repair writes: replayed card states, and review steps that differ."""

    states: dict[int, CardState] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)


def _states(conn: SqlConn, engine: Engine, report: CheckReport, bad: set[int]) -> _Fixes:
    """Every card's stored state, and every self-test's stored step, against the replay of
    the card's history; what a repair would write."""
    ids = [row[0] for row in conn.all(
        "SELECT id FROM card WHERE merged_into IS NULL ORDER BY id")]
    rows = {row[0]: row for row in conn.all_in(
        "SELECT id, state, step, stability, difficulty, due, last_review, last_review_day "
        "FROM card WHERE id IN ({ids})", ids)}
    histories = load_histories(conn, ids)
    fixes = _Fixes()
    for card_id in ids:
        history = histories.get(card_id)
        if history is None or all(event.plan for event in history.events):
            continue
        try:
            new, steps = engine.replay_history(card_id, history.events)
        except Exception as err:  # noqa: BLE001 - a history the scheduler cannot take
            report.problems.append(Finding("state", f"card {card_id}", _(
                "its history cannot be replayed: {reason}").format(reason=err)))
            continue
        wrong_steps = changed_steps(conn, history, steps)
        if wrong_steps:
            report.problems.append(Finding("state", f"card {card_id}", ngettext(
                "{n} of its self-tests stores what its replay does not give",
                "{n} of its self-tests store what their replay does not give",
                len(wrong_steps)).format(n=len(wrong_steps)), True))
            fixes.steps += wrong_steps
        new_day = engine.clock.day_of(new.last_review).toordinal() \
            if new.last_review is not None else None
        if card_id in bad:
            fixes.states[card_id] = new
            continue
        try:
            old, old_day = stored_state(conn, rows[card_id])
            reason = _differs(old, old_day, new, new_day)
        except (TypeError, ValueError) as err:
            reason = _("its stored state cannot be read: {reason}").format(reason=err)
        if reason is not None:
            report.problems.append(Finding("state", f"card {card_id}", reason, True))
            fixes.states[card_id] = new
    return fixes


def _logs(conn: SqlConn, salt: str, report: CheckReport) -> None:
    from srs.logs import log_state

    for path, digest in conn.all(
            "SELECT path, content_hash FROM log_source ORDER BY id"):
        state = log_state(path, digest, salt)
        if state == "unchanged":
            continue
        message = {
            "changed": _("changed since it was last imported (run 'review import' on it)"),
            "missing": _("is no longer there (moved? run 'review logs move OLD NEW')"),
            "unreadable": _("cannot be read"),
        }[state]
        report.notices.append(Finding("logs", f"log {path}", message))
    unlinked = conn.all(
        "SELECT r.id, r.card_id FROM log_row r JOIN card c ON c.id = r.card_id "
        "WHERE c.source_id IS NOT NULL AND c.source_id != r.source_id AND r.kind = 'card' "
        "AND c.merged_into IS NULL")
    for row_id, card_id in unlinked:
        report.problems.append(Finding("logs", f"log row {row_id}", _(
            "belongs to card {card} of another log").format(card=card_id)))


def check(conn: SqlConn, engine: Engine, now: datetime, *, salt: str,
          repair: bool = False) -> CheckReport:
    """Check everything; with `repair`, re-derive the card states that differ from their
    histories (inside the caller's write transaction). The report lists what was found
    before repairing, and `repaired` how many card states and self-test steps were put
    right. A damaged file is
    mended first, apart, by `reindex`.
    """
    report = CheckReport()
    _database(conn, report)
    damaged = bool(report.problems)

    def stage(name: str, work: Callable[[], T], empty: T) -> T:
        if not damaged:
            return work()
        try:  # why: on a damaged file, check what can be read and say what could not
            return work()
        except Exception as err:  # noqa: BLE001 - the damage is already reported
            report.problems.append(Finding(name, "database", _(
                "not checked: {reason}").format(reason=str(err).splitlines()[0])))
            return empty

    stage("references", lambda: _references(conn, report), None)
    no_cards: set[int] = set()
    bad = stage("values", lambda: _values(conn, report), no_cards)
    fixes = stage("state", lambda: _states(conn, engine, report, bad), _Fixes())
    stage("logs", lambda: _logs(conn, salt, report), None)
    for name, table in (("cards", "card"), ("reviews", "review"), ("logs", "log_source")):
        report.counts[name] = stage("counts", lambda table=table: int(  # type: ignore[misc]
            conn.scalar(f"SELECT count(*) FROM {table}") or 0), 0)
    if repair:
        store_states(conn, fixes.states, engine.clock, now)
        conn.run_many(STORE_STEP, fixes.steps)
        report.repaired += len(fixes.states) + len(fixes.steps)
    return report

