"""Looking at cards and editing them by hand: cards, show, add, suspend, merge."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cli.output import ID, console, echo, json_option, parse_date, plain, print_json, short
from srs.app import App
from srs.i18n import _

if TYPE_CHECKING:
    from srs.cards import View
    from srs.sql import SqlConn


def _view(app: App, conn: SqlConn) -> View:
    from srs.cards import View

    return View(app.engine(conn), app.now(), app.tz)


def _day(iso: str | None) -> str:
    return iso[:10] if iso else "-"


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
    from rich.table import Table

    if not data:
        echo(_("no cards (import a log with 'review import PATH')"))
        return
    table = Table(box=None, pad_edge=False)
    for name in ("id", "topic", "section", "learned", "due", "R", "reviews", ""):
        table.add_column(_(name), overflow="fold")
    for card in data:
        flags = " ".join(flag for flag, on in (
            (_("suspended"), card["suspended"]),
            (_("not in log"), not card["in_log"] and card["source"]),
        ) if on)
        # Topics are the user's text: "[x]" or "a[/]" must print as written, not as markup.
        table.add_row(str(card["id"]), short(card["topic"]), short(card["section"], 24),
                      card["learned_on"], _day(card["due"]), f"{card['retrievability']:.0%}",
                      str(card["reviews"]), flags)
    console().print(table)


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
    from rich.table import Table
    from rich.text import Text

    out = console()
    out.print(Text(f"{data['id']}. {plain(data['topic'])}", style="bold"))
    for label, value in (
        (_("section"), data["section"]), (_("source"), data["source"] or "-"),
        (_("notes"), data["notes"] or "-"), (_("learned"), data["learned_on"]),
        (_("state"), data["state"] + (_(" (suspended)") if data["suspended"] else "")),
        (_("due"), data["due"]),
        (_("stability"), f"{data['stability']:.2f} d" if data["stability"] else "-"),
        (_("difficulty"), f"{data['difficulty']:.2f}" if data["difficulty"] else "-"),
        (_("retrievability"), f"{data['retrievability']:.0%}"),
    ):
        out.print(f"{label:>15}: {plain(str(value))}")
    table = Table(title=_("history"), box=None, pad_edge=False)
    for name in ("at", "rating", "source", "note"):
        table.add_column(_(name), overflow="fold")
    for entry in data["history"]:
        if entry.get("kind") == "plan":
            rating = _("self-test planned for {day}").format(day=_day(entry.get("due")))
        else:
            rating = entry["rating"] or _("due set to {day}").format(day=_day(entry.get("due")))
        table.add_row(entry["at"][:16].replace("T", " "), rating, entry["source"],
                      plain(entry["note"] or ""))
    out.print(table)


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
            id=data["id"], topic=data["topic"], due=_day(data["due"])))


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
