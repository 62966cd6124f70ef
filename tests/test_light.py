"""Every command on an up-to-date SQLite file runs without loading SQLAlchemy.

Each command runs as its own process under `python -X importtime`, which names every module
as it is imported; SQLAlchemy (0.25–0.9 s to import here) may appear only where the
database is created or migrated.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LOG = """# 学习日志

## 第一周

| 章节 | 状态 | 日期 | 自测 |
|------|------|------|------|
| 向量 Vectors | ✅ | 2026-10-01 | ✅ 2026-10-04 ✅ 2026-10-12 |
| 矩阵 Matrices | ✅ | 2026-10-02 | ❌ 2026-10-05 |
| 行列式 | ✅ | 2026-10-03 | 2026-10-10 |

## Week 2

| Topic | Status | Date | Self-test |
|---|---|---|---|
| Eigenvalues | done | 2026-11-20 | |
| Probability | done | 2026-11-25 | 2026-11-28 hard |
"""

ROOT = Path(__file__).resolve().parent.parent


def review(home: Path, *args: str, importtime: bool = False,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SRS_HOME": str(home), "TZ": "UTC", "COLUMNS": "100"}
    env.pop("SRS_DATABASE_URL", None)
    flags = ["-X", "importtime"] if importtime else []
    done = subprocess.run([sys.executable, *flags, "-m", "cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, (args, done.stderr[-2000:])
    return done


def imported(stderr: str) -> set[str]:
    """The modules an importtime trace names."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def heavy(stderr: str) -> list[str]:
    return sorted(name for name in imported(stderr)
                  if name.split(".")[0] in {"sqlalchemy", "alembic"})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text('timezone = "UTC"\n', encoding="utf-8")
    log = tmp_path / "log.md"
    log.write_text(LOG, encoding="utf-8")
    first = review(home, "import", str(log), importtime=True)
    # Creating the database is the one time SQLAlchemy and Alembic are loaded.
    assert "sqlalchemy" in {name.split(".")[0] for name in imported(first.stderr)}
    return home


def test_the_trace_sees_sqlalchemy_when_it_is_loaded(home: Path) -> None:
    done = review(home, "--db", f"sqlite:///{home / 'other.db'}", "today", importtime=True)
    assert heavy(done.stderr), "a new database is migrated through SQLAlchemy"


COMMANDS: list[tuple[str, ...]] = [
    ("today",), ("today", "--json"), ("cards",), ("cards", "--json"), ("show", "1"),
    ("show", "1", "--json"), ("grade", "1", "good"), ("undo",), ("set-due", "2", "+3d"),
    ("undo",), ("spread", "--days", "5", "--dry-run"), ("stats",), ("stats", "--json"),
    ("forecast",), ("reminders",), ("remind", "--dry-run"), ("daemon", "status"),
    ("config", "get", "timezone"), ("config", "show"), ("logs",), ("logs", "--json"),
    ("export", "--format", "json"), ("export", "--format", "csv"), ("export", "--format", "ics"),
    ("check",), ("suspend", "3"), ("unsuspend", "3"), ("add", "Topology", "--notes", "open sets"),
    ("merge", "6", "5"), ("undo",), ("optimize",), ("simulate", "--days", "30"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_no_command_loads_sqlalchemy_on_an_up_to_date_sqlite_file(home: Path,
                                                                  args: tuple[str, ...]) -> None:
    done = review(home, *args, importtime=True, check=False)
    assert done.returncode in (0, 1, 3), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert heavy(done.stderr) == [], args


def test_re_import_and_session_do_not_load_sqlalchemy(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "log.md"
    unchanged = review(home, "import", str(log), importtime=True)
    assert heavy(unchanged.stderr) == []
    log.write_text(LOG.replace("| Probability | done | 2026-11-25 | 2026-11-28 hard |",
                               "| Probability | done | 2026-11-25 | 2026-11-28 good |"),
                   encoding="utf-8")
    changed = review(home, "import", str(log), importtime=True)
    assert heavy(changed.stderr) == []
    env = {**os.environ, "SRS_HOME": str(home), "TZ": "UTC"}
    session = subprocess.run([sys.executable, "-X", "importtime", "-m", "cli", "session"],
                             cwd=ROOT, env=env, input="good\n", capture_output=True, text=True,
                             timeout=120)
    assert "Traceback" not in session.stderr
    assert heavy(session.stderr) == []


def test_restore_into_a_new_file_migrates_it_and_nothing_else(home: Path,
                                                             tmp_path: Path) -> None:
    backup = tmp_path / "backup.json"
    backup.write_text(review(home, "export", "--format", "json").stdout, encoding="utf-8")
    assert json.loads(backup.read_text(encoding="utf-8"))
    other = tmp_path / "other"
    (other / "config").mkdir(parents=True)
    (other / "config" / "config.toml").write_text('timezone = "UTC"\n', encoding="utf-8")
    review(other, "restore", str(backup))
    again = review(other, "cards", "--json", importtime=True)
    assert heavy(again.stderr) == []
    assert len(json.loads(again.stdout)) == len(json.loads(review(home, "cards", "--json").stdout))


def test_the_daemon_runs_without_sqlalchemy(home: Path) -> None:
    env = {**os.environ, "SRS_HOME": str(home), "TZ": "UTC"}
    daemon = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "cli", "daemon", "run"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        log = home / "state" / "daemon.log"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and daemon.poll() is None:
            status = review(home, "daemon", "status", "--json", check=False)
            if status.returncode == 0 and json.loads(status.stdout).get("running"):
                break
            time.sleep(0.3)
        assert daemon.poll() is None, log.read_text() if log.exists() else ""
        time.sleep(1.0)  # the first pass: jobs scheduled, the queue read
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            _, stderr = daemon.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            _, stderr = daemon.communicate(timeout=30)
    assert "Traceback" not in stderr
    assert heavy(stderr) == []
