"""Secrets never reach a log line: the redaction filter on message, arguments and tracebacks (issue 15, item 2)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from uvicorn.logging import AccessFormatter

from postroom.config import Settings
from postroom.redaction import RedactingFilter, redact
from tests.support.log_secrets import Ledger

KEY = "pr_GDXWc2a5SyXZcBougpXtYgvtlnbNK9egBgk4l8v0"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = "eyJrIjoiYmxvYnMvYWJjIn0.c2lnbmF0dXJlX29mX3RoZV9ncmFudA"


@pytest.fixture
def stream() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactingFilter(["s3cr3t-from-settings"]))
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, buffer
    logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (f'127.0.0.1:5000 - "WebSocket /v0?api_key={KEY}" [accepted]', '"WebSocket /v0?api_key=[redacted]"'),
        ('"WebSocket /v0?api_key=pr_not-a-real-key-at-all" 403', "api_key=[redacted]"),
        (f"GET /downloads/{TOKEN} 200", "/downloads/[redacted] 200"),
        (f"webhook secret {WEBHOOK_SECRET}", "webhook secret whsec_[redacted]"),
        ("relay smtp://mailer:hunter2-relay@smtp.example.org:587", "smtp://mailer:[redacted]@smtp.example.org:587"),
        (f"Authorization: Bearer {KEY}", "Authorization: Bearer [redacted]"),
        ("https://bucket.s3/x?X-Amz-Signature=abcdef0123&X-Amz-Expires=60", "X-Amz-Signature=[redacted]&X-Amz-Expires"),
    ],
)
def test_each_secret_shape_is_redacted(line: str, kept: str) -> None:
    cleaned = redact(line)
    assert kept in cleaned
    for secret in (KEY, WEBHOOK_SECRET, TOKEN, "hunter2-relay", "pr_not-a-real-key-at-all", "abcdef0123"):
        assert secret not in cleaned


def test_ordinary_lines_are_untouched() -> None:
    line = 'GET /v0/inboxes/agent@postroom.localhost/messages?limit=10 200 key_01j "prefix": "pr_GDXW"'
    assert redact(line) == line


def test_arguments_message_and_traceback_are_redacted(stream: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = stream
    logger.info('%s - "WebSocket %s" [accepted]', ("127.0.0.1", 5000), f"/v0?api_key={KEY}")
    logger.info(f"configured with s3cr3t-from-settings and {WEBHOOK_SECRET}")
    try:
        raise ValueError(f"cannot fetch http://127.0.0.1/downloads/{TOKEN}?api_key={KEY}")
    except ValueError:
        logger.exception("unhandled error")
    text = buffer.getvalue()
    for secret in (KEY, WEBHOOK_SECRET, TOKEN, "s3cr3t-from-settings"):
        assert secret not in text
    assert "api_key=[redacted]" in text
    assert "ValueError: cannot fetch http://127.0.0.1/downloads/[redacted]" in text


def test_uvicorn_access_lines_keep_their_format() -> None:
    """uvicorn's access formatter reads five positional arguments; redaction must leave them positional."""
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", f"/downloads/{TOKEN}", "1.1", 200),
        None,
    )
    assert RedactingFilter().filter(record)
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s", use_colors=False).format(record)
    assert "GET /downloads/[redacted] HTTP/1.1" in line
    assert TOKEN not in line


def test_settings_name_their_secrets() -> None:
    settings = Settings(
        relay_url="smtp://mailer:relay-pass-123@127.0.0.1:2600",
        rspamd_password="rspamd-pass-456",
        database_url="postgresql://postgres:db-pass-789@127.0.0.1:5432/postroom",
        _env_file=None,  # type: ignore[call-arg]
    )
    assert set(settings.secret_values()) == {"relay-pass-123", "rspamd-pass-456", "db-pass-789"}


def test_the_log_grep_finds_collected_secrets_and_secret_shapes() -> None:
    ledger = Ledger()
    ledger.collect(
        f'{{"api_key": "{KEY}", "secret": "{WEBHOOK_SECRET}", "download_url": "http://h/downloads/{TOKEN}"}}'
    )
    assert {KEY, WEBHOOK_SECRET, TOKEN} <= ledger.secrets
    log = "\n".join(
        [
            f"POSTROOM_API_KEY={KEY}",  # printed once on purpose at first start: not a log line
            "GET /downloads/[redacted] 200",
            "webhook whsec_[redacted] pr_[redacted]",
            f"error for token {TOKEN}",
            "key pr_AnotherKeyNobodyCollected1234",
        ]
    )
    assert [line.split(": ", 1)[0] for line in ledger.findings("log", log)] == ["log:4", "log:5"]
