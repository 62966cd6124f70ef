"""`review check`: the database, the card states and the logs, checked (and repaired)."""

from __future__ import annotations

import click

from cli.output import echo, json_option, print_json
from srs.app import App
from srs.i18n import _, ngettext


@click.command("check")
@click.option("--repair", is_flag=True,
              help="Re-derive card states from their histories and rebuild damaged indexes.")
@json_option
@click.pass_obj
def check_cmd(app: App, repair: bool, as_json: bool) -> None:
    """Check the database file, its references and values, every card's state against
    its history, and the logs against their last import; exit 1 when something is wrong.

    \b
    Examples:
        review check
        review check --repair
        review check --json
    """
    from srs.check import check
    from srs.engine import Engine, settings_from
    from srs.importer import import_salt, log_options
    from srs.sql import SqlConn

    now = app.now()
    salt = import_salt(app.clock, log_options(app.config, app.clock.day_of(now)))

    def run(conn: SqlConn) -> object:
        try:
            engine = app.engine(conn)
        except Exception:  # noqa: BLE001 - unusable stored parameters are reported by check
            engine = Engine(settings_from(app.config, None), app.clock)
        return check(conn, engine, now, salt=salt, repair=repair)

    mended = None
    if repair and app.dialect == "sqlite":
        mended = _reindex(app)
    if mended is False:
        repair = False  # why: nothing more is written to a file that could not be mended
    if repair:
        report = app.write(run)
    else:
        with app.reading() as conn:
            report = run(conn)
    from srs.check import CheckReport

    assert isinstance(report, CheckReport)
    if as_json:
        print_json(report.to_json())
    else:
        for finding in report.problems + report.notices:
            echo(f"{finding.where}: {finding.message}")
        counts = report.counts
        summary = _("{cards}, {reviews}, {logs} checked: {problems}").format(
            cards=ngettext("{n} card", "{n} cards", counts["cards"]).format(n=counts["cards"]),
            reviews=ngettext("{n} self-test or plan", "{n} self-tests and plans",
                             counts["reviews"]).format(n=counts["reviews"]),
            logs=ngettext("{n} log", "{n} logs", counts["logs"]).format(n=counts["logs"]),
            problems=ngettext("{n} problem", "{n} problems", len(report.problems)).format(
                n=len(report.problems)))
        if report.notices:
            summary += ngettext(", {n} log out of date", ", {n} logs out of date",
                                len(report.notices)).format(n=len(report.notices))
        if mended is not None:
            summary += _("; indexes rebuilt") if mended else _(
                "; the file could not be mended in place")
        if repair:
            summary += ngettext("; {n} card state or self-test step re-derived",
                                "; {n} card states and self-test steps re-derived",
                                report.repaired).format(n=report.repaired)
        elif mended is False:
            summary += _("; nothing else was repaired")
        elif any(p.repairable for p in report.problems):
            summary += _("; run 'review check --repair' to re-derive what can be")
        echo(summary)
    fixed = repair and all(p.repairable for p in report.problems)
    if not report.ok and not fixed:
        raise SystemExit(1)


def _reindex(app: App) -> bool | None:
    """Rebuild the indexes of an SQLite file in a transaction of its own: True when the
    file is whole afterwards, False when it could not be mended, None when it was whole."""
    from srs.check import integrity_problems, reindex

    with app.reading() as conn:
        if not integrity_problems(conn):
            return None
    try:
        return app.write(reindex)
    except Exception:  # noqa: BLE001 - too damaged to rebuild in place; check says what to do
        return False
