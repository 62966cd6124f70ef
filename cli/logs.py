"""`review logs`: the imported log files, and moving one to a new path."""

from __future__ import annotations

import click

from cli.output import echo, json_option, print_json
from srs.app import App
from srs.i18n import N_, _, ngettext

# Translated where shown: this module may be imported before the language is chosen.
STATES = {"unchanged": N_("unchanged"), "changed": N_("changed since"),
          "missing": N_("file missing"), "unreadable": N_("unreadable")}


def _salt(app: App) -> str:
    from srs.importer import import_salt, log_options

    return import_salt(app.clock, log_options(app.config, app.clock.day_of(app.now())))


@click.group("logs", invoke_without_command=True)
@json_option
@click.pass_context
def logs_group(ctx: click.Context, as_json: bool) -> None:
    """List the imported logs: rows, cards, pending, planned, and whether each changed.

    \b
    Examples:
        review logs
        review logs --json
        review logs move notes/old.md notes/progress-log.md
    """
    if ctx.invoked_subcommand is not None:
        return

    from srs.logs import list_logs

    app: App = ctx.obj
    with app.reading() as conn:
        found = list_logs(conn, salt=_salt(app))
    if as_json:
        print_json([info.to_json(app.tz) for info in found])
        return
    if not found:
        echo(_("no logs imported yet (review import PATH)"))
        return
    from cli.output import Column, print_table

    print_table([Column(_("id"), right=True), Column(_("path"), shrink=1, least=16),
                 Column(_("rows"), right=True), Column(_("cards"), right=True),
                 Column(_("pending"), right=True, shrink=3, optional=True),
                 Column(_("planned"), right=True, shrink=2, optional=True),
                 Column(_("imported"), shrink=4, optional=True), Column(_("file"))],
                [[info.id, info.path, info.rows, info.cards, info.pending, info.planned,
                  info.imported_at.astimezone(app.tz).strftime("%m-%d %H:%M")
                  if info.imported_at else "-", _(STATES[info.state])] for info in found])


@logs_group.command("move")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@json_option
@click.pass_obj
def move_cmd(app: App, old: str, new: str, as_json: bool) -> None:
    """Tell srs a log now lives at NEW (renamed or moved); its cards stay as they are.

    \b
    Example:
        review logs move ~/notes/log.md ~/study/progress-log.md
    """
    from srs.logs import move_log

    info = app.write(lambda conn: move_log(conn, old, new, salt=_salt(app)))
    if as_json:
        print_json(info.to_json(app.tz))
        return
    echo(ngettext("log {id} is now {path} ({cards} card)",
                  "log {id} is now {path} ({cards} cards)", info.cards).format(
        id=info.id, path=info.path, cards=info.cards))
