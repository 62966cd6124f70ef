"""Writing a self-test back into the row of the log it came from, and nothing else.

The row is found again the way the importer names it (`srs.importer.row_keys`: topic and
learned date), so it may have moved; its self-test cell gets `✅ 2026-11-30` for a pass or
`❌ 2026-11-30` for again (`✅ 2026-11-30 hard` and `... easy` keep those grades, in the
form the parser reads). Every other byte of the file stays as it was. The new text is
parsed again before it is written, and refused unless it reads back as the same log with
exactly that one self-test more. The write is atomic and keeps the previous version.

The command-line review is marked as that log entry, so importing the file afterwards
finds the self-test already there instead of adding it a second time.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from srs.errors import SrsError
from srs.i18n import _, ngettext
from srs.importer import row_keys

# The parser's own reading of tables, so the cell written is the cell it reads.
from srs.logparse import PIPE, LogOptions, SelfTest, container_prefix, parse_log
from srs.logparse import LogRow as ParsedRow

if TYPE_CHECKING:
    from srs.cardview import CardRow
    from srs.sql import SqlConn

KEEP_BACKUPS = 20
_SEPARATORS = ("<br>", "，", "；", "、", ";", ",")


class WriteBackError(SrsError):
    """A self-test that cannot be written back into its log."""


class NotInLog(WriteBackError):
    """A card that came from no log row, so there is nowhere to write."""


def entry_text(day: date, rating: int) -> str:
    """The self-test as the log records it: ✅ DATE for a pass, ❌ DATE for again."""
    if rating == 1:
        return f"❌ {day.isoformat()}"
    word = {2: " hard", 4: " easy"}.get(rating, "")
    return f"✅ {day.isoformat()}{word}"


@dataclass(frozen=True)
class Edit:
    """The log's text before and after one self-test is added to one row."""

    line: int
    entry: str
    new: bytes | None  # None: nothing to write, `reason` says why
    reason: str = ""
    recorded: bool = True  # the row holds (or will hold) a self-test on that day


@dataclass(frozen=True)
class WriteBack:
    """A write-back ready to be made: the file as read, the edit, and the row it is for."""

    path: Path
    old: bytes
    edit: Edit
    log_row_id: int
    day: date

    @property
    def written(self) -> bool:
        return self.edit.new is not None


def _cell_spans(line: str) -> list[tuple[int, int]]:
    """Where each cell of a table row starts and ends, as `split_cells` divides it.

    A row inside a blockquote or a list keeps its markers and indentation before the
    first cell.
    """
    offset = container_prefix(line) if line[:1] in (" ", "\t", ">") else 0
    pipes = [m.start() for m in PIPE.finditer(line, offset)]
    bounds = [offset - 1, *pipes, len(line)]
    spans = [(bounds[j] + 1, bounds[j + 1]) for j in range(len(bounds) - 1)]
    stripped = line[offset:].strip()
    if stripped.startswith("|"):
        spans.pop(0)
    if spans and stripped.endswith("|") and not stripped.endswith("\\|"):
        spans.pop()
    return spans


def _with_entry(content: str, entry: str) -> str:
    """A self-test cell's text with one more entry, joined the way the cell already joins them."""
    if not content:
        return entry
    if content[-1] in ",，;；、":
        return content + (" " if content[-1] in ",;" else "") + entry
    found = [(content.rfind(sep), sep) for sep in _SEPARATORS if sep in content]
    sep = max(found)[1] if found else ","
    return content + sep + ("" if sep in ("<br>", "，", "；", "、") else " ") + entry


