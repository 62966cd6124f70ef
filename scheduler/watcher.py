"""Following the imported logs: a save re-imports the file, a bad save keeps the last good one."""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srs.errors import LogFileError
from srs.i18n import _

if TYPE_CHECKING:
    from srs.app import App
    from srs.logparse import LogOptions

log = logging.getLogger("srs.daemon")

# Events that can mean "the file has new content": written in place, closed after a
# write, or (as most editors save) a new file created or renamed over the old one.
_CHANGES = {"modified", "created", "moved", "closed"}


@dataclass
class Reimport:
    """How following one save of a log went."""

    path: str
    status: str  # imported, unchanged, unreadable, rejected
    message: str = ""
    created: int = 0
    updated: int = 0
    warnings: Counter[str] = field(default_factory=Counter)


def reimport(app: App, path: str, *, now: datetime, baseline: Counter[str] | None,
             options: LogOptions | None = None) -> Reimport:
    """Import `path` again if its content changed and it reads at least as well as before.

    A save that cannot be read, or that brings a warning the last good version did not
    have (a row typed halfway), is not imported: the database keeps the last good state
    and the next good save is imported. `baseline` is the last good version's warnings,
    None when they are not known (any readable file is then taken).
    """
    from srs.importer import (
        Memos,
        import_parsed,
        import_salt,
        read_logs,
        stored_digests,
        stored_warnings,
    )

    def known(paths: list[Path]) -> dict[str, tuple[str, str | None]]:
        with app.reading() as conn:
            return stored_digests(conn, paths)

    try:
        # An unchanged file is not even parsed: a 100,000-row log costs its digest only.
        salt = import_salt(app.clock, options)
        memos = Memos(app.paths.state_dir / "memo", app.url)
        files = read_logs([path], salt=salt, known=known, options=options, memos=memos)
    except LogFileError as err:
        return Reimport(path, "unreadable", str(err))
    parsed = files[0].parsed
    if parsed is None:
        with app.reading() as conn:
            stored = stored_warnings(conn, files[0].path)
        return Reimport(path, "unchanged", warnings=Counter(w.message for w in stored))
    warnings = Counter(w.message for w in parsed.warnings)
    if baseline is not None:
        new = warnings - baseline
        bad = [w for w in parsed.warnings if w.message in new]
        if bad:
            return Reimport(path, "rejected", "; ".join(str(w) for w in bad[:3]),
                            warnings=baseline)
    report = app.write(lambda conn: import_parsed(conn, files, engine=app.engine(conn),
                                                  now=now))
    memos.keep(files, salt)
    return Reimport(path, "imported", created=report.cards_created,
                    updated=report.cards_updated, warnings=warnings)


def describe(result: Reimport) -> str:
    """One log line about a followed save."""
    if result.status == "imported":
        return _("{path}: imported ({created} new, {updated} updated cards)").format(
            path=result.path, created=result.created, updated=result.updated)
    if result.status == "unchanged":
        return _("{path}: unchanged").format(path=result.path)
    return _("{message}; kept the last good import of {path} (the next good save is "
             "imported)").format(message=result.message, path=result.path)


class LogWatcher:
    """Watches the folders of the followed logs (watchdog) and reports saves of the logs."""

    def __init__(self, on_save: Callable[[str], None]) -> None:
        self.on_save = on_save
        self.files: set[str] = set()
        self._watches: dict[str, Any] = {}
        self._observer: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        from watchdog.observers import Observer

        # The dispatcher wakes this often even when idle; inotify itself blocks until a save.
        self._observer = Observer(timeout=5)
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    def follow(self, paths: Iterable[str]) -> list[str]:
        """Watch exactly these files from now on; returns the ones newly followed."""
        from watchdog.events import FileSystemEventHandler

        watcher = self
        wanted = {os.path.abspath(p) for p in paths}
        folders = {os.path.dirname(p) for p in wanted}

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type not in _CHANGES:
                    return
                for raw in (event.src_path, getattr(event, "dest_path", "")):
                    name = os.fsdecode(raw) if raw else ""
                    if name and name in watcher.files:
                        watcher.on_save(name)

        with self._lock:
            added = sorted(wanted - self.files)
            self.files = wanted
            if self._observer is None:
                return added
            for folder in list(self._watches):
                if folder not in folders:
                    self._observer.unschedule(self._watches.pop(folder))
            for folder in sorted(folders - set(self._watches)):
                if not Path(folder).is_dir():
                    continue
                try:
                    self._watches[folder] = self._observer.schedule(Handler(), folder,
                                                                    recursive=False)
                except OSError as err:
                    log.warning(_("cannot watch {folder}: {reason}").format(
                        folder=folder, reason=err.strerror or err))
        return added
