"""The daemon: its triggers (through get_next_fire_time), its fault handling, and real
daemon processes started, reported on, stopped and restarted the way a person would."""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import time as clock_time
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from freezegun import freeze_time

from scheduler.daemon import ClockWatch, Daemon
from scheduler.files import daemon_files
from scheduler.triggers import check_trigger, digest_trigger, wake_trigger
from srs.clock import DayClock
from srs.errors import DatabaseError
from srs.paths import user_paths
from srs.reminders import ReminderSettings, digest_slots, ledger

UTC = timezone.utc
ROOT = Path(__file__).resolve().parent.parent


# --- triggers -------------------------------------------------------------------------------


def fire_times(trigger: Any, start: datetime, count: int) -> list[datetime]:
    times, previous, now = [], None, start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        times.append(fire.astimezone(UTC))
        previous = now = fire
    return times


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(("zone", "start", "expected"), [
    # Berlin moves to summer time on 29 March 2026: 09:00 is 08:00 UTC, then 07:00 UTC.
    ("Europe/Berlin", "2026-03-27T12:00+00:00",
     ["2026-03-28T08:00+00:00", "2026-03-29T07:00+00:00", "2026-03-30T07:00+00:00"]),
    ("Europe/Berlin", "2026-10-24T12:00+00:00",
     ["2026-10-25T08:00+00:00", "2026-10-26T08:00+00:00"]),
    # New York: summer time from 8 March, back on 1 November.
    ("America/New_York", "2026-03-07T15:00+00:00",
     ["2026-03-08T13:00+00:00", "2026-03-09T13:00+00:00"]),
    ("America/New_York", "2026-10-31T15:00+00:00",
     ["2026-11-01T14:00+00:00", "2026-11-02T14:00+00:00"]),
])
def test_the_digest_trigger_keeps_local_time_across_daylight_saving(
        zone: str, start: str, expected: list[str]) -> None:
    trigger = digest_trigger(time(9), ZoneInfo(zone))
    assert fire_times(trigger, utc(start), len(expected)) == [utc(t) for t in expected]


@pytest.mark.parametrize(("zone", "when", "day"), [
    ("Europe/Berlin", time(2, 30), "2026-03-29"),  # skipped hour
    ("Europe/Berlin", time(2, 30), "2026-10-25"),  # repeated hour
    ("America/New_York", time(2, 30), "2026-03-08"),
    ("America/New_York", time(1, 30), "2026-11-01"),
    ("Asia/Shanghai", time(9), "2026-11-30"),
])
def test_the_trigger_first_fires_at_the_digest_time_reminders_owe(
        zone: str, when: time, day: str) -> None:
    tz = ZoneInfo(zone)
    settings = ReminderSettings(clock=DayClock(tz, 0), digest_at=(when,))
    local_day = datetime.fromisoformat(day).date()
    [slot] = digest_slots(local_day, settings)
    start = datetime.combine(local_day, time(0), tzinfo=tz) - timedelta(minutes=1)
    assert fire_times(digest_trigger(when, tz), start, 1) == [slot.at]


def test_the_wake_and_check_triggers_carry_the_zone() -> None:
    tz = ZoneInfo("Europe/Berlin")
    wake = wake_trigger(utc("2026-11-30T13:10+00:00"), tz)
    assert wake.get_next_fire_time(None, utc("2026-11-30T13:00+00:00")) == datetime(
        2026, 11, 30, 14, 10, tzinfo=tz)
    check = check_trigger(30, tz)
    assert check.timezone == tz
    first = utc("2026-11-30T13:00+00:00")
    assert check.get_next_fire_time(first, first) == first + timedelta(seconds=30)


