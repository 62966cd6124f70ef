"""The study day: its boundary at day_starts_at, daylight-saving changes, other zones."""

from datetime import date, datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from srs import clock
from srs.clock import UTC, day_bounds, local_noon, study_day, zone

BERLIN = zone("Europe/Berlin")
NEW_YORK = zone("America/New_York")
SHANGHAI = zone("Asia/Shanghai")


def test_now_is_utc_with_timezone_utc() -> None:
    with freeze_time("2026-11-30 08:15:00"):
        assert clock.now() == datetime(2026, 11, 30, 8, 15, tzinfo=timezone.utc)
        assert clock.now().tzinfo is timezone.utc


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-11-30 03:59:59", date(2026, 11, 29)),
        ("2026-11-30 04:00:00", date(2026, 11, 30)),
        ("2026-11-30 02:00:00", date(2026, 11, 29)),
        ("2026-11-30 23:59:59", date(2026, 11, 30)),
    ],
)
def test_study_day_boundary_one_second_each_side(local: str, expected: date) -> None:
    moment = datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).astimezone(UTC)
    assert study_day(moment, SHANGHAI, 4) == expected


def test_day_starts_at_zero_is_midnight() -> None:
    moment = datetime(2026, 11, 30, 0, 0, 1, tzinfo=BERLIN)
    assert study_day(moment, BERLIN, 0) == date(2026, 11, 30)
    assert study_day(moment - timedelta(seconds=2), BERLIN, 0) == date(2026, 11, 29)


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        (BERLIN, date(2026, 3, 28), 23),  # clocks go forward in the night to 29 March
        (BERLIN, date(2026, 10, 24), 25),  # and back in the night to 25 October
        (BERLIN, date(2026, 7, 1), 24),
        (NEW_YORK, date(2026, 3, 7), 23),  # 8 March 02:00 -> 03:00
        (NEW_YORK, date(2026, 10, 31), 25),  # 1 November 02:00 -> 01:00
        (SHANGHAI, date(2026, 3, 28), 24),
    ],
)
def test_study_day_length_across_dst(tz: object, day: date, hours: int) -> None:
    start, end = day_bounds(day, tz, 4)  # type: ignore[arg-type]
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(tz).hour == 4  # type: ignore[arg-type]
    assert end.astimezone(tz).hour == 4  # type: ignore[arg-type]


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK, SHANGHAI])
def test_no_day_is_lost_or_repeated_over_a_year(tz: object) -> None:
    """Walk the year hour by hour: every study day appears, in order, once."""
    moment = datetime(2026, 1, 1, 12, tzinfo=UTC)
    days = []
    while moment < datetime(2027, 1, 1, tzinfo=UTC):
        day = study_day(moment, tz, 4)  # type: ignore[arg-type]
        if not days or days[-1] != day:
            days.append(day)
        moment += timedelta(hours=1)
    assert days == [days[0] + timedelta(days=i) for i in range(len(days))]
    assert days[0] == date(2026, 1, 1)
    assert days[-1] == study_day(moment - timedelta(hours=1), tz, 4)  # type: ignore[arg-type]
    assert len(days) >= 365


def test_boundary_on_the_night_berlin_falls_back() -> None:
    # 25 Oct 2026: 03:00 CEST becomes 02:00 CET; 03:59 CET is still the 24th's study day.
    before = datetime(2026, 10, 25, 2, 59, tzinfo=UTC)  # 03:59 CET
    after = datetime(2026, 10, 25, 3, 0, tzinfo=UTC)  # 04:00 CET
    assert before.astimezone(BERLIN).strftime("%H:%M %Z") == "03:59 CET"
    assert study_day(before, BERLIN, 4) == date(2026, 10, 24)
    assert study_day(after, BERLIN, 4) == date(2026, 10, 25)


def test_local_noon() -> None:
    assert local_noon(date(2025, 5, 22), SHANGHAI) == datetime(2025, 5, 22, 4, tzinfo=UTC)
    assert local_noon(date(2026, 7, 1), NEW_YORK) == datetime(2026, 7, 1, 16, tzinfo=UTC)
    assert local_noon(date(2026, 7, 1), NEW_YORK).tzinfo is timezone.utc


def test_unknown_zone() -> None:
    with pytest.raises(ValueError):
        zone("Mars/Olympus_Mons")


def test_nothing_else_reads_the_clock() -> None:
    """Only srs/clock.py may call datetime.now() or time.time() for the current date."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for folder in ("srs", "cli", "scheduler"):
        for path in (root / folder).rglob("*.py"):
            if path.name == "clock.py" and path.parent.name == "srs":
                continue
            text = path.read_text(encoding="utf-8")
            for needle in ("datetime.now(", "datetime.utcnow(", "date.today("):
                if needle in text:
                    offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []
