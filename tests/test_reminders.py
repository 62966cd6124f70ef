"""What to remind of at `now`, and the ledger that sends each reminder once (no daemon here)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from freezegun import freeze_time

from srs import reminders
from srs.app import App
from srs.channels import DeliveryError, Notice
from srs.clock import DayClock
from srs.engine import Engine, SchedulerSettings
from srs.grading import grade, set_due
from srs.reminders import (
    ReminderSettings,
    Wake,
    claim,
    digest_slots,
    effective_channels,
    fingerprint,
    in_quiet,
    next_wake,
    parse_quiet,
    preview,
    release,
    run_once,
)
from srs.sql import SqlConn

UTC = timezone.utc
CLOCK = DayClock(UTC, 4)
ENGINE = Engine(SchedulerSettings(fuzz=False), CLOCK)
LONG_AGO = datetime(2026, 10, 1, tzinfo=UTC)


def at(text: str, tz: str = "UTC") -> datetime:
    """A moment written as local time in `tz`, returned in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def make_settings(*, tz: str = "UTC", digest: tuple[str, ...] = ("09:00",),
                  quiet: str = "22:00-08:00", channels: tuple[str, ...] = ("log",),
                  day_starts_at: int = 4, max_per_day: int = 10) -> ReminderSettings:
    return ReminderSettings(
        clock=DayClock(ZoneInfo(tz), day_starts_at),
        digest_at=tuple(time.fromisoformat(t) for t in digest),
        quiet=parse_quiet(quiet), channels=effective_channels(channels), order="due",
        max_per_day=max_per_day)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """The data of one `App`: an SQLite file (sqlite3), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'reminders.db'}"
    else:
        url = request.getfixturevalue("postgres_server").new_database()
    app = App(url)
    yield app
    app.close()


def add_card(db: App, topic: str, due: datetime, changed: datetime = LONG_AGO) -> int:
    """A card due on the study day (UTC, from 04:00) of `due`."""
    def work(conn: SqlConn) -> int:
        last = due - timedelta(days=10)
        return conn.insert(
            "INSERT INTO card (topic, notes, section, learned_on, state, step, stability, "
            "difficulty, due, last_review, last_review_day, suspended, in_log, created_at, "
            "updated_at) VALUES (:topic, '', '', :learned_on, 2, NULL, 10.0, 5.0, :due, "
            ":last, :last_day, :no, :no, :changed, :changed)",
            topic=topic, learned_on=conn.day_value(date(2026, 9, 1)),
            due=conn.day_value(CLOCK.day_of(due)), last=conn.stamp(last),
            last_day=CLOCK.day_of(last).toordinal(), no=False, changed=conn.stamp(changed))

    return db.write(work)


class Outbox:
    """A channel sender that records what it delivers; channels in `failing` raise."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.notices: list[Notice] = []
        self.failing = set(failing)

    def __call__(self, spec: str, notice: Notice) -> str | None:
        if spec in self.failing:
            raise DeliveryError(f"{spec} is down")
        self.sent.append((spec, notice.title, notice.body))
        self.notices.append(notice)
        return None


class Fixed:
    """An App's data with the scheduler fixed (fuzz off, the settings' clock)."""

    def __init__(self, app: App, settings: ReminderSettings) -> None:
        self.app = app
        self.fixed = Engine(SchedulerSettings(fuzz=False), settings.clock)

    def write(self, work: Callable[[SqlConn], Any]) -> Any:
        return self.app.write(work)

    def engine(self, conn: SqlConn) -> Engine:
        return self.fixed


def remind(db: App, settings: ReminderSettings, now: datetime,
           outbox: Outbox) -> reminders.PassReport:
    return run_once(Fixed(db, settings), settings, now, outbox, who="test:1")


def ledger_rows(db: App) -> list[tuple[str, str, str, str, int]]:
    with db.reading() as conn:
        return [(kind, key, channel, status, int(attempts)) for kind, key, channel, status,
                attempts in conn.all("SELECT kind, key, channel, status, attempts "
                                     "FROM reminder ORDER BY id")]


