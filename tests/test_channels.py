"""Delivery: the command channel (never a shell), desktop notifications over a real D-Bus
session bus, the log fallback, apprise, and timeouts."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import resource
import shlex
import socket
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from dbus_helpers import NotificationServer, SessionBus

from srs import channels
from srs.app import App
from srs.channels import Channels, DeliveryError, Notice, PermanentDeliveryError
from srs.clock import DayClock
from srs.reminders import ReminderSettings, effective_channels, ledger, parse_quiet, run_once
from srs.sql import SqlConn

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
def db(tmp_path: Path) -> Iterator[App]:
    app = App(f"sqlite:///{tmp_path / 'channels.db'}")
    yield app
    app.close()


def settings_for(*specs: str) -> ReminderSettings:
    return ReminderSettings(clock=DayClock(UTC, 4), quiet=parse_quiet(""),
                            channels=effective_channels(specs), order="due")


def add_due_card(db: App, topic: str) -> None:
    long_ago = datetime(2026, 10, 1, tzinfo=UTC)

    def work(conn: SqlConn) -> None:
        conn.run("INSERT INTO card (topic, notes, section, learned_on, state, step, stability, "
                 "difficulty, due, last_review, suspended, in_log, created_at, updated_at) "
                 "VALUES (:topic, '', '', :learned_on, 2, NULL, 10.0, 5.0, :due, :at, :no, :no, "
                 ":at, :at)", topic=topic, learned_on=conn.day_value(date(2026, 9, 1)),
                 due=conn.day_value(long_ago.date()), at=conn.stamp(long_ago), no=False)

    db.write(work)


def remind_at_nine(db: App, settings: ReminderSettings, sender: Channels) -> Any:
    return run_once(db, settings, datetime(2026, 11, 30, 9, tzinfo=UTC), sender.send)


def test_shell_metacharacters_in_a_topic_reach_the_command_as_plain_text(
        db: App, tmp_path: Path) -> None:
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
    reminder = json.loads(call["stdin"])
    assert call["argv"] == ["1 self-test due today", reminder["body"]]
    assert reminder["body"].startswith(f"• $(touch {tmp_path}/pwned) `touch ")
    assert reminder["topics"][0]["topic"] == topic
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("pwned")) == []
    assert keep.read_text(encoding="utf-8") == "still here"


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # killed, waiting for its new parent to reap it


def test_a_hanging_command_times_out_and_the_other_channels_still_deliver(
        db: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
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
def test_command_channel_errors_say_what_is_wrong_and_are_not_retried(
        command: str, error: str) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        Channels(command=command).send("command", NOTICE)
    assert str(caught.value) == error


def test_a_command_that_fails_reports_its_status_and_first_error_line(tmp_path: Path) -> None:
    command = python_command(tmp_path, "import sys\nsys.stderr.write('\\nno network\\nmore\\n')\n"
                                       "sys.exit(4)\n")
    with pytest.raises(DeliveryError) as caught:
        Channels(command=command).send("command", NOTICE)
    assert str(caught.value) == f"{sys.executable} exited with status 4: no network"
    assert type(caught.value) is DeliveryError  # it may work next time: retried


LEAVES_A_CHILD_ON_STDERR = """\
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open(sys.argv[1], "w") as out:
    out.write(str(child.pid))
sys.stderr.write("helper started\\n")
"""

HANGS_WITH_ITS_CHILD = """\
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                          "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
with open(sys.argv[1], "w") as out:
    out.write(f"{os.getpid()} {child.pid}")
