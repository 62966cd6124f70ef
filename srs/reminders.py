"""What to remind of at `now`, the ledger that sends each reminder once, and what it says.

Two kinds of reminder:

- a *digest* at each `reminders.digest_at` time, when today's queue is not empty: how
  many self-tests, and the first few topics in queue order;
- a *due-now* reminder for cards that fall due today after the digest that covered the
  day was worked out (a `set-due` to today, a learning step shorter than a day, a card
  added): every card due today whose row changed after today's last digest.

Quiet hours hold both until they end; then one reminder goes out. After the daemon was
stopped, or the machine asleep, only the latest digest time of the current study day
is owed, so coming back sends one catch-up and never one per missed day.

Every reminder is a row per channel in the `reminder` table, unique by (kind, key,
channel), inserted in its own transaction before delivery and marked afterwards. A
failed delivery is retried with backoff; a stale claim (the process died while
delivering) is retried after a lease. Nothing here reads the clock.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from srs.cardview import CardLike, CardRow
from srs.channels import LOG, Notice, PermanentDeliveryError, channel_id
from srs.clock import UTC, DayClock
from srs.i18n import _, ngettext
from srs.queue import Queue, build_queue
from srs.sql import SqlConn
from srs.store import card_labels, card_rows
from srs.text import one_line

if TYPE_CHECKING:
    from srs.config import Config
    from srs.engine import Engine

log = logging.getLogger("srs.reminders")

DIGEST, DUE = "digest", "due"
PENDING, SENT, FAILED, SKIPPED, EXPIRED = "pending", "sent", "failed", "skipped", "expired"
STATUSES = (PENDING, SENT, FAILED, SKIPPED, EXPIRED)
NO_CHANNEL = "-"  # the channel of a digest time that found nothing due

TOPICS_SHOWN = 5
TOPIC_WIDTH = 200  # a topic in a reminder, cut with an ellipsis beyond (notifiers truncate)
LATE_AFTER = timedelta(minutes=2)  # a digest sent later than this is a catch-up
LEASE = timedelta(minutes=10)  # a claim not marked by then was abandoned by its process
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
MAX_ATTEMPTS = 8


# --- settings and local time ----------------------------------------------------------------


@dataclass(frozen=True)
class ReminderSettings:
    """What planning reminders needs from the settings."""

    clock: DayClock
    digest_at: tuple[time, ...] = (time(9),)
    quiet: tuple[time, time] | None = (time(22), time(8))
    channels: tuple[str, ...] = (LOG,)
    order: str = "retrievability"
    max_per_day: int = 10
    max_minutes: int | None = None  # the time budget (max_minutes_per_day), if set

    @property
    def tz(self) -> tzinfo:
        return self.clock.tz


def _clock_time(text: str) -> time:
    hours, minutes = text.strip().split(":")
    return time(int(hours), int(minutes))


def parse_quiet(text: str) -> tuple[time, time] | None:
    """`22:00-08:00` as two times; an empty string (or a range of no length) is None."""
    if not text.strip():
        return None
    start, end = (_clock_time(part) for part in text.split("-"))
    return None if start == end else (start, end)


def effective_channels(configured: Sequence[str]) -> tuple[str, ...]:
    """The channels to use: `log` always, then the configured ones, each once."""
    return tuple(dict.fromkeys([LOG, *configured]))


def settings_from_config(config: Config) -> ReminderSettings:
    """The reminder settings in a validated config.toml."""
    from srs.clock import zone
    from srs.config import time_budget

    return ReminderSettings(
        clock=DayClock(zone(str(config["timezone"])), int(config["day_starts_at"])),
        digest_at=tuple(sorted({_clock_time(t) for t in config["reminders.digest_at"]})),
        quiet=parse_quiet(str(config["reminders.quiet_hours"])),
        channels=effective_channels(list(config["reminders.channels"])),
        order=str(config["order"]),
        max_per_day=int(config["max_reviews_per_day"]),
        max_minutes=time_budget(config),
    )


def local_moment(day: date, when: time, tz: tzinfo) -> datetime:
    """The UTC moment of a local wall-clock time.

    A time the clocks skip in spring is read with the offset before the change (02:30
    becomes 03:30), and a time they repeat in autumn is its first occurrence: the same
    moments APScheduler's CronTrigger fires at.
    """
    return datetime.combine(day, when, tzinfo=tz).astimezone(UTC)


def in_quiet(moment: datetime, settings: ReminderSettings) -> bool:
    """Whether `moment` falls in the quiet hours (which may span midnight)."""
    if settings.quiet is None:
        return False
    start, end = settings.quiet
    local = moment.astimezone(settings.tz).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def release(moment: datetime, settings: ReminderSettings) -> datetime:
    """`moment`, or the end of the quiet hours it falls in."""
    if settings.quiet is None or not in_quiet(moment, settings):
        return moment
    end = settings.quiet[1]
    local_day = moment.astimezone(settings.tz).date()
    ends = local_moment(local_day, end, settings.tz)
    return ends if ends > moment else local_moment(local_day + timedelta(days=1), end, settings.tz)


@dataclass(frozen=True)
class Slot:
    """One digest time of one study day."""

    day: date
    at: datetime
    label: str

    @property
    def key(self) -> str:
        return f"{self.day.isoformat()}@{self.label}"


def digest_slots(day: date, settings: ReminderSettings) -> list[Slot]:
    """The digest times of study day `day`, in order (a 02:00 digest with days starting
    at 04:00 belongs to the day before, as a review at 02:00 does)."""
    start, end = settings.clock.bounds(day)
    slots = {}
    for local_day in (day, day + timedelta(days=1)):
        for when in settings.digest_at:
            moment = local_moment(local_day, when, settings.tz)
            if start <= moment < end:
                slots[moment] = Slot(day, moment, when.strftime("%H:%M"))
    return [slots[moment] for moment in sorted(slots)]


def last_slot(now: datetime, settings: ReminderSettings) -> Slot | None:
    """The latest digest time of the current study day that has come, if any."""
    past = [s for s in digest_slots(settings.clock.day_of(now), settings) if s.at <= now]
    return past[-1] if past else None


def next_slot(now: datetime, settings: ReminderSettings) -> Slot | None:
    """The first digest time after `now`."""
    today = settings.clock.day_of(now)
    for offset in range(3):
        for slot in digest_slots(today + timedelta(days=offset), settings):
            if slot.at > now:
                return slot
    return None


# --- what is owed ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One reminder to deliver, and the ledger keys it settles."""

    kind: str
    keys: tuple[str, ...]
    day: date
    due_at: datetime
    title: str
    body: str
    payload: dict[str, Any]

    def notice(self) -> Notice:
        return Notice(self.title, self.body, self.payload)


