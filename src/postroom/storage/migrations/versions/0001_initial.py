"""initial schema: organizations, pods, inboxes, api keys

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import postroom.storage.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    op.create_table(
        "pods",
        sa.Column("pod_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("client_id", sa.String(length=256), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.organization_id"],
            name=op.f("fk_pods_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pod_id", name=op.f("pk_pods")),
        sa.UniqueConstraint("organization_id", "client_id", name=op.f("uq_pods_organization_id_client_id")),
    )
    with op.batch_alter_table("pods", schema=None) as batch_op:
        batch_op.create_index("ix_pods_org_created", ["organization_id", "created_at", "pod_id"], unique=False)

    op.create_table(
        "inboxes",
        sa.Column("inbox_id", sa.String(length=320), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("pod_id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("display_name", sa.String(length=256), nullable=True),
        sa.Column("client_id", sa.String(length=256), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("metadata", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.organization_id"],
            name=op.f("fk_inboxes_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["pod_id"], ["pods.pod_id"], name=op.f("fk_inboxes_pod_id_pods"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("inbox_id", name=op.f("pk_inboxes")),
        sa.UniqueConstraint("organization_id", "client_id", name=op.f("uq_inboxes_organization_id_client_id")),
    )
    with op.batch_alter_table("inboxes", schema=None) as batch_op:
        batch_op.create_index("ix_inboxes_org_created", ["organization_id", "created_at", "inbox_id"], unique=False)
        batch_op.create_index("ix_inboxes_pod_created", ["pod_id", "created_at", "inbox_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("api_key_id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("pod_id", sa.String(length=64), nullable=True),
        sa.Column("inbox_id", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("permissions", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("expires_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("used_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", postroom.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.inbox_id"], name=op.f("fk_api_keys_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.organization_id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["pod_id"], ["pods.pod_id"], name=op.f("fk_api_keys_pod_id_pods"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("api_key_id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index("ix_api_keys_inbox", ["inbox_id"], unique=False)
        batch_op.create_index("ix_api_keys_org_created", ["organization_id", "created_at", "api_key_id"], unique=False)
        batch_op.create_index("ix_api_keys_pod", ["pod_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_api_keys_pod")
        batch_op.drop_index("ix_api_keys_org_created")
        batch_op.drop_index("ix_api_keys_inbox")

    op.drop_table("api_keys")
    with op.batch_alter_table("inboxes", schema=None) as batch_op:
        batch_op.drop_index("ix_inboxes_pod_created")
        batch_op.drop_index("ix_inboxes_org_created")

    op.drop_table("inboxes")
    with op.batch_alter_table("pods", schema=None) as batch_op:
        batch_op.drop_index("ix_pods_org_created")

    op.drop_table("pods")
    op.drop_table("server_secrets")
    op.drop_table("organizations")
