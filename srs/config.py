"""The person's settings in config.toml: known keys, their defaults and validation."""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from srs.errors import ConfigError
from srs.i18n import N_, _

Value = Any
Parser = Callable[[str], Value]
Checker = Callable[[Value], Value]


@dataclass(frozen=True)
class Key:
    """One setting: its default, how to read it from text and how to check a value."""

    name: str
    default: Callable[[], Value]
    parse: Parser
    check: Checker
    help: str


def _bad(key: str, value: object, expected: str, **fields: object) -> ConfigError:
    """The error for a bad value; `expected` is a message marked with N_ (its `fields`
    filled in after it is translated)."""
    return ConfigError(
        _("bad value {value!r} for {key}: expected {expected}").format(
            value=value, key=key, expected=_(expected).format(**fields)
        )
    )


_NUMBER = N_("a number from {low} to {high}")
_WHOLE = N_("a whole number from {low} to {high}")
_ZONE = N_("an IANA zone name such as Asia/Shanghai")
_ON_OFF = N_("on or off")


def _float_range(key: str, low: float, high: float) -> tuple[Parser, Checker]:
    def parse(text: str) -> Value:
        try:
            return float(text)
        except ValueError:
            raise _bad(key, text, _NUMBER, low=low, high=high) from None

    def check(value: Value) -> Value:
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not low <= value <= high):
            raise _bad(key, value, _NUMBER, low=low, high=high)
        return float(value)

    return parse, check


def _int_range(key: str, low: int, high: int) -> tuple[Parser, Checker]:
    def parse(text: str) -> Value:
        try:
            return int(text)
        except ValueError:
            raise _bad(key, text, _WHOLE, low=low, high=high) from None

    def check(value: Value) -> Value:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _bad(key, value, _WHOLE, low=low, high=high)
        return value

    return parse, check


def _timezone_check(value: Value) -> Value:
    from srs.clock import zone

    try:
        zone(str(value))
    except (ValueError, OSError):  # a folder of zones such as "Asia" fails to open
        raise _bad("timezone", value, _ZONE) from None
    if not isinstance(value, str):
        raise _bad("timezone", value, _ZONE)
    return value


def _system_zone() -> Value:
    from srs.clock import system_zone_name

    return system_zone_name()


_BOOL_WORDS = {"on": True, "true": True, "yes": True, "1": True,
               "off": False, "false": False, "no": False, "0": False}


def _bool(key: str) -> tuple[Parser, Checker]:
    def parse(text: str) -> Value:
        try:
            return _BOOL_WORDS[text.strip().lower()]
        except KeyError:
            raise _bad(key, text, _ON_OFF) from None

    def check(value: Value) -> Value:
        if not isinstance(value, bool):
            raise _bad(key, value, _ON_OFF)
        return value

    return parse, check


_STEP = re.compile(r"^(\d+)\s*([smhd])$")
_STEP_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


LONGEST_STEP = timedelta(days=365)  # a learning step longer than a year is a typing slip
MOST_STEPS = 20


def parse_step(text: str) -> timedelta:
    """A learning step such as `10m`, `1h` or `1d`, from one second to a year."""
    match = _STEP.match(text.strip().lower())
    if not match or int(match.group(1)) == 0 or len(match.group(1)) > 9:
        raise ValueError(text)
    step = timedelta(**{_STEP_UNITS[match.group(2)]: int(match.group(1))})
    if step > LONGEST_STEP:
        raise ValueError(text)
    return step


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _steps(key: str) -> tuple[Parser, Checker]:
    expected = N_("durations from 1s to 365d such as 10m,1h,1d separated by commas (at most "
                  "{n}), or none")

    def parse(text: str) -> Value:
        return [] if text.strip().lower() in ("", "none", "off") else _split_list(text)

    def check(value: Value) -> Value:
        if not isinstance(value, list) or len(value) > MOST_STEPS:
            raise _bad(key, value, expected, n=MOST_STEPS)
        for step in value:
            try:
                parse_step(str(step))
            except ValueError:
                raise _bad(key, step, expected, n=MOST_STEPS) from None
        return [str(step) for step in value]

    return parse, check


