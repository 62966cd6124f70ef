"""A backup is input from outside: all of it is checked before any of it is written.

`check_backup` walks the whole parsed file against the tables the models declare and what
the scheduler needs of each value (types, ranges, the few words a column may hold, JSON
that parses, parameters py-fsrs accepts, a clock record it can read), then the keys and the
references between rows. It stops at the first bad value and names its place in the file,
`tables.card.rows[3].stability`: row indexes count from 0, and a row's value is named by
its column.

`split_config` sorts the settings in a backup into those that only change how srs schedules
and shows, and those that make it run a program or send data somewhere.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import cache
from typing import Any

from sqlalchemy import Boolean, Date, Float, Integer, String, Table, UniqueConstraint
from sqlalchemy.schema import Column

from srs.errors import ConfigError, SrsError
from srs.i18n import _
from srs.models import Base, UTCDateTime
from srs.schema import KNOWN_REVISIONS

REQUIRED_TABLES = ("card", "review", "log_source", "log_row", "setting")
MAX_TEXT = 1_000_000  # characters: a topic, note or summary is never near this
MAX_INT = 2**31 - 1  # an INTEGER column on PostgreSQL (SQLite's reach 2**63 - 1)
MAX_INT64 = 2**63 - 1  # a column of a table only the database knows
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)  # a due day may lie a maximum_interval (100 years) ahead
MAX_STABILITY = 36500 * 100
MAX_STEP = 100
MAX_DURATION = 86400 * 7
MAX_DAY_NUMBER = LAST_DAY.toordinal() + 1_721_425  # above both day numbers and Julian days
# Schemas whose card.due and review.due_set held moments, before due dates were study days.
MOMENT_DUE_SCHEMAS = ("0001", "0002", "0003")
REVIEW_KINDS = ("review", "reschedule", "plan")
REVIEW_SOURCES = ("log", "cli", "manual")
LOG_ROW_KINDS = ("card", "review")

PathPart = str | int
Check = Callable[[Any], Any]


class InvalidBackup(SrsError):
    """A backup with a value srs cannot take: where in the file, and why."""

    def __init__(self, path: Sequence[PathPart], reason: str) -> None:
        self.where = where(path)
        self.reason = reason
        super().__init__(_("not a valid srs backup: {where}: {reason}").format(
            where=self.where, reason=reason))


class _Bad(Exception):
    """A bad value; `inner` is its place inside the value (a key of a JSON column)."""

    def __init__(self, reason: str, inner: tuple[PathPart, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.inner = inner


# -- how a value and its place are shown ---------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHOWN = 60


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def show(value: Any) -> str:
    """A value from the file as JSON, short, with nothing a terminal would obey or hide."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = "…"
    if len(text) > _SHOWN:
        text = text[:_SHOWN - 1] + "…"
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def where(path: Iterable[PathPart]) -> str:
    """A place in the file: `tables.card.rows[3].stability`, `config["reminders.command"]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _NAME.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{show(part)}]"
    return out


def _not(value: Any, what: str) -> _Bad:
    return _Bad(_("{value} is not {what}").format(value=show(value), what=what))


# -- single values -------------------------------------------------------------------------


def _whole(low: int, high: int, what: str) -> Check:
    def check(value: Any) -> Any:
        if type(value) is not int or not low <= value <= high:
            raise _not(value, what)
        return value

    return check


def _id(value: Any) -> Any:
    if type(value) is not int or not 1 <= value <= MAX_INT:
        raise _not(value, _("an id (a whole number from 1 to {high})").format(high=MAX_INT))
    return value


def _number(noun: str, what: str, low: float, high: float, *, above: bool = False) -> Check:
    """A finite number from `low` (or above it) to `high`; `what` says so, `noun` names it."""

    def check(value: Any) -> Any:
        if (type(value) not in (int, float) or not math.isfinite(value)
                or (value <= low if above else value < low)):
            raise _not(value, what)
        if value > high:
            raise _Bad(_("{value} is too large for {what} (at most {high})").format(
                value=show(value), what=noun, high=high))
        return value

    return check


def _boolean(value: Any) -> Any:
    if type(value) is not bool:
        raise _not(value, _("true or false"))
    return value


def _text(limit: int = MAX_TEXT) -> Check:
    def check(value: Any) -> Any:
        if type(value) is not str:
            raise _not(value, _("text"))
        if len(value) > limit:
            raise _Bad(_("{value} is too long ({n} characters; at most {limit})").format(
                value=show(value), n=len(value), limit=limit))
        if value.isascii():
            if "\x00" in value:
                raise _Bad(_("{value} holds a NUL character, which no database stores").format(
                    value=show(value)))
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Bad(_("{value} is not valid text (it holds a lone surrogate)").format(
                value=show(value))) from None
        if "\x00" in value:
            raise _Bad(_("{value} holds a NUL character, which no database stores").format(
                value=show(value)))
        return value

    return check


_any_text = _text()
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: Any) -> date:
    if type(value) is not str or not _ISO_DAY.fullmatch(value):
        raise _not(value, _("a date (YYYY-MM-DD)"))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise _not(value, _("a date (YYYY-MM-DD)")) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise _Bad(_("{value} is not a date from {first} to {last}").format(
            value=show(value), first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))
    return day


def _moment(value: Any) -> datetime:
    what = _("a date and time with its UTC offset (such as 2026-11-30T09:00:00+00:00)")
    if type(value) is not str or len(value) > 64:
        raise _not(value, what)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _not(value, what) from None
    if moment.utcoffset() is None:
        raise _Bad(_("{value} has no UTC offset (such as +00:00): the moment it means is "
                     "unknown").format(value=show(value)))
    if not EARLIEST <= moment <= LATEST:
        raise _Bad(_("{value} is not between 1970 and 2100").format(value=show(value)))
    return moment


def _day_or_moment(value: Any) -> Any:
    """A due day, or the due moment a backup made before due dates were study days holds."""
    if type(value) is str and len(value) > 10:
        return _moment(value)
    return _day(value)


def _one_of(choices: tuple[str, ...], what: str) -> Check:
    def check(value: Any) -> Any:
        if type(value) is not str or value not in choices:
            raise _not(value, _("{what} ({choices})").format(what=what,
                                                             choices=", ".join(choices)))
        return value

    return check


def _optional(check: Check) -> Check:
    def optional(value: Any) -> Any:
        return None if value is None else check(value)

    return optional


def _scalar(value: Any) -> Any:
    """A value of a table only the database knows: what a column can hold."""
    kind = type(value)
    if kind is str:
        return _any_text(value)
    if value is None or kind is bool:
        return value
    if kind is int and -MAX_INT64 - 1 <= value <= MAX_INT64:
        return value
    if kind is float and math.isfinite(value):
        return value
    raise _not(value, _("a value a database column holds (text, a number, true, false or "
                        "null)"))


def _json_text(inner: Callable[[Any], None] | None = None) -> Check:
    """Text holding JSON; `inner` checks the value it holds."""

    def check(value: Any) -> Any:
        _any_text(value)
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            raise _not(value, _("JSON text")) from None
        if inner is not None:
            inner(parsed)
        return value

    return check


def _in(key: PathPart, check: Check, value: Any) -> Any:
    """`check(value)` for the value under `key` of a JSON object or array."""
    try:
        return check(value)
    except _Bad as bad:
        raise _Bad(bad.reason, (key, *bad.inner)) from None


# -- what a card's memory state must be ------------------------------------------------------


@cache
def _state_checks() -> dict[str, Check]:
    return {
        "state": _whole(1, 3, _("a card state (1 learning, 2 review, 3 relearning)")),
        "step": _optional(_whole(0, MAX_STEP, _("a learning step (a whole number from 0 to "
                                                 "{high})").format(high=MAX_STEP))),
        "stability": _optional(_number(_("a stability"), _("a stability (a number above 0)"),
                                       0, MAX_STABILITY, above=True)),
        "difficulty": _optional(_number(_("a difficulty"),
                                        _("a difficulty (a number from 1 to 10)"), 1, 10)),
    }


def _state_agrees(state: Any, step: Any, stability: Any, difficulty: Any) -> None:
    """What py-fsrs needs of a state's parts together; raises _Bad with the part at fault."""
    if stability is None and difficulty is not None:
        raise _Bad(_("null, but the difficulty is set (a card has both or neither)"),
                   ("stability",))
    if difficulty is None and stability is not None:
        raise _Bad(_("null, but the stability is set (a card has both or neither)"),
                   ("difficulty",))
    if state in (2, 3) and stability is None:
        raise _Bad(_("null, but a card in state {state} has a stability").format(state=state),
                   ("stability",))
    if state == 3 and step is None:
        raise _Bad(_("null, but a relearning card (state 3) is at a step"), ("step",))


