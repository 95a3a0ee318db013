"""messages, threads, attachments, labels, thread keys and the outbox

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import postroom.storage.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("pod_id", sa.String(length=64), nullable=False),
        sa.Column("inbox_id", sa.String(length=320), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_created", ["created_at", "event_id"], unique=False)

    op.create_table(
        "threads",
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("inbox_id", sa.String(length=320), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("pod_id", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("timestamp", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("received_timestamp", postroom.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("sent_timestamp", postroom.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("senders", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("preview", sa.Text(), nullable=True),
        sa.Column("last_message_id", sa.Text(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.inbox_id"], name=op.f("fk_threads_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("thread_id", name=op.f("pk_threads")),
    )
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.create_index("ix_threads_inbox_ts", ["inbox_id", "timestamp", "thread_id"], unique=False)
        batch_op.create_index("ix_threads_org_ts", ["organization_id", "timestamp", "thread_id"], unique=False)
        batch_op.create_index("ix_threads_pod_ts", ["pod_id", "timestamp", "thread_id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("row_id", sa.String(length=64), nullable=False),
        sa.Column("inbox_id", sa.String(length=320), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("pod_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("timestamp", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("from_", sa.Text(), nullable=False),
        sa.Column("to", sa.JSON(), nullable=False),
        sa.Column("cc", sa.JSON(), nullable=False),
        sa.Column("bcc", sa.JSON(), nullable=False),
        sa.Column("reply_to", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("preview", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("extracted_text", sa.Text(), nullable=True),
        sa.Column("extracted_html", sa.Text(), nullable=True),
        sa.Column("in_reply_to", sa.Text(), nullable=True),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("raw_blob_key", sa.String(length=1024), nullable=False),
        sa.Column("created_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.inbox_id"], name=op.f("fk_messages_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.thread_id"], name=op.f("fk_messages_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("row_id", name=op.f("pk_messages")),
        sa.UniqueConstraint("inbox_id", "message_id", name=op.f("uq_messages_inbox_id_message_id")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_inbox_ts", ["inbox_id", "timestamp", "row_id"], unique=False)
        batch_op.create_index("ix_messages_thread_ts", ["thread_id", "timestamp", "row_id"], unique=False)

    op.create_table(
        "thread_keys",
        sa.Column("inbox_id", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.inbox_id"], name=op.f("fk_thread_keys_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.thread_id"], name=op.f("fk_thread_keys_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("inbox_id", "message_id", name=op.f("pk_thread_keys")),
    )
    op.create_table(
        "attachments",
        sa.Column("attachment_id", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("content_type", sa.String(length=256), nullable=True),
        sa.Column("content_disposition", sa.String(length=16), nullable=True),
        sa.Column("content_id", sa.Text(), nullable=True),
        sa.Column("blob_key", sa.String(length=1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["row_id"], ["messages.row_id"], name=op.f("fk_attachments_row_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index("ix_attachments_row", ["row_id", "position"], unique=False)

    op.create_table(
        "message_labels",
        sa.Column("row_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["row_id"], ["messages.row_id"], name=op.f("fk_message_labels_row_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("row_id", "label", name=op.f("pk_message_labels")),
    )
    with op.batch_alter_table("message_labels", schema=None) as batch_op:
        batch_op.create_index("ix_message_labels_label", ["label", "row_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_message_labels_label")

    op.drop_table("message_labels")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_attachments_row")

    op.drop_table("attachments")
    op.drop_table("thread_keys")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_thread_ts")
        batch_op.drop_index("ix_messages_inbox_ts")

    op.drop_table("messages")
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index("ix_threads_pod_ts")
        batch_op.drop_index("ix_threads_org_ts")
        batch_op.drop_index("ix_threads_inbox_ts")

    op.drop_table("threads")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_created")

    op.drop_table("outbox")
