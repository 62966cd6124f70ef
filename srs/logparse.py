"""Read a markdown study log: the rows of its study tables, their dates and self-tests."""

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from srs.errors import LogFileError
from srs.i18n import _

__all__ = ["LogRow", "ParseResult", "ParseWarning", "SelfTest", "parse_log", "read_log"]

AGAIN, GOOD = 1, 3
_GRADES = {"again": 1, "hard": 2, "good": 3, "easy": 4}


@dataclass(frozen=True)
class SelfTest:
    """One self-test of a topic: when it happened and how well it went."""

    on: date
    rating: int  # 1=again 2=hard 3=good 4=easy


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class ParseWarning:
    """A problem (or a remark) about one line of a log."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ParseResult:
    """Everything read from one log."""

    rows: list[LogRow] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    notes: list[ParseWarning] = field(default_factory=list)
    tables: int = 0

    @property
    def studied(self) -> list[LogRow]:
        """Rows whose topic has been studied."""
        return [row for row in self.rows if row.studied]

    @property
    def pending(self) -> list[LogRow]:
        """Rows whose topic is still to be studied."""
        return [row for row in self.rows if not row.studied]


# --- markdown structure -------------------------------------------------------------------

_FENCE = re.compile(r" {0,3}(?:(`{3,})[^`]*|(~{3,}).*)$")  # "```x``` y" is inline code
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]+(.*))?$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
PIPE = re.compile(r"(?<!\\)\|")
_DELIMITER_CELL = re.compile(r":?-+:?")


def _lines(text: str) -> list[str]:
    """Split on "\\n" only: str.splitlines breaks on other characters too and shifts lines."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    lines[0] = lines[0].removeprefix("\ufeff")
    return lines


def split_cells(line: str) -> list[str]:
    """Cells of a table row: outer pipes optional, `\\|` is a literal pipe."""
    text = line.strip()
    cells = PIPE.split(text)
    if text.startswith("|"):
        cells.pop(0)
    if cells and text.endswith("|") and not text.endswith("\\|"):
        cells.pop()
    return [cell.replace("\\|", "|").strip() for cell in cells]


def is_delimiter(line: str, header_width: int) -> bool:
    """True for a row like `|---|:--:|` under a header of that many cells."""
    cells = split_cells(line)
    # why: a bare `---` under a line with pipes is a setext heading, unless the table is 1 wide
    has_pipe = PIPE.search(line) is not None or header_width == 1
    return bool(cells) and has_pipe and all(_DELIMITER_CELL.fullmatch(c) for c in cells)


def ends_table(line: str) -> bool:
    """True for a line that cannot be a table row: blank, pipe-less, a heading or a fence."""
    return (
        not line.strip()
        or PIPE.search(line) is None
        or _FENCE.match(line) is not None
        or _HEADING.match(line) is not None
    )


# --- columns -----------------------------------------------------------------------------

_ROLE_WORDS = {  # order matters: "Self-test date" is a self-test column, not a date column
    "self_test": ("自测", "测验", "self-test", "selftest", "self test", "quiz", "test"),
    "topic": ("章节", "主题", "课程", "topic", "chapter", "title", "subject"),
    "status": ("状态", "status"),
    "date": ("日期", "时间", "date", "when"),
    "notes": ("内容", "备注", "笔记", "content", "notes", "note", "detail", "details"),
}