@dataclass(frozen=True)
class Plan:
    """What is owed at a moment: a message to send, a digest time that found nothing due,
    or the end of the quiet hours that hold something back."""

    message: Message | None = None
    skipped_digest: Slot | None = None
    held_until: datetime | None = None
    skipped_because: str = ""  # why the digest found nothing to send


def due_key(card_id: int, due: date) -> str:
    return f"{card_id}@{due.isoformat()}"


def _keys_taken(conn: SqlConn, kind: str, keys: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start:start + 500])
        marks = ", ".join(f":k{n}" for n in range(len(chunk)))
        taken.update(row[0] for row in conn.all(
            f"SELECT key FROM reminder WHERE kind = :kind AND key IN ({marks})", kind=kind,
            **{f"k{n}": key for n, key in enumerate(chunk)}))
    return taken


def _cutoff(conn: SqlConn, day: date, slot: Slot | None, day_start: datetime) -> datetime:
    """Cards changed after this moment were not in any digest of study day `day`."""
    latest = conn.moment(conn.scalar(
        "SELECT max(claimed_at) FROM reminder WHERE kind = :kind AND study_day = :day",
        kind=DIGEST, day=conn.day_value(day)))
    moments = [day_start] + ([slot.at] if slot else []) + ([latest] if latest else [])
    return max(moments)


def _due_now(conn: SqlConn, day: date, cutoff: datetime) -> list[CardRow]:
    """The active cards due on `day` whose row changed after `cutoff`, not yet reminded of."""
    ids = [row[0] for row in conn.all(
        "SELECT id FROM card WHERE suspended = :no AND merged_into IS NULL "
        "AND updated_at > :cutoff AND due = :day ORDER BY id",
        no=False, cutoff=conn.stamp(cutoff), day=conn.day_value(day))]
    found = card_rows(conn, ids)
    cards = [found[card_id] for card_id in ids]
    taken = _keys_taken(conn, DUE, [due_key(c.id, c.due) for c in cards])
    return [c for c in cards if due_key(c.id, c.due) not in taken]


