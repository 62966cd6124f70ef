"""The benchmark: every command at the seed's scale, srs beside Anki's engine on logs of
1,000, 10,000 and 100,000 rows, and the targets of issues 7 and 13 in one table.

    python -m benchmarks.run                 # everything (what `make bench` runs)
    python -m benchmarks.run --quick         # a smoke run of every step, in a few minutes
    python -m benchmarks.run --sizes 1000,10000 --daemon-seconds 10

Every figure is the median of several runs (the count is in the JSON). Whole-process
figures time the real `review` command from start to exit; in-process figures time one
call inside an already open database or collection (see benchmarks/inproc.py). A ratio
compares two figures of the same run, measured in alternating pairs where the issue
asks for a ratio (a command beside `review today`), so both see the same machine.
Everything happens under a temporary SRS_HOME with `timezone = UTC`; nothing touches the
real home. A command that does not exist yet is shown as "not available", one that fails
as "failed", and the run goes on. Prints the machine and one table, and writes
benchmarks/results/latest.json (quick.json with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import LogStats, generate  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
PYTHON = sys.executable
REVIEW = str(Path(PYTHON).parent / "review")
SIZES = (1_000, 10_000, 100_000)
OPTIMIZE_REVIEWS = 50_000
SEED = 7
# The log the project started from, beside the checkout; a generated log of its size
# stands in for it where it is missing.
SEED_LOG = ROOT.parent / "shared" / "seed" / "progress-log.md"
SEED_ROWS = 45
# The size the absolute targets of issues 7 and 13 are set for.
TARGET_SIZE = 100_000
MISSING_MARKS = ("No such command", "No module named 'cli.", "No module named 'scheduler")


# --- results ------------------------------------------------------------------------------


@dataclass
class Measure:
    """One row of the table: our figure and, where there is one, Anki's."""

    key: str
    label: str
    size: int | None
    unit: str = "s"
    ours: list[float] = field(default_factory=list)
    anki: list[float] = field(default_factory=list)
    status: str = "ok"  # ok | not available | failed | skipped
    note: str = ""
    target: str = ""
    passed: bool | None = None
    ratio: float | None = None
    versus: str = ""  # what the ratio compares with, when it is not Anki
    peak_rss_mb: float | None = None  # of the measured process, for whole-process figures
    reference: list[float] = field(default_factory=list)  # another of ours, same run

    @property
    def ours_median(self) -> float | None:
        return statistics.median(self.ours) if self.ours and self.status == "ok" else None

    @property
    def anki_median(self) -> float | None:
        return statistics.median(self.anki) if self.anki else None

    @property
    def reference_median(self) -> float | None:
        return statistics.median(self.reference) if self.reference else None

    @property
    def verdict(self) -> str:
        """meets / misses for a judged target, the status when the figure is missing."""
        if self.passed is not None:
            return "meets" if self.passed else "misses"
        if self.target and self.status != "ok":
            return self.status
        return "—"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "size": self.size, "unit": self.unit,
            "status": self.status, "ours": self.ours_median, "ours_runs": self.ours,
            "anki": self.anki_median, "anki_runs": self.anki, "ratio": self.ratio,
            "versus": self.versus or ("anki" if self.anki else None), "target": self.target,
            "passed": self.passed, "verdict": self.verdict, "note": self.note,
            "peak_rss_mb": self.peak_rss_mb, "reference": self.reference_median,
            "reference_runs": self.reference or None,
        }


class Unavailable(Exception):
    """The command is not there (yet)."""


class CommandFailed(Exception):
    """The command ran and failed."""


@dataclass
class Bench:
    """The state of one benchmark run."""

    work: Path
    runs: int
    quick: bool
    daemon_seconds: float
    anki: bool
    seed_log: Path | None = None
    measures: list[Measure] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, measure: Measure) -> Measure:
        self.measures.append(measure)
        return measure

    def find(self, key: str, size: int | None) -> Measure | None:
        for measure in self.measures:
            if measure.key == key and measure.size == size:
                return measure
        return None


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- running things -----------------------------------------------------------------------


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SRS_DATABASE_URL",)}
    env.update(SRS_HOME=str(home), COLUMNS="120", PYTHONDONTWRITEBYTECODE="1")
    return env


# Starts the measured process and times it. On Linux a child's peak resident memory starts
# at its parent's when it execs, so a command started straight from this (large) process
# would report at least this process's memory; started from this small one, it reports its
# own. The wall time is taken here too, without the launcher's own start.
LAUNCHER = """
import json, os, sys, time
out, args = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.posix_spawnp(args[0], args, os.environ)
_pid, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - t0
with open(out, "w") as fh:
    json.dump({"elapsed": elapsed, "maxrss_kb": usage.ru_maxrss}, fh)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_once(args: list[str], env: dict[str, str] | None = None,
             stdin: str | None = None, ok: tuple[int, ...] = (0,)
             ) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run a process to its end; its wall time and result. Raises Unavailable or CommandFailed.

    `ok`: the exit statuses that mean success (`daemon status` says 3 when none runs).
    The process's own peak resident memory is `PEAK_RSS_MB[-1]` after the call.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as figures:
        proc = subprocess.Popen([PYTHON, "-I", "-S", "-c", LAUNCHER, figures.name, *args],
                                env=env, cwd=ROOT, stdout=out, stderr=err,
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        returncode = proc.wait()
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(args, returncode,
                                           out.read().decode(errors="replace"),
                                           err.read().decode(errors="replace"))
        try:
            measured = json.loads(Path(figures.name).read_text() or "{}")
        except (OSError, ValueError):
            measured = {}
    if "elapsed" not in measured:
        raise CommandFailed(f"not started: {done.stderr.strip()[-300:]}")
    PEAK_RSS_MB.append(measured["maxrss_kb"] / 1024)
    if done.returncode not in ok:
        text = done.stderr.strip()
        if any(mark in text for mark in MISSING_MARKS):
            raise Unavailable(text.splitlines()[-1] if text else "missing")
        tail = " | ".join(text.splitlines()[-3:]) or done.stdout.strip()[-200:]
        raise CommandFailed(f"exit {done.returncode}: {tail}")
    return float(measured["elapsed"]), done


PEAK_RSS_MB: list[float] = []


def review(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_once([REVIEW, *args], env_for(home))[1]


def _failure(measure: Measure, err: Exception) -> None:
    if isinstance(err, Unavailable):
        measure.status, measure.note = "not available", str(err)[:160]
    else:
        measure.status, measure.note = "failed", str(err)[:300]


def _record_rss(measure: Measure, before: int) -> None:
    if len(PEAK_RSS_MB) > before:
        measure.peak_rss_mb = max(measure.peak_rss_mb or 0.0, PEAK_RSS_MB[-1])


def repeat(measure: Measure, runs: int, budget: float, once: Callable[[], float]) -> None:
    """Call `once()` (returning seconds) up to `runs` times, stopping early past `budget` s."""
    started = time.perf_counter()
    try:
        for _ in range(runs):
            before = len(PEAK_RSS_MB)
            measure.ours.append(once())
            _record_rss(measure, before)
            if time.perf_counter() - started > budget:
                break
    except (Unavailable, CommandFailed) as err:
        _failure(measure, err)
    if measure.status == "ok" and len(measure.ours) < runs:
        measure.note = (measure.note + f" {len(measure.ours)} run(s): time budget").strip()


def paired(measure: Measure, runs: int, budget: float, reference: Callable[[], float],
           once: Callable[[], float]) -> None:
    """Time `once()` and `reference()` in alternating pairs (the order swapped every pair),
    into `measure.ours` and `measure.reference`: a ratio of the two sees the same machine."""
    started = time.perf_counter()
    try:
        for run in range(runs):
            if run % 2:
                measure.reference.append(reference())
            before = len(PEAK_RSS_MB)
            measure.ours.append(once())
            _record_rss(measure, before)
            if not run % 2:
                measure.reference.append(reference())
            if time.perf_counter() - started > budget:
                break
    except (Unavailable, CommandFailed) as err:
        _failure(measure, err)
    if measure.status == "ok" and len(measure.ours) < runs:
        measure.note = (measure.note + f" {len(measure.ours)} pair(s): time budget").strip()


def worker(*args: str) -> dict[str, Any]:
    """Run a benchmarks.inproc worker and read its JSON."""
    _elapsed, done = run_once([PYTHON, "-m", "benchmarks.inproc", *args], os.environ.copy())
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def fresh_home(path: Path) -> Path:
    """An empty SRS_HOME with timezone UTC."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    review(path, "config", "set", "timezone", "UTC")
    return path


