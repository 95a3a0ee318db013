"""metric minutes index: a partial index on the cell of minute-grain rollups, for retention to find old ones

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Expand-only: an index old processes neither read nor need to know about.
    op.create_index(
        "ix_metric_minutes",
        "metric_rollups",
        ["cell"],
        postgresql_where=sa.text("grain = 60"),
        sqlite_where=sa.text("grain = 60"),
    )


def downgrade() -> None:
    op.drop_index("ix_metric_minutes", table_name="metric_rollups")
