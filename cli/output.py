"""Rendering for commands: JSON, rich tables, and the small helpers they share."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click

from srs.text import cell_width, fit, json_safe, one_line, plain

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
MOST_DAYS_AHEAD = (LAST_DAY - FIRST_DAY).days


def in_range(day: date, value: str, param: str) -> date:
    """`day` when it lies between 1970 and 2100; else a bad parameter naming `value`."""
    if not FIRST_DAY <= day <= LAST_DAY:
        from srs.i18n import _

        raise click.BadParameter(_("{value!r} is not between {first} and {last}").format(
            value=plain(value), first=FIRST_DAY, last=LAST_DAY), param_hint=param)
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
        from srs.i18n import _

        raise click.BadParameter(
            _("{value!r} is not a date; use YYYY-MM-DD").format(value=plain(value)),
            param_hint=param) from None
    return in_range(day, value, param)




# --- tables ---------------------------------------------------------------------------------

GAP = 2  # spaces between two columns


@dataclass(frozen=True)
class Column:
    """One column of a list: its header, how it gives way when the terminal is narrow, and
    its alignment. `shrink` 0 keeps its width; the column with the highest `shrink` is cut
    first (down to `least` cells); an `optional` one is left out, in the same order, when
    even that does not fit."""

    header: str
    shrink: int = 0
    least: int = 0
    right: bool = False
    optional: bool = False


def terminal_width() -> int | None:
    """The terminal's width in cells, or None when standard output is not a terminal."""
    import shutil

    if not sys.stdout.isatty():
        return None
    return max(20, shutil.get_terminal_size((80, 24)).columns)


def colour() -> bool:
    """Whether to colour what goes to standard output (a terminal, and no NO_COLOR)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def layout(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """A list laid out in `width` terminal cells: one line per row, each cell one line of
    the person's text (cut with an ellipsis where it does not fit), no trailing spaces.

    Columns keep their natural width while the whole fits; otherwise they give way in the
    order of their `shrink` (highest first) down to `least`, and are then left out in that
    order until the rest fits.
    """
    texts = [[one_line(str(value)) for value in row] for row in rows]
    natural = [max([cell_width(column.header)] + [cell_width(row[n]) for row in texts])
               for n, column in enumerate(columns)]
    givers = sorted((n for n, column in enumerate(columns) if column.shrink),
                    key=lambda n: -columns[n].shrink)
    # A column that only gives way by being left out (no `least`) is never cut.
    least = [min(natural[n], max(column.least, 1))
             if column.shrink and (column.least or not column.optional) else natural[n]
             for n, column in enumerate(columns)]
    shown = list(range(len(columns)))

    def total(sizes: list[int]) -> int:
        return sum(sizes[n] for n in shown) + GAP * (len(shown) - 1)

    for n in givers:  # leave columns out while even their narrowest does not fit
        if total(least) <= width:
            break
        if columns[n].optional:
            shown.remove(n)
    widths = list(natural)
    for n in givers:  # then cut the ones that give way, in order, no more than needed
        excess = total(widths) - width
        if excess <= 0:
            break
        if n in shown:
            widths[n] = max(least[n], widths[n] - excess)
    for n in givers:  # still too wide: below their narrowest, down to 4 cells
        excess = total(widths) - width
        if excess <= 0:
            break
        if n in shown:
            widths[n] = max(min(widths[n], 4), widths[n] - excess)
    if total(widths) > width:  # even the columns that keep their width are too wide
        last = shown[-1]
        widths[last] = max(1, widths[last] - (total(widths) - width))
    lines = []
    for row in [[column.header for column in columns], *texts]:
        cells = []
        for n in shown:
            text = fit(row[n], widths[n])
            pad = " " * (widths[n] - cell_width(text))
            cells.append(pad + text if columns[n].right else text + pad)
        lines.append((" " * GAP).join(cells).rstrip())
    return lines


def print_table(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> None:
    """A list on standard output: laid out to the terminal's width, its header in bold
    when colour is allowed; piped, tab-separated lines (header first) for scripts."""
    width = terminal_width()
    if width is None:
        click.echo("\t".join(column.header for column in columns))
        for row in rows:
            click.echo("\t".join(one_line(str(value)) for value in row))
        return
    lines = layout(columns, [[str(value) for value in row] for row in rows], width)
    bold = colour()
    if bold:
        lines[0] = click.style(lines[0], bold=True)
    if paging and len(lines) + 2 > terminal_height():
        # As git does: through $PAGER (less by default, told to quit when it all fits,
        # to keep colours and to leave the screen as it is).
        os.environ.setdefault("LESS", "FRX")
        click.echo_via_pager("\n".join(lines), color=bold)
        return
    for line in lines:
        click.echo(line, color=bold)


paging = True  # long lists go through $PAGER on a terminal (off with review --no-pager)


def terminal_height() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).lines


_BREAKABLE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff"
                        r"\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+|\s+")


def wrap(text: str, width: int, indent: str = "",
         units: re.Pattern[str] = _BREAKABLE) -> list[str]:
    """`text` (one line of it) in lines of at most `width` terminal cells, broken at spaces
    and between CJK characters (`units`: what may not be broken); a word wider than a line
    (a path) is broken where it must."""
    lines: list[str] = []
    line, used = "", 0
    for token in units.findall(one_line(text)):
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        cells = cell_width(token)
        if used + cells > width and line.strip():
            lines.append(line.rstrip())
            line, used = indent, cell_width(indent)
        while cells > width - used and width - used > 0:  # a word wider than a line: broken
            head, taken = "", 0
            for char in token:
                if taken + cell_width(char) > width - used:
                    break
                head, taken = head + char, taken + cell_width(char)
            if not head:
                break
            lines.append((line + head).rstrip())
            token, cells = token[len(head):], cells - taken
            line, used = indent, cell_width(indent)
        line, used = line + token, used + cells
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def say(message: object, *, err: bool = False) -> None:
    """A sentence for a person: on a terminal, wrapped to its width (CJK text too)."""
    width = terminal_width() if not err else None
    text = str(message)
    if width is None or cell_width(text) <= width:
        echo(text, err=err)
        return
    for line in wrap(text, width):
        echo(line, err=err)


def trim_shared_prefix(values: Sequence[str]) -> list[str]:
    """Values without the leading words every one of them shares (sections named
    "学习进度 Week01", "学习进度 Week02" ... read as "Week01", "Week02" in a list)."""
    present = [value.split() for value in values if value.strip()]
    if len(present) < 2:
        return list(values)
    shared = 0
    while all(len(words) > shared + 1 and words[shared] == present[0][shared]
              for words in present):
        shared += 1
    if not shared:
        return list(values)
    return [" ".join(value.split()[shared:]) if value.strip() else value for value in values]
