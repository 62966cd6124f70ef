"""Read a markdown study log: the rows of its study tables, their dates and self-tests.

A log is read the way its writer reads it. A table is a study table when it has a column
of dates and a column naming what was studied; column roles come from header words in
Chinese and English (srs/logwords.py) and, where the headers say nothing, from what the
cells hold. Dates are read in every common spelling, a date without a year takes it from
its context (srs/logdates.py), statuses are read by their first word or mark, a mastery
column grades the first study, and tables in comments or code blocks are not the log.

Nothing here reads the clock or raises on any text; `LogOptions.today` is the study day
a year-less date is placed against.
"""

import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property, lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

from srs.errors import LogFileError
from srs.i18n import _, ngettext
from srs.logdates import (
    ANY_DATE,
    EARLIEST,
    LATEST,
    DateReading,
    FileStyle,
    YearContext,
    clean_cell,
    day_first_in,
    find_dates,
    parts_of,
    plain_digits,
    read_date,
    read_iso,
    year_in,
)
from srs.logwords import (
    Status,
    header_key,
    header_roles,
    is_plan_date,
    is_plan_header,
    mastery_score,
    status_of,
)

__all__ = ["LogOptions", "LogRow", "ParseResult", "ParseWarning", "SelfTest", "TableInfo",
           "normalise_topic", "parse_log", "read_log"]

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
_GRADES = {"again": 1, "hard": 2, "good": 3, "easy": 4}
WARNINGS_PER_LINE = 5  # more on one line are counted, not listed
SKIP_WORDS = ("休息", "休假", "放假", "假期", "请假", "rest", "rest day", "day off", "break",
              "holiday", "travel", "vacation", "sick", "off", "downtime")


@dataclass(frozen=True)
class LogOptions:
    """What reading a log depends on besides its text."""

    today: date | None = None  # the current study day, for dates without a year
    done_words: tuple[str, ...] = ()  # more status words meaning "studied"
    pending_words: tuple[str, ...] = ()  # more status words meaning "not yet"
    skip_words: tuple[str, ...] = SKIP_WORDS  # a row whose topic is only this is no card
    thresholds: tuple[float, float, float] = (60.0, 80.0, 95.0)  # mastery scores to grades


class SelfTest(NamedTuple):
    """One self-test of a topic: when it happened and how well it went."""

    on: date
    rating: int  # 1=again 2=hard 3=good 4=easy
    # A date in a column of planned self-tests that carries no mark: planned, not done.
    planned: bool = False


@dataclass(slots=True)
class LogRow:
    """One data row of a study table, with its topic resolved and its cells read."""

    file: str
    line: int
    section: str
    table: int
    topic: str
    status: str
    studied: bool
    learned_on: date | None
    self_tests: tuple[SelfTest, ...]
    notes: str
    is_review: bool
    review_target: str
    learned_at: time | None = None  # a time written after the learned date
    learned_rating: int = GOOD  # the grade of the first study (a mastery column sets it)
    year_from: str | None = None  # where a year-less learned date took its year from
    skip: str = ""  # why the row is no card: "rest", or "repeat:LINE"
    raw_topic: str = field(default="", compare=False)  # the topic cell as written


@dataclass(frozen=True)
class ParseWarning:
    """A problem (or a remark) about one line of a log."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class TableInfo:
    """One table of a log: where it is, its columns' roles, and whether it was read."""

    line: int
    header: tuple[str, ...]
    roles: tuple[str, ...]  # a role per column ("" for none)
    rows: int  # rows read from it
    skipped: str = ""  # why it is not a study table
    index: int = -1  # its number among the study tables

    def describe(self) -> str:
        """The columns as `header=role`, for --dry-run and for errors."""
        return ", ".join(f"{cell or '?'}={role or '-'}"
                         for cell, role in zip(self.header, self.roles, strict=True))


@dataclass
class ParseResult:
    """Everything read from one log."""

    rows: list[LogRow] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    notes: list[ParseWarning] = field(default_factory=list)
    tables: int = 0
    table_info: list[TableInfo] = field(default_factory=list)
    # Reading with a memo of the last reading: the study tables taken as read then, whose
    # rows are not in `rows` (they read as they did), and the memo of this reading.
    reused: set[int] = field(default_factory=set)
    reads: list["_TableRead"] = field(default_factory=list)
    memo: "ParseMemo | None" = None

    @property
    def counts(self) -> tuple[int, int, int]:
        """Rows read, pending and skipped, in every table (reused ones too)."""
        return (sum(read.counts[0] for read in self.reads),
                sum(read.counts[1] for read in self.reads),
                sum(read.counts[2] for read in self.reads))

    @property
    def studied(self) -> list[LogRow]:
        """Rows whose topic has been studied."""
        return [row for row in self.rows if row.studied and not row.skip]

    @property
    def pending(self) -> list[LogRow]:
        """Rows whose topic is still to be studied."""
        return [row for row in self.rows if not row.studied and not row.skip]

    def study_table(self, index: int) -> TableInfo | None:
        """The study table with that number."""
        for info in self.table_info:
            if info.index == index:
                return info
        return None


def normalise_topic(topic: str) -> str:
    """A topic as compared for identity: NFKC, case-folded, spaces collapsed."""
    text = (topic if topic.isascii() else unicodedata.normalize("NFKC", topic)).casefold()
    return text if _TIDY(text) else " ".join(text.split())


def _TIDY(text: str) -> bool:  # noqa: N802
    """True for text already with single spaces between words and none around."""
    return (text.isascii() and "  " not in text and "\t" not in text and "\n" not in text
            and "\r" not in text and text == text.strip())


# --- markdown structure -------------------------------------------------------------------

_FENCE = re.compile(r" {0,3}(?:(`{3,})[^`]*|(~{3,}).*)$")  # "```x``` y" is inline code
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]+(.*))?$")
_HEADING_LEVEL = re.compile(r" {0,3}(#{1,6})")
PIPE = re.compile(r"(?<!\\)\|")
_DELIMITER_CELL = re.compile(r":?-+:?")
_CONTAINER = re.compile(r"[ \t]*(?:>[ \t]?)*")  # blockquote markers before a table or heading


def _lines(text: str) -> list[str]:
    """Split on "\\n" only: str.splitlines breaks on other characters too and shifts lines."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    lines[0] = lines[0].removeprefix("\ufeff")
    return lines


def container_prefix(line: str) -> int:
    """How many characters of blockquote markers and indentation come before the content."""
    match = _CONTAINER.match(line)
    return match.end() if match else 0


def _body(line: str) -> str:
    return line[container_prefix(line):] if line[:1] in (" ", "\t", ">") else line


def split_cells(line: str) -> list[str]:
    """Cells of a table row: outer pipes optional, `\\|` is a literal pipe."""
    text = _body(line).strip()
    if "\\" in text:
        cells = PIPE.split(text)
        if text.startswith("|"):
            cells.pop(0)
        if cells and text.endswith("|") and not text.endswith("\\|"):
            cells.pop()
        return [cell.replace("\\|", "|").strip() for cell in cells]
    cells = text.split("|")  # no escaped pipe: the plain split is the same, and faster
    if text.startswith("|"):
        cells.pop(0)
    if cells and text.endswith("|"):
        cells.pop()
    return [cell.strip() for cell in cells]


def is_delimiter(line: str, header_width: int) -> bool:
    """True for a row like `|---|:--:|` under a header of that many cells."""
    cells = split_cells(line)
    # why: a bare `---` under a line with pipes is a setext heading, unless the table is 1 wide
    has_pipe = PIPE.search(line) is not None or header_width == 1
    return bool(cells) and has_pipe and all(_DELIMITER_CELL.fullmatch(c) for c in cells)


def ends_table(line: str) -> bool:
    """True for a line that cannot be a table row: blank, pipe-less, a heading or a fence."""
    if line[:1] == "|":  # the common case: a row that starts with its pipe
        return False
    body = _body(line)
    return (
        not body.strip()
        or PIPE.search(body) is None
        or _FENCE.match(body) is not None
        or _HEADING.match(body) is not None
    )


def _heading_text(text: str) -> str:
    text = text.strip()
    # Closing hashes: a run of # at the end, after a space. Linear: no backtracking regex.
    stripped = text.rstrip("#")
    if stripped != text and (not stripped or stripped[-1] in " \t"):
        text = stripped.rstrip()
    return text


@dataclass
class _RawTable:
    """A table found in the text, before its columns are understood."""

    line: int  # the header's line (1-based)
    header: list[str]
    section: str
    heading_year: int | None
    heading_line: int
    heading_date: date | None  # a full date in the nearest heading above
    lines: list[str]  # the file's lines: the table's rows are split into cells on demand
    end: int  # the index of the line after its last row

    @cached_property
    def rows(self) -> list[tuple[int, list[str]]]:
        """(line, cells) of each row, as wide as the header (comment lines left out)."""
        width = len(self.header)
        rows = []
        for number in range(self.line + 1, self.end):  # self.line: the header's index + 1
            row_line = self.lines[number]
            if "<!--" in row_line:
                continue  # a marker kept inside the table
            cells = split_cells(row_line)
            if len(cells) != width:
                cells = (cells + [""] * width)[:width]
            rows.append((number + 1, cells))
        return rows

    @cached_property
    def digest(self) -> str:
        """What the table's reading depends on in its own text and the headings above it."""
        import hashlib

        context = f"{self.section}\0{self.heading_year}\0{self.heading_line}\0{self.heading_date}"
        text = "\n".join(self.lines[self.line - 1:self.end])
        return hashlib.blake2b((context + "\0" + text).encode(), digest_size=16).hexdigest()