def wake_at(db: App, settings: ReminderSettings, now: datetime) -> Wake | None:
    with db.reading() as conn:
        return next_wake(conn, settings, now)


# --- the digest -----------------------------------------------------------------------------


def test_digest_goes_out_once_at_its_time(db: App) -> None:
    settings = make_settings()
    add_card(db, "Overdue", at("2026-11-29 12:00"))
    add_card(db, "Later today", at("2026-11-30 15:00"))
    add_card(db, "Next week", at("2026-12-07 12:00"))
    outbox = Outbox()

    assert remind(db, settings, at("2026-11-30 08:59"), outbox).outcomes == []
    assert wake_at(db, settings, at("2026-11-30 08:59")) == Wake(at("2026-11-30 09:00"), "digest")
    report = remind(db, settings, at("2026-11-30 09:00"), outbox)
    assert [(o.kind, o.channel, o.status) for o in report.outcomes] == [("digest", "log", "sent")]
    assert outbox.sent == [("log", "2 self-tests due today",
                            "• Overdue\n• Later today\nStart with: review session")]
    # Again a minute later, and when the second card's hour comes: nothing more.
    assert remind(db, settings, at("2026-11-30 09:01"), outbox).outcomes == []
    assert remind(db, settings, at("2026-11-30 15:00"), outbox).outcomes == []
    assert ledger_rows(db) == [("digest", "2026-11-30@09:00", "log", "sent", 1)]
    assert wake_at(db, settings, at("2026-11-30 15:00")) == Wake(at("2026-12-01 09:00"), "digest")


def test_digest_names_the_first_topics_in_queue_order_and_how_many(db: App) -> None:
    settings = make_settings(max_per_day=6)
    for n in range(8):
        add_card(db, f"Topic {n}", at(f"2026-11-2{n} 12:00"))
    outbox = Outbox()

    remind(db, settings, at("2026-11-30 09:30"), outbox)

    assert outbox.sent == [("log", "6 self-tests due today",
                            "• Topic 0\n• Topic 1\n• Topic 2\n• Topic 3\n• Topic 4\n"
                            "… and 1 more\n2 more due beyond today's limit\n"
                            "(the 09:00 digest, sent late)\nStart with: review session")]
    payload = outbox.notices[0].payload
    assert (payload["due"], payload["beyond_limit"], payload["catch_up"]) == (6, 2, True)
    assert [t["topic"] for t in payload["topics"]] == [f"Topic {n}" for n in range(6)]
    assert payload["keys"] == ["2026-11-30@09:00"]


def test_a_digest_time_with_nothing_due_is_recorded_and_a_later_set_due_reminds(
        db: App) -> None:
    settings = make_settings()
    card = add_card(db, "Moved to today", at("2026-12-05 12:00"))
    outbox = Outbox()

    report = remind(db, settings, at("2026-11-30 09:00"), outbox)
    assert (report.outcomes, report.skipped_digest) == ([], "2026-11-30@09:00")
    db.write(lambda conn: set_due(conn, card, date(2026, 11, 30), clock=settings.clock,
                                  now=at("2026-11-30 14:00")))
    report = remind(db, settings, at("2026-11-30 14:00:30"), outbox)

    assert outbox.sent == [("log", "Due now: Moved to today", "Start with: review session")]
    assert ledger_rows(db) == [
        ("digest", "2026-11-30@09:00", "-", "skipped", 0),
        ("due", f"{card}@2026-11-30", "log", "sent", 1),
    ]


