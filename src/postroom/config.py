"""Settings: every option Postroom reads, from ``POSTROOM_*`` environment variables, documented once here."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The README's settings table is generated from these fields (``postroom settings``)."""

    model_config = SettingsConfigDict(env_prefix="POSTROOM_", extra="ignore")

    data_dir: Path = Field(Path("./data"), description="Directory for the SQLite database and local files.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. Default: SQLite in the data dir.",
    )
    default_domain: str = Field(
        "postroom.localhost",
        description="Domain of generated inbox addresses; always usable without verification.",
    )
    postmaster_inbox: str | None = Field(
        None,
        description="Inbox that receives mail to postmaster@ and abuse@ every hosted domain (RFC 5321 §4.5.1, "
        "RFC 2142). Default: postmaster@<default domain>, created on first start.",
    )
    api_host: str = Field("127.0.0.1", description="Address the HTTP API listens on.")
    api_port: int = Field(8080, description="Port of the HTTP API.")
    smtp_host: str = Field("127.0.0.1", description="Address the inbound SMTP server listens on.")
    smtp_port: int = Field(2525, description="Port of the inbound SMTP server (25 when it is the MX).")
    smtp_hostname: str = Field("localhost", description="Name the SMTP server greets with (EHLO/banner).")
    smtp_max_message_bytes: int = Field(
        25 * 1024 * 1024, description="Largest accepted message, advertised in EHLO SIZE (552 above)."
    )
    smtp_max_recipients: int = Field(100, description="Recipients accepted per SMTP transaction (452 above).")
    smtp_idle_timeout_seconds: int = Field(300, description="An idle SMTP session is closed after this long.")
    smtp_max_session_seconds: int = Field(1800, description="Any SMTP session is closed (421) after this long.")
    smtp_max_line_bytes: int = Field(1000, description="Longest line accepted in DATA, CRLF included (500 above).")
    smtp_delivery_budget_bytes: int = Field(
        32 * 1024 * 1024,
        description="Bytes of received messages parsed and stored at once; more waits (bounds memory for big mail).",
    )
    smtp_tls_cert: Path | None = Field(None, description="PEM certificate for STARTTLS (with smtp_tls_key).")
    smtp_tls_key: Path | None = Field(None, description="PEM private key for STARTTLS.")
    smtp_trusted_relays: str | None = Field(
        None,
        description="Front relays (IPs or networks, comma-separated) whose mail is judged by the client named in "
        "the topmost Received header they added, and whose PROXY headers are believed.",
    )
    smtp_proxy_protocol: bool = Field(
        False,
        description="Every SMTP connection starts with a PROXY protocol header (v1 or v2) from a trusted relay; "
        "the client address it names is the connecting IP.",
    )
    rspamd_url: str | None = Field(
        None,
        description="rspamd's HTTP address (e.g. http://127.0.0.1:11333) for spam classification. Unset: no mail "
        "is classified as spam.",
    )
    rspamd_password: str | None = Field(None, description="Password rspamd asks for (sent as its Password header).")
    rspamd_timeout_seconds: float = Field(
        5.0, description="A message rspamd has not classified within this long is stored unclassified."
    )
    arc_trusted_sealers: str | None = Field(
        None,
        description="Forwarders (domains, comma-separated) whose valid ARC seal recording a DMARC pass stands in "
        "for a DMARC pass that forwarding broke (mailing lists, forwarding services).",
    )
    blob_url: str | None = Field(
        None, description="Where blobs live: unset = files under data_dir/blobs, file:///path, or s3://bucket/prefix."
    )
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (unset: AWS).")
    s3_region: str | None = Field(None, description="S3 region.")
    s3_access_key_id: str | None = Field(None, description="S3 access key id (unset: boto3's credential chain).")
    s3_secret_access_key: str | None = Field(None, description="S3 secret access key.")
    rate_limit_per_second: float = Field(50.0, description="Sustained requests per second per API key.")
    rate_limit_burst: int = Field(200, description="Requests per API key allowed in a burst.")
    redis_url: str | None = Field(
        None,
        description="redis://host:6379/0: keep the rate limits shared by every process in Redis (unset: in "
        "PostgreSQL when the database is PostgreSQL, else in this process).",
    )
    roles: str = Field(
        "api,smtp,worker,dispatcher",
        description="What this process runs (comma-separated): api (HTTP API, websockets), smtp (inbound MX), "
        "worker (delivery, scheduled drafts, domain checks, retention), dispatcher (outbox to webhooks). "
        "`serve --roles` wins.",
    )
    drain_seconds: float = Field(
        30.0,
        description="On SIGTERM, how long HTTP requests, SMTP messages in DATA and deliveries under way may take "
        "to finish before the process exits.",
    )
    auth_failures_per_minute: float = Field(
        6.0,
        description="Failed authentications per minute a client address regains (0 = no limit). Once an address has "
        "used its burst, its further failures answer `429` with `Retry-After`, before any key lookup; a key this "
        "process has seen authenticate keeps working from every address, that one included (after a restart, a key "
        "first used from a limited address waits for `Retry-After`). The address is the TCP peer, or the "
        "`X-Forwarded-For` client when the peer is a trusted proxy (uvicorn's `FORWARDED_ALLOW_IPS`, default "
        "`127.0.0.1`). The budget is kept where the per-key limit is, so every process shares it on PostgreSQL "
        "or Redis; the keys seen working are per process.",
    )
    auth_failure_burst: int = Field(
        30,
        description="Failed authentications (missing, malformed, unknown or expired keys, over HTTP and the "
        "websocket, at /mcp and through the console) a client address may make in a burst.",
    )
    max_request_bytes: int = Field(25 * 1024 * 1024, description="Largest accepted HTTP request body (413 above).")
    dkim_selector: str = Field("postroom", description="DKIM selector of the keys Postroom signs outgoing mail with.")
    mail_host: str | None = Field(
        None,
        description="This server's public host name: the MX records of every domain point at it and custom domains' "
        "SPF records name it, and outbound SMTP greets with it in EHLO (default: smtp_hostname, else "
        "mail.<default domain>).",
    )
    allow_non_fqdn_helo: bool = Field(
        False,
        description="Send mail although mail_host is not a fully-qualified name (e.g. localhost), which many "
        "receivers refuse in EHLO. Off: `serve` refuses to start sending with such a name.",
    )
    relay_url: str | None = Field(
        None,
        description="Send all outbound mail through this smarthost: smtp://user:pass@host:587 (STARTTLS), "
        "smtps://user:pass@host:465 (implicit TLS) or smtp+insecure://host:25. Unset: direct MX delivery.",
    )
    mx_overrides: str | None = Field(
        None, description="Development/test routes that beat DNS and the relay: example.org=127.0.0.1:2600,..."
    )
    mx_port: int = Field(25, description="Port used for direct MX delivery.")
    dns_servers: str | None = Field(
        None,
        description="Nameservers for every DNS lookup, comma-separated `ip` or `ip:port` (unset: the system's).",
    )
    dns_cache_max_seconds: float = Field(
        300.0,
        ge=0,
        description="Longest time an answer of the SPF, DKIM-key and DMARC lookups of received mail is reused (each "
        "kept for its TTL up to this; names without records are always asked again). 0: every message asks DNS.",
    )
    delivery_concurrency: int = Field(8, description="Delivery attempts in flight at once.")
    delivery_retry_base_seconds: float = Field(60.0, description="First retry delay after a temporary failure.")
    delivery_retry_max_seconds: float = Field(4 * 3600.0, description="Longest delay between two delivery attempts.")
    delivery_retry_window_seconds: float = Field(
        48 * 3600.0, description="How long temporary failures are retried before the recipient bounces."
    )
    delivery_lease_seconds: float = Field(
        600.0, description="A claimed delivery job is taken over by another worker after this long without a result."
    )
    delivery_timeout_seconds: float = Field(60.0, description="Timeout of each SMTP step when delivering out.")
    delivery_poll_seconds: float = Field(1.0, description="How often the delivery worker looks for due work anyway.")
    scheduled_draft_poll_seconds: float = Field(1.0, description="How often drafts whose send_at has passed are sent.")
    domain_check_poll_seconds: float = Field(
        15.0, description="How often the domain checker looks for custom domains whose DNS check is due."
    )
    allow_private_urls: bool = Field(
        False,
        description="Allow attachment and webhook URLs on private, loopback and link-local addresses "
        "(trusted networks only).",
    )
    attachment_fetch_max_bytes: int = Field(
        30 * 1024 * 1024, description="Total bytes fetched for attachments given by URL, per message."
    )
    attachment_fetch_timeout_seconds: float = Field(30.0, description="Time limit for fetching an attachment URL.")
    webhook_timeout_seconds: float = Field(10.0, description="A webhook POST not answered within this long failed.")
    webhook_retry_schedule: str = Field(
        "5,300,1800,7200,18000,36000,36000,36000",
        description="Seconds before each retry of a failed webhook delivery (±20 % jitter); then dead-lettered.",
    )
    webhook_disable_after_seconds: float = Field(
        5 * 24 * 3600.0, description="A webhook failing continuously for this long is disabled (enabled: false)."
    )
    dispatch_lease_seconds: float = Field(
        60.0, description="How long a dispatcher holds an event or delivery before another process may take it over."
    )
    run_dispatcher: bool = Field(
        True,
        description="Run the dispatcher role (outbox to webhooks) here; off is the same as leaving `dispatcher` "
        "out of POSTROOM_ROLES. API processes push websocket events either way.",
    )
    dispatch_poll_seconds: float = Field(1.0, description="Safety-net poll of the outbox when no wake-up arrives.")
    webhook_concurrency: int = Field(64, description="Webhook POSTs in flight at once per process.")
    websocket_queue_size: int = Field(
        1000, description="Events waiting for one websocket client; a client that falls further behind is dropped."
    )
    websocket_key_recheck_seconds: float = Field(
        60.0, description="How often an open websocket re-checks its API key (deleted or expired: closed with 1008)."
    )
    retention_poll_seconds: float = Field(300.0, description="How often the retention sweep deletes finished rows.")
    retention_batch_size: int = Field(
        500, description="Rows deleted per retention transaction (small batches keep ingest and sending unblocked)."
    )
    retention_events_days: float = Field(
        7.0,
        description="Dispatched outbox events are deleted this many days later, once no kept webhook "
        "delivery refers to them (0: kept forever).",
    )
    retention_webhook_deliveries_days: float = Field(
        7.0, description="Delivered webhook deliveries are deleted this many days after delivery (0: kept forever)."
    )
    retention_dead_letters_days: float = Field(
        30.0,
        description="Dead-lettered webhook deliveries are deleted this many days after they died (0: kept forever).",
    )
    retention_delivery_results_days: float = Field(
        30.0,
        description="Settled recipient results (delivered, bounced, rejected) of a sent message with no "
        "delivery job left are deleted this many days later; a bounce report arriving after that is ignored "
        "(0: kept forever).",
    )
    retention_minute_metrics_days: float = Field(
        121.0,
        description="Metric rollups at minute grain are deleted this many days after their minute; hour rollups are "
        "kept. The default is the oldest minute a Metrics API answer reads (90 days of history, a 30-day rate "
        "window, a 1-day period), so no answer changes; less makes older minute-precision answers count "
        "nothing (0: kept forever).",
    )
    retention_trash_days: float = Field(
        0.0,
        description="Messages labelled trash and unchanged for this many days are deleted with their blobs "
        "(0: off, trash is kept).",
    )
    api_key_cache_seconds: float = Field(
        1.0,
        ge=0,
        description="How long a process trusts an API key it read (other processes' revocations wait that long).",
    )
    search_timeout_seconds: float = Field(
        2.0, gt=0, description="Longest a search may hold the database; a search stopped there answers 503."
    )
    log_level: str = Field("info", description="Log level: debug, info, warning or error.")
    access_log: bool = Field(True, description="Write one structured JSON line per HTTP request.")
    prometheus_token: str | None = Field(
        None,
        description="Bearer token a Prometheus scrape of /metrics must send. Unset: /metrics is served openly only "
        "on a loopback API or on the separate metrics listener, and refused (401) on a public API.",
    )
    prometheus_port: int | None = Field(
        None, description="Serve /metrics on its own listener at this port instead of the API port."
    )
    prometheus_host: str = Field("127.0.0.1", description="Address the separate metrics listener binds to.")

    def retry_schedule(self) -> tuple[float, ...]:
        try:
            delays = tuple(float(part) for part in self.webhook_retry_schedule.split(",") if part.strip())
        except ValueError as error:
            raise ValueError("webhook_retry_schedule must be comma-separated seconds") from error
        if any(delay < 0 for delay in delays):
            raise ValueError("webhook_retry_schedule delays must not be negative")
        return delays

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'postroom.db').resolve()}"

    def s3_options(self) -> dict[str, str | None]:
        """The S3 connection settings, as the blob store factory takes them (unused for local files)."""
        return {
            "endpoint_url": self.s3_endpoint_url,
            "region": self.s3_region,
            "access_key_id": self.s3_access_key_id,
            "secret_access_key": self.s3_secret_access_key,
        }

    def secret_values(self) -> list[str]:
        """Configured secrets, kept out of every log line (``postroom.redaction``)."""
        values = [self.rspamd_password, self.s3_secret_access_key]
        for url in (self.relay_url, self.database_url):
            try:
                values.append(urlsplit(url).password if url else None)
            except ValueError:
                continue
        return [value for value in values if value]
