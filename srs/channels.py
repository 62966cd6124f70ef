"""Delivering a reminder: the log, a desktop notification, a command, apprise URLs.

Every channel has a timeout, so one that hangs cannot hold back the others. A
channel that cannot deliver raises `DeliveryError`; the ledger then retries it. One
that never can as configured (a command that cannot be started at all: missing, not
executable, no executable format, arguments too long) raises `PermanentDeliveryError`,
which the ledger does not retry.

Nothing here runs a shell: topic text reaches a command as plain arguments, the title
and the body, with the reminder as JSON on stdin. An argument the system would refuse
(128 KiB or more in UTF-8, or more than arguments and environment together may hold)
is not passed: the body argument is then empty and the title is cut to its first 1,000
characters; both are always whole in the JSON. The command runs in a process group of
its own; it is delivered when it exits with status 0, and then whatever it left
running in its group is killed, as is the whole group when it outlives the timeout.
Only the first 4 KB of its stderr are kept (the first line is the error's detail).

Apprise URLs hold tokens: the ledger names them `scheme:hash` (`channel_id`), and what
apprise logs is rewritten so no URL, user, password, host or token reaches the log.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import selectors
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from srs.errors import SrsError
from srs.i18n import _

log = logging.getLogger("srs.reminders")

LOG, DESKTOP, COMMAND = "log", "desktop", "command"
BUILTIN = (LOG, DESKTOP, COMMAND)
DEFAULT_TIMEOUT = 20.0
APP_NAME = "srs"


class DeliveryError(SrsError):
    """A reminder that a channel could not deliver."""


class PermanentDeliveryError(DeliveryError):
    """A reminder that a channel can never deliver as configured: trying again cannot help."""


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
    # one line: the body's lines joined by " · ", a topic's own bullet left out
    lines = " · ".join(line.strip().removeprefix("• ") for line in notice.body.splitlines()
                       if line.strip())
    log.info(_("reminder: {title} — {body}").format(title=notice.title, body=lines))


# --- command --------------------------------------------------------------------------------

# Linux refuses any one argument of 32 pages or more (MAX_ARG_STRLEN) with E2BIG.
ARGUMENT_LIMIT = 128 * 1024
TITLE_SHOWN = 1000
STDERR_KEPT = 4096
_READ_SIZE = 64 * 1024
_READS_AT_ONCE = 16
# The program itself cannot be started: trying again cannot help.
_CANNOT_START = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM,
                           errno.ENOEXEC, errno.E2BIG, errno.ENAMETOOLONG, errno.ELOOP})


def send_command(command: str, notice: Notice, timeout: float) -> None:
    """Run `command` with the title and body as two more arguments and the JSON on stdin.

    The command is split like a shell would split words (so a path with spaces can be
    quoted) but no shell ever runs: `$(...)` in a topic is only text. It runs in a
    process group of its own; when it exits, or after `timeout`, the whole group is
    killed. A body too long to be an argument is passed as an empty argument (it is in
    the JSON); a title that long is cut.

    Raises:
        PermanentDeliveryError: the program cannot be started at all.
        DeliveryError: it did not finish in time, or exited with a status other than 0.
    """
    argv = _command_argv(command)
    program = argv[0]
    with tempfile.TemporaryFile() as stdin:
        # A file, not a pipe: a program that never reads its input cannot block us.
        stdin.write(notice.to_json().encode("utf-8"))
        stdin.flush()
        proc = _start(argv, notice, stdin)
        code, errors = _wait(proc, program, timeout)
    if code != 0:
        first = next((line.strip() for line in errors.decode("utf-8", "replace").splitlines()
                      if line.strip()), "")
        reason = f": {first[:200]}" if first else ""
        raise DeliveryError(_("{program} exited with status {code}{reason}").format(
            program=program, code=code, reason=reason))


def _command_argv(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as err:
        raise PermanentDeliveryError(_("cannot read reminders.command {command!r}: {reason}")
                                     .format(command=command, reason=err)) from None
    if not argv:
        raise PermanentDeliveryError(_("the command channel needs a program: "
                                       "review config set reminders.command PROGRAM"))
    return argv


def _fits(argument: str) -> bool:
    return len(os.fsencode(argument)) < ARGUMENT_LIMIT


def _start(argv: list[str], notice: Notice, stdin: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start the program; without the body argument when the arguments are too long."""
    title = notice.title if _fits(notice.title) else notice.title[:TITLE_SHOWN] + "…"
    tries = [[*argv, title, ""]]
    if notice.body and _fits(notice.body):
        # Arguments and environment share one limit, which only exec can tell.
        tries.insert(0, [*argv, title, notice.body])
    for arguments in tries:
        stdin.seek(0)
        try:
            return subprocess.Popen(
                arguments, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                close_fds=True, start_new_session=True)
        except OSError as err:
            if err.errno == errno.E2BIG and arguments is not tries[-1]:
                continue
            failure = PermanentDeliveryError if err.errno in _CANNOT_START else DeliveryError
            raise failure(_("cannot run {program}: {reason}").format(
                program=argv[0], reason=err.strerror or err)) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _wait(proc: subprocess.Popen[bytes], program: str, timeout: float) -> tuple[int, bytes]:
    """Wait for the program itself, keeping the start of its stderr; then end its group.

    A child it leaves behind may hold stderr open for ever, so EOF is never waited for;
    what it writes beyond `STDERR_KEPT` bytes is read and dropped, never held.
    """
    assert proc.stderr is not None
    errors = proc.stderr.fileno()
    os.set_blocking(errors, False)
    kept = bytearray()
    deadline = time.monotonic() + timeout
    exited = _exit_watch(proc.pid)
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(errors, selectors.EVENT_READ)
            if exited is not None:
                selector.register(exited, selectors.EVENT_READ)
            while proc.poll() is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DeliveryError(_("{program} did not finish within {seconds:g} s and "
                                          "was stopped").format(program=program,
                                                                seconds=timeout))
                # Without a pidfd, look at the process now and then.
                wait = left if exited is not None else min(left, 0.05)
                for key, _events in selector.select(wait):
                    if key.fd == errors and not _read_some(errors, kept):
                        selector.unregister(errors)
        _read_some(errors, kept)  # what it wrote before exiting; never wait for EOF
    finally:
        if exited is not None:
            os.close(exited)
        _end_group(proc)
    return proc.returncode, bytes(kept)