def test_a_card_due_again_the_same_study_day_gets_a_due_now_reminder(db: App) -> None:
    settings = make_settings()
    card = add_card(db, "Chain rule", at("2026-11-30 07:00"))
    other = add_card(db, "Bayes", at("2026-11-29 12:00"))
    outbox = Outbox()
    remind(db, settings, at("2026-11-30 09:00"), outbox)
    # A relearning step shorter than a day brings the card back the same study day.
    steps = Engine(SchedulerSettings(fuzz=False, relearning_steps=(timedelta(minutes=10),)),
                   settings.clock)
    result = db.write(lambda conn: grade(conn, card, 1, engine=steps, clock=settings.clock,
                                         now=at("2026-11-30 10:00")))
    assert result.due == date(2026, 11, 30)

    # Due from the start of its study day: no wake-up to wait for, the next pass sends it.
    assert wake_at(db, settings, at("2026-11-30 10:00")) == Wake(at("2026-12-01 09:00"),
                                                                 "digest")
    remind(db, settings, at("2026-11-30 10:00:30"), outbox)
    remind(db, settings, at("2026-11-30 10:11"), outbox)

    assert outbox.sent[1:] == [("log", "Due now: Chain rule", "Start with: review session")]
    assert [t["id"] for t in outbox.notices[1].payload["topics"]] == [card]
    assert outbox.notices[1].payload["topics"][0]["due"] == "2026-11-30"
    assert other not in [t["id"] for t in outbox.notices[1].payload["topics"]]


def test_several_cards_due_at_once_make_one_reminder(db: App) -> None:
    settings = make_settings()
    remind(db, settings, at("2026-11-30 09:00"), Outbox())  # nothing due: skipped
    changed = at("2026-11-30 11:00")
    first = add_card(db, "One", at("2026-11-30 11:10"), changed)
    second = add_card(db, "Two", at("2026-11-30 11:20"), changed)
    outbox = Outbox()

    remind(db, settings, at("2026-11-30 11:30"), outbox)

    assert outbox.sent == [("log", "2 topics due now", "• One\n• Two\nStart with: review session")]
    assert ledger_rows(db)[1:] == [
        ("due", f"{first}@2026-11-30", "log", "sent", 1),
        ("due", f"{second}@2026-11-30", "log", "sent", 1),
    ]


# --- quiet hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(("local", "quiet"), [
    ("2026-11-30 21:59", False),
    ("2026-11-30 22:00", True),
    ("2026-11-30 23:59", True),
    ("2026-12-01 00:00", True),
    ("2026-12-01 07:59", True),
    ("2026-12-01 08:00", False),
])
def test_quiet_hours_spanning_midnight(local: str, quiet: bool) -> None:
    settings = make_settings(tz="Asia/Shanghai")
    moment = at(local, "Asia/Shanghai")
    assert in_quiet(moment, settings) is quiet
    expected = at("2026-12-01 08:00", "Asia/Shanghai") if quiet else moment
    assert release(moment, settings) == expected


def test_quiet_hours_within_a_day_and_off() -> None:
    day = make_settings(quiet="13:00-14:30")
    assert [in_quiet(at(f"2026-11-30 {t}"), day) for t in ("12:59", "13:00", "14:29", "14:30")] \
        == [False, True, True, False]
    assert release(at("2026-11-30 13:10"), day) == at("2026-11-30 14:30")
    assert parse_quiet("") is None
    assert parse_quiet("08:00-08:00") is None
    assert in_quiet(at("2026-11-30 23:00"), make_settings(quiet="")) is False


def test_quiet_hours_hold_reminders_and_send_one_when_they_end(db: App) -> None:
    settings = make_settings(digest=("07:00",))
    add_card(db, "Overdue", at("2026-11-29 12:00"))
    outbox = Outbox()

    report = remind(db, settings, at("2026-11-30 07:00"), outbox)
    assert (report.outcomes, report.held_until) == ([], at("2026-11-30 08:00"))
    assert wake_at(db, settings, at("2026-11-30 07:00")) == Wake(at("2026-11-30 08:00"), "digest")
    remind(db, settings, at("2026-11-30 08:00"), outbox)
    assert outbox.sent == [("log", "1 self-test due today",
                            "• Overdue\nStart with: review session")]

    # Two cards fall due late in the evening: held through the night, then one reminder.
    add_card(db, "Late one", at("2026-11-30 23:10"), at("2026-11-30 23:00"))
    add_card(db, "Late two", at("2026-11-30 23:20"), at("2026-11-30 23:05"))
    for moment in ("2026-11-30 23:10", "2026-11-30 23:30", "2026-12-01 03:00"):
        report = remind(db, settings, at(moment), outbox)
        assert (report.outcomes, report.held_until) == ([], at("2026-12-01 08:00"))
    assert wake_at(db, settings, at("2026-11-30 23:30")) == Wake(at("2026-12-01 08:00"), "due")
    remind(db, settings, at("2026-12-01 08:00"), outbox)
    remind(db, settings, at("2026-12-01 08:01"), outbox)

    assert outbox.sent[1:] == [("log", "3 self-tests due today",
                                "• Overdue\n• Late one\n• Late two\nStart with: review session")]