def test_status_names_the_next_digest_across_a_daylight_saving_change(
        run: Callable[..., Result]) -> None:
    assert run("config", "set", "timezone", "Europe/Berlin").exit_code == 0
    with freeze_time("2026-03-28 12:00:00"):
        result = run("daemon", "status", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["next"] == {"kind": "digest",
                                                 "at": "2026-03-29T09:00:00+02:00"}
    assert run("config", "set", "timezone", "America/New_York").exit_code == 0
    with freeze_time("2026-10-31 15:00:00"):
        result = run("daemon", "status", "--json")
    assert json.loads(result.stdout)["next"] == {"kind": "digest",
                                                 "at": "2026-11-01T09:00:00-05:00"}


# --- faults ---------------------------------------------------------------------------------


def test_a_clock_jump_is_told_from_a_late_wake_up() -> None:
    watch = ClockWatch(threshold=20)
    start = utc("2026-11-30T09:00+00:00")
    assert watch.jumped(start, 100.0) is None
    assert watch.jumped(start + timedelta(seconds=31), 131.0) is None  # a late job: no jump
    assert watch.jumped(start + timedelta(hours=8, seconds=61), 161.0) == 28800.0  # suspend
    assert watch.jumped(start + timedelta(hours=7, seconds=91), 191.0) == -3600.0  # set back


class FakeScheduler:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, Any]] = []

    def add_job(self, func: Any, trigger: Any, *, id: str, name: str,
                replace_existing: bool) -> None:
        self.jobs.append((id, trigger))


def test_a_locked_database_is_logged_and_retried_without_ending_the_daemon(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    paths = user_paths()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    daemon = Daemon(paths, url, daemon_files(paths, url))
    daemon.settings = ReminderSettings(clock=DayClock(UTC, 4))
    daemon.scheduler = FakeScheduler()

    def busy() -> None:
        raise DatabaseError("database x stayed busy for 30 s; nothing was written, try again")

    with caplog.at_level(logging.WARNING, logger="srs.daemon"):
        daemon._guard("reminder pass", busy)
        daemon._guard("reminder pass", busy)
        daemon._guard("reminder pass", lambda: None)

    assert [r.getMessage() for r in caplog.records] == [
        "reminder pass failed: database x stayed busy for 30 s; nothing was written, try again;"
        " trying again in 5 s",
        "reminder pass failed: database x stayed busy for 30 s; nothing was written, try again;"
        " trying again in 10 s",
    ]
    assert [job for job, _trigger in daemon.scheduler.jobs] == ["retry", "retry"]
    assert daemon._failures == 0


def test_a_clock_jump_plans_again_and_catches_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = user_paths()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    daemon = Daemon(paths, url, daemon_files(paths, url))
    daemon.app = object()  # type: ignore[assignment]
    calls: list[str] = []
    monkeypatch.setattr(daemon, "_schedule_digests", lambda: calls.append("digests"))
    monkeypatch.setattr(daemon, "_remind", lambda: calls.append("remind"))
    readings = iter([(utc("2026-11-30T09:00+00:00"), 10.0),
                     (utc("2026-11-30T17:00+00:00"), 40.0)])
    monkeypatch.setattr("scheduler.daemon.clock.now", lambda: current[0])
    monkeypatch.setattr("scheduler.daemon.time.monotonic", lambda: current[1])
    current = next(readings)
    daemon.clock_watch.jumped(*current)
    current = next(readings)

    daemon._check()

    assert calls == ["digests", "remind"]


def test_stopping_waits_for_a_running_pass_that_plans_its_next_wake_up(tmp_path: Path) -> None:
    import threading

    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    paths = user_paths()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    daemon = Daemon(paths, url, daemon_files(paths, url))
    daemon.settings = ReminderSettings(clock=DayClock(UTC, 4))
    daemon.scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1)},
                                           timezone=UTC)
    daemon.scheduler.start()
    working, finish, planned = threading.Event(), threading.Event(), threading.Event()

    def a_pass() -> None:
        working.set()
        finish.wait(10)
        daemon.scheduler.add_job(print, wake_trigger(utc("2030-01-01T00:00+00:00"), UTC),
                                 id="wake", replace_existing=True)
        planned.set()

    daemon.scheduler.add_job(lambda: daemon._guard("pass", a_pass), id="pass")
    assert working.wait(10)
    # APScheduler drops a one-off job from its store just after handing it to the executor;
    # on a loaded machine the pass can start first. Stop only once the store is settled.
    deadline = clock_time.monotonic() + 10
    while daemon.scheduler.get_job("pass") is not None and clock_time.monotonic() < deadline:
        clock_time.sleep(0.01)
    stopper = threading.Thread(target=daemon._shutdown)
    stopper.start()
    clock_time.sleep(0.2)  # the stop has begun while the pass still works
    finish.set()
    stopper.join(10)

    assert not stopper.is_alive() and planned.is_set()


