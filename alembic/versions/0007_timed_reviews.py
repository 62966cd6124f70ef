"""Timed self-tests found without a scan.

- a partial index on review(card_id) over the rows with a duration: what a self-test costs
  (srs/workload.py) is read on every `review today` from the few reviews that were timed,
  not from all of them.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TIMED = sa.text("duration IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_review_timed", "review", ["card_id"], sqlite_where=TIMED,
                    postgresql_where=TIMED)


def downgrade() -> None:
    op.drop_index("ix_review_timed", table_name="review")