def copy_home(src: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


# --- the steps ----------------------------------------------------------------------------


def compile_sources(bench: Bench) -> None:
    """Byte-compile the project's sources first (not timed): the measured processes do not
    write bytecode, so a module edited since its last compile would otherwise be compiled
    again in every run, a cost no installed copy pays."""
    folders = [str(ROOT / name) for name in ("srs", "cli", "scheduler")]
    try:
        run_once([PYTHON, "-m", "compileall", "-q", *folders])
    except (Unavailable, CommandFailed) as err:
        log(f"compileall: {err}")


def step_floor(bench: Bench) -> None:
    floor = bench.add(Measure("floor", 'floor: python -c "import sqlite3"', None))
    repeat(floor, 10, 20, lambda: run_once([PYTHON, "-c", "import sqlite3"])[0])
    home = fresh_home(bench.work / "empty")
    start = bench.add(Measure("cli.start", "review --version (click start-up)", None))
    repeat(start, 5, 20, lambda: run_once([REVIEW, "--version"], env_for(home))[0])

# The commands of issue 13 at the seed's scale, each beside `review today`. "mutates": run
# on a fresh copy of the database each time (the copy not timed); "undo" undoes a grade
# made on that copy first (not timed either).
SEED_COMMANDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("cards", ("cards",), ""),
    ("show", ("show", "{id}"), ""),
    ("grade", ("grade", "{id}", "good"), "mutates"),
    ("undo", ("undo",), "undo"),
    ("set-due", ("set-due", "{id}", "+3d"), "mutates"),
    ("spread", ("spread", "--days", "7", "--dry-run"), ""),
    ("stats", ("stats",), ""),
    ("forecast", ("forecast",), ""),
    ("reminders", ("reminders",), ""),
    ("remind", ("remind", "--dry-run"), ""),
    ("daemon-status", ("daemon", "status"), ""),
    ("config-get", ("config", "get", "timezone"), ""),
    ("logs", ("logs",), ""),
)


def _seed_log(bench: Bench) -> tuple[Path, str]:
    """The seed log, or a generated log of its size where it is missing; and which it is."""
    if bench.seed_log is not None and bench.seed_log.is_file():
        return bench.seed_log, str(bench.seed_log)
    path = bench.work / "seed" / "seed-sized-log.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    text, stats = generate(SEED_ROWS, seed=SEED, years=0.5)
    path.write_text(text, encoding="utf-8")
    return path, f"generated, {stats.rows} rows (no {bench.seed_log})"


def _card_to_use(home: Path) -> int | None:
    """A card to show, grade and move: the most overdue one."""
    try:
        con = sqlite3.connect(home / "data" / "srs.db")
        try:
            row = con.execute("SELECT id FROM card WHERE merged_into IS NULL AND suspended = 0 "
                              "ORDER BY due, id LIMIT 1").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return int(row[0]) if row else None


def step_seed(bench: Bench) -> Path | None:
    """Every command at the seed's scale, whole process, each in pairs with `review today`;
    `review today` itself in pairs with `python -c pass`. The imported home."""
    log_file, origin = _seed_log(bench)
    home = fresh_home(bench.work / "seed" / "home")
    bench.info["seed_log"] = origin
    runs = 3 if bench.quick else 7
    budget = 30.0 if bench.quick else 90.0
    try:
        run_once([REVIEW, "import", str(log_file)], env_for(home))
    except (Unavailable, CommandFailed) as err:
        log(f"seed log not imported: {err}")
        row = bench.add(Measure("seed.today", "review today (seed)", None))
        _failure(row, err)
        return None
    con = sqlite3.connect(home / "data" / "srs.db")
    (cards,) = con.execute("SELECT count(*) FROM card").fetchone()
    con.close()
    bench.info["seed_cards"] = cards
    env = env_for(home)

    def today() -> float:
        return run_once([REVIEW, "today"], env)[0]

    try:
        today()  # a warm start for the pairs: the database and the modules in the page cache
    except (Unavailable, CommandFailed) as err:
        log(f"seed: review today failed: {err}")

    floor = bench.add(Measure("seed.today", "review today (seed)", cards))
    paired(floor, runs * 2 if not bench.quick else runs, budget,
           lambda: run_once([PYTHON, "-c", "pass"])[0], today)
    log(f"seed: {cards} cards from {origin}; today {fmt(floor.ours_median, 's')}, "
        f"python -c pass {fmt(floor.reference_median, 's')}")
    card_id = _card_to_use(home)
    scratch = bench.work / "seed" / "scratch"
    for name, template, kind in SEED_COMMANDS:
        args = [a.replace("{id}", str(card_id)) for a in template]
        label = "review " + " ".join(template).replace("{id}", "ID")
        measure = bench.add(Measure(f"seed.{name}", f"{label} (seed)", cards))
        if card_id is None and "{id}" in template:
            measure.status, measure.note = "skipped", "no card in the seed database"
            continue
        ok = (0, 3) if name == "daemon-status" else (0,)

        def once(args: list[str] = args, kind: str = kind, ok: tuple[int, ...] = ok) -> float:
            target = home
            if kind:
                target = copy_home(home, scratch)
                if kind == "undo":
                    run_once([REVIEW, "grade", str(card_id), "good"], env_for(target))
            return run_once([REVIEW, *args], env_for(target), ok=ok)[0]

        paired(measure, runs, budget, today, once)
        log(f"seed: {label} {measure.status} {fmt(measure.ours_median, 's')} "
            f"(today {fmt(measure.reference_median, 's')})")
    return home


