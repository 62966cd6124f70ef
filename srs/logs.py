"""The log files that were imported: what each gave, whether it changed, and moving one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from srs.errors import SrsError
from srs.i18n import _
from srs.models import Card, LogSource


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


def list_logs(session: Session, *, salt: str) -> list[LogInfo]:
    """Every imported log, in the order they were first imported."""
    cards: dict[int | None, int] = {source: n for source, n in session.execute(
        select(Card.source_id, func.count()).where(Card.merged_into.is_(None))
        .group_by(Card.source_id))}
    found = []
    for source in session.scalars(select(LogSource).order_by(LogSource.id)):
        summary = json.loads(source.summary or "{}")
        found.append(LogInfo(
            source.id, source.path, int(summary.get("rows", 0)), int(cards.get(source.id, 0)),
            int(summary.get("pending", 0)), int(summary.get("planned", 0)),
            int(summary.get("skipped", 0)), len(summary.get("warnings", [])),
            source.imported_at, log_state(source.path, source.content_hash, salt)))
    return found


def move_log(session: Session, old: str, new: str, *, salt: str) -> LogInfo:
    """Give an imported log its new path; its cards and history stay as they are."""
    old_path, new_path = str(Path(old).resolve()), str(Path(new).resolve())
    source = session.scalars(select(LogSource).where(LogSource.path == old_path)).first()
    if source is None:
        source = session.scalars(select(LogSource).where(LogSource.path == old)).first()
    if source is None:
        raise LogError(_("no imported log {path} (see 'review logs')").format(path=old))
    if session.scalar(select(LogSource.id).where(LogSource.path == new_path)) is not None:
        raise LogError(_("{path} is already an imported log of its own").format(path=new))
    if not Path(new_path).is_file():
        raise LogError(_("{path}: no such file").format(path=new))
    session.execute(update(LogSource).where(LogSource.id == source.id).values(path=new_path))
    session.flush()
    return next(info for info in list_logs(session, salt=salt) if info.id == source.id)
