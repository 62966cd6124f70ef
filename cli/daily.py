"""The daily loop: today, grade, undo, session, set-due, spread."""

from __future__ import annotations

import re
import sys
import time
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from cli.output import (
    COUNT,
    DAYS,
    FIRST_DAY,
    ID,
    LAST_DAY,
    MOST_DAYS_AHEAD,
    echo,
    in_range,
    json_option,
    parse_date,
    plain,
    print_json,
    say,
    trim_shared_prefix,
)
from srs.app import App
from srs.cardview import rating_name
from srs.config import time_budget
from srs.i18n import _, ngettext
from srs.text import short_day

if TYPE_CHECKING:
    from collections.abc import Callable

    from srs.sql import SqlConn


def _overdue(days: int) -> str:
    if days <= 0:
        return _("due today")
    return ngettext("{n} day overdue", "{n} days overdue", days).format(n=days)


def _about(minutes: float) -> int:
    """Expected minutes as a person reads them: whole, and never 0 for some work."""
    return max(1, round(minutes)) if minutes > 0 else 0


def _plan_text(count: int, minutes: float) -> str:
    return ngettext("{n} self-test, about {minutes} min", "{n} self-tests, about {minutes} min",
                    count).format(n=count, minutes=_about(minutes))


class Duration(click.ParamType):
    """How long a self-test took: seconds (`90`), or `90s`, `15m`, `1h`, `1h30m`, `1.5h`;
    at most srs.workload.MAX_DURATION_SECONDS."""

    name = "duration"
    _PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")
    _UNIT = {"h": 3600, "m": 60, "s": 1}

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        from srs.workload import MAX_DURATION_SECONDS

        text = str(value).strip().lower().replace(" ", "")
        parts = self._PART.findall(text)
        if re.fullmatch(r"\d+", text):
            seconds = float(text)
        elif (re.fullmatch(r"(?:\d+(?:\.\d+)?[hms])+", text)
              and len({unit for _n, unit in parts}) == len(parts)):  # each unit once
            seconds = sum(float(n) * self._UNIT[unit] for n, unit in parts)
        else:
            self.fail(_("{value!r} is not a duration; use seconds (90) or 90s, 15m, 1h, "
                        "1h30m").format(value=plain(str(value))), param, ctx)
        if seconds > MAX_DURATION_SECONDS:
            self.fail(_("{value!r} is longer than {most}, the most a self-test is recorded "
                        "as taking").format(value=plain(str(value)),
                                            most=f"{MAX_DURATION_SECONDS // 3600}h"),
                      param, ctx)
        return round(seconds)


DURATION = Duration()


_RELATIVE = re.compile(r"(?:(today|yesterday)|-(\d{1,4})d)?\s*(?:(\d{1,2}):(\d{2}))?")


def parse_moment(value: str, app: App, param: str) -> datetime:
    """A time typed on the command line, local unless it carries an offset; a bare date is
    that study day (at noon, as a log's dates are). Also `today`, `yesterday`, `-2d` (two
    days ago), each with a time or not (`yesterday 20:30`), and a time alone (`09:00`,
    today)."""
    from srs.clock import UTC

    text = value.strip()
    relative = _RELATIVE.fullmatch(text.lower())
    if text and relative is not None:
        word, back, hour, minute = relative.groups()
        now = app.now()
        local_today = now.astimezone(app.tz).date()
        days = 1 if word == "yesterday" else int(back) if back else 0
        if hour is None:  # a day alone: that study day, as a log's date
            day = app.clock.day_of(now) - timedelta(days=days)
            return min(app.clock.moment_of(day), now)
        if int(hour) > 23 or int(minute) > 59:
            raise click.BadParameter(_("{value!r} is not a time of day; use HH:MM").format(
                value=plain(value)), param_hint=param)
        moment = datetime.combine(local_today - timedelta(days=days),
                                  datetime.min.time().replace(hour=int(hour),
                                                              minute=int(minute)))
        return moment.replace(tzinfo=app.tz).astimezone(UTC)
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
            day = parse_date(text, param)
            moment = app.clock.moment_of(day)
            now = app.now()
            # "Today" before noon means earlier today, not a time still to come.
            return now if moment > now and day == app.clock.day_of(now) else moment
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=app.tz)
        moment = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise click.BadParameter(_(
            "{value!r} is not a date or time; use YYYY-MM-DD, 'YYYY-MM-DD HH:MM', "
            "HH:MM, today, yesterday or -Nd").format(value=plain(value)),
            param_hint=param) from None
    in_range(moment.date(), value, param)
    return moment