def test_quiet_hours_hold_the_dry_run_too_under_a_frozen_clock(
        run: Callable[..., Result], srs_home: Path, write_log: Callable[..., Path]) -> None:
    log = write_log("| Topic | Status | Date |\n|---|---|---|\n"
                    "| Fourier series | done | 2026-10-01 |\n")
    for key, value in (("timezone", "Europe/Berlin"), ("reminders.quiet_hours", "22:00-08:00")):
        assert run("config", "set", key, value).exit_code == 0
    with freeze_time("2026-11-30 22:30:00"):  # UTC: 23:30 in Berlin
        assert run("import", str(log)).exit_code == 0
        result = run("remind", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["would_send"], data["held_until"], data["next"]) == (
        None, "2026-12-01T08:00:00+01:00",
        {"kind": "digest", "at": "2026-12-01T08:00:00+01:00"})


# --- catch-up -------------------------------------------------------------------------------


def test_coming_back_after_days_sends_one_catch_up(db: App) -> None:
    settings = make_settings(digest=("09:00", "13:00"))
    add_card(db, "Overdue", at("2026-11-20 12:00"))
    outbox = Outbox()
    remind(db, settings, at("2026-11-27 09:00"), outbox)

    # Stopped (or asleep) from the 27th 09:01 until the 30th 15:00.
    remind(db, settings, at("2026-11-30 15:00"), outbox)
    remind(db, settings, at("2026-11-30 15:01"), outbox)

    assert outbox.sent[1:] == [("log", "1 self-test due today",
                                "• Overdue\n(the 13:00 digest, sent late)\n"
                                "Start with: review session")]
    assert ledger_rows(db) == [("digest", "2026-11-27@09:00", "log", "sent", 1),
                               ("digest", "2026-11-30@13:00", "log", "sent", 1)]


def test_digest_times_across_daylight_saving_changes() -> None:
    berlin = make_settings(tz="Europe/Berlin", digest=("02:30", "09:00"), day_starts_at=0)
    new_york = make_settings(tz="America/New_York", digest=("01:30", "09:00"), day_starts_at=0)

    def moments(settings: ReminderSettings, day: date) -> list[datetime]:
        return [slot.at for slot in digest_slots(day, settings)]

    utc = datetime.fromisoformat
    # Spring: 02:30 does not exist and is read as 03:30 summer time.
    assert moments(berlin, date(2026, 3, 28)) == [utc("2026-03-28T01:30+00:00"),
                                                  utc("2026-03-28T08:00+00:00")]
    assert moments(berlin, date(2026, 3, 29)) == [utc("2026-03-29T01:30+00:00"),
                                                  utc("2026-03-29T07:00+00:00")]
    # Autumn: 02:30 happens twice; the digest is at the first.
    assert moments(berlin, date(2026, 10, 25)) == [utc("2026-10-25T00:30+00:00"),
                                                   utc("2026-10-25T08:00+00:00")]
    assert moments(new_york, date(2026, 3, 8)) == [utc("2026-03-08T06:30+00:00"),
                                                   utc("2026-03-08T13:00+00:00")]
    assert moments(new_york, date(2026, 11, 1)) == [utc("2026-11-01T05:30+00:00"),
                                                    utc("2026-11-01T14:00+00:00")]


def test_a_repeated_hour_in_autumn_sends_its_digest_once(db: App) -> None:
    settings = make_settings(tz="America/New_York", digest=("01:30",), quiet="",
                             day_starts_at=0)
    add_card(db, "Overdue", at("2026-10-20 12:00"))
    outbox = Outbox()

    remind(db, settings, datetime.fromisoformat("2026-11-01T05:30+00:00"), outbox)  # 01:30 EDT
    remind(db, settings, datetime.fromisoformat("2026-11-01T06:30+00:00"), outbox)  # 01:30 EST

    assert [title for _spec, title, _body in outbox.sent] == ["1 self-test due today"]


