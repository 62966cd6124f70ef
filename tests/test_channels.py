"""Delivery: the command channel (never a shell), desktop notifications over a real D-Bus
session bus, the log fallback, apprise, and timeouts."""

from __future__ import annotations

import json
import logging
import shlex
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from dbus_helpers import NotificationServer, SessionBus

from srs import channels
from srs.channels import Channels, DeliveryError, Notice
from srs.clock import DayClock
from srs.db import Database, open_database
from srs.engine import Engine, SchedulerSettings
from srs.models import Card, Reminder
from srs.reminders import ReminderSettings, effective_channels, parse_quiet, run_once

UTC = timezone.utc
NOTICE = Notice("2 self-tests due today", "• Fourier series\n• 贝叶斯定理",
                {"kind": "digest", "due": 2})

RECORDER = """\
import json, sys
with open(sys.argv[1], "a", encoding="utf-8") as out:
    out.write(json.dumps({"argv": sys.argv[2:], "stdin": sys.stdin.read()}) + "\\n")
"""

HANGS = """\
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open(sys.argv[1], "w") as out:
    out.write(str(child.pid))
time.sleep(60)
"""


def python_command(tmp_path: Path, source: str, *args: Path) -> str:
    script = tmp_path / "channel.py"
    script.write_text(source, encoding="utf-8")
    return shlex.join([sys.executable, str(script), *map(str, args)])


def recorded(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- command --------------------------------------------------------------------------------


def test_command_gets_title_and_body_as_arguments_and_the_reminder_on_stdin(
        tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    command = python_command(tmp_path, RECORDER, out)

    assert Channels(command=command).send("command", NOTICE) is None

    [call] = recorded(out)
    assert call["argv"] == ["2 self-tests due today", "• Fourier series\n• 贝叶斯定理"]
    assert json.loads(call["stdin"]) == {"title": "2 self-tests due today",
                                         "body": "• Fourier series\n• 贝叶斯定理",
                                         "kind": "digest", "due": 2}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'channels.db'}")
    yield database
    database.close()


CLOCK = DayClock(UTC, 4)


def settings_for(*specs: str) -> ReminderSettings:
    return ReminderSettings(clock=DayClock(UTC, 4), quiet=parse_quiet(""),
                            channels=effective_channels(specs), order="due")


def add_due_card(db: Database, topic: str) -> None:
    long_ago = datetime(2026, 10, 1, tzinfo=UTC)

    def work(session: Any) -> None:
        session.add(Card(topic=topic, notes="", section="", learned_on=date(2026, 9, 1), state=2,
                         step=None, stability=10.0, difficulty=5.0, due=long_ago.date(),
                         last_review=long_ago, suspended=False, in_log=False,
                         created_at=long_ago, updated_at=long_ago))

    db.write(work)


def remind_at_nine(db: Database, settings: ReminderSettings, sender: Channels) -> Any:
    engine = Engine(SchedulerSettings(fuzz=False), CLOCK)
    return run_once(db, settings, lambda _s: engine, datetime(2026, 11, 30, 9, tzinfo=UTC),
                    sender.send)


def test_shell_metacharacters_in_a_topic_reach_the_command_as_plain_text(
        db: Database, tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.write_text("still here", encoding="utf-8")
    topic = (f"$(touch {tmp_path}/pwned) `touch {tmp_path}/pwned2`; rm -f {keep} "
             f"| echo x > {tmp_path}/pwned3 && ${{HOME}} '\"")
    add_due_card(db, topic)
    out = tmp_path / "out.jsonl"
    sender = Channels(command=python_command(tmp_path, RECORDER, out))

    report = remind_at_nine(db, settings_for("command"), sender)

    assert [(o.channel, o.status) for o in report.outcomes] == [("log", "sent"),
                                                                 ("command", "sent")]
    [call] = recorded(out)
    assert call["argv"] == ["1 self-test due today", f"• {topic}\nStart with: review session"]
    assert json.loads(call["stdin"])["topics"][0]["topic"] == topic
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("pwned")) == []
    assert keep.read_text(encoding="utf-8") == "still here"


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # killed, waiting for its new parent to reap it


def test_a_hanging_command_times_out_and_the_other_channels_still_deliver(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(channels, "session_bus_address", lambda: None)
    add_due_card(db, "Fourier series")
    child_pid = tmp_path / "child.pid"
    sender = Channels(command=python_command(tmp_path, HANGS, child_pid), timeout=2)
    started = time.monotonic()

    with caplog.at_level(logging.INFO, logger="srs.reminders"):
        report = remind_at_nine(db, settings_for("command", "desktop"), sender)

    assert time.monotonic() - started < 10
    assert [(o.channel, o.status, o.detail) for o in report.outcomes] == [
        ("log", "sent", None),
        ("command", "failed", f"{sys.executable} did not finish within 2 s and was stopped"),
        ("desktop", "sent", "no D-Bus session bus; logged instead"),
    ]
    # What the command started was stopped with it.
    pid = int(child_pid.read_text())
    deadline = time.monotonic() + 5
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)
    assert "digest reminder on command failed (attempt 1)" in caplog.text


@pytest.mark.parametrize(("command", "error"), [
    ("", "the command channel needs a program: review config set reminders.command PROGRAM"),
    ("'unclosed", "cannot read reminders.command \"'unclosed\": No closing quotation"),
    ("/no/such/program --flag", "cannot run /no/such/program: No such file or directory"),
])
def test_command_channel_errors_say_what_is_wrong(command: str, error: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        Channels(command=command).send("command", NOTICE)
    assert str(caught.value) == error


def test_a_command_that_fails_reports_its_status_and_first_error_line(tmp_path: Path) -> None:
    command = python_command(tmp_path, "import sys\nsys.stderr.write('\\nno network\\nmore\\n')\n"
                                       "sys.exit(4)\n")
    with pytest.raises(DeliveryError) as caught:
        Channels(command=command).send("command", NOTICE)
    assert str(caught.value) == f"{sys.executable} exited with status 4: no network"


# --- desktop --------------------------------------------------------------------------------


@pytest.fixture
def session_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionBus]:
    folder = tmp_path / "dbus"
    folder.mkdir()
    bus = SessionBus(folder)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    yield bus
    bus.stop()


@pytest.fixture
def notification_server(session_bus: SessionBus) -> Iterator[NotificationServer]:
    server = NotificationServer(session_bus.address)
    yield server
    server.stop()


def test_desktop_notification_reaches_a_notification_server_on_the_session_bus(
        db: Database, notification_server: NotificationServer) -> None:
    add_due_card(db, "Fourier series")

    report = remind_at_nine(db, settings_for("desktop"), Channels())

    assert [(o.channel, o.status) for o in report.outcomes] == [("log", "sent"),
                                                                 ("desktop", "sent")]
    assert [(c.app_name, c.summary, c.body) for c in notification_server.calls] == [
        ("srs", "1 self-test due today", "• Fourier series\nStart with: review session")]


def test_desktop_without_a_notification_server_fails_and_is_retried(
        db: Database, session_bus: SessionBus) -> None:
    add_due_card(db, "Fourier series")

    report = remind_at_nine(db, settings_for("desktop"), Channels())

    [log, desktop] = report.outcomes
    assert (desktop.channel, desktop.status) == ("desktop", "failed")
    assert desktop.detail == ("desktop notification failed: The name "
                              "org.freedesktop.Notifications was not provided by any .service "
                              "files")
    with db.reading() as session:
        row = session.query(Reminder).filter_by(channel="desktop").one()
    assert row.retry_at == datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC)