def _worker_into(measure: Measure, *args: str) -> dict[str, Any] | None:
    """Run an in-process worker; its result, or None with the measure marked failed."""
    try:
        return worker(*args)
    except (Unavailable, CommandFailed) as err:
        _failure(measure, err)
        return None


def _db_counts(home: Path) -> dict[str, int]:
    """What an import made: cards, reviews done, planned self-tests."""
    con = sqlite3.connect(home / "data" / "srs.db")
    try:
        (cards,) = con.execute("SELECT count(*) FROM card").fetchone()
        kinds = dict(con.execute("SELECT kind, count(*) FROM review GROUP BY kind").fetchall())
    finally:
        con.close()
    return {"cards": cards, "reviews": kinds.get("review", 0), "plans": kinds.get("plan", 0)}


def _log_check(stats: LogStats, found: dict[str, int]) -> str:
    """Whether the import made what the generator wrote, said in a few words."""
    expected = {"cards": stats.cards, "reviews": stats.reviews, "plans": stats.plans}
    if found == expected:
        return (f"as the log says: {found['cards']:,} cards, {found['reviews']:,} reviews, "
                f"{found['plans']:,} plans")
    return "NOT as the log says: " + ", ".join(
        f"{name} {found[name]:,} (expected {expected[name]:,})" for name in expected)


def changed_log(text: str) -> tuple[str, int] | None:
    """The log with one self-test cell changed (its first ✅ made ❌), in a row near the
    middle; and the row's line number. None when no row has a marked self-test."""
    lines = text.split("\n")
    middle = len(lines) // 2
    for number in list(range(middle, len(lines))) + list(range(middle)):
        line = lines[number]
        if not line.startswith("|"):
            continue
        cells = line.split("|")
        for col, cell in enumerate(cells):
            at = cell.find("✅ ")
            if at != -1 and cell[at + 2:at + 3].isdigit():
                cells[col] = cell[:at] + "❌ " + cell[at + 2:]
                lines[number] = "|".join(cells)
                return "\n".join(lines), number + 1
    return None


def step_size(bench: Bench, size: int, largest: bool) -> Path | None:
    """Import, today and grade at one size, with Anki beside us; the imported home.

    At the largest size also the import's parts, a re-import after one row changed, and
    `show` (for the comparison with the seed's scale).
    """
    work = bench.work / f"n{size}"
    work.mkdir(parents=True, exist_ok=True)
    log_file = work / "log.md"
    text, stats = generate(size, seed=SEED)
    log_file.write_text(text, encoding="utf-8")
    bench.info.setdefault("logs", {})[str(size)] = {**stats.to_json(),
                                                    "bytes": len(text.encode())}
    log(f"{size:,} rows: {stats.describe()}")
    base = fresh_home(work / "base")
    runs = 2 if bench.quick else bench.runs
    budget = 20.0 if bench.quick else 100.0

    parse = bench.add(Measure("parse.inproc", "reading the log (parser), in process", size))
    result = _worker_into(parse, "ours-parse", str(log_file), "--runs",
                          "3" if bench.quick else "5")
    if result is not None:
        parse.ours, parse.reference = result["samples"], result["reference"]
        parse.note = f"{result['rows']:,} rows read, {result.get('warnings', 0)} warning(s)"

    first = bench.add(Measure("import.first", "first import (review import)", size))
    homes = [work / f"import{i}" for i in range(runs)]

    def first_import() -> float:
        home = copy_home(base, homes[len(first.ours)])
        return run_once([REVIEW, "import", str(log_file)], env_for(home))[0]

    repeat(first, runs, budget, first_import)
    if first.status != "ok":
        return None
    home = homes[len(first.ours) - 1]
    for other in homes:
        if other != home and other.exists():
            shutil.rmtree(other)
    found = _db_counts(home)
    bench.info.setdefault("databases", {})[str(size)] = found
    first.note = (first.note + "; " + _log_check(stats, found)).strip("; ")
    log(f"{size:,}: first import {first.ours_median:.2f} s ({len(first.ours)} runs); "
        f"{_log_check(stats, found)}")

    again = bench.add(Measure("import.unchanged", "unchanged re-import", size))
    repeat(again, runs, budget / 2,
           lambda: run_once([REVIEW, "import", str(log_file)], env_for(home))[0])

    replay = bench.add(Measure("import.replay", "import replay in study days, in process", size))
    result = _worker_into(replay, "ours-replay", str(home), "--runs",
                          "3" if bench.quick else "5")
    if result is not None:
        replay.ours, replay.reference = result["samples"], result["reference"]
        replay.note = f"{result['cards']:,} cards, {result['reviews']:,} events"

    insert = bench.add(Measure("import.insert", "bulk insert of the imported rows "
                               "(sqlite3 executemany), in process", size))
    result = _worker_into(insert, "ours-insert", str(home), "--runs",
                          "3" if bench.quick else "5")
    if result is not None:
        insert.ours = result["samples"]
        insert.note = ", ".join(f"{table} {count:,}" for table, count in result["rows"].items()
                                if count)
    parts = bench.add(Measure("import.parts", "first import ÷ the sum of its parts", size))
    if all(m.ours_median is not None for m in (parse, replay, insert)):
        total = sum(m.ours_median or 0.0 for m in (parse, replay, insert))
        parts.ours = [total]
        parts.ratio, parts.versus = (first.ours_median or 0.0) / total, "parts"
        parts.note = (f"parse {fmt(parse.ours_median, 's')} + replay "
                      f"{fmt(replay.ours_median, 's')} + insert {fmt(insert.ours_median, 's')}"
                      f" = {fmt(total, 's')}; first import {fmt(first.ours_median, 's')}")
    else:
        parts.status, parts.note = "failed", "a part was not measured"

    if largest:
        step_changed_row(bench, size, log_file, text, home, runs, budget)

    today = bench.add(Measure("today.process", "review today, whole process", size))
    repeat(today, 3 if bench.quick else 5, 60,
           lambda: run_once([REVIEW, "today"], env_for(home))[0])
    queue = bench.add(Measure("queue.inproc", "queue building, in process", size))
    result = _worker_into(queue, "ours-queue", str(home), "--runs", "5" if bench.quick else "20",
                          "--budget", "10" if bench.quick else "40")
    if result is not None:
        queue.ours = result["samples"]
        queue.note = f"{result['due_total']:,} due"

    grade_runs = 3 if bench.quick else 5
    inproc_runs = 5 if bench.quick else 25
    ids: list[int] = []
    try:
        ids = worker("ours-due-ids", str(home), "--count", str(grade_runs + inproc_runs))["ids"]
    except (Unavailable, CommandFailed) as err:
        log(f"no due ids: {err}")
    while ids and len(ids) < grade_runs + inproc_runs:
        ids = ids + ids

    if largest:
        show = bench.add(Measure("show.process", "review show ID, whole process", size))
        card_id = ids[0] if ids else _card_to_use(home)
        if card_id is not None:
            repeat(show, 3 if bench.quick else 5, 60,
                   lambda: run_once([REVIEW, "show", str(card_id)], env_for(home))[0])
        else:
            show.status, show.note = "skipped", "no card"

    if bench.anki:
        step_anki(bench, size, home, work)

    grade_p = bench.add(Measure("grade.process", "review grade, whole process", size))
    if ids:
        process_ids = iter(ids[:grade_runs])
        repeat(grade_p, grade_runs, 60, lambda: run_once(
            [REVIEW, "grade", str(next(process_ids)), "good"], env_for(home))[0])
    else:
        grade_p.status, grade_p.note = "skipped", "no due card"
    grade_i = bench.add(Measure("grade.inproc", "grade, in process (one write transaction)",
                                size))
    if ids:
        result = _worker_into(grade_i, "ours-grade", str(home), "--ids",
                              ",".join(map(str, ids[grade_runs:])))
        if result is not None:
            grade_i.ours = result["samples"]
    else:
        grade_i.status, grade_i.note = "skipped", "no due card"
    return home


