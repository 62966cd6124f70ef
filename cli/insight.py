"""Insight and tuning: stats, forecast, optimize."""

from __future__ import annotations

import math
import os
import shutil
import sys
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import click

from cli.output import DAYS, echo, json_option, print_json, say
from srs.app import App
from srs.i18n import _, ngettext

if TYPE_CHECKING:
    from collections.abc import Sequence

    from srs.optimize import OptimizeResult
    from srs.sql import SqlConn
    from srs.stats import DayActivity

MONTHS = (_("Jan"), _("Feb"), _("Mar"), _("Apr"), _("May"), _("Jun"), _("Jul"), _("Aug"),
          _("Sep"), _("Oct"), _("Nov"), _("Dec"))
SHADES = "·░▒▓█"


def _plot_option(func: Any) -> Any:
    return click.option("--plot", "plot_file", metavar="FILE.png",
                        type=click.Path(dir_okay=False, writable=True),
                        help="Also draw the charts into a PNG (needs srs[plot]).")(func)


# -- charts in the terminal --------------------------------------------------------------
#
# Drawn here cell by cell rather than through plotext: a chart needs its numbers on the
# bars, each date under its own bar and the terminal's own background, and plotext's bar
# charts give none of the three (it places tick labels by its own scaling and paints a
# canvas colour); cells also cost nothing to import.

BLOCKS = " ▁▂▃▄▅▆▇█"  # a bar's top cell, in eighths
BAR_ROWS = 6  # the tallest bar, in rows
WIDEST_BAR = 7  # cells; a few days on a wide terminal do not become slabs
# Foreground styles only (SGR): whatever background the terminal has shows through.
FORECAST_STYLE, HEATMAP_STYLE, FAINT = "36", "32", "2"


def _colour() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _width() -> int:
    """The terminal's width (COLUMNS first), 80 when piped; charts stop growing at 120."""
    return max(20, min(shutil.get_terminal_size((80, 24)).columns, 120))


_DRAWN = frozenset(BLOCKS + SHADES + "─…")  # one cell each


def _cells(text: str) -> int:
    """Terminal cells `text` takes (a CJK character is two)."""
    if text.isascii() or all(char in _DRAWN for char in text):
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