def test_a_notification_server_that_hangs_times_out(session_bus: SessionBus) -> None:
    server = NotificationServer(session_bus.address, hang=True)
    try:
        started = time.monotonic()
        with pytest.raises(DeliveryError) as caught:
            Channels(timeout=1).send("desktop", NOTICE)
        assert time.monotonic() - started < 5
        assert server.interface.received.is_set()
    finally:
        server.stop()
    assert str(caught.value) == "the desktop notification did not go out within 1 s"


def test_desktop_without_a_session_bus_falls_back_to_the_log(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(channels, "session_bus_address", lambda: None)
    with caplog.at_level(logging.INFO, logger="srs.reminders"):
        remark = Channels().send("desktop", NOTICE)
    assert remark == "no D-Bus session bus; logged instead"
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "no D-Bus session bus for desktop notifications; the reminder goes to "
                    "the log instead"),
        ("INFO", "reminder: 2 self-tests due today — • Fourier series · • 贝叶斯定理"),
    ]


# --- apprise and unknown channels -----------------------------------------------------------


def test_apprise_urls_need_the_optional_package_and_are_never_shown() -> None:
    try:
        import apprise  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("apprise is installed here")
    url = "tgram://123456:secret-token/987"
    with pytest.raises(DeliveryError) as caught:
        Channels().send(url, NOTICE)
    message = str(caught.value)
    assert message == (f"{channels.channel_id(url)}: apprise URLs need the optional apprise "
                       "package (pip install 'srs[apprise]')")
    assert "secret" not in message


def test_an_unknown_channel_is_an_error() -> None:
    with pytest.raises(DeliveryError) as caught:
        Channels().send("pigeon", NOTICE)
    assert str(caught.value) == ("unknown channel 'pigeon' (use log, desktop, command, or an "
                                 "apprise URL)")
