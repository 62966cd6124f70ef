"""`review simulate`: the workload ahead in minutes, from the person's own cards."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from freezegun import freeze_time
from fsrs.scheduler import DEFAULT_PARAMETERS

from srs.clock import DayClock
from srs.engine import CardState, Engine, SchedulerSettings
from srs.simulate import (
    DEFAULT_PASS_GRADES,
    Plan,
    SimCard,
    _curve,
    check_retentions,
    own_pace,
    pass_grades,
    simulate,
    simulate_all,
)
from srs.workload import (
    DEFAULT_FIRST_MINUTES,
    DEFAULT_LATER_MINUTES,
    MIN_RECORDED,
    Costs,
    costs_from,
)

TODAY = date(2026, 12, 3)
RETENTIONS = (0.75, 0.80, 0.85, 0.90, 0.95)


def cards(n: int, seed: int, *, overdue: bool = True) -> list[SimCard]:
    """`n` cards with memory states of a few weeks' to a few months' study, seeded."""
    rng = random.Random(seed)
    made = []
    for key in range(1, n + 1):
        stability = rng.uniform(1.0, 60.0)
        last = -rng.randint(0, 40)
        due = max(0, last + round(stability)) if overdue else rng.randint(0, 30)
        first = rng.random() < 0.2
        made.append(SimCard(key, stability, rng.uniform(2.0, 9.0), last, due, first,
                            DEFAULT_FIRST_MINUTES if first else DEFAULT_LATER_MINUTES))
    return made


def plan(n: int = 200, *, seed: int = 1, days: int = 180, pace: float = 3.0,
         planned: list[int | None] | None = None, max_reviews: int | None = None,
         max_minutes: float | None = None, costs: Costs | None = None,
         sim_seed: int = 42, runs: int | None = None) -> Plan:
    return Plan(cards=cards(n, seed), planned=planned or [], new_per_week=pace,
                pace_from_log=False, days=days, parameters=tuple(DEFAULT_PARAMETERS),
                maximum_interval=36500, max_reviews=max_reviews, max_minutes=max_minutes,
                costs=costs or costs_from([]), pass_grades=DEFAULT_PASS_GRADES,
                seed=sim_seed, today=TODAY, runs=runs)


# -- the core ----------------------------------------------------------------------------

def test_the_same_data_and_seed_give_the_same_figures() -> None:
    first = simulate_all(plan(), RETENTIONS)
    again = simulate_all(plan(), RETENTIONS)
    assert [(o.self_tests, o.minutes, o.remembered) for o in first] == \
        [(o.self_tests, o.minutes, o.remembered) for o in again]
    other = simulate(plan(sim_seed=7), 0.9)
    assert other.self_tests != first[3].self_tests  # the seed is the luck


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("limits", [(None, None), (15, None), (None, 90.0)])
def test_a_higher_retention_never_gives_fewer_self_tests(
        seed: int, limits: tuple[int | None, float | None]) -> None:
    max_reviews, max_minutes = limits
    outcomes = simulate_all(plan(150 + 40 * seed, seed=seed, max_reviews=max_reviews,
                                 max_minutes=max_minutes), RETENTIONS)
    averages = [o.average_self_tests for o in outcomes]
    assert averages == sorted(averages), averages
    # and, with no limit holding them back, more is remembered at the end
    if limits == (None, None):
        remembered = [o.remembered for o in outcomes]
        assert remembered == sorted(remembered), remembered
        assert averages[-1] > 1.5 * averages[0]


def test_the_count_limit_caps_every_day_and_what_is_left_waits() -> None:
    outcome = simulate(plan(600, max_reviews=5, days=60), 0.95)
    assert max(outcome.self_tests) == 5
    assert outcome.backlog > 0  # 600 cards at 5 a day: some still due at the end


def test_the_minute_budget_ends_the_day_where_the_minutes_run_out() -> None:
    # Defaults: 15 minutes a first self-test, 10 a later one; 35 minutes hold at most 3.
    outcome = simulate(plan(400, days=60, max_minutes=35.0), 0.9)
    assert max(outcome.minutes) <= 35.0
    assert max(outcome.self_tests) <= 3
    # A budget smaller than one self-test still lets one a day through.
    tiny = simulate(plan(400, days=30, max_minutes=5.0), 0.9)
    assert tiny.self_tests == [1] * 30


def test_costs_are_the_recorded_medians_once_there_are_enough() -> None:
    few = costs_from([(1, 3, 600)] * (MIN_RECORDED - 1))
    assert not few.from_history
    assert (few.first, few.later) == (DEFAULT_FIRST_MINUTES, DEFAULT_LATER_MINUTES)
    assert few.expected(1, first=False) == 10.0  # its own median
    assert few.expected(2, first=True) == DEFAULT_FIRST_MINUTES
    durations = ([(1, 1, 30 * 60)] * 4 + [(2, 3, 12 * 60)] * 14 + [(3, 4, 6 * 60)] * 3
                 + [(4, 2, 9 * 3600)])  # a self-test left open: counted as 2 hours
    costs = costs_from(durations)
    assert costs.from_history and costs.recorded == 22
    assert costs.by_rating == {1: 30.0, 2: 12.0, 3: 12.0, 4: 6.0}  # hard: too few, overall
    assert costs.expected(4, first=False) == 120.0
    assert costs.of_rating(1, first=True) == 30.0
    outcome = simulate(plan(50, costs=costs, days=30, runs=1), 0.9)
    assert outcome.runs == 1
    assert set(outcome.minutes) <= {0.0} | {
        a * 30 + b * 12 + c * 6 for a in range(20) for b in range(40) for c in range(20)}


def test_a_small_deck_is_averaged_over_runs_and_a_large_one_is_not() -> None:
    from srs.simulate import runs_for

    assert runs_for(plan(1000, pace=0)) == 1
    small = plan(7, pace=0, days=90)
    assert runs_for(small) > 100 // 7
    outcome = simulate(small, 0.9)
    assert outcome.runs == runs_for(small)
    # a mean of runs: the peak is the busiest day of a run, on average
    assert outcome.peak_self_tests >= max(outcome.self_tests)


def test_new_topics_come_at_the_pace_with_the_planned_rows_first() -> None:
    empty = Plan(cards=[], planned=[], new_per_week=3.5, pace_from_log=False, days=70,
                 parameters=tuple(DEFAULT_PARAMETERS), maximum_interval=36500,
                 max_reviews=None, max_minutes=None, costs=costs_from([]),
                 pass_grades=DEFAULT_PASS_GRADES, today=TODAY)
    assert simulate(empty, 0.9).new_studied == 35  # 3.5 a week for 10 weeks
    # Planned rows take the first places; one dated after the days simulated never comes;
    # one dated on day 3 comes that day even at a pace of none.
    dated = Plan(**{**empty.__dict__, "new_per_week": 0.0, "planned": [None, 3, 500]})
    outcome = simulate(dated, 0.9)
    assert outcome.new_studied == 1
    assert outcome.remembered_now == 0
    none = Plan(**{**empty.__dict__, "new_per_week": 0.0})
    assert simulate(none, 0.9).self_tests == [0] * 70


def test_own_pace_is_topics_a_week_over_the_logs_last_eight_weeks() -> None:
    last = TODAY - timedelta(days=20)  # the log stopped three weeks ago
    learned = [last - timedelta(days=i) for i in range(0, 56, 2)]  # 28 in 8 weeks
    learned += [last - timedelta(days=100 + i) for i in range(30)]  # older: not counted
    assert own_pace(learned, TODAY) == pytest.approx(28 / 8)
    short = [TODAY - timedelta(days=i) for i in range(14)]  # two weeks of one a day
    assert own_pace(short, TODAY) == pytest.approx(7.0)
    assert own_pace([TODAY + timedelta(days=3)], TODAY) == 0.0
    assert own_pace([], TODAY) == 0.0


def test_pass_grades_blend_the_persons_own_with_the_defaults() -> None:
    assert pass_grades({}) == DEFAULT_PASS_GRADES
    mine = pass_grades({2: 0, 3: 950, 4: 50})
    assert mine[1] > 0.9 and sum(mine) == pytest.approx(1.0)
    few = pass_grades({4: 5})
    assert few[2] == pytest.approx(5 / 55 + 50 / 55 * DEFAULT_PASS_GRADES[2])


def test_the_forgetting_curve_is_the_engines() -> None:
    engine = Engine(SchedulerSettings(fuzz=False), DayClock(timezone.utc, 4))
    decay, factor = _curve(DEFAULT_PARAMETERS)
    last = datetime(2026, 11, 1, 9, tzinfo=timezone.utc)
    for stability, days in ((3.0, 1), (3.0, 10), (40.0, 32), (0.5, 7)):
        state = CardState(2, None, stability, 5.0, TODAY, last)
        ours = (1 + factor * days / stability) ** decay
        assert ours == pytest.approx(
            engine.retrievability(state, last.date() + timedelta(days=days)), abs=1e-9)


@pytest.mark.parametrize("values", [[0.5], [0.995], [float("nan")], []])
def test_retentions_outside_the_range_are_refused(values: list[float]) -> None:
    from srs.simulate import SimulationError

    with pytest.raises(SimulationError):
        check_retentions(values)


# -- the command -------------------------------------------------------------------------

LOG = """# 学习进度

