"""`review import`: sync markdown study logs into cards."""

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
    from srs.importer import ImportReport
    from srs.sql import SqlConn


@click.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--dry-run", is_flag=True, help="Show how each row would be read; write nothing.")
@click.option("--strict", is_flag=True, help="Any warning aborts the import; nothing is written.")
@click.option("--as-new", is_flag=True,
              help="A new path holding a known log's rows is a log of its own, not a move.")
@json_option
@click.pass_obj
def import_cmd(app: App, paths: tuple[str, ...], dry_run: bool, strict: bool, as_new: bool,
               as_json: bool) -> None:
    """Import study logs: each studied row becomes a card with its history.

    Importing again is safe: unchanged rows change nothing, edited rows update
    their card, new rows add cards, and removed rows are only flagged.

    \b
    Examples:
        review import progress-log.md
        review import notes/*.md --dry-run
    """
    from srs.errors import SrsError
    from srs.importer import Memos, import_parsed, import_salt, log_options, read_logs

    def known(files: list[Path]) -> dict[str, tuple[str, str | None]]:
        """Digests of the last import, to skip parsing unchanged files (not for a new db)."""
        from srs.importer import stored_digests
        from srs.sql import sqlite_path

        path = sqlite_path(app.url)
        if path is not None and not path.exists():
            return {}
        with app.reading() as conn:
            return stored_digests(conn, files)

    # --dry-run shows every row and --strict checks every warning, so both read it all.
    options = log_options(app.config, app.clock.day_of(app.now()))
    salt = import_salt(app.clock, options)
    memos = Memos(app.paths.state_dir / "memo", app.url)
    files = read_logs(list(paths), salt=salt, known=None if dry_run or strict else known,
                      options=options, memos=memos)
    warnings = [w for file in files if file.parsed for w in file.parsed.warnings]
    if strict and warnings:
        raise SrsError(
            ngettext("{n} warning with --strict, nothing imported; first: {first}",
                     "{n} warnings with --strict, nothing imported; first: {first}",
                     len(warnings)).format(n=len(warnings), first=warnings[0])
        )
    total = sum(len(file.parsed.rows) for file in files if file.parsed)
    show_progress = not as_json and sys.stderr.isatty() and total > 200

    def run(conn: SqlConn) -> ImportReport:
        engine = app.engine(conn)
        now = app.now()  # read once the write lock is held: never before an earlier writer
        if not show_progress:
            return import_parsed(conn, files, engine=engine, now=now, as_new=as_new,
                                 dry_run=dry_run)
        from rich.progress import Progress

        with Progress(transient=True, console=_stderr()) as bar:
            task = bar.add_task(_("importing"), total=total)
            return import_parsed(conn, files, engine=engine, now=now,
                                 progress=lambda n: bar.advance(task, n), as_new=as_new,
                                 dry_run=dry_run)

    if dry_run:
        report = _rolled_back(app, run)
    else:
        report = app.write(run)
        memos.keep(files, salt)

    if as_json:
        print_json(report.to_json())
        return
    if dry_run:
        for file in files:
            assert file.parsed is not None
            for info in file.parsed.table_info:
                read = (ngettext("{n} row", "{n} rows", info.rows).format(n=info.rows)
                        if not info.skipped
                        else _("skipped: {reason}").format(reason=info.skipped))
                echo(_("{file}:{line}: table [{columns}]: {read}").format(
                    file=file.name,
                    line=info.line, columns=info.describe(), read=read))
        for outcome in report.outcomes:
            label = f" {outcome.topic}" if outcome.topic else ""
            echo(f"{outcome.describe()}{label}")
    else:
        for warning in report.warnings:
            echo(str(warning), err=True)
    for note in report.notes:
        echo(_("note: {note}").format(note=note), err=True)
    for moved in report.moved:
        echo(_("log moved: {old} is now {new}; its cards stay as they are").format(
            old=moved["from"], new=moved["to"]))
    cards = report.cards_created + report.cards_updated + report.cards_unchanged
    echo(_("{cards}; {reviews}; {pending}; {warnings}").format(
        cards=ngettext("{created} new, {updated} updated, {unchanged} unchanged card",
                       "{created} new, {updated} updated, {unchanged} unchanged cards",
                       cards).format(created=report.cards_created,
                                     updated=report.cards_updated,
                                     unchanged=report.cards_unchanged),
        reviews=ngettext("{n} review added", "{n} reviews added",
                         report.reviews_added).format(n=report.reviews_added),
        pending=_("{n} pending").format(n=report.pending),
        warnings=ngettext("{n} warning", "{n} warnings", len(report.warnings)).format(
            n=len(report.warnings)))
        + (_("; {n} planned for later").format(n=report.planned) if report.planned else "")
        + (ngettext("; {n} row skipped (rest days, repeats)",
                    "; {n} rows skipped (rest days, repeats)", report.skipped).format(
                        n=report.skipped) if report.skipped else ""))
    if report.no_longer_in_log:
        echo(ngettext("no longer in the log (kept): card {ids}",
                      "no longer in the log (kept): cards {ids}",
                      len(report.no_longer_in_log)).format(
            ids=", ".join(map(str, report.no_longer_in_log))))
    if dry_run:
        echo(_("dry run: nothing written"))


class _DryRun(Exception):
    """Carries a dry run's report out of the transaction it rolls back."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__()
        self.report = report


def _rolled_back(app: App, run: Callable[[SqlConn], ImportReport]) -> ImportReport:
    """The report of `run` in a write transaction (so that ids are taken as an import
    would take them) that is then rolled back: nothing is written."""
    def work(conn: SqlConn) -> None:
        raise _DryRun(run(conn))

    try:
        app.write(work)
    except _DryRun as done:
        return done.report
    raise AssertionError("a dry run returned without its report")


def _stderr():  # type: ignore[no-untyped-def]
    from cli.output import console

    return console(stderr=True)
