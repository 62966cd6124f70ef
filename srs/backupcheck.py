"""A backup is input from outside: all of it is checked before any of it is written.

`read_backup` reads a backup file a chunk at a time (the file is never held whole) and
checks it against the tables srs declares (srs/tables.py) and what the scheduler needs of
each value (types, ranges, the few words a column may hold, JSON that parses, parameters
py-fsrs accepts, a clock record it can read), then the keys and the references between
rows. It stops at the first bad value and names its place in the file,
`tables.card.rows[3].stability`: row indexes count from 0, and a row's value is named by
its column. `read_rows` reads the checked file again for the restore to insert it.

`split_config` sorts the settings in a backup into those that only change how srs schedules
and shows, and those that make it run a program or send data somewhere.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from srs.errors import ConfigError, SrsError
from srs.export import BACKUP_FORMAT, BACKUP_VERSION, ExportError
from srs.i18n import _, ngettext
from srs.schema import KNOWN_REVISIONS
from srs.tables import BY_NAME, TABLES, Column, Table

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
            raise _Bad(ngettext("{value} is too long ({n} character; at most {limit})",
                                "{value} is too long ({n} characters; at most {limit})",
                                len(value)).format(value=show(value), n=len(value),
                                                   limit=limit))
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
    if type(value) is not str or len(value) > 64:
        raise _not(value, _("a date and time with its UTC offset (such as "
                            "2026-11-30T09:00:00+00:00)"))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _not(value, _("a date and time with its UTC offset (such as "
                            "2026-11-30T09:00:00+00:00)")) from None
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

    optional.check = check  # type: ignore[attr-defined]
    return optional


def _required(check: Check) -> tuple[Check, bool]:
    """The check a value that is not null gets, and whether null passes."""
    inner = getattr(check, "check", None)
    return (inner, True) if inner is not None else (check, False)


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
    from srs.schedule import CLOCK_KEY
    from srs.store import PARAMETERS_KEY

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


def _column_check(table: Table, column: Column, special: Mapping[tuple[str, str], Check]
                  ) -> Check:
    check = special.get((table.name, column.name))
    if check is None:
        kind = column.kind
        if column.primary_key and kind == "int" or column.references is not None:
            check = _id
        elif kind == "moment":
            check = _moment
        elif kind == "bool":
            check = _boolean
        elif kind == "int":
            check = _whole(-MAX_INT - 1, MAX_INT, _("a whole number that fits a column"))
        elif kind == "float":
            check = _number(_("a number"), _("a number"), -math.inf, math.inf)
        elif kind == "date":
            check = _day
        elif kind == "text":
            check = _text(column.length or MAX_TEXT)
        else:  # pragma: no cover - a column type srs's tables do not use yet
            check = _scalar
    return _optional(check) if column.nullable else check


class _Key:
    """A primary key or unique group of one table: the first row of each value seen."""

    __slots__ = ("group", "at", "seen", "repeat")

    def __init__(self, group: list[str], at: list[int]) -> None:
        self.group = group
        self.at = at
        self.seen: dict[Any, int] = {}
        self.repeat: tuple[int, Any, int] | None = None  # (row, value, first row)


class _TableCheck:
    """One table of the backup, checked row by row as the file is read.

    What can only be judged once every row is in (keys, references) is gathered here and
    judged by `BackupCheck.finish`.
    """

    def __init__(self, name: str, special: Mapping[tuple[str, str], Check],
                 settings: Mapping[str, Callable[[Any], None]]) -> None:
        self.name = name
        self.path: tuple[PathPart, ...] = ("tables", name)
        self.model = BY_NAME.get(name)
        self.special = special
        self.settings = settings
        self.columns: list[Any] | None = None
        self.positions: dict[str, int] = {}
        self.checks: list[Check] = []
        self.plain: list[tuple[int, tuple[Check, bool]]] = []
        self.named: InvalidBackup | None = None  # a bad column name: told after the rows' type
        self.later: InvalidBackup | None = None  # a card state or setting: told after all values
        self.rows_started = False
        self.count = 0
        self.keys: list[_Key] = []
        self.card_ids: array[int] = array("q")  # the card table's ids, in row order
        self.references: dict[str, array[int]] = {}  # 0 for null
        self.targets: dict[str, set[Any]] = {}  # values other rows may refer to
        self.state_at: tuple[int, ...] | None = None
        self.card_at = -1
        self.setting_at: tuple[int, int] | None = None

    def whole(self, stored: Any) -> None:
        """A table that is not an object."""
        raise InvalidBackup(self.path, _("{value} is not a table (an object with columns and "
                                         "rows)").format(value=show(stored)))

    def set_columns(self, columns: Any) -> None:
        if type(columns) is not list:
            raise InvalidBackup((*self.path, "columns"), _(
                "{value} is not a list of column names").format(value=show(columns)))
        self.columns = columns
        try:
            self._name_columns(columns)
        except InvalidBackup as err:
            self.named = err

    def _name_columns(self, columns: list[Any]) -> None:
        model = self.model
        positions: dict[str, int] = {}
        for i, column in enumerate(columns):
            try:
                _any_text(column)
            except _Bad as bad:
                raise InvalidBackup((*self.path, "columns", i), bad.reason) from None
            if column in positions:
                raise InvalidBackup((*self.path, "columns", i), _("{name} is named twice")
                                    .format(name=show(column)))
            if model is not None and model.column(column) is None:
                raise InvalidBackup((*self.path, "columns", i), _(
                    "{name} is not a column of table {table}").format(name=show(column),
                                                                      table=self.name))
            positions[column] = i
        self.positions = positions

    def start_rows(self, rows: Any, *, streamed: bool) -> None:
        """The rows begin (`streamed`: an array read row by row; else `rows` is the value)."""
        if self.rows_started:
            raise InvalidBackup((*self.path, "rows"), _("{name} is named twice").format(
                name=show("rows")))
        self.rows_started = True
        if self.columns is None:
            self.set_columns(None)  # raises
        if not streamed and type(rows) is not list:
            raise InvalidBackup((*self.path, "rows"), _("{value} is not a list of rows").format(
                value=show(rows)))
        if self.named is not None:
            raise self.named
        model, positions = self.model, self.positions
        assert self.columns is not None
        if model is None:
            self.checks = [_scalar] * len(self.columns)
            self.plain = [(j, (_scalar, False)) for j in range(len(self.columns))]
            return
        self.checks = [_column_check(model, model.column(name), self.special)  # type: ignore[arg-type]
                       for name in self.columns]
        # A null where a column takes one needs no call (most optional values are null).
        self.plain = [(j, _required(check)) for j, check in enumerate(self.checks)]
        for wanted in model.columns:
            if wanted.name not in positions and not wanted.has_default:
                raise InvalidBackup((*self.path, "columns"), _("column {name} is missing").format(
                    name=wanted.name))
        groups = [list(model.primary_key), *[list(group) for group in model.unique]]
        for group in groups:
            if all(column in positions for column in group):
                self.keys.append(_Key(group, [positions[c] for c in group]))
        for column in model.columns:
            if column.references is not None and column.name in positions:
                self.references[column.name] = array("q")
        for table in TABLES:
            for column in table.columns:
                if column.references is not None and column.references[0] == self.name:
                    target = column.references[1]
                    if target in positions:
                        self.targets.setdefault(target, set())
        if self.name == "card":
            self.card_at = positions.get("id", -1)
            self.state_at = tuple(positions.get(name, -1) for name in (
                "state", "step", "stability", "difficulty"))
        elif self.name == "setting" and "key" in positions and "value" in positions:
            self.setting_at = (positions["key"], positions["value"])

    def row(self, row: Any) -> None:
        i = self.count
        checks = self.checks
        if type(row) is not list or len(row) != len(checks):
            raise InvalidBackup((*self.path, "rows", i), ngettext(
                "{value} is not a row of {n} value", "{value} is not a row of {n} values",
                len(checks)).format(value=show(row), n=len(checks)))
        try:
            for j, (check, optional) in self.plain:
                value = row[j]
                if value is None and optional:
                    continue
                check(value)
        except _Bad as bad:
            assert self.columns is not None
            raise InvalidBackup((*self.path, "rows", i, self.columns[j], *bad.inner),
                                bad.reason) from None
        self.count = i + 1
        if self.later is None:
            if self.state_at is not None:
                self._state(i, row)
            elif self.setting_at is not None:
                self._setting(i, row)
        for key in self.keys:
            if key.repeat is None:
                at = key.at
                value = row[at[0]] if len(at) == 1 else tuple(row[k] for k in at)
                first = key.seen.setdefault(value, i)
                if first != i:
                    key.repeat = (i, value, first)
        for name, values in self.references.items():
            value = row[self.positions[name]]
            values.append(0 if value is None else value)
        for name, found in self.targets.items():
            found.add(row[self.positions[name]])
        if self.card_at >= 0:
            self.card_ids.append(row[self.card_at])

    def _state(self, i: int, row: list[Any]) -> None:
        assert self.state_at is not None
        state, step, stability, difficulty = (row[k] if k >= 0 else None for k in self.state_at)
        if self.state_at[0] < 0:
            state = 1
        try:
            _state_agrees(state, step, stability, difficulty)
        except _Bad as bad:
            self.later = InvalidBackup((*self.path, "rows", i, *bad.inner), bad.reason)

    def _setting(self, i: int, row: list[Any]) -> None:
        assert self.setting_at is not None
        check = self.settings.get(row[self.setting_at[0]])
        if check is None:
            return
        try:
            check(json.loads(row[self.setting_at[1]]))
        except _Bad as bad:
            self.later = InvalidBackup((*self.path, "rows", i, "value", *bad.inner), bad.reason)

    def end(self) -> None:
        if not self.rows_started:
            self.start_rows(None, streamed=False)  # raises: a table has rows
        if self.later is not None:
            raise self.later

    def values(self, column: str) -> array[int]:
        return self.references.get(column, array("q"))


class BackupCheck:
    """The tables of a backup, each checked as it is read; `finish` checks what lies
    between rows (keys, references) once all are in."""

    def __init__(self, schema: str) -> None:
        self.special = _special_checks(schema)
        self.settings = _setting_checks()
        self.tables: dict[str, _TableCheck] = {}

    def table(self, name: Any) -> _TableCheck:
        try:
            _any_text(name)
        except _Bad as bad:
            raise InvalidBackup(("tables", name), _("the name of a table: {reason}").format(
                reason=bad.reason)) from None
        if name in self.tables:
            raise InvalidBackup(("tables", name), _("{name} is named twice").format(
                name=show(name)))
        check = self.tables[name] = _TableCheck(name, self.special, self.settings)
        return check

    def finish(self) -> None:
        self._keys()
        self._references()

    def _keys(self) -> None:
        """Primary keys and unique constraints hold no value twice."""
        for name, table in self.tables.items():
            for key in table.keys:
                if key.repeat is not None:
                    i, found, first = key.repeat
                    value = list(found) if isinstance(found, tuple) else found
                    raise InvalidBackup(
                        ("tables", name, "rows", i, key.group[-1]),
                        _("{value} is already in rows[{first}] ({columns} must be unique)")
                        .format(value=show(value), first=first, columns=" and ".join(key.group)))

    def _references(self) -> None:
        """Every reference names a row of the backup; a card is merged into a card kept."""
        for name, table in self.tables.items():
            if table.model is None:
                continue
            for column in table.model.columns:
                if column.references is None or column.name not in table.references:
                    continue
                target_table, target = column.references
                referred = self.tables.get(target_table)
                known = referred.targets.get(target, set()) if referred is not None else set()
                for i, value in enumerate(table.references[column.name]):
                    if value and value not in known:
                        raise InvalidBackup(
                            ("tables", name, "rows", i, column.name),
                            _("{value} is not the {column} of any {table} in the backup")
                            .format(value=show(value), column=target, table=target_table))
        cards = self.tables["card"]
        into = cards.values("merged_into")
        own = cards.card_ids
        if not into or len(own) != len(into):
            return
        merged = dict(zip(own, into, strict=True))
        for i, (card, kept) in enumerate(zip(own, into, strict=True)):
            if not kept:
                continue
            if kept == card:
                raise InvalidBackup(("tables", "card", "rows", i, "merged_into"),
                                    _("{value} is the card itself").format(value=show(kept)))
            if merged.get(kept):
                raise InvalidBackup(("tables", "card", "rows", i, "merged_into"),
                                    _("card {value} was itself merged into card {other}; a card "
                                      "is merged into a card that was not").format(
                                          value=show(kept), other=show(merged[kept])))


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


def check_head(data: Mapping[str, Any]) -> str:
    """Check what a backup says of itself (schema, srs_version, created_at, config); returns
    its schema revision."""
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
    return schema


def _not_tables(value: Any) -> InvalidBackup:
    return InvalidBackup(("tables",), _("{value} is not an object of tables").format(
        value=show(value)))


def _check_required(names: Iterable[str]) -> None:
    present = set(names)
    for name in REQUIRED_TABLES:
        if name not in present:
            raise InvalidBackup(("tables", name), _("missing (a backup holds the tables {names})")
                                .format(names=", ".join(REQUIRED_TABLES)))


def check_backup(data: Mapping[str, Any]) -> None:
    """Check every part of a parsed backup; raise InvalidBackup at the first bad value.

    `data` already has the format and version of a backup. The same checks as
    `read_backup` makes of a file as it reads it.
    """
    schema = check_head(data)
    stored = data.get("tables")
    if type(stored) is not dict:
        raise _not_tables(stored)
    _check_required(stored)
    check = BackupCheck(schema)
    for name, value in stored.items():
        table = check.table(name)
        if type(value) is not dict:
            table.whole(value)
        table.set_columns(value.get("columns"))
        rows = value.get("rows")
        table.start_rows(rows, streamed=False)
        for row in rows:
            table.row(row)
        table.end()
    check.finish()


# -- reading a backup file as it comes ---------------------------------------------------------

CHUNK = 1 << 20  # characters read at a time
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER_GOES_ON = re.compile(r"[0-9.eE+\-]*\Z")


class NotJson(Exception):
    """Text that is no JSON: the reason, as json.loads would give it."""


class _Undecodable(Exception):
    """Bytes that are no UTF-8, and where they are in the file."""


class _Reader:
    """A JSON document read a chunk at a time.

    The objects and arrays a backup is made of (the document, its tables, each table, a
    table's rows) are walked here; every other value (a row, a list of columns, the config)
    is decoded whole by the json module's own scanner. Errors read as json.loads words
    them, at the same line, column and character.
    """

    def __init__(self, path: Path) -> None:
        import codecs
        import hashlib

        self.file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.digest = hashlib.blake2b()
        self.read_bytes = 0
        self.cr = False  # a carriage return at the end of the last chunk
        self.eof = False
        self.buf = ""
        self.pos = 0
        self.base = 0  # characters before buf[0]
        self.line = 1  # the line of buf[0]
        self.column = 1  # the column of buf[0]
        # The C scanner json.loads uses (typeshed does not declare the attribute).
        decoder: Any = json.JSONDecoder()
        self.scan: Callable[[str, int], tuple[Any, int]] = decoder.scan_once

    def close(self) -> None:
        self.file.close()

    def _decode(self, data: bytes) -> str:
        pending = len(self.decoder.getstate()[0])
        try:
            text: str = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as err:  # told at its place in the file, not in the chunk
            at = self.read_bytes - pending + err.start
            shown = (f"byte 0x{err.object[err.start]:02x} in position {at}"
                     if err.end - err.start == 1 else
                     f"bytes in position {at}-{at + err.end - err.start - 1}")
            raise _Undecodable(f"'utf-8' codec can't decode {shown}: {err.reason}") from None
        self.read_bytes += len(data)
        return text

    def _more(self) -> bool:
        """Read the next chunk into the buffer; False at the end of the file."""
        if self.eof:
            return False
        data = self.file.read(CHUNK)
        self.digest.update(data)
        text = self._decode(data)
        if not data:
            self.eof = True
        # Newlines as Python's text files read them (Path.read_text).
        if self.cr:
            text = "\r" + text
            self.cr = False
        if text.endswith("\r") and not self.eof:
            text = text[:-1]
            self.cr = True
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self.base == 0 and self.buf == "" and text.startswith("\ufeff"):
            self.fail("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0)
        drop = self.pos
        if drop:
            buf = self.buf
            lines = buf.count("\n", 0, drop)
            if lines:
                self.line += lines
                self.column = drop - buf.rfind("\n", 0, drop)
            else:
                self.column += drop
            self.base += drop
            self.buf = buf[drop:]
            self.pos = 0
        self.buf += text
        return bool(text) or not self.eof

    def fail(self, message: str, pos: int) -> None:
        buf = self.buf
        lines = buf.count("\n", 0, pos)
        line = self.line + lines
        column = pos - buf.rfind("\n", 0, pos) if lines else self.column + pos
        raise NotJson(f"{message}: line {line} column {column} (char {self.base + pos})")

    def next(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            self.pos = _WHITESPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def value(self) -> Any:
        """The JSON value at the current place, decoded whole."""
        while True:
            buf, pos = self.buf, self.pos
            try:
                value, end = self.scan(buf, pos)
            except StopIteration as stop:
                if not self.eof and stop.value >= len(buf) - 16 and self._more():
                    continue
                self.fail("Expecting value", stop.value)
            except json.JSONDecodeError as err:
                if not self.eof and (err.msg.startswith("Unterminated string")
                                     or err.pos >= len(buf) - 16) and self._more():
                    continue
                self.fail(err.msg, err.pos)
            except RecursionError:
                raise NotJson(_("nested too deeply")) from None
            except ValueError as err:  # an integer of more than 4300 digits
                raise NotJson(str(err)) from None
            if not self.eof and _NUMBER_GOES_ON.match(buf, end) and self._more():
                continue  # a number may go on in the next chunk
            self.pos = end
            return value

    def expect_colon(self) -> None:
        if self.next() != ":":
            self.fail("Expecting ':' delimiter", self.pos)
        self.pos += 1

    def key(self, first: str) -> str:
        if first != '"':
            self.fail("Expecting property name enclosed in double quotes", self.pos)
        key: str = self.value()
        self.expect_colon()
        return key

    def after_member(self, closing: str) -> str | None:
        """Past the `,` after a member (the next character), or None past the closing."""
        c = self.next()
        if c == closing:
            self.pos += 1
            return None
        if c != ",":
            self.fail("Expecting ',' delimiter", self.pos)
        self.pos += 1
        return self.next()

    def walk(self, visitor: _Visitor) -> None:
        """Read the whole document, telling `visitor` what it holds."""
        c: str | None = self.next()
        if c != "{":
            visitor.document(self.value())
        else:
            self.pos += 1
            c = self.next()
            if c == "}":
                self.pos += 1
            else:
                while c is not None:
                    key = self.key(c)
                    if self.next() == "{" and key == "tables":
                        self._tables(visitor)
                    else:
                        visitor.member(key, self.value())
                    c = self.after_member("}")
        if self.next() != "":
            self.fail("Extra data", self.pos)

    def _tables(self, visitor: _Visitor) -> None:
        self.pos += 1
        visitor.tables_start()
        c: str | None = self.next()
        if c == "}":
            self.pos += 1
            return
        while c is not None:
            name = self.key(c)
            if self.next() == "{":
                self._table(name, visitor)
            else:
                visitor.table(name, self.value())
            c = self.after_member("}")

    def _table(self, name: str, visitor: _Visitor) -> None:
        self.pos += 1
        visitor.table_start(name)
        c: str | None = self.next()
        if c == "}":
            self.pos += 1
        while c is not None and c != "}":
            key = self.key(c)
            if self.next() == "[" and key == "rows":
                self._rows(name, visitor)
            else:
                visitor.table_member(name, key, self.value())
            c = self.after_member("}")
        visitor.table_end(name)

    def _rows(self, name: str, visitor: _Visitor) -> None:
        self.pos += 1
        visitor.rows_start(name)
        row = visitor.row
        if self.next() == "]":
            self.pos += 1
            return
        scan = self.scan
        while True:
            # The usual row, well inside the buffer, without the general path's care.
            buf, pos = self.buf, self.pos
            try:
                value, end = scan(buf, pos)
            except (StopIteration, ValueError, RecursionError):
                end = -1
            if end < 0 or buf[end - 1] != "]" or end + 64 > len(buf):
                value = self.value()
                c = self.next()
            else:
                self.pos = end
                c = self.next()
            row(value)
            if c == "]":
                self.pos += 1
                return
            if c != ",":
                self.fail("Expecting ',' delimiter", self.pos)
            self.pos += 1
            self.next()


class _Visitor:
    """What a read of a backup file is told, piece by piece (each does nothing here)."""

    def document(self, value: Any) -> None:
        """A document that is not an object."""

    def member(self, key: str, value: Any) -> None:
        """A member of the document other than the tables."""

    def tables_start(self) -> None:
        """The tables begin (an object)."""

    def table(self, name: str, value: Any) -> None:
        """A table that is not an object."""

    def table_start(self, name: str) -> None:
        """A table begins."""

    def table_member(self, name: str, key: str, value: Any) -> None:
        """A member of a table, other than its rows when they are an array."""

    def rows_start(self, name: str) -> None:
        """A table's rows begin."""

    def row(self, row: Any) -> None:
        """One row of the table whose rows began last."""

    def table_end(self, name: str) -> None:
        """A table ends."""


_NOTHING: Any = object()


class _Reading(_Visitor):
    """What a read of the file found; checks the tables as they come when it can.

    The first read checks the tables as it goes when the file says what it is (format,
    version, schema) before its tables and gives each table's columns before its rows, as
    `review export` writes it. Otherwise it only looks, and a second read (given the first)
    checks.
    """

    def __init__(self, first: _Reading | None = None, schema: str | None = None) -> None:
        self.first = first
        self.schema = schema
        self.head: dict[str, Any] = {}
        self.whole: Any = _NOTHING  # a document that is not an object
        self.tables_value: Any = _NOTHING  # tables that are not an object
        self.tables_named = 0
        self.order: list[str] = []
        self.columns: dict[str, Any] = {}  # each table's (last) columns
        self.rows: dict[str, int] = {}
        self.check: BackupCheck | None = None
        self.current: _TableCheck | None = None
        self.members: set[str] = set()
        self.error: InvalidBackup | None = None  # the first bad table, in file order
        self.in_order = True

    def _bad(self, error: InvalidBackup) -> None:
        if self.error is None:
            self.error = error
        self.check = None
        self.current = None

    def _out_of_order(self) -> None:
        self.in_order = False
        self.check = None
        self.current = None

    def document(self, value: Any) -> None:
        self.whole = value

    def member(self, key: str, value: Any) -> None:
        if key == "tables":
            self.tables_named += 1
            self.tables_value = value
            return
        if self.tables_named and key in ("format", "version", "schema") and self.first is None:
            self._out_of_order()  # what the tables are read as came after them
        self.head[key] = value

    def tables_start(self) -> None:
        self.tables_named += 1
        schema = self.schema
        if schema is None and self.tables_named == 1 and _is_backup(self.head):
            try:
                schema = check_head(self.head)
            except InvalidBackup:
                schema = None  # told once the whole file is read
        if schema is not None and self.tables_named == 1:
            self.check = BackupCheck(schema)
        else:
            self._out_of_order()

    def table(self, name: str, value: Any) -> None:
        self.order.append(name)
        if self.check is not None:
            try:
                self.check.table(name).whole(value)
            except InvalidBackup as err:
                self._bad(err)

    def table_start(self, name: str) -> None:
        self.order.append(name)
        self.members = set()
        self.rows.setdefault(name, 0)
        if self.check is None:
            return
        try:
            self.current = self.check.table(name)
            if self.first is not None:
                self.current.set_columns(self.first.columns.get(name))
        except InvalidBackup as err:
            self._bad(err)

    def table_member(self, name: str, key: str, value: Any) -> None:
        if key == "columns":
            self.columns[name] = value
        twice = key in self.members and key in ("columns", "rows")
        self.members.add(key)
        current = self.current
        if current is None:
            return
        try:
            if twice:
                raise InvalidBackup(("tables", name, key), _("{name} is named twice").format(
                    name=show(key)))
            if key == "columns" and self.first is None:
                current.set_columns(value)
            elif key == "rows":
                current.start_rows(value, streamed=False)
        except InvalidBackup as err:
            self._bad(err)

    def rows_start(self, name: str) -> None:
        self.members.add("rows")
        current = self.current
        if current is None:
            return
        if current.columns is None and "columns" not in self.members and self.first is None:
            self._out_of_order()  # its columns may come after its rows
            return
        try:
            current.start_rows(None, streamed=True)
        except InvalidBackup as err:
            self._bad(err)

    def row(self, row: Any) -> None:
        current = self.current
        if current is not None:
            try:
                current.row(row)
            except InvalidBackup as err:
                self._bad(err)

    def table_end(self, name: str) -> None:
        current = self.current
        if current is not None:
            self.rows[name] = current.count
            try:
                current.end()
            except InvalidBackup as err:
                self._bad(err)
        self.current = None


def _is_backup(head: Mapping[str, Any]) -> bool:
    version = head.get("version")
    return (head.get("format") == BACKUP_FORMAT and type(version) is int
            and version == BACKUP_VERSION)


@dataclass
class BackupFile:
    """A backup file read and checked whole: what it says of itself and its tables' columns,
    to be read again as it is restored (`read_rows`)."""

    path: Path
    head: dict[str, Any]
    table_order: list[str]  # as the file has them
    columns: dict[str, list[str]]
    digest: bytes  # of the file's bytes, to know it is the file checked


def _read(path: Path, visitor: _Visitor) -> bytes:
    """Read the whole file through `visitor`; returns its digest."""
    try:
        reader = _Reader(path)
    except OSError as err:
        raise ExportError(_("cannot read {path}: {reason}").format(
            path=path, reason=err.strerror or err)) from None
    try:
        reader.walk(visitor)
        return reader.digest.digest()
    except NotJson as err:
        raise ExportError(_("not an srs backup: {reason}").format(reason=_(
            "not JSON ({reason})").format(reason=err))) from None
    except _Undecodable as err:
        raise ExportError(_("cannot read {path}: {reason}").format(
            path=path, reason=err)) from None
    except OSError as err:
        raise ExportError(_("cannot read {path}: {reason}").format(
            path=path, reason=err.strerror or err)) from None
    finally:
        reader.close()


def read_backup(path: Path) -> BackupFile:
    """Read a backup file and check all of it, before anything of it is written.

    The file is read a chunk at a time (once, or twice when it is not laid out as
    `review export` writes it), never held whole. Raises ExportError for a file that is no
    srs backup or one from a newer srs, and InvalidBackup, naming the first bad value by
    its place in the file, for a backup with a value this version cannot take.
    """
    first = _Reading()
    digest = _read(path, first)
    if first.whole is not _NOTHING or first.head.get("format") != BACKUP_FORMAT:
        raise ExportError(_("not an srs backup: {reason}").format(
            reason=_("no \"format\": \"{format}\"").format(format=BACKUP_FORMAT)))
    head = first.head
    version = head.get("version")
    if type(version) is not int or version != BACKUP_VERSION:
        raise ExportError(_("backup version {found} is not {version}; it was made by "
                            "another version of srs").format(
                                found=show(version), version=BACKUP_VERSION))
    schema = head.get("schema")
    if isinstance(schema, str) and schema.isascii() and schema.isdigit() and (
            schema not in KNOWN_REVISIONS and schema > max(KNOWN_REVISIONS)):
        raise ExportError(_("the backup has schema {schema}, newer than this version of srs "
                            "understands; upgrade srs").format(schema=schema))
    schema = check_head(head)
    if first.tables_named > 1:
        raise InvalidBackup(("tables",), _("{name} is named twice").format(name=show("tables")))
    if first.tables_named == 0 or first.tables_value is not _NOTHING:
        raise _not_tables(None if first.tables_named == 0 else first.tables_value)
    _check_required(first.order)
    checked = first
    if first.error is None and not first.in_order:
        checked = _Reading(first, schema)
        if _read(path, checked) != digest:
            raise ExportError(_("{path} changed while it was read").format(path=path))
    if checked.error is not None:
        raise checked.error
    assert checked.check is not None
    checked.check.finish()
    columns = {name: list(value) for name, value in first.columns.items()}
    return BackupFile(Path(path), head, first.order, columns, digest)


class RowSink(Protocol):
    """Where the rows of one table go as the file is read again."""

    def add(self, row: list[Any]) -> None: ...

    def finish(self) -> None: ...


class _Rows(_Visitor):
    """Hands each row of the tables wanted to their sink, and tells it when they end."""

    def __init__(self, sinks: Mapping[str, RowSink]) -> None:
        self.sinks = sinks
        self.add: Callable[[Any], None] | None = None

    def table_start(self, name: str) -> None:
        sink = self.sinks.get(name)
        self.add = sink.add if sink is not None else None

    def row(self, row: Any) -> None:
        if self.add is not None:
            self.add(row)

    def table_end(self, name: str) -> None:
        sink = self.sinks.get(name)
        if sink is not None:
            sink.finish()
        self.add = None


def read_rows(backup: BackupFile, sinks: Mapping[str, RowSink]) -> None:
    """Read the checked file again, giving each row of a table in `sinks` to its `add`,
    then calling its `finish`; raises ExportError when the file is no longer the one
    checked."""
    if _read(backup.path, _Rows(sinks)) != backup.digest:
        raise ExportError(_("{path} changed while it was read").format(path=backup.path))


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