@click.command("today")
@click.option("--date", "day_text", metavar="DATE", help="Preview another study day (YYYY-MM-DD).")
@click.option("--limit", type=COUNT, help="Show at most N cards.")
@click.option("--all", "show_all", is_flag=True, help="Show every due card, ignoring the limit.")
@click.option("--order", type=click.Choice(["retrievability", "due", "log", "random"]),
              help="Queue order (default: the 'order' setting).")
@json_option
@click.pass_obj
def today_cmd(app: App, day_text: str | None, limit: int | None, show_all: bool,
              order: str | None, as_json: bool) -> None:
    """Show the topics due for a self-test today, most at risk first.

    \b
    Examples:
        review today
        review today --all --order due
        review today --date 2026-12-24 --json
    """
    from srs.queue import build_queue, queue_dicts

    day = parse_date(day_text, "--date") if day_text else None
    now = app.now()
    with app.reading() as conn:
        engine = app.engine(conn)
        queue = build_queue(
            conn, engine=engine, clock=app.clock, now=now, day=day,
            order=order or str(app.config["order"]),
            max_per_day=int(app.config["max_reviews_per_day"]), limit=limit, show_all=show_all,
            max_minutes=time_budget(app.config),
        )
        if as_json:
            print_json(queue_dicts(conn, queue, engine=engine, now=now, tz=app.tz))
            return
        from srs.store import card_labels

        labels = card_labels(conn, [entry.card for entry in queue.entries])
    _print_queue(app, queue, labels)


def _print_queue(app: App, queue: Any, labels: dict[int, str]) -> None:
    from cli.output import Column, print_table
    today = app.clock.day_of(app.now())
    if not queue.entries:
        if queue.over_budget:
            say(_("Study day {day}: today's budget of {budget} min is used (about {spent} "
                  "min done); {n} more due (review today --all).").format(
                day=short_day(queue.day, today), budget=queue.budget,
                spent=_about(queue.spent_minutes), n=queue.due_total))
        elif queue.due_total:
            say(ngettext("Study day {day}: today's limit is reached ({done} self-test "
                         "done); {n} more due (review today --all).",
                         "Study day {day}: today's limit is reached ({done} self-tests "
                         "done); {n} more due (review today --all).",
                         queue.done_today).format(
                day=short_day(queue.day, today), done=queue.done_today, n=queue.due_total))
        elif queue.next_due is not None:
            say(_("Nothing due on {day}. Next self-test: {next}.").format(
                day=short_day(queue.day, today), next=short_day(queue.next_due, today)))
        else:
            say(_("Nothing due on {day}, and no cards scheduled "
                  "(import a log with 'review import PATH').").format(
                      day=short_day(queue.day, today)))
        return
    say(_("Study day {day}: {shown} of {total} due ({done} done today)").format(
        day=short_day(queue.day, today), shown=len(queue.entries), total=queue.due_total,
        done=queue.done_today))
    columns = [Column(_("id"), right=True), Column(_("topic"), shrink=1, least=30),
               Column(_("section"), shrink=2, least=10, optional=True), Column(_("due")),
               Column(_("R"), right=True), Column(_("last")),
               Column(_("note"), shrink=3, least=10, optional=True)]
    sections = trim_shared_prefix([entry.card.section for entry in queue.entries])
    print_table(columns, [
        [entry.card.id, labels.get(entry.card.id, entry.card.topic), section,
         _overdue(entry.overdue_days), f"{entry.retrievability:.0%}",
         rating_name(entry.last_rating) or "-", entry.last_note or ""]
        for entry, section in zip(queue.entries, sections, strict=True)])
    say(_plan_text(len(queue.entries), queue.minutes))
    if queue.over_budget and queue.done_today:
        say(_("Budget {budget} min, about {spent} min done today: {n} more due wait for another "
              "day (review today --all, or review spread --days N).").format(
                  budget=queue.budget, spent=_about(queue.spent_minutes), n=queue.more))
    elif queue.over_budget:
        say(_("Budget {budget} min: {n} more due wait for another day (review today --all, "
              "or review spread --days N).").format(budget=queue.budget, n=queue.more))
    elif queue.more:
        say(_("{n} more due beyond today's limit (review today --all, "
              "or review spread --days N).").format(n=queue.more))
    say(_("Next: review session, or review grade {id} good (again, hard, easy) once you "
          "have tested yourself.").format(id=queue.entries[0].card.id))


