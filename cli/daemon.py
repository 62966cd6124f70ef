"""The reminder daemon and its ledger: daemon run/start/stop/status/install, remind, reminders."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from cli.output import echo, json_option, print_json
from srs.app import App
from srs.i18n import _

CHECK_HELP = "Seconds between checks for changes made by other commands (default 30)."


def _files(app: App) -> tuple[str, Any]:
    from scheduler.files import absolute_url, daemon_files, database_url

    url = absolute_url(database_url(app.paths, app.db_url))
    return url, daemon_files(app.paths, url)


def _settings(app: App) -> Any:
    from srs.reminders import settings_from_config

    return settings_from_config(app.config)


def _when(moment: datetime | None, app: App) -> str:
    """A moment in the configured zone, short (srs.text.short_time)."""
    from srs.text import short_time

    return short_time(moment, app.tz, app.clock.day_of(app.now())) if moment else "-"


def _since(text: str | None, app: App) -> str:
    """When the daemon started (stored as an ISO moment), as `_when` shows moments."""
    if not text:
        return "?"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    return _when(moment, app)


def _iso(moment: datetime | None, app: App) -> str | None:
    return moment.astimezone(app.tz).isoformat() if moment else None


def _daemon_env(app: App, url: str) -> dict[str, str]:
    """What a daemon started from here needs to find the same files and database."""
    env: dict[str, str] = {}
    if os.environ.get("SRS_HOME"):
        env["SRS_HOME"] = str(Path(os.environ["SRS_HOME"]).expanduser().resolve())
    if app.db_url or os.environ.get("SRS_DATABASE_URL"):
        env["SRS_DATABASE_URL"] = url
    return env


@click.group("daemon")
def daemon_group() -> None:
    """Run the reminder daemon: digests, due-now reminders, and the log followed.

    \b
    Examples:
        review daemon start
        review daemon status
        review daemon install
    """


@daemon_group.command("run")
@click.option("--check-every", type=click.FloatRange(0.2, 86_400.0), default=30.0,
              show_default=False, help=CHECK_HELP)
@click.option("--detach", is_flag=True, hidden=True)
@click.option("--log-file", type=click.Path(path_type=Path), hidden=True)
@click.pass_obj
def run_cmd(app: App, check_every: float, detach: bool, log_file: Path | None) -> None:
    """Run the daemon in the foreground, logging to stderr (for systemd, launchd, containers).

    SIGTERM or Ctrl-C stops it; SIGHUP reloads the settings.

    \b
    Example:
        review daemon run
    """
    from scheduler.daemon import Daemon, configure_logging
    from scheduler.daemon import detach as leave

    url, files = _files(app)
    if detach:
        leave(log_file or files.log_file)
    configure_logging(tz=app.tz)
    Daemon(app.paths, url, files, check_every=check_every).run()


@daemon_group.command("start")
@click.option("--check-every", type=click.FloatRange(0.2, 86_400.0), help=CHECK_HELP)
@click.pass_obj
def start_cmd(app: App, check_every: float | None) -> None:
    """Start the daemon in the background, with a pid file and a log file.

    \b
    Example:
        review daemon start
    """
    from scheduler import control

    url, files = _files(app)
    _settings(app)  # bad settings are reported here, not in the log
    with app.reading():  # open (and migrate) now, so that a problem shows here
        pass
    env = {**os.environ, **_daemon_env(app, url)}
    running = control.start(files, env, check_every=check_every)
    echo(_("daemon started (pid {pid}); log: {log}").format(
        pid=running.pid, log=files.log_file))


@daemon_group.command("stop")
@click.pass_obj
def stop_cmd(app: App) -> None:
    """Stop the daemon (SIGTERM) and wait until it has exited.

    The daemon is the process that holds its lock and runs 'review daemon run'; a pid file
    naming any other process is reported and that process is left alone.

    \b
    Example:
        review daemon stop
    """
    from scheduler import control

    _url, files = _files(app)
    found = control.stop(files)
    _tell_strangers(found)
    if not found.running:
        echo(_("no daemon is running for this database"))
    else:
        echo(_("daemon stopped (pid {pid})").format(pid=found.pid))


def _tell_strangers(found: Any) -> None:
    """Name on stderr the processes the daemon's files point at that are not the daemon."""
    for line in found.strangers:
        echo(line, err=True)