def _card_state_json(value: Any) -> None:
    """review.state_before: a card's state as `srs.cardview.state_to_json` wrote it."""
    if type(value) is not dict:
        raise _not(value, _("a card state (an object with state, step, stability, "
                            "difficulty, due and last_review)"))
    for name, check in (*_state_checks().items(), ("due", _day_or_moment),
                        ("last_review", _optional(_moment))):
        if name not in value:
            raise _Bad(_("missing"), (name,))
        _in(name, check, value[name])
    _state_agrees(value["state"], value["step"], value["stability"], value["difficulty"])


def _import_summary(value: Any) -> None:
    """log_source.summary: what the last import of a file read."""
    if type(value) is not dict:
        raise _not(value, _("an import summary (a JSON object)"))
    count = _whole(0, MAX_INT64, _("a count (a whole number from 0)"))
    for name in ("rows", "pending", "planned", "skipped"):
        if name in value:
            _in(name, count, value[name])
    line = _whole(0, MAX_INT64, _("a line number"))
    warning = _("a remark ([file, line, message])")
    for name in ("warnings", "notes"):
        items = value.get(name, [])
        if type(items) is not list:
            raise _Bad(_("{value} is not a list").format(value=show(items)), (name,))
        for i, item in enumerate(items):
            if type(item) is not list or len(item) != 3:
                raise _Bad(_("{value} is not {what}").format(value=show(item), what=warning),
                           (name, i))
            for j, check in enumerate((_any_text, line, _any_text)):
                try:
                    check(item[j])
                except _Bad as bad:
                    raise _Bad(bad.reason, (name, i, j)) from None
    if value.get("read_again_on") is not None:
        _in("read_again_on", _day, value["read_again_on"])


def _json_object(value: Any) -> None:
    if type(value) is not dict:
        raise _not(value, _("a JSON object"))


# -- settings kept in the database ------------------------------------------------------------


def _parameters(value: Any) -> None:
    from srs.engine import validate_parameters

    if type(value) is not list or not all(
            type(p) in (int, float) and math.isfinite(p) for p in value):
        raise _not(value, _("a list of 21 FSRS parameters"))
    try:
        validate_parameters(value)
    except ConfigError as err:
        raise _Bad(str(err)) from None


def _clock_record(value: Any) -> None:
    from srs.clock import clock_from_record

    if clock_from_record(value) is None:
        raise _not(value, _('a clock record (such as {"timezone": "UTC", "day_starts_at": 4})'))


_IDENTITY = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _identity(value: Any) -> None:
    if type(value) is not str or not _IDENTITY.fullmatch(value):
        raise _not(value, _("a database identity (up to 64 letters, digits, '.', '_', '-')"))


def _setting_checks() -> dict[str, Callable[[Any], None]]:
    from srs.export import IDENTITY_KEY
    from srs.optimize import PREVIOUS_KEY
    from srs.repository import PARAMETERS_KEY
    from srs.schedule import CLOCK_KEY

    return {
        PARAMETERS_KEY: _parameters,
        PREVIOUS_KEY: lambda value: None if value is None else _parameters(value),
        CLOCK_KEY: _clock_record,
        IDENTITY_KEY: _identity,
    }


# -- the tables -------------------------------------------------------------------------------