def _keyword_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a role: CJK words as substrings, others as whole words."""
    parts = [
        rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])" if w.isascii() else re.escape(w)
        for w in words
    ]
    return re.compile("|".join(parts))


_ROLES = {role: _keyword_pattern(words) for role, words in _ROLE_WORDS.items()}


def find_roles(header: list[str]) -> dict[str, int]:
    """Map each role to the first free column whose header names it."""
    keys = [re.sub(r"\*\*|__|`", "", cell).strip().strip("*_").lower() for cell in header]
    roles: dict[str, int] = {}
    for role, pattern in _ROLES.items():
        for col, key in enumerate(keys):
            if col not in roles.values() and pattern.search(key):
                roles[role] = col
                break
    return roles


# --- dates -------------------------------------------------------------------------------

_FULL_DATE = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})")
_MONTH_DAY = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})")
_DAY = re.compile(r"[0-9]{1,2}")
_RANGE_SEP = re.compile(r"\s*(?:[～~〜至–—]|\s(?:to|-)\s)\s*", re.I)
_LONGEST_DATE = 40  # no readable date cell is longer; bounds the regex work on hostile input


def _make(year: int, month: int, day: int) -> date | None:
    """A date, or None when the parts do not form one."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _full_date(text: str) -> date | None:
    """Read YYYY-MM-DD, YYYY/MM/DD or YYYY.MM.DD."""
    match = _FULL_DATE.fullmatch(text.strip())
    return None if match is None else _make(int(match[1]), int(match[3]), int(match[4]))


def _month_day_after(start: date, month: int, day: int) -> date | None:
    """MM-DD in start's year, or in the next year when that would fall before start."""
    found = _make(start.year, month, day)
    if found is not None and found < start:
        found = _make(start.year + 1, month, day)
    return found


def _day_after(start: date, day: int) -> date | None:
    """DD in start's month, or in the next month when that would fall before start."""
    found = _make(start.year, start.month, day)
    if found is not None and found < start:
        year, month = (start.year, start.month + 1) if start.month < 12 else (start.year + 1, 1)
        found = _make(year, month, day)
    return found


def _range_end(start: date, text: str) -> date | None:
    """The end of a range whose end may leave out the year, or the year and month."""
    full = _full_date(text)
    if full is not None:
        return full if full >= start else None
    if match := _MONTH_DAY.fullmatch(text):
        return _month_day_after(start, int(match[1]), int(match[2]))
    if _DAY.fullmatch(text):
        return _day_after(start, int(text))
    return None


def _parse_when(text: str) -> date | None:
    """The learned date of a date cell: one date or the end of a range; None if unreadable."""
    text = text.strip()
    if len(text) > _LONGEST_DATE:
        return None
    sep = _RANGE_SEP.search(text)
    if sep is None:
        return _full_date(text)
    start = _full_date(text[: sep.start()])
    return None if start is None else _range_end(start, text[sep.end() :].strip())


# --- status, notes, reviews --------------------------------------------------------------

_DONE_MARKS = ("✅", "✔", "☑", "✓", "[x]", "[X]")
_DONE_CJK = ("完成", "已完成")
_DONE_WORD = re.compile(r"(?<![a-z0-9])(?:done|yes|y|true)(?![a-z0-9])", re.I)
_NOT_DONE = re.compile(r"(?<![a-z0-9])(?:not|never)\s+(?:yet\s+)?(?:done|true)", re.I)
_DITTO = frozenset({"", "-", "—", "–", "〃", '"', "”", "同上"})
_BR = re.compile(r"<\s*br\s*/?\s*>", re.I)
_REVIEW = re.compile(
    r"自测|回顾|复习|(?<![a-z0-9])(?:self[-\s]?test|review|quiz)(?![a-z0-9])", re.I
)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|（\s*）|\[\s*\]|【\s*】")
_END_PUNCT = "-:：,，、;；.。!！?？&~～—–_*/|·\"'“”‘’"
_OPEN_CLOSE = {"(": ")", "（": "）", "[": "]", "【": "】"}
_CLOSE_OPEN = {close: open_ for open_, close in _OPEN_CLOSE.items()}


def _is_done(status: str) -> bool:
    """True when a status cell says the topic was studied."""
    if any(mark in status for mark in _DONE_MARKS) or status.strip("*_`。.!！ ") in _DONE_CJK:
        return True
    return _DONE_WORD.search(status) is not None and _NOT_DONE.search(status) is None


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


# --- self-tests --------------------------------------------------------------------------