def _grade_text(app: App, result: Any) -> str:
    day = short_day(result.due, app.clock.day_of(app.now()))
    interval = result.interval_days
    when = _("today") if interval <= 0 else (
        ngettext("in {n} day", "in {n} days", interval).format(n=interval))
    return _("card {id} {rating}: {label}; next self-test {day}, {when}").format(
        id=result.card_id, rating=rating_name(result.rating), label=result.label or result.topic,
        day=day, when=when)


@click.command("grade")
@click.argument("card_id", type=ID, metavar="ID")
@click.argument("rating_text", metavar="RATING")
@click.option("--note", help="A note kept with this self-test, shown next time.")
@click.option("--at", "at_text", metavar="DATETIME",
              help="When the self-test was done, if earlier (local time).")
@click.option("--duration", type=DURATION, metavar="DURATION",
              help="How long the self-test took: seconds, or 15m, 90s, 1h30m (at most 2h).")
@click.option("--write-back", is_flag=True, default=None,
              help="Also append the self-test to the row in the log file.")
@json_option
@click.pass_obj
def grade_cmd(app: App, card_id: int, rating_text: str, note: str | None, at_text: str | None,
              duration: int | None, write_back: bool | None, as_json: bool) -> None:
    """Record how a self-test went: again, hard, good, easy, 1-4, or a score.

    \b
    Examples:
        review grade 12 good
        review grade 12 7/10 --note "mixed up the chain rule"
        review grade 12 h --at "2026-11-29 20:30"
    """
    from srs.grading import parse_rating

    rating = parse_rating(rating_text, list(app.config["score_thresholds"]))
    at = parse_moment(at_text, app, "--at") if at_text else None
    result, back = record_grade(app, card_id, rating, at=at, note=note, duration=duration,
                                write_back=write_back)
    if as_json:
        data = {
            "id": result.card_id,
            "label": result.label or result.topic,
            "rating": rating_name(result.rating),
            "reviewed_at": result.reviewed_at.astimezone(app.tz).isoformat(),
            "retrievability_before": round(result.retrievability_before, 4),
            "due": result.due.isoformat(),
            "interval_days": result.interval_days,
            "stability": result.stability,
            "difficulty": result.difficulty,
        }
        if back is not None:
            data["write_back"] = back
        print_json(data)
        return
    echo(_grade_text(app, result))
    _say_written(back)


def _say_written(back: dict[str, Any] | None) -> None:
    if back is not None and back["written"]:
        echo(_("wrote {entry} to {file}:{line}").format(**back))
    elif back is not None:
        echo(_("not written back: {reason}").format(reason=back["reason"]))