def step_changed_row(bench: Bench, size: int, log_file: Path, text: str, home: Path,
                     runs: int, budget: float) -> None:
    """`review import` after one self-test cell of one row changed: each run on a fresh
    copy of the imported database (not timed), the changed log at the same path."""
    measure = bench.add(Measure("import.changed", "re-import, one row changed", size))
    changed = changed_log(text)
    if changed is None:
        measure.status, measure.note = "skipped", "no row with a marked self-test"
        return
    changed_text, line = changed
    # Each run starts from the home as the first import left it, at the same place: the
    # import's memo belongs to that database, at that path.
    kept = copy_home(home, bench.work / f"n{size}" / "changed")

    def once() -> float:
        copy_home(kept, home)
        log_file.write_text(changed_text, encoding="utf-8")
        try:
            return run_once([REVIEW, "import", str(log_file)], env_for(home))[0]
        finally:
            log_file.write_text(text, encoding="utf-8")

    try:
        repeat(measure, runs, budget / 2, once)
    finally:
        copy_home(kept, home)
        shutil.rmtree(kept)
    measure.note = (f"line {line}: its first ✅ self-test made ❌; " + measure.note).strip("; ")


def step_anki(bench: Bench, size: int, home: Path, work: Path) -> None:
    """Anki's collection mirroring our cards, its queue, its answer and its whole process."""
    path = work / "anki" / "collection.anki2"
    try:
        _t, done = run_once([PYTHON, "-m", "benchmarks.anki_collection", str(home), str(path)])
    except (Unavailable, CommandFailed) as err:
        log(f"Anki collection not built: {err}")
        bench.info.setdefault("anki_errors", []).append(str(err)[:300])
        return
    built = json.loads(done.stdout)
    bench.info.setdefault("anki_collections", {})[str(size)] = built
    log(f"{size:,}: Anki collection {built}")
    queue = bench.find("queue.inproc", size)
    try:
        result = worker("anki-queue", str(path), "--runs", "5" if bench.quick else "15",
                        "--budget", "10" if bench.quick else "40")
        if queue is not None:
            queue.anki = result["samples"]
            queue.note = (queue.note + f"; Anki {result['review_count']:,} queued").strip("; ")
    except (Unavailable, CommandFailed) as err:
        log(f"Anki queue failed: {err}")
    process = bench.find("today.process", size)
    script = ("from anki.collection import Collection\n"
              f"col = Collection({str(path)!r})\n"
              "queued = col.sched.get_queued_cards(fetch_limit=10)\n"
              "print(queued.review_count, [c.card.id for c in queued.cards])\n"
              "col.close()\n")
    if process is not None:
        for _ in range(3 if bench.quick else 5):
            try:
                process.anki.append(run_once([PYTHON, "-c", script])[0])
            except (Unavailable, CommandFailed) as err:
                log(f"Anki process failed: {err}")
                break
    answer_copy = work / "anki-answer" / "collection.anki2"
    answer_copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, answer_copy)
    bench.info.setdefault("anki_answer_collections", []).append(str(answer_copy))
    try:
        result = worker("anki-answer", str(answer_copy), "--runs", "5" if bench.quick else "25")
        bench.info.setdefault("anki_answer", {})[str(size)] = result["samples"]
    except (Unavailable, CommandFailed) as err:
        log(f"Anki answer failed: {err}")