_ENTRY_SEP = re.compile(r"[,，;；、]|<\s*br\s*/?\s*>", re.I)
_TOKEN = re.compile(
    r"(?P<date>(?<![0-9])"
    r"(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2})(?![0-9]))"
    r"|(?P<good>[✅✔☑✓]\ufe0f?)"
    r"|(?P<again>[❌✗✘✖]\ufe0f?)"
    r"|(?P<grade>(?<![a-z])(?:again|hard|good|easy)(?![a-z]))",
    re.I,
)
_SPACE = re.compile(r"[\s()（）\[\]【】]+")  # why: "(hard)" is the grade word hard

_Token = tuple[str, str]  # (kind, text); kind "?" is text that is neither a date nor a mark


def _tokens(group: str) -> list[_Token]:
    """Dates, marks and grade words of one self-test group; an unreadable chunk is kind "?"."""
    found: list[_Token] = []
    for chunk in filter(None, _SPACE.split(group)):
        matches = list(_TOKEN.finditer(chunk))
        if "".join(match[0] for match in matches) != chunk:  # e.g. "2025-05-2x" or "soon"
            found.append(("?", chunk))
        else:
            found.extend((match.lastgroup or "?", match[0]) for match in matches)
    return found


def _rating(marks: list[_Token]) -> int:
    """The grade a date's marks give: a grade word wins, then ❌, else good."""
    grades = [_GRADES[text.lower()] for kind, text in marks if kind == "grade"]
    if grades:
        return grades[-1]
    return AGAIN if any(kind == "again" for kind, text in marks) else GOOD


def _pair_marks(tokens: list[_Token]) -> list[tuple[str, int]]:
    """Attach each mark to a date: to the following one when the group starts with a mark."""
    marks_first = tokens[0][0] != "date"
    entries: list[tuple[str, list[_Token]]] = []
    waiting: list[_Token] = []  # marks waiting for the next date
    for token in tokens:
        if token[0] == "date":
            entries.append((token[1], waiting))
            waiting = []
        elif marks_first or not entries:
            waiting.append(token)
        else:
            entries[-1][1].append(token)
    if entries:  # why: marks after the last date of a marks-first group have no date to wait for
        entries[-1][1].extend(waiting)
    return [(raw, _rating(marks)) for raw, marks in entries]


def _self_test_date(text: str, learned: date | None) -> date | None:
    """Read a self-test date; MM-DD takes the learned date's year, or the next one."""
    if text[:4].isdigit():
        return _full_date(text)
    match = _MONTH_DAY.fullmatch(text)
    if match is None or learned is None:
        return None
    return _month_day_after(learned, int(match[1]), int(match[2]))


# --- rows and tables ---------------------------------------------------------------------


@dataclass
class _Table:
    """The study table being read, and the result its rows and warnings go to."""

    file: str
    section: str
    index: int
    roles: dict[str, int]
    result: ParseResult

    def cell(self, cells: list[str], role: str) -> str:
        """The cell of a role, or "" when the table has no such column."""
        col = self.roles.get(role)
        return "" if col is None else cells[col]

    def warn(self, line: int, message: str) -> None:
        """Record a warning about one line."""
        self.result.warnings.append(ParseWarning(self.file, line, message))


def _read_self_tests(
    table: _Table, line: int, text: str, learned: date | None
) -> tuple[SelfTest, ...]:
    """The self-tests of one cell, sorted by date; bad entries become warnings."""
    found: list[SelfTest] = []
    for group in _ENTRY_SEP.split(text):
        tokens = _tokens(group)
        unreadable = [value for kind, value in tokens if kind == "?"]
        for value in unreadable:
            table.warn(line, _("cannot read self-test {value!r}").format(value=value))
        tokens = [token for token in tokens if token[0] != "?"]
        if not any(kind == "date" for kind, value in tokens):
            if tokens and not unreadable:  # why: a lone mark is a slip worth pointing at once
                table.warn(line, _("self-test {value!r} has no date").format(value=group.strip()))
            continue
        for raw, rating in _pair_marks(tokens):
            when = _self_test_date(raw, learned)
            if when is None:
                table.warn(line, _("cannot read self-test date {value!r}").format(value=raw))
            elif learned is not None and when < learned:
                message = _("self-test {on} is before the learned date {learned}")
                table.warn(line, message.format(on=when.isoformat(), learned=learned.isoformat()))
            else:
                found.append(SelfTest(when, rating))
    return tuple(sorted(dict.fromkeys(found), key=lambda test: test.on))