# --- the ledger: retries, leases, races -----------------------------------------------------


def test_a_failed_delivery_is_retried_with_backoff_and_the_others_are_not_repeated(
        db: App) -> None:
    settings = make_settings(channels=("command",))
    add_card(db, "Overdue", at("2026-11-29 12:00"))
    outbox = Outbox(failing=("command",))

    report = remind(db, settings, at("2026-11-30 09:00"), outbox)
    assert [(o.channel, o.status, o.detail) for o in report.outcomes] == [
        ("log", "sent", None), ("command", "failed", "command is down")]
    assert wake_at(db, settings, at("2026-11-30 09:00:01")) == Wake(
        at("2026-11-30 09:00:30"), "retry")
    remind(db, settings, at("2026-11-30 09:00:30"), outbox)
    assert wake_at(db, settings, at("2026-11-30 09:00:31")) == Wake(
        at("2026-11-30 09:01:30"), "retry")
    outbox.failing.clear()
    remind(db, settings, at("2026-11-30 09:01:30"), outbox)

    assert [spec for spec, _title, _body in outbox.sent] == ["log", "command"]
    assert outbox.sent[0][1:] == outbox.sent[1][1:]
    assert ledger_rows(db) == [("digest", "2026-11-30@09:00", "log", "sent", 1),
                               ("digest", "2026-11-30@09:00", "command", "sent", 3)]


def test_delivery_gives_up_after_the_last_attempt_and_says_so(db: App) -> None:
    settings = make_settings(channels=("command",))
    add_card(db, "Overdue", at("2026-11-29 12:00"))
    outbox = Outbox(failing=("command",))
    now = at("2026-11-30 09:00")
    gaps = []
    for _attempt in range(reminders.MAX_ATTEMPTS):
        remind(db, settings, now, outbox)
        with db.reading() as conn:
            [row] = [r for r in reminders.ledger(conn, limit=None) if r.channel == "command"]
        if row.retry_at is not None:
            gaps.append((row.retry_at - now).total_seconds())
            now = row.retry_at

    assert gaps == [30, 60, 120, 240, 480, 960, 1920]
    assert (row.status, row.attempts, row.retry_at, row.detail) == (
        "failed", 8, None, "command is down")
    assert wake_at(db, settings, now + timedelta(seconds=1)) == Wake(
        at("2026-12-01 09:00"), "digest")


def test_a_failure_from_an_earlier_day_expires_instead_of_joining_a_burst(db: App) -> None:
    settings = make_settings(channels=("command",))
    add_card(db, "Overdue", at("2026-11-20 12:00"))
    outbox = Outbox(failing=("command",))
    remind(db, settings, at("2026-11-29 09:00"), outbox)
    outbox.failing.clear()

    remind(db, settings, at("2026-11-30 09:00"), outbox)

    assert [spec for spec, _title, _body in outbox.sent] == ["log", "log", "command"]
    assert ledger_rows(db) == [("digest", "2026-11-29@09:00", "log", "sent", 1),
                               ("digest", "2026-11-29@09:00", "command", "expired", 1),
                               ("digest", "2026-11-30@09:00", "log", "sent", 1),
                               ("digest", "2026-11-30@09:00", "command", "sent", 1)]


def test_a_failure_on_a_channel_since_removed_expires(db: App) -> None:
    add_card(db, "Overdue", at("2026-11-29 12:00"))
    remind(db, make_settings(channels=("command",)), at("2026-11-30 09:00"),
           Outbox(failing=("command",)))

    report = remind(db, make_settings(), at("2026-11-30 09:00:30"), Outbox())

    assert [(o.channel, o.status, o.detail) for o in report.outcomes] == [
        ("command", "expired", "channel command is no longer in reminders.channels")]
    assert ledger_rows(db)[1] == ("digest", "2026-11-30@09:00", "command", "expired", 2)


