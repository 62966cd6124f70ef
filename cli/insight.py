"""Insight and tuning: stats, forecast, optimize."""

from __future__ import annotations

import math
import shutil
import sys
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import click

from cli.output import DAYS, console, echo, json_option, print_json
from srs.app import App
from srs.i18n import _

if TYPE_CHECKING:
    from srs.optimize import OptimizeResult
    from srs.sql import SqlConn

MONTHS = (_("Jan"), _("Feb"), _("Mar"), _("Apr"), _("May"), _("Jun"), _("Jul"), _("Aug"),
          _("Sep"), _("Oct"), _("Nov"), _("Dec"))
SHADES = "·░▒▓█"


def _plot_option(func: Any) -> Any:
    return click.option("--plot", "plot_file", metavar="FILE.png",
                        type=click.Path(dir_okay=False, writable=True),
                        help="Also draw the charts into a PNG (needs srs[plot]).")(func)


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise click.ClickException(_(
            "--plot needs matplotlib; install it with: pip install 'srs[plot]'")) from None
    return plt


def _width() -> int:
    return max(40, min(shutil.get_terminal_size((100, 24)).columns, 120))


def _plotext() -> Any:
    """plotext, without the documentation browser it builds as it is imported.

    plotext 6 ends its `__init__` by loading 28 modules of documentation into `plotext.doc`
    (60-100 ms here, more than the rest of `review stats` together); the charts never use
    it, so a stand-in module takes its place. Where a plotext is laid out otherwise the
    stand-in is never imported and plotext loads as usual.
    """
    if "plotext" not in sys.modules:
        import types

        stand_in = types.ModuleType("plotext._doc.doc")
        stand_in.docs = None  # type: ignore[attr-defined]
        sys.modules.setdefault("plotext._doc.doc", stand_in)
    import plotext

    return plotext


def _figure() -> Any:
    figure = _plotext().figure
    figure.clear.all()
    return figure


def _render(figure: Any, colour: bool = True) -> str:
    text: str = figure.build().string(colorless=not (colour and sys.stdout.isatty()))
    figure.clear.all()
    return text


def _int_ticks(top: int) -> list[int]:
    step = max(1, math.ceil(top / 4))
    return list(range(0, top + step, step))


def forecast_chart(days: list[tuple[date, int]], width: int) -> str:
    """The forecast as a plotext bar chart, one bar per day."""
    figure = _figure()
    top = max((n for _day, n in days), default=0)
    figure.plot_size(width, 14)
    figure.draw(figure.bar([d.strftime("%m-%d") for d, _n in days], [n for _d, n in days],
                           width=0.6))
    figure.ruler(1).ticks(_int_ticks(max(top, 1)))
    figure.title(_("Self-tests due per day"))
    return _render(figure)


def _level(count: int, top: int) -> int:
    return 0 if count <= 0 or top <= 0 else max(1, math.ceil(4 * count / top))


def heatmap_chart(days: list[Any], today: date) -> str:
    """Self-tests per study day over the last year, weeks across and weekdays down."""
    from rich.cells import cell_len

    from srs.stats import heatmap_weeks

    start, grid = heatmap_weeks(days, today)
    weeks = len(grid[0])
    top = max((v for row in grid for v in row if v is not None), default=0)
    figure = _figure()
    for weekday, row in enumerate(grid):
        xs = [col for col, v in enumerate(row) if v is not None]
        marks = [SHADES[_level(v, top)] for v in row if v is not None]
        figure.draw(figure.signal(xs, [6 - weekday] * len(xs), marker=marks))
    labels = [_("Mon"), _("Wed"), _("Fri")]
    figure.ruler(1).ticks([6, 4, 2], labels)
    ticks, names = [], []
    for col in range(weeks):
        monday = start + timedelta(days=7 * col)
        first = next((monday + timedelta(days=i) for i in range(7)
                      if (monday + timedelta(days=i)).day == 1), None)
        if first is not None and col < weeks - 1:
            ticks.append(col)
            names.append(MONTHS[first.month - 1])
    figure.ruler(0).ticks(ticks, names)
    figure.plot_size(weeks + max(cell_len(label) for label in labels) + 2, 7 + 4)
    figure.title(_("Self-tests in the last year"))
    legend = "  ".join(f"{SHADES[k]} {text}" for k, text in _legend(top))
    # The shades carry the counts; colours would only tell the weekday rows apart.
    return _render(figure, colour=False) + legend


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
    """Show how you are doing: cards, reviews per day, true retention, heatmap, forecast.

    \b
    Examples:
        review stats
        review stats --json
        review stats --plot stats.png
    """
    from rich.table import Table

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
    out = console()
    echo(_("Study day {day}").format(day=data["today"]))
    echo(_("Cards: {total} ({new} new, {learning} learning, {review} in review, "
                 "{relearning} relearning; {suspended} suspended; {gone} no longer in the log)")
               .format(gone=cards["not_in_log"], **{k: v for k, v in cards.items()
                                                   if k != "not_in_log"}))
    echo(_("Due: {today} today ({overdue} overdue), {week} within 7 days").format(**due))
    for label, key in ((_("last 30 days"), "last_30_days"), (_("last 365 days"),
                                                              "last_365_days")):
        window = reviews[key]
        echo(_("Self-tests, {label}: {n} ({per_day} a day), {studied} first studies")
                   .format(label=label, n=window["self_tests"], per_day=window["per_day"],
                           studied=window["studied"]))
    if memory["cards"]:
        echo(_("Memory: average stability {s} days, average retrievability {r:.0%}")
                   .format(s=memory["average_stability"], r=memory["average_retrievability"]))
    retention = data["true_retention"]
    if retention["months"]:
        echo(_("True retention (passed self-tests of cards in review):"))
        table = Table(box=None, pad_edge=False)
        for name in ("month", "self-tests", "passed", "retention"):
            table.add_column(_(name), justify="left" if name == "month" else "right")
        for month in retention["months"]:
            table.add_row(month["month"], str(month["self_tests"]), str(month["passed"]),
                          f"{month['retention']:.1%}")
        table.add_row(_("all"), str(retention["self_tests"]), str(retention["passed"]),
                      f"{retention['overall']:.1%}")
        out.print(table)
    echo("")
    click.echo(heatmap_chart(stats.days, stats.today))
    echo("")
    click.echo(forecast_chart(stats.forecast.days, _width()))
    echo(_("Backlog (due before today): {n}").format(n=stats.forecast.backlog))