def _special_checks(schema: str) -> dict[tuple[str, str], Check]:
    """Columns that need more than their type says."""
    from srs.reminders import DIGEST, DUE, STATUSES

    due = _day_or_moment if schema in MOMENT_DUE_SCHEMAS else _day
    line = _whole(0, MAX_INT, _("a line number (a whole number from 0 to {high})").format(
        high=MAX_INT))
    return {
        **{("card", name): check for name, check in _state_checks().items()},
        ("card", "source_line"): line,
        ("card", "due"): due,
        ("card", "last_review_day"): _number(
            _("a day number"), _("a day number (a number from 0)"), 0, MAX_DAY_NUMBER),
        ("review", "kind"): _one_of(REVIEW_KINDS, _("a kind of event")),
        ("review", "rating"): _whole(1, 4, _("a rating (1 again, 2 hard, 3 good, 4 easy)")),
        ("review", "source"): _one_of(REVIEW_SOURCES, _("a source")),
        ("review", "duration"): _whole(0, MAX_DURATION, _(
            "a duration (a whole number of seconds from 0 to {high})").format(
                high=MAX_DURATION)),
        ("review", "due_set"): due,
        ("review", "state_before"): _json_text(_card_state_json),
        ("log_source", "summary"): _json_text(_import_summary),
        ("log_row", "kind"): _one_of(LOG_ROW_KINDS, _("a kind of row")),
        ("log_row", "line"): line,
        ("setting", "value"): _json_text(),
        ("reminder", "kind"): _one_of((DIGEST, DUE), _("a kind of reminder")),
        ("reminder", "status"): _one_of(STATUSES, _("a reminder status")),
        ("reminder", "attempts"): _whole(0, MAX_INT, _("a number of attempts")),
        ("reminder", "payload"): _json_text(_json_object),
    }


def _column_check(table: Table, column: Column[Any], special: Mapping[tuple[str, str], Check]
                  ) -> Check:
    check = special.get((table.name, column.name))
    if check is None:
        kind = column.type
        if column.primary_key and isinstance(kind, Integer) or column.foreign_keys:
            check = _id
        elif isinstance(kind, UTCDateTime):
            check = _moment
        elif isinstance(kind, Boolean):
            check = _boolean
        elif isinstance(kind, Integer):
            check = _whole(-MAX_INT - 1, MAX_INT, _("a whole number that fits a column"))
        elif isinstance(kind, Float):
            check = _number(_("a number"), _("a number"), -math.inf, math.inf)
        elif isinstance(kind, Date):
            check = _day
        elif isinstance(kind, String):
            check = _text(kind.length or MAX_TEXT)
        else:  # pragma: no cover - a column type the models do not use yet
            check = _scalar
    return _optional(check) if column.nullable else check


def _has_default(column: Column[Any]) -> bool:
    return column.nullable or (column.default is not None
                               and bool(getattr(column.default, "is_scalar", False)))


@dataclass
class _Table:
    """One table of the backup as read so far: its column positions and rows."""

    name: str
    columns: dict[str, int]
    rows: list[list[Any]] = field(default_factory=list)

    def values(self, column: str) -> Iterable[tuple[int, Any]]:
        at = self.columns.get(column)
        if at is None:
            return ()
        return ((i, row[at]) for i, row in enumerate(self.rows))


def _check_table(name: str, stored: Any, schema: str, special: Mapping[tuple[str, str], Check],
                 settings: Mapping[str, Callable[[Any], None]]) -> _Table:
    path: tuple[PathPart, ...] = ("tables", name)
    if type(stored) is not dict:
        raise InvalidBackup(path, _("{value} is not a table (an object with columns and "
                                    "rows)").format(value=show(stored)))
    columns, rows = stored.get("columns"), stored.get("rows")
    if type(columns) is not list:
        raise InvalidBackup((*path, "columns"), _("{value} is not a list of column names")
                            .format(value=show(columns)))
    if type(rows) is not list:
        raise InvalidBackup((*path, "rows"), _("{value} is not a list of rows").format(
            value=show(rows)))
    model = Base.metadata.tables.get(name)
    positions: dict[str, int] = {}
    for i, column in enumerate(columns):
        try:
            _any_text(column)
        except _Bad as bad:
            raise InvalidBackup((*path, "columns", i), bad.reason) from None
        if column in positions:
            raise InvalidBackup((*path, "columns", i), _("{name} is named twice").format(
                name=show(column)))
        if model is not None and column not in model.columns:
            raise InvalidBackup((*path, "columns", i), _("{name} is not a column of table "
                                                         "{table}").format(name=show(column),
                                                                           table=name))
        positions[column] = i
    checks: list[Check] = []
    for column in columns:
        checks.append(_scalar if model is None else _column_check(model, model.columns[column],
                                                                 special))
    if model is not None:
        for wanted in model.columns:
            if wanted.name not in positions and not _has_default(wanted):
                raise InvalidBackup((*path, "columns"), _("column {name} is missing").format(
                    name=wanted.name))
    width = len(columns)
    for i, row in enumerate(rows):
        if type(row) is not list or len(row) != width:
            raise InvalidBackup((*path, "rows", i), _("{value} is not a row of {n} values")
                                .format(value=show(row), n=width))
        for j, check in enumerate(checks):
            try:
                check(row[j])
            except _Bad as bad:
                raise InvalidBackup((*path, "rows", i, columns[j], *bad.inner),
                                    bad.reason) from None
    table = _Table(name, positions, rows)
    if name == "card":
        _check_card_states(table)
    elif name == "setting":
        _check_settings(table, settings)
    return table