def plan(conn: SqlConn, settings: ReminderSettings, engine: Engine, now: datetime) -> Plan:
    """What is owed at `now`: at most one message (quiet hours hold it back)."""
    clock = settings.clock
    day = clock.day_of(now)
    day_start, _end = clock.bounds(day)
    slot = last_slot(now, settings)
    digest_owed = slot is not None and not _keys_taken(conn, DIGEST, [slot.key])
    due_cards = _due_now(conn, day, _cutoff(conn, day, slot, day_start))
    if not digest_owed and not due_cards:
        return Plan()
    if in_quiet(now, settings):
        return Plan(held_until=release(now, settings))
    skipped, because = None, ""
    if digest_owed:
        assert slot is not None
        queue = build_queue(conn, engine=engine, clock=clock, now=now,
                            order=settings.order, max_per_day=settings.max_per_day,
                            max_minutes=settings.max_minutes)
        if queue.entries:
            labels = card_labels(conn, [entry.card for entry in queue.entries])
            return Plan(message=digest_message(queue, slot, now, settings, labels))
        skipped = slot
        if queue.over_budget:
            because = _("today's budget of {budget} min is used ({n} more due: review "
                        "today --all)").format(budget=queue.budget, n=queue.more)
        elif queue.more:
            because = _("today's limit is reached ({n} more due: review today --all)").format(
                n=queue.more)
        else:
            because = _("nothing due")
    message = (due_message(due_cards, day, now, settings, card_labels(conn, due_cards))
               if due_cards else None)
    return Plan(message=message, skipped_digest=skipped, skipped_because=because)


# --- what it says ---------------------------------------------------------------------------


def _topic_lines(topics: Sequence[str]) -> list[str]:
    lines = [f"• {one_line(topic, TOPIC_WIDTH)}" for topic in topics[:TOPICS_SHOWN]]
    if len(topics) > TOPICS_SHOWN:
        lines.append(_("… and {n} more").format(n=len(topics) - TOPICS_SHOWN))
    return lines


def _local(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).isoformat()


def digest_message(queue: Queue, slot: Slot, now: datetime, settings: ReminderSettings,
                   labels: dict[int, str] | None = None) -> Message:
    """The daily digest: how many self-tests are due, and the first topics in queue order
    (each by its label: srs.store.card_labels)."""
    cards = [entry.card for entry in queue.entries]
    named = labels or {}
    count = len(cards)
    title = ngettext("{n} self-test due today", "{n} self-tests due today", count).format(
        n=count)
    lines = _topic_lines([named.get(c.id, c.topic) for c in cards])
    if queue.budget is not None:  # minutes matter to a person who set a budget for them
        lines.append(_("about {minutes} min of your {budget} min budget").format(
            minutes=max(1, round(queue.minutes)), budget=queue.budget))
    if queue.over_budget:
        lines.append(_("{n} more due beyond today's budget").format(n=queue.more))
    elif queue.more:
        lines.append(_("{n} more due beyond today's limit").format(n=queue.more))
    catch_up = now - release(slot.at, settings) > LATE_AFTER
    if catch_up:
        lines.append(_("(the {time} digest, sent late)").format(time=slot.label))
    lines.append(_("Start with: review session"))
    payload = {
        "kind": DIGEST, "study_day": slot.day.isoformat(), "digest_at": slot.label,
        "due": count, "beyond_limit": queue.more, "catch_up": catch_up,
        "minutes": round(queue.minutes, 2), "budget_minutes": queue.budget,
        "beyond_budget": queue.over_budget,
        "topics": [{"id": c.id, "topic": c.topic, "label": named.get(c.id, c.topic),
                    "due": c.due.isoformat()} for c in cards],
        "keys": [slot.key], "at": _local(now, settings.tz),
    }
    return Message(DIGEST, (slot.key,), slot.day, slot.at, title, "\n".join(lines), payload)


