"""The root `review` group. Subcommands are imported only when they run, to start fast."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from cli.language import start as start_language
from cli.language import translate
from cli.output import echo
from srs import __version__
from srs.errors import SrsError
from srs.text import plain

# name -> "module:attribute"; one module per command group.
COMMANDS = {
    "import": "cli.importing:import_cmd",
    "logs": "cli.logs:logs_group",
    "cards": "cli.cards:cards_cmd",
    "show": "cli.cards:show_cmd",
    "add": "cli.cards:add_cmd",
    "suspend": "cli.cards:suspend_cmd",
    "unsuspend": "cli.cards:unsuspend_cmd",
    "merge": "cli.cards:merge_cmd",
    "config": "cli.config_cmd:config_group",
    "today": "cli.daily:today_cmd",
    "grade": "cli.daily:grade_cmd",
    "undo": "cli.daily:undo_cmd",
    "session": "cli.daily:session_cmd",
    "set-due": "cli.daily:set_due_cmd",
    "spread": "cli.daily:spread_cmd",
    "daemon": "cli.daemon:daemon_group",
    "remind": "cli.daemon:remind_cmd",
    "reminders": "cli.daemon:reminders_cmd",
    "stats": "cli.insight:stats_cmd",
    "forecast": "cli.insight:forecast_cmd",
    "optimize": "cli.insight:optimize_cmd",
    "simulate": "cli.plan:simulate_cmd",
    "export": "cli.backup:export_cmd",
    "restore": "cli.backup:restore_cmd",
    "check": "cli.check:check_cmd",
    "completion": "cli.shell:completion_cmd",
    "open": "cli.shell:open_cmd",
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as err:
            name = args[0] if args else ""
            if name in COMMANDS or not _unknown_command(err):
                raise
            raise _no_such("command", name, COMMANDS, ctx) from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return translate(command)

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Run, turning every error into one line on stderr (no usage block)."""
        kwargs["standalone_mode"] = False
        start_language()
        translate(self)
        from srs.i18n import _

        given = kwargs.get("args", args[0] if args else None)
        bad = _not_utf8(list(sys.argv[1:] if given is None else given))
        if bad is not None:
            echo(_("Error: {message}").format(message=bad), err=True)
            sys.exit(2)
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as err:
            echo(_("Error: {message}").format(message=_usage_message(err)), err=True)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            echo(_("Error: {message}").format(message=err.format_message()), err=True)
            sys.exit(err.exit_code)
        except click.Abort:
            echo(_("Aborted."), err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SrsError as err:
            raise click.ClickException(str(err)) from None
        except (click.ClickException, click.Abort, click.exceptions.Exit, BrokenPipeError):
            raise  # a reader that stopped reading (`| head`): click ends quietly, status 1
        except Exception as err:  # noqa: BLE001 - the edge: one line, never a traceback
            raise click.ClickException(_explained(err, ctx)) from None


def _unknown_command(err: click.UsageError) -> bool:
    return type(err).__name__ == "NoSuchCommand" or err.message.startswith("No such command")


def _no_such(kind: str, name: str, known: Any, ctx: click.Context | None) -> click.UsageError:
    """A usage error naming the unknown command or option and the nearest known one."""
    from difflib import get_close_matches

    from srs.i18n import _

    near = get_close_matches(name, sorted(known), n=1)
    if kind == "command":
        message = (_("no such command {name}; did you mean {near}?") if near
                   else _("no such command {name}"))
    else:
        message = (_("no such option {name}; did you mean {near}?") if near
                   else _("no such option {name}"))
    error = click.UsageError(message.format(name=repr(plain(name)),
                                            near=repr(near[0]) if near else ""), ctx)
    error.srs_suggested = bool(near)  # type: ignore[attr-defined]
    return error


def _usage_message(err: click.UsageError) -> str:
    """One line for a usage error: the nearest command or option when there is one, else
    where to look (one parenthetical, never two)."""
    if _unknown_command(err) or type(err).__name__ == "NoSuchOption":
        name = str(getattr(err, "command_name", None) or getattr(err, "option_name", ""))
        known: Any = ()
        if err.ctx is not None:
            command = err.ctx.command
            if isinstance(command, click.Group) and _unknown_command(err):
                known = command.list_commands(err.ctx)
            else:
                known = [opt for param in command.params for opt in param.opts
                         if opt.startswith("-")]
        err = _no_such("command" if _unknown_command(err) else "option", name, known,
                       err.ctx)
    if getattr(err, "srs_suggested", False) or err.ctx is None:
        return err.format_message()
    from srs.i18n import _

    return _("{message} (see '{command} -h')").format(message=err.format_message(),
                                                      command=err.ctx.command_path)


def _not_utf8(args: list[str]) -> str | None:
    """Say which argument holds bytes that are not UTF-8 (Python keeps them as surrogates)."""
    from srs.i18n import _

    for arg in args:
        if "\x00" in arg:  # no real command line can hold one; a caller in-process can
            return _("argument {value} holds a NUL character").format(
                value=f"'{plain(arg)}'")
        if any("\udc80" <= ch <= "\udcff" for ch in arg):
            return _("argument {value} is not UTF-8 text; write it (or rename the file) in "
                     "UTF-8").format(value=f"'{plain(arg)}'")
    return None


def _explained(err: Exception, ctx: click.Context) -> str:
    """One line for an error no command turned into a domain error."""
    import os
    import traceback

    from srs.errors import storage_error
    from srs.i18n import _

    app = ctx.obj
    where = app.shown_database if app is not None else "?"
    known = storage_error(err, where)
    if known is not None:
        return str(known)
    if os.environ.get("SRS_DEBUG"):
        traceback.print_exc()
    if isinstance(err, UnicodeError):
        return _("text that is not valid UTF-8: {reason}").format(reason=err)
    return _("internal error ({kind}: {reason}); nothing more was written. Set SRS_DEBUG=1 "
             "to see where, and please report it").format(
                 kind=type(err).__name__, reason=str(err).splitlines()[0] if str(err) else "")


@click.group(cls=LazyGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="review")
@click.option("--db", "db_url", metavar="URL", envvar="SRS_DATABASE_URL",
              help="Database URL (SQLAlchemy); default: SQLite in the data folder.")
@click.option("--no-pager", is_flag=True, help="Never page long lists ($PAGER) on a terminal.")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, no_pager: bool) -> None:
    """Review the topics of a markdown study log when FSRS says they are due.

    \b
    Start with:
        review import progress-log.md
        review today
    """
    from cli import output
    from srs.app import App

    output.paging = not no_pager
    app = App(db_url=db_url, notify=_rescheduled)
    ctx.obj = app
    ctx.call_on_close(app.close)
    if ctx.invoked_subcommand is None:
        _overview(app)