def _check_card_states(table: _Table) -> None:
    at = table.columns
    for i, row in enumerate(table.rows):
        def part(name: str, row: list[Any] = row) -> Any:
            return row[at[name]] if name in at else None

        state = part("state") if "state" in at else 1
        try:
            _state_agrees(state, part("step"), part("stability"), part("difficulty"))
        except _Bad as bad:
            raise InvalidBackup(("tables", "card", "rows", i, *bad.inner), bad.reason) from None


def _check_settings(table: _Table, settings: Mapping[str, Callable[[Any], None]]) -> None:
    if "key" not in table.columns or "value" not in table.columns:
        return
    key_at, value_at = table.columns["key"], table.columns["value"]
    for i, row in enumerate(table.rows):
        check = settings.get(row[key_at])
        if check is None:
            continue
        try:
            check(json.loads(row[value_at]))
        except _Bad as bad:
            raise InvalidBackup(("tables", "setting", "rows", i, "value", *bad.inner),
                                bad.reason) from None


def _check_keys(tables: Mapping[str, _Table]) -> None:
    """Primary keys and unique constraints hold no value twice."""
    for name, table in tables.items():
        model = Base.metadata.tables.get(name)
        if model is None:
            continue
        groups = [[c.name for c in model.primary_key.columns]]
        groups += [[c.name for c in constraint.columns] for constraint in model.constraints
                   if isinstance(constraint, UniqueConstraint)]
        for group in groups:
            if not all(column in table.columns for column in group):
                continue
            positions = [table.columns[column] for column in group]
            seen: dict[tuple[Any, ...], int] = {}
            for i, row in enumerate(table.rows):
                key = tuple(row[at] for at in positions)
                first = seen.setdefault(key, i)
                if first != i:
                    value = key[0] if len(key) == 1 else list(key)
                    raise InvalidBackup(
                        ("tables", name, "rows", i, group[-1]),
                        _("{value} is already in rows[{first}] ({columns} must be unique)")
                        .format(value=show(value), first=first, columns=" and ".join(group)))


def _check_references(tables: Mapping[str, _Table]) -> None:
    """Every reference names a row of the backup; a card is merged into a card kept."""
    ids: dict[tuple[str, str], set[Any]] = {}
    for name, table in tables.items():
        model = Base.metadata.tables.get(name)
        if model is None:
            continue
        for column in model.columns:
            if column.name not in table.columns:
                continue
            for fk in column.foreign_keys:
                target = (fk.column.table.name, fk.column.name)
                if target not in ids:
                    referred = tables.get(target[0])
                    ids[target] = ({v for _i, v in referred.values(target[1])}
                                   if referred is not None else set())
                known = ids[target]
                for i, value in table.values(column.name):
                    if value is not None and value not in known:
                        raise InvalidBackup(
                            ("tables", name, "rows", i, column.name),
                            _("{value} is not the {column} of any {table} in the backup")
                            .format(value=show(value), column=target[1], table=target[0]))
    cards = tables["card"]
    merged = dict(zip((v for _i, v in cards.values("id")),
                      (v for _i, v in cards.values("merged_into")), strict=False))
    for i, into in cards.values("merged_into"):
        if into is None:
            continue
        if into == cards.rows[i][cards.columns["id"]]:
            raise InvalidBackup(("tables", "card", "rows", i, "merged_into"),
                                _("{value} is the card itself").format(value=show(into)))
        if merged.get(into) is not None:
            raise InvalidBackup(("tables", "card", "rows", i, "merged_into"),
                                _("card {value} was itself merged into card {other}; a card is "
                                  "merged into a card that was not").format(
                                      value=show(into), other=show(merged[into])))