def due_message(cards: Sequence[CardLike], day: date, now: datetime,
                settings: ReminderSettings, labels: dict[int, str] | None = None) -> Message:
    """A reminder of cards that fell due since the digest."""
    named = labels or {}
    title = (_("Due now: {topic}").format(
        topic=one_line(named.get(cards[0].id, cards[0].topic), TOPIC_WIDTH))
             if len(cards) == 1 else ngettext(
                 "{n} topic due now", "{n} topics due now", len(cards)).format(n=len(cards)))
    lines = _topic_lines([named.get(c.id, c.topic) for c in cards]) if len(cards) > 1 else []
    lines.append(_("Start with: review session"))
    keys = tuple(due_key(c.id, c.due) for c in cards)
    payload = {
        "kind": DUE, "study_day": day.isoformat(), "due": len(cards), "catch_up": False,
        "topics": [{"id": c.id, "topic": c.topic, "label": named.get(c.id, c.topic),
                    "due": c.due.isoformat()} for c in cards],
        "keys": list(keys), "at": _local(now, settings.tz),
    }
    return Message(DUE, keys, day, now, title, "\n".join(lines), payload)


# --- the ledger -----------------------------------------------------------------------------

REMINDER_COLUMNS = ("id, kind, key, channel, study_day, status, attempts, batch, title, body, "
                    "payload, due_at, claimed_at, claimed_by, sent_at, retry_at, detail")
INSERT_REMINDER = (
    "INSERT INTO reminder (kind, key, channel, study_day, status, attempts, batch, title, "
    "body, payload, due_at, claimed_at, claimed_by, sent_at, retry_at, detail) VALUES "
    "(:kind, :key, :channel, :study_day, :status, :attempts, :batch, :title, :body, "
    ":payload, :due_at, :claimed_at, :claimed_by, NULL, :retry_at, :detail)")
# Failed (or abandoned) deliveries whose time to try again has come.
RETRY_DUE = ("status IN (:pending, :failed) AND retry_at IS NOT NULL AND retry_at <= :now")


@dataclass(frozen=True)
class ReminderRow:
    """One row of the ledger: a reminder on one channel."""

    id: int
    kind: str
    key: str
    channel: str
    study_day: date
    status: str
    attempts: int
    batch: str
    title: str
    body: str
    payload: str
    due_at: datetime | None
    claimed_at: datetime | None
    claimed_by: str
    sent_at: datetime | None
    retry_at: datetime | None
    detail: str | None


def _reminder_rows(conn: SqlConn, sql: str, **params: Any) -> list[ReminderRow]:
    """Ledger rows of `sql`, which selects REMINDER_COLUMNS."""
    rows = []
    for (row_id, kind, key, channel, day, status, attempts, batch, title, body, payload,
         due_at, claimed_at, claimed_by, sent_at, retry_at, detail) in conn.all(sql, **params):
        rows.append(ReminderRow(
            int(row_id), kind, key, channel, conn.day(day), status, int(attempts or 0), batch,
            title or "", body or "", payload or "{}", conn.moment(due_at),
            conn.moment(claimed_at), claimed_by or "", conn.moment(sent_at),
            conn.moment(retry_at), detail))
    return rows


def _retries_due(conn: SqlConn, now: datetime) -> list[ReminderRow]:
    return _reminder_rows(
        conn, f"SELECT {REMINDER_COLUMNS} FROM reminder WHERE {RETRY_DUE} ORDER BY id",
        pending=PENDING, failed=FAILED, now=conn.stamp(now))


