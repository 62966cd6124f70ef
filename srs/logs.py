"""The log files that were imported: what each gave, whether it changed, and moving one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from srs.errors import SrsError
from srs.i18n import _
from srs.sql import SqlConn


class LogError(SrsError):
    """A log that cannot be found or moved."""


@dataclass(frozen=True)
class LogInfo:
    """One imported log as `review logs` shows it."""

    id: int
    path: str
    rows: int  # table rows the last import read (studied, pending, planned, skipped)
    cards: int  # cards made from it (not merged away)
    pending: int
    planned: int
    skipped: int
    warnings: int
    imported_at: datetime | None
    state: str  # unchanged | changed | missing | unreadable

    def to_json(self, tz: Any) -> dict[str, Any]:
        return {
            "id": self.id, "path": self.path, "rows": self.rows, "cards": self.cards,
            "pending": self.pending, "planned": self.planned, "skipped": self.skipped,
            "warnings": self.warnings,
            "imported_at": self.imported_at.astimezone(tz).isoformat()
            if self.imported_at else None,
            "state": self.state,
        }


def log_state(path: str, digest: str, salt: str) -> str:
    """unchanged, changed (since the last import), missing or unreadable."""
    from srs.importer import file_digest

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "unreadable"
    return "unchanged" if file_digest(data, salt) == digest else "changed"


def list_logs(conn: SqlConn, *, salt: str, source_id: int | None = None) -> list[LogInfo]:
    """Every imported log (or the one with `source_id`), in the order they were first
    imported."""
    cards: dict[int | None, int] = {source: int(n) for source, n in conn.all(
        "SELECT source_id, count(*) FROM card WHERE merged_into IS NULL GROUP BY source_id")}
    found = []
    for sid, path, digest, imported_at, stored in conn.all(
            "SELECT id, path, content_hash, imported_at, summary FROM log_source ORDER BY id"):
        if source_id is not None and sid != source_id:
            continue
        summary = json.loads(stored or "{}")
        found.append(LogInfo(
            sid, path, int(summary.get("rows", 0)), int(cards.get(sid, 0)),
            int(summary.get("pending", 0)), int(summary.get("planned", 0)),
            int(summary.get("skipped", 0)), len(summary.get("warnings", [])),
            conn.moment(imported_at), log_state(path, digest, salt)))
    return found


def move_log(conn: SqlConn, old: str, new: str, *, salt: str) -> LogInfo:
    """Give an imported log its new path; its cards and history stay as they are."""
    old_path, new_path = str(Path(old).resolve()), str(Path(new).resolve())
    find = "SELECT id FROM log_source WHERE path = :path"
    source_id = conn.scalar(find, path=old_path)
    if source_id is None:
        source_id = conn.scalar(find, path=old)
    if source_id is None:
        raise LogError(_("no imported log {path} (see 'review logs')").format(path=old))
    if conn.scalar(find, path=new_path) is not None:
        raise LogError(_("{path} is already an imported log of its own").format(path=new))
    if not Path(new_path).is_file():
        raise LogError(_("{path}: no such file").format(path=new))
    conn.run("UPDATE log_source SET path = :path WHERE id = :id", path=new_path, id=source_id)
    return list_logs(conn, salt=salt, source_id=source_id)[0]
