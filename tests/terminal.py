"""The installed `review` run on a real pseudo-terminal of a given size, as a person runs it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

REVIEW = str(Path(sys.executable).with_name("review"))
# What rich itself writes on a terminal: colours and styles (SGR). Anything else that starts
# with ESC, or any other control character, came from somewhere it should not have.
SGR = re.compile(rb"\x1b\[[0-9;]*m")


def home_with(folder: Path, log: str, config: str) -> dict[str, str]:
    """A home under `folder` whose config.toml is `config` and which has imported `log`, as
    the environment of `review` (in UTC, colour allowed)."""
    env = {**os.environ, "SRS_HOME": str(folder / "home"), "TZ": "UTC"}
    env.pop("NO_COLOR", None)
    (folder / "home" / "config").mkdir(parents=True)
    (folder / "home" / "config" / "config.toml").write_text(config, encoding="utf-8")
    path = folder / "log.md"
    path.write_text(log, encoding="utf-8")
    done = subprocess.run([REVIEW, "import", str(path)], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return env


def in_terminal(args: list[str], *, env: dict[str, str], columns: int = 60, rows: int = 50,
                typed: bytes = b"", timeout: float = 60.0) -> tuple[int, bytes]:
    """Run `review ARGS` with a pseudo-terminal as stdin, stdout and stderr.

    Returns the exit status and everything the terminal received (the line discipline's
    CR LF turned back into LF). `typed` is sent as keystrokes once the command starts.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    environment = {**env, "TERM": "xterm-256color", "COLUMNS": str(columns),
                   "LINES": str(rows)}
    environment.pop("NO_COLOR", None)
    proc = subprocess.Popen([REVIEW, *args], stdin=slave, stdout=slave, stderr=slave,
                            env=environment, start_new_session=True, close_fds=True)
    os.close(slave)
    if typed:
        os.write(master, typed)
    received = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                raise TimeoutError(f"review {' '.join(args)} still running after {timeout} s")
            ready, _w, _x = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the last holder of the terminal closed it
                    break
                if not chunk:
                    break
                received += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
    status = proc.wait(timeout=10)
    return status, bytes(received).replace(b"\r\n", b"\n")


def stray_controls(output: bytes) -> list[str]:
    """Control characters and escape sequences in `output` that are not rich's own styles,
    and invisible characters that reorder or hide text."""
    text = SGR.sub(b"", output).decode("utf-8", errors="replace")
    return [f"U+{ord(ch):04X}" for ch in text
            if (ord(ch) < 0x20 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F
            or ch in "\u200b\u200c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067"
                     "\u2068\u2069\ufeff"]
