"""The charts of `review stats` and `review forecast`: in the terminal's width and colours,
with their numbers, each date under its own bar, the year on long axes; and the PNGs.

Every chart is read back the way a person reads it: bars are the columns where something is
drawn, a bar's number is the one above it, a date belongs to the bar it starts under.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import terminal
from click.testing import Result
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from terminal import REVIEW, SGR, in_terminal, stray_controls

from cli.insight import forecast_chart, heatmap_chart
from srs.stats import DayActivity

Run = Callable[..., Result]
RunJson = Callable[..., Any]

TITLE, HEATMAP_TITLE = "Self-tests due per day", "Self-tests in the last year"
EIGHTHS = {char: n for n, char in enumerate(" ▁▂▃▄▅▆▇█")}
TALLEST = 6 * 8  # the tallest bar: six rows of eighths
SHADES = "·░▒▓█"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WIDTHS = [60, 80, 120]
ESCAPE = re.compile(r"\x1b\[([0-9;]*)m")


def background_codes(text: str) -> list[str]:
    """Every SGR parameter in `text` that paints a background (40-49, 100-107, 48;...)."""
    found = []
    for match in ESCAPE.finditer(text):
        params = [int(p) if p else 0 for p in match.group(1).split(";")]
        i = 0
        while i < len(params):
            code = params[i]
            if code in (38, 58):  # a foreground or underline colour: skip its arguments
                i += 3 if i + 1 < len(params) and params[i + 1] == 5 else 5
                continue
            if 40 <= code <= 49 or 100 <= code <= 107:
                found.append(match.group(0))
            i += 1
    return found


def unstyled(text: str) -> str:
    return ESCAPE.sub("", text)


def too_wide(text: str, width: int) -> list[str]:
    return [line for line in unstyled(text).split("\n") if cell_len(line) > width]


# -- reading a forecast chart back -----------------------------------------------------


@dataclass
class Bar:
    col: int  # the first cell column of the bar
    cells: int
    count: int  # the number written over it
    eighths: int  # its height


@dataclass
class ForecastRead:
    bars: list[Bar]
    labels: dict[int, str]  # column: MM-DD
    years: dict[int, int]  # column: year
    days_a_bar: int
    lines: list[str]


def title_lines(lines: list[str], title: str) -> int:
    """How many lines `title` takes at the top, broken between words on a narrow width."""
    for n in range(1, 5):
        if " ".join(lines[:n]) == title:
            return n
    raise AssertionError(f"{title!r} is not at the top of {lines[:4]}")


def read_forecast(text: str) -> ForecastRead:
    """The bars, counts, day labels and years of a forecast chart, from its plain text."""
    lines = unstyled(text).split("\n")
    top = title_lines(lines, TITLE)
    base = next(i for i, line in enumerate(lines) if line.startswith("─"))
    area = lines[top:base]
    reach = max((len(line) for line in area), default=0)
    drawn = [any(col < len(line) and line[col] != " " for line in area) for col in range(reach)]
    bars = []
    col = 0
    while col < reach:
        if not drawn[col]:
            col += 1
            continue
        end = col
        while end < reach and drawn[end]:
            end += 1
        pieces = [line[col:end].ljust(end - col) for line in area]
        numbers = [(row, piece.strip()) for row, piece in enumerate(pieces)
                   if piece.strip().isdigit()]
        assert len(numbers) == 1, pieces
        number_row, number = numbers[0]
        assert pieces[number_row].startswith(number), "a count starts where its bar starts"
        blocks = [row for row, piece in enumerate(pieces) if row != number_row and piece.strip()]
        for row in blocks:
            assert len(set(pieces[row])) == 1 and pieces[row][0] in EIGHTHS, pieces
        # The number sits on its bar: on the row above its top, or on the baseline's row.
        assert blocks == list(range(number_row + 1, len(area)))
        bars.append(Bar(col, end - col, int(number),
                        sum(EIGHTHS[pieces[row][0]] for row in blocks)))
        col = end
    # The baseline runs under every bar and stops at the last one's slot.
    assert set(lines[base]) == {"─"}
    step = bars[1].col - bars[0].col if len(bars) > 1 else len(lines[base]) + 1
    assert bars[-1].col + bars[-1].cells <= len(lines[base]) == bars[-1].col + step - 1
    labels = {m.start(): m.group() for m in re.finditer(r"\d\d-\d\d", lines[base + 1])}
    assert re.fullmatch(r"[\d -]*", lines[base + 1])
    years: dict[int, int] = {}
    rest = lines[base + 2:]
    if rest and re.fullmatch(r"[\d ]+", rest[0]):
        years = {m.start(): int(m.group()) for m in re.finditer(r"\d{4}", rest.pop(0))}
    if rest and rest[-1].startswith("Backlog"):
        rest.pop()
    days_a_bar = 1
    if rest:  # the note, on as many lines as the width needs
        note = re.fullmatch(r"each bar: (\d+) days from the date under it", " ".join(rest))
        assert note is not None, rest
        days_a_bar = int(note.group(1))
    return ForecastRead(bars, labels, years, days_a_bar, lines)


def check_forecast(text: str, days: list[tuple[date, int]], width: int) -> ForecastRead:
    """Everything a forecast chart of `days` must be, at `width` columns."""
    assert too_wide(text, width) == []
    chart = read_forecast(text)
    size = chart.days_a_bar
    expected = [(days[i][0], sum(n for _d, n in days[i:i + size]))
                for i in range(0, len(days), size)]
    assert len(chart.bars) == len(expected)
    assert [bar.count for bar in chart.bars] == [n for _d, n in expected]
    top = max(n for _d, n in expected)
    assert [bar.eighths for bar in chart.bars] == [
        max(1, round(n * TALLEST / top)) if n else 0 for _d, n in expected]
    # Bars as wide as each other, one blank cell apart at least.
    assert len({bar.cells for bar in chart.bars if bar.count}) <= 1
    assert all(b.col - (a.col + a.cells) >= 1 for a, b in pairwise(chart.bars))
    # Each date starts where its own bar starts; the first bar is dated; dates do not
    # leave long stretches of bars unnamed.
    starts = {bar.col: i for i, bar in enumerate(chart.bars)}
    assert chart.labels, chart.lines
    for col, label in chart.labels.items():
        assert col in starts, (col, label)
        assert label == expected[starts[col]][0].strftime("%m-%d")
    assert min(chart.labels) == chart.bars[0].col
    named = sorted(starts[col] for col in chart.labels)
    assert all(b - a <= 3 for a, b in pairwise(named))
    # The year under the first date and under the first date of every new year, when the
    # axis crosses into another year; no year row otherwise.
    if days[0][0].year == days[-1][0].year:
        assert chart.years == {}
    else:
        wanted, previous = {}, None
        for col in sorted(chart.labels):
            year = expected[starts[col]][0].year
            if year != previous:
                wanted[col] = year
            previous = year
        assert chart.years == wanted
    return chart


def random_days(rng: random.Random, start: date, n: int, high: int) -> list[tuple[date, int]]:
    return [(start + timedelta(days=i), rng.choice([0, 0, 1, 2, rng.randint(0, high)]))
            for i in range(n)]


# -- forecast charts drawn from data given here ---------------------------------------


def test_a_week_drawn_exactly() -> None:
    """Seven days at 60 columns, across a new year: bars of 7 cells, counts on them."""
    start = date(2026, 12, 28)
    days = [(start + timedelta(days=i), n) for i, n in enumerate([3, 0, 1, 12, 0, 5, 2])]
    assert forecast_chart(days, 60) == "\n".join([
        "Self-tests due per day",
        "                        12",
        "                        ███████",
        "                        ███████",
        "                        ███████         5",
        "3                       ███████         ▄▄▄▄▄▄▄",
        "▄▄▄▄▄▄▄         1       ███████         ███████ 2",
        "███████ 0       ▄▄▄▄▄▄▄ ███████ 0       ███████ ███████",
        "───────────────────────────────────────────────────────",
        "12-28   12-29   12-30   12-31   01-01   01-02   01-03",
        "2026                            2027",
    ])


@pytest.mark.parametrize("width", WIDTHS + [40])
@pytest.mark.parametrize(("n", "high"), [(1, 3), (7, 9), (30, 9), (30, 140), (45, 12),
                                         (400, 30), (3650, 999)])
def test_forecast_fits_and_says_its_numbers(width: int, n: int, high: int) -> None:
    rng = random.Random(n * 1000 + high)
    days = random_days(rng, date(2026, 11, 30), n, high)
    peak = rng.randrange(n)
    days[peak] = (days[peak][0], high)
    chart = check_forecast(forecast_chart(days, width), days, width)
    if n * (len(str(high)) + 1) <= width:  # a day a bar whenever its number and a blank fit
        assert chart.days_a_bar == 1


def test_a_400_day_forecast_shows_its_years() -> None:
    start = date(2026, 12, 3)
    days = [(start + timedelta(days=i), i % 9) for i in range(400)]  # to 2028-01-06
    for width in WIDTHS:
        chart = check_forecast(forecast_chart(days, width), days, width)
        assert {2026, 2027} <= set(chart.years.values())
        assert chart.days_a_bar > 1


def test_nothing_due_is_a_row_of_zeros() -> None:
    days = [(date(2026, 11, 30) + timedelta(days=i), 0) for i in range(30)]
    text = forecast_chart(days, 80)
    chart = check_forecast(text, days, 80)
    assert [bar.count for bar in chart.bars] == [0] * 30
    assert text.split("\n")[1].startswith("0 0 0")


@settings(max_examples=150, deadline=None)
@given(counts=st.lists(st.one_of(st.integers(0, 30), st.integers(0, 10**9)), min_size=1,
                      max_size=800),
       width=st.integers(20, 120), start=st.dates(date(2000, 1, 1), date(2090, 1, 1)))
def test_any_forecast_fits_and_reads_back(counts: list[int], width: int, start: date) -> None:
    days = [(start + timedelta(days=i), n) for i, n in enumerate(counts)]
    check_forecast(forecast_chart(days, width), days, width)


def test_colour_is_foreground_only_and_changes_no_cell() -> None:
    days = random_days(random.Random(3), date(2026, 12, 20), 30, 20)
    coloured, plain = forecast_chart(days, 80, colour=True), forecast_chart(days, 80)
    assert unstyled(coloured) == plain
    assert "\x1b[36m" in coloured and "\x1b" not in plain
    assert background_codes(coloured) == []


# -- the heatmap -------------------------------------------------------------------------


HEAT = [DayActivity(date(2025, 12, 3), 1), DayActivity(date(2026, 1, 1), 8),
        DayActivity(date(2026, 3, 14), 3), DayActivity(date(2026, 6, 3), 5),
        DayActivity(date(2026, 11, 29), 2), DayActivity(date(2026, 11, 30), 7, 2),
        DayActivity(date(2026, 10, 10), 0, 4)]
HEAT_TODAY = date(2026, 11, 30)  # a Monday: the last column holds only it


def read_heatmap(text: str) -> tuple[str, list[str], str, str, list[str]]:
    """The title, the seven weekday rows, the months, the years and the legend."""
    lines = unstyled(text).split("\n")
    top = next(i for i, line in enumerate(lines) if line.startswith("Mon "))
    return " ".join(lines[:top]), lines[top:top + 7], lines[top + 7], lines[top + 8], \
        lines[top + 9:]


@pytest.mark.parametrize("width", WIDTHS + [40])
def test_heatmap(width: int) -> None:
    text = heatmap_chart(HEAT, HEAT_TODAY, width)
    assert too_wide(text, width) == []
    title, rows, months, years, legend = read_heatmap(text)
    gutter = len("Mon") + 1
    shown = min(53, width - gutter)
    assert title == (HEATMAP_TITLE if shown == 53 else f"Self-tests in the last {shown} weeks")
    assert [row[:gutter] for row in rows] == ["Mon ", "    ", "Wed ", "    ", "Fri ", "    ",
                                              "    "]
    start = date(2025, 12, 1) + timedelta(days=7 * (53 - shown))  # Monday of the first column
    first = HEAT_TODAY - timedelta(days=364)
    counts = {d.day: d.self_tests for d in HEAT}
    for weekday in range(7):
        for col in range(shown):
            day = start + timedelta(days=7 * col + weekday)
            cell = rows[weekday][gutter + col] if gutter + col < len(rows[weekday]) else " "
            if day < first or day > HEAT_TODAY:
                assert cell == " ", day
            else:
                n = counts.get(day, 0)
                assert cell == SHADES[0 if n == 0 else -(-4 * n // 8)], day
    # Each month's name starts in the column of the week holding its first day.
    names = {m.start(): m.group() for m in re.finditer(r"[A-Z][a-z]{2}", months)}
    assert len(names) >= min(11, shown // 5)
    for col, name in names.items():
        monday = start + timedelta(days=7 * (col - gutter))
        first_day = next(monday + timedelta(days=i) for i in range(7)
                         if (monday + timedelta(days=i)).day == 1)
        assert MONTHS[first_day.month - 1] == name
    # The year under January, and under the first month when there is room.
    found = {m.start(): int(m.group()) for m in re.finditer(r"\d{4}", years)}
    january = [col for col, name in names.items() if name == "Jan"]
    for col in january:
        assert found[col] == 2026
    assert found and set(found) <= set(names)
    assert legend == ["· 0  ░ 1-2  ▒ 3-4  ▓ 5-6  █ 7-8"]


def test_heatmap_colour_keeps_the_background() -> None:
    coloured = heatmap_chart(HEAT, HEAT_TODAY, 80, colour=True)
    assert unstyled(coloured) == heatmap_chart(HEAT, HEAT_TODAY, 80)
    assert "\x1b[32m" in coloured
    assert background_codes(coloured) == []


def test_a_narrow_legend_wraps() -> None:
    many = [DayActivity(HEAT_TODAY, 1_000_000)]
    text = heatmap_chart(many, HEAT_TODAY, 30)
    assert too_wide(text, 30) == []
    legend = read_heatmap(text)[-1]
    assert " ".join(legend).split() == [
        "·", "0", "░", "1-250000", "▒", "250001-500000", "▓", "500001-750000", "█",
        "750001-1000000"]
    assert len(legend) > 1


ZH = {"Mon": "周一", "Wed": "周三", "Fri": "周五", "Self-tests in the last year": "过去一年的自测",
      "Self-tests due per day": "每天到期的自测"}


@pytest.mark.parametrize("width", [40, 60])
def test_wide_characters_take_two_cells(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """Chinese names: the weekdays' gutter, the months and the titles are measured in cells."""
    import cli.insight as insight

    monkeypatch.setattr(insight, "_", lambda message: ZH.get(message, message))
    monkeypatch.setattr(insight, "MONTHS", tuple(f"{n}月" for n in range(1, 13)))
    text = heatmap_chart(HEAT, HEAT_TODAY, width)
    assert too_wide(text, width) == []
    lines = text.split("\n")
    top = next(i for i, line in enumerate(lines) if line.startswith("周一 "))
    gutter = 5  # 周一: four cells, and a blank
    shown = min(53, width - gutter)
    if shown == 53:
        assert lines[0] == "过去一年的自测"
    rows = lines[top:top + 7]
    assert [row[:3] for row in rows] == ["周一 ", "   ", "周三 ", "   ", "周五 ", "   ", "   "]
    # Monday's row reaches today's week; the other days' rows the week before it.
    assert [cell_len(row) for row in rows] == [gutter + shown] + [gutter + shown - 1] * 6
    start = date(2025, 12, 1) + timedelta(days=7 * (53 - shown))
    months = lines[top + 7]
    named = [(cell_len(months[:m.start()]), int(m.group(1)))
             for m in re.finditer(r"(\d+)月", months)]
    assert len(named) >= shown // 6
    for col, month in named:
        monday = start + timedelta(days=7 * (col - gutter))
        assert month in {(monday + timedelta(days=i)).month for i in range(7)
                         if (monday + timedelta(days=i)).day == 1}
    days = [(date(2026, 11, 30) + timedelta(days=i), i % 4) for i in range(30)]
    forecast = forecast_chart(days, 20)
    assert too_wide(forecast, 20) == []
    assert forecast.split("\n")[0] == "每天到期的自测"