class _Canvas:
    """Lines of terminal cells, each a character and its style, written to by cell column."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[list[tuple[str, str]]] = []

    def line(self) -> int:
        self.lines.append([(" ", "")] * self.width)
        return len(self.lines) - 1

    def free(self, line: int, col: int, cells: int) -> bool:
        """Whether `cells` cells from `col` are inside the width and blank, with a blank cell
        (or the edge) on either side."""
        if col < 0 or col + cells > self.width:
            return False
        row = self.lines[line]
        return all(row[c][0] == " " for c in range(max(0, col - 1),
                                                   min(self.width, col + cells + 1)))

    def put(self, line: int, col: int, text: str, style: str = "") -> None:
        row = self.lines[line]
        for char in text:
            cells = _cells(char)
            if col + cells > self.width:
                break
            row[col] = (char, style)
            for extra in range(1, cells):
                row[col + extra] = ("", style)  # the right half of a wide character
            col += cells

    def put_wrapped(self, text: str, style: str = "") -> None:
        """`text` on new lines, broken between words to the width (a word wider than the
        whole width cut with an ellipsis)."""
        words = text.split(" ")
        while words:
            line = words.pop(0)
            while words and _cells(f"{line} {words[0]}") <= self.width:
                line += " " + words.pop(0)
            if _cells(line) > self.width:
                while line and _cells(line) > self.width - 1:
                    line = line[:-1]
                line += "…"
            self.put(self.line(), 0, line, style)

    def text(self, colour: bool) -> str:
        out = []
        for row in self.lines:
            end = len(row)
            while end and row[end - 1][0] == " ":
                end -= 1
            parts, current = [], ""
            for char, style in row[:end]:
                if colour and style != current:
                    parts.append("\x1b[0m" if current else "")
                    parts.append(f"\x1b[{style}m" if style else "")
                    current = style
                parts.append(char)
            if current:
                parts.append("\x1b[0m")
            out.append("".join(parts))
        return "\n".join(out)


def _group_size(least: int) -> int:
    """The fewest days a bar sums that is at least `least`: 1, 2, 3, a week, two, then weeks."""
    for size in (1, 2, 3, 7, 14):
        if size >= least:
            return size
    return -(-least // 7) * 7


def _forecast_bars(days: Sequence[tuple[date, float]], width: int, mean: bool = False
                   ) -> tuple[int, int, list[tuple[date, int]]]:
    """The days summed (`mean`: averaged, a day's share of each) into as many bars as
    `width` holds, each as wide as its widest count.

    Returns the days a bar sums, the cells a bar takes with the blank after it, and the bars
    (the first day of each, its whole count).
    """
    size = 1
    while True:
        bars = [(days[i][0], round(sum(n for _d, n in days[i:i + size])
                                   / (len(days[i:i + size]) if mean else 1)))
                for i in range(0, len(days), size)]
        slot = len(str(max(n for _d, n in bars))) + 1
        if len(bars) * slot <= width or len(bars) == 1:
            return size, max(slot, min(width // len(bars), WIDEST_BAR + 1)), bars
        size = max(_group_size(-(-len(days) // max(1, width // slot))), _group_size(size + 1))


def forecast_chart(days: Sequence[tuple[date, float]], width: int, colour: bool = False,
                   title: str | None = None, mean: bool = False) -> str:
    """The forecast (or any count a day under `title`) as bars of block characters, one a
    day or one a few days (their sum, or with `mean` their average a day), at most `width`
    cells wide: each bar's count above it, its first day under it, the year on an axis
    that crosses one."""
    canvas = _Canvas(width)
    canvas.put_wrapped(title or _("Self-tests due per day"))
    if not days:
        return canvas.text(colour)
    size, slot, bars = _forecast_bars(days, width, mean)
    top = max(n for _d, n in bars)
    # BAR_ROWS rows of bars under one more for the tallest bar's count; only the counts'
    # row when nothing falls due.
    rows = BAR_ROWS if top else 0
    for _row in range(rows + 1):
        canvas.line()
    bottom = len(canvas.lines) - 1
    for i, (_day, count) in enumerate(bars):
        col = i * slot
        eighths = max(1, round(count * rows * 8 / top)) if count else 0
        full, part = divmod(eighths, 8)
        for row in range(full):
            canvas.put(bottom - row, col, "█" * (slot - 1), FORECAST_STYLE)
        if part:
            canvas.put(bottom - full, col, BLOCKS[part] * (slot - 1), FORECAST_STYLE)
        canvas.put(bottom - full - (1 if part else 0), col, str(count),
                   "" if count else FAINT)
    canvas.put(canvas.line(), 0, "─" * (len(bars) * slot - 1), FAINT)
    labels = canvas.line()
    labelled: list[tuple[int, date]] = []
    for i, (day, _count) in enumerate(bars):
        label = day.strftime("%m-%d")
        if canvas.free(labels, i * slot, len(label)):
            canvas.put(labels, i * slot, label)
            labelled.append((i * slot, day))
    if days[0][0].year != days[-1][0].year:
        years, shown = canvas.line(), None
        for col, day in labelled:
            if day.year != shown and canvas.free(years, col, 4):
                canvas.put(years, col, str(day.year))
                shown = day.year
    if size > 1:
        canvas.put_wrapped((ngettext("each bar: the average of {n} day from the date under it",
                                     "each bar: the average of {n} days from the date under "
                                     "it", size) if mean else
                            ngettext("each bar: {n} day from the date under it",
                                     "each bar: {n} days from the date under it", size))
                           .format(n=size), FAINT)
    return canvas.text(colour)


def _level(count: int, top: int) -> int:
    return 0 if count <= 0 or top <= 0 else max(1, math.ceil(4 * count / top))


def heatmap_chart(days: Sequence[DayActivity], today: date, width: int,
                  colour: bool = False) -> str:
    """Self-tests per study day over the last year, weeks across and weekdays down, at most
    `width` cells wide (the latest weeks when narrower): months and years under the weeks
    they start in, and what each shade counts."""
    from srs.stats import heatmap_weeks

    start, grid = heatmap_weeks(days, today)
    names = (_("Mon"), "", _("Wed"), "", _("Fri"), "", "")
    gutter = max(_cells(name) for name in names) + 1
    shown = max(1, min(len(grid[0]), width - gutter))
    skip = len(grid[0]) - shown
    top = max((v for row in grid for v in row if v is not None), default=0)
    canvas = _Canvas(width)
    canvas.put_wrapped(_("Self-tests in the last year") if skip == 0 else
                       ngettext("Self-tests in the last {n} week",
                                "Self-tests in the last {n} weeks", shown).format(n=shown))
    for weekday, row in enumerate(grid):
        line = canvas.line()
        canvas.put(line, 0, names[weekday])
        for col, count in enumerate(row[skip:]):
            if count is not None:
                level = _level(count, top)
                canvas.put(line, gutter + col, SHADES[level], HEATMAP_STYLE if level else FAINT)
    # A month is named under the week its first day falls in, the year under each January
    # and under the first month named when there is room.
    earliest = max(start + timedelta(days=7 * skip), today - timedelta(days=364))
    months, years = canvas.line(), canvas.line()
    named: list[tuple[int, date]] = []
    for col in range(shown):
        monday = start + timedelta(days=7 * (skip + col))
        first = next((monday + timedelta(days=i) for i in range(7)
                      if (monday + timedelta(days=i)).day == 1), None)
        if first is None or not earliest <= first <= today:
            continue
        name = MONTHS[first.month - 1]
        if canvas.free(months, gutter + col, _cells(name)):
            canvas.put(months, gutter + col, name)
            named.append((gutter + col, first))
    for col, first in [(c, d) for c, d in named if d.month == 1] + named[:1]:
        if canvas.free(years, col, 4):
            canvas.put(years, col, str(first.year))
    if not named:
        del canvas.lines[months:]
    legend = [(SHADES[k], text) for k, text in _legend(top)]
    line, col = canvas.line(), 0
    for shade, text in legend:
        cells = 2 + _cells(text)
        if col and col + 2 + cells > width:
            line, col = canvas.line(), 0
        elif col:
            col += 2
        canvas.put(line, col, shade, HEATMAP_STYLE if shade != SHADES[0] else FAINT)
        canvas.put(line, col + 2, text)
        col += cells
    return canvas.text(colour)


def _legend(top: int) -> list[tuple[int, str]]:
    parts = [(0, "0")]
    for level in range(1, 5):
        low = (level - 1) * top // 4 + 1
        high = level * top // 4
        if high >= low:
            parts.append((level, str(low) if low == high else f"{low}-{high}"))
    return parts


@click.command("stats")
@json_option
@_plot_option
@click.pass_obj
def stats_cmd(app: App, as_json: bool, plot_file: str | None) -> None:
    """Show how you are doing: cards, reviews per day, minutes, true retention, charts.

    \b
    Examples:
        review stats
        review stats --json
        review stats --plot stats.png
    """
    from srs.stats import collect_stats

    now = app.now()
    with app.reading() as conn:
        stats = collect_stats(conn, engine=app.engine(conn), clock=app.clock, now=now)
    data = stats.to_json()
    if plot_file:
        _plot_stats(plot_file, stats)
    if as_json:
        print_json(data)
        return
    cards, due, reviews, memory = data["cards"], data["due"], data["reviews"], data["memory"]
    say(_("Study day {day}").format(day=data["today"]))
    say(_("Cards: {total} ({new} new, {learning} learning, {review} in review, "
                 "{relearning} relearning; {suspended} suspended; {gone} no longer in the log)")
               .format(gone=cards["not_in_log"], **{k: v for k, v in cards.items()
                                                   if k != "not_in_log"}))
    say(_("Due: {today} today ({overdue} overdue), {week} within 7 days").format(**due))
    for label, key in ((_("last 30 days"), "last_30_days"), (_("last 365 days"),
                                                              "last_365_days")):
        window = reviews[key]
        say(ngettext("Self-tests, {label}: {n} ({per_day} a day), {studied} first study",
                      "Self-tests, {label}: {n} ({per_day} a day), {studied} first studies",
                      window["studied"]).format(label=label, n=window["self_tests"],
                                                per_day=window["per_day"],
                                                studied=window["studied"]))
    spent = data["minutes"]
    if spent["self_tests_timed"]:
        say(ngettext("Minutes of self-tests, last 30 days: {total:g} ({per_day:g} a day); "
                     "median {median:g} min a self-test ({n} timed)",
                     "Minutes of self-tests, last 30 days: {total:g} ({per_day:g} a day); "
                     "median {median:g} min a self-test ({n} timed)",
                     spent["self_tests_timed"]).format(
            total=spent["total"], per_day=spent["per_day"],
            median=spent["median_per_self_test"], n=spent["self_tests_timed"]))
    else:
        say(_("No self-test timed in the last 30 days: 'review session' times each one, "
              "and 'review grade ID good --duration 15m' records one"))
    if memory["cards"]:
        say(_("Memory: average stability {s} days, average retrievability {r:.0%}")
                   .format(s=memory["average_stability"], r=memory["average_retrievability"]))
    retention = data["true_retention"]
    if retention["months"]:
        say(_("True retention (passed self-tests of cards in review):"))
        from cli.output import Column, print_table

        rows = [[month["month"], month["self_tests"], month["passed"],
                 f"{month['retention']:.1%}"] for month in retention["months"]]
        rows.append([_("all"), retention["self_tests"], retention["passed"],
                     f"{retention['overall']:.1%}"])
        print_table([Column(_("month")), Column(_("self-tests"), right=True),
                     Column(_("passed"), right=True), Column(_("retention"), right=True)], rows)
    say("")
    width, colour = _width(), _colour()
    click.echo(heatmap_chart(stats.days, stats.today, width, colour))
    say("")
    if stats.minutes.timed:
        click.echo(forecast_chart(stats.minutes.days, width, colour,
                                  title=_("Minutes of self-tests per study day")))
        say("")
    click.echo(forecast_chart(stats.forecast.days, width, colour))
    say(_("Backlog (due before today): {n}").format(n=stats.forecast.backlog))


# -- charts in a PNG (--plot) ------------------------------------------------------------

PLOT_DPI = 100  # with the sizes in inches below: 1100 x 600 and 1000 x 400 pixels
STATS_PLOT_SIZE, FORECAST_PLOT_SIZE = (11, 6), (10, 4)
MOST_LABELLED_BARS = 62


def _plot_figure(size: tuple[float, float]) -> Any:
    """A matplotlib figure of `size` inches, drawn off screen: no pyplot, no backend chosen
    for the rest of the process."""
    try:
        import matplotlib.figure
    except ImportError:
        raise click.ClickException(_(
            "--plot needs matplotlib; install it with: pip install 'srs[plot]'")) from None
    return matplotlib.figure.Figure(figsize=size, dpi=PLOT_DPI, layout="constrained")


def _plot_bars(axes: Any, days: list[tuple[date, int]], title: str, colour: str) -> None:
    """Bars a day on a date axis that names the year, each with its count when they fit."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import MaxNLocator

    counts = [n for _d, n in days]
    bars = axes.bar([d for d, _n in days], counts, width=0.8, color=colour)
    if len(days) <= MOST_LABELLED_BARS:
        axes.bar_label(bars, labels=[str(n) if n else "" for n in counts], fontsize=8)
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if days:
        axes.set_xlim(days[0][0] - timedelta(days=1), days[-1][0] + timedelta(days=1))
    axes.set_ylim(0, max(1, max(counts, default=0)) * 1.15)
    axes.set_title(title)


def _save_plot(figure: Any, path: str) -> None:
    """The figure as a PNG at `path` (whatever its name ends in); one line when it cannot be
    written."""
    from srs.text import plain

    try:
        figure.savefig(path, format="png", dpi=PLOT_DPI)
    except OSError as error:
        raise click.ClickException(_("cannot write {path}: {reason}").format(
            path=plain(path), reason=error.strerror or error)) from None


def _plot_stats(path: str, stats: Any) -> None:
    figure = _plot_figure(STATS_PLOT_SIZE)
    timed = bool(stats.minutes.timed)
    axes = figure.subplots(3 if timed else 2, 1)
    done = {d.day: d.self_tests for d in stats.days}
    year = [stats.today - timedelta(days=i) for i in range(364, -1, -1)]
    _plot_bars(axes[0], [(day, done.get(day, 0)) for day in year],
               _("Self-tests per study day"), "tab:green")
    if timed:
        _plot_bars(axes[1], [(day, round(n)) for day, n in stats.minutes.days],
                   _("Minutes of self-tests per study day"), "tab:orange")
    _plot_bars(axes[-1], stats.forecast.days, _("Self-tests due per day"), "tab:blue")
    _save_plot(figure, path)


@click.command("forecast")
@click.option("--days", type=DAYS, default=30, show_default=True,
              help="How many study days ahead, today first.")
@json_option
@_plot_option
@click.pass_obj
def forecast_cmd(app: App, days: int, as_json: bool, plot_file: str | None) -> None:
    """Show how many self-tests fall due on each of the next N days, and the backlog.

    \b
    Examples:
        review forecast
        review forecast --days 7 --json
    """
    from srs.stats import forecast

    with app.reading() as conn:
        result = forecast(conn, clock=app.clock, now=app.now(), days=days)
    if plot_file:
        figure = _plot_figure(FORECAST_PLOT_SIZE)
        _plot_bars(figure.subplots(), result.days, _("Self-tests due per day"), "tab:blue")
        _save_plot(figure, plot_file)
    if as_json:
        print_json(result.to_json())
        return
    click.echo(forecast_chart(result.days, _width(), _colour()))
    total = sum(n for _d, n in result.days)
    echo(ngettext("Backlog (due before today): {backlog}; due in the next {days} day: {total}",
                  "Backlog (due before today): {backlog}; due in the next {days} days: "
                  "{total}", days).format(backlog=result.backlog, days=days, total=total))


def _score_line(label: str, data: dict[str, Any] | None) -> str:
    if data is None or data["log_loss"] is None:
        return _("{label}: no self-tests to score").format(label=label)
    return _("{label}: log loss {log_loss:.4f}, RMSE(bins) {rmse:.4f}").format(
        label=label, log_loss=data["log_loss"], rmse=data["rmse_bins"])


@click.command("optimize")
@click.option("--apply", "apply_", is_flag=True,
              help="Store the fitted parameters if they predict better out of sample, and "
                   "reschedule every card.")
@click.option("--revert", is_flag=True, help="Go back to the parameters --apply replaced.")
@json_option
@click.pass_obj
def optimize_cmd(app: App, apply_: bool, revert: bool, as_json: bool) -> None:
    """Fit FSRS's 21 parameters to your own self-tests (fsrs-rs), and compare them.

    Both are scored out of sample: the later self-tests, each predicted by a fit to the
    ones before it. Without --apply nothing changes. With it, parameters that predict
    better out of sample (lower log loss) are stored and every card is rescheduled from
    its history; --revert undoes that.

    \b
    Examples:
        review optimize
        review optimize --apply
        review optimize --revert
    """
    import time

    from srs.optimize import optimize
    from srs.optimize import revert as revert_parameters

    if apply_ and revert:
        raise click.BadParameter(_("use --apply or --revert, not both"), param_hint="--revert")
    now = app.now()
    if revert:
        reverted = app.write(lambda conn: revert_parameters(conn, engine=app.engine(conn),
                                                            now=now))
        if as_json:
            print_json(reverted.to_json())
            return
        which = _("the default parameters") if reverted.is_default else _(
            "the previous parameters")
        echo(ngettext("back to {which}; {n} card rescheduled",
                      "back to {which}; {n} cards rescheduled", reverted.rescheduled).format(
            which=which, n=reverted.rescheduled))
        return
    started = time.perf_counter()

    def work(conn: SqlConn) -> OptimizeResult:
        return optimize(conn, engine=app.engine(conn), now=now, apply=apply_)

    if apply_:
        result = app.write(work)
    else:
        with app.reading() as conn:
            result = work(conn)
    data = result.to_json()
    data["seconds"] = round(time.perf_counter() - started, 3)
    if as_json:
        print_json(data)
        if apply_ and not result.applied:
            raise click.exceptions.Exit(1)
        return
    history = data["history"]
    echo(_("History: {history} ({reviews})").format(
        history=_("{tests} on {cards}").format(
            tests=ngettext("{n} self-test", "{n} self-tests", history["self_tests"]).format(
                n=history["self_tests"]),
            cards=ngettext("{n} card", "{n} cards", history["cards"]).format(
                n=history["cards"])),
        reviews=ngettext("{n} graded event", "{n} graded events", history["reviews"]).format(
            n=history["reviews"])))
    current = _("current (default)") if result.current_is_default else _("current (fitted)")
    new = data["new"]
    if new is not None:
        held = data["held_out"]["self_tests"]
        say(ngettext("Out of sample ({n} self-test, each predicted by a fit to the ones "
                     "before it):", "Out of sample ({n} self-tests, each predicted by a fit "
                     "to the ones before it):", held).format(n=held))
        echo("  " + _score_line(current, data["current"]["out_of_sample"]))
        echo("  " + _score_line(_("fitted"), new["out_of_sample"]))
    tests = history["self_tests"]
    say(ngettext("In sample (all {n} self-test, which the fit has seen):",
                 "In sample (all {n} self-tests, which the fit has seen):", tests).format(n=tests)
        if new is not None else ngettext("In sample (all {n} self-test):",
                                         "In sample (all {n} self-tests):", tests).format(n=tests))
    echo("  " + _score_line(current, data["current"]["in_sample"]))
    if new is not None:
        echo("  " + _score_line(_("fitted"), new["in_sample"]))
        say(_("fitted parameters: {values}").format(
            values=", ".join(f"{p:.4f}" for p in new["parameters"])))
    if result.applied:
        say(ngettext("applied: {reason}; {n} card rescheduled ('review optimize --revert' "
                     "undoes it)", "applied: {reason}; {n} cards rescheduled ('review "
                     "optimize --revert' undoes it)", result.rescheduled).format(
            reason=result.reason, n=result.rescheduled))
    elif apply_ or not result.better:
        say(_("not applied: {reason}").format(reason=result.reason))
    else:
        say(_("{reason}; 'review optimize --apply' uses the fitted parameters").format(
            reason=result.reason))
    echo(_("took {s:.2f} s").format(s=data["seconds"]))
    if apply_ and not result.applied:
        raise click.exceptions.Exit(1)  # asked to apply, and nothing was