# --- real daemon processes ------------------------------------------------------------------

RECORDER = """\
import json, sys
with open(sys.argv[1], "a", encoding="utf-8") as out:
    out.write(json.dumps({"argv": sys.argv[2:], "stdin": json.loads(sys.stdin.read())},
                         ensure_ascii=False) + "\\n")
"""

LOG = """\
# Study log

| Topic | Status | Date |
|---|---|---|
| Fourier series | done | 2025-01-10 |
| Laplace transform | done | 2025-01-11 |
| Z-transform | todo | |
"""


def network_sockets(pid: int) -> list[str]:
    """The TCP and UDP sockets (any state, so also listening ones) a process holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and fields[9] in inodes:
                found.append(f"{table} {fields[1]}")
    return found


def wait_for(condition: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = clock_time.monotonic() + timeout
    while clock_time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        clock_time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s")


class Home:
    """An SRS_HOME for real `review` processes."""

    def __init__(self, root: Path, db_url: str | None = None) -> None:
        self.root = root
        self.env = dict(os.environ, SRS_HOME=str(root), TZ="UTC")
        self.env.pop("SRS_DATABASE_URL", None)
        self.env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        if db_url:
            self.env["SRS_DATABASE_URL"] = db_url

    def review(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)

    def ok(self, *args: str) -> str:
        result = self.review(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def state_files(self, suffix: str) -> list[Path]:
        return sorted((self.root / "state").glob(f"daemon*{suffix}"))

    def log_text(self) -> str:
        return "".join(p.read_text(encoding="utf-8") for p in self.state_files(".log"))

    def configure(self, outbox: Path | None, **settings: Any) -> None:
        """Write config.toml (nested as in the file), sending reminders to `outbox`."""
        import tomli_w

        table = json.loads(json.dumps(settings))
        if outbox is not None:
            script = self.root.parent / "recorder.py"
            script.write_text(RECORDER, encoding="utf-8")
            reminders = table.setdefault("reminders", {})
            reminders.setdefault("channels", ["command"])
            reminders.setdefault("command",
                                 shlex.join([sys.executable, str(script), str(outbox)]))
        config = self.root / "config" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(tomli_w.dumps(table), encoding="utf-8")

    def topics(self) -> list[str]:
        """The cards' topics, read straight from the database (no process per look)."""
        import sqlite3
        from contextlib import closing

        path = self.env.get("SRS_DATABASE_URL", "").removeprefix("sqlite:///") \
            or str(self.root / "data" / "srs.db")
        with closing(sqlite3.connect(path)) as conn:
            return [row[0] for row in conn.execute("SELECT topic FROM card ORDER BY id")]

    def kill_daemons(self) -> list[int]:
        """Stop what this home started, by pid: SIGTERM, then SIGKILL; the pids that
        needed SIGKILL."""
        killed = []
        for pid_file in self.state_files(".pid"):
            try:
                pid = int(pid_file.read_text())
            except (OSError, ValueError):
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = clock_time.monotonic() + 10
            while clock_time.monotonic() < deadline and _alive(pid):
                clock_time.sleep(0.05)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        return killed


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.fixture
def homes(tmp_path: Path) -> Iterator[Callable[..., Home]]:
    made: list[Home] = []

    def make(name: str = "home", db_url: str | None = None) -> Home:
        home = Home(tmp_path / name, db_url)
        made.append(home)
        return home

    yield make
    killed = [pid for home in made for pid in home.kill_daemons()]
    assert killed == [], "a daemon did not stop on SIGTERM within 10 s"



def digest_passed_settings() -> dict[str, Any]:
    """Settings under which today's digest time passed two minutes ago (read off the real
    clock: a daemon subprocess cannot be frozen), with the day boundary twelve hours away."""
    now = datetime.now(UTC)
    return {"timezone": "UTC", "day_starts_at": (now.hour + 12) % 24,
            "reminders": {"digest_at": [(now - timedelta(minutes=2)).strftime("%H:%M")],
                          "quiet_hours": ""},
            "order": "log"}


def outbox_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0])


