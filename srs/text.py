"""A person's text made fit to show: the one way topics, notes and paths reach a screen.

Nothing a person wrote is ever read as markup or obeyed as a terminal control: control
characters are shown as symbols, invisible characters that reorder or hide text are
dropped. The command line prints through here (cli/output.py) and so do reminders.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

# C0 controls but tab and newline, DEL and C1: a terminal obeys them (ESC starts a sequence
# that can move the cursor, retitle the window or, with OSC 52, write the clipboard).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Invisible characters that reorder or hide text: bidi overrides and isolates, zero-width
# spaces and marks, a stray byte-order mark.
INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064"
                       "\u2066-\u2069\ufeff\u061c]")
# What JSON text shows as \u escapes so a terminal shows it as text: json.dumps escapes C0
# controls itself; C1 controls (0x9b starts a sequence on some terminals), DEL and the
# invisible characters are escaped here, and read back as the same data.
UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f]|{INVISIBLE.pattern}")


def json_safe(text: str) -> str:
    """JSON text with every character of UNSAFE_IN_JSON written as a \\u escape."""
    return UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def _picture(match: re.Match[str]) -> str:
    code = ord(match[0])
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␇ for BEL, ␍ for CR: seen, not obeyed
    if code == 0x7F:
        return "\u2421"
    return f"\\x{code:02x}"


def plain(text: str) -> str:
    """`text` with control characters shown as symbols and invisible ones dropped.

    Lone surrogates (bytes that were not UTF-8) are shown as \\xNN.
    """
    if text.isascii() and text.isprintable():
        return text
    text = INVISIBLE.sub("", CONTROL.sub(_picture, text))
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = "".join(f"\\x{ord(ch) - 0xdc00:02x}" if "\udc80" <= ch <= "\udcff" else ch
                       for ch in text)
    return text


def one_line(text: str, width: int | None = None) -> str:
    """`text` through `plain` on one line (runs of white space made one space), cut to
    `width` characters with an ellipsis when longer."""
    text = " ".join(plain(text).split())
    if width is not None and len(text) > width:
        return text[: width - 1] + "…"
    return text


def _char_width(char: str) -> int:
    """Terminal cells of one character (wcwidth's rules: East Asian wide and full-width
    characters and most emoji take two, combining marks and zero-width ones none)."""
    import unicodedata

    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    if char == "\u200d" or "\ufe00" <= char <= "\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


_WIDTHS: dict[str, int] = {}


def cell_width(text: str) -> int:
    """How many terminal cells `text` takes (a CJK character is two)."""
    if text.isascii():
        return len(text)
    widths = _WIDTHS
    total = 0
    for char in text:
        width = widths.get(char)
        if width is None:
            width = widths[char] = _char_width(char)
        total += width
    return total


def fit(text: str, width: int) -> str:
    """`text` through `one_line`, cut to `width` terminal cells with an ellipsis when wider."""
    text = one_line(text)
    if cell_width(text) <= width:
        return text
    if width <= 0:
        return ""
    kept, used = [], 0
    for char in text:
        cells = cell_width(char)
        if used + cells > width - 1:
            break
        kept.append(char)
        used += cells
    return "".join(kept) + "…"


def short_time(moment: datetime, tz: tzinfo, today: date) -> str:
    """A moment as a person reads it: local time, short ("12-14 09:00"), with the year when
    it is not this year's ("2025-12-14 09:00")."""
    from srs.i18n import _

    local = moment.astimezone(tz)
    if local.year == today.year:
        return _("{month:02d}-{day:02d} {hour:02d}:{minute:02d}").format(
            month=local.month, day=local.day, hour=local.hour, minute=local.minute)
    return _("{year}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}").format(
        year=local.year, month=local.month, day=local.day, hour=local.hour, minute=local.minute)


def short_day(day: date, today: date) -> str:
    """A study day as a person reads it ("Wed 12-02"; srs.i18n.day_label)."""
    from srs.i18n import day_label

    return day_label(day, today)