def record_grade(app: App, card_id: int, rating: int, *, at: datetime | None = None,
                 note: str | None = None, duration: int | None = None,
                 write_back: bool | None = None) -> tuple[Any, dict[str, Any] | None]:
    """Grade a card and, when asked or set, write the self-test back into its log.

    `write_back`: True asks for it (a card from no log is then an error), False refuses
    it, None leaves it to the write_back setting (a card from no log is then simply not
    written back). Used by `grade` and by `session` alike. Returns the grade and what the
    write-back did (None when none was wanted).
    """
    from srs.grading import grade

    wanted = bool(app.config["write_back"]) if write_back is None else write_back
    if not wanted:
        return app.write(lambda conn: grade(
            conn, card_id, rating, engine=app.engine(conn), clock=app.clock, now=app.now(),
            at=at, note=note, duration=duration)), None
    skipped: list[str] = []

    def work(conn: SqlConn) -> tuple[Any, Any]:
        from srs.importer import log_options
        from srs.writeback import NotInLog, commit, link_review, prepare

        skipped.clear()
        now = app.now()  # read once the write lock is held: never before an earlier writer
        result = grade(conn, card_id, rating, engine=app.engine(conn), clock=app.clock,
                       now=now, at=at, note=note, duration=duration)
        try:
            planned = prepare(conn, card_id, day=app.clock.day_of(result.reviewed_at),
                              rating=rating, options=log_options(app.config,
                                                                 app.clock.day_of(now)))
        except NotInLog as err:
            if write_back:
                raise
            skipped.append(str(err))
            return result, None
        link_review(conn, planned, card_id)
        if planned.written:
            # Written inside the transaction: if the file cannot be written, the grade
            # is rolled back too, so the log and the database never disagree.
            commit(planned, backup_dir=app.paths.state_dir / "log-backups", now=now)
        return result, planned

    result, planned = app.write(work)
    if planned is not None:
        return result, {"file": str(planned.path), "line": planned.edit.line,
                        "entry": planned.edit.entry, "written": planned.written,
                        "reason": planned.edit.reason or None}
    if skipped:
        return result, {"file": None, "line": None, "entry": None, "written": False,
                        "reason": skipped[-1]}
    return result, None


@click.command("undo")
@json_option
@click.pass_obj
def undo_cmd(app: App, as_json: bool) -> None:
    """Take back the last grade (or set-due) made here; repeat to go further back.

    History imported from the log is never undone.

    \b
    Example:
        review undo
    """
    from srs.grading import undo

    result = app.write(lambda conn: undo(conn, engine=app.engine(conn), now=app.now()))
    if as_json:
        print_json({"id": result.card_id, "label": result.label or result.topic,
                    "kind": result.kind, "rating": rating_name(result.rating),
                    "at": result.at.astimezone(app.tz).isoformat(),
                    "due": result.due.isoformat(), "also": result.also})
        return
    _say_undone(app, result)


def _say_undone(app: App, result: Any) -> None:
    if result.kind == "merge":
        say(_("undid the merge of card {id} ({topic}) into card {into}: it is a card of its "
              "own again, due {day}").format(
                  id=result.card_id, topic=result.label or result.topic, into=result.merged_into,
                  day=short_day(result.due, app.clock.day_of(app.now()))))
        return
    what = rating_name(result.rating) if result.kind == "review" else _("new due date")
    say(_("undid {what} of card {id} ({topic}); due again {day}").format(
        what=what, id=result.card_id, topic=result.label or result.topic,
        day=short_day(result.due, app.clock.day_of(app.now()))))
    if result.also:
        say(ngettext("and {n} more change made by the same command (every card it moved "
                     "is back where it was)", "and {n} more changes made by the same "
                     "command (every card it moved is back where it was)",
                     result.also).format(n=result.also))
    if result.left_in_log:
        echo(_("the self-test is still written in {place}; imports will not count it "
                     "again, and you may delete it there").format(place=result.left_in_log))


def _target_day(text: str, app: App) -> date:
    word = text.strip().lower()
    if word in ("today", "tomorrow"):
        return app.clock.day_of(app.now()) + timedelta(days=word == "tomorrow")
    if not re.fullmatch(r"\+\d+d?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}", word):
        raise click.BadParameter(_(
            "{value!r} is not a day; use YYYY-MM-DD, +Nd (N days from today), today "
            "or tomorrow").format(value=plain(text)), param_hint="DATE")
    match = re.fullmatch(r"\+(\d{1,6})d?", text.strip())
    if match:
        days = int(match.group(1))
        if days > MOST_DAYS_AHEAD:
            raise click.BadParameter(_("{value!r} is not between {first} and {last}").format(
                value=plain(text), first=FIRST_DAY, last=LAST_DAY), param_hint="DATE")
        return in_range(app.clock.day_of(app.now()) + timedelta(days=days), text, "DATE")
    if re.fullmatch(r"\+\d+d?", text.strip()):
        raise click.BadParameter(_("{value!r} is not between {first} and {last}").format(
            value=plain(text), first=FIRST_DAY, last=LAST_DAY), param_hint="DATE")
    return parse_date(text, "DATE")


