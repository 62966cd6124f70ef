"""Labels and undo per command.

- an index on card.topic: a card is labelled by its notes or learned date wherever another
  card shares its topic, and every list asks which of its topics are shared;
- review.command: the command that recorded an event by hand (a grade, a set-due, every
  move of one spread), so that one `review undo` takes back all that command did.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_card_topic", "card", ["topic", "merged_into"])
    op.add_column("review", sa.Column("command", sa.String(32), nullable=True))
    op.create_index("ix_review_command", "review", ["command"])


def downgrade() -> None:
    op.drop_index("ix_review_command", table_name="review")
    with op.batch_alter_table("review") as batch:
        batch.drop_column("command")
    op.drop_index("ix_card_topic", table_name="card")
