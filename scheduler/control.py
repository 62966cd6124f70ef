"""Starting, stopping and finding the daemon from a command, and its systemd unit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scheduler.files import (
    DaemonError,
    DaemonFiles,
    already_running,
    lock_held,
    lock_holder,
)
from srs.i18n import _

START_TIMEOUT = 20.0
STOP_TIMEOUT = 30.0
LOG_KEEP_BYTES = 1_000_000  # a log larger than this is moved aside to .1 on start
UNIT_NAME = "srs-review.service"


@dataclass(frozen=True)
class Running:
    """What is known of the daemon of one database."""

    running: bool
    pid: int | None
    since: str | None
    # Processes named by the daemon's files that are not the daemon, and so left alone.
    strangers: tuple[str, ...] = ()


def is_daemon_process(pid: int) -> bool:
    """Whether process `pid` runs `review daemon run` (its command line, from /proc)."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(words[i:i + 2] == [b"daemon", b"run"] for i in range(len(words) - 1))


def state(files: DaemonFiles) -> Running:
    """Find the daemon: the process that holds its lock and runs `review daemon run`.

    The pid file is never trusted on its own: a pid in it that is not the daemon, or a
    process holding the lock that is not the daemon, is named in `strangers`.
    """
    strangers: list[str] = []
    holder = lock_holder(files.lock_file)
    pid = holder if holder is not None and is_daemon_process(holder) else None
    if holder is not None and pid is None:
        strangers.append(_("pid {pid} holds {file} but is not the srs daemon; left alone")
                         .format(pid=holder, file=files.lock_file))
    recorded = files.read_pid()
    if recorded is not None and recorded not in (pid, holder) and _alive(recorded):
        strangers.append(_("pid {pid} in {file} is not the srs daemon; left alone").format(
            pid=recorded, file=files.pid_file))
    facts = files.read_state()
    since = facts.get("since") if pid is not None and facts.get("pid") == pid else None
    return Running(pid is not None, pid, str(since) if since else None, tuple(strangers))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _gone(files: DaemonFiles, pid: int) -> bool:
    return lock_holder(files.lock_file) != pid and not _alive(pid)


def _terminate(files: DaemonFiles, pid: int) -> bool:
    """Send SIGTERM to `pid` if it still is the daemon; False when it is not (or is gone).

    Through a pidfd where there is one: the check and the signal then reach the same
    process even if the daemon exits and its pid is reused in between.
    """
    try:
        handle: int | None = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except (AttributeError, OSError):  # not Linux, or a kernel before 5.3
        handle = None
    try:
        if lock_holder(files.lock_file) != pid or not is_daemon_process(pid):
            return False
        if handle is None:
            os.kill(pid, signal.SIGTERM)
        else:
            signal.pidfd_send_signal(handle, signal.SIGTERM)
    except ProcessLookupError:
        return False
    finally:
        if handle is not None:
            os.close(handle)
    return True


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())


def _rotate(log_file: Path) -> None:
    try:
        if log_file.stat().st_size > LOG_KEEP_BYTES:
            os.replace(log_file, log_file.with_name(log_file.name + ".1"))
    except OSError:
        pass


