"""Due dates are study days.

- card.due and review.due_set become dates (the study day a card is due, the day a
  reschedule chose), converted from the moments stored before with the person's clock
  (the configured zone and `day_starts_at`, handed in by srs.db as `clock`);
- card.last_review_day becomes the study day of the last review as a day number
  (`date.toordinal()`), written by the code that writes last_review: a database trigger
  cannot know the person's zone, so the triggers of 0003 go.

The memory states themselves are recomputed from the histories by the code after the
upgrade (srs.schedule.follow_clock), because that needs the person's scheduler settings:
the database holds no record of the clock its schedule follows yet, so the first
command after this migration replays every card.

Revision ID: 0004
Revises: 0003
"""

from datetime import date, datetime, timezone

import sqlalchemy as sa
from alembic import context, op

from srs.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = ("card_last_review_day_insert", "card_last_review_day_update")


def _clock():  # type: ignore[no-untyped-def]
    from srs.clock import DayClock, system_zone_name, zone

    given = context.config.attributes.get("clock")
    return given if given is not None else DayClock(zone(system_zone_name()), 4)


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _day(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _store(value: object, sqlite: bool) -> object:
    return value.isoformat() if sqlite and isinstance(value, date) else value


def _retype(table: str, column: str, new: sa.types.TypeEngine, old: sa.types.TypeEngine,
            nullable: bool, using: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=new, existing_type=old, existing_nullable=nullable)
    else:
        op.alter_column(table, column, type_=new, existing_type=old,
                        existing_nullable=nullable, postgresql_using=using)


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    clock = _clock()
    if sqlite:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS card_last_review_day ON card")
        op.execute("DROP FUNCTION IF EXISTS srs_card_last_review_day()")
    cards = [(card_id, _moment(due), _moment(last)) for card_id, due, last in bind.execute(
        sa.text("SELECT id, due, last_review FROM card"))]
    reschedules = [(review_id, _moment(due)) for review_id, due in bind.execute(
        sa.text("SELECT id, due_set FROM review WHERE due_set IS NOT NULL"))]
    _retype("card", "due", sa.Date(), UTCDateTime(), False, "(due AT TIME ZONE 'UTC')::date")
    _retype("review", "due_set", sa.Date(), UTCDateTime(), True,
            "(due_set AT TIME ZONE 'UTC')::date")
    if cards:
        bind.execute(
            sa.text("UPDATE card SET due = :due, last_review_day = :last_day WHERE id = :id"),
            [{"id": card_id,
              "due": _store(clock.day_of(due), sqlite) if due is not None else None,
              "last_day": clock.day_of(last).toordinal() if last is not None else None}
             for card_id, due, last in cards])
    if reschedules:
        bind.execute(sa.text("UPDATE review SET due_set = :due WHERE id = :id"),
                     [{"id": review_id, "due": _store(clock.day_of(due), sqlite)}
                      for review_id, due in reschedules if due is not None])


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    clock = _clock()
    cards = [(card_id, _day(due)) for card_id, due in bind.execute(
        sa.text("SELECT id, due FROM card"))]
    reschedules = [(review_id, _day(due)) for review_id, due in bind.execute(
        sa.text("SELECT id, due_set FROM review WHERE due_set IS NOT NULL"))]
    _retype("card", "due", UTCDateTime(), sa.Date(), False, "due::timestamptz")
    _retype("review", "due_set", UTCDateTime(), sa.Date(), True, "due_set::timestamptz")

    def moment(day: date | None) -> object:
        if day is None:
            return None
        start = clock.start(day)
        return start.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else start

    if cards:
        bind.execute(sa.text("UPDATE card SET due = :due WHERE id = :id"),
                     [{"id": card_id, "due": moment(day)} for card_id, day in cards])
    if reschedules:
        bind.execute(sa.text("UPDATE review SET due_set = :due WHERE id = :id"),
                     [{"id": review_id, "due": moment(day)} for review_id, day in reschedules])
    if sqlite:
        op.execute("""CREATE TRIGGER card_last_review_day_insert AFTER INSERT ON card
            WHEN NEW.last_review IS NOT NULL AND NEW.last_review_day IS NULL BEGIN
            UPDATE card SET last_review_day = julianday(NEW.last_review) WHERE id = NEW.id;
        END""")
        op.execute("""CREATE TRIGGER card_last_review_day_update AFTER UPDATE OF last_review
            ON card WHEN NEW.last_review IS NOT OLD.last_review BEGIN
            UPDATE card SET last_review_day = julianday(NEW.last_review) WHERE id = NEW.id;
        END""")
        op.execute("UPDATE card SET last_review_day = julianday(last_review)")
    else:
        op.execute("""CREATE FUNCTION srs_card_last_review_day() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                NEW.last_review_day := extract(epoch FROM NEW.last_review) / 86400.0 + 2440587.5;
                RETURN NEW;
            END $$""")
        op.execute("""CREATE TRIGGER card_last_review_day BEFORE INSERT OR UPDATE OF last_review
            ON card FOR EACH ROW EXECUTE FUNCTION srs_card_last_review_day()""")
        op.execute("UPDATE card SET last_review_day = "
                   "extract(epoch FROM last_review) / 86400.0 + 2440587.5")
