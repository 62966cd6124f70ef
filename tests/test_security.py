"""No shell anywhere, private files and folders."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = re.compile(r"shell\s*=\s*True|os\.system\(|os\.popen\(|subprocess\.getoutput\(|"
                       r"subprocess\.getstatusoutput\(|\beval\(|\bexec\(")


def test_no_shell_and_no_eval_in_the_code() -> None:
    offenders = []
    for folder in ("srs", "cli", "scheduler", "alembic", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FORBIDDEN.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_config_and_folders_are_private(srs_home: Path, run: Callable[..., Result],
                                                 write_log: Callable[..., Path]) -> None:
    log = write_log("| Topic | Date |\n|---|---|\n| Secrets | 2026-01-02 |\n")
    assert run("import", str(log)).exit_code == 0
    assert run("config", "set", "reminders.command", "/bin/true").exit_code == 0
    assert mode(srs_home / "data" / "srs.db") == 0o600
    assert mode(srs_home / "data") == 0o700
    assert mode(srs_home / "config") == 0o700
    assert mode(srs_home / "config" / "config.toml") == 0o600