def _choice(key: str, choices: tuple[str, ...]) -> tuple[Parser, Checker]:
    def check(value: Value) -> Value:
        if value not in choices:
            raise _bad(key, value, N_("one of {choices}"), choices=", ".join(choices))
        return value

    return (lambda text: text.strip()), check


def _thresholds_check(value: Value) -> Value:
    expected = N_("three increasing percentages for hard,good,easy such as 60,80,95")
    if not isinstance(value, list) or len(value) != 3:
        raise _bad("score_thresholds", value, expected)
    try:
        numbers = [float(v) for v in value]
    except (TypeError, ValueError):
        raise _bad("score_thresholds", value, expected) from None
    if not (0 <= numbers[0] < numbers[1] < numbers[2] <= 100):
        raise _bad("score_thresholds", value, expected)
    return [int(n) if n.is_integer() else n for n in numbers]


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _times_check(value: Value) -> Value:
    expected = N_("local times such as 09:00,20:30")
    if not isinstance(value, list) or not value or not all(
        isinstance(v, str) and _CLOCK.match(v) for v in value
    ):
        raise _bad("reminders.digest_at", value, expected)
    return [f"{int(v.split(':')[0]):02d}:{v.split(':')[1]}" for v in value]


def _quiet_check(value: Value) -> Value:
    expected = N_("a range of local times such as 22:00-08:00, or an empty string")
    if not isinstance(value, str):
        raise _bad("reminders.quiet_hours", value, expected)
    if value == "":
        return value
    parts = value.split("-")
    if len(parts) != 2 or not all(_CLOCK.match(p.strip()) for p in parts):
        raise _bad("reminders.quiet_hours", value, expected)
    return "-".join(p.strip() for p in parts)


CHANNELS = ("log", "desktop", "command")


def _channels_check(value: Value) -> Value:
    expected = N_("a list of channels: log, desktop, command, or apprise URLs")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad("reminders.channels", value, expected)
    for channel in value:
        if channel not in CHANNELS and "://" not in channel:
            raise _bad("reminders.channels", channel, expected)
    return value


def _string_check(key: str) -> Callable[[Value], Value]:
    def check(value: Value) -> Value:
        if not isinstance(value, str):
            raise _bad(key, value, N_("text"))
        return value

    return check


def _command_parse(text: str) -> Value:
    """A command typed for the command channel, refused when its program would not be found
    by the daemon, which runs in `/` (a bare name is looked up on PATH now, as it is then)."""
    import shlex
    import shutil

    try:
        words = shlex.split(text)
    except ValueError as err:
        raise ConfigError(_("cannot read reminders.command {command!r}: {reason}").format(
            command=text, reason=err)) from None
    program = words[0] if words else ""
    if not program or os.path.isabs(program):
        return text
    if "/" in program:
        raise ConfigError(_(
            "reminders.command {program!r} is a relative path and the daemon runs in /; "
            "give an absolute path such as {absolute}").format(
                program=program,
                absolute=shlex.quote(os.path.abspath(os.path.expanduser(program)))))
    if shutil.which(program) is None:
        raise ConfigError(_(
            "reminders.command {program!r} is not found on PATH; give an absolute path "
            "to the program").format(program=program))
    return text


def _words_check(key: str) -> Callable[[Value], Value]:
    def check(value: Value) -> Value:
        if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() and len(v) <= 100 for v in value) \
                or len(value) > 200:
            raise _bad(key, value, N_("words separated by commas"))
        return [v.strip() for v in value]

    return check


def _language_parse(text: str) -> Value:
    """A language as a person types it: zh_CN (or zh, zh_Hans, zh_CN.UTF-8), en, or empty
    to follow the environment (LANGUAGE, LC_ALL, LC_MESSAGES, LANG)."""
    from srs.i18n import normalize

    return "" if not text.strip() else normalize(text) or text.strip()


def _language_check(value: Value) -> Value:
    from srs.i18n import LANGUAGES

    if not isinstance(value, str) or value not in ("", *LANGUAGES):
        raise _bad("language", value, N_("zh_CN or en (or empty: follow LANG)"))
    return value


