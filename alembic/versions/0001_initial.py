"""Cards, their history, log sources and row mappings, settings.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from srs.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_log_source"),
        sa.UniqueConstraint("path", name="uq_log_source_path"),
    )
    op.create_table(
        "card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("section", sa.Text(), nullable=False),
        sa.Column("learned_on", sa.Date(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("stability", sa.Float(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("due", UTCDateTime(), nullable=False),
        sa.Column("last_review", UTCDateTime(), nullable=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("in_log", sa.Boolean(), nullable=False),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["merged_into"], ["card.id"], name="fk_card_merged_into_card"),
        sa.ForeignKeyConstraint(
            ["source_id"], ["log_source.id"], name="fk_card_source_id_log_source"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_card"),
    )
    op.create_index("ix_card_active_due", "card", ["suspended", "merged_into", "due"])
    op.create_table(
        "log_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name="fk_log_row_card_id_card"),
        sa.ForeignKeyConstraint(
            ["source_id"], ["log_source.id"], name="fk_log_row_source_id_log_source"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_log_row"),
        sa.UniqueConstraint("source_id", "key", name="uq_log_row_source_id"),
    )
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("due_set", UTCDateTime(), nullable=True),
        sa.Column("log_row_id", sa.Integer(), nullable=True),
        sa.Column("log_entry", sa.String(32), nullable=True),
        sa.Column("merged_from", sa.Integer(), nullable=True),
        sa.Column("state_before", sa.Text(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("undone_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name="fk_review_card_id_card"),
        sa.ForeignKeyConstraint(
            ["log_row_id"], ["log_row.id"], name="fk_review_log_row_id_log_row"
        ),
        sa.ForeignKeyConstraint(["merged_from"], ["card.id"], name="fk_review_merged_from_card"),
        sa.PrimaryKeyConstraint("id", name="pk_review"),
    )
    op.create_index("ix_review_card_at", "review", ["card_id", "at"])
    op.create_index("ix_review_recorded_at", "review", ["recorded_at"])
    op.create_table(
        "setting",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_setting"),
    )


def downgrade() -> None:
    op.drop_table("setting")
    op.drop_index("ix_review_recorded_at", table_name="review")
    op.drop_index("ix_review_card_at", table_name="review")
    op.drop_table("review")
    op.drop_table("log_row")
    op.drop_index("ix_card_active_due", table_name="card")
    op.drop_table("card")
    op.drop_table("log_source")