def step_insight(bench: Bench, size: int, home: Path) -> None:
    """cards --json, stats, forecast, export and restore at the largest size, whole process."""
    runs = 2 if bench.quick else 3
    out = bench.work / "export.json"
    for key, label, args in (
        ("cards.process", "review cards --json, whole process", ["cards", "--json"]),
        ("stats.process", "review stats, whole process", ["stats"]),
        ("forecast.process", "review forecast, whole process", ["forecast"]),
        ("export.process", "review export --format json, whole process",
         ["export", "--format", "json", "-o", str(out)]),
    ):
        measure = bench.add(Measure(key, label, size))

        def command(args: list[str] = args) -> float:
            return run_once([REVIEW, *args], env_for(home))[0]

        repeat(measure, runs, 90, command)
        log(f"{label}: {measure.status} {fmt(measure.ours_median, 's')}")
    restore = bench.add(Measure("restore.process", "review restore of that export into an "
                                "empty home, whole process", size))
    if not out.is_file():
        restore.status, restore.note = "skipped", "no export to restore"
        return
    restore.note = f"backup of {out.stat().st_size / 1e6:.1f} MB"
    target = bench.work / "restored"

    def once() -> float:
        empty = fresh_home(target)
        return run_once([REVIEW, "restore", str(out)], env_for(empty))[0]

    repeat(restore, runs, 120, once)
    log(f"restore: {restore.status} {fmt(restore.ours_median, 's')}")
    if target.exists():
        shutil.rmtree(target)


def step_optimize(bench: Bench, reviews: int) -> None:
    """`review optimize` on a history of about `reviews` self-tests, whole process."""
    work = bench.work / "optimize"
    work.mkdir(parents=True, exist_ok=True)
    text, stats = generate(reviews, seed=SEED + 1, max_reviews=reviews)
    log_file = work / "log.md"
    log_file.write_text(text, encoding="utf-8")
    home = fresh_home(work / "home")
    measure = bench.add(Measure("optimize.process", "review optimize, whole process", reviews))
    try:
        run_once([REVIEW, "optimize", "--help"], env_for(home))
        run_once([REVIEW, "import", str(log_file)], env_for(home))
    except Unavailable as err:
        measure.status, measure.note = "not available", str(err)[:160]
        return
    except CommandFailed as err:
        measure.status, measure.note = "failed", str(err)[:300]
        return
    con = sqlite3.connect(home / "data" / "srs.db")
    (count,) = con.execute("SELECT count() FROM review WHERE kind = 'review'").fetchone()
    con.close()
    measure.note = f"{count:,} reviews in the database, {stats.studied:,} cards"
    repeat(measure, 2 if bench.quick else 3, 60,
           lambda: run_once([REVIEW, "optimize"], env_for(home))[0])
    log(f"optimize: {measure.status} {measure.ours_median} {measure.note}")


SIMULATE_REFERENCE = """
import sys, time
from fsrs_rs_python import DEFAULT_PARAMETERS, default_simulator_config, simulate
config = default_simulator_config()
config.deck_size, config.learn_span = int(sys.argv[1]), int(sys.argv[2])
config.review_limit = 10
for retention in (0.75, 0.80, 0.85, 0.90, 0.95):
    simulate(DEFAULT_PARAMETERS, retention, config, 42)
"""


def step_simulate(bench: Bench, size: int, home: Path) -> None:
    """`review simulate` (365 days, five retentions) on the cards of `size` rows, whole
    process; beside it, fsrs-rs-python's own simulator on a deck of that size in a process
    of its own (it cannot start from existing cards), as the reference of the same run."""
    measure = bench.add(Measure("simulate.process", "review simulate, 365 days x 5 "
                                "retentions, whole process", size))
    measure.versus = "fsrs-rs simulate"

    def ours() -> float:
        return run_once([REVIEW, "simulate", "--json"], env_for(home))[0]

    def reference() -> float:
        return run_once([PYTHON, "-c", SIMULATE_REFERENCE, str(size), "365"],
                        os.environ.copy())[0]

    paired(measure, 2 if bench.quick else 5, 60, reference, ours)
    if measure.ours_median and measure.reference_median:
        measure.ratio = measure.ours_median / measure.reference_median
        _target(measure, "< 2 s", measure.ours_median < 2.0)
    log(f"simulate: {measure.status} {fmt(measure.ours_median, 's')} "
        f"(fsrs-rs simulate {fmt(measure.reference_median, 's')})")


# --- the daemon ---------------------------------------------------------------------------


