"""Table definitions shared by the repositories and the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive, so we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

organizations = Table(
    "organizations",
    metadata,
    Column("organization_id", String(64), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

pods = Table(
    "pods",
    metadata,
    Column("pod_id", String(64), primary_key=True),
    Column(
        "organization_id",
        String(64),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(256), nullable=False),
    Column("client_id", String(256)),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("organization_id", "client_id"),
    Index("ix_pods_org_created", "organization_id", "created_at", "pod_id"),
)

inboxes = Table(
    "inboxes",
    metadata,
    Column("inbox_id", String(320), primary_key=True),
    Column(
        "organization_id",
        String(64),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("pod_id", String(64), ForeignKey("pods.pod_id", ondelete="RESTRICT"), nullable=False),
    Column("username", String(64), nullable=False),
    Column("domain", String(253), nullable=False),
    Column("display_name", String(256)),
    Column("client_id", String(256)),
    Column("status", String(16), nullable=False),
    Column("metadata", JSON(none_as_null=True)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("organization_id", "client_id"),
    Index("ix_inboxes_org_created", "organization_id", "created_at", "inbox_id"),
    Index("ix_inboxes_pod_created", "pod_id", "created_at", "inbox_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("api_key_id", String(64), primary_key=True),
    Column(
        "organization_id",
        String(64),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("pod_id", String(64), ForeignKey("pods.pod_id", ondelete="CASCADE")),
    Column("inbox_id", String(320), ForeignKey("inboxes.inbox_id", ondelete="CASCADE")),
    Column("name", String(256), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("permissions", JSON(none_as_null=True)),
    Column("expires_at", UtcDateTime),
    Column("used_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_api_keys_org_created", "organization_id", "created_at", "api_key_id"),
    Index("ix_api_keys_pod", "pod_id"),
    Index("ix_api_keys_inbox", "inbox_id"),
)