@daemon_group.command("status")
@json_option
@click.pass_context
def status_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show whether the daemon runs, the next reminder, and the last one sent.

    Exits 0 when the daemon runs and 3 when it does not, as `systemctl status` does.

    \b
    Examples:
        review daemon status
        review daemon status --json
    """
    from scheduler import control
    from scheduler.files import safe_url
    from srs.channels import channel_id
    from srs.reminders import last_sent, next_wake

    app: App = ctx.obj
    url, files = _files(app)
    running = control.state(files)
    _tell_strangers(running)
    settings = _settings(app)
    with app.reading() as conn:
        wake = next_wake(conn, settings, app.now())
        last = last_sent(conn)
    channels = [channel_id(spec) for spec in settings.channels]
    if as_json:
        print_json({
            "running": running.running, "pid": running.pid, "since": running.since,
            "database": safe_url(url), "log_file": str(files.log_file),
            "next": {"kind": wake.kind, "at": _iso(wake.at, app)} if wake else None,
            "last_sent": {"kind": last.kind, "key": last.key, "channel": last.channel,
                          "at": _iso(last.sent_at, app), "title": last.title} if last else None,
            "channels": channels,
        })
    else:
        if running.running:
            echo(_("daemon: running (pid {pid}, since {since})").format(
                pid=running.pid, since=_since(running.since, app)))
        else:
            echo(_("daemon: not running (start it with 'review daemon start')"))
        echo(_("database: {url}").format(url=safe_url(url)))
        echo(_("log: {path}").format(path=files.log_file))
        echo(_("next reminder: {what}").format(
            what=_("{kind} at {at}").format(kind=wake.kind, at=_when(wake.at, app))
            if wake else _("none planned")))
        echo(_("last sent: {what}").format(
            what=_("{kind} {key} on {channel} at {at}: {title}").format(
                kind=last.kind, key=last.key, channel=last.channel,
                at=_when(last.sent_at, app), title=last.title) if last else _("nothing yet")))
        echo(_("channels: {channels}").format(channels=", ".join(channels)))
    if not running.running:
        ctx.exit(3)


@daemon_group.command("install")
@click.pass_obj
def install_cmd(app: App) -> None:
    """Write a systemd user unit that runs 'review daemon run', and say how to enable it.

    \b
    Example:
        review daemon install
    """
    from scheduler import control

    url, _files_ = _files(app)
    path, changed = control.install(_daemon_env(app, url))
    echo((_("wrote {path}") if changed else _("{path} is up to date")).format(path=path))
    echo(_("enable and start it with:"))
    echo("    " + control.enable_hint(path))


_STDERR_HANDLER = "srs.stderr"


def _channel_logging() -> None:
    """Let the log channel (and delivery warnings) reach stderr in a one-off command."""
    import logging

    logger = logging.getLogger("srs.reminders")
    ours = [h for h in logger.handlers if h.get_name() == _STDERR_HANDLER]
    if ours:  # a second command in one process: this command's stderr, not the first's
        for handler in ours:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sys.stderr)
    elif not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_STDERR_HANDLER)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


@click.command("remind")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@json_option
@click.pass_context
def remind_cmd(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Send what is owed now, once, as one pass of the daemon would (for cron, or testing).

    \b
    Examples:
        review remind --dry-run
        review remind
    """
    import socket

    from srs import clock
    from srs.channels import Channels, channel_id
    from srs.reminders import next_wake, preview, run_once

    app: App = ctx.obj
    settings = _settings(app)
    now = app.now()
    if dry_run:
        with app.reading() as conn:
            plan, retries = preview(conn, settings, app.engine(conn), now)
            wake = next_wake(conn, settings, now)
        message = plan.message
        channels = [channel_id(spec) for spec in settings.channels]
        if as_json:
            print_json({
                "dry_run": True, "at": _iso(now, app),
                "would_send": {"kind": message.kind, "keys": list(message.keys),
                               "title": message.title, "body": message.body,
                               "channels": channels} if message else None,
                "retries": [{"id": r.id, "kind": r.kind, "key": r.key, "channel": r.channel,
                             "attempts": r.attempts} for r in retries],
                "held_until": _iso(plan.held_until, app),
                "next": {"kind": wake.kind, "at": _iso(wake.at, app)} if wake else None,
            })
            return
        if message is not None:
            echo(_("would send a {kind} reminder on {channels}: {title}").format(
                kind=message.kind, channels=", ".join(channels), title=message.title))
            for line in message.body.splitlines():
                echo(f"    {line}")
        elif plan.held_until is not None:
            echo(_("quiet hours: a reminder is held until {at}").format(
                at=_when(plan.held_until, app)))
        else:
            echo(_("nothing to send now"))
        for row in retries:
            echo(_("would retry the {kind} reminder {key} on {channel} (attempt {n})")
                       .format(kind=row.kind, key=row.key, channel=row.channel,
                               n=row.attempts + 1))
        echo(_("next reminder: {what}").format(
            what=_("{kind} at {at}").format(kind=wake.kind, at=_when(wake.at, app))
            if wake else _("none planned")))
        echo(_("dry run: nothing sent or recorded"))
        return
    _channel_logging()
    channels_ = Channels(command=str(app.config["reminders.command"]))
    report = run_once(app, settings, now, channels_.send, clock=clock.now,
                      who=f"{socket.gethostname()}:{os.getpid()}")
    failed = [o for o in report.outcomes if o.status == "failed"]
    if as_json:
        print_json({
            "dry_run": False, "at": _iso(now, app),
            "sent": [o.to_json() for o in report.outcomes],
            "held_until": _iso(report.held_until, app),
            "skipped_digest": report.skipped_digest,
        })
    else:
        for outcome in report.outcomes:
            echo(_("{kind} reminder {status} on {channel}: {title}").format(
                kind=outcome.kind, status=outcome.status, channel=outcome.channel,
                title=outcome.title) + (f" ({outcome.detail})" if outcome.detail else ""))
        if not report.outcomes:
            if report.held_until is not None:
                echo(_("quiet hours: a reminder is held until {at}").format(
                    at=_when(report.held_until, app)))
            else:
                echo(_("nothing to send now"))
    if failed:
        ctx.exit(1)


