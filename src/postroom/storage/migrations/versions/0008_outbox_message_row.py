"""outbox: the column naming the message row an event is about is called message_row_id

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("subject_id", new_column_name="message_row_id")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("message_row_id", new_column_name="subject_id")