@dataclass(frozen=True)
class Delivery:
    """A message to deliver on one channel, and the ledger rows it settles."""

    batch: str
    channel: str
    kind: str
    keys: tuple[str, ...]
    attempts: int
    notice: Notice


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try after `attempts` failed ones."""
    return min(FIRST_RETRY * (1 << max(0, min(attempts - 1, 16))), LAST_RETRY)


def claim(conn: SqlConn, settings: ReminderSettings, engine: Engine, now: datetime, *,
          who: str = "") -> tuple[Plan, list[Delivery]]:
    """Work out what is owed at `now` and claim it, in the caller's write transaction.

    A reminder another process claimed first breaks the unique (kind, key, channel): the
    insert raises the driver's integrity error (`lost_race` tells it) and the caller's
    transaction rolls back.
    """
    result = plan(conn, settings, engine, now)
    rows: list[dict[str, Any]] = []
    common = {"claimed_at": conn.stamp(now), "claimed_by": who}
    if result.skipped_digest is not None:
        slot = result.skipped_digest
        rows.append({**common, "kind": DIGEST, "key": slot.key, "channel": NO_CHANNEL,
                     "study_day": conn.day_value(slot.day), "status": SKIPPED, "attempts": 0,
                     "batch": uuid.uuid4().hex, "title": "", "body": "", "payload": "{}",
                     "due_at": conn.stamp(slot.at), "retry_at": None,
                     "detail": result.skipped_because or _("nothing due")})
    message = result.message
    deliveries: list[Delivery] = []
    if message is not None:
        batch = uuid.uuid4().hex
        payload = json.dumps(message.payload, ensure_ascii=False)
        for spec in settings.channels:
            channel = channel_id(spec)
            rows.extend({**common, "kind": message.kind, "key": key, "channel": channel,
                         "study_day": conn.day_value(message.day), "status": PENDING,
                         "attempts": 1, "batch": batch, "title": message.title,
                         "body": message.body, "payload": payload,
                         "due_at": conn.stamp(message.due_at),
                         "retry_at": conn.stamp(now + LEASE), "detail": None}
                        for key in message.keys)
            deliveries.append(Delivery(batch, channel, message.kind, message.keys, 1,
                                       message.notice()))
    if rows:
        conn.run_many(INSERT_REMINDER, rows)
    return result, deliveries


def lost_race(err: BaseException) -> bool:
    """Whether `err` is the unique (kind, key, channel) broken by a claim made first."""
    import sqlite3
    import sys

    if isinstance(err, sqlite3.IntegrityError):
        return True
    alchemy = sys.modules.get("sqlalchemy.exc")  # loaded whenever SQLAlchemy ran the insert
    return alchemy is not None and isinstance(err, alchemy.IntegrityError)


def claim_retries(conn: SqlConn, settings: ReminderSettings, now: datetime, *,
                  who: str = "") -> list[Delivery]:
    """Take the failed (or abandoned) deliveries whose retry time has come.

    Those of an earlier study day are expired instead: today's digest covers them, and
    sending them now would make the burst a catch-up must never be. The caller's write
    transaction is serialized (SQLite's write lock, PostgreSQL's SERIALIZABLE), so the
    rows read here are still as read when they are taken.
    """
    today = settings.clock.day_of(now)
    groups: dict[tuple[str, str], list[ReminderRow]] = {}
    for row in _retries_due(conn, now):
        groups.setdefault((row.batch, row.channel), []).append(row)
    deliveries = []
    for (batch, channel), group in groups.items():
        first = group[0]
        if first.study_day < today:
            conn.run_many("UPDATE reminder SET status = :status, retry_at = NULL, "
                          "detail = :detail WHERE id = :id", [
                              {"id": row.id, "status": EXPIRED, "detail": _(
                                  "expired: not delivered on its study day ({reason})").format(
                                  reason=row.detail or _("no reason recorded"))}
                              for row in group])
            log.warning(ngettext(
                "gave up on the {kind} reminder of {day} on {channel} after {n} attempt",
                "gave up on the {kind} reminder of {day} on {channel} after {n} attempts",
                first.attempts).format(kind=first.kind, day=first.study_day, channel=channel,
                                       n=first.attempts))
            continue
        if in_quiet(now, settings):
            continue
        conn.run("UPDATE reminder SET status = :pending, attempts = :attempts, "
                 "claimed_by = :who, retry_at = :retry_at WHERE batch = :batch "
                 "AND channel = :channel AND " + RETRY_DUE,
                 pending=PENDING, failed=FAILED, attempts=first.attempts + 1, who=who,
                 retry_at=conn.stamp(now + LEASE), batch=batch, channel=channel,
                 now=conn.stamp(now))
        deliveries.append(Delivery(
            batch, channel, first.kind, tuple(r.key for r in group), first.attempts + 1,
            Notice(first.title, first.body, json.loads(first.payload or "{}"))))
    return deliveries


def _settle(conn: SqlConn, delivery: Delivery, *, status: str, retry_at: datetime | None,
            detail: str | None, sent_at: datetime | None) -> None:
    conn.run("UPDATE reminder SET status = :status, retry_at = :retry_at, detail = :detail, "
             "sent_at = :sent_at WHERE batch = :batch AND channel = :channel",
             status=status, retry_at=conn.stamp(retry_at) if retry_at else None, detail=detail,
             sent_at=conn.stamp(sent_at) if sent_at else None, batch=delivery.batch,
             channel=delivery.channel)


def mark(conn: SqlConn, delivery: Delivery, *, error: str | None, detail: str | None,
         now: datetime, final: bool = False) -> str:
    """Record how a delivery went; returns the status it leaves.

    `final`: the failure will not mend by trying again (a program that cannot start).
    """
    if error is None:
        status, retry_at, detail = SENT, None, detail
    elif final or delivery.attempts >= MAX_ATTEMPTS:
        status, retry_at, detail = FAILED, None, error
    else:
        status, retry_at, detail = FAILED, now + backoff(delivery.attempts), error
    _settle(conn, delivery, status=status, retry_at=retry_at, detail=detail,
            sent_at=now if status == SENT else None)
    return status


def expire(conn: SqlConn, delivery: Delivery, reason: str) -> None:
    """Give up on a delivery for good (its channel is no longer configured)."""
    conn.run("UPDATE reminder SET status = :status, retry_at = NULL, detail = :detail "
             "WHERE batch = :batch AND channel = :channel", status=EXPIRED, detail=reason,
             batch=delivery.batch, channel=delivery.channel)


# --- one pass -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one delivery went."""

    kind: str
    keys: tuple[str, ...]
    channel: str
    status: str
    attempts: int
    title: str
    detail: str | None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "keys": list(self.keys), "channel": self.channel,
                "status": self.status, "attempts": self.attempts, "title": self.title,
                "detail": self.detail}