def _overview(app: Any) -> None:
    """Bare `review`: what is due today and how to start (never creates a database)."""
    from srs.i18n import _, day_label, ngettext
    from srs.sql import sqlite_path

    path = sqlite_path(app.url)
    if path is not None and not path.exists():
        echo(_("No log imported yet. Start with:"))
        echo("    review import progress-log.md")
        echo("    review today")
        echo(_("(review -h lists every command)"))
        return
    from srs.queue import ACTIVE

    day = app.clock.day_of(app.now())
    with app.reading() as conn:
        due = int(conn.scalar(f"SELECT count(*) FROM card c WHERE {ACTIVE} AND c.due <= :day",
                              no=False, day=conn.day_value(day)) or 0)
        cards = int(conn.scalar(f"SELECT count(*) FROM card c WHERE {ACTIVE}", no=False) or 0)
    if cards == 0:
        echo(_("No cards yet. Start with:"))
        echo("    review import progress-log.md")
    else:
        echo(ngettext("{due} of {cards} topic due for a self-test today ({day}).",
                      "{due} of {cards} topics due for a self-test today ({day}).",
                      cards).format(due=due, cards=cards, day=day_label(day, day)))
        echo(_("Start with:"))
        echo("    review today            " + _("what is due, most at risk first"))
        echo("    review session          " + _("self-test them one by one"))
        echo("    review grade ID RATING  " + _("record one self-test (again/hard/good/easy)"))
    echo(_("(review -h lists every command)"))


def _rescheduled(result: Any) -> None:
    """Say on stderr that the schedule was recomputed for another clock (never on stdout)."""
    from srs.i18n import ngettext

    if not result.moved:
        return
    if result.previous is None:
        echo(ngettext("the schedule now counts elapsed time in study days: every card was "
                      "replayed, {n} due date moved", "the schedule now counts elapsed time "
                      "in study days: every card was replayed, {n} due dates moved",
                      result.moved).format(n=result.moved), err=True)
    else:
        echo(ngettext("study days changed (timezone or day_starts_at): every card was "
                      "replayed, {n} due date moved", "study days changed (timezone or "
                      "day_starts_at): every card was replayed, {n} due dates moved",
                      result.moved).format(n=result.moved), err=True)


def main() -> None:
    cli(prog_name="review")
