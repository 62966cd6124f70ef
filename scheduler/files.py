"""The daemon's files in the state folder: pid, lock, log and state, one set per database."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srs.errors import SrsError
from srs.i18n import _
from srs.paths import Paths


class DaemonError(SrsError):
    """A daemon that cannot be started, found or stopped."""


def database_url(paths: Paths, db_url: str | None) -> str:
    """The database a command or daemon uses: --db, SRS_DATABASE_URL, or the default."""
    return db_url or os.environ.get("SRS_DATABASE_URL") or f"sqlite:///{paths.default_db}"


# An SQLite URL, parsed as SQLAlchemy's make_url parses it, so that the daemon's files of
# an SQLite database are found without loading SQLAlchemy.
_SQLITE_URL = re.compile(
    r"(?P<scheme>sqlite(?:\+\w+)?)://(?:/(?P<database>[^?]*))?(?:\?(?P<query>.*))?",
    re.DOTALL)


def _sqlite_parts(url: str) -> tuple[str, str | None, str | None] | None:
    """(scheme, database, query) of an SQLite URL; None for any other URL."""
    found = _SQLITE_URL.fullmatch(url)
    if found is None:
        return None
    return found["scheme"], found["database"], found["query"]


def absolute_url(url: str) -> str:
    """`url` with an SQLite path made absolute, so a daemon in another folder finds it."""
    parts = _sqlite_parts(url)
    if parts is None:
        return url  # a server's URL: nothing relative in it
    scheme, database, query = parts
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    absolute = str(Path(database).expanduser().resolve())
    return f"{scheme}:///{absolute}" + (f"?{query}" if query is not None else "")


def _identity(url: str) -> str:
    """What names a database regardless of how its URL is written (and of its password).

    Written as SQLAlchemy renders the URL (an SQLite one without loading SQLAlchemy), so a
    database keeps the daemon files it had.
    """
    parts = _sqlite_parts(absolute_url(url))
    if parts is not None:
        from urllib.parse import parse_qsl, quote, quote_plus, unquote

        scheme, database, query = parts
        text = f"{scheme}://"
        if database is not None:
            text += "/" + quote(unquote(database), safe=" +/")
        pairs = sorted(parse_qsl(query or "", keep_blank_values=True), key=lambda kv: kv[0])
        if pairs:
            text += "?" + "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs)
        return text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).set(password=None).render_as_string()
    except ArgumentError:
        return url


def safe_url(url: str) -> str:
    """A URL fit to show: the password masked (an SQLite URL has none)."""
    if _sqlite_parts(url) is not None:
        return url
    from srs.db import safe_url as masked

    return masked(url)


@dataclass(frozen=True)
class DaemonFiles:
    """Where one database's daemon keeps its pid, lock, log and state."""

    state_dir: Path
    stem: str

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"{self.stem}.pid"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / f"{self.stem}.lock"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"{self.stem}.log"

    @property
    def state_file(self) -> Path:
        return self.state_dir / f"{self.stem}.json"

    def read_pid(self) -> int | None:
        """The pid the pid file names: a hint for people, never proof of which process is
        the daemon (anyone who can write the file can put any number in it)."""
        return _read_pid(self.pid_file)

    def read_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_running(self, state: dict[str, Any]) -> None:
        """Write the pid and state files (atomically: a reader never sees half of one)."""
        from srs.paths import make_private_dir

        make_private_dir(self.state_dir)
        _replace(self.pid_file, f"{os.getpid()}\n")
        _replace(self.state_file, json.dumps(state, ensure_ascii=False, indent=2) + "\n")

    def remove_running(self) -> None:
        for path in (self.pid_file, self.state_file):
            path.unlink(missing_ok=True)


def _read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    # 0 and negative numbers name process groups, or every process, to kill().
    return pid if pid > 0 else None


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def daemon_files(paths: Paths, url: str) -> DaemonFiles:
    """The files of the daemon for database `url`: `daemon.*` for the default database,
    `daemon-<hash>.*` for another, so each database has at most one daemon here."""
    if _identity(url) == _identity(f"sqlite:///{paths.default_db}"):
        return DaemonFiles(paths.state_dir, "daemon")
    digest = hashlib.sha256(_identity(url).encode()).hexdigest()[:10]
    return DaemonFiles(paths.state_dir, f"daemon-{digest}")


class DaemonLock:
    """An exclusive lock (flock) held by the running daemon for as long as it lives.

    The holder writes its pid into the lock file as well, for systems without /proc/locks.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, *, shared: bool = False, patience: float = 0.0) -> bool:
        """Take the lock; False when another process holds it.

        Args:
            shared: take a shared lock, as a probe does (probes never exclude each other).
            patience: seconds to keep trying, so that a probe holding the lock for an
                instant does not pass for a running daemon.
        """
        from srs.paths import make_private_dir

        make_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.02)
        self._fd = fd
        if not shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def lock_held(path: Path) -> bool:
    """Whether some process holds the lock at `path` (tried without waiting, then let go)."""
    if not path.exists():
        return False
    probe = DaemonLock(path)
    if probe.acquire(shared=True):
        probe.release()
        return False
    return True


def lock_holder(path: Path) -> int | None:
    """The pid of the process holding the exclusive lock at `path`; None when none does.

    Read from the kernel's table of locks (/proc/locks), which no file in the state folder
    can fake. Where that table is missing or does not show the lock, the pid the holder
    wrote into the lock file is taken, but only while the lock is really held.
    """
    try:
        st = path.stat()
    except OSError:
        return None
    try:
        table = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        table = ""
    # A line reads "1: FLOCK  ADVISORY  WRITE 1234 fe:01:5678 0 EOF" (the device in hex);
    # a process waiting for a lock has "->" after the number and is skipped.
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        if fields[1:4] == ["FLOCK", "ADVISORY", "WRITE"] and fields[5:6] == [inode] \
                and fields[4].isdigit() and int(fields[4]) > 0:
            return int(fields[4])
    return _read_pid(path) if lock_held(path) else None


def already_running(files: DaemonFiles) -> DaemonError:
    pid = lock_holder(files.lock_file)
    recorded = files.read_state()
    since = recorded.get("since") if pid is not None and recorded.get("pid") == pid else None
    who = _("pid {pid}").format(pid=pid) if pid else _("pid unknown")
    if since:
        who += _(", since {since}").format(since=since)
    return DaemonError(_("a daemon is already running for this database ({who}); "
                         "stop it with 'review daemon stop'").format(who=who))