@dataclass
class PassReport:
    """What one pass did."""

    outcomes: list[Outcome] = field(default_factory=list)
    held_until: datetime | None = None
    skipped_digest: str | None = None
    lost_race: bool = False


Send = Callable[[str, Notice], "str | None"]
T = TypeVar("T")


class Store(Protocol):
    """Where a pass reaches the data: `srs.app.App` is one."""

    def write(self, work: Callable[[SqlConn], T]) -> T: ...

    def engine(self, conn: SqlConn) -> Engine: ...


def run_once(store: Store, settings: ReminderSettings, now: datetime, send: Send, *,
             clock: Callable[[], datetime] | None = None, who: str = "") -> PassReport:
    """Claim what is owed at `now` and what is to be retried, deliver it, mark it.

    Args:
        store: the data (an `App`): its write transactions, and the scheduler for the
            queue's order.
        settings: the reminder settings.
        now: the moment the pass is for.
        send: delivers a notice on a channel spec; raises `DeliveryError` when it cannot.
        clock: when each delivery finished (default: `now`).
        who: who claims, recorded in the ledger (host:pid).
    """
    from srs.errors import SrsError

    report = PassReport()
    try:
        result, deliveries = store.write(
            lambda conn: claim(conn, settings, store.engine(conn), now, who=who))
    except Exception as err:
        if not lost_race(err):
            raise
        report.lost_race = True
        result, deliveries = Plan(), []
    report.held_until = result.held_until
    report.skipped_digest = result.skipped_digest.key if result.skipped_digest else None
    deliveries += store.write(lambda conn: claim_retries(conn, settings, now, who=who))
    specs = {channel_id(spec): spec for spec in settings.channels}
    for delivery in deliveries:
        spec = specs.get(delivery.channel)
        if spec is None:
            reason = _("channel {channel} is no longer in reminders.channels").format(
                channel=delivery.channel)
            store.write(_expirer(delivery, reason))
            report.outcomes.append(Outcome(delivery.kind, delivery.keys, delivery.channel,
                                           EXPIRED, delivery.attempts, delivery.notice.title,
                                           reason))
            continue
        detail: str | None = None
        error: str | None = None
        final = False
        try:
            detail = send(spec, delivery.notice)
        except SrsError as err:
            error, final = str(err), isinstance(err, PermanentDeliveryError)
        finished = clock() if clock is not None else now
        status = store.write(_marker(delivery, error, detail, finished, final))
        if error is not None:
            level = logging.ERROR if status == FAILED and (
                final or delivery.attempts >= MAX_ATTEMPTS) else logging.WARNING
            log.log(level, _("{kind} reminder on {channel} failed (attempt {n}): {error}").format(
                kind=delivery.kind, channel=delivery.channel, n=delivery.attempts, error=error))
        report.outcomes.append(Outcome(delivery.kind, delivery.keys, delivery.channel, status,
                                       delivery.attempts, delivery.notice.title,
                                       error or detail))
    return report


def _expirer(delivery: Delivery, reason: str) -> Callable[[SqlConn], None]:
    return lambda conn: expire(conn, delivery, reason)