def _build_row(table: _Table, cells: list[str], line: int, topic: str) -> LogRow | None:
    """Read the cells of a row whose topic is known; None (with a warning) when it is bad."""
    status = table.cell(cells, "status")
    when_text = table.cell(cells, "date")
    learned = _parse_when(when_text)
    # why: without a status column, writing a date is how a person marks a topic as studied
    studied = _is_done(status) if "status" in table.roles else bool(when_text)
    if studied and learned is None:
        if not when_text:
            table.warn(line, _("no date"))
        else:
            table.warn(line, _("cannot read date {value!r}").format(value=when_text))
        return None
    notes = _BR.sub("\n", table.cell(cells, "notes")).strip()
    tests = _read_self_tests(table, line, table.cell(cells, "self_test"), learned)
    is_review = _REVIEW.search(topic) is not None or _REVIEW.search(notes) is not None
    return LogRow(
        file=table.file,
        line=line,
        section=table.section,
        table=table.index,
        topic=topic,
        status=status,
        studied=studied,
        learned_on=learned,
        self_tests=tests,
        notes=notes,
        is_review=is_review,
        review_target=_review_target(topic) if is_review else "",
    )


def _read_table(
    lines: list[str], start: int, end: int, section: str, result: ParseResult, file: str
) -> None:
    """Read the table whose header is lines[start] and whose rows end before lines[end]."""
    header = split_cells(lines[start])
    roles = find_roles(header)
    if "topic" not in roles or "date" not in roles:
        message = _("table skipped: no topic and date columns")
        result.notes.append(ParseWarning(file, start + 1, message))
        return
    table = _Table(file, section, result.tables, roles, result)
    result.tables += 1
    previous: str | None = None  # the resolved topic of the row above, for continuations
    for index in range(start + 2, end):
        cells = (split_cells(lines[index]) + [""] * len(header))[: len(header)]
        if not any(cells):
            continue
        topic = table.cell(cells, "topic")
        if topic in _DITTO:
            if previous is None:
                table.warn(index + 1, _("no topic above to continue"))
                continue
            topic = previous
        previous = topic
        row = _build_row(table, cells, index + 1, topic)
        if row is not None:
            result.rows.append(row)


def parse_log(text: str, file: str = "<log>") -> ParseResult:
    """Read every study table of a markdown log; never raises."""
    lines = _lines(text)
    result = ParseResult()
    section = ""
    fence: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if fence is not None:
            closing = line.strip()
            if len(closing) >= len(fence) and closing == fence[0] * len(closing):
                fence = None
            index += 1
        elif opening := _FENCE.match(line):
            fence = opening[1] or opening[2]
            index += 1
        elif heading := _HEADING.match(line):
            section = _CLOSING_HASHES.sub("", (heading[1] or "").strip()).strip()
            index += 1
        elif (
            index + 1 < len(lines)
            and PIPE.search(line)
            and is_delimiter(lines[index + 1], len(split_cells(line)))
        ):
            end = index + 2
            while end < len(lines) and not ends_table(lines[end]):
                end += 1
            _read_table(lines, index, end, section, result, file)
            index = end
        else:
            index += 1
    return result


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


def parse_log_bytes(data: bytes, name: str) -> ParseResult:
    """Parse a log's bytes; LogFileError when they are not a UTF-8 study log."""
    if b"\0" in data:
        raise LogFileError(_("{path}: binary file, not a markdown log").format(path=name))
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        message = _("{path}: not UTF-8 text (bad byte at offset {offset})")
        raise LogFileError(message.format(path=name, offset=exc.start)) from None
    result = parse_log(text, name)
    if result.tables == 0:
        message = _("{path}: no study table (a table with topic and date columns)")
        raise LogFileError(message.format(path=name))
    return result


def read_log(path: str | os.PathLike[str]) -> ParseResult:
    """Read a log file; raise LogFileError when it is not a readable study log."""
    return parse_log_bytes(read_log_bytes(path), str(path))