def _check_config(values: Any) -> None:
    from srs.config import KEYS

    if values is None:
        return
    if type(values) is not dict:
        raise InvalidBackup(("config",), _("{value} is not an object of settings").format(
            value=show(values)))
    for name, value in values.items():
        path = ("config", name)
        try:
            _any_text(name)
            _texts_within(value)
        except _Bad as bad:
            raise InvalidBackup(path, bad.reason) from None
        if name in KEYS:
            try:
                KEYS[name].check(value)
            except ConfigError as err:
                raise InvalidBackup(path, str(err)) from None


def _texts_within(value: Any) -> None:
    """Every text anywhere in a JSON value is valid text (no recursion: it may nest deep)."""
    waiting = [value]
    while waiting:
        item = waiting.pop()
        if type(item) is str:
            _any_text(item)
        elif type(item) is list:
            waiting.extend(item)
        elif type(item) is dict:
            waiting.extend(item)
            waiting.extend(item.values())


def check_backup(data: Mapping[str, Any]) -> None:
    """Check every part of a parsed backup; raise InvalidBackup at the first bad value.

    `data` already has the format and version of a backup (see `srs.export.parse_backup`).
    """
    schema = data.get("schema")
    if type(schema) is not str or schema not in KNOWN_REVISIONS:
        raise InvalidBackup(("schema",), _("{value} is not a schema revision ({known})").format(
            value=show(schema), known=", ".join(KNOWN_REVISIONS)))
    for name, check in (("srs_version", _text(100)), ("created_at", _moment)):
        if name in data:
            try:
                check(data[name])
            except _Bad as bad:
                raise InvalidBackup((name,), bad.reason) from None
    _check_config(data.get("config"))
    stored = data.get("tables")
    if type(stored) is not dict:
        raise InvalidBackup(("tables",), _("{value} is not an object of tables").format(
            value=show(stored)))
    for name in REQUIRED_TABLES:
        if name not in stored:
            raise InvalidBackup(("tables", name), _("missing (a backup holds the tables {names})")
                                .format(names=", ".join(REQUIRED_TABLES)))
    special = _special_checks(schema)
    settings = _setting_checks()
    tables: dict[str, _Table] = {}
    for name, table in stored.items():
        try:
            _any_text(name)
        except _Bad as bad:
            raise InvalidBackup(("tables", name), _("the name of a table: {reason}").format(
                reason=bad.reason)) from None
        tables[name] = _check_table(name, table, schema, special, settings)
    _check_keys(tables)
    _check_references(tables)


# -- the settings of a backup -------------------------------------------------------------------


def runs_or_sends(name: str, value: Any) -> bool:
    """True for a setting that makes srs run a program or send data somewhere."""
    if name == "reminders.command":
        return True
    if name == "reminders.channels":
        return any(channel == "command" or "://" in channel for channel in value)
    return False


@dataclass(frozen=True)
class BackupConfig:
    """The settings in a (checked) backup, sorted by what applying them would let in."""

    safe: dict[str, Any]
    commands: dict[str, Any]  # settings that run a program or send data somewhere
    unknown: list[str]  # names this version of srs does not know


def split_config(values: Mapping[str, Any] | None) -> BackupConfig:
    """Sort a backup's settings: safe to apply, running or sending, unknown."""
    from srs.config import KEYS

    safe: dict[str, Any] = {}
    commands: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in (values or {}).items():
        if name not in KEYS:
            unknown.append(name)
        elif runs_or_sends(name, value):
            commands[name] = KEYS[name].check(value)
        else:
            safe[name] = KEYS[name].check(value)
    return BackupConfig(safe, commands, unknown)


def config_texts(values: Mapping[str, Any]) -> dict[str, str]:
    """Each setting as `review config set` takes it, read back as that command would.

    Raises ConfigError for one that command would refuse on this machine (a command whose
    program is not here), so it is refused before anything is written.
    """
    from srs.config import KEYS, show_value

    texts = {}
    for name, value in values.items():
        key = KEYS[name]
        texts[name] = show_value(value)
        key.check(key.parse(texts[name]))
    return texts
