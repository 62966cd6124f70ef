"""The one place that reads the real clock, and what "now" and "today" mean.

A study day runs from `day_starts_at` local time to the same hour the next day, so a
self-test at 02:00 with the default of 4 counts for the day before. Local times come
from the configured IANA zone; every datetime handed to the rest of the code is UTC
with `datetime.timezone.utc` (py-fsrs accepts nothing else).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

UTC = timezone.utc
NOON = time(12, 0)


def now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


def to_utc(moment: datetime) -> datetime:
    """Return `moment` as a UTC datetime whose tzinfo is `timezone.utc`."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC)


def study_day(moment: datetime, tz: tzinfo, day_starts_at: int) -> date:
    """The study day `moment` belongs to: local date, shifted back by `day_starts_at` hours."""
    local = moment.astimezone(tz)
    # Wall-clock arithmetic on purpose: 03:59 local belongs to the previous day on every
    # day of the year, including the days a daylight-saving change adds or drops an hour.
    shifted = datetime.combine(local.date(), local.time()) - timedelta(hours=day_starts_at)
    return shifted.date()


def day_start(day: date, tz: tzinfo, day_starts_at: int) -> datetime:
    """The UTC moment a study day begins."""
    return datetime.combine(day, time(day_starts_at), tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: tzinfo, day_starts_at: int) -> tuple[datetime, datetime]:
    """The UTC moments a study day begins and ends (end exclusive)."""
    return day_start(day, tz, day_starts_at), day_start(day + timedelta(days=1), tz, day_starts_at)


def local_noon(day: date, tz: tzinfo) -> datetime:
    """Noon local time on `day`, in UTC: when an event known only by its date happened."""
    return datetime.combine(day, NOON, tzinfo=tz).astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name` (raises `ValueError` for an unknown one)."""
    from zoneinfo import ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(name) from exc


def system_zone_name() -> str:
    """The IANA name of the machine's own zone, 'UTC' when it cannot be told."""
    try:
        import tzlocal

        name = tzlocal.get_localzone_name()
    except Exception:  # an unreadable /etc/localtime must not stop the program
        name = None
    return name or "UTC"
