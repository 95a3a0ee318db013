"""drafts: drafts with their labels and attachments

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from postroom.storage.tables import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("draft_id", sa.String(64), nullable=False),
        sa.Column("inbox_id", sa.String(320), nullable=False),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("pod_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(256)),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("reply_to", sa.JSON(), nullable=False),
        sa.Column("to", sa.JSON(), nullable=False),
        sa.Column("cc", sa.JSON(), nullable=False),
        sa.Column("bcc", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text()),
        sa.Column("preview", sa.Text()),
        sa.Column("text", sa.Text()),
        sa.Column("html", sa.Text()),
        sa.Column("in_reply_to", sa.Text()),
        sa.Column("forward_of", sa.Text()),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("send_status", sa.String(16)),
        sa.Column("send_at", UtcDateTime(timezone=True)),
        sa.Column("sending_since", UtcDateTime(timezone=True)),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.inbox_id"], name=op.f("fk_drafts_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("draft_id", name=op.f("pk_drafts")),
        sa.UniqueConstraint("inbox_id", "client_id", name=op.f("uq_drafts_inbox_id_client_id")),
    )
    op.create_index("ix_drafts_inbox_updated", "drafts", ["inbox_id", "updated_at", "draft_id"])
    op.create_index("ix_drafts_pod_updated", "drafts", ["pod_id", "updated_at", "draft_id"])
    op.create_index("ix_drafts_org_updated", "drafts", ["organization_id", "updated_at", "draft_id"])
    op.create_index("ix_drafts_send_at", "drafts", ["send_at"])
    op.create_table(
        "draft_labels",
        sa.Column("draft_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(256), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["drafts.draft_id"], name=op.f("fk_draft_labels_draft_id_drafts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("draft_id", "label", name=op.f("pk_draft_labels")),
    )
    op.create_index("ix_draft_labels_label", "draft_labels", ["label", "draft_id"])
    op.create_table(
        "draft_attachments",
        sa.Column("attachment_id", sa.String(64), nullable=False),
        sa.Column("draft_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Text()),
        sa.Column("content_type", sa.String(256)),
        sa.Column("content_disposition", sa.String(16)),
        sa.Column("content_id", sa.Text()),
        sa.Column("blob_key", sa.String(1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["drafts.draft_id"], name=op.f("fk_draft_attachments_draft_id_drafts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_draft_attachments")),
    )
    op.create_index("ix_draft_attachments_draft", "draft_attachments", ["draft_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_draft_attachments_draft", table_name="draft_attachments")
    op.drop_table("draft_attachments")
    op.drop_index("ix_draft_labels_label", table_name="draft_labels")
    op.drop_table("draft_labels")
    for name in ("ix_drafts_send_at", "ix_drafts_org_updated", "ix_drafts_pod_updated", "ix_drafts_inbox_updated"):
        op.drop_index(name, table_name="drafts")
    op.drop_table("drafts")