## 第 1 周（2026-10-05 ~ 2026-10-11）

| 日期 | 主题 | 状态 | 自测 |
|------|------|------|------|
| 2026-10-05 | 二分查找 [模板] | ✅ | 10-08 ✅ |
| 2026-10-06 | 链表反转 | ✅ | 10-09 ❌ |
| 2026-10-07 | 哈希表 | ✅ | |
| 2026-10-09 | TCP 三次握手 | ✅ | 10-12 ✅ |

## 第 2 周（2026-11-16 ~ 2026-11-22）

| 日期 | 主题 | 状态 | 自测 |
|------|------|------|------|
| 2026-11-16 | 动态规划：背包 | ✅ | 11-19 ✅ |
| 2026-11-18 | Dijkstra | ✅ | |
| 2026-11-20 | 红黑树 | ✅ | |
| 2026-12-10 | 线段树 | ⬜ | |
| | B+ 树 | ⬜ | |
"""


@pytest.fixture
def imported(run: Callable[..., Result], write_log: Callable[..., Path]) -> None:
    with freeze_time("2026-12-03 10:00:00"):
        result = run("import", str(write_log(LOG)))
    assert result.exit_code == 0, result.output


@freeze_time("2026-12-03 10:00:00")
def test_simulate_json_on_a_log(imported: None, run_json: Callable[..., Any]) -> None:
    data = run_json("simulate", "--days", "120")
    assert data["cards"] == 7 and data["days"] == 120
    assert data["pace"] == "log" and data["planned_rows"] == 2
    assert data["costs"]["source"] == "default" and data["costs"]["first_minutes"] == 15
    assert [r["retention"] for r in data["results"]] == list(RETENTIONS)
    assert [r["configured"] for r in data["results"]] == [False, False, False, True, False]
    for result in data["results"]:
        assert len(result["per_day"]) == 120
        assert result["per_day"][0]["day"] == "2026-12-03"
        assert result["self_tests"]["total"] == pytest.approx(
            sum(d["self_tests"] for d in result["per_day"]), abs=0.5)
        assert result["minutes"]["peak"] >= max(d["minutes"] for d in result["per_day"])
        assert 0 < result["remembered_at_end"] <= 7 + result["new_topics"]
    averages = [r["self_tests"]["average"] for r in data["results"]]
    assert averages == sorted(averages)
    again = run_json("simulate", "--days", "120")
    assert again == data  # seeded
    asked = run_json("simulate", "--days", "30", "--new-per-week", "0", "--retention",
                     "85%,0.9")
    assert asked["pace"] == "option" and asked["planned_rows"] == 0
    assert [r["new_topics"] for r in asked["results"]] == [0, 0]


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_simulate_on_a_terminal_fits_its_width(tmp_path: Path, columns: int) -> None:
    from rich.cells import cell_len
    from terminal import SGR, home_with, in_terminal

    env = {**home_with(tmp_path, LOG, 'timezone = "UTC"\n'), "LANGUAGE": "en"}
    status, output = in_terminal(["--no-pager", "simulate", "--days", "90"], env=env,
                                 columns=columns)
    lines = SGR.sub(b"", output).decode("utf-8").splitlines()
    text = "\n".join(lines)
    assert status == 0, text
    assert all(cell_len(line) <= columns for line in lines), text
    assert "90% *" in text and "min/day" in text
    assert "15 for a first one and 10 for a later one" in " ".join(lines)
    assert "Minutes of self-tests per day at 90%" in text
    assert "2 planned rows of the log come first" in " ".join(lines)


@freeze_time("2026-12-03 10:00:00")
def test_a_budget_shapes_the_simulation(imported: None, run: Callable[..., Result],
                                        run_json: Callable[..., Any]) -> None:
    assert run("config", "set", "max_reviews_per_day", "1").exit_code == 0
    data = run_json("simulate", "--days", "60")
    assert data["limits"]["max_reviews_per_day"] == 1
    assert all(d["self_tests"] <= 1 for r in data["results"] for d in r["per_day"])


@pytest.mark.parametrize(("args", "word"), [
    (["--retention", "0.5"], "0.5"), (["--retention", "abc"], "abc"),
    (["--retention", "0.8,1.2"], "1.2"), (["--days", "0"], "0"),
    (["--days", "-3"], "-3"), (["--new-per-week", "-1"], "-1"),
    (["--new-per-week", "lots"], "lots"), (["--seed", "x"], "x"),
])
def test_bad_options_are_one_line(run: Callable[..., Result], srs_home: Path,
                                  args: list[str], word: str) -> None:
    result = run("simulate", *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert not (srs_home / "data").exists()  # refused before anything is opened


def test_simulate_as_a_real_process_is_seeded(tmp_path: Path, srs_home: Path,
                                              write_log: Callable[..., Path]) -> None:
    import os
    import subprocess
    import sys

    review = str(Path(sys.executable).parent / "review")
    env = {**os.environ, "SRS_HOME": str(srs_home)}
    subprocess.run([review, "import", str(write_log(LOG))], env=env, check=True,
                   capture_output=True)
    outs = [subprocess.run([review, "simulate", "--json", "--days", "60"], env=env,
                           check=True, capture_output=True, text=True).stdout
            for _ in range(2)]
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["cards"] == 7


@freeze_time("2026-12-03 10:00:00")
def test_planned_rows_are_those_the_last_import_found(
        imported: None, run: Callable[..., Result], run_json: Callable[..., Any],
        write_log: Callable[..., Path], query: Callable[[str], list[tuple[Any, ...]]],
        tmp_path: Path, srs_home: Path) -> None:
    log = tmp_path / "log.md"
    assert run_json("simulate", "--days", "30")["planned_rows"] == 2
    # An edit of the first table only: the second is taken from the memo, plans and all.
    write_log(LOG.replace("| 2026-10-07 | 哈希表 | ✅ | |",
                          "| 2026-10-07 | 哈希表 | ✅ | 10-20 ✅ |"))
    assert run("import", str(log)).exit_code == 0
    assert run_json("simulate", "--days", "30")["planned_rows"] == 2
    # A pending row added to the second: three, without reading the file again...
    write_log(LOG + "| | AVL 树 | ⬜ | |\n")
    assert run("import", str(log)).exit_code == 0
    log.unlink()
    data = run_json("simulate", "--days", "30")
    assert (data["planned_rows"], data["logs_unread"]) == (3, 0)
    # ...unless the import kept none (an older one): then the file is read, or counted unread.
    import sqlite3

    (summary,) = query("SELECT summary FROM log_source")[0]
    older = {k: v for k, v in json.loads(summary).items() if k != "planned_rows"}
    with sqlite3.connect(srs_home / "data" / "srs.db") as db:
        db.execute("UPDATE log_source SET summary = ?", (json.dumps(older),))
    db.close()
    data = run_json("simulate", "--days", "30")
    assert (data["planned_rows"], data["logs_unread"]) == (0, 1)
    write_log(LOG)
    assert run_json("simulate", "--days", "30")["planned_rows"] == 2


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_the_core_refuses_days_outside_its_range(days: int) -> None:
    from srs.simulate import SimulationError, check_days

    with pytest.raises(SimulationError, match=str(days)):
        check_days(days)
    assert check_days(365) == 365


def test_simulate_reads_the_same_from_sqlite_and_postgresql(
        run: Callable[..., Result], run_json: Callable[..., Any],
        write_log: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
        postgres_server: Any) -> None:
    import psycopg  # noqa: F401  (loaded before the clock is frozen: its C types check dates)
    import sqlalchemy.dialects.postgresql  # noqa: F401

    results = []
    for url in (None, postgres_server.new_database()):
        if url is not None:
            monkeypatch.setenv("SRS_DATABASE_URL", url)
        with freeze_time("2026-12-03 10:00:00"):
            assert run("import", str(write_log(LOG))).exit_code == 0
            assert run("grade", "1", "good", "--duration", "20m").exit_code == 0
            data = run_json("simulate", "--days", "60", "--retention", "0.9")
        assert (data["cards"], data["planned_rows"], data["costs"]["recorded"]) == (7, 2, 1)
        results.append(data)
    assert results[0] == results[1]
