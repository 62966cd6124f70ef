"""Rendering for commands: JSON, rich tables, and the small helpers they share."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click

from srs.text import json_safe, one_line, plain

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def json_text(data: Any, indent: int = 2) -> str:
    """JSON whose text a terminal shows as text: control characters (json.dumps escapes C0
    itself) and characters that reorder or hide text written as \\u escapes, which
    read back as the same data."""
    return json_safe(json.dumps(data, ensure_ascii=False, indent=indent))


_JSON_CHUNK = 1000  # objects of a list encoded and written at a time


def print_json(data: Any) -> None:
    """JSON on stdout (see `json_text`). A list of flat objects (cards, a queue) is encoded
    by json's C encoder, which `indent` turns off, a chunk at a time, and only the line
    breaks between objects are put right: the same text, several times faster at 100,000."""
    from itertools import chain

    flat = {str, int, float, bool, type(None)}
    if (not isinstance(data, list) or not data or not all(type(item) is dict and item
                                                          for item in data)
            or not set(map(type, chain.from_iterable(map(dict.values, data)))) <= flat):
        click.echo(json_text(data))
        return
    # With nothing nested, the item separator stands exactly where indent=2 breaks a line
    # inside an object; "},\n    {" (no string holds a raw line break) between objects.
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",\n    ", ": ")).encode
    for start in range(0, len(data), _JSON_CHUNK):
        text = encode(data[start:start + _JSON_CHUNK])
        text = "  {\n    " + text[2:-2].replace("},\n    {", "\n  },\n  {\n    ") + "\n  }"
        # JSON holds no escape character (json escapes every control): no colour for
        # click to look for.
        click.echo(("[\n" if start == 0 else ",\n") + json_safe(text), nl=False, color=True)
    click.echo("\n]")


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo for text a person reads, through `plain`."""
    click.echo(plain(str(message)), err=err, nl=nl)


def cell(value: object) -> Text:
    """A table cell: the value as plain text, never read as markup."""
    from rich.text import Text

    return Text(plain(str(value)))


def console(stderr: bool = False) -> Console:
    """A rich console that prints text as it is: no markup, no emoji codes, no highlighting."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False, markup=False, emoji=False)


# The bounds of every number and date a command takes: a typing slip past them is one line
# naming the value, never an overflow deep inside.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2100, 12, 31)
ID = click.IntRange(1, 2**53)  # card ids: positive, and exact in JSON
COUNT = click.IntRange(0, 1_000_000)  # limits and counts
DAYS = click.IntRange(1, 3650)  # spans of days (spread, forecast)
SECONDS = click.IntRange(0, 86_400)  # how long a self-test took
MOST_DAYS_AHEAD = (LAST_DAY - FIRST_DAY).days


def in_range(day: date, value: str, param: str) -> date:
    """`day` when it lies between 1970 and 2100; else a bad parameter naming `value`."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise click.BadParameter(
            f"{plain(value)!r} is not between {FIRST_DAY} and {LAST_DAY}", param_hint=param)
    return day


def parse_date(value: str, param: str) -> date:
    """A date typed on the command line: YYYY-MM-DD (also / or . between the parts), between
    1970 and 2100."""

    match = re.fullmatch(r"\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*", value)
    try:
        if not match:
            raise ValueError
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise click.BadParameter(
            f"{plain(value)!r} is not a date; use YYYY-MM-DD", param_hint=param
        ) from None
    return in_range(day, value, param)


def short(text: str, width: int = 40) -> str:
    """A person's text on one line, at most `width` characters, fit for a terminal."""
    return one_line(text, width)