@dataclass
class _Document:
    """The tables of a log, its title, and the full dates written outside tables."""

    tables: list[_RawTable]
    title: str
    text_dates: list[tuple[int, date]]  # (line, date) of dates in prose, quotes, front matter


def _full_dates(text: str) -> list[date]:
    found = []
    for _start, _end, year, month, day in find_dates(text):
        if year is not None and EARLIEST <= year <= LATEST:
            try:
                found.append(date(year, month, day))
            except ValueError:
                continue
    return found


_YEARISH = re.compile(r"(?:19|20)\d\d")


def _is_comment_line(line: str) -> bool:
    text = line.strip()
    return text.startswith("<!--") and text.endswith("-->")


def _find_tables(lines: list[str]) -> _Document:
    """Every table outside code blocks and HTML comments, the title, and dates in the text."""
    tables: list[_RawTable] = []
    text_dates: list[tuple[int, date]] = []
    section, title = "", ""
    year: int | None = None
    year_line = 0
    heading_date: date | None = None
    fence: str | None = None
    in_comment = False
    index = 0
    while index < len(lines):
        line = lines[index]
        if in_comment:
            if "-->" in line:
                in_comment = False
            index += 1
            continue
        body = _body(line)
        if fence is not None:
            closing = body.strip()
            if len(closing) >= len(fence) and closing == fence[0] * len(closing):
                fence = None
            index += 1
            continue
        if "<!--" in line:
            before, _sep, after = line.partition("<!--")
            if "-->" not in after:
                in_comment = True
            if not before.strip():
                index += 1
                continue
        if opening := _FENCE.match(body):
            fence = opening[1] or opening[2]
            index += 1
        elif heading := _HEADING.match(body):
            section = _heading_text(heading[1] or "")
            if not title:
                title = section
            found = year_in(section)
            if found is not None:
                year, year_line = found, index + 1
            dates = _full_dates(section) if any(c.isdigit() for c in section) else []
            heading_date = dates[-1] if len(dates) == 1 else None
            if dates:
                text_dates.append((index + 1, dates[-1]))
            index += 1
        elif (
            index + 1 < len(lines)
            and PIPE.search(body)
            and is_delimiter(lines[index + 1], len(split_cells(line)))
        ):
            header = split_cells(line)
            end, count = index + 2, len(lines)
            while end < count:
                row_line = lines[end]
                if row_line[:1] == "|" and "<!--" not in row_line:
                    end += 1  # the common case: a row that starts with its pipe
                elif "<!--" in row_line:
                    if not _is_comment_line(row_line):
                        break
                    end += 1  # a marker kept inside a table
                elif ends_table(row_line):
                    break
                else:
                    end += 1
            tables.append(_RawTable(index + 1, header, section, year, year_line, heading_date,
                                    lines, end))
            index = end
        else:
            if len(line) < 2000 and _YEARISH.search(line):
                text_dates.extend((index + 1, found) for found in _full_dates(line))
            index += 1
    return _Document(tables, title, text_dates)


# --- columns -----------------------------------------------------------------------------

_DITTO = frozenset({"", "-", "—", "–", "〃", '"', "”", "同上", "同前", "ditto", "..."})
_INDEX = re.compile(
    r"(?:#|no\.?|day|d|第|week|wk|w|lesson|lec|ch|chapter|周|星期|阶段|phase|stage|part|"
    r"unit|step|session)?\s*\d{1,4}(?:\s*[-–~]\s*\d{1,4})?\s*"
    r"(?:天|日|周|课|章|节|讲|期|阶段)?\.?", re.I)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_MD_LINKS = re.compile(r"!?\[[^\[\]]*\]\([^()]*\)")
_DURATION = re.compile(
    r"\d+(?:\.\d+)?\s*(?:h|hr|hrs|hour|hours|m|min|mins|minutes|小时|分钟|分|时|天)\b\.?"
    r"(?:\s*\d+\s*(?:m|min|mins|minutes|分钟|分))?", re.I)
MAX_COLUMNS = 64  # study tables have a dozen at most; a wider one is read by its first 64
_SAMPLE = 20  # cells per column looked at to tell what a column holds
_DATE_SHAPED = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")


def _kind_of_cell(cell: str) -> str:
    """What one cell looks like: date, status, index, link, duration, mastery, ditto or text."""
    if cell in _DITTO:
        return "ditto"
    text = clean_cell(cell)
    if not text:
        return "ditto"
    digits = any(c.isdigit() for c in text)
    if digits and (read_date(text, context=YearContext(today=date(2000, 1, 1))) is not None
                   or _DATE_SHAPED.match(text)):  # 2025-02-30 is a date written wrong
        return "date"
    if len(text) <= 6 and status_of(cell).kind in ("done", "pending"):
        return "status"
    if digits and _INDEX.fullmatch(text):
        return "index"
    if ("(" in cell and not _MD_LINKS.sub("", cell).strip()) or _URL.fullmatch(text):
        return "link"
    if digits and _DURATION.fullmatch(text):
        return "duration"
    if len(text) <= 8 and mastery_score(text) is not None:
        return "mastery"
    return "text"


def _profile(rows: list[tuple[int, list[str]]], col: int) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for _line, cells in rows:
        if kinds.total() >= _SAMPLE:
            break
        cell = cells[col]
        if cell in _DITTO:
            continue
        kinds[_kind_of_cell(cell)] += 1
    return kinds


class _Profiles(dict[int, Counter[str]]):
    """What each column's cells look like, worked out only for the columns asked about."""

    def __init__(self, rows: list[tuple[int, list[str]]]) -> None:
        super().__init__()
        self.rows = rows

    def __missing__(self, col: int) -> Counter[str]:
        kinds = self[col] = _profile(self.rows, col)
        return kinds


def _share(kinds: Counter[str], kind: str) -> float:
    total = kinds.total()
    return kinds[kind] / total if total else 0.0


def _repeats(rows: list[tuple[int, list[str]]], col: int) -> float:
    """The share of a column's filled cells that repeat another one (a category, a phase)."""
    values = [cells[col] for _line, cells in rows[:_SAMPLE * 2] if cells[col] not in _DITTO]
    return 1 - len(set(values)) / len(values) if values else 0.0


