"""custom domains: the custom_domains table; outbox rows without an inbox, message or pod (domain events)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from postroom.storage.tables import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custom_domains",
        sa.Column("domain_id", sa.String(253), primary_key=True),
        sa.Column(
            "organization_id",
            sa.String(64),
            sa.ForeignKey("organizations.organization_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("pod_id", sa.String(64), sa.ForeignKey("pods.pod_id", ondelete="RESTRICT")),
        sa.Column("feedback_enabled", sa.Boolean(), nullable=False),
        sa.Column("inbound_enabled", sa.Boolean(), nullable=False),
        sa.Column("subdomains_enabled", sa.Boolean(), nullable=False),
        sa.Column("tracking_enabled", sa.Boolean(), nullable=False),
        sa.Column("client_id", sa.String(256)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("dkim_selector", sa.String(63), nullable=False),
        sa.Column("dkim_private_pem", sa.LargeBinary(), nullable=False),
        sa.Column("dkim_txt", sa.Text(), nullable=False),
        sa.Column("verified_at", UtcDateTime(timezone=True)),
        sa.Column("checking_since", UtcDateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", UtcDateTime(timezone=True)),
        sa.Column("check_lease_until", UtcDateTime(timezone=True)),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organization_id", "client_id", name="uq_custom_domains_organization_id_client_id"),
    )
    op.create_index("ix_custom_domains_org_created", "custom_domains", ["organization_id", "created_at", "domain_id"])
    op.create_index("ix_custom_domains_pod", "custom_domains", ["pod_id"])
    op.create_index("ix_custom_domains_next_check", "custom_domains", ["next_check_at"])
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("pod_id", existing_type=sa.String(64), nullable=True)
        batch.alter_column("inbox_id", existing_type=sa.String(320), nullable=True)
        batch.alter_column("message_row_id", existing_type=sa.String(64), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE inbox_id IS NULL OR message_row_id IS NULL OR pod_id IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("message_row_id", existing_type=sa.String(64), nullable=False)
        batch.alter_column("inbox_id", existing_type=sa.String(320), nullable=False)
        batch.alter_column("pod_id", existing_type=sa.String(64), nullable=False)
    op.drop_table("custom_domains")