def _plot_stats(path: str, stats: Any) -> None:
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6))
    days = [d.day for d in stats.days]
    top.bar(days, [d.self_tests for d in stats.days], color="tab:green")
    top.set_title(_("Self-tests per study day"))
    bottom.bar([d for d, _n in stats.forecast.days], [n for _d, n in stats.forecast.days])
    bottom.set_title(_("Self-tests due per day"))
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


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
        plt = _pyplot()
        fig, axes = plt.subplots(figsize=(10, 4))
        axes.bar([d for d, _n in result.days], [n for _d, n in result.days])
        axes.set_title(_("Self-tests due per day"))
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(plot_file)
        plt.close(fig)
    if as_json:
        print_json(result.to_json())
        return
    click.echo(forecast_chart(result.days, _width()))
    total = sum(n for _d, n in result.days)
    echo(_("Backlog (due before today): {backlog}; due in the next {days} days: {total}")
               .format(backlog=result.backlog, days=days, total=total))


def _score_line(label: str, data: dict[str, Any] | None) -> str:
    if data is None or data["log_loss"] is None:
        return _("{label}: no self-tests to score").format(label=label)
    return _("{label}: log loss {log_loss:.4f}, RMSE(bins) {rmse:.4f}").format(
        label=label, log_loss=data["log_loss"], rmse=data["rmse_bins"])


@click.command("optimize")
@click.option("--apply", "apply_", is_flag=True,
              help="Store the fitted parameters if they fit better, and reschedule every card.")
@click.option("--revert", is_flag=True, help="Go back to the parameters --apply replaced.")
@json_option
@click.pass_obj
def optimize_cmd(app: App, apply_: bool, revert: bool, as_json: bool) -> None:
    """Fit FSRS's 21 parameters to your own self-tests (fsrs-rs), and compare them.

    Without --apply nothing changes. With it, better-fitting parameters are stored and
    every card is rescheduled from its history; --revert undoes that.

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
        echo(_("back to {which}; {n} cards rescheduled").format(
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
        return
    history = data["history"]
    echo(_("History: {tests} self-tests on {cards} cards ({reviews} graded events)")
               .format(tests=history["self_tests"], cards=history["cards"],
                       reviews=history["reviews"]))
    current = _("current (default)") if result.current_is_default else _("current (fitted)")
    echo(_score_line(current, data["current"]))
    if data["new"] is not None:
        echo(_score_line(_("fitted"), data["new"]))
        echo(_("fitted parameters: {values}").format(
            values=", ".join(f"{p:.4f}" for p in data["new"]["parameters"])))
    if result.applied:
        echo(_("applied; {n} cards rescheduled ('review optimize --revert' undoes it)")
                   .format(n=result.rescheduled))
    elif result.reason:
        echo(result.reason)
    elif result.better:
        echo(_("the fitted parameters fit better; 'review optimize --apply' uses them"))
    echo(_("took {s:.2f} s").format(s=data["seconds"]))
