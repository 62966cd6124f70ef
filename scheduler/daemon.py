"""The daemon process: jobs kept in memory and rebuilt from the database, signals, files.

Jobs (all in one worker thread, so two passes never overlap in one process):

- `digest HH:MM`: a CronTrigger per digest time, in the configured zone;
- `wake`: a DateTrigger at the next moment `srs.reminders.next_wake` names (the end of
  quiet hours, a retry);
- `check`: every half minute, the cheap change check (grades, imports, settings) and
  the clock-jump check (wall clock against the monotonic one);
- `import PATH`: a save of a followed log, debounced.

Each job is a one-line call into `srs`; what is owed is decided from the database at
the moment of the pass, never from APScheduler's memory of missed runs, so a restart or
a resume sends one catch-up at most.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler.files import DaemonFiles, DaemonLock, already_running
from srs import clock
from srs.errors import ConfigError, SrsError
from srs.i18n import _, ngettext
from srs.paths import Paths

if TYPE_CHECKING:
    from srs.app import App
    from srs.config import Config
    from srs.reminders import ReminderSettings
    from srs.schedule import Rescheduled

log = logging.getLogger("srs.daemon")

CHECK_EVERY = 30.0  # seconds between change checks: CLI changes are noticed within a minute
DEBOUNCE = 2.0  # seconds after the last write of a log before it is imported
CLOCK_JUMP = 20.0  # seconds the wall clock may drift from the monotonic one between checks
RETRY_FIRST, RETRY_LAST = 5.0, 300.0  # after a failed pass (database locked, unreachable)
SQLITE_CACHE_KIB = 256  # SQLite's page cache on the daemon's connection


class ClockWatch:
    """Tells when the wall clock jumped (suspend and resume, a manual change) between calls."""

    def __init__(self, threshold: float = CLOCK_JUMP) -> None:
        self.threshold = threshold
        self._last: tuple[datetime, float] | None = None

    def jumped(self, wall: datetime, monotonic: float) -> float | None:
        """The size of the jump in seconds since the last call, None when there was none."""
        last, self._last = self._last, (wall, monotonic)
        if last is None:
            return None
        drift = (wall - last[0]).total_seconds() - (monotonic - last[1])
        return drift if abs(drift) > self.threshold else None


class _ZoneFormatter(logging.Formatter):
    """Log times in the person's configured zone, with its offset (not the machine's)."""

    def __init__(self, tz: tzinfo | None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")
        self.tz = tz

    def formatTime(self, record: logging.LogRecord,  # noqa: N802 (logging's name)
                   datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self.tz or timezone.utc)
        if self.tz is None:
            moment = moment.astimezone()
        return moment.strftime("%Y-%m-%d %H:%M:%S%z")


def configure_logging(level: int = logging.INFO, tz: tzinfo | None = None) -> None:
    """Log lines to stderr (the journal under systemd, the log file when detached), timed
    in `tz` (the configured timezone; the machine's when None)."""
    handler = logging.StreamHandler()
    handler.setFormatter(_ZoneFormatter(tz))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler logs every run of every job at INFO: the check alone would fill the log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


class Daemon:
    """One daemon for one database."""

    def __init__(self, paths: Paths, url: str, files: DaemonFiles, *,
                 check_every: float = CHECK_EVERY, debounce: float = DEBOUNCE) -> None:
        self.paths, self.url, self.files = paths, url, files
        self.check_every, self.debounce = check_every, debounce
        self.who = f"{socket.gethostname()}:{os.getpid()}"
        self.app: App | None = None  # the one way to the data; replaced on a reload
        self.config: Config | None = None
        self.settings: ReminderSettings | None = None
        self.channels: Any = None
        self.scheduler: Any = None
        self.watcher: Any = None
        self.clock_watch = ClockWatch()
        self._stop = threading.Event()
        self._busy = threading.Lock()  # held while a job works
        self._wakeup = threading.Event()
        self._reload_requested = False
        self._config_mtime: int | None = None
        self._fingerprint: tuple[Any, ...] | None = None
        self._baselines: dict[str, Counter[str] | None] = {}
        self._failures = 0
        self._day: Any = None  # the study day of the last change check

    # --- the process ---------------------------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM or SIGINT; returns the exit status."""
        self._leave_folder()
        lock = DaemonLock(self.files.lock_file)
        # Patience: a `review daemon status` may be probing the lock at this very moment.
        if not lock.acquire(patience=1.0):
            raise already_running(self.files)
        try:
            self._install_signals()
            since = clock.now()
            self.files.write_running({
                "pid": os.getpid(), "since": since.isoformat(timespec="seconds"),
                "database": _shown(self.url), "log_file": str(self.files.log_file),
                "check_every": self.check_every,
            })
            log.info(_("daemon started (pid {pid}) for {database}").format(
                pid=os.getpid(), database=_shown(self.url)))
            self._load_settings()
            if not self._open_app():
                return 0
            self._start_jobs()
            while not self._stop.is_set():
                self._wakeup.wait(30.0)  # signal handlers set it; the timeout is a backstop
                self._wakeup.clear()
                if self._reload_requested and not self._stop.is_set():
                    self._reload_requested = False
                    self._submit(self.reload, "reload")
            log.info(_("stopping"))
            return 0
        finally:
            self._shutdown()
            self.files.remove_running()
            lock.release()
            log.info(_("daemon stopped"))

    def _leave_folder(self) -> None:
        """Work in `/`, so the daemon never keeps the folder it was started from busy (a
        drive that could not be unmounted, a folder that could not be removed).

        Every path it keeps is made absolute first; a relative reminders.command is refused
        when it is set, as it would be looked for in `/`.
        """
        from dataclasses import replace

        from scheduler.files import absolute_url

        self.paths = replace(self.paths, config_dir=self.paths.config_dir.resolve(),
                             data_dir=self.paths.data_dir.resolve(),
                             state_dir=self.paths.state_dir.resolve())
        self.files = replace(self.files, state_dir=self.files.state_dir.resolve())
        self.url = absolute_url(self.url)
        os.chdir("/")

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            log.info(_("received {signal}").format(signal=signal.Signals(signum).name))
            self._stop.set()
            self._wakeup.set()

        def reload(_signum: int, _frame: Any) -> None:
            self._reload_requested = True
            self._wakeup.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    def _open_app(self) -> bool:
        """Open (and migrate) the database, retrying while it is unreachable; False if stopped."""
        delay = RETRY_FIRST
        while not self._stop.is_set():
            try:
                self._new_app()
                return True
            except SrsError as err:
                log.warning(_("{error}; trying again in {seconds:.0f} s").format(
                    error=err, seconds=delay))
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_LAST)
        return False

    def _new_app(self) -> None:
        """A fresh view of the data with the settings as they are now, opened at once.

        Opening replays every card when the stored schedule follows another clock (a
        timezone or day_starts_at changed): `App` does it, and tells `_replayed`. A view
        that cannot be opened yet (the database away) is kept, and opens on its first use.
        """
        from srs.app import App

        old, self.app = self.app, App(self.url, self.paths, notify=_replayed)
        if old is not None:
            old.close()
        with self.app.reading() as conn:
            if conn.dialect == "sqlite":
                # The default 2 MB page cache per connection, filled by the change check's
                # counts, is most of what the idle daemon would hold for its data; the
                # system keeps the file's pages cached for it anyway.
                conn.run(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")

    def _shutdown(self) -> None:
        self._stop.set()
        if self.watcher is not None:
            self.watcher.stop()
        if self.scheduler is not None and self.scheduler.running:
            # Not shutdown(wait=True): it holds the job store lock while it waits, and a
            # running pass that plans its next wake-up needs that lock. Jobs not yet
            # started see the stop and return; the one running is waited for here.
            self.scheduler.shutdown(wait=False)
        with self._busy:
            if self.app is not None:
                self.app.close()

    # --- settings ------------------------------------------------------------------------

    def _config_stamp(self) -> int | None:
        try:
            return self.paths.config_file.stat().st_mtime_ns
        except OSError:
            return None

    def _load_settings(self) -> None:
        """Read config.toml (raises ConfigError: the daemon does not start on bad settings)."""
        from srs.channels import Channels
        from srs.config import load
        from srs.reminders import settings_from_config

        self._config_mtime = self._config_stamp()
        config = load(self.paths.config_file)
        settings = settings_from_config(config)
        self.config, self.settings = config, settings
        self.channels = Channels(command=str(config["reminders.command"]))

    def reload(self) -> None:
        """Read the settings again (SIGHUP, or config.toml changed) and plan anew."""
        self._guard(_("reload"), self._reload)

    def _reload(self) -> None:
        try:
            self._load_settings()
        except ConfigError as err:
            log.error(_("{error}; keeping the settings in use").format(error=err))
            return
        log.info(_("settings reloaded"))
        self._new_app()
        self._schedule_digests()
        self._remind()

    # --- jobs ----------------------------------------------------------------------------

    def _start_jobs(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        from scheduler.triggers import check_trigger
        from scheduler.watcher import LogWatcher

        assert self.settings is not None
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            # Run a job however late it is, once: a missed digest is still worked out
            # from the database by the pass itself.
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=self.settings.tz,
        )
        self._schedule_digests()
        self.scheduler.add_job(self.check, check_trigger(self.check_every, self.settings.tz),
                               id="check", name="check", replace_existing=True)
        self.scheduler.start()
        self.watcher = LogWatcher(self.log_saved)
        self.watcher.start()
        self._submit(self.startup, "startup")

    def _schedule_digests(self) -> None:
        from scheduler.triggers import digest_trigger

        assert self.settings is not None and self.scheduler is not None
        wanted = {f"digest {t.strftime('%H:%M')}": t for t in self.settings.digest_at}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest ") and job.id not in wanted:
                job.remove()
        for job_id, when in wanted.items():
            self.scheduler.add_job(self.remind, digest_trigger(when, self.settings.tz),
                                   id=job_id, name=job_id, replace_existing=True)

    def _submit(self, func: Callable[[], None], job_id: str, delay: float = 0.0) -> None:
        """Run `func` in the worker soon (replacing a run of the same id not yet started)."""
        from scheduler.triggers import wake_trigger

        assert self.settings is not None
        if self._stop.is_set():
            return
        at = clock.now() + timedelta(seconds=delay)
        self.scheduler.add_job(func, wake_trigger(at, self.settings.tz), id=job_id,
                               name=job_id, replace_existing=True)

    def _guard(self, what: str, work: Callable[[], None]) -> None:
        """Run a job's work; a database that is locked or away is logged and retried later."""
        if self._stop.is_set():
            return
        try:
            with self._busy:
                if self._stop.is_set():
                    return
                try:
                    work()
                finally:
                    release_memory()
        except Exception as err:  # noqa: BLE001 - the daemon outlives any one job
            self._failures += 1
            delay = min(RETRY_FIRST * 2 ** (self._failures - 1), RETRY_LAST)
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            if not _expected(err):
                reason = f"{type(err).__name__}: {reason}"
                log.debug("%s", what, exc_info=True)
            log.warning(_("{what} failed: {reason}; trying again in {seconds:.0f} s").format(
                what=what, reason=reason, seconds=delay))
            self._submit(self.remind, "retry", delay)
        else:
            self._failures = 0

    def startup(self) -> None:
        """Catch up at once: follow the logs, then send what is owed (one reminder at most)."""
        self._guard(_("start"), self._startup)

    def _startup(self) -> None:
        from srs.reminders import fingerprint

        assert self.app is not None
        with self.app.reading() as conn:
            self._fingerprint = fingerprint(conn)
        assert self.settings is not None
        self._day = self.settings.clock.day_of(clock.now())
        self._follow_logs(catch_up=True)
        self._remind()
        self.clock_watch.jumped(clock.now(), time.monotonic())

    def remind(self) -> None:
        """One pass: what is owed now goes out once; then the next wake-up is planned."""
        self._guard(_("reminder pass"), self._remind)

    def _remind(self) -> None:
        from srs.reminders import run_once

        assert self.app is not None and self.settings is not None
        report = run_once(self.app, self.settings, clock.now(), self.channels.send,
                          clock=clock.now, who=self.who)
        for outcome in report.outcomes:
            log.info(_("{kind} reminder {status} on {channel} (attempt {n}): {title}").format(
                kind=outcome.kind, status=outcome.status, channel=outcome.channel,
                n=outcome.attempts, title=outcome.title))
        if report.held_until is not None:
            log.info(_("quiet hours: holding reminders until {at}").format(
                at=report.held_until.astimezone(self.settings.tz).strftime("%H:%M")))
        if report.lost_race:
            log.info(_("another process claimed the reminder first"))
        self._plan_wake()

    def _plan_wake(self) -> None:
        from scheduler.triggers import wake_trigger
        from srs.reminders import next_wake

        assert self.app is not None and self.settings is not None
        now = clock.now()
        with self.app.reading() as conn:
            wake = next_wake(conn, self.settings, now)
        if wake is None:
            if self.scheduler.get_job("wake") is not None:
                self.scheduler.remove_job("wake")
            return
        at = max(wake.at, now + timedelta(seconds=1))
        self.scheduler.add_job(self.remind, wake_trigger(at, self.settings.tz), id="wake",
                               name=f"wake ({wake.kind})", replace_existing=True)

    def check(self) -> None:
        """The cheap change check, and the clock-jump check."""
        self._guard(_("change check"), self._check)

    def _check(self) -> None:
        from srs.reminders import fingerprint

        assert self.app is not None
        jump = self.clock_watch.jumped(clock.now(), time.monotonic())
        if jump is not None:
            log.info(_("the clock jumped by {seconds:+.0f} s (suspend, or a change of time); "
                       "planning again").format(seconds=jump))
            self._schedule_digests()
            self._remind()
            return
        if self._config_stamp() != self._config_mtime:
            self._reload()
            return
        assert self.settings is not None
        today = self.settings.clock.day_of(clock.now())
        if today != self._day:
            # A new study day: a log's planned rows and self-tests may have come due. Only
            # a log whose reading changes with the day is parsed again (srs.importer).
            self._day = today
            self._follow_logs(catch_up=True)
        with self.app.reading() as conn:
            now_print = fingerprint(conn)
        if now_print != self._fingerprint:
            self._fingerprint = now_print
            self._follow_logs(catch_up=False)
            self._remind()

    # --- following the logs --------------------------------------------------------------

    def _follow_logs(self, *, catch_up: bool) -> None:
        """Watch every imported log; at start, import the ones saved while the daemon was away."""
        from srs.reminders import watched_logs

        assert self.app is not None
        with self.app.reading() as conn:
            paths = watched_logs(conn)
        added = self.watcher.follow(paths)
        for path in added:
            self._baselines.setdefault(path, None)
            if catch_up and Path(path).exists():
                self._caught(_("import of {path}").format(path=path),
                             lambda path=path: self._reimport(path))

    def _caught(self, what: str, work: Callable[[], None]) -> None:
        """Run part of a job whose failure must not stop the rest (a log that cannot be
        imported must not hold back the reminder owed): logged, and the job goes on."""
        try:
            work()
        except Exception as err:  # noqa: BLE001 - logged; the rest of the job goes on
            reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
            log.warning(_("{what} failed: {reason}").format(
                what=what, reason=f"{type(err).__name__}: {reason}"))
            log.debug("%s", what, exc_info=True)

    def log_saved(self, path: str) -> None:
        """A followed log was written: import it once the writes have settled (debounce)."""
        self._submit(lambda: self.reimport(path), f"import {path}", self.debounce)

    def reimport(self, path: str) -> None:
        self._guard(_("import of {path}").format(path=path), lambda: self._reimport(path))

    def _reimport(self, path: str) -> None:
        from scheduler.watcher import describe, reimport
        from srs.importer import log_options

        assert self.app is not None and self.settings is not None
        now = clock.now()
        result = reimport(self.app, path, now=now, baseline=self._baselines.get(path),
                          options=log_options(self.config, self.settings.clock.day_of(now)))
        if result.status in ("unreadable", "rejected"):
            log.warning(describe(result))
            return
        self._baselines[path] = result.warnings
        if result.status == "imported":
            log.info(describe(result))
            from srs.reminders import fingerprint

            with self.app.reading() as conn:
                self._fingerprint = fingerprint(conn)
            self._remind()


def release_memory() -> None:
    """Give back to the system the memory a job freed (glibc keeps it otherwise).

    A pass reads thousands of rows and a followed log's bytes, and frees them; glibc's
    allocator keeps freed pages of its per-thread arenas for reuse, so an idle daemon
    would hold the high-water mark of its busiest pass. `malloc_trim` returns them.
    Elsewhere (another C library, another system) this does nothing.
    """
    global _trim
    if _trim is None:
        _trim = _no_trim
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                _trim = ctypes.CDLL(None).malloc_trim
            except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                pass
    _trim(0)


def _no_trim(_pad: int) -> int:
    return 0


_trim: Callable[[int], int] | None = None


def _replayed(result: Rescheduled) -> None:
    """Opening the data replayed every card for another clock: say what moved."""
    if result.moved:
        log.info(ngettext("study days changed: every card replayed, {n} due date moved",
                          "study days changed: every card replayed, {n} due dates moved",
                          result.moved).format(n=result.moved))


def _expected(err: Exception) -> bool:
    """Whether `err` is the kind a job meets in ordinary use (a database locked or away, a
    file gone): logged in one line, without the traceback a bug gets."""
    import sqlite3

    alchemy = sys.modules.get("sqlalchemy.exc")  # loaded only where SQLAlchemy is in use
    return isinstance(err, (SrsError, OSError, sqlite3.Error)) or (
        alchemy is not None and isinstance(err, alchemy.SQLAlchemyError))


def _shown(url: str) -> str:
    from scheduler.files import safe_url

    return safe_url(url)


def detach(log_file: Path) -> None:
    """Leave the starting command behind (the second half of a double fork).

    The parent prints the daemon's pid and exits, so `review daemon start` can wait for
    it and reap it; the child leads a new session, with stdin on /dev/null and stdout and
    stderr on the log file.
    """
    import sys

    from srs.paths import make_private_dir

    make_private_dir(log_file.parent)
    out = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        os._exit(0)
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)
