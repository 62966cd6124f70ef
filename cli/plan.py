"""Planning the workload: `review simulate`."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from cli.output import DAYS, json_option, print_json, say
from srs.app import App
from srs.i18n import _, ngettext

if TYPE_CHECKING:
    from srs.simulate import Outcome, Plan


def _retentions(ctx: click.Context, param: click.Parameter, value: str | None
                ) -> tuple[float, ...] | None:
    """`--retention 0.8,0.9` or `80%,90%`: one line naming the bad value otherwise."""
    if value is None:
        return None
    from srs.simulate import SimulationError, check_retentions

    values = []
    for part in value.replace("，", ",").split(","):
        text = part.strip()
        if not text:
            continue
        try:
            number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise click.BadParameter(_("{value!r} is not a retention such as 0.85 or 85%")
                                     .format(value=text)) from None
        values.append(number)
    try:
        return check_retentions(values)
    except SimulationError as err:
        raise click.BadParameter(str(err)) from None


def _pace(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is None:
        return None
    from srs.simulate import SimulationError, check_pace

    try:
        return check_pace(value)
    except SimulationError as err:
        raise click.BadParameter(str(err)) from None


@click.command("simulate")
@click.option("--days", type=DAYS, default=365, show_default=True,
              help="How many study days ahead to simulate.")
@click.option("--new-per-week", "new_per_week", type=float, callback=_pace, metavar="N",
              help="New topics studied a week (default: your pace over the log's last 8 "
                   "weeks; 0: none, only the cards you have).")
@click.option("--retention", "retentions", callback=_retentions, metavar="LIST",
              help="Desired retentions to compare, e.g. 0.8,0.9 (default 0.75 to 0.95, and "
                   "the one configured).")
@click.option("--seed", type=click.IntRange(0, 2**31), default=42, show_default=True,
              help="The simulation's luck: the same seed and data give the same figures.")
@json_option
@click.option("--plot", "plot_file", metavar="FILE.png",
              type=click.Path(dir_okay=False, writable=True),
              help="Also draw minutes per day into a PNG (needs srs[plot]).")
@click.pass_obj
def simulate_cmd(app: App, days: int, new_per_week: float | None,
                 retentions: tuple[float, ...] | None, seed: int, as_json: bool,
                 plot_file: str | None) -> None:
    """Simulate the self-tests of the next days, in minutes, for several retentions.

    Starts from your cards as they are (FSRS's memory of each), adds new topics at your
    pace (the log's planned rows first), fills each day as `review today` would (within
    max_reviews_per_day and max_minutes_per_day) and counts the minutes each self-test
    takes: your recorded durations, or 15 minutes for a first self-test and 10 for a
    later one until 20 are recorded. Nothing is written.

    \b
    Examples:
        review simulate
        review simulate --days 90 --new-per-week 5
        review simulate --retention 0.8,0.85,0.9 --json
    """
    from srs.config import time_budget
    from srs.simulate import DEFAULT_RETENTIONS, gather, planned_rows, simulate_all
    from srs.workload import load_costs

    now = app.now()
    today = app.clock.day_of(now)
    config = app.config
    configured = round(float(config["desired_retention"]), 4)
    chosen = retentions or tuple(sorted({*DEFAULT_RETENTIONS, configured}))
    budget = time_budget(config)
    with app.reading() as conn:
        engine = app.engine(conn)
        costs = load_costs(conn)
        planned, unread = planned_rows(conn, config, today)
        if new_per_week == 0:
            planned = []
        plan = gather(conn, engine=engine, clock=app.clock, today=today, costs=costs,
                      planned=planned, days=days, new_per_week=new_per_week,
                      max_reviews=int(config["max_reviews_per_day"]), max_minutes=budget,
                      seed=seed)
    outcomes = simulate_all(plan, chosen)
    if plot_file:
        _plot(plot_file, plan, outcomes, configured)
    if as_json:
        print_json(_json(plan, outcomes, configured, unread))
        return
    _print(plan, outcomes, configured, unread)


def _json(plan: Plan, outcomes: list[Outcome], configured: float,
          unread: int) -> dict[str, Any]:
    return {
        "today": plan.today.isoformat(),
        "days": plan.days,
        "seed": plan.seed,
        "cards": len(plan.cards),
        "cards_left_out": plan.skipped,
        "new_per_week": round(plan.new_per_week, 2),
        "pace": "log" if plan.pace_from_log else "option",
        "planned_rows": len(plan.planned),
        "logs_unread": unread,
        "limits": {"max_reviews_per_day": plan.max_reviews,
                   "max_minutes_per_day": plan.max_minutes},
        "costs": plan.costs.to_json(),
        "pass_grades": {name: round(share, 3) for name, share in
                        zip(("hard", "good", "easy"), plan.pass_grades, strict=True)},
        "configured_retention": configured,
        "results": [outcome.to_json(plan.today, outcome.retention == configured)
                    for outcome in outcomes],
    }


def _print(plan: Plan, outcomes: list[Outcome], configured: float, unread: int) -> None:
    from cli.output import Column, print_table

    shown = round(plan.new_per_week, 1)
    pace = ngettext("{pace:g} new topic a week", "{pace:g} new topics a week",
                    1 if shown == 1 else 2).format(pace=shown)
    source = _("your pace over the log's last 8 weeks") if plan.pace_from_log else _(
        "as asked")
    say(ngettext("Next {days} study day from {day}: {cards} card, {pace} ({source}).",
                 "Next {days} study days from {day}: {cards} cards, {pace} ({source}).",
                 plan.days).format(days=plan.days, day=plan.today.isoformat(),
                                   cards=len(plan.cards), pace=pace, source=source))
    if plan.planned:
        say(ngettext("{n} planned row of the log comes first.",
                     "{n} planned rows of the log come first.", len(plan.planned)).format(
            n=len(plan.planned)))
    costs = plan.costs
    if costs.from_history:
        by = costs.by_rating
        say(_("Minutes per self-test: the medians of your {n} recorded durations (again {a:g}, "
              "hard {h:g}, good {g:g}, easy {e:g}).").format(
            n=costs.recorded, a=round(by[1], 1), h=round(by[2], 1), g=round(by[3], 1),
            e=round(by[4], 1)))
    else:
        say(ngettext("Minutes per self-test: {first:g} for a first one and {later:g} for a "
                     "later one (defaults: {n} duration recorded of the 20 needed for your "
                     "own).",
                     "Minutes per self-test: {first:g} for a first one and {later:g} for a "
                     "later one (defaults: {n} durations recorded of the 20 needed for your "
                     "own).", costs.recorded).format(
            first=costs.first, later=costs.later, n=costs.recorded))
    limits = [ngettext("at most {n} self-test a day", "at most {n} self-tests a day",
                       plan.max_reviews or 0).format(n=plan.max_reviews)]
    if plan.max_minutes:
        limits.append(_("at most {n:g} minutes a day").format(n=plan.max_minutes))
    say(_("Limits: {limits}.").format(limits=_(", ").join(limits)))
    if unread:
        say(ngettext("{n} followed log could not be read: its planned rows are left out.",
                     "{n} followed logs could not be read: their planned rows are left out.",
                     unread).format(n=unread))
    rows = []
    for outcome in outcomes:
        per_topic = outcome.minutes_per_topic
        mark = " *" if outcome.retention == configured else ""
        rows.append([f"{outcome.retention:.0%}{mark}",
                     f"{outcome.average_self_tests:.1f}", f"{outcome.peak_self_tests:.0f}",
                     f"{outcome.average_minutes:.0f}", f"{outcome.peak_minutes:.0f}",
                     f"{outcome.remembered:.0f}",
                     "-" if per_topic is None else f"{per_topic:.0f}",
                     f"{outcome.backlog:.0f}"])
    say("")
    # At 60 columns the self-tests' peak, then what is left, give way.
    print_table([Column(_("retention")), Column(_("tests/day"), right=True),
                 Column(_("peak"), right=True, shrink=2, optional=True),
                 Column(_("min/day"), right=True), Column(_("peak"), right=True),
                 Column(_("remembered"), right=True), Column(_("min/topic"), right=True),
                 Column(_("left"), right=True, shrink=3, optional=True)], rows)
    legend = _("remembered: topics remembered at the end (the sum of their retrievability); "
               "min/topic: minutes of self-tests per topic remembered; left: due but not "
               "done at the end.")
    if any(outcome.retention == configured for outcome in outcomes):
        legend = _("* the retention configured now.") + " " + legend
    say(legend)
    held = [outcome for outcome in outcomes if outcome.backlog >= 0.5]
    if held:
        say(_("From {retention:.0%} on, the daily limits hold self-tests back: a higher "
              "retention then only adds to what is left, not to what is remembered. Raise "
              "max_reviews_per_day or max_minutes_per_day, or choose a lower retention.")
            .format(retention=held[0].retention))
    shown = next((o for o in outcomes if o.retention == configured), outcomes[-1])
    from cli.insight import _colour, _width, forecast_chart

    say("")
    days = [(plan.today + timedelta(days=i), m) for i, m in enumerate(shown.minutes)]
    click.echo(forecast_chart(days, _width(), _colour(), title=_(
        "Minutes of self-tests per day at {retention:.0%}").format(retention=shown.retention),
        mean=True))


def _plot(path: str, plan: Plan, outcomes: list[Outcome], configured: float) -> None:
    """Minutes per day (a 7-day average) for every retention, into a PNG."""
    from cli.insight import _plot_figure, _save_plot

    figure = _plot_figure((11, 5))
    axes = figure.subplots()
    days = [plan.today + timedelta(days=i) for i in range(plan.days)]
    for outcome in outcomes:
        week = [sum(outcome.minutes[max(0, i - 6):i + 1]) / min(7, i + 1)
                for i in range(plan.days)]
        label = f"{outcome.retention:.0%}" + (" *" if outcome.retention == configured else "")
        axes.plot(days, week, label=label,
                  linewidth=2.5 if outcome.retention == configured else 1.2)
    axes.set_title(_("Minutes of self-tests per day (7-day average)"))
    axes.set_ylim(bottom=0)
    axes.legend(title=_("retention"))
    _save_plot(figure, path)
