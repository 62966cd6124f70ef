"""Looking at cards and editing them by hand: cards, show, add, suspend, merge."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from cli.output import ID, echo, json_option, parse_date, print_json
from srs.app import App
from srs.i18n import _
from srs.text import one_line

if TYPE_CHECKING:
    from srs.cards import View
    from srs.sql import SqlConn


def _view(app: App, conn: SqlConn) -> View:
    from srs.cards import View

    return View(app.engine(conn), app.now(), app.tz)


def _day(iso: str | None, today: date) -> str:
    """A day from JSON ("2026-12-14"), as every command shows days (srs.text.short_day)."""
    from srs.text import short_day

    if not iso:
        return "-"
    return short_day(date.fromisoformat(iso[:10]), today)


@click.command("cards")
@click.option("--search", metavar="TEXT", help="Only cards whose topic or notes contain TEXT.")
@click.option("--section", metavar="TEXT", help="Only cards whose section contains TEXT.")
@json_option
@click.pass_obj
def cards_cmd(app: App, search: str | None, section: str | None, as_json: bool) -> None:
    """List cards in log order.

    \b
    Examples:
        review cards --search 注意力
        review cards --section Week03 --json
    """
    import gc

    from srs.cards import cards_to_dicts, list_cards

    # 100,000 cards are millions of objects and no cycles: the collector would only walk
    # them again and again (a fifth of the time).
    gc.disable()
    try:
        with app.reading() as conn:
            data = cards_to_dicts(conn, list_cards(conn, search=search, section=section),
                                  _view(app, conn))
    finally:
        gc.enable()
    if as_json:
        print_json(data)
        return
    from cli.output import Column, print_table, trim_shared_prefix

    if not data:
        echo(_("no cards (import a log with 'review import PATH')"))
        return
    columns = [Column(_("id"), right=True), Column(_("topic"), shrink=1, least=36),
               Column(_("section"), shrink=2, least=10, optional=True),
               Column(_("learned"), shrink=3, optional=True), Column(_("due")),
               Column(_("R"), right=True), Column(_("reviews"), right=True, shrink=4,
                                                   optional=True),
               Column("", shrink=5, least=6, optional=True)]
    sections = trim_shared_prefix([card["section"] for card in data])
    today = app.clock.day_of(app.now())
    rows = []
    for card, section in zip(data, sections, strict=True):
        flags = " ".join(flag for flag, on in (
            (_("suspended"), card["suspended"]),
            (_("not in log"), not card["in_log"] and card["source"]),
        ) if on)
        rows.append([card["id"], card["label"], section, _day(card["learned_on"], today),
                     _day(card["due"], today),
                     f"{card['retrievability']:.0%}", card["reviews"], flags])
    print_table(columns, rows)


@click.command("show")
@click.argument("card_id", type=ID, metavar="ID")
@json_option
@click.pass_obj
def show_cmd(app: App, card_id: int, as_json: bool) -> None:
    """Show one card with its full history.

    \b
    Example:
        review show 12
    """
    from srs.cards import show_card

    with app.reading() as conn:
        data = show_card(conn, card_id, _view(app, conn))
    if as_json:
        print_json(data)
        return
    from cli.output import Column, cell_width, colour, print_table, terminal_width, wrap
    from srs.text import short_time

    width = terminal_width()
    today = app.clock.day_of(app.now())
    for line in wrap(f"{data['id']}. {data['label']}", width) if width else [
            f"{data['id']}. {one_line(data['label'])}"]:
        click.echo(click.style(line, bold=True) if colour() else line, color=colour())
    fields = [
        (_("section"), data["section"]), (_("source"), data["source"] or "-"),
        (_("notes"), data["notes"] or "-"), (_("learned"), _day(data["learned_on"], today)),
        (_("state"), data["state"] + (_(" (suspended)") if data["suspended"] else "")),
        (_("due"), _day(data["due"], today)),
        (_("stability"), f"{data['stability']:.2f} d" if data["stability"] else "-"),
        (_("difficulty"), f"{data['difficulty']:.2f}" if data["difficulty"] else "-"),
        (_("retrievability"), f"{data['retrievability']:.0%}"),
    ]
    name_width = max(cell_width(name) for name, _value in fields)
    for name, value in fields:
        head = " " * (name_width - cell_width(name)) + name + ": "
        indent = " " * cell_width(head)
        lines = [line for line in str(value).splitlines() if line.strip()] or [""]
        for number, line in enumerate(lines):
            # a value of several lines (notes) goes on under itself, not from column 0
            parts = wrap(line, width - cell_width(head)) if width else [one_line(line)]
            for part_number, part in enumerate(parts):
                first = number == 0 and part_number == 0
                echo(((head if first else indent) + part).rstrip())
    echo("")
    echo(_("history"))
    history = []
    for entry in data["history"]:
        if entry.get("kind") == "plan":
            rating = _("self-test planned for {day}").format(day=_day(entry.get("due"), today))
        else:
            rating = entry["rating"] or _("due set to {day}").format(
                day=_day(entry.get("due"), today))
        history.append([short_time(datetime.fromisoformat(entry["at"]), app.tz, today), rating,
                        entry["source"],
                        entry["note"] or ""])
    print_table([Column(_("at")), Column(_("rating"), shrink=2, least=8), Column(_("source")),
                 Column(_("note"), shrink=3, least=8, optional=True)], history)


@click.command("add")
@click.argument("topic")
@click.option("--notes", default="", help="Notes shown with the card.")
@click.option("--learned", metavar="DATE", help="When it was studied (YYYY-MM-DD); default now.")
@json_option
@click.pass_obj
def add_cmd(app: App, topic: str, notes: str, learned: str | None, as_json: bool) -> None:
    """Add a card for a topic that is in no log.

    \b
    Example:
        review add "Bayes' theorem" --learned 2026-11-20 --notes "ch. 3"
    """
    from srs.cards import add_card, cards_to_dicts

    learned_on = parse_date(learned, "--learned") if learned is not None else None

    def work(conn: SqlConn) -> dict[str, Any]:
        view = _view(app, conn)
        card = add_card(conn, topic, notes=notes, learned=learned_on, engine=view.engine,
                        now=view.now)
        return cards_to_dicts(conn, [card], view)[0]

    data = app.write(work)
    if as_json:
        print_json(data)
    else:
        echo(_("added card {id}: {topic}, next self-test {due}").format(
            id=data["id"], topic=data["topic"],
            due=_day(data["due"], app.clock.day_of(app.now()))))


def _suspend(app: App, card_id: int, suspended: bool, as_json: bool) -> None:
    from srs.cards import cards_to_dicts, set_suspended

    def work(conn: SqlConn) -> Any:
        view = _view(app, conn)
        card = set_suspended(conn, card_id, suspended, view.now)
        return card, cards_to_dicts(conn, [card], view)[0]

    card, data = app.write(work)
    if as_json:
        print_json(data)
        return
    message = _("suspended card {id}: {topic}") if suspended else _(
        "card {id} is back in the queue: {topic}")
    echo(message.format(id=card.id, topic=card.topic))


@click.command("suspend")
@click.argument("card_id", type=ID, metavar="ID")
@json_option
@click.pass_obj
def suspend_cmd(app: App, card_id: int, as_json: bool) -> None:
    """Take a card out of the queue; its history stays.

    \b
    Example:
        review suspend 12
    """
    _suspend(app, card_id, True, as_json)


@click.command("unsuspend")
@click.argument("card_id", type=ID, metavar="ID")
@json_option
@click.pass_obj
def unsuspend_cmd(app: App, card_id: int, as_json: bool) -> None:
    """Put a suspended card back in the queue.

    \b
    Example:
        review unsuspend 12
    """
    _suspend(app, card_id, False, as_json)


@click.command("merge")
@click.argument("from_id", type=ID, metavar="FROM")
@click.argument("into_id", type=ID, metavar="INTO")
@click.pass_obj
def merge_cmd(app: App, from_id: int, into_id: int) -> None:
    """Fold card FROM's history into card INTO (re-imports keep the merge).

    \b
    Example:
        review merge 14 9
    """
    from srs.cards import merge_cards

    into = app.write(
        lambda conn: merge_cards(conn, from_id, into_id, engine=app.engine(conn), now=app.now()))
    echo(_("merged card {src} into card {id}: {topic}").format(
        src=from_id, id=into.id, topic=into.topic))
