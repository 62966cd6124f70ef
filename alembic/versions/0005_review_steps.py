"""What each self-test did, stored beside it: statistics and fitting read it with SQL.

review.study_day, prior_state, elapsed_days, retrievability, stability and difficulty are
derived data, written whenever a history is replayed. This migration only adds the columns;
the schedule's format marker (srs/schedule.py) makes the first open after it replay every
card once, which fills them.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (
    ("study_day", sa.Date()),
    ("prior_state", sa.Integer()),
    ("elapsed_days", sa.Integer()),
    ("retrievability", sa.Float()),
    ("stability", sa.Float()),
    ("difficulty", sa.Float()),
)


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column("review", sa.Column(name, kind, nullable=True))
    op.create_index("ix_review_study_day", "review", ["study_day"])


def downgrade() -> None:
    op.drop_index("ix_review_study_day", "review")
    with op.batch_alter_table("review") as batch:
        for name, _kind in reversed(COLUMNS):
            batch.drop_column(name)
