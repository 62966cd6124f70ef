"""Backup and portability: export (JSON, CSV, ICS) and restore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cli.output import json_option, print_json
from srs.app import App
from srs.i18n import _


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
    from srs.export import atomic_write, calendar_ics, identity, make_backup, reviews_csv

    now = app.now()
    if fmt == "json":
        config = {name: value for name, value in app.config.items() if app.config.is_set(name)}
        with app.db.reading() as session:
            backup = make_backup(session, now=now, config=config, version=__version__)
        data = (json.dumps(backup, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    elif fmt == "csv":
        with app.db.reading() as session:
            data = reviews_csv(session, engine=app.engine(session)).encode("utf-8")
    else:
        def calendar(session: Any) -> bytes:
            return calendar_ics(session, clock=app.clock, now=now, ident=identity(session))

        data = app.db.write(calendar)
    if output is None:
        click.echo(data, nl=False)
        return
    atomic_write(output, data, mode=0o600 if fmt == "json" else None)
    click.echo(_("wrote {path}").format(path=output), err=True)


@click.command("restore")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, exists=True,
                                                         path_type=Path))
@click.option("--replace", is_flag=True,
              help="Replace everything in a database that is not empty (one transaction).")
@json_option
@click.pass_obj
def restore_cmd(app: App, path: Path, replace: bool, as_json: bool) -> None:
    """Restore a JSON backup made by 'review export' into an empty database.

    A database that holds anything is only replaced with --replace. config.toml is
    written from the backup only when there is none yet.

    \b
    Examples:
        review restore srs-backup.json
        review restore srs-backup.json --replace
    """
    from srs.clock import DayClock, zone
    from srs.config import KEYS, Config
    from srs.db import KNOWN_REVISIONS
    from srs.export import ExportError, parse_backup, restore_backup

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ExportError(_("cannot read {path}: {reason}").format(
            path=path, reason=getattr(err, "strerror", None) or err)) from None
    backup = parse_backup(text)
    values = backup.get("config") or {}
    _check_config(values)
    # The settings in force afterwards: config.toml's, or the backup's when there is none.
    target = app.config if app.config.path.exists() else Config(app.config.path, {
        name: value for name, value in values.items() if name in KEYS})
    clock = DayClock(zone(str(target["timezone"])), int(target["day_starts_at"]))
    made_with = DayClock(zone(str(values.get("timezone", target["timezone"]))),
                         int(values.get("day_starts_at", target["day_starts_at"])))

    def work(session: Any) -> Any:
        from srs.engine import Engine
        from srs.repository import scheduler_settings
        from srs.schedule import follow_clock
        from srs.sql import SessionConn

        report = restore_backup(session, backup, replace=replace,
                                known_revisions=KNOWN_REVISIONS, clock=made_with)
        # The backup's schedule followed its own database's clock: follow this one's.
        engine = Engine(scheduler_settings(session, target), clock)
        moved = follow_clock(SessionConn(session), engine, app.now())
        report.rescheduled = moved.moved if moved is not None else 0
        return report

    report = app.db.write(work)
    config_written = _restore_config(app, report.config)
    if as_json:
        print_json({**report.to_json(), "config_written": config_written})
        return
    rows = ", ".join(f"{name} {n}" for name, n in report.rows.items())
    click.echo(_("restored {path}: {rows}").format(path=path, rows=rows))
    if report.rescheduled:
        click.echo(_("{n} due dates moved: study days now follow timezone {zone}, starting "
                     "at {hour}:00").format(n=report.rescheduled, zone=clock.zone_name,
                                            hour=clock.day_starts_at))
    if config_written:
        click.echo(_("wrote the backup's settings to {path}").format(path=app.config.path))
    elif report.config:
        click.echo(_("kept the settings in {path}; the backup's are not applied").format(
            path=app.config.path))


def _check_config(values: dict[str, Any]) -> None:
    """Refuse a backup whose settings this version would not accept, before writing anything."""
    from srs.config import KEYS

    for name, value in values.items():
        if name in KEYS:
            KEYS[name].check(value)


def _restore_config(app: App, values: dict[str, Any]) -> bool:
    """Write the backup's settings to config.toml when there is none yet."""
    from srs.config import KEYS, Config, show_value

    if not values or app.config.path.exists():
        return False
    config = Config(app.config.path, {})
    for name, value in values.items():
        if name in KEYS:
            config.set(name, show_value(value))
    return True
