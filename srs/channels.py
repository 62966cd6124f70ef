"""Delivering a reminder: the log, a desktop notification, a command, apprise URLs.

Every channel has a timeout, so one that hangs cannot hold back the others. A
channel that cannot deliver raises `DeliveryError`; the ledger then retries it.
Nothing here runs a shell: topic text reaches a command as plain arguments.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srs.errors import SrsError
from srs.i18n import _

log = logging.getLogger("srs.reminders")

LOG, DESKTOP, COMMAND = "log", "desktop", "command"
BUILTIN = (LOG, DESKTOP, COMMAND)
DEFAULT_TIMEOUT = 20.0
APP_NAME = "srs"


class DeliveryError(SrsError):
    """A reminder that a channel could not deliver."""


@dataclass(frozen=True)
class Notice:
    """What a channel delivers: a title, a body, and the reminder as JSON for programs."""

    title: str
    body: str
    payload: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps({"title": self.title, "body": self.body, **self.payload},
                          ensure_ascii=False)


def channel_id(spec: str) -> str:
    """The name a channel has in the ledger; an apprise URL (which holds tokens) is hashed."""
    if spec in BUILTIN:
        return spec
    scheme = spec.split("://", 1)[0][:16] or "url"
    return f"{scheme}:{hashlib.sha256(spec.encode()).hexdigest()[:10]}"


class Channels:
    """The configured ways of delivering a reminder."""

    def __init__(self, command: str = "", timeout: float = DEFAULT_TIMEOUT) -> None:
        self.command = command
        self.timeout = timeout

    def send(self, spec: str, notice: Notice) -> str | None:
        """Deliver `notice` on channel `spec`; return a remark, raise DeliveryError on failure."""
        if spec == LOG:
            send_log(notice)
            return None
        if spec == DESKTOP:
            return send_desktop(notice, self.timeout)
        if spec == COMMAND:
            send_command(self.command, notice, self.timeout)
            return None
        if "://" in spec:
            send_apprise(spec, notice, self.timeout)
            return None
        raise DeliveryError(_("unknown channel {channel!r} (use log, desktop, command, or an "
                              "apprise URL)").format(channel=spec))


def send_log(notice: Notice) -> None:
    """Write the reminder to the log (the daemon's log file, or stderr)."""
    lines = " · ".join(line for line in notice.body.splitlines() if line.strip())
    log.info(_("reminder: {title} — {body}").format(title=notice.title, body=lines))


# --- command --------------------------------------------------------------------------------


def send_command(command: str, notice: Notice, timeout: float) -> None:
    """Run `command` with the title and body as two more arguments and the JSON on stdin.

    The command is split like a shell would split words (so a path with spaces can be
    quoted) but no shell ever runs: `$(...)` in a topic is only text.
    """
    try:
        argv = shlex.split(command)
    except ValueError as err:
        raise DeliveryError(_("cannot read reminders.command {command!r}: {reason}").format(
            command=command, reason=err)) from None
    if not argv:
        raise DeliveryError(_("the command channel needs a program: "
                              "review config set reminders.command PROGRAM"))
    program = argv[0]
    try:
        proc = subprocess.Popen(
            [*argv, notice.title, notice.body],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            close_fds=True, start_new_session=True,
        )
    except OSError as err:
        raise DeliveryError(_("cannot run {program}: {reason}").format(
            program=program, reason=err.strerror or err)) from None
    try:
        _out, errors = proc.communicate(notice.to_json().encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise DeliveryError(_("{program} did not finish within {seconds:g} s and was "
                              "stopped").format(program=program, seconds=timeout)) from None
    if proc.returncode != 0:
        first = next((line.strip() for line in errors.decode("utf-8", "replace").splitlines()
                      if line.strip()), "")
        reason = f": {first[:200]}" if first else ""
        raise DeliveryError(_("{program} exited with status {code}{reason}").format(
            program=program, code=proc.returncode, reason=reason))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill a command that hangs, with anything it started (it leads its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    for stream in (proc.stdin, proc.stderr):
        if stream is not None:
            stream.close()


# --- desktop --------------------------------------------------------------------------------


def session_bus_address() -> str | None:
    """The D-Bus session bus to notify on, None when there is none."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address:
        return address
    socket = Path(f"/run/user/{os.getuid()}/bus")
    if socket.exists():
        # Started outside a desktop session (cron, a bare systemd unit): the user's bus
        # is still at its standard place; dbus-fast only looks in the environment.
        address = f"unix:path={socket}"
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
        return address
    return None


def send_desktop(notice: Notice, timeout: float) -> str | None:
    """A notification over the freedesktop Notifications interface (desktop-notifier)."""
    if session_bus_address() is None:
        log.warning(_("no D-Bus session bus for desktop notifications; "
                      "the reminder goes to the log instead"))
        send_log(notice)
        return _("no D-Bus session bus; logged instead")
    import asyncio

    try:
        asyncio.run(asyncio.wait_for(_notify(notice), timeout))
    except TimeoutError:
        raise DeliveryError(_("the desktop notification did not go out within {seconds:g} s")
                            .format(seconds=timeout)) from None
    return None


class _Failures(logging.Handler):
    """Catches why desktop-notifier failed: it logs the error instead of raising it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        self.reasons.append(str(error) if error is not None else record.getMessage())


async def _notify(notice: Notice) -> None:
    from desktop_notifier import DesktopNotifier

    failures = _Failures()
    library_log = logging.getLogger("desktop_notifier")
    library_log.addHandler(failures)
    propagate, library_log.propagate = library_log.propagate, False
    dispatched: list[bool] = []
    notifier = DesktopNotifier(app_name=APP_NAME, app_icon=None)
    try:
        await notifier.send(title=notice.title, message=notice.body,
                            on_dispatched=lambda: dispatched.append(True))
    finally:
        library_log.removeHandler(failures)
        library_log.propagate = propagate
        bus = getattr(notifier._backend, "bus", None)
        if bus is not None:
            bus.disconnect()
            await bus.wait_for_disconnect()
    if not dispatched:
        reason = failures.reasons[-1] if failures.reasons else _("no notification server")
        raise DeliveryError(_("desktop notification failed: {reason}").format(
            reason=reason.splitlines()[0] if reason else reason))


# --- apprise --------------------------------------------------------------------------------


def send_apprise(url: str, notice: Notice, timeout: float) -> None:
    """Notify an apprise URL (phone push, e-mail, chat) when the optional package is there."""
    import importlib

    name = channel_id(url)
    try:
        apprise = importlib.import_module("apprise")
    except ImportError:
        raise DeliveryError(_("{channel}: apprise URLs need the optional apprise package "
                              "(pip install 'srs[apprise]')").format(channel=name)) from None
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            sender = apprise.Apprise()
            if not sender.add(url):
                outcome["error"] = _("apprise does not understand this URL")
                return
            outcome["ok"] = bool(sender.notify(title=notice.title, body=notice.body))
        except Exception as err:  # a third-party failure must not end the daemon
            outcome["error"] = str(err) or type(err).__name__

    thread = threading.Thread(target=work, name="srs-apprise", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise DeliveryError(_("{channel} did not answer within {seconds:g} s").format(
            channel=name, seconds=timeout))
    if "error" in outcome:
        raise DeliveryError(f"{name}: {outcome['error']}")
    if not outcome.get("ok"):
        raise DeliveryError(_("{channel}: apprise could not deliver the reminder").format(
            channel=name))
