"""The daemon's APScheduler triggers, each in the configured zone.

Kept apart so that their timing is tested through `get_next_fire_time(prev, now)`
instead of by running the scheduler loop.
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger


def digest_trigger(when: time, tz: tzinfo) -> CronTrigger:
    """Every day at local time `when` (on a day the clocks skip it, an hour later)."""
    return CronTrigger(hour=when.hour, minute=when.minute, timezone=tz)


def wake_trigger(at: datetime, tz: tzinfo) -> DateTrigger:
    """Once, at `at`: the next due-now reminder, the end of quiet hours, or a retry."""
    return DateTrigger(run_date=at, timezone=tz)


def check_trigger(seconds: float, tz: tzinfo) -> IntervalTrigger:
    """Every `seconds`: the cheap change check and the clock-jump check."""
    return IntervalTrigger(seconds=seconds, timezone=tz)
