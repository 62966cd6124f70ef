"""The reminder ledger, and an index for the daemon's cheap change check.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from srs.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("study_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("retry_at", UTCDateTime(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reminder"),
        sa.UniqueConstraint("kind", "key", "channel", name="uq_reminder_kind"),
    )
    op.create_index("ix_reminder_status_retry_at", "reminder", ["status", "retry_at"])
    op.create_index("ix_reminder_batch", "reminder", ["batch"])
    op.create_index("ix_card_updated_at", "card", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_card_updated_at", table_name="card")
    op.drop_index("ix_reminder_batch", table_name="reminder")
    op.drop_index("ix_reminder_status_retry_at", table_name="reminder")
    op.drop_table("reminder")