def configured_language(path: Path) -> str | None:
    """The `language` config.toml sets, read on its own when a command starts (its help and
    usage errors are in that language too); None when it is not set or the file cannot be
    read (the command that reads the file says why)."""
    try:
        value = tomllib.loads(path.read_bytes().decode("utf-8")).get("language")
        return _language_check(value) or None if value is not None else None
    except (OSError, ValueError, ConfigError):
        return None


def _skip_words() -> tuple[str, ...]:
    from srs.logparse import SKIP_WORDS

    return SKIP_WORDS


def _keys() -> dict[str, Key]:
    keys = [
        Key("timezone", _system_zone, lambda t: t.strip(), _timezone_check,
            N_("IANA zone for study days and reminders (default: the system's)")),
        Key("day_starts_at", lambda: 4, *_int_range("day_starts_at", 0, 23),
            N_("hour (0-23) a study day begins; reviews before it count for the day before")),
        Key("desired_retention", lambda: 0.9, *_float_range("desired_retention", 0.70, 0.99),
            N_("share of self-tests you want to pass when they fall due (0.70-0.99)")),
        Key("maximum_interval", lambda: 36500, *_int_range("maximum_interval", 1, 36500),
            N_("longest interval between self-tests, in days")),
        Key("learning_steps", lambda: [], *_steps("learning_steps"),
            N_("short steps after the first study, e.g. 1h,1d (default none)")),
        Key("relearning_steps", lambda: [], *_steps("relearning_steps"),
            N_("short steps after a failed self-test (default none)")),
        Key("fuzz", lambda: True, *_bool("fuzz"),
            N_("spread intervals a little so reviews do not bunch up (on/off)")),
        Key("max_reviews_per_day", lambda: 10, *_int_range("max_reviews_per_day", 1, 9999),
            N_("how many self-tests `review today` shows a day")),
        Key("max_minutes_per_day", lambda: None, *_int_range("max_minutes_per_day", 1, 1440),
            N_("minutes of self-tests `review today` plans a day (default none: no budget)")),
        Key("order", lambda: "retrievability",
            *_choice("order", ("retrievability", "due", "log", "random")),
            N_("order of today's queue: retrievability, due, log or random")),
        Key("score_thresholds", lambda: [60, 80, 95],
            lambda t: _split_list(t), _thresholds_check,
            N_("lowest score (%) for hard, good and easy when grading with a score")),
        Key("write_back", lambda: False, *_bool("write_back"),
            N_("append each self-test to the row in the log file (on/off)")),
        Key("log.done_words", lambda: [], _split_list, _words_check("log.done_words"),
            N_("more status words meaning a row was studied, e.g. 搞定,nailed")),
        Key("log.pending_words", lambda: [], _split_list, _words_check("log.pending_words"),
            N_("more status words meaning a row is not studied yet")),
        Key("log.skip_words", lambda: list(_skip_words()), _split_list,
            _words_check("log.skip_words"),
            N_("topics that are no card: rest days (休息, rest, travel, ...)")),
        Key("reminders.digest_at", lambda: ["09:00"], _split_list, _times_check,
            N_("local times of the daily digest")),
        Key("reminders.quiet_hours", lambda: "22:00-08:00", lambda t: t.strip(), _quiet_check,
            N_("local time range without reminders; empty turns it off")),
        Key("reminders.channels", lambda: ["log"], _split_list, _channels_check,
            N_("where reminders go: log, desktop, command, apprise URLs")),
        Key("reminders.command", lambda: "", _command_parse, _string_check("reminders.command"),
            N_("program run by the command channel with title and body as arguments")),
        Key("language", lambda: "", _language_parse, _language_check,
            N_("language of messages: zh_CN or en (default: as LANG asks)")),
    ]
    return {key.name: key for key in keys}


KEYS: dict[str, Key] = _keys()


def _unknown(name: str) -> ConfigError:
    return ConfigError(
        _("unknown setting {name!r} (see 'review config show')").format(name=name)
    )