# -- the commands --------------------------------------------------------------------------

NOW = "2026-11-30 12:00:00"


def generated_log(rng: random.Random) -> str:
    """Sixty topics studied over the last year with self-tests since and one planned each:
    twelve on 2027-01-04, three on 2027-12-20, the others within the four weeks after today."""
    lines = ["| Topic | Status | Date | Self-test |", "|---|---|---|---|"]
    for n in range(60):
        learned = day = date(2025, 12, 5) + timedelta(days=rng.randrange(330))
        tests = []
        while True:
            day += timedelta(days=rng.choice([1, 2, 3, 5, 8, 13]))
            if day >= date(2026, 11, 30):
                break
            tests.append(day.isoformat())
        if n < 12:
            planned = date(2027, 1, 4)
        elif n < 15:
            planned = date(2027, 12, 20)
        else:
            planned = date(2026, 11, 30) + timedelta(days=rng.randrange(1, 28))
        lines.append(f"| topic {n} | done | {learned} | {', '.join(tests + [str(planned)])} |")
    return "\n".join(lines) + "\n"


@pytest.fixture
def history(run: Run, write_log: Callable[..., Path]) -> None:
    assert run("config", "set", "fuzz", "off").exit_code == 0
    with freeze_time(NOW):
        result = run("import", str(write_log(generated_log(random.Random(5)))))
        assert result.exit_code == 0, result.output


