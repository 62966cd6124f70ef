"""`review config`: read and change the settings in config.toml."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from cli.output import echo, json_option, print_json, say
from srs.app import App
from srs.i18n import _, ngettext

if TYPE_CHECKING:
    from srs.sql import SqlConn


@click.group("config")
def config_group() -> None:
    """Show and change settings (stored in config.toml).

    \b
    Examples:
        review config show
        review config set timezone Asia/Shanghai
        review config set reminders.digest_at 08:30,20:00
    """


@config_group.command("show")
@json_option
@click.pass_obj
def show(app: App, as_json: bool) -> None:
    """Show every setting, its value, and whether it is the default."""

    from srs.config import KEYS, show_value

    items = app.config.items()
    if as_json:
        print_json(dict(items))
        return
    from cli.output import Column, print_table

    print_table([Column(_("key")), Column(_("value"), shrink=2, least=12),
                 Column("", shrink=3, optional=True),
                 Column(_("meaning"), shrink=4, least=16, optional=True)],
                [[name, show_value(value), "" if app.config.is_set(name) else _("(default)"),
                  _(KEYS[name].help)] for name, value in items])
    say(_("file: {path}").format(path=app.paths.config_file))


@config_group.command("get")
@click.argument("key")
@json_option
@click.pass_obj
def get(app: App, key: str, as_json: bool) -> None:
    """Print one setting's value."""
    from srs.config import show_value

    value = app.config[key]
    if as_json:
        print_json(value)
    else:
        echo(show_value(value))


# Study days depend on these: changing one replays every card's history.
CLOCK_KEYS = ("timezone", "day_starts_at")
# The scheduler depends on these: changing one replays every card's history too.
SCHEDULE_KEYS = ("desired_retention", "maximum_interval", "learning_steps",
                 "relearning_steps", "fuzz")


def _change(app: App, key: str, value: Any, write: Callable[[], None]) -> int | None:
    """Write a setting; for a clock setting, replay every card in the same transaction.

    Returns how many due dates moved (None when the setting does not affect them). The
    database follows the new clock first and config.toml is written before it commits: if
    either fails, nothing changes; if the commit itself failed after the file was written,
    the next command would see the database follow an older clock and replay it then.
    """
    if key in SCHEDULE_KEYS and _has_database(app):
        return _replayed(app, key, value, write)
    if key not in CLOCK_KEYS or not _has_database(app):
        write()
        return None
    from srs.clock import DayClock, zone
    from srs.engine import Engine, settings_from
    from srs.schedule import follow_clock
    from srs.store import load_parameters

    tz = zone(str(value)) if key == "timezone" else app.tz
    hour = int(value) if key == "day_starts_at" else app.day_starts_at
    clock = DayClock(tz, hour)

    def work(conn: SqlConn) -> int:
        engine = Engine(settings_from(app.config, load_parameters(conn)), clock)
        result = follow_clock(conn, engine, app.now())
        write()
        return result.moved if result is not None else 0

    return app.write(work)


def _replayed(app: App, key: str, value: Any, write: Callable[[], None]) -> int:
    """Write a scheduling setting and recompute every card from its history with it, in one
    transaction: a card's state is always what its history gives under the settings."""
    from srs.engine import Engine, settings_from
    from srs.schedule import replay_cards
    from srs.store import load_parameters

    settings = {**{name: app.config[name] for name in SCHEDULE_KEYS}, key: value}

    def work(conn: SqlConn) -> int:
        engine = Engine(settings_from(settings, load_parameters(conn)), app.clock)
        result = replay_cards(conn, engine, app.now())
        write()
        return result.moved

    return app.write(work)


def _has_database(app: App) -> bool:
    from srs.sql import sqlite_path

    path = sqlite_path(app.url)
    return path is None or path.exists()


def _moved(key: str, n: int | None) -> None:
    if n is None:
        return
    if key in CLOCK_KEYS:
        echo(ngettext("every card replayed with the new study days; {n} due date moved",
                      "every card replayed with the new study days; {n} due dates moved",
                      n).format(n=n))
    else:
        echo(ngettext("every card replayed with the new {key}; {n} due date moved",
                      "every card replayed with the new {key}; {n} due dates moved",
                      n).format(key=key, n=n))


@config_group.command("set")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def set_(app: App, key: str, value: str) -> None:
    """Change a setting (lists are comma-separated).

    Changing timezone or day_starts_at moves the study days, and the scheduling settings
    (desired_retention, maximum_interval, learning and relearning steps, fuzz) change what
    a history gives: every card's history is then replayed with the new value and the
    command says how many due dates moved.
    """
    from srs.config import KEYS, show_value

    if key in KEYS:
        checked = KEYS[key].check(KEYS[key].parse(value))
    else:
        checked = app.config.set(key, value)  # raises the unknown-setting error
    moved = _change(app, key, checked, lambda: app.config.set(key, value))
    echo(f"{key} = {show_value(app.config[key])}")
    _moved(key, moved)


@config_group.command("unset")
@click.argument("key")
@click.pass_obj
def unset(app: App, key: str) -> None:
    """Go back to a setting's default."""
    from srs.config import KEYS, show_value

    default = KEYS[key].default() if key in KEYS else app.config.unset(key)
    moved = _change(app, key, default, lambda: app.config.unset(key))
    echo(f"{key} = {show_value(app.config[key])} " + _("(default)"))
    _moved(key, moved)