@click.command("reminders")
@click.option("--status", type=click.Choice(["pending", "sent", "failed", "skipped", "expired"]),
              help="Only reminders with this status.")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=50, show_default=True,
              help="Show at most N reminders, newest first.")
@json_option
@click.pass_obj
def reminders_cmd(app: App, status: str | None, limit: int, as_json: bool) -> None:
    """List the reminder ledger: what was sent, what failed and is retried, what is pending.

    \b
    Examples:
        review reminders
        review reminders --status failed --json
    """
    from srs.reminders import ledger, reminder_to_dict

    with app.reading() as conn:
        rows = ledger(conn, status=status, limit=limit)
    if as_json:
        print_json([reminder_to_dict(row, app.tz) for row in rows])
        return
    if not rows:
        echo(_("no reminders yet"))
        return
    from cli.output import Column, print_table

    print_table([Column(_("id"), right=True), Column(_("kind")),
                 Column(_("key"), shrink=2, least=10), Column(_("channel"), shrink=3, least=8),
                 Column(_("status")), Column(_("tries"), right=True, shrink=4, optional=True),
                 Column(_("sent"), shrink=5, optional=True),
                 Column(_("detail"), shrink=6, least=12, optional=True)],
                [[row.id, row.kind, row.key, row.channel, row.status, row.attempts,
                  _when(row.sent_at, app), row.detail or row.title] for row in rows])
