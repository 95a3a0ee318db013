"""Table definitions shared by the repositories and the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
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

threads = Table(
    "threads",
    metadata,
    Column("thread_id", String(64), primary_key=True),
    Column("inbox_id", String(320), ForeignKey("inboxes.inbox_id", ondelete="CASCADE"), nullable=False),
    Column("organization_id", String(64), nullable=False),
    Column("pod_id", String(64), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("received_timestamp", UtcDateTime),
    Column("sent_timestamp", UtcDateTime),
    Column("senders", JSON, nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("subject", Text),
    Column("preview", Text),
    Column("last_message_id", Text, nullable=False),
    Column("message_count", Integer, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_threads_inbox_ts", "inbox_id", "timestamp", "thread_id"),
    Index("ix_threads_pod_ts", "pod_id", "timestamp", "thread_id"),
    Index("ix_threads_org_ts", "organization_id", "timestamp", "thread_id"),
)

messages = Table(
    "messages",
    metadata,
    Column("row_id", String(64), primary_key=True),
    Column("inbox_id", String(320), ForeignKey("inboxes.inbox_id", ondelete="CASCADE"), nullable=False),
    Column("organization_id", String(64), nullable=False),
    Column("pod_id", String(64), nullable=False),
    Column("thread_id", String(64), ForeignKey("threads.thread_id", ondelete="CASCADE"), nullable=False),
    Column("message_id", Text, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("from_", Text, nullable=False),
    Column("to", JSON, nullable=False),
    Column("cc", JSON, nullable=False),
    Column("bcc", JSON, nullable=False),
    Column("reply_to", JSON, nullable=False),
    Column("subject", Text),
    Column("preview", Text),
    Column("text", Text),
    Column("html", Text),
    Column("extracted_text", Text),
    Column("extracted_html", Text),
    Column("in_reply_to", Text),
    Column("references", JSON, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("raw_blob_key", String(1024), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("authentication_results", Text),  # the Authentication-Results value written on inbound mail
    Column("spam_action", String(32)),  # rspamd's action, when it classified the message
    Column("spam_score", Float),
    UniqueConstraint("inbox_id", "message_id"),
    Index("ix_messages_inbox_ts", "inbox_id", "timestamp", "row_id"),
    Index("ix_messages_thread_ts", "thread_id", "timestamp", "row_id"),
)

message_labels = Table(
    "message_labels",
    metadata,
    Column("row_id", String(64), ForeignKey("messages.row_id", ondelete="CASCADE"), primary_key=True),
    Column("label", String(256), primary_key=True),
    Index("ix_message_labels_label", "label", "row_id"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("attachment_id", String(64), primary_key=True),
    Column("row_id", String(64), ForeignKey("messages.row_id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("filename", Text),
    Column("content_type", String(256)),
    Column("content_disposition", String(16)),
    Column("content_id", Text),
    Column("blob_key", String(1024), nullable=False),
    Index("ix_attachments_row", "row_id", "position"),
)

# Every Message-ID a thread has seen (its messages' own ids and the ids they reference), for threading replies.
thread_keys = Table(
    "thread_keys",
    metadata,
    Column("inbox_id", String(320), ForeignKey("inboxes.inbox_id", ondelete="CASCADE"), primary_key=True),
    Column("message_id", Text, primary_key=True),
    Column("thread_id", String(64), ForeignKey("threads.thread_id", ondelete="CASCADE"), nullable=False),
)

# Transactional outbox: events committed with the change that caused them, drained by the events dispatcher.
outbox = Table(
    "outbox",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("organization_id", String(64), nullable=False),
    # A domain event has no inbox or message, and an organization-wide domain's has no pod either.
    Column("pod_id", String(64)),
    Column("inbox_id", String(320)),
    Column("message_row_id", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("data", JSON, nullable=False, default=dict),
    # Set once the event has been matched to webhooks; until then a dispatcher may lease it until lease_until.
    Column("dispatched_at", UtcDateTime),
    Column("lease_until", UtcDateTime),
    Column("payload", Text),  # the §4.1 JSON, rendered once when dispatched, sent as is on every attempt
    Index("ix_outbox_created", "created_at", "event_id"),
    Index("ix_outbox_pending", "dispatched_at", "created_at", "event_id"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(64), primary_key=True),
    Column(
        "organization_id",
        String(64),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("pod_id", String(64), ForeignKey("pods.pod_id", ondelete="CASCADE")),
    Column("inbox_id", String(320), ForeignKey("inboxes.inbox_id", ondelete="CASCADE")),
    Column("url", Text, nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("pod_ids", JSON, nullable=False),
    Column("inbox_ids", JSON, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("client_id", String(256)),
    Column("headers", JSON, nullable=False),
    Column("failing_since", UtcDateTime),
    Column("enabled_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("organization_id", "client_id"),
    Index("ix_webhooks_org_created", "organization_id", "created_at", "webhook_id"),
)

# One row per (webhook, event): the delivery queue while pending, the record (or dead letter) afterwards.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(64), primary_key=True),
    Column("webhook_id", String(64), ForeignKey("webhooks.webhook_id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_created_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime),
    Column("last_error", Text),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("webhook_id", "event_id"),
    Index("ix_webhook_deliveries_queue", "status", "webhook_id", "event_created_at", "event_id"),
    Index("ix_webhook_deliveries_event", "event_id"),
    Index("ix_webhook_deliveries_finished", "status", "updated_at"),
)

# The inbox event log (spec §3.14): every label added to or removed from a message.
inbox_events = Table(
    "inbox_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("organization_id", String(64), nullable=False),
    Column("pod_id", String(64), nullable=False),
    Column("inbox_id", String(320), ForeignKey("inboxes.inbox_id", ondelete="CASCADE"), nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("message_id", Text, nullable=False),
    Column("label", String(256), nullable=False),
    Column("event_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_inbox_events_inbox", "inbox_id", "event_id"),
)

# Outbound delivery: one job per sent message and recipient domain; claimed by pushing next_attempt_at forward
# (the lease) and tagging it, so a crashed worker's job simply comes due again.
delivery_jobs = Table(
    "delivery_jobs",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("row_id", String(64), ForeignKey("messages.row_id", ondelete="CASCADE"), nullable=False),
    Column("inbox_id", String(320), nullable=False),
    Column("organization_id", String(64), nullable=False),
    Column("domain", String(255), nullable=False),
    Column("mail_from", String(320), nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("lease", String(64)),
    Column("last_error", Text),
    Index("ix_delivery_jobs_due", "next_attempt_at", "job_id"),
    Index("ix_delivery_jobs_row", "row_id"),
)

# What happened to each recipient of a sent message (queued, delayed, delivered, bounced, rejected).
delivery_recipients = Table(
    "delivery_recipients",
    metadata,
    Column("row_id", String(64), ForeignKey("messages.row_id", ondelete="CASCADE"), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("code", Integer),
    Column("status", String(16)),
    Column("detail", Text),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_delivery_recipients_updated", "updated_at"),
)

# Idempotency-Key of send requests (spec §1.8): the first result, replayed for the same request for 24 hours.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("organization_id", String(64), primary_key=True),
    Column("idempotency_key", String(256), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("message_id", Text, nullable=False),
    Column("thread_id", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_idempotency_keys_created", "created_at"),
)

# Allow and block lists (spec §3.12) at organization, pod and inbox scope; scope_id is the narrowest of the three
# ids. Hard bounces are read-only send/block entries of the organization.
list_entries = Table(
    "list_entries",
    metadata,
    Column("scope_id", String(320), primary_key=True),
    Column("direction", String(16), primary_key=True),
    Column("list_type", String(16), primary_key=True),
    Column("entry", String(320), primary_key=True),
    Column("organization_id", String(64), nullable=False),
    Column("pod_id", String(64), ForeignKey("pods.pod_id", ondelete="CASCADE")),
    Column("inbox_id", String(320), ForeignKey("inboxes.inbox_id", ondelete="CASCADE")),
    Column("entry_type", String(16), nullable=False),
    Column("reason", Text),
    Column("read_only", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_list_entries_match", "scope_id", "direction", "entry"),
)

# Drafts (spec §3.6): unsent messages; a scheduled one is claimed for sending by setting send_status "sending"
# and sending_since (the lease), so a crash mid-send leaves a claim that expires and is taken again.
drafts = Table(
    "drafts",
    metadata,
    Column("draft_id", String(64), primary_key=True),
    Column("inbox_id", String(320), ForeignKey("inboxes.inbox_id", ondelete="CASCADE"), nullable=False),
    Column("organization_id", String(64), nullable=False),
    Column("pod_id", String(64), nullable=False),
    Column("client_id", String(256)),
    Column("labels", JSON, nullable=False),
    Column("reply_to", JSON, nullable=False),
    Column("to", JSON, nullable=False),
    Column("cc", JSON, nullable=False),
    Column("bcc", JSON, nullable=False),
    Column("subject", Text),
    Column("preview", Text),
    Column("text", Text),
    Column("html", Text),
    Column("in_reply_to", Text),
    Column("forward_of", Text),
    Column("references", JSON, nullable=False),
    Column("send_status", String(16)),
    Column("send_at", UtcDateTime),
    Column("sending_since", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("inbox_id", "client_id"),
    Index("ix_drafts_inbox_updated", "inbox_id", "updated_at", "draft_id"),
    Index("ix_drafts_pod_updated", "pod_id", "updated_at", "draft_id"),
    Index("ix_drafts_org_updated", "organization_id", "updated_at", "draft_id"),
    Index("ix_drafts_send_at", "send_at"),
)

draft_labels = Table(
    "draft_labels",
    metadata,
    Column("draft_id", String(64), ForeignKey("drafts.draft_id", ondelete="CASCADE"), primary_key=True),
    Column("label", String(256), primary_key=True),
    Index("ix_draft_labels_label", "label", "draft_id"),
)

draft_attachments = Table(
    "draft_attachments",
    metadata,
    Column("attachment_id", String(64), primary_key=True),
    Column("draft_id", String(64), ForeignKey("drafts.draft_id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("filename", Text),
    Column("content_type", String(256)),
    Column("content_disposition", String(16)),
    Column("content_id", Text),
    Column("blob_key", String(1024), nullable=False),
    Index("ix_draft_attachments_draft", "draft_id", "position"),
)

# Custom domains (spec §3.9): one row per name, with its own DKIM key and the state of its DNS verification. The
# checker claims due rows by setting check_lease_until, so several processes share the checking.
custom_domains = Table(
    "custom_domains",
    metadata,
    Column("domain_id", String(253), primary_key=True),
    Column(
        "organization_id",
        String(64),
        ForeignKey("organizations.organization_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("pod_id", String(64), ForeignKey("pods.pod_id", ondelete="RESTRICT")),
    Column("feedback_enabled", Boolean, nullable=False),
    Column("inbound_enabled", Boolean, nullable=False),
    Column("subdomains_enabled", Boolean, nullable=False),
    Column("tracking_enabled", Boolean, nullable=False),
    Column("client_id", String(256)),
    Column("status", String(16), nullable=False),
    Column("reason", String(64)),
    Column("records", JSON, nullable=False),
    Column("dkim_selector", String(63), nullable=False),
    Column("dkim_private_pem", LargeBinary, nullable=False),
    Column("dkim_txt", Text, nullable=False),
    Column("verified_at", UtcDateTime),
    Column("checking_since", UtcDateTime, nullable=False),
    Column("next_check_at", UtcDateTime),
    Column("check_lease_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("organization_id", "client_id"),
    Index("ix_custom_domains_org_created", "organization_id", "created_at", "domain_id"),
    Index("ix_custom_domains_pod", "pod_id"),
    Index("ix_custom_domains_next_check", "next_check_at"),
)

# Shared request budgets (``PostgresRateLimits``): one GCRA arrival time (epoch seconds) per key. UNLOGGED on
# PostgreSQL: losing them in a crash only resets the budgets.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("arrival", Float, nullable=False),
)

# Counters behind the Metrics API (spec §3.13), kept in the transaction of each change: per scope ("o:", "p:" or
# "i:" and the id), metric (an event type, a usage type or a recipient count), grain (60 or 3600 s) and cell (epoch
# seconds of the cell's start). Usage rows hold changes; a running total is the sum of the cells before a time.
metric_rollups = Table(
    "metric_rollups",
    metadata,
    Column("scope_key", String(330), nullable=False),
    Column("metric", String(48), nullable=False),
    Column("grain", Integer, nullable=False),
    Column("cell", BigInteger, nullable=False),
    Column("value", BigInteger, nullable=False),
    # PostgreSQL answers a range of cells from the key's index alone (an index-only scan, no heap page per cell).
    PrimaryKeyConstraint("scope_key", "metric", "grain", "cell", postgresql_include=["value"]),
    # SQLite keeps rows in key order then: a range of cells is read in one sweep, not row by row through an index.
    sqlite_with_rowid=False,
)
# Retention finds old minute rows (grain 60) by their cell without scanning the table; hour rows stay out of it.
Index(
    "ix_metric_minutes",
    metric_rollups.c.cell,
    postgresql_where=metric_rollups.c.grain == 60,
    sqlite_where=metric_rollups.c.grain == 60,
)