def column_roles(header: list[str], rows: list[tuple[int, list[str]]]) -> list[str]:
    """The role of every column: by the header's words first, then by what the cells hold.

    A study table needs dates (a date column, or attempt columns such as 一刷) and a
    topic. With no topic word in the headers, a `content` column is the topic; without
    that either, the first column of plain text that is not a date, status, self-test,
    mastery, index, link or category. When both a topic and a content column exist, the
    content is notes. A header that says "date" over cells that are not dates is no date
    column ("other" then, with `date?` kept as its role to explain a skipped table).
    Only the first MAX_COLUMNS columns are looked at; the rest have no role.
    """
    if len(header) > MAX_COLUMNS:
        return column_roles(header[:MAX_COLUMNS], rows) + [""] * (len(header) - MAX_COLUMNS)
    width = len(header)
    roles = [""] * width
    for col, role in header_roles(header).items():
        roles[col] = role
    profiles = _Profiles(rows)
    if "date" in roles:  # 学习时间: 2h, Date: Day 3, When to use: <advice>
        col = roles.index("date")
        kinds = profiles[col]
        if kinds.total() and _share(kinds, "date") < 0.3 and _share(kinds, "index") + \
                _share(kinds, "duration") + _share(kinds, "text") >= 0.5:
            roles[col] = "date?"
    if "date" not in roles:
        candidates = [col for col in range(width) if roles[col] in ("", "index", "other")
                      and _share(profiles[col], "date") >= 0.5]
        if not candidates:  # "| Task | Done |" whose Done cells are dates
            candidates = [col for col in range(width) if roles[col] == "status"
                          and _share(profiles[col], "date") >= 0.6]
        if candidates:
            if "date?" in roles:
                roles[roles.index("date?")] = "other"
            roles[candidates[0]] = "date"
    if "status" not in roles:
        for col in range(width):
            if roles[col] == "" and _share(profiles[col], "status") >= 0.6:
                roles[col] = "status"
                break
    for col in range(width):  # "W1", "#3", "Day 2" under a header that says nothing
        if roles[col] == "" and _share(profiles[col], "index") >= 0.6:
            roles[col] = "index"
    if "topic" not in roles:
        if "content" in roles:
            roles[roles.index("content")] = "topic"
        else:
            for col in range(width):
                kinds = profiles[col]
                # "| # | 1st | 2nd |" over "0206 Reverse Linked List": a header that reads
                # as an index over cells of text is the topic.
                if roles[col] in ("", "notes", "index") and kinds.total() and \
                        _share(kinds, "text") >= 0.5 and _repeats(rows, col) < 0.5:
                    roles[col] = "topic"
                    break
    for col in range(width):
        if roles[col] == "content":
            roles[col] = "notes"
    return roles


def _missing(roles: list[str], heading_date: date | None) -> str:
    dated = "date" in roles or "attempt" in roles or heading_date is not None
    if not dated and "topic" not in roles:
        return _("no date column and no topic column")
    if not dated:
        if "date?" in roles:
            return _("no dates in its date column")
        return _("no date column")
    return "" if "topic" in roles else _("no topic column")


# --- status, notes, reviews --------------------------------------------------------------

_BR = re.compile(r"<\s*br\s*/?\s*>", re.I)
_REVIEW = re.compile(
    r"自测|回顾|复习|(?<![a-z0-9])(?:self[-\s]?test|review|quiz)(?![a-z0-9])", re.I
)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|（\s*）|\[\s*\]|【\s*】")
_END_PUNCT = "-:：,，、;；.。!！?？&~～—–_*/|·\"'“”‘’"
_OPEN_CLOSE = {"(": ")", "（": "）", "[": "]", "【": "】"}
_CLOSE_OPEN = {close: open_ for open_, close in _OPEN_CLOSE.items()}
_TOPIC_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()]*\)")
_EMPHASIS = re.compile(r"\*\*|__|~~|`")
_LETTERS = re.compile(r"[\W_]+")
_REMARK = re.compile(r"\([^()]{0,80}\)|（[^（）]{0,80}）")  # "Rest Day (health)"


def clean_topic(cell: str) -> str:
    """A topic as a person reads it: a link's text, no emphasis marks, one line."""
    text = cell
    if "[" in text:
        text = _TOPIC_LINK.sub(r"\1", text)
    if "*" in text or "_" in text or "`" in text or "~" in text:
        text = _EMPHASIS.sub("", text)
    if "<" in text:
        text = _BR.sub(" ", text)
    return text if _TIDY(text) else " ".join(text.split())


def _partners(text: str) -> dict[int, int]:
    """The index of each matched bracket's partner, each kind of bracket matched on its own."""
    partner: dict[int, int] = {}
    stacks: dict[str, list[int]] = {open_: [] for open_ in _OPEN_CLOSE}
    for index, char in enumerate(text):
        if char in _OPEN_CLOSE:
            stacks[char].append(index)
        elif char in _CLOSE_OPEN and stacks[_CLOSE_OPEN[char]]:
            start = stacks[_CLOSE_OPEN[char]].pop()
            partner[start], partner[index] = index, start
    return partner


def _trim(text: str) -> str:
    """Strip punctuation, unmatched brackets and a bracket pair around everything, at the ends."""
    partner = _partners(text)
    low, high = 0, len(text)  # why: indexes into the untouched text keep this linear
    while low < high:
        first, last = low, high - 1
        if text[first].isspace() or text[first] in _END_PUNCT:
            low += 1
        elif text[last].isspace() or text[last] in _END_PUNCT:
            high -= 1
        elif text[first] in _OPEN_CLOSE and partner.get(first, high) >= high:
            low += 1
        elif text[last] in _CLOSE_OPEN and partner.get(last, -1) < low:
            high -= 1
        elif partner.get(first) == last:
            low, high = low + 1, high - 1
        else:
            break
    return text[low:high]


def _review_target(topic: str) -> str:
    """The topic a review row reviews: its text without the review keywords."""
    parts = _REVIEW.split(topic)
    text = parts[0]
    for part in parts[1:]:
        # why: "Linear algebra review notes" must not keep a double space where the word was
        if text[-1:].isspace() and part[:1].isspace():
            text = text.rstrip() + " " + part.lstrip()
        else:
            text += part
    return _trim(_EMPTY_BRACKETS.sub("", text))


@lru_cache(maxsize=8)
def _skip_hint(skip_words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w.casefold()) for w in skip_words) or "(?!)")


def _is_rest(topic: str, skip_words: tuple[str, ...]) -> bool:
    """True when a topic is only a rest marker (休息, "Rest day 😴")."""
    if len(topic) > 60 or not _skip_hint(skip_words).search(topic.casefold()):
        return False
    bare = " ".join(_LETTERS.sub(" ", _REMARK.sub(" ", topic.casefold())).split())
    if not bare or len(bare) > 24:
        return False
    words = bare.split()
    for word in skip_words:
        word = word.casefold()
        if bare in (word, f"{word} day", f"{word} days", f"{word} mode", f"{word}日",
                    f"{word}天", f"{word}中"):
            return True
        if len(words) == 2 and " " not in word and words[1] == word:  # "Java break"
            return True
    return False


# --- self-tests --------------------------------------------------------------------------

_ENTRY_SEP = re.compile(r"[,，;；、→]|->|<\s*br\s*/?\s*>|(?<![0-9])/|/(?![0-9])", re.I)
_MARK = re.compile(r"(?P<good>[✅✔☑✓√]\ufe0f?)|(?P<again>[❌✗✘✖]\ufe0f?)"
                   r"|(?<![a-z])(?P<grade>again|hard|good|easy)(?![a-z])", re.I)
_IGNORABLE = re.compile(r"[\s()（）\[\]【】{}:：.。!！~～*_`\"'“”‘’-]+")
_ANNOTATION = re.compile(
    r"(?<![a-z])[(（]?\s*(?:(?:周|星期|礼拜)[一二三四五六日天]|"
    r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?)"
    r"\s*[)）]?(?![a-z])|(?<![\d:])(?:[01]?\d|2[0-3])[:：][0-5]\d(?![\d:])", re.I)

@dataclass(frozen=True)
class _DateToken:
    raw: str
    year: int | None
    month: int
    day: int


_Token = tuple[int, str, object]  # (position, kind, value): kind date | good | again | grade

_QUICK_SEP = re.compile(r"[,，;；、]|<br\s*/?>")
_QUICK_ENTRY = re.compile(
    r"\s*(?:(?P<good>[✅✔☑]\ufe0f?)|(?P<again>[❌]\ufe0f?))?\s*"
    r"(?:(?P<day>\d{4}-\d{2}-\d{2})|(?P<md>(?P<m>\d{2})-(?P<d>\d{2})))"
    r"(?:\s+\(?(?P<grade>again|hard|good|easy)\)?)?\s*", re.I)