time.sleep(60)
"""

# 4,092 blank bytes, "kept", then 50 MB with no newline before it: only 4 KB may be read.
FLOODS_STDERR = """\
import sys
err = sys.stderr.buffer
err.write(b"\\n" * 4092 + b"kept")
chunk = b"dropped " * 8192
for _ in range(50 * 1024 * 1024 // len(chunk)):
    err.write(chunk)
err.flush()
sys.exit(3)
"""


def wait_until_gone(*pids: int) -> bool:
    deadline = time.monotonic() + 5
    while not all(map(_gone, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(map(_gone, pids))


def test_a_command_that_exits_0_is_delivered_although_its_child_still_holds_stderr(
        tmp_path: Path) -> None:
    child_pid = tmp_path / "child.pid"
    sender = Channels(command=python_command(tmp_path, LEAVES_A_CHILD_ON_STDERR, child_pid),
                      timeout=10)
    started = time.monotonic()

    assert sender.send("command", NOTICE) is None

    assert time.monotonic() - started < 2  # not the 10 s timeout
    assert wait_until_gone(int(child_pid.read_text()))  # what it left running was ended


def test_a_hanging_command_and_its_hanging_child_are_killed_as_a_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    sender = Channels(command=python_command(tmp_path, HANGS_WITH_ITS_CHILD, pids), timeout=1)
    started = time.monotonic()

    with pytest.raises(DeliveryError) as caught:
        sender.send("command", NOTICE)

    assert time.monotonic() - started < 4
    assert str(caught.value) == f"{sys.executable} did not finish within 1 s and was stopped"
    assert type(caught.value) is DeliveryError
    parent, child = map(int, pids.read_text().split())
    assert wait_until_gone(parent, child)


def _status_kb(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB$", Path("/proc/self/status").read_text(), re.M)
    assert match is not None
    return int(match[1])


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_50_mb_on_stderr_is_read_in_bounded_memory_and_only_the_first_4_kb_kept(
        tmp_path: Path) -> None:
    sender = Channels(command=python_command(tmp_path, FLOODS_STDERR))
    Path("/proc/self/clear_refs").write_text("5")  # start the peak (VmHWM) from here
    before = _status_kb("VmRSS")

    with pytest.raises(DeliveryError) as caught:
        sender.send("command", NOTICE)

    assert _status_kb("VmHWM") - before < 4 * 1024
    assert str(caught.value) == f"{sys.executable} exited with status 3: kept"


def test_a_body_too_long_for_an_argument_reaches_the_command_on_stdin(tmp_path: Path) -> None:
    body = "• Fourier " * 20_000  # 240 KB: over the 128 KiB the system takes in one argument
    out = tmp_path / "out.jsonl"

    Channels(command=python_command(tmp_path, RECORDER, out)).send(
        "command", Notice(NOTICE.title, body, NOTICE.payload))

    [call] = recorded(out)
    assert call["argv"] == [NOTICE.title, ""]
    assert json.loads(call["stdin"]) == {"title": NOTICE.title, "body": body,
                                         "kind": "digest", "due": 2}


def test_a_title_too_long_for_an_argument_is_cut_and_whole_on_stdin(tmp_path: Path) -> None:
    title = "Due now: " + "贝" * 70_000  # 210 KB in UTF-8
    out = tmp_path / "out.jsonl"

    Channels(command=python_command(tmp_path, RECORDER, out)).send(
        "command", Notice(title, "Start with: review session", {"kind": "due"}))

    [call] = recorded(out)
    assert call["argv"] == ["Due now: " + "贝" * 991 + "…", "Start with: review session"]
    assert json.loads(call["stdin"])["title"] == title


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's argument limit")
def test_a_body_the_environment_leaves_no_room_for_goes_on_stdin_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out.jsonl"
    command = python_command(tmp_path, RECORDER, out)
    body = "b" * 100_000  # fits in one argument, but not beside the environment below
    # Linux: argument and environment strings, with their pointers, share stack limit / 4.
    stack, _hard = resource.getrlimit(resource.RLIMIT_STACK)
    limit = 6 << 20 if stack == resource.RLIM_INFINITY else max(min(stack // 4, 6 << 20),
                                                                 128 << 10)
    argv = [*shlex.split(command), NOTICE.title]
    used = sum(len(os.fsencode(a)) + 9 for a in [sys.executable, *argv]) + sum(
        len(k) + len(v) + 10 for k, v in os.environb.items())
    room = limit - used - 32_000  # what to fill, leaving 32 KB: less than the body
    for n in range(room // 100_020 + 1):
        size = min(100_000, room - n * 100_020)
        if size > 0:
            monkeypatch.setenv(f"SRS_FILLER_{n}", "e" * size)

    Channels(command=command).send("command", Notice(NOTICE.title, body, {}))

    [call] = recorded(out)
    assert call["argv"] == [NOTICE.title, ""]
    assert json.loads(call["stdin"])["body"] == body


NOT_A_PROGRAM = "this is text, not a program\n"


@pytest.mark.parametrize(("make", "reason"), [
    ("missing", "No such file or directory"),
    ("not on PATH", "No such file or directory"),
    ("no exec format", "Exec format error"),
    ("not executable", "Permission denied"),
    ("arguments too long", "Argument list too long"),
])
def test_a_command_that_cannot_be_started_is_a_permanent_error(
        tmp_path: Path, make: str, reason: str) -> None:
    program = tmp_path / "notifier"
    command = shlex.quote(str(program))
    if make == "not on PATH":
        command = program.name
    elif make == "no exec format":
        program.write_text(NOT_A_PROGRAM)
        program.chmod(0o755)
    elif make == "not executable":
        program.write_text(NOT_A_PROGRAM)
        program.chmod(0o644)
    elif make == "arguments too long":
        command = f"{program} " + "a" * 200_000
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)

    with pytest.raises(PermanentDeliveryError) as caught:
        Channels(command=command).send("command", NOTICE)

    assert str(caught.value) == f"cannot run {shlex.split(command)[0]}: {reason}"


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
        db: App, notification_server: NotificationServer) -> None:
    add_due_card(db, "Fourier series")

    report = remind_at_nine(db, settings_for("desktop"), Channels())

    assert [(o.channel, o.status) for o in report.outcomes] == [("log", "sent"),
                                                                 ("desktop", "sent")]
    assert [(c.app_name, c.summary, c.body) for c in notification_server.calls] == [
        ("srs", "1 self-test due today", "• Fourier series\nStart with: review session")]


def test_desktop_without_a_notification_server_fails_and_is_retried(
        db: App, session_bus: SessionBus) -> None:
    add_due_card(db, "Fourier series")

    report = remind_at_nine(db, settings_for("desktop"), Channels())

    [log, desktop] = report.outcomes
    assert (desktop.channel, desktop.status) == ("desktop", "failed")
    assert desktop.detail == ("desktop notification failed: The name "
                              "org.freedesktop.Notifications was not provided by any .service "
                              "files")
    with db.reading() as conn:
        [row] = [r for r in ledger(conn) if r.channel == "desktop"]
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
        ("INFO", "reminder: 2 self-tests due today — Fourier series · 贝叶斯定理"),
    ]


# --- apprise and unknown channels -----------------------------------------------------------


def test_apprise_urls_need_the_optional_package_and_are_never_shown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # as if it were not installed
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


@pytest.fixture(scope="module")
def apprise_loaded() -> None:
    """Load apprise's plugins once, letting through the one warning that is not ours."""
    import apprise

    with warnings.catch_warnings():
        # Its PGP support imports imghdr, deprecated by Python 3.11 (apprise/utils/pgp.py).
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        apprise.Apprise().add("json://localhost/")


@pytest.fixture
def json_server(apprise_loaded: None, monkeypatch: pytest.MonkeyPatch
                ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A small HTTP server on the loopback that records what is POSTed to it."""
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    received: list[dict[str, Any]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append({"path": self.path, "auth": self.headers.get("Authorization"),
                             "json": json.loads(self.rfile.read(length))})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_reminder_reaches_an_apprise_json_url(
        db: App, json_server: tuple[int, list[dict[str, Any]]]) -> None:
    port, received = json_server
    url = f"json://127.0.0.1:{port}/"
    add_due_card(db, "Fourier series")

    report = remind_at_nine(db, settings_for(url), Channels(timeout=10))

    assert [(o.channel, o.status) for o in report.outcomes] == [
        ("log", "sent"), (channels.channel_id(url), "sent")]
    assert received == [{"path": "/", "auth": None, "json": {
        "version": "1.0", "title": "1 self-test due today",
        "message": "• Fourier series\nStart with: review session",
        "attachments": [], "type": "info"}}]


SECRETS = ("alice", "s3cret", "127.0.0.1", "chat98765", "tok3n")


def library_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records
            if r.name.split(".")[0] in ("apprise", "urllib3")]


def test_apprise_log_lines_carry_no_user_password_host_or_token(
        json_server: tuple[int, list[dict[str, Any]]],
        caplog: pytest.LogCaptureFixture) -> None:
    port, received = json_server
    url = f"json://alice:s3cret@127.0.0.1:{port}/chat98765?token=tok3n"
    caplog.set_level(logging.DEBUG)

    assert Channels(timeout=10).send(url, NOTICE) is None

    [request] = received
    assert (request["path"], request["auth"]) == (
        "/chat98765", "Basic " + base64.b64encode(b"alice:s3cret").decode())
    assert request["json"]["title"] == NOTICE.title
    lines = library_lines(caplog)
    posted = channels.channel_id(f"http://127.0.0.1:{port}/chat98765")
    assert f"JSON POST URL: {posted} (cert_verify=True) " in lines
    assert [s for s in SECRETS for line in lines if s in line.lower()] == []


def test_an_apprise_url_that_fails_logs_and_reports_no_secret(
        apprise_loaded: None, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as closed:  # a loopback port where nothing listens
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"json://alice:s3cret@127.0.0.1:{port}/chat98765?token=tok3n"
    caplog.set_level(logging.INFO)

    with pytest.raises(DeliveryError) as caught:
        Channels(timeout=10).send(url, NOTICE)

    assert str(caught.value) == (f"{channels.channel_id(url)}: apprise could not deliver the "
                                 "reminder")
    lines = library_lines(caplog)
    assert "A Connection error occurred sending JSON notification to ***. " in lines
    assert [s for s in SECRETS for line in lines if s in line.lower()] == []
