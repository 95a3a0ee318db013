"""rate limits: the rate_limits table of budgets shared by every process (UNLOGGED on PostgreSQL)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Expand-only: a new table old processes never read. UNLOGGED: no WAL for a counter touched per request.
        op.execute(
            "CREATE UNLOGGED TABLE rate_limits ("
            "key VARCHAR(200) NOT NULL, arrival FLOAT NOT NULL, CONSTRAINT pk_rate_limits PRIMARY KEY (key))"
        )
        return
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("arrival", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_rate_limits"),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
