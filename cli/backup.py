"""Backup and portability: export (JSON, CSV, ICS) and restore."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.output import echo, json_option, print_json
from srs.app import App
from srs.i18n import _, ngettext

if TYPE_CHECKING:
    from srs.export import RestoreReport
    from srs.sql import SqlConn


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "ics"]), default="json",
              show_default=True,
              help="json: a full backup; csv: one row per review; ics: a calendar.")
@click.option("-o", "--output", "output", metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (atomically) instead of standard output.")
@click.pass_obj
def export_cmd(app: App, fmt: str, output: Path | None) -> None:
    """Export everything as a JSON backup, the reviews as CSV, or the due dates as a calendar.

    \b
    Examples:
        review export -o srs-backup.json
        review export --format csv -o revlog.csv
        review export --format ics -o self-tests.ics
    """
    from srs import __version__
    from srs.export import (
        identity,
        replacing,
        stored_identity,
        write_backup,
        write_calendar,
        write_reviews_csv,
    )

    now = app.now()
    ident = ""
    if fmt == "ics":
        with app.reading() as conn:
            ident = stored_identity(conn) or ""
        if not ident:
            ident = app.write(identity)  # made once, kept in the database and its backups

    def produce(write: Callable[[bytes], None]) -> None:
        with app.reading() as conn:
            if fmt == "json":
                config = {name: value for name, value in app.config.items()
                          if app.config.is_set(name)}
                write_backup(conn, write, now=now, config=config, version=__version__)
            elif fmt == "csv":
                write_reviews_csv(conn, write, engine=lambda: app.engine(conn))
            else:
                write_calendar(conn, write, clock=app.clock, now=now, ident=ident)

    if output is None:
        if sys.stdout.isatty():  # shown, not kept: a person's text stays text on a screen
            produce(lambda data: echo(data.decode("utf-8").replace("\r\n", "\n"), nl=False))
        else:
            sys.stdout.flush()
            stream = sys.stdout.buffer
            produce(stream.write)
            stream.flush()
        return
    with replacing(output, mode=0o600 if fmt == "json" else None) as out:
        produce(out.write)
    echo(_("wrote {path}").format(path=output), err=True)


@click.command("restore")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, exists=True,
                                                         path_type=Path))
@click.option("--replace", is_flag=True,
              help="Replace everything in a database that is not empty (one transaction).")
@click.option("--with-config", is_flag=True,
              help="Also write the backup's settings to config.toml (not those that run a "
                   "program or send data somewhere).")
@click.option("--with-commands", is_flag=True,
              help="With --with-config: the reminder command and channels that run a program "
                   "or send data too; they are printed first.")
@json_option
@click.pass_obj
def restore_cmd(app: App, path: Path, replace: bool, with_config: bool, with_commands: bool,
                as_json: bool) -> None:
    """Restore a JSON backup made by 'review export' into an empty database.

    All of the file is checked before anything is written. A database that holds
    anything is only replaced with --replace. The backup's settings are applied only with
    --with-config; those that run a program or send data somewhere (reminders.command, the
    command channel, apprise URLs) only with --with-commands as well.

    \b
    Examples:
        review restore srs-backup.json
        review restore srs-backup.json --replace
        review restore srs-backup.json --with-config
    """
    from srs.backupcheck import config_texts, read_backup, split_config
    from srs.clock import DayClock, zone
    from srs.config import Config

    if with_commands and not with_config:
        raise click.UsageError(_("--with-commands goes with --with-config"))
    backup = read_backup(path)  # every value checked: nothing is written before this
    values = backup.head.get("config") or {}
    settings = split_config(values)
    applied = {**settings.safe, **(settings.commands if with_commands else {})} \
        if with_config else {}
    held_back = list(settings.commands) if with_config and not with_commands else []
    texts = config_texts(applied)
    # The settings in force afterwards: config.toml's, with the backup's applied over them.
    current = {name: value for name, value in app.config.items() if app.config.is_set(name)}
    target = Config(app.config.path, {**current, **applied})
    clock = DayClock(zone(str(target["timezone"])), int(target["day_starts_at"]))
    made_with = DayClock(zone(str(values.get("timezone", target["timezone"]))),
                         int(values.get("day_starts_at", target["day_starts_at"])))
    if with_commands:
        for name in settings.commands:  # seen before they take effect
            echo(f"{name} = {texts[name]}", err=as_json)

    def work(conn: SqlConn) -> RestoreReport:
        from srs.engine import Engine, settings_from
        from srs.export import fill_steps, restore_backup
        from srs.schedule import follow_clock
        from srs.store import load_parameters

        report = restore_backup(conn, backup, replace=replace, clock=made_with)
        # The backup's schedule followed its own database's clock: follow this one's.
        engine = Engine(settings_from(target, load_parameters(conn)), clock)
        moved = follow_clock(conn, engine, app.now())
        report.rescheduled = moved.moved if moved is not None else 0
        report.steps = fill_steps(conn, engine)
        return report

    report = app.write(work)
    _apply_config(app, texts)
    if as_json:
        print_json({**report.to_json(), "config_written": bool(applied),
                    "config_applied": list(applied),
                    "config_not_applied": held_back + settings.unknown
                    if with_config else list(values)})
        return
    counts = report.rows
    rows = ", ".join([
        ngettext("{n} card", "{n} cards", counts.get("card", 0)).format(n=counts.get("card", 0)),
        ngettext("{n} review", "{n} reviews", counts.get("review", 0)).format(
            n=counts.get("review", 0)),
        ngettext("{n} log", "{n} logs", counts.get("log_source", 0)).format(
            n=counts.get("log_source", 0))])
    echo(_("restored {path}: {rows}").format(path=path, rows=rows))
    if report.rescheduled:
        echo(ngettext("{n} due date moved: study days now follow timezone {zone}, starting "
                      "at {hour}:00", "{n} due dates moved: study days now follow timezone "
                      "{zone}, starting at {hour}:00", report.rescheduled).format(
                          n=report.rescheduled, zone=clock.zone_name, hour=clock.day_starts_at))
    if not with_config:
        if values:
            echo(_("the backup's settings are not applied (add --with-config to write them "
                   "to {path})").format(path=app.config.path))
        return
    if applied:
        echo(_("wrote the backup's settings to {path}: {names}").format(
            path=app.config.path, names=", ".join(applied)))
    reasons = []
    if held_back:
        reasons.append(_("{names} (add --with-commands)").format(names=", ".join(held_back)))
    if settings.unknown:
        reasons.append(_("{names} (unknown to this version of srs)").format(
            names=", ".join(settings.unknown)))
    if reasons:
        echo(_("not applied from the backup: {reasons}").format(reasons="; ".join(reasons)))


def _apply_config(app: App, texts: dict[str, str]) -> None:
    """Write settings from a backup (already checked) to config.toml."""
    from srs.errors import ConfigError
    from srs.export import ExportError

    try:
        for name, text in texts.items():
            app.config.set(name, text)
    except (OSError, ConfigError) as err:
        raise ExportError(_("the backup is restored, but its settings are not: {reason}")
                          .format(reason=getattr(err, "strerror", None) or err)) from None