def test_a_claim_abandoned_by_a_dead_process_is_retried_after_its_lease(db: App) -> None:
    settings = make_settings()
    add_card(db, "Overdue", at("2026-11-29 12:00"))
    # Claimed, then the process died before delivering.
    db.write(lambda conn: claim(conn, settings, ENGINE, at("2026-11-30 09:00"), who="gone:1"))
    outbox = Outbox()

    assert remind(db, settings, at("2026-11-30 09:05"), outbox).outcomes == []
    report = remind(db, settings, at("2026-11-30 09:10"), outbox)

    assert [(o.channel, o.status, o.attempts) for o in report.outcomes] == [("log", "sent", 2)]
    assert ledger_rows(db) == [("digest", "2026-11-30@09:00", "log", "sent", 2)]


def test_a_reminder_claimed_by_another_process_first_is_not_sent_again(
        db: App, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings()
    add_card(db, "Overdue", at("2026-11-29 12:00"))
    with db.reading() as conn:
        stale, _retries = preview(conn, settings, ENGINE, at("2026-11-30 09:00"))
    outbox = Outbox()
    remind(db, settings, at("2026-11-30 09:00"), outbox)

    # A process that worked out the same plan before the claim above was committed.
    monkeypatch.setattr(reminders, "plan", lambda *args, **kwargs: stale)
    report = remind(db, settings, at("2026-11-30 09:00"), outbox)

    assert (report.outcomes, report.lost_race) == ([], True)
    assert len(outbox.sent) == 1
    assert ledger_rows(db) == [("digest", "2026-11-30@09:00", "log", "sent", 1)]


def test_processes_racing_on_one_database_send_each_reminder_once(db_url: str) -> None:
    """Four 'processes' (each its own App and connection) claim at the same moment."""
    import threading

    settings = make_settings(channels=("command",))
    first = App(db_url)
    add_card(first, "Overdue", at("2026-11-29 12:00"))
    outbox = Outbox()
    start = threading.Barrier(4)
    reports: list[reminders.PassReport] = []

    def daemon() -> None:
        database = App(db_url)
        try:
            start.wait()
            reports.append(remind(database, settings, at("2026-11-30 09:00"), outbox))
        finally:
            database.close()

    threads = [threading.Thread(target=daemon) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(spec for spec, _title, _body in outbox.sent) == ["command", "log"]
    assert sum(len(r.outcomes) for r in reports) == 2
    assert ledger_rows(first) == [("digest", "2026-11-30@09:00", "log", "sent", 1),
                                  ("digest", "2026-11-30@09:00", "command", "sent", 1)]
    first.close()


def test_channel_ids_keep_apprise_urls_out_of_the_ledger() -> None:
    from srs.channels import channel_id

    assert channel_id("desktop") == "desktop"
    hidden = channel_id("tgram://123456:secret-token/987")
    assert hidden.startswith("tgram:") and "secret" not in hidden and len(hidden) == 16


def test_the_change_check_sees_grades_set_due_and_new_cards(db: App) -> None:
    settings = make_settings()
    card = add_card(db, "Topic", at("2026-11-29 12:00"))

    def current() -> tuple[Any, ...]:
        with db.reading() as conn:
            return fingerprint(conn)

    seen = [current()]
    db.write(lambda conn: grade(conn, card, 3, engine=ENGINE, clock=settings.clock,
                                now=at("2026-11-30 10:00")))
    seen.append(current())
    db.write(lambda conn: set_due(conn, card, date(2026, 12, 2), clock=settings.clock,
                                  now=at("2026-11-30 10:01")))
    seen.append(current())
    add_card(db, "Another", at("2026-12-01 12:00"), at("2026-11-30 10:02"))
    seen.append(current())
    seen.append(current())

    assert len(set(seen)) == 4 and seen[-1] == seen[-2]


# --- the commands ---------------------------------------------------------------------------

LOG = """\
| Topic | Status | Date |
|---|---|---|
| Fourier series | done | 2026-10-01 |
| Laplace transform | done | 2026-10-02 |
"""


@pytest.fixture
def reminding(run: Callable[..., Result], write_log: Callable[..., Path]) -> Callable[..., Result]:
    for key, value in (("reminders.digest_at", "09:00"), ("reminders.quiet_hours", ""),
                       ("order", "due")):
        assert run("config", "set", key, value).exit_code == 0
    with freeze_time("2026-11-30 08:00:00"):
        assert run("import", str(write_log(LOG))).exit_code == 0
    return run


def test_remind_dry_run_shows_what_would_go_out_and_records_nothing(
        reminding: Callable[..., Result]) -> None:
    with freeze_time("2026-11-30 09:00:00"):
        result = reminding("remind", "--dry-run")
        again = reminding("reminders", "--json")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "would send a digest reminder on log: 2 self-tests due today\n"
        "    • Fourier series\n"
        "    • Laplace transform\n"
        "    Start with: review session\n"
        "next reminder: digest at 12-01 09:00\n"
        "dry run: nothing sent or recorded\n")
    assert json.loads(again.stdout) == []


def test_remind_sends_once_and_reminders_lists_the_ledger(
        reminding: Callable[..., Result]) -> None:
    with freeze_time("2026-11-30 09:00:00"):
        first = reminding("remind", "--json")
        second = reminding("remind")
        listed = reminding("reminders", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {
        "dry_run": False, "at": "2026-11-30T09:00:00+00:00",
        "sent": [{"kind": "digest", "keys": ["2026-11-30@09:00"], "channel": "log",
                  "status": "sent", "attempts": 1, "title": "2 self-tests due today",
                  "detail": None}],
        "held_until": None, "skipped_digest": None}
    assert "reminder: 2 self-tests due today — Fourier series · Laplace transform" \
        in first.stderr
    assert second.stdout == "nothing to send now\n"
    assert json.loads(listed.stdout) == [{
        "id": 1, "kind": "digest", "key": "2026-11-30@09:00", "channel": "log",
        "status": "sent", "attempts": 1, "study_day": "2026-11-30",
        "due_at": "2026-11-30T09:00:00+00:00", "claimed_at": "2026-11-30T09:00:00+00:00",
        "sent_at": "2026-11-30T09:00:00+00:00", "retry_at": None,
        "title": "2 self-tests due today", "detail": None}]


def test_remind_exits_1_when_a_channel_fails(reminding: Callable[..., Result],
                                              tmp_path: Path) -> None:
    assert reminding("config", "set", "reminders.channels", "command").exit_code == 0
    assert reminding("config", "set", "reminders.command",
                     str(tmp_path / "no-such-program")).exit_code == 0
    with freeze_time("2026-11-30 09:00:00"):
        result = reminding("remind")
        failed = reminding("reminders", "--status", "failed", "--json")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "digest reminder sent on log: 2 self-tests due today",
        f"digest reminder failed on command: 2 self-tests due today (cannot run "
        f"{tmp_path / 'no-such-program'}: No such file or directory)"]
    [row] = json.loads(failed.stdout)
    # A program that cannot start will not start on a retry: failed for good, at once.
    assert (row["channel"], row["attempts"], row["retry_at"]) == ("command", 1, None)


def test_a_command_that_fails_is_retried_later(reminding: Callable[..., Result],
                                               tmp_path: Path) -> None:
    script = tmp_path / "notify"
    script.write_text("#!/bin/sh\necho offline >&2\nexit 1\n")
    script.chmod(0o755)
    assert reminding("config", "set", "reminders.channels", "command").exit_code == 0
    assert reminding("config", "set", "reminders.command", str(script)).exit_code == 0
    with freeze_time("2026-11-30 09:00:00"):
        result = reminding("remind")
        failed = reminding("reminders", "--status", "failed", "--json")
    assert result.exit_code == 1
    [row] = json.loads(failed.stdout)
    assert (row["channel"], row["attempts"], row["retry_at"]) == (
        "command", 1, "2026-11-30T09:00:30+00:00")


def test_reminders_on_an_empty_ledger(run: Callable[..., Result]) -> None:
    result = run("reminders")
    assert (result.exit_code, result.stdout) == (0, "no reminders yet\n")
