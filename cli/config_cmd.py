"""`review config`: read and change the settings in config.toml."""

from __future__ import annotations

import click

from cli.output import json_option, print_json
from srs.app import App
from srs.i18n import _


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
    from rich.markup import escape
    from rich.table import Table

    from cli.output import console
    from srs.config import KEYS, show_value

    items = app.config.items()
    if as_json:
        print_json(dict(items))
        return
    table = Table(box=None, pad_edge=False)
    for name in ("key", "value", "", "meaning"):
        table.add_column(_(name), overflow="fold")
    for name, value in items:
        table.add_row(name, escape(show_value(value)),
                      "" if app.config.is_set(name) else _("(default)"),
                      _(KEYS[name].help))
    console().print(table)
    click.echo(_("file: {path}").format(path=app.paths.config_file))


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
        click.echo(show_value(value))


@config_group.command("set")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def set_(app: App, key: str, value: str) -> None:
    """Change a setting (lists are comma-separated)."""
    from srs.config import show_value

    stored = app.config.set(key, value)
    click.echo(f"{key} = {show_value(stored)}")


@config_group.command("unset")
@click.argument("key")
@click.pass_obj
def unset(app: App, key: str) -> None:
    """Go back to a setting's default."""
    from srs.config import show_value

    app.config.unset(key)
    click.echo(f"{key} = {show_value(app.config[key])} " + _("(default)"))
