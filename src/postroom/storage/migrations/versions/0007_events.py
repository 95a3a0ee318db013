"""events: outbox dispatch lease and payload, webhooks, webhook deliveries, the inbox event log

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from postroom.storage.tables import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("dispatched_at", UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_until", UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))
    op.create_index("ix_outbox_pending", "outbox", ["dispatched_at", "created_at", "event_id"])
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", sa.String(64), primary_key=True),
        sa.Column(
            "organization_id",
            sa.String(64),
            sa.ForeignKey("organizations.organization_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("pod_id", sa.String(64), sa.ForeignKey("pods.pod_id", ondelete="CASCADE")),
        sa.Column("inbox_id", sa.String(320), sa.ForeignKey("inboxes.inbox_id", ondelete="CASCADE")),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("pod_ids", sa.JSON(), nullable=False),
        sa.Column("inbox_ids", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("client_id", sa.String(256)),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("failing_since", UtcDateTime(timezone=True)),
        sa.Column("enabled_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organization_id", "client_id", name="uq_webhooks_organization_id_client_id"),
    )
    op.create_index("ix_webhooks_org_created", "webhooks", ["organization_id", "created_at", "webhook_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(64), primary_key=True),
        sa.Column(
            "webhook_id", sa.String(64), sa.ForeignKey("webhooks.webhook_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", UtcDateTime(timezone=True)),
        sa.Column("last_error", sa.Text()),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_id_event_id"),
    )
    op.create_index(
        "ix_webhook_deliveries_queue",
        "webhook_deliveries",
        ["status", "webhook_id", "event_created_at", "event_id"],
    )
    op.create_table(
        "inbox_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("pod_id", sa.String(64), nullable=False),
        sa.Column("inbox_id", sa.String(320), sa.ForeignKey("inboxes.inbox_id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("label", sa.String(256), nullable=False),
        sa.Column("event_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_inbox_events_inbox", "inbox_events", ["inbox_id", "event_id"])


def downgrade() -> None:
    op.drop_table("inbox_events")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("payload")
        batch.drop_column("lease_until")
        batch.drop_column("dispatched_at")