# One scan of a self-test cell: separators between entries, dates (ISO first, the common
# case), marks, grade words, weekdays and times (ignored), punctuation, and anything else.
_CELL_TOKEN = re.compile(
    r"(?P<sep>[,，;；、→]|->|<\s*br\s*/?\s*>|(?<![0-9])/|/(?![0-9]))"
    r"|(?P<iso>(?<![0-9A-Za-z])(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    r"(?![0-9A-Za-z]|[-/.][0-9]))"
    r"|(?P<date>" + ANY_DATE + r")"
    r"|(?P<good>[✅✔☑✓√]\ufe0f?)|(?P<again>[❌✗✘✖]\ufe0f?)"
    r"|(?<![a-z])(?P<grade>again|hard|good|easy)(?![a-z])"
    r"|(?P<note>" + _ANNOTATION.pattern + r")"
    r"|(?P<space>[\s()（）\[\]【】{}:：.。!！~～*_`\"'“”‘’-]+)"
    r"|(?P<other>.)",
    re.I | re.S)


def _rating(marks: list[_Token]) -> int:
    """The grade a date's marks give: a grade word wins, then ❌, else good."""
    grades = [_GRADES[str(value).lower()] for _pos, kind, value in marks if kind == "grade"]
    if grades:
        return grades[-1]
    return AGAIN if any(kind == "again" for _pos, kind, _value in marks) else GOOD


def _pair_marks(tokens: list[_Token]) -> list[tuple[object, int, bool]]:
    """Attach each mark to a date: to the following one when the group starts with a mark.

    Returns (date value, rating, whether it carried a mark) per date.
    """
    marks_first = tokens[0][1] != "date"
    entries: list[tuple[object, list[_Token]]] = []
    waiting: list[_Token] = []  # marks waiting for the next date
    for token in tokens:
        if token[1] == "date":
            entries.append((token[2], waiting))
            waiting = []
        elif marks_first or not entries:
            waiting.append(token)
        else:
            entries[-1][1].append(token)
    if entries:  # why: marks after the last date of a marks-first group have no date to wait for
        entries[-1][1].extend(waiting)
    return [(value, _rating(marks), bool(marks)) for value, marks in entries]


def _unread(group: str, covered: list[tuple[int, int]]) -> list[str]:
    """The words of a self-test group that no date, mark or annotation accounts for."""
    mask = [False] * len(group)
    for start, end in covered:
        mask[start:end] = [True] * (end - start)
    unread = []
    for word in re.finditer(r"\S+", group):
        loose = "".join(char for index, char in enumerate(word[0], word.start())
                        if not mask[index])
        if _IGNORABLE.sub("", loose):
            unread.append(word[0].strip("()（）[]【】,，;；:：.。"))
    return unread


# --- reading a whole log -----------------------------------------------------------------

_TOTAL = frozenset({"total", "totals", "sum", "合计", "总计", "小计", "汇总", "共计"})
_DONE_IN_CELL = re.compile(
    r"\s*[(（]?\s*(?:✅|✔️?|☑️?)\s*(?:已完成|完成|done|completed|complete)?\s*[)）]?\s*", re.I)
_SCORE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(\d+(?:\.\d+)?)|%|分)\s*")


_TRAILING = re.compile(r"[(（]\s*([^()（）]{1,24}?)\s*[)）]\s*$")


def _marks_in(raw: _RawTable, col: dict[str, int]) -> bool:
    """True when the topic or day cells of a table carry ✅ marks (供给（✅ 已完成）, 1 ✅)."""
    cols = [c for c in (col.get("topic"), col.get("index")) if c is not None]
    return any(_DONE_IN_CELL.search(cells[c]) and any(m in cells[c] for m in "✅✔☑")
               for _line, cells in raw.rows for c in cols)


def _is_total(cells: list[str], cols: list[int]) -> bool:
    """A "Total" / 合计 row: the topic or the day cell says so."""
    for col in cols:
        cell = cells[col]
        if len(cell) <= 12 and normalise_topic(clean_topic(cell)).strip(" *:：") in _TOTAL:
            return True
    return False


def _section_row(topic: str, cells: list[str], topic_col: int) -> bool:
    """A row that names a part of the table ("**Phase 1 — Core**") and holds nothing else."""
    text = topic.strip()
    bold = len(text) > 4 and text.startswith(("**", "__")) and text.endswith(("**", "__"))
    return bold and all(cell in _DITTO for col, cell in enumerate(cells) if col != topic_col)


@lru_cache(maxsize=65536)
def _iso(cell: str) -> DateReading | None:
    """read_iso, remembered: a log's rows share a few thousand dates."""
    return read_iso(cell)


@lru_cache(maxsize=4096)
def _status(cell: str, done: tuple[str, ...], pending: tuple[str, ...]) -> Status:
    """status_of, remembered: a log repeats a handful of status cells thousands of times."""
    return status_of(cell, done, pending)