def test_daemon_start_sends_one_catch_up_digest_and_a_restart_sends_nothing(
        homes: Callable[..., Home], tmp_path: Path) -> None:
    home = homes()
    outbox = tmp_path / "outbox.jsonl"
    settings = digest_passed_settings()
    home.configure(outbox, **settings)
    log = tmp_path / "log.md"
    log.write_text(LOG, encoding="utf-8")
    home.ok("import", str(log))

    started = clock_time.monotonic()
    out = home.ok("daemon", "start", "--check-every", "1")
    assert clock_time.monotonic() - started < 10
    pid = int(out.split("pid ")[1].split(")")[0])
    assert out == f"daemon started (pid {pid}); log: {home.root / 'state' / 'daemon.log'}\n"

    [sent] = wait_for(lambda: outbox_lines(outbox), 15)
    assert sent["argv"] == ["2 self-tests due today",
                            "• Fourier series\n• Laplace transform\n"
                            f"(the {settings['reminders']['digest_at'][0]} digest, "
                            "sent late)\nStart with: review session"]
    assert (sent["stdin"]["kind"], sent["stdin"]["catch_up"], sent["stdin"]["due"]) == (
        "digest", True, 2)

    status = home.review("daemon", "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert (report["running"], report["pid"], report["channels"]) == (
        True, pid, ["log", "command"])
    assert (report["last_sent"]["kind"], report["last_sent"]["channel"]) == ("digest", "command")
    assert report["next"]["kind"] == "digest"
    assert rss_kib(pid) < 40 * 1024  # the idle daemon's budget (README: performance)
    assert network_sockets(pid) == []

    second = home.review("daemon", "start")
    assert second.returncode == 1
    assert second.stderr.startswith(
        f"Error: a daemon is already running for this database (pid {pid}, since ")

    assert home.ok("daemon", "stop") == f"daemon stopped (pid {pid})\n"
    assert not _alive(pid)
    stopped = home.review("daemon", "status")
    assert stopped.returncode == 3
    assert stopped.stdout.startswith("daemon: not running")
    assert home.state_files(".pid") == []

    out = home.ok("daemon", "start", "--check-every", "1")
    wait_for(lambda: "daemon started" in home.log_text().split("daemon stopped")[-1], 10)
    clock_time.sleep(2.5)  # a startup pass and two change checks
    home.ok("daemon", "stop")
    assert len(outbox_lines(outbox)) == 1
    ledger = json.loads(home.ok("reminders", "--json"))
    assert sorted((r["channel"], r["status"], r["attempts"]) for r in ledger) == [
        ("command", "sent", 1), ("log", "sent", 1)]


