"""One scenario on SQLite and on PostgreSQL gives the same results, to the byte."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result
from freezegun import freeze_time
from postgres import PostgresServer

LOG = """# 日志

## Week 1

| 章节 | 状态 | 日期 | 自测 |
|------|------|------|------|
| 向量 Vectors | ✅ | 2026-10-01 | ✅ 2026-10-04 |
| 矩阵 Matrices | ✅ | 2026-10-02 | ❌ 2026-10-09, 2026-10-20 hard |
| Determinants | ✅ | 2026-10-03 ～ 05 | |
| 自测 矩阵 | ✅ | 2026-11-02 | |
"""


def scenario(run: Callable[..., Result], db: str, log: Path) -> list[Any]:
    """Import, grade, undo, set-due, queue and a reminder pass; every output as JSON."""
    def out(*args: str) -> Any:
        result = run("--db", db, *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout) if "--json" in args else result.stdout

    steps: list[Any] = []
    with freeze_time("2026-11-30 02:30:00") as clock:  # 03:30 in Berlin: still the 29th
        steps.append(out("import", str(log), "--json"))
        steps.append(out("today", "--json"))
        steps.append(out("grade", "1", "good", "--note", "ok", "--json"))
        clock.tick(60)
        steps.append(out("grade", "2", "7/10", "--json"))
        clock.tick(60)
        steps.append(out("undo", "--json"))
        steps.append(out("set-due", "3", "+2d"))
        clock.tick(3600 * 8)
        steps.append(out("today", "--json", "--all"))
        steps.append(out("cards", "--json"))
        steps.extend(out("show", str(card), "--json") for card in (1, 2, 3))
        steps.append(out("forecast", "--days", "5", "--json"))
        steps.append(out("remind", "--dry-run", "--json"))
    return steps


def test_sqlite_and_postgresql_agree(run: Callable[..., Result], write_log: Callable[..., Path],
                                     srs_home: Path, postgres_server: PostgresServer) -> None:
    log = write_log(LOG)
    assert run("config", "set", "timezone", "Europe/Berlin").exit_code == 0
    assert run("config", "set", "reminders.quiet_hours", "").exit_code == 0
    on_sqlite = scenario(run, f"sqlite:///{srs_home / 'data' / 'a.db'}", log)
    on_postgres = scenario(run, postgres_server.new_database(), log)
    for step, (a, b) in enumerate(zip(on_sqlite, on_postgres, strict=True)):
        assert a == b, f"step {step} differs"
    assert on_sqlite[4]["id"] == 2  # the undo took back the second grade