@click.command("set-due")
@click.argument("card_id", type=ID, metavar="ID")
@click.argument("when", metavar="DATE|+Nd")
@click.pass_obj
def set_due_cmd(app: App, card_id: int, when: str) -> None:
    """Move a card's next self-test to another day (its history stays as it is).

    \b
    Examples:
        review set-due 12 2026-12-24
        review set-due 12 +3d
    """
    from srs.grading import set_due

    day = _target_day(when, app)
    def work(conn: SqlConn) -> tuple[Any, str]:
        from srs.store import card_labels

        card = set_due(conn, card_id, day, clock=app.clock, now=app.now())
        return card, card_labels(conn, [card])[card.id]

    card, label = app.write(work)
    say(_("card {id} ({topic}) is due on {day}").format(
        id=card.id, topic=label, day=short_day(day, app.clock.day_of(app.now()))))


@click.command("spread")
@click.option("--days", type=DAYS, required=True, help="Spread the backlog over N days.")
@click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
@json_option
@click.pass_obj
def spread_cmd(app: App, days: int, dry_run: bool, as_json: bool) -> None:
    """Spread overdue self-tests over the next N days, most at risk first.

    No day gets more than max_reviews_per_day, nor (with max_minutes_per_day set) more
    expected minutes than that budget, though always at least one card; history is not
    touched.

    \b
    Examples:
        review spread --days 7 --dry-run
        review spread --days 7
    """
    from collections import Counter

    from srs.grading import spread

    def work(conn: Any) -> Any:
        from srs.store import card_labels, card_rows

        moves = spread(conn, days=days, engine=app.engine(conn), clock=app.clock,
                       now=app.now(), max_per_day=int(app.config["max_reviews_per_day"]),
                       max_minutes=time_budget(app.config))
        if not as_json:
            return moves, {}
        cards = card_rows(conn, [m.card_id for m in moves])
        return moves, card_labels(conn, list(cards.values()))

    if dry_run:
        with app.reading() as conn:  # rolled back at the end: nothing is kept
            moves, labels = work(conn)
    else:
        moves, labels = app.write(work)
    if as_json:
        print_json({"dry_run": dry_run, "moved": [
            {"id": m.card_id, "topic": m.topic, "label": labels.get(m.card_id, m.topic),
             "retrievability": round(m.retrievability, 4),
             "from": m.old_due.isoformat(), "to": m.new_day.isoformat()} for m in moves]})
        return
    if not moves:
        echo(_("nothing to spread: today's queue already fits the limit"))
        return
    per_day = Counter(m.new_day for m in moves)
    for day in sorted(per_day):
        echo(_("{day}: {n} moved there").format(
            day=short_day(day, app.clock.day_of(app.now())), n=per_day[day]))
    echo((ngettext("would move {n} card", "would move {n} cards", len(moves)) if dry_run
          else ngettext("moved {n} card", "moved {n} cards", len(moves))).format(
              n=len(moves)))
    if not dry_run:
        say(_("'review undo' takes the whole spread back."))


HELP = _("a/1 again · h/2 hard · g/3 good · e/4 easy · or a score (7/10, 70%) · "
         "s skip · u undo · q quit · ? help")


@click.command("session")
@click.option("--limit", type=COUNT, help="Stop after N cards.")
@click.option("--all", "show_all", is_flag=True,
              help="Go on past today's limit, through every due card.")
@click.pass_obj
def session_cmd(app: App, limit: int | None, show_all: bool) -> None:
    """Walk through today's queue, grading each self-test as you go.

    Every answer is saved at once, so quitting or Ctrl-C loses nothing. Each graded
    self-test is timed from showing the card to the answer (at most 2 hours; a skip or
    quit records nothing), and the session stops when today's limit or time budget
    (max_minutes_per_day) is used. Works with piped input, one answer a line.

    \b
    Example:
        review session
        printf 'g\\nh\\nq\\n' | review session
    """
    tally = [0]  # answers saved so far, for the summary when Ctrl-C ends the session
    try:
        _session(app, limit, show_all, tally)
    except KeyboardInterrupt:  # every answer is saved already: say so, as 'q' does
        echo("")
        echo(_("Stopped: {n} graded.").format(n=tally[0]))