@dataclass
class _Reader:
    """The state of reading one log, in document order."""

    file: str
    options: LogOptions
    style: FileStyle
    title_year: int | None
    result: ParseResult
    text_dates: list[tuple[int, date]]
    nearby: date | None = None
    nearby_line: int = 0
    next_text_date: int = 0
    # (topic, day number) -> (table, line) of the row that first had it
    seen: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    full_dates: dict[str, DateReading] = field(default_factory=dict)
    assumed_year: int | None = None  # the year to give dates without any context
    nearby_assumed: bool = False  # the date above took its year from the current one
    assumed_root: int | None = None  # the year first assumed for this file's dates
    assumed_ahead: bool = False  # a studied row's assumed date lies after today
    file_marks: bool = False  # the file marks what is done with ✅ in topics or days
    current: "_TableRead | None" = None  # the table being read

    def warn(self, line: int, message: str) -> None:
        # why: a cell of ten thousand unreadable words is one problem, not ten thousand lines
        assert self.current is not None
        per_line = self.current.per_line
        per_line[line] = per_line.get(line, 0) + 1
        if per_line[line] <= WARNINGS_PER_LINE:
            self.current.warnings.append((line, message))

    def state(self) -> tuple[int | None, int, bool]:
        """What reading the next table depends on from the tables above it (besides the
        topics already seen): the date above, its line, and whether its year was assumed."""
        near = self.nearby.toordinal() if self.nearby is not None else None
        return near, self.nearby_line, self.nearby_assumed

    def read_table(self, raw: "_RawTable", roles: list[str], index: int) -> "_TableRead":
        """Read one study table; what it gave besides its rows (which go to the result)."""
        entry = self.state()
        current = self.current = _TableRead(raw.digest, raw.line, index, entry, entry)
        first = len(self.result.rows)
        count = self.table(raw, roles, index)
        rows = self.result.rows[first:]
        current.exit = self.state()
        current.info = TableInfo(raw.line, tuple(raw.header), tuple(roles), count, "", index)
        pending = skipped = 0
        last = timed = date.min
        for row in rows:
            if row.skip:
                skipped += 1
            elif not row.studied:
                pending += 1
            learned = row.learned_on
            if learned is not None:
                last = max(last, learned)
                if row.learned_at is not None:
                    timed = max(timed, learned)
            for test in row.self_tests:
                last = max(last, test.on)
        current.counts = (len(rows), pending, skipped)
        current.last_day = last.toordinal() if last != date.min else None
        current.timed_day = timed.toordinal() if timed != date.min else None
        self.current = None
        return current

    def adopt(self, read: "_TableRead") -> bool:
        """Take a table's earlier reading as this one's, when the topics seen above it lead
        its rows to the same repeats; False when the table must be read again."""
        seen, index = self.seen, read.index
        keys = list(zip(read.key_text, read.key_day, strict=False))
        # The first line of each key in this table (reversed: a dict keeps the last value).
        own = dict(zip(reversed(keys), zip(repeat(index), reversed(read.key_line), strict=False),
                       strict=False))
        if own.keys() & seen.keys() or read.repeats:  # a topic and day of a table above
            repeats = []
            for key, line in zip(keys, read.key_line, strict=True):
                first = seen.setdefault(key, (index, line))
                if first[0] != index:
                    repeats.append((line, first[1]))
            if repeats != read.repeats:
                return False
        else:
            seen.update(own)
        near, self.nearby_line, self.nearby_assumed = read.exit
        self.nearby = date.fromordinal(near) if near is not None else None
        if self.assumed_root is None:
            self.assumed_root = read.assumed_root
        self.assumed_ahead = self.assumed_ahead or read.assumed_ahead
        return True

    def _date(self, raw: _RawTable, line: int, text: str) -> DateReading | None:
        """A date cell; one written with its year reads the same wherever it is: kept."""
        known = self.full_dates.get(text)
        if known is not None:
            return known
        self.context(raw, line)  # brings the text dates above this line into view
        reading = read_date(text, self.style, self.context(raw, line))
        if reading is not None and reading.year_from is None:
            self.full_dates[text] = reading
        return reading

    def context(self, table: _RawTable, line: int) -> YearContext:
        """The context of a date on `line`: the nearest date above it, in a table or not."""
        while (self.next_text_date < len(self.text_dates)
               and self.text_dates[self.next_text_date][0] < line):
            at, found = self.text_dates[self.next_text_date]
            if at > self.nearby_line:
                self.nearby, self.nearby_line, self.nearby_assumed = found, at, False
            self.next_text_date += 1
        return YearContext(nearby=self.nearby, nearby_line=self.nearby_line,
                           heading_year=table.heading_year, heading_line=table.heading_line,
                           title_year=self.title_year, today=self.options.today,
                           descending=self.style.descending, assumed_year=self.assumed_year)

    def rating_of(self, score: float) -> int:
        for rating, threshold in zip((AGAIN, HARD, GOOD), self.options.thresholds, strict=True):
            if score < threshold:
                return rating
        return EASY

    def self_tests(self, line: int, text: str, learned: date | None, plan_column: bool,
                   lenient: bool = False) -> tuple[SelfTest, ...]:
        """The self-tests of one cell, sorted by date; bad entries become warnings.

        One scan of the cell finds its entry separators, dates, marks and grade words;
        `lenient`: a cell of an attempt column, whose remarks ("一次AC") are not read.
        """
        found: list[SelfTest] = []
        text = plain_digits(text)
        quick = self._quick_self_tests(text, learned, plan_column)
        if quick is not None:
            return quick
        group: list[_Token] = []
        unread: list[int] = []
        start = 0
        for match in _CELL_TOKEN.finditer(text):
            kind = match.lastgroup
            if kind == "sep":
                self._group(line, text[start:match.start()], start, group, unread, learned,
                            plan_column, lenient, found)
                group, unread, start = [], [], match.end()
            elif kind == "iso":
                group.append((match.start(), "date", _DateToken(
                    match[0], int(match["iy"]), int(match["im"]), int(match["id"]))))
            elif kind == "date":
                year, month, day = parts_of(match, self.style)
                group.append((match.start(), "date", _DateToken(match[0], year, month, day)))
            elif kind in ("good", "again", "grade"):
                group.append((match.start(), kind, match[0]))
            elif kind == "other":
                unread.append(match.start())
        self._group(line, text[start:], start, group, unread, learned, plan_column, lenient,
                    found)
        return tuple(sorted(dict.fromkeys(found)))

    def _quick_self_tests(self, text: str, learned: date | None,
                          plan_column: bool) -> tuple[SelfTest, ...] | None:
        """The common cells ("✅ 2025-05-24; ❌ 2025-06-02 hard") without the full scan;
        None when a cell needs it (or holds anything to warn about)."""
        found = []
        for part in _QUICK_SEP.split(text) if ("," in text or ";" in text or "<" in text
                                               or not text.isascii()) else (text,):
            match = _QUICK_ENTRY.fullmatch(part)
            if match is None:
                if part.strip():
                    return None
                continue
            day, good, again, grade = match.group("day", "good", "again", "grade")
            if day is not None:
                try:
                    when: date | None = date.fromisoformat(day)
                except ValueError:
                    return None
            else:
                when = self._self_test_date(None, int(match["m"]), int(match["d"]), learned)
            if when is None:
                return None
            if not EARLIEST <= when.year <= LATEST or (learned is not None and when < learned):
                return None
            rating = _GRADES[grade.lower()] if grade else (AGAIN if again else GOOD)
            marked = bool(good or again or grade)
            found.append(SelfTest(when, rating, plan_column and not marked))
        return (found[0],) if len(found) == 1 else tuple(sorted(dict.fromkeys(found)))

    def _group(self, line: int, text: str, offset: int, tokens: list[_Token],
               unread: list[int], learned: date | None, plan_column: bool, lenient: bool,
               found: list[SelfTest]) -> None:
        """The entries of one group of a self-test cell (between separators)."""
        if not text.strip():
            return
        leftover: list[str] = []
        if unread and not lenient:
            from bisect import bisect_left

            for word in re.finditer(r"\S+", text):
                start, end = word.start() + offset, word.end() + offset
                first = bisect_left(unread, start)  # unread is in rising order
                if first < len(unread) and unread[first] < end:
                    leftover.append(word[0].strip("()（）[]【】,，;；:：.。"))
            for value in leftover:
                self.warn(line, _("cannot read self-test {value!r}").format(value=value))
        if not any(kind == "date" for _pos, kind, _value in tokens):
            if tokens and not leftover and not lenient:
                # why: a lone mark is a slip worth pointing at once
                self.warn(line, _("self-test {value!r} has no date").format(
                    value=text.strip()))
            return
        for entry, rating, marked in _pair_marks(tokens):
            assert isinstance(entry, _DateToken)
            when = self._self_test_date(entry.year, entry.month, entry.day, learned)
            if when is None:
                self.warn(line, _("cannot read self-test date {value!r}").format(
                    value=entry.raw))
            elif not EARLIEST <= when.year <= LATEST:
                self.warn(line, _("self-test date {value} is not between {low} and "
                                  "{high}").format(value=entry.raw, low=EARLIEST, high=LATEST))
            elif learned is not None and when < learned:
                message = _("self-test {on} is before the learned date {learned}")
                self.warn(line, message.format(on=when.isoformat(),
                                               learned=learned.isoformat()))
            else:
                found.append(SelfTest(when, rating, planned=plan_column and not marked))

    @staticmethod
    def _self_test_date(year: int | None, month: int, day: int,
                        learned: date | None) -> date | None:
        """A self-test date; without a year, the learned date's year or the next one."""
        if year is not None:
            try:
                return date(year, month, day)
            except ValueError:
                return None
        if learned is None:
            return None
        # The first such day on or after the learned date, this year or the next (02-29
        # learned in a non-leap year falls in the next one when that is a leap year).
        for candidate in (learned.year, learned.year + 1):
            try:
                found = date(candidate, month, day)
            except ValueError:
                continue
            if found >= learned:
                return found
        return None

    def _leading_date(self, raw: _RawTable, line: int, text: str) -> tuple[date | None, str]:
        """The date an attempt cell starts with ("2024.3.5 看了题解"), and its remark."""
        dates = find_dates(text, self.style)
        if not dates:
            return None, text.strip()
        start, end, year, month, day = dates[0]
        if year is not None:
            try:
                found: date | None = date(year, month, day)
            except ValueError:
                found = None
        else:
            found, source = _infer(month, day, self.context(raw, line))
            if source in ("this year", "last year") and self.current is not None:
                self.current.today_used = True
        remark = (text[:start] + " " + text[end:]).strip(" \t,，;；:：-—")
        return found, remark

    def table(self, raw: _RawTable, roles: list[str], index: int) -> int:
        """Read the rows of one study table; how many rows it gave."""
        col = {role: roles.index(role) for role in set(roles) if role}
        notes_cols = [c for c, role in enumerate(roles) if role == "notes"]
        attempts = [c for c, role in enumerate(roles) if role == "attempt"]
        status_col = col.get("status")
        has_status = status_col is not None and any(
            status_of(cells[status_col]).kind != "empty" for _line, cells in raw.rows)
        marks_decide = not has_status and (self.file_marks or _marks_in(raw, col))
        tests = [(c, is_plan_header(raw.header[c])) for c, role in enumerate(roles)
                 if role == "self_test"]
        plan_dates = "date" in col and is_plan_date(raw.header[col["date"]])
        shape = _Shape(col, notes_cols, attempts, has_status, marks_decide, tests, plan_dates)
        shape_cols = (col.get("topic"), col.get("index"))
        previous: str | None = None  # the resolved topic of the row above, for continuations
        previous_raw = ""
        count = 0
        topic_col, date_col = col["topic"], col.get("date")
        total_cols = [c for c in shape_cols if c is not None]
        earlier: dict[tuple[str, ...], int] = {}  # a row's cells -> its line, for exact repeats
        for line, cells in raw.rows:
            if _DITTO.issuperset(cells):
                continue  # an empty or placeholder row (— | — | —)
            raw_topic = cells[topic_col]
            when_text = cells[date_col] if date_col is not None else ""
            same = earlier.setdefault(tuple(cells), line)
            if raw_topic in _DITTO:
                if raw_topic == "" and (previous is None or not when_text.strip()) \
                        and not attempts:
                    continue  # a placeholder row: no topic (and nothing above, or no date)
                if previous is None:
                    self.warn(line, _("no topic above to continue"))
                    continue
                topic, raw_topic = previous, previous_raw
            else:
                if _section_row(raw_topic, cells, col["topic"]):
                    previous = None
                    continue
                topic = clean_topic(raw_topic)
                if marks_decide:
                    topic = _DONE_IN_CELL.sub(" ", topic).strip() or topic
                if not topic or _is_total(cells, total_cols):
                    continue
            previous, previous_raw = topic, raw_topic
            forced = None
            if not has_status and not marks_decide and topic.endswith((")", "）")):
                # "Add Two Numbers (In Progress)": a status said in the topic itself
                remark = _TRAILING.search(topic)
                if remark is not None:
                    said = _status(remark[1], self.options.done_words,
                                   self.options.pending_words).kind
                    if said in ("done", "pending"):
                        forced, topic = said, topic[:remark.start()].rstrip() or topic
            row = self._row(raw, line, cells, shape, topic, raw_topic, when_text, index,
                            forced, same if same != line else None)
            if row is not None:
                self.result.rows.append(row)
                count += 1
        return count

    def _studied(self, shape: "_Shape", line: int, cells: list[str], raw_topic: str,
                 dated: bool, forced: str | None) -> tuple[bool, str]:
        """Whether a row was studied, and its status text."""
        col = shape.col
        if forced is not None:
            return forced == "done", forced
        if shape.has_status:
            status_text = cells[col["status"]]
            status = _status(status_text, self.options.done_words, self.options.pending_words)
            if status.kind == "unknown":
                assert self.current is not None
                self.current.unknown_status.setdefault(status_text.strip(), []).append(line)
            return status.kind == "done", status_text
        if shape.marks_decide:
            marked = [cells[c] for c in (col.get("topic"), col.get("index")) if c is not None]
            done = any(_DONE_IN_CELL.search(text) and any(m in text for m in "✅✔☑")
                       for text in [*marked, raw_topic])
            return done, "✅" if done else ""
        if shape.plan_dates:  # 发现日期, Deadline: when it was found or is due, not studied
            return False, ""
        # why: without a status column, writing a date is how a person marks a topic
        return dated, ""

    def _row(self, raw: _RawTable, line: int, cells: list[str], shape: "_Shape", topic: str,
             raw_topic: str, when_text: str, index: int, forced: str | None = None,
             repeat_of: int | None = None) -> LogRow | None:
        options, col = self.options, shape.col
        reading = (_iso(when_text) or self._date(raw, line, when_text)
                   if when_text and not when_text.isspace() else None)
        learned = reading.day if reading is not None else None
        remarks: list[str] = []
        date_from = reading.year_from if reading is not None else None
        if "date" not in col and shape.attempts:
            learned, remark = self._leading_date(raw, line, cells[shape.attempts[0]])
            remarks.append(remark)
            when_text = cells[shape.attempts[0]]
            if learned is not None and not EARLIEST <= learned.year <= LATEST:
                self.warn(line, _("date {value!r} is not between {low} and {high}").format(
                    value=when_text, low=EARLIEST, high=LATEST))
                return None
        elif "date" not in col and raw.heading_date is not None:
            learned, when_text, date_from = raw.heading_date, raw.heading_date.isoformat(), \
                f"heading:{raw.heading_line}"
        studied, status_text = self._studied(shape, line, cells, raw_topic,
                                             bool(when_text.strip()), forced)
        if reading is not None and reading.out_of_range:
            self.warn(line, _("date {value!r} is not between {low} and {high}").format(
                value=when_text, low=EARLIEST, high=LATEST))
            return None
        if studied and learned is None:
            if not when_text.strip():
                self.warn(line, _("no date"))
            else:
                self.warn(line, _("cannot read date {value!r}").format(value=when_text))
            return None
        if learned is not None:
            assumed = date_from in ("this year", "last year") or (
                self.nearby_assumed and date_from is not None and date_from.startswith("line:"))
            if assumed:
                assert self.current is not None
                current = self.current
                current.today_used = True  # where the year came from, if not from today
                if current.assumed_root is None:
                    current.assumed_root = learned.year
                if self.assumed_root is None:
                    self.assumed_root = learned.year
                if studied and self.options.today is not None and learned > self.options.today:
                    self.assumed_ahead = current.assumed_ahead = True
            self.nearby, self.nearby_line, self.nearby_assumed = learned, line, assumed
        tests: tuple[SelfTest, ...] = ()
        rating = GOOD
        for test_col, plan_column in shape.tests:
            cell = cells[test_col]
            if not cell:
                continue
            score = _SCORE.fullmatch(cell) if len(cell) <= 12 else None
            if score is not None and (score[2] is None or float(score[1]) <= float(score[2])):
                # A score with no date ("2/3", "80%"): how the first study's quiz went.
                value = float(score[1]) / float(score[2]) * 100 if score[2] else float(score[1])
                if value <= 100:
                    rating = self.rating_of(value)
            elif cell.strip() not in _DITTO:
                tests += self.self_tests(line, cell, learned, plan_column)
        for attempt in shape.attempts[1:]:
            tests += self.self_tests(line, cells[attempt], learned, False, lenient=True)
        if len(shape.tests) + len(shape.attempts) > 1:
            tests = tuple(sorted(dict.fromkeys(tests)))
        if "mastery" in col and cells[col["mastery"]].strip() not in _DITTO:
            score_of = mastery_score(cells[col["mastery"]])
            if score_of is None:
                assert self.current is not None
                self.current.unknown_mastery.setdefault(cells[col["mastery"]].strip(),
                                                        []).append(line)
            else:
                rating = self.rating_of(score_of)
        parts = [cells[c] for c in shape.notes_cols if cells[c]]
        if remarks:
            parts += [remark for remark in remarks if remark]
        notes = "\n".join(_BR.sub("\n", part).strip() if "<" in part else part
                          for part in parts)
        skip = ""
        if _is_rest(topic, options.skip_words):
            skip = "rest"
        elif repeat_of is not None:  # every cell the same as a row above it
            skip = f"repeat:{repeat_of}"
        elif learned is not None:
            day = cells[col["index"]] if "index" in col else ""
            ordinal = learned.toordinal()
            keys = [(normalise_topic(topic), ordinal)]
            if day and day not in _DITTO:  # "Day 104 | 03/10" again, in a shorter summary
                keys.append(("#" + normalise_topic(day), ordinal))
            table_read = self.current
            assert table_read is not None
            for key in keys:
                table_read.key_text.append(key[0])
                table_read.key_day.append(ordinal)
                table_read.key_line.append(line)
                first = self.seen.get(key)
                if first is None:
                    self.seen[key] = (index, line)
                elif first[0] != index:
                    table_read.repeats.append((line, first[1]))
                    if not skip:
                        skip = f"repeat:{first[1]}"
        is_review = _REVIEW.search(topic) is not None
        return LogRow(  # positional: a hundred thousand of these
            self.file, line, raw.section, index, topic, status_text, studied, learned, tests,
            notes, is_review, _review_target(topic) if is_review else "",
            reading.time if reading is not None else None, rating, date_from, skip, raw_topic)

    def finish(self, reads: list["_TableRead"]) -> None:
        """The warnings of every table, and the once-per-file ones: statuses and mastery
        values not understood, and lines with more warnings than are listed."""
        warnings: list[ParseWarning] = []
        per_line: dict[int, int] = {}
        unknown_status: dict[str, list[int]] = {}
        unknown_mastery: dict[str, list[int]] = {}
        for read in reads:
            warnings.extend(ParseWarning(self.file, line, message)
                            for line, message in read.warnings)
            per_line.update(read.per_line)
            for value, lines in read.unknown_status.items():
                unknown_status.setdefault(value, []).extend(lines)
            for value, lines in read.unknown_mastery.items():
                unknown_mastery.setdefault(value, []).extend(lines)
            if read.note is not None:
                self.result.notes.append(ParseWarning(self.file, read.line, read.note))
            self.result.table_info.append(read.info)
        for line, count in per_line.items():
            if count > WARNINGS_PER_LINE:
                warnings.append(ParseWarning(self.file, line, ngettext(
                    "{n} more warning on this line not shown",
                    "{n} more warnings on this line not shown",
                    count - WARNINGS_PER_LINE).format(n=count - WARNINGS_PER_LINE)))

        def once(line: int, message: str) -> None:
            per_line[line] = per_line.get(line, 0) + 1
            if per_line[line] <= WARNINGS_PER_LINE:
                warnings.append(ParseWarning(self.file, line, message))

        for value, lines in unknown_status.items():
            once(lines[0], ngettext(
                "status {value!r} on {n} row is not a done mark; counted as not yet "
                "studied (add it with 'review config set log.done_words ...')",
                "status {value!r} on {n} rows is not a done mark; counted as not yet "
                "studied (add it with 'review config set log.done_words ...')",
                len(lines)).format(value=value, n=len(lines)))
        for value, lines in unknown_mastery.items():
            once(lines[0], ngettext(
                "mastery {value!r} on {n} row is not understood; it counts as good",
                "mastery {value!r} on {n} rows is not understood; those rows count as good",
                len(lines)).format(value=value, n=len(lines)))
        warnings.sort(key=lambda w: w.line)
        self.result.warnings = warnings
        self.result.reads = reads