def test_two_daemons_on_one_database_send_one_reminder(
        homes: Callable[..., Home], tmp_path: Path) -> None:
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    outbox = tmp_path / "outbox.jsonl"
    first, second = homes("laptop", shared), homes("desktop", shared)
    settings = digest_passed_settings()
    for home in (first, second):
        home.configure(outbox, **settings)
    log = tmp_path / "log.md"
    log.write_text(LOG, encoding="utf-8")
    first.ok("import", str(log))

    starts = [subprocess.Popen([sys.executable, "-m", "cli", "daemon", "start",
                                "--check-every", "1"], env=home.env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for home in (first, second)]
    for start in starts:
        out, err = start.communicate(timeout=60)
        assert start.returncode == 0, err

    wait_for(lambda: outbox_lines(outbox), 15)
    clock_time.sleep(3)  # both have made their startup pass and a few checks
    assert len(outbox_lines(outbox)) == 1
    for home in (first, second):
        assert home.review("daemon", "status").returncode == 0
    ledger = json.loads(first.ok("reminders", "--json"))
    assert sorted((r["kind"], r["channel"], r["status"]) for r in ledger) == [
        ("digest", "command", "sent"), ("digest", "log", "sent")]
    claimed_by = {line for home in (first, second) for line in home.log_text().splitlines()
                  if "digest reminder sent on command" in line}
    assert len(claimed_by) == 1


def test_a_row_saved_to_a_followed_log_becomes_a_card_and_a_bad_save_is_kept_out(
        homes: Callable[..., Home], tmp_path: Path) -> None:
    home = homes()
    home.configure(None, timezone="UTC", reminders={"quiet_hours": ""})
    log = tmp_path / "log.md"
    log.write_text(LOG, encoding="utf-8")
    home.ok("import", str(log))
    home.ok("daemon", "start", "--check-every", "1")
    wait_for(lambda: "daemon started" in home.log_text(), 10)

    topics = home.topics
    with log.open("a", encoding="utf-8") as out:
        out.write("| Convolution | done | 2026-11-29 |\n")
    wait_for(lambda: "Convolution" in topics(), 15)

    # Half a row: a date being typed. Logged with its line; the database keeps the last good.
    text = log.read_text(encoding="utf-8")
    log.write_text(text + "| Residues | done | 2026-11- |\n", encoding="utf-8")
    wait_for(lambda: "kept the last good import" in home.log_text(), 15)
    assert f"{log}:9: cannot read date '2026-11-'" in home.log_text()
    assert "Residues" not in topics()
    log.write_text(text + "| Residues | done | 2026-11-30 |\n", encoding="utf-8")
    wait_for(lambda: "Residues" in topics(), 15)
    assert topics() == ["Fourier series", "Laplace transform", "Convolution", "Residues"]


def test_a_change_made_by_a_command_is_noticed_and_a_set_due_card_reminded(
        homes: Callable[..., Home], tmp_path: Path) -> None:
    home = homes()
    outbox = tmp_path / "outbox.jsonl"
    settings = digest_passed_settings()
    home.configure(outbox, **settings)
    # today's study day: before the day's start hour it is still yesterday's date
    today = (datetime.now(UTC) - timedelta(hours=settings["day_starts_at"])).date()
    log = tmp_path / "log.md"
    log.write_text(LOG.replace("| Z-transform | todo | |", f"| Z-transform | done | {today} |"),
                   encoding="utf-8")
    home.ok("import", str(log))
    home.ok("daemon", "start", "--check-every", "1")
    wait_for(lambda: outbox_lines(outbox), 15)  # the digest (Z-transform is not due today)
    [card] = [c for c in json.loads(home.ok("cards", "--json")) if c["topic"] == "Z-transform"]

    home.ok("set-due", str(card["id"]), "+0d")

    lines = wait_for(lambda: outbox_lines(outbox)[1:], 15)
    assert [line["argv"][0] for line in lines] == ["Due now: Z-transform"]
    assert lines[0]["stdin"]["topics"][0]["id"] == card["id"]

    # SIGHUP reloads the settings, as does saving config.toml.
    pid = int(home.state_files(".pid")[0].read_text())
    os.kill(pid, signal.SIGHUP)
    wait_for(lambda: home.log_text().count("settings reloaded") == 1, 10)
    home.ok("config", "set", "reminders.digest_at", "23:59")
    wait_for(lambda: home.log_text().count("settings reloaded") == 2, 10)
    assert _alive(pid)
    # SIGTERM while a pass may still be running: it finishes, then the daemon exits.
    home.ok("config", "set", "reminders.digest_at", "23:58")
    clock_time.sleep(1)
    assert home.ok("daemon", "stop") == f"daemon stopped (pid {pid})\n"
    assert home.log_text().rstrip().endswith("daemon stopped")


# --- the commands in process ----------------------------------------------------------------


def test_status_and_stop_when_no_daemon_runs(run: Callable[..., Result],
                                             srs_home: Path) -> None:
    with freeze_time("2026-11-30 12:00:00"):
        result = run("daemon", "status", "--json")
        human = run("daemon", "status")
    assert result.exit_code == 3
    assert json.loads(result.stdout) == {
        "running": False, "pid": None, "since": None,
        "database": f"sqlite:///{srs_home / 'data' / 'srs.db'}",
        "log_file": str(srs_home / "state" / "daemon.log"),
        "next": {"kind": "digest", "at": "2026-12-01T09:00:00+00:00"},
        "last_sent": None, "channels": ["log"]}
    assert human.exit_code == 3
    assert human.stdout == (
        "daemon: not running (start it with 'review daemon start')\n"
        f"database: sqlite:///{srs_home / 'data' / 'srs.db'}\n"
        f"log: {srs_home / 'state' / 'daemon.log'}\n"
        "next reminder: digest at 12-01 09:00\n"
        "last sent: nothing yet\n"
        "channels: log\n")
    stop = run("daemon", "stop")
    assert (stop.exit_code, stop.stdout) == (0, "no daemon is running for this database\n")


def test_another_database_has_its_own_daemon_files(srs_home: Path, tmp_path: Path) -> None:
    paths = user_paths()
    assert daemon_files(paths, f"sqlite:///{paths.default_db}").stem == "daemon"
    other = daemon_files(paths, f"sqlite:///{tmp_path / 'other.db'}")
    assert other.stem.startswith("daemon-") and len(other.stem) == len("daemon-") + 10
    assert other == daemon_files(paths, f"sqlite:///{tmp_path / '.' / 'other.db'}")


def test_install_writes_a_user_unit_under_srs_home(run: Callable[..., Result],
                                                   srs_home: Path) -> None:
    result = run("daemon", "install")
    unit = srs_home.resolve() / "systemd" / "user" / "srs-review.service"
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"wrote {unit}\nenable and start it with:\n"
        f"    systemctl --user daemon-reload && systemctl --user enable --now {unit}\n")
    text = unit.read_text(encoding="utf-8")
    assert "\nExecStart=" in text and text.split("ExecStart=")[1].split("\n")[0].endswith(
        " daemon run")
    assert f"\nEnvironment=SRS_HOME={srs_home.resolve()}\n" in text
    assert "\nExecReload=/bin/kill -HUP $MAINPID\n" in text
    assert text.endswith("[Install]\nWantedBy=default.target\n")
    assert run("daemon", "install").stdout.startswith(f"{unit} is up to date\n")


