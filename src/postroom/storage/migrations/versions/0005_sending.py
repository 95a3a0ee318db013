"""sending: delivery jobs, per-recipient results, idempotency keys and the suppression list

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from postroom.storage.tables import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_jobs",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("row_id", sa.String(64), nullable=False),
        sa.Column("inbox_id", sa.String(320), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("mail_from", sa.String(320), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("lease", sa.String(64)),
        sa.Column("last_error", sa.Text()),
        sa.ForeignKeyConstraint(
            ["row_id"], ["messages.row_id"], name=op.f("fk_delivery_jobs_row_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_delivery_jobs")),
    )
    op.create_index("ix_delivery_jobs_due", "delivery_jobs", ["next_attempt_at", "job_id"])
    op.create_index("ix_delivery_jobs_row", "delivery_jobs", ["row_id"])
    op.create_table(
        "delivery_recipients",
        sa.Column("row_id", sa.String(64), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("code", sa.Integer()),
        sa.Column("status", sa.String(16)),
        sa.Column("detail", sa.Text()),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["row_id"], ["messages.row_id"], name=op.f("fk_delivery_recipients_row_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("row_id", "address", name=op.f("pk_delivery_recipients")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(256), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "idempotency_key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "suppressions",
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "address", name=op.f("pk_suppressions")),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    op.drop_table("idempotency_keys")
    op.drop_table("delivery_recipients")
    op.drop_index("ix_delivery_jobs_row", table_name="delivery_jobs")
    op.drop_index("ix_delivery_jobs_due", table_name="delivery_jobs")
    op.drop_table("delivery_jobs")