@dataclass
class _TableRead:
    """What reading one table gave besides its rows: all a later reading of the same log
    needs to take it as read when neither the table nor what it depends on changed."""

    digest: str  # the table's text and headings (_RawTable.digest)
    line: int
    index: int  # its number among the study tables; -1 for a table that is not one
    entry: tuple[int | None, int, bool]  # _Reader.state() before it
    exit: tuple[int | None, int, bool]  # and after it
    info: TableInfo = field(default_factory=lambda: TableInfo(0, (), (), 0))
    note: str | None = None  # why it is no study table
    counts: tuple[int, int, int] = (0, 0, 0)  # rows read, pending, skipped
    today_used: bool = False  # a date took its year from today's
    last_day: int | None = None  # the latest date in its rows (day number)
    timed_day: int | None = None  # the latest studied date written with a time
    assumed_root: int | None = None
    assumed_ahead: bool = False
    # the (topic, day) keys its rows looked up to find repeats, in order, and the repeats
    key_text: list[str] = field(default_factory=list)
    key_day: list[int] = field(default_factory=list)
    key_line: list[int] = field(default_factory=list)
    repeats: list[tuple[int, int]] = field(default_factory=list)  # (line, first line)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    per_line: dict[int, int] = field(default_factory=dict)
    unknown_status: dict[str, list[int]] = field(default_factory=dict)
    unknown_mastery: dict[str, list[int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        info = self.info
        return {
            "digest": self.digest, "line": self.line, "index": self.index,
            "entry": list(self.entry), "exit": list(self.exit),
            "info": [info.line, list(info.header), list(info.roles), info.rows, info.skipped,
                     info.index],
            "note": self.note, "counts": list(self.counts), "today_used": self.today_used,
            "last_day": self.last_day, "timed_day": self.timed_day,
            "assumed_root": self.assumed_root, "assumed_ahead": self.assumed_ahead,
            "key_text": "\n".join(self.key_text), "key_day": self.key_day,
            "key_line": self.key_line,
            "repeats": [list(pair) for pair in self.repeats], "warnings": self.warnings,
            "per_line": list(self.per_line.items()),
            "unknown_status": self.unknown_status, "unknown_mastery": self.unknown_mastery}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "_TableRead":
        line, header, roles, rows, skipped, index = data["info"]
        near, near_line, near_assumed = data["entry"]
        out_near, out_line, out_assumed = data["exit"]
        read = cls(str(data["digest"]), int(data["line"]), int(data["index"]),
                   (near, int(near_line), bool(near_assumed)),
                   (out_near, int(out_line), bool(out_assumed)),
                   TableInfo(int(line), tuple(header), tuple(roles), int(rows), str(skipped),
                             int(index)),
                   data["note"], tuple(data["counts"]), bool(data["today_used"]),
                   data["last_day"], data["timed_day"], data["assumed_root"],
                   bool(data["assumed_ahead"]),
                   data["key_text"].split("\n") if data["key_text"] else [], data["key_day"],
                   data["key_line"], [(int(a), int(b)) for a, b in data["repeats"]],
                   [(int(at), str(message)) for at, message in data["warnings"]],
                   {int(at): int(n) for at, n in data["per_line"]},
                   data["unknown_status"], data["unknown_mastery"])
        if not (len(read.key_text) == len(read.key_day) == len(read.key_line)) \
                or len(read.counts) != 3:
            raise ValueError("a table read of the wrong shape")
        return read


@dataclass(frozen=True)
class _Shape:
    """What a study table's columns are, worked out once for all its rows."""

    col: dict[str, int]
    notes_cols: list[int]
    attempts: list[int]
    has_status: bool  # a status column that is used
    marks_decide: bool  # no status column, but ✅ marks in topic or index cells
    tests: list[tuple[int, bool]]  # self-test columns, and whether each holds planned dates
    plan_dates: bool = False  # the date column says when a topic was found or is due


def _infer(month: int, day: int, context: YearContext) -> tuple[date | None, str]:
    from srs.logdates import infer_year

    return infer_year(month, day, context)


@dataclass
class _Facts:
    """What a table's own text says, whatever is around it: its columns' roles, whether a
    slash date in it can only be day first, whether it marks done topics with ✅, and its
    first dated rows (for the order of the file's dates)."""

    roles: list[str]
    day_first: bool
    marks: bool
    order: list[tuple[bool, int]] | None = None  # (had a year, day number), first 400 rows
    order_day_first: bool = False  # the reading of slash dates `order` was made with

    @classmethod
    def of(cls, raw: _RawTable) -> "_Facts":
        roles = column_roles(raw.header, raw.rows)
        samples: list[str] = []
        for role in ("date", "self_test", "attempt"):
            for col, name in enumerate(roles):
                if name == role:
                    samples.extend(cells[col] for _line, cells in raw.rows)
        where = {role: roles.index(role) for role in set(roles) if role}
        used_status = "status" in where and any(
            status_of(cells[where["status"]]).kind != "empty" for _line, cells in raw.rows)
        marks = "topic" in where and not used_status and _marks_in(raw, where)
        return cls(roles, day_first_in(samples), marks)

    def first_dates(self, raw: _RawTable, day_first: bool) -> list[tuple[bool, int]]:
        if self.order is None or self.order_day_first != day_first:
            style, col = FileStyle(day_first=day_first), self.roles.index("date")
            order = []
            for _line, cells in raw.rows[:400]:
                if cells[col]:
                    found = read_iso(cells[col]) or read_date(
                        cells[col], style, YearContext(today=date(2000, 1, 1)))
                    if found is not None:
                        order.append((found.year_from is None, found.day.toordinal()))
            self.order, self.order_day_first = order, day_first
        return self.order

    def to_json(self) -> list[Any]:
        return [self.roles, self.day_first, self.marks,
                None if self.order is None else [list(pair) for pair in self.order],
                self.order_day_first]

    @classmethod
    def from_json(cls, data: list[Any]) -> "_Facts":
        roles, day_first, marks, order, order_day_first = data
        return cls([str(role) for role in roles], bool(day_first), bool(marks),
                   None if order is None else [(bool(a), int(b)) for a, b in order],
                   bool(order_day_first))


def _file_style(tables: list[tuple[_RawTable, _Facts]]) -> FileStyle:
    """Day-first slash dates and newest-first order, from the file's date cells."""
    day_first = any(facts.day_first for _raw, facts in tables)
    seen: list[tuple[bool, int]] = []  # (had a year, day number) of the first dated rows
    for raw, facts in tables:
        if "date" not in facts.roles or len(seen) > 400:
            continue
        seen.extend(facts.first_dates(raw, day_first))
    later = earlier = 0
    for (full_a, a), (full_b, b) in zip(seen, seen[1:], strict=False):
        if full_a and full_b:
            later += b > a
            earlier += b < a
        else:  # without a year on both, only the month and day say which way the rows go
            first, second = date.fromordinal(a), date.fromordinal(b)
            later += (second.month, second.day) > (first.month, first.day)
            earlier += (second.month, second.day) < (first.month, first.day)
    return FileStyle(day_first=day_first, descending=earlier > later)


PARSE_MEMO_VERSION = 2  # 2: "#" over names, "1st"... attempt columns


@dataclass
class ParseMemo:
    """What reading a log gave, table by table, kept so that the next reading of the same
    log reads again only the tables that changed (or whose context did)."""

    params: str  # what every table's reading depended on (_params)
    today: date | None
    tables: list[_TableRead]
    facts: dict[str, _Facts]  # by table digest

    def to_json(self) -> dict[str, Any]:
        return {"version": PARSE_MEMO_VERSION, "params": self.params,
                "today": self.today.isoformat() if self.today else None,
                "tables": [read.to_json() for read in self.tables],
                "facts": {digest: facts.to_json() for digest, facts in self.facts.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ParseMemo":
        """A memo from its JSON; ValueError (or KeyError, TypeError) when it is not one."""
        if data.get("version") != PARSE_MEMO_VERSION:
            raise ValueError("another version")
        today = data["today"]
        return cls(str(data["params"]), date.fromisoformat(today) if today else None,
                   [_TableRead.from_json(read) for read in data["tables"]],
                   {str(digest): _Facts.from_json(facts)
                    for digest, facts in data["facts"].items()})


def _params(options: LogOptions, style: FileStyle, title_year: int | None, file_marks: bool,
            assumed_year: int | None) -> str:
    """What reading any table depends on besides its text, the tables above and today."""
    return repr((PARSE_MEMO_VERSION, options.done_words, options.pending_words,
                 options.skip_words, options.thresholds, style.day_first, style.descending,
                 title_year, file_marks, assumed_year))


def _reusable(read: _TableRead, raw: _RawTable, index: int, state: tuple[int | None, int, bool],
              today: date | None, then: date | None) -> bool:
    """Whether a table read on `then` reads the same now (before the repeats are checked).

    Besides its text, its place and the date above it: a table that took a year from today,
    or holds a date of the day it was read or later (a plan coming due, a row becoming
    past), reads again on another day; a row dated today with a time, at any moment.
    """
    if (read.index, read.digest, read.line, read.entry) != (index, raw.digest, raw.line, state):
        return False
    if today is None or then is None:
        return today == then
    if read.timed_day is not None and read.timed_day >= today.toordinal():
        return False
    if today == then:
        return True
    return not read.today_used and (read.last_day is None or read.last_day < then.toordinal())


def parse_log(text: str, file: str = "<log>", options: LogOptions | None = None,
              memo: ParseMemo | None = None) -> ParseResult:
    """Read every study table of a markdown log; never raises.

    `memo`: the last reading of the same log (ParseResult.memo); the tables that read as
    they did then are not read again, and their rows are not in the result's `rows`.
    """
    import gc

    # Reading makes hundreds of thousands of small objects and no reference cycles: the
    # cycle collector running through them over and over is a third of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse_log(text, file, options, memo)
    finally:
        if collecting:
            gc.enable()


def _parse_log(text: str, file: str, options: LogOptions | None,
               memo: ParseMemo | None) -> ParseResult:
    options = options or LogOptions()
    lines = _lines(text)
    document = _find_tables(lines)
    known = memo.facts if memo is not None else {}
    facts = [known.get(raw.digest) or _Facts.of(raw) for raw in document.tables]
    tables = list(zip(document.tables, facts, strict=True))
    style = _file_style(tables)
    title_year = year_in(document.title) if document.title else None
    if title_year is None:
        title_year = year_in(Path(file).name)
    # A file that marks what is done with ✅ in topic or day cells in one table marks it
    # that way in all: its tables without marks or a status column are plans.
    file_marks = any(table_facts.marks for table_facts in facts)
    result, reader = _read(file, options, style, title_year, document, tables, file_marks,
                           None, memo)
    if reader.assumed_ahead and reader.assumed_root is not None:
        # Dates without any year put rows marked studied after today: the log is from the
        # year before (a log of 11/27 to 03/10 read in December is last winter's).
        result, reader = _read(file, options, style, title_year, document, tables,
                               file_marks, reader.assumed_root - 1, memo)
    return result


def _read(file: str, options: LogOptions, style: FileStyle, title_year: int | None,
          document: _Document, tables: list[tuple[_RawTable, _Facts]], file_marks: bool,
          assumed_year: int | None, memo: ParseMemo | None) -> tuple[ParseResult, "_Reader"]:
    """Read the rows of every study table, in document order (taking from `memo` the
    tables that read as they did)."""
    result = ParseResult()
    reader = _Reader(file, options, style, title_year, result, document.text_dates,
                     assumed_year=assumed_year, file_marks=file_marks)
    params = _params(options, style, title_year, file_marks, assumed_year)
    earlier = memo.tables if memo is not None and memo.params == params else []
    then = memo.today if memo is not None else None
    reads = []
    for position, (raw, facts) in enumerate(tables):
        roles = facts.roles
        reason = _missing(roles, raw.heading_date)
        if reason:
            state = reader.state()
            reads.append(_TableRead(
                raw.digest, raw.line, -1, state, state,
                TableInfo(raw.line, tuple(raw.header), tuple(roles), 0, reason),
                _("table skipped: {reason} ({columns})").format(
                    reason=reason, columns=" | ".join(raw.header))))
            continue
        index = result.tables
        result.tables += 1
        reader.context(raw, raw.line)  # the dates written above the table come into view
        old = earlier[position] if position < len(earlier) else None
        if old is not None and _reusable(old, raw, index, reader.state(), options.today,
                                         then) and reader.adopt(old):
            result.reused.add(index)
            reads.append(old)
        else:
            reads.append(reader.read_table(raw, roles, index))
    reader.finish(reads)
    result.memo = ParseMemo(params, options.today, reads,
                            {raw.digest: table_facts for raw, table_facts in tables})
    return result, reader


def read_log_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a log file; LogFileError when it cannot be read."""
    name = str(path)
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        reasons = {
            FileNotFoundError: _("no such file"),
            IsADirectoryError: _("is a directory, not a log file"),
            PermissionError: _("permission denied"),
        }
        reason = reasons.get(type(exc)) or _("cannot read: {reason}").format(reason=exc.strerror)
        raise LogFileError(_("{path}: {reason}").format(path=name, reason=reason)) from None


def no_study_table(name: str, result: ParseResult) -> LogFileError:
    """The error for a file with no study table: each table found and what it lacked."""
    if not result.table_info:
        return LogFileError(_(
            "{path}: no study table: no table found (a study table is a markdown table with a "
            "header row, a |---| row under it, a column of dates and a column naming what was "
            "studied)").format(path=name))
    tables = "; ".join(
        _("line {line} [{columns}] has {reason}").format(
            line=info.line, columns=" | ".join(info.header), reason=info.skipped)
        for info in result.table_info[:5])
    more = len(result.table_info) - 5
    if more > 0:
        tables += _("; and {n} more").format(n=more)
    return LogFileError(_(
        "{path}: no study table: {tables}. A study table needs a date column (日期, 时间, "
        "date, when, or cells that are dates) and a topic column (章节, 主题, 内容, 题目, 任务, "
        "topic, task, lesson, or any column of text)").format(path=name, tables=tables))


def parse_log_bytes(data: bytes, name: str, options: LogOptions | None = None,
                    memo: ParseMemo | None = None) -> ParseResult:
    """Parse a log's bytes; LogFileError when they are not a UTF-8 study log."""
    if b"\0" in data:
        raise LogFileError(_("{path}: binary file, not a markdown log").format(path=name))
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        message = _("{path}: not UTF-8 text (bad byte at offset {offset})")
        raise LogFileError(message.format(path=name, offset=exc.start)) from None
    result = parse_log(text, name, options, memo)
    if result.tables == 0:
        raise no_study_table(name, result)
    return result


def read_log(path: str | os.PathLike[str], options: LogOptions | None = None) -> ParseResult:
    """Read a log file; raise LogFileError when it is not a readable study log."""
    return parse_log_bytes(read_log_bytes(path), str(path), options)


def header_text(cell: str) -> str:
    """A header cell as it is matched (for callers outside the parser)."""
    return header_key(cell)
