"""Real processes at once on one database, and processes killed half-way: nothing is lost."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest

from srs.clock import DayClock

REVIEW = str(Path(sys.executable).with_name("review"))
CLOCK = DayClock(timezone.utc, 4)  # the shared database's config: UTC, days from 04:00


def big_log(rows: int, extra: str = "") -> str:
    lines = ["# Log", "", "| 章节 | 状态 | 日期 | 自测 |", "|---|---|---|---|"]
    for i in range(rows):
        month, day = 1 + i % 12, 1 + i % 28
        lines.append(f"| Topic {i} 主题{i} | ✅ | 2025-{month:02d}-{day:02d} | "
                     f"✅ 2025-{month:02d}-{day:02d}, 2026-{month:02d}-{day:02d} hard |")
    return "\n".join(lines) + "\n" + extra


def review(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([REVIEW, *args], capture_output=True, text=True, timeout=120,
                          **kwargs)


def consistent(query: Callable[[str], list[tuple[Any, ...]]]) -> list[int]:
    """Cards whose stored state is not the replay of their history."""
    from srs.app import App
    from srs.cardview import card_state
    from srs.engine import Engine, SchedulerSettings
    from srs.schedule import load_histories
    from srs.store import card_rows

    app = App()  # SRS_DATABASE_URL, or the default file
    engine = Engine(SchedulerSettings(fuzz=False), CLOCK)
    try:
        with app.reading() as conn:
            histories = load_histories(conn)
            cards = card_rows(conn, [card_id for (card_id,) in query("SELECT id FROM card")])
    finally:
        app.close()
    return sorted(card_id for card_id, card in cards.items()
                  if card_id in histories and not all(e.plan for e in histories[card_id].events)
                  and engine.replay(card_id, histories[card_id].events) != card_state(card))


@pytest.fixture
def shared_db(db_url: str, srs_home: Path, write_log: Callable[..., Path]) -> Path:
    config = srs_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text('timezone = "UTC"\nfuzz = false\n', encoding="utf-8")
    log = write_log(big_log(40))
    assert review("import", str(log)).returncode == 0
    return log


def test_concurrent_graders_and_an_import_lose_nothing(
        shared_db: Path, write_log: Callable[..., Path],
        query: Callable[[str], list[tuple[Any, ...]]]) -> None:
    """Four processes grade the same few cards while a fifth imports a grown log."""
    workers, grades = 4, 6
    script = (
        "import subprocess, sys\n"
        "failures = 0\n"
        "for n in range(int(sys.argv[2])):\n"
        "    card = 1 + (n % 3)\n"
        "    r = subprocess.run([sys.argv[1], 'grade', str(card), 'good', '--note',\n"
        "                        f'w{sys.argv[3]}-{n}'], capture_output=True, text=True)\n"
        "    if r.returncode != 0 or r.stderr:\n"
        "        print(r.returncode, r.stderr, file=sys.stderr); failures += 1\n"
        "sys.exit(failures)\n"
    )
    grown = write_log(big_log(400), name="grown.md")
    procs = [subprocess.Popen([sys.executable, "-c", script, REVIEW, str(grades), str(w)],
                              stderr=subprocess.PIPE, text=True) for w in range(workers)]
    # A log of its own (it holds the first log's rows too, so it must say so).
    importer = subprocess.Popen([REVIEW, "import", str(grown), "--as-new"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    errors = [p.communicate(timeout=300)[1] for p in procs]
    out, err = importer.communicate(timeout=300)
    assert [p.returncode for p in procs] == [0] * workers, errors
    assert importer.returncode == 0, err
    assert "locked" not in "".join(errors) + err
    notes = query("SELECT note FROM review WHERE source = 'cli'")
    assert sorted(n for (n,) in notes) == sorted(
        f"w{w}-{n}" for w in range(workers) for n in range(grades))
    assert query("SELECT count(*) FROM card") == [(40 + 400,)]
    assert consistent(query) == []


def test_import_killed_half_way_leaves_nothing_and_completes_next_time(
        db_url: str, srs_home: Path, write_log: Callable[..., Path],
        query: Callable[[str], list[tuple[Any, ...]]]) -> None:
    log = write_log(big_log(20000))
    proc = subprocess.Popen([REVIEW, "import", str(log)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    # Kill it once it is writing: the card table exists (schema done) and time has passed.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            if query("SELECT count(*) FROM alembic_version") == [(1,)]:
                time.sleep(1.0)  # the schema appears after parsing; writing takes seconds
                break
        except Exception:  # the schema is not there yet
            continue
    assert proc.poll() is None, "the import finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert query("SELECT count(*) FROM card") == [(0,)]
    assert query("SELECT count(*) FROM review") == [(0,)]
    result = review("import", str(log), "--json")
    assert result.returncode == 0, result.stderr
    assert query("SELECT count(*) FROM card") == [(20000,)]
    if db_url.startswith("sqlite"):
        assert query("PRAGMA integrity_check") == [("ok",)]


def test_grades_killed_at_random_moments_leave_whole_records(
        shared_db: Path, query: Callable[[str], list[tuple[Any, ...]]]) -> None:
    import random

    rng = random.Random(7)
    finished = 0
    for n in range(12):
        proc = subprocess.Popen([REVIEW, "grade", str(1 + n % 4), "hard"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.9))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        finished += proc.returncode == 0
    recorded = query("SELECT count(*) FROM review WHERE source = 'cli'")[0][0]
    assert recorded >= finished
    assert consistent(query) == []
    assert review("grade", "1", "good").returncode == 0
    assert consistent(query) == []