def _marker(delivery: Delivery, error: str | None, detail: str | None,
            now: datetime, final: bool = False) -> Callable[[SqlConn], str]:
    return lambda conn: mark(conn, delivery, error=error, detail=detail, now=now, final=final)


def preview(conn: SqlConn, settings: ReminderSettings, engine: Engine,
            now: datetime) -> tuple[Plan, list[ReminderRow]]:
    """What a pass at `now` would do, without claiming anything: the plan, and the retries."""
    return plan(conn, settings, engine, now), _retries_due(conn, now)


# --- when next ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wake:
    """The next moment a reminder may be owed, and of which kind."""

    at: datetime
    kind: str


def next_wake(conn: SqlConn, settings: ReminderSettings, now: datetime) -> Wake | None:
    """When the next reminder may be owed after `now`: a digest time, the end of quiet hours
    holding something back, or a retry. (A card is due from the start of its study day, so
    one falling due today after a digest is noticed by the change check, not awaited.)"""
    clock = settings.clock
    day = clock.day_of(now)
    day_start, _end = clock.bounds(day)
    slot = last_slot(now, settings)
    wakes: list[Wake] = []
    if in_quiet(now, settings):
        if slot is not None and not _keys_taken(conn, DIGEST, [slot.key]):
            wakes.append(Wake(release(now, settings), DIGEST))
        elif _due_now(conn, day, _cutoff(conn, day, slot, day_start)):
            wakes.append(Wake(release(now, settings), DUE))
    upcoming = next_slot(now, settings)
    if upcoming is not None:
        wakes.append(Wake(release(upcoming.at, settings), DIGEST))
    retry = conn.moment(conn.scalar(
        "SELECT min(retry_at) FROM reminder WHERE status IN (:pending, :failed) "
        "AND retry_at IS NOT NULL", pending=PENDING, failed=FAILED))
    if retry is not None:
        wakes.append(Wake(release(max(retry, now), settings), "retry"))
    return min(wakes, key=lambda w: w.at) if wakes else None


# --- reading the ledger ---------------------------------------------------------------------


def ledger(conn: SqlConn, *, status: str | None = None, limit: int | None = 50
           ) -> list[ReminderRow]:
    """Ledger rows, newest first."""
    where = " WHERE status = :status" if status is not None else ""
    bound = f" LIMIT {int(limit)}" if limit is not None else ""
    return _reminder_rows(conn, f"SELECT {REMINDER_COLUMNS} FROM reminder{where} "
                                f"ORDER BY claimed_at DESC, id DESC{bound}", status=status)


def last_sent(conn: SqlConn) -> ReminderRow | None:
    """The reminder delivered most recently."""
    rows = _reminder_rows(conn, f"SELECT {REMINDER_COLUMNS} FROM reminder WHERE status = :sent "
                                "ORDER BY sent_at DESC, id DESC LIMIT 1", sent=SENT)
    return rows[0] if rows else None


def reminder_to_dict(row: ReminderRow, tz: tzinfo) -> dict[str, Any]:
    """A ledger row as `review reminders --json` prints it."""

    def local(moment: datetime | None) -> str | None:
        return moment.astimezone(tz).isoformat() if moment else None

    return {
        "id": row.id, "kind": row.kind, "key": row.key, "channel": row.channel,
        "status": row.status, "attempts": row.attempts, "study_day": row.study_day.isoformat(),
        "due_at": local(row.due_at), "claimed_at": local(row.claimed_at),
        "sent_at": local(row.sent_at), "retry_at": local(row.retry_at),
        "title": row.title, "detail": row.detail,
    }


def fingerprint(conn: SqlConn) -> tuple[Any, ...]:
    """A cheap summary that changes whenever a grade, an import or an edit changes cards."""
    row = conn.one(
        "SELECT (SELECT count(*) FROM card), (SELECT max(updated_at) FROM card), "
        "(SELECT count(*) FROM review), (SELECT max(recorded_at) FROM review), "
        "(SELECT count(*) FROM log_source), (SELECT max(imported_at) FROM log_source)")
    return tuple(row or ())


def watched_logs(conn: SqlConn) -> list[str]:
    """The log files that were imported, for the daemon to follow."""
    return [str(row[0]) for row in conn.all("SELECT path FROM log_source ORDER BY id")]
