"""Indexes and derived columns for the hot paths at 100,000 cards.

- card.last_review_day (a Julian day number kept by a trigger) and indexes by due date and
  by stability, so `review today` finds the least retrievable cards of a backlog without
  reading it all;
- an index on review.at, for counting today's self-tests;
- log_source.summary, so an unchanged log is not parsed again on import.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    # Only when there is something to write: an import inserts new cards with the value
    # already set, and rewrites states whose last review did not move.
    """CREATE TRIGGER card_last_review_day_insert AFTER INSERT ON card
        WHEN NEW.last_review IS NOT NULL AND NEW.last_review_day IS NULL BEGIN
        UPDATE card SET last_review_day = julianday(NEW.last_review) WHERE id = NEW.id;
    END""",
    """CREATE TRIGGER card_last_review_day_update AFTER UPDATE OF last_review ON card
        WHEN NEW.last_review IS NOT OLD.last_review BEGIN
        UPDATE card SET last_review_day = julianday(NEW.last_review) WHERE id = NEW.id;
    END""",
)
POSTGRES_TRIGGER = (
    """CREATE FUNCTION srs_card_last_review_day() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.last_review_day := extract(epoch FROM NEW.last_review) / 86400.0 + 2440587.5;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER card_last_review_day BEFORE INSERT OR UPDATE OF last_review ON card
        FOR EACH ROW EXECUTE FUNCTION srs_card_last_review_day()""",
)


def upgrade() -> None:
    op.add_column("card", sa.Column("last_review_day", sa.Float(), nullable=True))
    op.add_column("log_source", sa.Column("summary", sa.Text(), nullable=True))
    op.create_index("ix_card_risk", "card",
                    ["suspended", "merged_into", "due", "last_review_day", "stability"])
    op.create_index("ix_card_by_stability", "card",
                    ["suspended", "merged_into", "stability", "last_review_day", "due"])
    op.create_index("ix_card_last_review_day", "card", ["last_review_day"])
    op.create_index("ix_review_at", "review", ["at"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        op.execute("UPDATE card SET last_review_day = julianday(last_review)")
    else:
        for statement in POSTGRES_TRIGGER:
            op.execute(statement)
        op.execute("UPDATE card SET last_review_day = "
                   "extract(epoch FROM last_review) / 86400.0 + 2440587.5")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER card_last_review_day_update")
        op.execute("DROP TRIGGER card_last_review_day_insert")
    else:
        op.execute("DROP TRIGGER card_last_review_day ON card")
        op.execute("DROP FUNCTION srs_card_last_review_day()")
    op.drop_index("ix_review_at", table_name="review")
    op.drop_index("ix_card_last_review_day", table_name="card")
    op.drop_index("ix_card_by_stability", table_name="card")
    op.drop_index("ix_card_risk", table_name="card")
    op.drop_column("log_source", "summary")
    op.drop_column("card", "last_review_day")