class FollowAll:
    """A log watcher that follows every log it is given, without watching files."""

    def follow(self, followed: list[str]) -> list[str]:
        return list(followed)


def daemon_on_a_log(tmp_path: Path, srs_home: Path, config_text: str,
                    log_text: str) -> tuple[Daemon, Path]:
    """A daemon (not started) on a fresh database, its settings loaded, following a log."""
    config = srs_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(config_text, encoding="utf-8")
    log_file = tmp_path / "log.md"
    log_file.write_text(log_text, encoding="utf-8")
    paths = user_paths()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    daemon = Daemon(paths, url, daemon_files(paths, url))
    daemon._load_settings()
    daemon._new_app()
    daemon.watcher = FollowAll()  # type: ignore[assignment]
    return daemon, log_file


def test_a_new_study_day_imports_the_rows_a_followed_log_planned_for_it(
        tmp_path: Path, srs_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row dated tomorrow is a plan today; the first change check of tomorrow imports it,
    with no save of the file in between."""
    daemon, log_file = daemon_on_a_log(
        tmp_path, srs_home, 'timezone = "UTC"\n',
        "| Topic | Date |\n|---|---|\n| Sets | 2026-11-30 |\n| Maps | 2026-12-01 |\n")
    monkeypatch.setattr(daemon, "_remind", lambda: None)
    monkeypatch.setattr(daemon.clock_watch, "jumped", lambda *_args: None)

    def topics() -> list[str]:
        assert daemon.app is not None
        with daemon.app.reading() as conn:
            return [topic for (topic,) in conn.all("SELECT topic FROM card ORDER BY id")]

    with freeze_time("2026-11-30 12:00"):
        daemon.reimport(str(log_file))
        daemon._day = daemon.settings.clock.day_of(datetime.now(UTC))  # type: ignore[union-attr]
        daemon.check()
        assert topics() == ["Sets"]
    with freeze_time("2026-12-01 04:00:01"):  # a new study day; the file is as it was
        daemon.check()
        assert topics() == ["Sets", "Maps"]
    daemon.app.close()


def test_a_changed_day_start_in_config_toml_replays_every_card_in_the_running_daemon(
        tmp_path: Path, srs_home: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """config.toml edited by hand while the daemon runs: the change check reloads, and the
    data is opened anew with the new study days, which replays every card once."""
    from srs.grading import grade

    daemon, log_file = daemon_on_a_log(
        tmp_path, srs_home, 'timezone = "UTC"\nfuzz = false\n',
        "| Topic | Date | Self-test |\n|---|---|---|\n| One | 2026-11-01 | 2026-11-05 |\n"
        "| Two | 2026-11-20 | |\n")
    monkeypatch.setattr(daemon, "_remind", lambda: None)
    monkeypatch.setattr(daemon, "_schedule_digests", lambda: None)
    monkeypatch.setattr(daemon.clock_watch, "jumped", lambda *_args: None)
    first = daemon.app
    assert first is not None and daemon.settings is not None

    def dues() -> list[str]:
        assert daemon.app is not None
        with daemon.app.reading() as conn:
            return [str(conn.day(due)) for (due,) in conn.all("SELECT due FROM card ORDER BY id")]

    with freeze_time("2026-11-24 12:00"):
        daemon._reimport(str(log_file))
        # 02:30 is the study day before while days start at 04:00, its own day at 00:00.
        first.write(lambda conn: grade(conn, 2, 3, engine=first.engine(conn), clock=first.clock,
                                       now=datetime(2026, 11, 24, 2, 30, tzinfo=UTC)))
        before = dues()
        daemon._day = daemon.settings.clock.day_of(datetime.now(UTC))
        config = srs_home / "config" / "config.toml"
        config.write_text('timezone = "UTC"\nfuzz = false\nday_starts_at = 0\n',
                          encoding="utf-8")
        os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))
        with caplog.at_level(logging.INFO, logger="srs.daemon"):
            daemon.check()
        after = dues()
        daemon.check()  # the new clock is the stored one now: nothing more is replayed

    assert daemon.app is not first and daemon.app.clock.day_starts_at == 0
    assert after[0] == before[0] and after[1] != before[1]
    assert [r.getMessage() for r in caplog.records] == [
        "settings reloaded", "study days changed: every card replayed, 1 due date moved"]
    daemon.app.close()


# --- which process is the daemon ------------------------------------------------------------


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process that is not the daemon (`sleep 60`), ended by its pid afterwards."""
    proc = subprocess.Popen(["sleep", "60"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def daemon_pid(start_output: str) -> int:
    return int(start_output.split("pid ")[1].split(")")[0])


def stop_by_pid(pid: int) -> None:
    """End a daemon this test started, should the command under test have failed to."""
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not _alive(pid), 10)


def test_a_pid_file_naming_another_process_leaves_it_alone(
        homes: Callable[..., Home], sleeper: subprocess.Popen[bytes]) -> None:
    home = homes()
    pid_file = home.root / "state" / "daemon.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(f"{sleeper.pid}\n")
    stranger = f"pid {sleeper.pid} in {pid_file} is not the srs daemon; left alone\n"

    status = home.review("daemon", "status")
    assert (status.returncode, status.stderr) == (3, stranger)
    assert status.stdout.startswith("daemon: not running (start it with 'review daemon start')\n")
    report = home.review("daemon", "status", "--json")
    assert (report.returncode, report.stderr) == (3, stranger)
    assert (json.loads(report.stdout)["running"], json.loads(report.stdout)["pid"]) == (
        False, None)

    stop = home.review("daemon", "stop")
    assert (stop.returncode, stop.stdout, stop.stderr) == (
        0, "no daemon is running for this database\n", stranger)
    clock_time.sleep(0.2)
    assert sleeper.poll() is None  # still sleeping: no signal reached it
    assert not pid_file.exists()  # the stale pid file is cleared, the process left alone


def test_a_process_holding_the_lock_that_is_not_the_daemon_is_left_alone(
        homes: Callable[..., Home]) -> None:
    home = homes()
    lock_file = home.root / "state" / "daemon.lock"
    lock_file.parent.mkdir(parents=True)
    with subprocess.Popen(
            [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'w'); "
             "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
             str(lock_file)], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
            stranger = (f"pid {holder.pid} holds {lock_file} but is not the srs daemon; "
                        "left alone\n")
            status = home.review("daemon", "status")
            assert (status.returncode, status.stderr) == (3, stranger)
            stop = home.review("daemon", "stop")
            assert (stop.returncode, stop.stdout, stop.stderr) == (
                0, "no daemon is running for this database\n", stranger)
            start = home.review("daemon", "start")
            assert (start.returncode, start.stderr) == (
                1, f"Error: {lock_file} is held by pid {holder.pid}, which is not the srs "
                   "daemon; the daemon cannot start until that process ends\n")
            assert holder.poll() is None
        finally:
            holder.kill()


@pytest.mark.parametrize("pid_file_now", ["deleted", "a stranger's pid", "-1", "not a number"])
def test_stop_finds_the_daemon_by_its_lock_whatever_the_pid_file_says(
        homes: Callable[..., Home], sleeper: subprocess.Popen[bytes], pid_file_now: str) -> None:
    home = homes()
    home.configure(None, timezone="UTC")
    pid = daemon_pid(home.ok("daemon", "start"))
    try:
        pid_file = home.root / "state" / "daemon.pid"
        assert pid_file.read_text() == f"{pid}\n"
        stranger = ""
        if pid_file_now == "deleted":
            pid_file.unlink()
        elif pid_file_now == "a stranger's pid":
            pid_file.write_text(f"{sleeper.pid}\n")
            stranger = f"pid {sleeper.pid} in {pid_file} is not the srs daemon; left alone\n"
        else:
            pid_file.write_text(f"{pid_file_now}\n")

        status = home.review("daemon", "status")
        assert (status.returncode, status.stderr) == (0, stranger)
        assert status.stdout.startswith(f"daemon: running (pid {pid}, since ")
        stop = home.review("daemon", "stop")
        assert (stop.returncode, stop.stdout, stop.stderr) == (
            0, f"daemon stopped (pid {pid})\n", stranger)
        assert not _alive(pid)
        assert sleeper.poll() is None
        assert home.review("daemon", "status").returncode == 3
    finally:
        stop_by_pid(pid)


def test_the_daemon_works_in_the_root_folder_not_the_one_it_was_started_from(
        homes: Callable[..., Home], tmp_path: Path) -> None:
    home = homes()
    home.configure(None, timezone="UTC")
    started_in = tmp_path / "project"
    started_in.mkdir()
    start = subprocess.run([sys.executable, "-m", "cli", "daemon", "start"], env=home.env,
                           cwd=started_in, capture_output=True, text=True, timeout=60)
    assert start.returncode == 0, start.stderr
    pid = daemon_pid(start.stdout)
    try:
        assert os.readlink(f"/proc/{pid}/cwd") == "/"
        assert home.ok("daemon", "stop") == f"daemon stopped (pid {pid})\n"
    finally:
        stop_by_pid(pid)


def test_start_up_sends_the_owed_digest_past_a_log_that_fails_and_a_card_that_is_broken(
        tmp_path: Path, srs_home: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A followed log whose import raises (any exception) and a card whose stored state is
    unusable are logged by name; the catch-up digest still goes out, with every due card."""
    import json
    import sqlite3

    daemon, log_file = daemon_on_a_log(
        tmp_path, srs_home, 'timezone = "UTC"\n[reminders]\nquiet_hours = ""\n',
        "| Topic | Date |\n|---|---|\n| Sets | 2026-11-01 |\n| Maps | 2026-11-02 |\n")

    class Scheduler(FakeScheduler):
        def get_job(self, job_id: str) -> None:
            return None

    daemon.scheduler = Scheduler()
    with freeze_time("2026-11-20 08:00"):
        daemon._reimport(str(log_file))
    with sqlite3.connect(tmp_path / "x.db") as conn:
        conn.execute("UPDATE card SET stability = 0 WHERE topic = 'Maps'")

    def broken(path: str) -> None:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(daemon, "_reimport", broken)
    monkeypatch.setattr(daemon.clock_watch, "jumped", lambda *_args: None)
    with caplog.at_level(logging.WARNING), freeze_time("2026-11-30 10:00"):
        daemon.startup()
    messages = [r.getMessage() for r in caplog.records]
    assert f"import of {log_file} failed: OverflowError: date value out of range" in messages
    assert any(m.startswith("card 2: stored state unusable") for m in messages), messages
    assert daemon.app is not None
    with daemon.app.reading() as conn:
        [sent] = ledger(conn)
    assert (sent.kind, sent.status) == ("digest", "sent")
    assert [t["topic"] for t in json.loads(sent.payload)["topics"]] == ["Maps", "Sets"]
    daemon.app.close()