@pytest.fixture
def frozen() -> Iterator[None]:
    with freeze_time(NOW):
        yield


def due_days(data: dict[str, Any]) -> list[tuple[date, int]]:
    return [(date.fromisoformat(d["date"]), d["due"]) for d in data["days"]]


def section(text: str, first: str, last: str | None) -> str:
    lines = text.split("\n")
    start = lines.index(first)
    end = next(i for i in range(start, len(lines)) if last and lines[i].startswith(last)) \
        if last else len(lines)
    return "\n".join(lines[start:end])


@pytest.mark.parametrize("width", WIDTHS)
def test_forecast_command(history: None, frozen: None, run: Run, run_json: RunJson,
                          monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    for days in ("30", "400"):
        data = due_days(run_json("forecast", "--days", days))
        result = run("forecast", "--days", days)
        assert result.exit_code == 0
        assert "\x1b" not in result.stdout
        chart = check_forecast(section(result.stdout, TITLE, "Backlog"), data, width)
        if days == "400":
            assert {2026, 2027} <= set(chart.years.values())
            assert max(bar.count for bar in chart.bars) >= 12
            assert sum(bar.count for bar in chart.bars) == 60
    assert dict(due_days(run_json("forecast", "--days", "400")))[date(2027, 1, 4)] == 12


@pytest.mark.parametrize("width", WIDTHS)
def test_stats_command(history: None, frozen: None, run: Run, run_json: RunJson,
                       monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    data = run_json("stats")
    result = run("stats")
    assert result.exit_code == 0
    out = result.stdout
    assert "\x1b" not in out
    heat = section(out, HEATMAP_TITLE, None).split("\n\n")[0]
    assert too_wide(heat, width) == []
    _title, rows, months, years, legend = read_heatmap(heat)
    counts = {date.fromisoformat(d["date"]): d["self_tests"] for d in data["reviews"]["days"]}
    top = max(counts.values())
    assert top >= 2
    start = date(2025, 12, 1)  # the Monday of the week of 2025-12-01, 364 days before
    for day, n in counts.items():
        col = 4 + (day - start).days // 7
        assert rows[day.weekday()][col] == SHADES[-(-4 * n // top) if n else 0], day
    assert "2026" in years.split()
    assert legend[0].startswith("· 0  ░ 1")
    forecast = section(out, TITLE, "Backlog")
    check_forecast(forecast, due_days(data["forecast"]), width)


# -- a real pipe and a real terminal ------------------------------------------------------


@pytest.fixture
def due_now(run: Run) -> dict[str, str]:
    """Cards due over the coming days by today's real clock (a subprocess cannot be frozen);
    the environment to run `review` in."""
    for n, ahead in enumerate([0, 1, 1, 3, 3, 3, 8, 8, 20, 20, 20, 20, 20, 20, 20, 20, 20,
                               20, 20, 20, 20, 100, 380]):
        assert run("add", f"topic {n}", "--learned", "2026-01-01").exit_code == 0
        if n < 2:  # a self-test for the heatmap
            assert run("grade", str(n + 1), "good").exit_code == 0
        assert run("set-due", str(n + 1), f"+{ahead}d").exit_code == 0
    return {**os.environ}


def piped(args: list[str], env: dict[str, str], width: int, no_color: bool) -> str:
    environment = {**env, "COLUMNS": str(width), "TERM": "xterm-256color"}
    environment.pop("NO_COLOR", None)
    if no_color:
        environment["NO_COLOR"] = "1"
    done = subprocess.run([REVIEW, *args], env=environment, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    return done.stdout.decode()


def on_terminal(args: list[str], env: dict[str, str], width: int, no_color: bool,
                monkeypatch: pytest.MonkeyPatch) -> str:
    if no_color:  # in_terminal leaves NO_COLOR out: set it on the way in, through env(1)
        monkeypatch.setattr(terminal, "REVIEW", shutil.which("env"))
        args = ["NO_COLOR=1", REVIEW, *args]
    status, output = in_terminal(args, env=env, columns=width)
    assert status == 0, output.decode()
    assert stray_controls(output) == []
    return output.decode()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
@pytest.mark.parametrize("where", ["piped", "terminal"])
def test_forecast_piped_and_on_a_terminal(due_now: dict[str, str], run_json: RunJson,
                                          monkeypatch: pytest.MonkeyPatch, width: int,
                                          no_color: bool, where: str) -> None:
    args = ["forecast", "--days", "400"]
    if where == "piped":
        out = piped(args, due_now, width, no_color)
    else:
        out = on_terminal(args, due_now, width, no_color, monkeypatch)
    data = due_days(run_json(*args))
    assert background_codes(out) == []
    if where == "terminal" and not no_color:
        assert SGR.search(out.encode()) and "\x1b[36m" in out
    else:
        assert "\x1b" not in out
    chart = check_forecast(section(unstyled(out), TITLE, "Backlog"), data, width)
    assert sum(bar.count for bar in chart.bars) == 23
    assert chart.years


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
@pytest.mark.parametrize("where", ["piped", "terminal"])
def test_stats_piped_and_on_a_terminal(due_now: dict[str, str], run_json: RunJson,
                                       monkeypatch: pytest.MonkeyPatch, width: int,
                                       no_color: bool, where: str) -> None:
    if where == "piped":
        out = piped(["stats"], due_now, width, no_color)
    else:
        out = on_terminal(["stats"], due_now, width, no_color, monkeypatch)
    assert background_codes(out) == []
    charts = out[out.index(HEATMAP_TITLE):out.index("Backlog")]
    assert too_wide(charts, width) == []
    if where == "terminal" and not no_color:
        assert "\x1b[32m" in charts and "\x1b[36m" in charts
    else:
        assert "\x1b" not in charts
    if where == "piped":
        assert "\x1b" not in out
    forecast = due_days(run_json("stats")["forecast"])
    check_forecast(section(unstyled(out), TITLE, "Backlog"), forecast, width)


def test_charts_load_neither_matplotlib_nor_plotext(due_now: dict[str, str]) -> None:
    for args in (["stats"], ["forecast"]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cli", *args],
                              cwd=Path(__file__).resolve().parent.parent, env=due_now,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        loaded = {line.rsplit("|", 1)[1].strip().split(".")[0]
                  for line in done.stderr.splitlines() if line.startswith("import time:")}
        assert "cli" in loaded
        assert not loaded & {"matplotlib", "plotext", "numpy", "PIL"}, args


# -- PNGs --------------------------------------------------------------------------------


def image(path: Path) -> Any:
    from matplotlib.image import imread

    return imread(str(path))


def has_colour(pixels: Any, rgb: tuple[int, int, int]) -> bool:
    import numpy

    target = numpy.array(rgb) / 255
    return bool((numpy.abs(pixels[:, :, :3] - target).max(axis=2) < 0.02).any())


def test_stats_png(history: None, frozen: None, run: Run, tmp_path: Path) -> None:
    path = tmp_path / "stats.png"
    result = run("stats", "--plot", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Study day 2026-11-30\n")
    pixels = image(path)
    assert pixels.shape == (600, 1100, 4)
    assert has_colour(pixels, (0x2C, 0xA0, 0x2C))  # the self-tests done, in tab:green
    assert has_colour(pixels, (0x1F, 0x77, 0xB4))  # the forecast, in tab:blue


@pytest.mark.parametrize("days", ["7", "400"])
def test_forecast_png(history: None, frozen: None, run: Run, run_json: RunJson,
                      tmp_path: Path, days: str) -> None:
    path = tmp_path / "forecast.image"  # a PNG whatever the name says
    result = run("forecast", "--days", days, "--plot", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == run_json("forecast", "--days", days)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image(path)
    assert pixels.shape == (400, 1000, 4)
    assert has_colour(pixels, (0x1F, 0x77, 0xB4))


def test_a_png_that_cannot_be_written_is_one_line(history: None, frozen: None, run: Run,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "no such folder" / "f.png"
    result = run("forecast", "--plot", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: cannot write {path}: No such file or directory\n"