class Config:
    """The settings in one config.toml, with defaults for those not set."""

    def __init__(self, path: Path, values: dict[str, Value]) -> None:
        self.path = path
        self._values = values
        self._defaults: dict[str, Value] = {}

    def __getitem__(self, name: str) -> Value:
        if name not in KEYS:
            raise _unknown(name)
        if name in self._values:
            return self._values[name]
        if name not in self._defaults:
            self._defaults[name] = KEYS[name].default()
        return self._defaults[name]

    def is_set(self, name: str) -> bool:
        return name in self._values

    def items(self) -> list[tuple[str, Value]]:
        return [(name, self[name]) for name in KEYS]

    def set(self, name: str, text: str) -> Value:
        """Validate `text` for `name` and write it to the file atomically."""
        if name not in KEYS:
            raise _unknown(name)
        key = KEYS[name]
        value = key.check(key.parse(text))
        self._values = _update(self.path, lambda values: {**values, name: value})
        return value

    def unset(self, name: str) -> None:
        """Go back to the default for `name`."""
        if name not in KEYS:
            raise _unknown(name)
        self._values = _update(
            self.path, lambda values: {k: v for k, v in values.items() if k != name})


def _flatten(table: dict[str, Value], prefix: str = "") -> dict[str, Value]:
    flat: dict[str, Value] = {}
    for name, value in table.items():
        full = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = value
    return flat


def time_budget(config: Config) -> int | None:
    """The minutes of self-tests a day may hold (max_minutes_per_day); None: no budget."""
    value = config["max_minutes_per_day"]
    return None if value is None else int(value)


def load(path: Path) -> Config:
    """Read and validate config.toml; a missing file means every default."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Config(path, {})
    except OSError as exc:
        raise ConfigError(
            _("cannot read {path}: {reason}").format(path=path, reason=exc.strerror)
        ) from None
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            _("{path} is not valid TOML: {reason}").format(path=path, reason=exc)
        ) from None
    values: dict[str, Value] = {}
    for name, value in _flatten(table).items():
        if name not in KEYS:
            raise ConfigError(
                _("unknown setting {name!r} in {path}").format(name=name, path=path)
            )
        values[name] = KEYS[name].check(value)
    return Config(path, values)


def _cannot_write(path: Path, err: OSError) -> ConfigError:
    return ConfigError(_("cannot write {path}: {reason}").format(
        path=path, reason=err.strerror or err))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the lock that every writer of config.toml takes (a file beside it), so that
    two commands setting different keys at once both keep their change."""
    import fcntl

    from srs.paths import make_private_dir

    lock_file = path.with_name(f".{path.name}.lock")
    try:
        make_private_dir(path.parent)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:
        raise _cannot_write(path, err) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # lets the lock go


def _update(path: Path, change: Callable[[dict[str, Value]], dict[str, Value]]
            ) -> dict[str, Value]:
    """Apply `change` to the settings in the file as they are now (read again under the
    lock, not as this process saw them earlier), write them, and return them."""
    with _locked(path):
        values = change(dict(load(path)._values))
        _write(path, values)
    return values


def _write(path: Path, values: dict[str, Value]) -> None:
    """Replace config.toml in one step: a reader sees the old file or the new, and a failed
    write (a full disk) leaves the old one as it was and no temporary file behind. A
    symlinked config.toml is written through to the file it points to."""
    import tomli_w

    from srs.atomic import replace_file

    nested: dict[str, Value] = {}
    for name in sorted(values):
        table = nested
        *parents, leaf = name.split(".")
        for parent in parents:
            table = table.setdefault(parent, {})
        table[leaf] = values[name]
    data = tomli_w.dumps(nested).encode("utf-8")
    try:
        # Private (0600): a value may hold a secret (an apprise URL with a token).
        replace_file(path, data, private=True)
    except OSError as err:
        raise _cannot_write(path, err) from None


def show_value(value: Value) -> str:
    """A value as a person would type it on the command line."""
    if value is None:  # a setting with no default value (max_minutes_per_day)
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