def answer_seconds(shown: float, answered: float) -> int | None:
    """The duration recorded for a self-test shown at `shown` and answered at `answered`
    (monotonic seconds): whole seconds, capped at srs.workload.MAX_DURATION_SECONDS; None
    under a second (an answer typed ahead, as piped ones are, times nothing)."""
    from srs.workload import MAX_DURATION_SECONDS

    seconds = round(min(max(0.0, answered - shown), MAX_DURATION_SECONDS))
    return seconds or None


def _session(app: App, limit: int | None, show_all: bool, tally: list[int],
             timer: Callable[[], float] = time.monotonic) -> None:
    """The session's loop; `timer` (monotonic seconds) times each self-test."""
    from srs.errors import SrsError
    from srs.grading import parse_rating, undo
    from srs.queue import build_queue
    from srs.store import card_labels

    thresholds = list(app.config["score_thresholds"])
    skipped: set[int] = set()
    graded = tally[0] = 0
    interactive = sys.stdin.isatty()
    while limit is None or graded < limit:
        with app.reading() as conn:
            queue = build_queue(
                conn, engine=app.engine(conn), clock=app.clock, now=app.now(),
                order=str(app.config["order"]), show_all=show_all,
                max_per_day=int(app.config["max_reviews_per_day"]),
                max_minutes=time_budget(app.config))
            entries = [e for e in queue.entries if e.card.id not in skipped]
            labels = card_labels(conn, [entries[0].card]) if entries else {}
        if not entries:
            if not queue.more:
                say(_("Done: {n} graded. Nothing more due today.").format(n=graded))
            elif queue.over_budget:
                say(_("Done: {n} graded; today's budget of {budget} min is used ('review "
                      "session --all' goes on).").format(n=graded, budget=queue.budget))
            else:
                say(_("Done: {n} graded; today's limit is reached ('review session --all' "
                      "goes on).").format(n=graded))
            return
        entry = entries[0]
        card = entry.card
        done = graded + len(skipped)
        echo("")
        say(_("{position} of {total} · card {id}: {label}").format(
            position=done + 1, total=done + len(entries), id=card.id,
            label=labels.get(card.id, card.topic)))
        if card.section:
            echo(f"    {card.section}")
        if card.notes:
            for line in card.notes.splitlines():
                echo(f"    {line}")
        echo("    " + _overdue(entry.overdue_days) + f" · R {entry.retrievability:.0%}")
        if entry.last_note:
            echo("    " + _("last time: {note}").format(note=entry.last_note))
        shown = timer()  # the card is on the screen: its self-test starts
        while True:
            echo(_("grade [a h g e, s, u, q, ?]: "), nl=False)
            line = sys.stdin.readline()
            answered = timer()
            if not line:
                echo("")
                echo(_("Stopped: {n} graded.").format(n=graded))
                return
            answer = line.strip().lower()
            if not interactive:
                echo(answer)
            if answer in ("q", "quit"):
                echo(_("Stopped: {n} graded.").format(n=graded))
                return
            if answer in ("?", "help", ""):
                echo(HELP)
                continue
            if answer in ("s", "skip"):
                skipped.add(card.id)
                break
            try:
                if answer in ("u", "undo"):
                    result = app.write(lambda conn: undo(conn, engine=app.engine(conn),
                                                            now=app.now()))
                    skipped.discard(result.card_id)
                    graded = tally[0] = max(0, graded - 1)
                    _say_undone(app, result)
                    break
                rating = parse_rating(answer, thresholds)
                outcome, back = record_grade(app, card.id, rating,
                                             duration=answer_seconds(shown, answered))
            except SrsError as err:
                echo(_("Error: {message}").format(message=err), err=True)
                continue
            graded += 1
            tally[0] = graded
            echo(_grade_text(app, outcome))
            _say_written(back)
            break
