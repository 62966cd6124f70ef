"""The one place that reads the real clock, and what "now", "today" and "a day" mean.

A study day runs from `day_starts_at` local time to the same hour the next day, so a
self-test at 02:00 with the default of 4 counts for the day before. Local times come
from the configured IANA zone; every datetime handed to the rest of the code is UTC
with `datetime.timezone.utc` (py-fsrs accepts nothing else).

Time between two self-tests is counted in study days, as Anki counts it by its day
rollover: the number of study-day boundaries between them, whatever the hours of the
day and whatever a daylight-saving change did to the length of the days in between.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """Noon local time on `day`, in UTC."""
    return datetime.combine(day, NOON, tzinfo=tz).astimezone(UTC)


def days_between(earlier: date, later: date) -> int:
    """Elapsed study days from one study day to another (0 on the same day)."""
    return (later - earlier).days


@dataclass(frozen=True)
class DayClock:
    """The zone and the hour a study day starts: what turns a moment into a study day."""

    tz: tzinfo
    day_starts_at: int

    @property
    def zone_name(self) -> str:
        """The IANA name of the zone ('UTC' for `timezone.utc`)."""
        return str(getattr(self.tz, "key", None) or self.tz.tzname(None) or "UTC")

    def day_of(self, moment: datetime) -> date:
        return study_day(moment, self.tz, self.day_starts_at)

    def bounds(self, day: date) -> tuple[datetime, datetime]:
        return day_bounds(day, self.tz, self.day_starts_at)

    def start(self, day: date) -> datetime:
        return day_start(day, self.tz, self.day_starts_at)

    def moment_of(self, day: date) -> datetime:
        """When an event known only by its date happened: local noon, inside study day `day`.

        When study days start after noon, noon of `day` would belong to the study day
        before, so the event is put at the hour the day starts instead.
        """
        hour = max(NOON.hour, self.day_starts_at)
        return datetime.combine(day, time(hour), tzinfo=self.tz).astimezone(UTC)

    def record(self) -> dict[str, object]:
        """What the stored schedule remembers of the clock it was computed with."""
        return {"timezone": self.zone_name, "day_starts_at": self.day_starts_at}


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name` (raises `ValueError` for an unknown one)."""
    from zoneinfo import ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(name) from exc


def clock_from_record(record: object) -> DayClock | None:
    """The clock a stored record names; None when it is missing or unreadable."""
    if not isinstance(record, dict):
        return None
    hour = record.get("day_starts_at")
    name = record.get("timezone")
    if not isinstance(hour, int) or isinstance(hour, bool) or not 0 <= hour <= 23:
        return None
    if not isinstance(name, str):
        return None
    try:
        return DayClock(zone(name), hour)
    except (ValueError, OSError):
        return None


def system_zone_name() -> str:
    """The IANA name of the machine's own zone, 'UTC' when it cannot be told."""
    try:
        import tzlocal

        name = tzlocal.get_localzone_name()
    except Exception:  # an unreadable /etc/localtime must not stop the program
        name = None
    return name or "UTC"