def _proc_rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _proc_cpu_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def _start_daemon(home: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as err:
        return subprocess.Popen([REVIEW, "daemon", "run"], env=env_for(home), cwd=ROOT,
                                stdout=err, stderr=subprocess.STDOUT, start_new_session=True)


def _stop_daemon(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _daemon_available(home: Path) -> str | None:
    """None when `review daemon run` exists, else why not."""
    try:
        run_once([REVIEW, "daemon", "run", "--help"], env_for(home))
    except (Unavailable, CommandFailed) as err:
        return str(err)[:160]
    return None


def step_daemon_idle(bench: Bench, homes: dict[int, Path]) -> None:
    """Idle daemons' resident memory and CPU over `daemon_seconds`, one per size, side by side.

    The daemons of the smallest and the largest database run in the same window, so the
    cost of a bigger database shows without a second minute of waiting.
    """
    chosen = sorted({min(homes), max(homes)}) if homes else []
    missing = _daemon_available(fresh_home(bench.work / "daemon-probe"))
    if missing is not None or not chosen:
        for measure in (Measure("daemon.rss", "idle daemon, resident memory", None, unit="MB"),
                        Measure("daemon.cpu", "idle daemon, CPU", None, unit="%")):
            measure.status, measure.note = "not available", missing or "no database"
            bench.add(measure)
        return
    rows = {size: (bench.add(Measure("daemon.rss", "idle daemon, resident memory", size,
                                     unit="MB")),
                   bench.add(Measure("daemon.cpu", "idle daemon, CPU", size, unit="%")))
            for size in chosen}
    procs: dict[int, tuple[subprocess.Popen[bytes], Path]] = {}
    try:
        for size in chosen:
            home = copy_home(homes[size], bench.work / f"daemon-idle-{size}")
            review(home, "config", "set", "reminders.channels", "log")
            log_path = bench.work / f"daemon-idle-{size}.log"
            procs[size] = (_start_daemon(home, log_path), log_path)
        settle = 3.0 if bench.quick else 10.0
        time.sleep(settle)  # start-up, the first plan and any catch-up digest
        alive = {}
        for size, (proc, log_path) in procs.items():
            if proc.poll() is None:
                alive[size] = proc
                continue
            tail = log_path.read_text(errors="replace")[-300:]
            for measure in rows[size]:
                measure.status, measure.note = "failed", f"daemon exited {proc.returncode}: {tail}"
        ticks0 = {size: _proc_cpu_ticks(proc.pid) for size, proc in alive.items()}
        wall0 = time.monotonic()
        peaks: dict[int, float] = {size: 0.0 for size in alive}
        while time.monotonic() - wall0 < bench.daemon_seconds:
            for size, proc in alive.items():
                kb = _proc_rss_kb(proc.pid)
                if kb is not None:
                    peaks[size] = max(peaks[size], kb / 1024)
            time.sleep(min(1.0, bench.daemon_seconds / 10))
        wall1 = time.monotonic()
        hz = os.sysconf("SC_CLK_TCK")
        for size, proc in alive.items():
            rss, cpu = rows[size]
            ticks1 = _proc_cpu_ticks(proc.pid)
            start = ticks0[size]
            if proc.poll() is not None or start is None or ticks1 is None:
                rss.status = cpu.status = "failed"
                rss.note = cpu.note = "daemon exited while measured"
                continue
            rss.ours = [peaks[size]]
            rss.note = f"largest VmRSS over {wall1 - wall0:.0f} s, after {settle:.0f} s start-up"
            cpu.ours = [100.0 * (ticks1 - start) / hz / (wall1 - wall0)]
            cpu.note = f"{ticks1 - start} ticks in {wall1 - wall0:.0f} s"
    finally:
        for proc, _log in procs.values():
            _stop_daemon(proc)


CHANNEL = """#!{python}
import json, sys, time
t = time.time()
data = sys.stdin.read()
with open({out!r}, "a", encoding="utf-8") as fh:
    fh.write(json.dumps({{"t": t, "argv": sys.argv[1:], "stdin": data}}) + "\\n")
"""


def step_daemon_latency(bench: Bench) -> None:
    """A digest time comes while the daemon runs; when does the command channel run?

    A card is due today (set-due), and the one digest time is the first whole minute at
    least `lead` seconds after the daemon starts: the figure is when the channel ran,
    minus that minute.
    """
    measure = bench.add(Measure("daemon.latency", "reminder latency (command channel)", None))
    home = fresh_home(bench.work / "daemon-latency")
    missing = _daemon_available(home)
    if missing is not None:
        measure.status, measure.note = "not available", missing
        return
    today = datetime.now(timezone.utc).date()
    log_file = home / "log.md"
    log_file.write_text("## Week\n\n| Topic | Status | Date |\n|---|---|---|\n"
                        f"| Latency probe | done | {today.isoformat()} |\n", encoding="utf-8")
    received = home / "received.jsonl"
    channel = home / "channel.py"
    channel.write_text(CHANNEL.format(python=PYTHON, out=str(received)), encoding="utf-8")
    channel.chmod(0o755)
    lead = 8.0 if bench.quick else 15.0
    soon = datetime.now(timezone.utc) + timedelta(seconds=lead + 60)
    due = soon.replace(second=0, microsecond=0)
    for key, value in (("reminders.channels", "command"), ("reminders.command", str(channel)),
                       ("reminders.quiet_hours", ""),
                       ("reminders.digest_at", due.strftime("%H:%M"))):
        review(home, "config", "set", key, value)
    review(home, "import", str(log_file))
    review(home, "set-due", "1", "+0d")
    # Changed long ago, so the start-up pass owes no due-now reminder for it: the digest
    # is the first reminder.
    con = sqlite3.connect(home / "data" / "srs.db")
    con.execute("UPDATE card SET updated_at = '2000-01-01 00:00:00.000000'")
    con.commit()
    con.close()
    proc = _start_daemon(home, bench.work / "daemon-latency.log")
    try:
        deadline = due.timestamp() + (15 if bench.quick else 45)
        while time.time() < deadline and proc.poll() is None:
            if received.exists() and any(
                    json.loads(line)["t"] >= due.timestamp() - 0.5
                    for line in received.read_text().splitlines() if line.strip()):
                break
            time.sleep(0.1)
    finally:
        _stop_daemon(proc)
    calls = [json.loads(line) for line in received.read_text().splitlines()
             if line.strip()] if received.exists() else []
    early = [c for c in calls if c["t"] < due.timestamp() - 0.5]
    late = [c for c in calls if c["t"] >= due.timestamp() - 0.5]
    if late:
        measure.ours = [max(0.0, late[0]["t"] - due.timestamp())]
        measure.note = f"digest at {due.strftime('%H:%M')} UTC, a card due today"
    else:
        measure.status = "failed"
        measure.note = f"no reminder within {deadline - due.timestamp():.0f} s of the digest time"
    if early:
        measure.note += f"; {len(early)} reminder(s) before the digest time"
    bench.info["latency_calls"] = calls[:5]


# --- targets ------------------------------------------------------------------------------


def _target(measure: Measure | None, text: str, passed: bool | None) -> None:
    if measure is not None:
        measure.target, measure.passed = text, passed


def _vs(bench: Bench, key: str, label: str, high: Measure | None, low: Measure | None,
        low_name: str, size: int | None, limit: float) -> None:
    """A row comparing two of our figures of this run: `high` over `low`, at most `limit`."""
    row = bench.add(Measure(key, label, size))
    if high and low and high.ours_median and low.ours_median:
        row.ours = [high.ours_median]
        row.ratio = high.ours_median / low.ours_median
        row.versus = f"{low_name}, {fmt(low.ours_median, 's')}"
        _target(row, f"≤ {limit:g} × {low_name}", row.ratio <= limit)
    else:
        row.status, row.note = "skipped", "a figure is missing"
        row.target = f"≤ {limit:g} × {low_name}"


def judge_seed(bench: Bench) -> None:
    """Issue 13 at the seed's scale: every command ≤ 1.3 × `review today` measured beside
    it, and `review today` ≤ 12 × `python -c pass` measured beside it."""
    for measure in bench.measures:
        if not measure.key.startswith("seed.") or measure.ours_median is None:
            continue
        reference = measure.reference_median
        if measure.key == "seed.today":
            if reference:
                measure.ratio = measure.ours_median / reference
                measure.versus = f"python -c pass, {fmt(reference, 's')}"
                _target(measure, "≤ 12 × python -c pass", measure.ratio <= 12)
        elif reference:
            measure.ratio = measure.ours_median / reference
            measure.versus = f"review today, {fmt(reference, 's')}"
            _target(measure, "≤ 1.3 × review today", measure.ratio <= 1.3)
    for measure in bench.measures:
        if measure.key.startswith("seed.") and not measure.target:
            measure.target = ("≤ 12 × python -c pass" if measure.key == "seed.today"
                              else "≤ 1.3 × review today")


def judge(bench: Bench, sizes: list[int]) -> None:
    """Attach the targets of issues 7 and 13 to their rows, and add the rows that compare
    sizes. The absolute targets are for 100,000 rows: at other sizes they are shown, not
    judged."""
    big, small = max(sizes), min(sizes)
    at_target = big >= TARGET_SIZE

    def absolute(measure: Measure | None, text: str, passed: Callable[[Measure], bool]) -> None:
        if measure is None:
            return
        if not at_target:
            measure.target, measure.passed = f"{text} at {TARGET_SIZE:,}", None
        elif measure.ours_median is None:
            measure.target = text
        else:
            _target(measure, text, passed(measure))

    judge_seed(bench)
    for size in sizes:
        queue = bench.find("queue.inproc", size)
        if queue and queue.ours_median and queue.anki_median:
            queue.ratio = queue.ours_median / queue.anki_median
            if size == big:
                _target(queue, "≤ 0.25 × Anki", queue.ratio <= 0.25)
        today = bench.find("today.process", size)
        if today and today.ours_median and today.anki_median:
            today.ratio = today.ours_median / today.anki_median
            if size == big:
                _target(today, "≤ Anki's process", today.ratio <= 1.0)
        grade = bench.find("grade.inproc", size)
        answers = bench.info.get("anki_answer", {}).get(str(size))
        if grade and answers:
            grade.anki = answers
            if grade.ours_median and grade.anki_median:
                grade.ratio = grade.ours_median / grade.anki_median
                if size == big:
                    _target(grade, "≤ Anki's answer", grade.ratio <= 1.0)
        insert = bench.find("import.insert", size)
        if insert and insert.ours_median is not None:
            rows = bench.info.get("logs", {}).get(str(size), {}).get("rows")
            if rows:
                insert.note += f"; {insert.ours_median / rows * 1e6:.1f} µs a log row"
    if big != small:
        for key, label, limit in (
            ("today.process", "review today, {big} vs {small} (flat)", 1.2),
            ("grade.process", "review grade, {big} vs {small} (flat)", 1.2),
        ):
            _vs(bench, key + ".scaling", label.format(big=f"{big:,}", small=f"{small:,}"),
                bench.find(key, big), bench.find(key, small), f"ours at {small:,}", big, limit)
    seed_cards = bench.info.get("seed_cards")
    for key, seed_key, name in (("today.process", "seed.today", "today"),
                                ("show.process", "seed.show", "show ID")):
        _vs(bench, key + ".vs_seed", f"review {name}, {big:,} rows vs the seed's scale",
            bench.find(key, big), bench.find(seed_key, seed_cards),
            "ours at the seed's scale", big, 1.3)

    first = bench.find("import.first", big)
    absolute(first, "< 30 s", lambda m: (m.ours_median or 0) < 30)
    again = bench.find("import.unchanged", big)
    if again and again.ours_median and first and first.ours_median:
        again.ratio, again.versus = again.ours_median / first.ours_median, "first import"
    absolute(again, "≤ 0.5 s", lambda m: (m.ours_median or 0) <= 0.5)
    absolute(bench.find("import.changed", big), "≤ 1 s", lambda m: (m.ours_median or 0) <= 1)
    absolute(bench.find("import.parts", big), "≤ 2 × the sum of its parts",
             lambda m: (m.ratio or 0) <= 2)
    mid = sorted(sizes)[-2] if len(sizes) > 1 else None
    if mid and first and first.ours_median:
        lower = bench.find("import.first", mid)
        if lower and lower.ours_median:
            row = bench.add(Measure("import.scaling", f"first import, {big:,} vs {mid:,} (linear)",
                                    big))
            row.ours = [first.ours_median]
            row.ratio = first.ours_median / lower.ours_median
            row.versus = f"ours at {mid:,}"
            limit = 1.2 * big / mid
            _target(row, f"≤ {limit:.0f} × ours at {mid:,}", row.ratio <= limit)
    parse = bench.find("parse.inproc", big)
    if parse and parse.ours_median is not None:
        if parse.reference:
            floor = statistics.median(parse.reference)
            parse.ratio = parse.ours_median / floor
            parse.versus = f"splitting its table lines, {fmt(floor, 's')}"
        absolute(parse, "< 2 s", lambda m: (m.ours_median or 0) < 2)
    replay = bench.find("import.replay", big)
    if replay and replay.ours_median and replay.reference:
        reference = statistics.median(replay.reference)
        replay.ratio = replay.ours_median / reference
        replay.versus = f"24-hour replay, {fmt(reference, 's')}"
        _target(replay, "≤ 1.10 × 24-hour replay", replay.ratio <= 1.10)
    absolute(bench.find("cards.process", big), "≤ 2 s", lambda m: (m.ours_median or 0) <= 2)
    absolute(bench.find("stats.process", big), "≤ 1.5 s",
             lambda m: (m.ours_median or 0) <= 1.5)
    absolute(bench.find("forecast.process", big), "≤ 0.5 s",
             lambda m: (m.ours_median or 0) <= 0.5)
    absolute(bench.find("export.process", big), "≤ 5 s, peak RSS ≤ 150 MB",
             lambda m: (m.ours_median or 0) <= 5 and (m.peak_rss_mb or 0) <= 150)
    absolute(bench.find("restore.process", big), "≤ 30 s",
             lambda m: (m.ours_median or 0) <= 30)
    opt = bench.find("optimize.process", OPTIMIZE_REVIEWS)
    if opt and opt.ours_median is not None:
        _target(opt, "< 2 s", opt.ours_median < 2)
    for measure in bench.measures:
        if measure.key == "daemon.rss" and measure.size == big:
            absolute(measure, "≤ 40 MB", lambda m: (m.ours_median or 0) <= 40)
        elif measure.key == "daemon.rss":
            _target(measure, "≤ 60 MB", None if measure.ours_median is None
                    else measure.ours_median <= 60)
        elif measure.key == "daemon.cpu":
            _target(measure, "≤ 0.5 %", None if measure.ours_median is None
                    else measure.ours_median <= 0.5)
        elif measure.key == "daemon.latency":
            _target(measure, "≤ 2 s", None if measure.ours_median is None
                    else measure.ours_median <= 2)


# --- output -------------------------------------------------------------------------------


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.1f} MB"
    return f"{value:.2f} %"


ORDER = ["floor", "cli.start", "seed.today", *[f"seed.{name}" for name, _a, _k in SEED_COMMANDS],
         "parse.inproc", "import.first", "import.parts", "import.insert", "import.unchanged",
         "import.changed", "import.scaling", "import.replay", "today.process",
         "today.process.vs_seed", "today.process.scaling", "queue.inproc", "show.process",
         "show.process.vs_seed", "grade.process", "grade.process.scaling", "grade.inproc",
         "cards.process", "stats.process", "forecast.process", "export.process",
         "restore.process", "optimize.process", "simulate.process", "daemon.rss",
         "daemon.cpu", "daemon.latency"]


def table_rows(bench: Bench) -> list[list[str]]:
    measures = sorted(bench.measures, key=lambda m: (
        ORDER.index(m.key) if m.key in ORDER else 99,
        0 if m.key.startswith("seed.") else (m.size or 0)))
    rows = []
    for m in measures:
        ours = fmt(m.ours_median, m.unit) if m.status == "ok" else m.status
        if m.status == "ok" and len(m.ours) > 1:
            ours += f" ×{len(m.ours)}"
        anki = fmt(m.anki_median, m.unit) if m.anki else "—"
        if m.ratio is None:
            ratio = "—"
        else:
            ratio = f"{m.ratio:.2f}" + (f" (vs {m.versus})" if m.versus else "")
        if m.key.startswith("seed."):
            size = "seed"
        else:
            size = f"{m.size:,}" if m.size else "—"
        rows.append([m.label, size, ours, anki, ratio, m.target or "—", m.verdict])
    return rows


HEADERS = ["measure", "rows", "ours", "Anki", "ratio", "target", "verdict"]


def plain_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def machine_line(info: dict[str, Any]) -> str:
    found = info.get("machine", {})
    return (f"machine: {found.get('cpu', '?')}, {found.get('cores', '?')} cores, "
            f"Python {found.get('python', '?')}, {found.get('system', '?')}")


def print_table(bench: Bench) -> str:
    rows = table_rows(bench)
    text = machine_line(bench.info) + "\n" + plain_table(rows)
    try:
        from rich import box
        from rich.console import Console
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAVY, caption=machine_line(bench.info),
                      title="srs: every target in one run (median of runs; ×N = runs)")
        for name in HEADERS:
            table.add_column(name, overflow="fold")
        for row in rows:
            style = {"misses": "red", "meets": "green", "failed": "yellow"}.get(row[-1])
            table.add_row(*row, style=style)
        Console(width=220).print(table)
    except ImportError:
        print(text)
    return text


