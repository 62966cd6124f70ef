"""Dates as people write them in a study log, and the year a date without one belongs to.

A cell may hold `2026-06-17`, `2026/6/17`, `2026.6.17`, `20260617`, `2026年6月17日`,
`17 June 2026`, `June 17, 2026`, `6/17/2026` or `17/6/2026`, and without a year `06-17`,
`6/17`, `6.17`, `6月17日`, `June 17`; wrapped in bold, code or a link, followed by a weekday
(`(Tue)`, `周二`) or a time (`14:30`, kept). A range (`2026-06-09 ～ 06-12`, `6/9 to 6/12`)
stands for its last day.

Slash and dot dates are month first unless the file holds one whose first number is above
12: then they are day first throughout the file (`FileStyle`). A date without a year takes
it from its context (`YearContext`), in this order: the date closest above it in the file
(the year that puts it nearest, so a log crossing a new year rolls forward, and one kept
newest-first rolls back); a year in the nearest heading above, or in the file's title;
otherwise the current year, or the one before when the current year would put the date in
the future.

Everything here is pure and linear in the length of its input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from typing import NamedTuple

__all__ = ["DateReading", "FileStyle", "YearContext", "clean_cell", "find_dates",
           "read_date", "year_in"]

EARLIEST, LATEST = 1970, 2100  # outside these years a date is a mistake, said once per row
LONGEST_CELL = 80  # no readable date cell is longer; bounds the work on hostile input

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}
_MONTH = r"(?P<mname>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"
_SEP_DATE = r"[-/.]"

# Every way a date is written, tried in this order; the names say which parts each has.
_FORMS = [
    ("ymd", rf"(?P<y>\d{{4}})\s*(?P<s>{_SEP_DATE})\s*(?P<m>\d{{1,2}})\s*(?P=s)\s*(?P<d>\d{{1,2}})"),
    ("ymd", r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号號]?"),
    ("ymd", rf"(?P<y>\d{{4}})[-\s]{_MONTH}[-\s](?P<d>\d{{1,2}})"),
    ("ymd", r"(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)"),
    ("xyY", rf"(?P<a>\d{{1,2}})\s*(?P<s>{_SEP_DATE})\s*(?P<b>\d{{1,2}})\s*(?P=s)\s*(?P<y>\d{{4}})"),
    ("dmy", rf"(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MONTH},?\s+(?P<y>\d{{4}})"),
    ("mdy", rf"{_MONTH}\s+(?P<d>\d{{1,2}}){_ORD},?\s+(?P<y>\d{{4}})"),
    ("md", r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号號]?"),
    ("dm", rf"(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MONTH}"),
    ("md", rf"{_MONTH}\s+(?P<d>\d{{1,2}}){_ORD}"),
    ("xy", rf"(?P<a>\d{{1,2}})\s*(?P<s>{_SEP_DATE})\s*(?P<b>\d{{1,2}})"),
]
_FORM_RES = [(kind, re.compile(pattern, re.I)) for kind, pattern in _FORMS]
# One pattern that finds any of them inside a longer text (a self-test cell).
# Any of them inside a longer text, each form's groups named f0_y, f1_m, ... so that one
# regex finds them all (a self-test cell holds several). Exported for the parser's scanner.
ANY_DATE = (
    r"(?<![0-9A-Za-z])(?<![0-9][-/.])(?:" + "|".join(
        f"(?P<f{n}>{pattern.replace('(?P<', f'(?P<f{n}_').replace('(?P=', f'(?P=f{n}_')})"
        for n, (_kind, pattern) in enumerate(_FORMS)) + r")(?![0-9A-Za-z]|[-/.][0-9])")
_ANY_DATE = re.compile(ANY_DATE, re.I)

_WEEKDAY = re.compile(
    r"(?<![a-z])[(（]?\s*(?:(?:周|星期|礼拜|週)[一二三四五六日天]|"
    r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\.?)"
    r"\s*[)）]?(?![a-z])", re.I)
_TIME = re.compile(
    r"(?<![\d:])(?P<h>[01]?\d|2[0-3])\s*[:：]\s*(?P<min>[0-5]\d)(?::[0-5]\d)?"
    r"(?:\s*(?P<ampm>am|pm))?(?![\d:])", re.I)
_RANGE = re.compile(r"\s*(?:[～~〜至到–—→]|\s(?:to|until|-)\s|\s?->\s?)\s*", re.I)
_LINK = re.compile(r"\[([^\[\]]{0,80})\]\([^()\s]{0,300}\)")
_TAG = re.compile(r"<[^<>]{0,40}>")
_DECOR = re.compile(r"\*\*|__|~~|`")
_EDGE = " \t()（）[]【】{}<>,，;；.。:：!！?？*_\"'“”‘’"
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_T = re.compile(r"(\d)[Tt](\d)")  # 2026-06-17T14:30
_DECORATED = re.compile(r"[\[<*_`~]")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[A-Za-z]")
# Full-width digits and signs, and the hyphens an editor or a keyboard layout puts in a
# date for "-" (U+2010, the non-breaking U+2011), as the ASCII a date is read in; one
# character for one, so positions in the text stay where they were.
_WIDE = str.maketrans("０１２３４５６７８９／－．：～\u2010\u2011", "0123456789/-.:~--")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


@dataclass(frozen=True)
class FileStyle:
    """How a file writes its dates: day first in slash and dot dates when it says so, and
    newest first when its dated rows mostly go back in time."""

    day_first: bool = False
    descending: bool = False


@dataclass(frozen=True)
class YearContext:
    """What a date without a year takes its year from."""

    nearby: date | None = None  # the date closest above in the file
    nearby_line: int = 0
    heading_year: int | None = None  # a year in the nearest heading above
    heading_line: int = 0
    title_year: int | None = None  # a year in the file's title or name
    today: date | None = None  # the current study day
    descending: bool = False  # the file is kept newest first
    # The year a file's dates without any context take, when this year would put its
    # studied rows ahead of today (set on a second reading).
    assumed_year: int | None = None


class DateReading(NamedTuple):
    """A date read from a cell: the day, a time if one was written, and where the year came from."""

    day: date
    time: time | None = None
    year_from: str | None = None  # None: the cell had its year
    out_of_range: bool = False  # before 1970 or after 2100


def clean_cell(text: str) -> str:
    """A cell's text without markdown decoration: bold, code, links (their text), tags."""
    if "[" in text:
        text = _LINK.sub(r"\1", text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    return _DECOR.sub("", text).translate(_WIDE).strip()


def year_in(text: str) -> int | None:
    """A year written in a heading or a title (1970 to 2100), the last one when several."""
    found = [int(y) for y in _YEAR.findall(text) if EARLIEST <= int(y) <= LATEST]
    return found[-1] if found else None


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_of(match: re.Match[str], prefix: str) -> int:
    groups = match.groupdict()
    name = groups.get(prefix + "mname")
    if name is not None:
        return _MONTHS[name.lower().rstrip(".")]
    return int(groups[prefix + "m"])


def _order(a: int, b: int, day_first: bool) -> tuple[int, int]:
    """(month, day) of two numbers written without a month name."""
    if a > 12 >= b:
        return b, a
    if b > 12 >= a:
        return a, b
    return (b, a) if day_first else (a, b)


def _parts(kind: str, match: re.Match[str], prefix: str,
           style: FileStyle) -> tuple[int | None, int, int]:
    """(year or None, month, day) of a matched form."""
    group = match.group
    if kind in ("xy", "xyY"):
        sep = group(prefix + "s")
        a, b = int(group(prefix + "a")), int(group(prefix + "b"))
        month, day = _order(a, b, style.day_first and sep != "-")
        return (int(group(prefix + "y")) if kind == "xyY" else None), month, day
    year = int(group(prefix + "y")) if kind in ("ymd", "dmy", "mdy") else None
    return year, _month_of(match, prefix), int(group(prefix + "d"))


def infer_year(month: int, day: int, context: YearContext) -> tuple[date | None, str]:
    """The date a month and day stand for in `context`, and where its year came from."""
    if context.heading_year is not None and context.heading_line > context.nearby_line:
        return _make(context.heading_year, month, day), f"heading:{context.heading_line}"
    if context.nearby is not None:
        near, source = context.nearby, f"line:{context.nearby_line}"
        # Rows follow each other in time: a month more than six months before the date
        # above is in the next year (in the year before, in a log kept newest first).
        shift = month - near.month
        if context.descending:
            return _make(near.year - (shift > 6), month, day), source
        return _make(near.year + (shift < -6), month, day), source
    if context.heading_year is not None:
        return _make(context.heading_year, month, day), f"heading:{context.heading_line}"
    if context.title_year is not None:
        return _make(context.title_year, month, day), "title"
    if context.assumed_year is not None:
        return _make(context.assumed_year, month, day), "year before"
    if context.today is not None:
        found = _make(context.today.year, month, day)
        if found is not None and found > context.today:
            return _make(context.today.year - 1, month, day), "last year"
        return found, "this year"
    return None, ""


def _single(text: str, style: FileStyle, context: YearContext,
            after: date | None = None) -> tuple[date | None, str | None] | None:
    """A date written alone (no range, no time); None when the text is not a date.

    `after`: the range's start, which a range's end without a year (or month) follows.
    """
    text = text.strip(_EDGE)
    if after is not None and text.isdigit() and len(text) <= 2:
        day = int(text)
        found = _make(after.year, after.month, day)
        if found is not None and found < after:
            next_year, next_month = ((after.year, after.month + 1) if after.month < 12
                                     else (after.year + 1, 1))
            found = _make(next_year, next_month, day)
        return found, None
    for kind, regex in _FORM_RES:
        match = regex.fullmatch(text)
        if match is None:
            continue
        year, month, day = _parts(kind, match, "", style)
        if year is not None:
            return _make(year, month, day), None
        if after is not None:
            found = _make(after.year, month, day)
            if found is not None and found < after:
                found = _make(after.year + 1, month, day)
            return found, None
        return infer_year(month, day, context)
    return None


def read_iso(text: str) -> DateReading | None:
    """The quick path: a cell that is exactly YYYY-MM-DD (None for anything else)."""
    raw = text if len(text) == 10 else text.strip()
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:  # with dashes at 4 and 7, fromisoformat reads nothing but YYYY-MM-DD
            found = date.fromisoformat(raw)
        except ValueError:
            return None
        return DateReading(found, None, None, not EARLIEST <= found.year <= LATEST)
    return None


def read_date(text: str, style: FileStyle = FileStyle(),
              context: YearContext = YearContext()) -> DateReading | None:
    """The date of a date cell (the last day of a range); None when it cannot be read."""
    quick = read_iso(text)
    if quick is not None:
        return quick
    raw = text.strip()
    if not raw or len(raw) > LONGEST_CELL or not _DIGIT.search(raw):
        return None
    cleaned = clean_cell(raw) if _DECORATED.search(raw) else raw.translate(_WIDE)
    if "T" in cleaned or "t" in cleaned:
        cleaned = _T.sub(r"\1 \2", cleaned)
    if not cleaned.isascii() or _LETTER.search(cleaned):
        cleaned = _WEEKDAY.sub(" ", cleaned)
    moment: time | None = None
    clock = _TIME.search(cleaned) if (":" in cleaned or "：" in cleaned) else None
    if clock is not None:
        hour = int(clock["h"]) % 12 + (12 if (clock["ampm"] or "").lower() == "pm" else 0) \
            if clock["ampm"] else int(clock["h"])
        moment = time(hour, int(clock["min"]))
        cleaned = cleaned[:clock.start()] + " " + cleaned[clock.end():]
    cleaned = cleaned.strip(_EDGE)
    if not cleaned:
        return None
    sep = _RANGE.search(cleaned)
    if sep is not None and sep.start() > 0:
        start = _single(cleaned[:sep.start()], style, context)
        if start is None or start[0] is None:
            return None
        end = _single(cleaned[sep.end():], style, context, after=start[0])
        if end is None or end[0] is None or end[0] < start[0]:
            return None
        day, source = end[0], start[1]
    else:
        single = _single(cleaned, style, context)
        if single is None or single[0] is None:
            return None
        day, source = single[0], single[1]
    return DateReading(day, moment, source, not EARLIEST <= day.year <= LATEST)


def parts_of(match: re.Match[str], style: FileStyle) -> tuple[int | None, int, int]:
    """(year or None, month, day) of a match of ANY_DATE (alone or inside a larger regex)."""
    for number, (kind, _pattern) in enumerate(_FORMS):
        if match.group(f"f{number}") is not None:
            return _parts(kind, match, f"f{number}_", style)
    raise ValueError("not a date match")


def plain_digits(text: str) -> str:
    """`text` with full-width digits and signs and Unicode hyphens as ASCII (one character
    for one: positions stay)."""
    return text if text.isascii() else text.translate(_WIDE)


def find_dates(text: str, style: FileStyle = FileStyle()
               ) -> list[tuple[int, int, int | None, int, int]]:
    """Every date inside a longer text: (start, end, year or None, month, day), in order."""
    return [(match.start(), match.end(), *parts_of(match, style))
            for match in _ANY_DATE.finditer(plain_digits(text))]


_SLASH_DOT = re.compile(r"(?<![\d/.])(\d{1,2})[/.](\d{1,2})(?![\d])")


def day_first_in(samples: list[str]) -> bool:
    """True when a slash or dot date among `samples` can only be day first (31/12, 13.5)."""
    for text in samples:
        if "/" not in text and "." not in text:
            continue
        for match in _SLASH_DOT.finditer(text):
            if int(match[1]) > 12 >= int(match[2]) >= 1:
                return True
    return False