def _set_cell(line: str, col: int, entry: str) -> str:
    spans = _cell_spans(line)
    if col < len(spans):
        start, end = spans[col]
        cell = line[start:end]
        content = cell.strip()
        if not content:
            return line[:start] + f" {entry} " + line[end:]
        lead = cell[: len(cell) - len(cell.lstrip())]
        trail = cell[len(cell.rstrip()):]
        return line[:start] + lead + _with_entry(content, entry) + trail + line[end:]
    # A short row: add the missing cells before the closing pipe, or at the end.
    added = [""] * (col - len(spans)) + [entry]
    stripped = line.rstrip()
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        return stripped + "".join(f" {c} |" if c else " |" for c in added) + line[len(stripped):]
    return stripped + "".join(f" | {c}" for c in added) + line[len(stripped):]


def _studied(rows: list[ParsedRow]) -> list[tuple[ParsedRow, str]]:
    studied = [row for row in rows if row.studied and row.learned_on is not None
               and not row.skip]
    return list(zip(studied, row_keys(studied), strict=True))


def plan_edit(data: bytes, *, file: str, key: str, line_hint: int, day: date,
              rating: int, options: LogOptions | None = None) -> Edit:
    """Add a self-test to the row named `key` in a log's bytes; pure.

    Raises WriteBackError when the row cannot be found unambiguously or the result would
    not read back as exactly one more self-test.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise WriteBackError(_("{file} is no longer UTF-8 text; nothing written").format(
            file=file)) from None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom):]
    parsed = parse_log(body, file, options)
    rows = _studied(parsed.rows)
    found = [row for row, k in rows if k == key]
    ident = key.rsplit("|", 1)[0]
    twins = [row for row, k in rows if k.rsplit("|", 1)[0] == ident]
    if not found:
        raise WriteBackError(_(
            "cannot find the row in {file} any more (it changed since the last import); "
            "run 'review import {file}' and try again").format(file=file))
    row = found[0]
    if len(twins) > 1 and row.line != line_hint:
        raise WriteBackError(ngettext(
            "{file} has {n} row for the same topic and date and the row moved; cannot tell "
            "which to write to; run 'review import {file}' and try again",
            "{file} has {n} rows for the same topic and date and the row moved; cannot tell "
            "which to write to; run 'review import {file}' and try again",
            len(twins)).format(file=file, n=len(twins)))
    entry = entry_text(day, rating)
    assert row.learned_on is not None
    if day < row.learned_on:
        raise WriteBackError(_("{day} is before the row's learned date {learned}").format(
            day=day.isoformat(), learned=row.learned_on.isoformat()))
    if any(test.on == day for test in row.self_tests):
        return Edit(row.line, entry, None, _("{file}:{line} already has a self-test on {day}")
                    .format(file=file, line=row.line, day=day.isoformat()))
    lines = body.split("\n")
    clean = [line.removesuffix("\r") for line in lines]
    index = row.line - 1
    table = parsed.study_table(row.table)
    if table is None:
        raise WriteBackError(_("cannot find the table header of {file}:{line}").format(
            file=file, line=row.line))
    if "self_test" not in table.roles:
        return Edit(row.line, entry, None, _(
            "the table of {file}:{line} has no self-test column; nothing written back").format(
                file=file, line=row.line), recorded=False)
    ending = lines[index][len(clean[index]):]
    lines[index] = _set_cell(clean[index], table.roles.index("self_test"), entry) + ending
    new_body = "\n".join(lines)
    reread = parse_log(new_body, file, options)
    _check_reads_back(parsed.rows, reread.rows, row, SelfTest(day, rating), file)
    if len(reread.warnings) != len(parsed.warnings):
        raise WriteBackError(_("the new self-test would not read back cleanly in {file}; "
                               "nothing written").format(file=file))
    return Edit(row.line, entry, (bom + new_body).encode("utf-8"))


def _check_reads_back(before: list[ParsedRow], after: list[ParsedRow], target: ParsedRow,
                      test: SelfTest, file: str) -> None:
    """The edited log must read as the same rows, the target with exactly one self-test more."""
    def same(a: ParsedRow, b: ParsedRow) -> bool:
        return (a.line, a.topic, a.learned_on, a.studied, a.notes, a.status) == (
            b.line, b.topic, b.learned_on, b.studied, b.notes, b.status)

    ok = len(before) == len(after) and all(same(a, b) for a, b in zip(before, after, strict=True))
    if ok:
        for a, b in zip(before, after, strict=True):
            wanted = a.self_tests
            if a.line == target.line:
                wanted = tuple(sorted((*a.self_tests, test), key=lambda t: t.on))
            if b.self_tests != wanted:
                ok = False
    if not ok:
        raise WriteBackError(_("the new self-test would not read back as written in {file}; "
                               "nothing written").format(file=file))


class LogRowRef(NamedTuple):
    """The log row a card was made from."""

    id: int
    source_id: int
    key: str
    line: int
    present: bool


class LogSourceRef(NamedTuple):
    """The log a row is in."""

    id: int
    path: str


def log_row_of(conn: SqlConn, card: CardRow) -> tuple[LogRowRef, LogSourceRef]:
    """The log row a card was made from, and its log (raises NotInLog)."""
    found = conn.one(
        "SELECT r.id, r.source_id, r.key, r.line, r.present, s.path FROM log_row r "
        "JOIN log_source s ON s.id = r.source_id "
        "WHERE r.card_id = :card AND r.kind = 'card' ORDER BY r.id LIMIT 1", card=card.id)
    if found is None:
        raise NotInLog(_("card {id} is in no log; nothing to write back to").format(id=card.id))
    row_id, source_id, key, line, present, path = found
    row, source = (LogRowRef(row_id, source_id, key, line, bool(present)),
                   LogSourceRef(source_id, path))
    if not row.present:
        raise WriteBackError(_("the row of card {id} is no longer in {file}; nothing written "
                               "back").format(id=card.id, file=source.path))
    return row, source


def unwritable(path: Path) -> str | None:
    """Why a log cannot be written back into as its owner keeps it, or None when it can.

    The file itself is written (through a symlink, to its target), atomically, so it must
    be writable by us and marked writable at all (a log made read-only on purpose stays so),
    its folder must take a new file, we must be able to give the new file the old one's
    owner, and it must have no other hard link (an atomic replace would cut it off).
    """
    try:
        info = path.stat()
    except OSError as err:
        return _("cannot read {file}: {reason}").format(file=path, reason=err.strerror)
    if not info.st_mode & 0o222 or not os.access(path, os.W_OK):
        return _("{file} is read-only; not written back (make it writable, or write the "
                 "self-test in yourself)").format(file=path)
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return _("cannot write in the folder of {file}; not written back").format(file=path)
    if info.st_nlink > 1:
        return ngettext("{file} has {n} hard link, which a safe rewrite would break; not "
                        "written back", "{file} has {n} hard links, which a safe rewrite "
                        "would break; not written back", info.st_nlink).format(
                            file=path, n=info.st_nlink)
    if os.geteuid() not in (0, info.st_uid):
        return _("{file} belongs to another user, whose file it must stay; not written "
                 "back").format(file=path)
    return None


def prepare(conn: SqlConn, card_id: int, *, day: date, rating: int,
            options: LogOptions | None = None) -> WriteBack:
    """Read the card's log and work out the edit; nothing is written yet.

    Raises NotInLog for a card from no log, WriteBackError when the row cannot be found
    unambiguously. A log that cannot be written as it is kept (read-only, hard-linked,
    another user's) gives an edit with nothing to write and the reason, and the grade
    stands.
    """
    from srs.store import card_row

    row, source = log_row_of(conn, card_row(conn, card_id))
    path = Path(source.path)
    try:
        old = path.read_bytes()
    except OSError as err:
        raise WriteBackError(_("cannot read {file}: {reason}").format(
            file=source.path, reason=err.strerror)) from None
    edit = plan_edit(old, file=source.path, key=row.key, line_hint=row.line, day=day,
                     rating=rating, options=options)
    if edit.new is not None:
        refused = unwritable(path.resolve())
        if refused is not None:
            edit = Edit(edit.line, edit.entry, None, refused)
    return WriteBack(path, old, edit, row.id, day)


def link_review(conn: SqlConn, writeback: WriteBack, card_id: int) -> None:
    """Mark the card's newest command-line self-test as the row's log entry for that day.

    The importer then finds the entry already in the history and adds nothing. Left alone
    when the row has no self-test cell, or when another event already is that entry.
    """
    if not writeback.edit.recorded:
        return
    entry = f"test:{writeback.day.isoformat()}"
    taken = conn.scalar(
        "SELECT id FROM review WHERE log_row_id = :row AND log_entry = :entry "
        "AND undone_at IS NULL LIMIT 1", row=writeback.log_row_id, entry=entry)
    review = conn.scalar(
        "SELECT id FROM review WHERE card_id = :card AND source = 'cli' AND kind = 'review' "
        "AND undone_at IS NULL ORDER BY recorded_at DESC, id DESC LIMIT 1", card=card_id)
    if review is not None and taken is None:
        conn.run("UPDATE review SET log_row_id = :row, log_entry = :entry WHERE id = :id",
                 row=writeback.log_row_id, entry=entry, id=review)


NAME_MAX = 255  # bytes in one file name on the file systems logs live on


def _fitting(name: str, room: int) -> str:
    """`name` cut to at most `room` bytes of UTF-8, never inside a character."""
    data = name.encode("utf-8", "surrogateescape")
    if len(data) <= room:
        return name
    return data[:room].decode("utf-8", "ignore")


def backup_prefix(path: Path) -> str:
    """What every backup of one log is named by: its name (cut to fit) and a digest of its
    whole path, so two logs of one name, or of long names, never share backups."""
    digest = hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogateescape")
                            ).hexdigest()[:8]
    # Room for the digest, the time stamp, ".bak" and the temporary name it is written as.
    return f"{_fitting(path.name, NAME_MAX - 70)}.{digest}"


def backup_name(path: Path, now: datetime) -> str:
    return f"{backup_prefix(path)}.{now.strftime('%Y%m%dT%H%M%S%fZ')}.bak"


def commit(writeback: WriteBack, *, backup_dir: Path, now: datetime) -> Path | None:
    """Keep a copy of the log as read, then replace it with the edited text atomically.

    Refused, with the file untouched, when it changed since `prepare` read it.
    Returns the backup's path (None when there was nothing to write).
    """
    from srs.export import atomic_write
    from srs.paths import make_private_dir

    new = writeback.edit.new
    if new is None:
        return None
    path = writeback.path

    def unchanged() -> None:
        try:
            current = path.read_bytes()
        except OSError:
            current = None
        if current != writeback.old:
            raise WriteBackError(_("{file} changed while the self-test was being written; "
                                   "nothing written, try again").format(file=path))

    unchanged()
    target = path.resolve()  # through a symlink to the file the person keeps
    refused = unwritable(target)
    if refused is not None:
        raise WriteBackError(refused)
    make_private_dir(backup_dir)
    backup = backup_dir / backup_name(target, now)
    atomic_write(backup, writeback.old, mode=0o600)
    _prune(backup_dir, backup_prefix(target))
    _replace_keeping(target, new, check=unchanged)
    return backup


def _replace_keeping(target: Path, data: bytes, *, check: Any) -> None:
    """Replace `target` with `data` all at once, keeping its mode and owner."""
    from srs.atomic import replace_file

    try:
        replace_file(target, data, check=check)
    except OSError as err:
        raise WriteBackError(_("cannot write {file}: {reason}; nothing written").format(
            file=target, reason=err.strerror or err)) from None


def _prune(folder: Path, prefix: str) -> None:
    """Keep the newest KEEP_BACKUPS copies of one log."""
    import glob

    copies = sorted(folder.glob(f"{glob.escape(prefix)}.*.bak"))
    for old in copies[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)