def start(files: DaemonFiles, env: dict[str, str], *, check_every: float | None = None,
          timeout: float = START_TIMEOUT) -> Running:
    """Start `review daemon run` in the background and wait until it holds its lock.

    Args:
        files: the daemon's files (the log file receives its output).
        env: the environment to run it in (SRS_HOME, SRS_DATABASE_URL made absolute).
        check_every: seconds between change checks, None for the default.
        timeout: how long to wait for it to come up.

    Raises:
        DaemonError: one is already running, or the new one did not come up.
    """
    if state(files).running:
        raise already_running(files)
    if lock_held(files.lock_file):
        holder = lock_holder(files.lock_file)
        raise DaemonError(_("{lock} is held by {who}, which is not the srs daemon; the daemon "
                            "cannot start until that process ends").format(
            lock=files.lock_file,
            who=_("pid {pid}").format(pid=holder) if holder else _("another process")))
    from srs.paths import make_private_dir

    make_private_dir(files.state_dir)
    _rotate(files.log_file)
    command = [sys.executable, "-m", "cli", "daemon", "run", "--detach",
               "--log-file", str(files.log_file)]
    if check_every is not None:
        command += ["--check-every", f"{check_every:g}"]
    # The first child forks the daemon, prints its pid and exits: the daemon is then
    # nobody's child here, in a session of its own (a double fork).
    launcher = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)
    if launcher.returncode != 0 or not launcher.stdout.strip().isdigit():
        reason = (launcher.stderr.strip().splitlines() or [_("no output")])[-1]
        raise DaemonError(_("the daemon did not start: {reason}").format(reason=reason))
    pid = int(launcher.stdout.strip())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if files.read_pid() == pid and lock_holder(files.lock_file) == pid:
            return state(files)
        if not _alive(pid):
            break
        time.sleep(0.05)
    tail = _log_tail(files.log_file)
    if _alive(pid):
        raise DaemonError(_("the daemon (pid {pid}) did not come up within {seconds:.0f} s; "
                            "see {log}").format(pid=pid, seconds=timeout, log=files.log_file))
    raise DaemonError(_("the daemon did not start: {reason} (log: {log})").format(
        reason=tail or _("no output"), log=files.log_file))


def stop(files: DaemonFiles, *, timeout: float = STOP_TIMEOUT) -> Running:
    """Send SIGTERM to the daemon and wait until it has exited.

    Returns what was found before the stop (not running: nothing was signalled). A
    process the pid file names that is not the daemon is never signalled.

    Raises:
        DaemonError: it did not exit within `timeout` seconds.
    """
    found = state(files)
    if not found.running or found.pid is None:
        files.remove_running()
        return found
    pid = found.pid
    if not _terminate(files, pid):
        return found
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(files, pid):
            return found
        time.sleep(0.05)
    raise DaemonError(_("the daemon (pid {pid}) did not stop within {seconds:.0f} s").format(
        pid=pid, seconds=timeout))


# --- systemd --------------------------------------------------------------------------------


def unit_path(environ: dict[str, str] | None = None) -> Path:
    """Where the user unit goes: under SRS_HOME when it is set (so tests never touch the
    real home), else the user's systemd folder."""
    env = os.environ if environ is None else environ
    if env.get("SRS_HOME"):
        return Path(env["SRS_HOME"]).expanduser().resolve() / "systemd" / "user" / UNIT_NAME
    config = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user" / UNIT_NAME


def _quote(word: str) -> str:
    if word and all(c.isalnum() or c in "/._-+:@=," for c in word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unit_text(environment: dict[str, str]) -> str:
    """A systemd user unit that runs `review daemon run` (logging to the journal)."""
    script = Path(sys.executable).with_name("review")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cli"]
    lines = [
        "[Unit]",
        "Description=srs: reminders of due self-tests (review daemon run)",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + " ".join(_quote(w) for w in [*command, "daemon", "run"]),
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "RestartSec=10",
    ]
    lines += [f"Environment={_quote(f'{name}={value}')}"
              for name, value in sorted(environment.items())]
    lines += ["", "[Install]", "WantedBy=default.target", ""]
    return "\n".join(lines)


def install(environment: dict[str, str], environ: dict[str, str] | None = None
            ) -> tuple[Path, bool]:
    """Write the unit; returns its path and whether the file changed."""
    path = unit_path(environ)
    text = unit_text(environment)
    try:
        if path.read_text(encoding="utf-8") == text:
            return path, False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # A database URL may carry a password: then the unit is readable by its owner only.
    mode = 0o600 if "SRS_DATABASE_URL" in environment else 0o644
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)
    return path, True


def enable_hint(path: Path) -> str:
    """The command that enables the unit."""
    standard = unit_path({k: v for k, v in os.environ.items() if k != "SRS_HOME"})
    target = UNIT_NAME if path == standard else str(path)
    return f"systemctl --user daemon-reload && systemctl --user enable --now {target}"