def _exit_watch(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits (Linux pidfd), None elsewhere."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _read_some(fd: int, kept: bytearray) -> bool:
    """Read what `fd` has now (at most 1 MB), keeping up to `STDERR_KEPT` bytes; False at EOF."""
    for _turn in range(_READS_AT_ONCE):
        try:
            chunk = os.read(fd, _READ_SIZE)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        kept += chunk[:max(0, STDERR_KEPT - len(kept))]
    return True


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill what is left of the program's process group (it leads its own session)."""
    try:
        # The group keeps its number while any member lives, so this cannot hit another.
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


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

# A URL as it may appear in a log line; trailing punctuation is the sentence's, not the URL's.
_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]{0,15})://[^\s'\"<>]*[^\s'\"<>.,;:)\]}]")
_EDGE = "[A-Za-z0-9]"


def _secret_parts(url: str) -> set[str]:
    """The parts of an apprise URL that may be secret: user, password, host, path, values."""
    rest = url.split("://", 1)[-1]
    rest, _sep, fragment = rest.partition("#")
    rest, _sep, query = rest.partition("?")
    netloc, _sep, path = rest.partition("/")
    userinfo, _sep, hostport = netloc.rpartition("@")
    host, colon, port = hostport.rpartition(":")
    if not (colon and port.isdigit()):
        host = hostport  # no port: what follows a colon is a token (tgram://ID:TOKEN)
    parts = {url, netloc, userinfo, *userinfo.split(":", 1), hostport, host, *host.split(":"),
             *path.split("/"), *(pair.partition("=")[2] for pair in query.split("&")), fragment}
    return {text for part in parts if part for text in (part, unquote(part))}


class _Masking(logging.Filter):
    """Rewrites a library's log lines so no URL, user, password, host or token gets through.

    Installed on the apprise logger (and urllib3's, which logs request paths) for good: a
    delivery that timed out goes on in its thread and may log after we stopped waiting.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._parts: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def remember(self, url: str) -> None:
        with self._lock:
            parts = _secret_parts(url)
            if parts <= self._parts:
                return
            self._parts |= parts
            longest_first = sorted(self._parts, key=len, reverse=True)
            self._pattern = re.compile(
                f"(?<!{_EDGE})(?:{'|'.join(map(re.escape, longest_first))})(?!{_EDGE})",
                re.IGNORECASE)

    def mask(self, text: str) -> str:
        text = _URL.sub(lambda match: channel_id(match[0]), text)
        pattern = self._pattern
        return pattern.sub("***", text) if pattern is not None else text

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        try:
            message = record.getMessage()
        except Exception:  # a library's malformed log call must not fail its delivery
            message = str(record.msg)
        record.msg, record.args = self.mask(message), None
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


_masking = _Masking()
_MASKED_LOGGERS = ("apprise", "urllib3.connectionpool")


def mask_secrets(url: str) -> None:
    """From now on, keep `url` and its parts out of what apprise and urllib3 log."""
    _masking.remember(url)
    for name in _MASKED_LOGGERS:
        library_log = logging.getLogger(name)
        if _masking not in library_log.filters:
            library_log.addFilter(_masking)


def send_apprise(url: str, notice: Notice, timeout: float) -> None:
    """Notify an apprise URL (phone push, e-mail, chat) when the optional package is there."""
    import importlib

    name = channel_id(url)
    try:
        apprise = importlib.import_module("apprise")
    except ImportError:
        raise DeliveryError(_("{channel}: apprise URLs need the optional apprise package "
                              "(pip install 'srs[apprise]')").format(channel=name)) from None
    mask_secrets(url)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            sender = apprise.Apprise()
            if not sender.add(url):
                outcome["error"] = _("apprise does not understand this URL")
                return
            outcome["ok"] = bool(sender.notify(title=notice.title, body=notice.body))
        except Exception as err:  # a third-party failure must not end the daemon
            outcome["error"] = _masking.mask(str(err) or type(err).__name__)

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