def notes(bench: Bench) -> None:
    for m in bench.measures:
        said = [m.note] if m.note else []
        if m.peak_rss_mb:
            said.append(f"peak RSS {m.peak_rss_mb:.0f} MB")
        if said:
            size = f" {m.size:,}" if m.size and not m.key.startswith("seed.") else ""
            print(f"  {m.label}{size}: {'; '.join(said)}")


def machine() -> dict[str, Any]:
    """What the figures were measured on: the CPU's model, its cores, Python, the system."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}",
            "machine": platform.machine()}


def versions() -> dict[str, str]:
    from importlib import metadata

    found = {"python": platform.python_version(), "machine": platform.machine(),
             "cpus": str(os.cpu_count())}
    for name in ("srs", "anki", "fsrs", "sqlalchemy", "fsrs-rs-python"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", help="comma-separated row counts (default 1000,10000,100000)")
    parser.add_argument("--quick", action="store_true",
                        help="a fast smoke run: 1,000 rows, few runs, short daemon window")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of each import (fewer when one is slow); default 3")
    parser.add_argument("--daemon-seconds", type=float, default=None,
                        help="how long to watch the idle daemon (default 60, quick 5)")
    parser.add_argument("--optimize-reviews", type=int, default=None,
                        help=f"reviews for optimize (default {OPTIMIZE_REVIEWS:,})")
    parser.add_argument("--no-anki", action="store_true", help="leave Anki out")
    parser.add_argument("--no-daemon", action="store_true", help="leave the daemon out")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--seed-log", type=Path, default=SEED_LOG,
                        help="the log of the seed-scale rows (default: the seed log beside "
                             "the checkout; a generated log of its size where it is missing)")
    parser.add_argument("--no-seed", action="store_true", help="leave the seed-scale rows out")
    parser.add_argument("-o", "--output", help="JSON file (default benchmarks/results/latest.json, "
                        "or quick.json with --quick, so a smoke run never replaces real figures)")
    args = parser.parse_args(argv)

    sizes = ([int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes
             else ([1000] if args.quick else list(SIZES)))
    anki = not args.no_anki
    if anki:
        try:
            import anki as _anki  # noqa: F401
        except ImportError:
            log("the anki package is not installed (pip install -e '.[bench]'): no Anki column")
            anki = False
    daemon_seconds = args.daemon_seconds or (5.0 if args.quick else 60.0)
    optimize_reviews = args.optimize_reviews or (3000 if args.quick else OPTIMIZE_REVIEWS)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="srs-bench-"))
    bench = Bench(work, max(1, args.runs), args.quick, daemon_seconds, anki, args.seed_log)
    bench.info.update(started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      machine=machine(), versions=versions(), sizes=sizes, seed=SEED,
                      quick=args.quick, workdir=str(work))
    log(machine_line(bench.info))
    homes: dict[int, Path] = {}
    try:
        log(f"working in {work}")
        compile_sources(bench)
        step_floor(bench)
        if not args.no_seed:
            step_seed(bench)
        for size in sorted(sizes):
            home = step_size(bench, size, largest=size == max(sizes))
            if home is not None:
                homes[size] = home
        big = max(sizes)
        if big in homes:
            step_insight(bench, big, homes[big])
        step_optimize(bench, optimize_reviews)
        small = min(sizes)
        if small in homes:
            step_simulate(bench, small, homes[small])
        if not args.no_daemon:
            step_daemon_idle(bench, homes)
            step_daemon_latency(bench)
        judge(bench, sorted(sizes))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    bench.info["seconds"] = round(time.perf_counter() - started, 1)
    text = print_table(bench)
    notes(bench)
    out = Path(args.output or RESULTS / ("quick.json" if args.quick else "latest.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"info": bench.info, "table": text,
                               "measures": [m.to_json() for m in bench.measures]},
                              ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\n{len(bench.measures)} figures in {out} ({bench.info['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
