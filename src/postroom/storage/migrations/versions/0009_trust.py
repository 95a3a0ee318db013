"""inbound trust: the verdict on each message, and allow/block lists (suppressions become read-only entries)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from postroom.storage.tables import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("authentication_results", sa.Text()))
        batch.add_column(sa.Column("spam_action", sa.String(32)))
        batch.add_column(sa.Column("spam_score", sa.Float()))
    op.create_table(
        "list_entries",
        sa.Column("scope_id", sa.String(320), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("list_type", sa.String(16), nullable=False),
        sa.Column("entry", sa.String(320), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("pod_id", sa.String(64)),
        sa.Column("inbox_id", sa.String(320)),
        sa.Column("entry_type", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pod_id"], ["pods.pod_id"], name=op.f("fk_list_entries_pod_id_pods"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.inbox_id"], name=op.f("fk_list_entries_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("scope_id", "direction", "list_type", "entry", name=op.f("pk_list_entries")),
    )
    op.create_index("ix_list_entries_match", "list_entries", ["scope_id", "direction", "entry"])
    # Every hard bounce recorded so far is the organization's read-only send-block entry from now on.
    op.execute(
        "INSERT INTO list_entries (scope_id, direction, list_type, entry, organization_id, entry_type, reason,"
        " read_only, created_at) SELECT organization_id, 'send', 'block', lower(address), organization_id, 'email',"
        " reason, true, created_at FROM suppressions"
    )
    op.drop_table("suppressions")


def downgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "address", name=op.f("pk_suppressions")),
    )
    op.execute(
        "INSERT INTO suppressions (organization_id, address, reason, created_at) SELECT organization_id, entry,"
        " coalesce(reason, ''), created_at FROM list_entries WHERE read_only = true AND direction = 'send'"
        " AND list_type = 'block' AND scope_id = organization_id"
    )
    op.drop_index("ix_list_entries_match", table_name="list_entries")
    op.drop_table("list_entries")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("spam_score")
        batch.drop_column("spam_action")
        batch.drop_column("authentication_results")
