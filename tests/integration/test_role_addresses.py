"""postmaster@ and abuse@ every hosted domain reach the operator's inbox (RFC 5321 §4.5.1, RFC 2142), on both databases.

Hosted means the default domain, or a custom domain that is verified and receives mail; any other domain is still
refused (no relay). The inbox is created on first start, or named by POSTROOM_POSTMASTER_INBOX.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from postroom.domain.outbound import OutboundJob
from postroom.errors import NotFound
from postroom.runtime import Runtime, build
from tests.conftest import make_settings
from tests.integration.test_smtp_limits import options, with_smtp
from tests.support.clock import TestClock
from tests.support.dns_server import DnsTestServer, dns_test_server
from tests.support.sender_dns import SPF_LOOPBACK

MAIL_HOST = "mx.postroom.test"
DOMAIN = "roles.test"


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsTestServer]:
    with dns_test_server() as server:
        yield server


def start(database_url: str, data_dir: Path, zone: DnsTestServer, **overrides: Any) -> Runtime:
    settings = make_settings(
        database_url, data_dir, dns_servers=zone.address, mail_host=MAIL_HOST, allow_private_urls=True, **overrides
    )
    return build(settings, migrate=False, clock=TestClock(frozen=True))


@pytest.fixture
def roles_runtime(database_url: str, tmp_path: Path, dns_server: DnsTestServer) -> Iterator[Runtime]:
    dns_server.clear()
    runtime = start(database_url, tmp_path, dns_server)
    runtime.ensure_postmaster_inbox()  # what `postroom serve` does on start
    yield runtime
    runtime.close()


@pytest.fixture
def api(roles_runtime: Runtime) -> Iterator[TestClient]:
    assert roles_runtime.bootstrap.api_key is not None
    with TestClient(roles_runtime.api(), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {roles_runtime.bootstrap.api_key}"
        yield client


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def refused(runtime: Runtime, recipient: str) -> bool:
    try:
        runtime.services.receive.accept_recipient(recipient)
    except NotFound:
        return True
    return False


def test_role_addresses_of_the_default_domain_reach_the_postmaster_inbox_created_on_start(
    roles_runtime: Runtime, api: TestClient
) -> None:
    default = roles_runtime.settings.default_domain
    postmaster = f"postmaster@{default}"
    assert ok(api.get(f"/v0/inboxes/{postmaster}"))["display_name"] == "Postmaster"
    roles_runtime.ensure_postmaster_inbox()  # a second start changes nothing
    accept = roles_runtime.services.receive.accept_recipient
    for recipient in (
        postmaster,
        f"<PostMaster@{default.upper()}>",
        f"abuse@{default}",
        f"Abuse+reports@{default}",
        "Postmaster",
        "<postmaster>",
    ):
        assert accept(recipient) == postmaster, recipient
    assert refused(roles_runtime, "postmaster@elsewhere.example")  # never a relay
    assert refused(roles_runtime, "abuse")  # only postmaster may come without a domain
    assert refused(roles_runtime, f"hostmaster@{default}")


def test_role_addresses_of_custom_domains_count_once_verified_and_receiving(
    roles_runtime: Runtime, api: TestClient, dns_server: DnsTestServer
) -> None:
    postmaster = f"postmaster@{roles_runtime.settings.default_domain}"
    assert refused(roles_runtime, f"postmaster@{DOMAIN}")
    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    assert refused(roles_runtime, f"postmaster@{DOMAIN}")  # added, not verified
    dns_server.publish_zone(api.get(f"/v0/domains/{DOMAIN}/zone-file").text, DOMAIN)
    assert ok(api.post(f"/v0/domains/{DOMAIN}/verify"))["status"] == "VERIFIED"
    # A tenant's own inbox at a role address does not take the operator's mail.
    ok(api.post("/v0/inboxes", json={"username": "abuse", "domain": DOMAIN}))
    accept = roles_runtime.services.receive.accept_recipient
    assert accept(f"postmaster@{DOMAIN}") == postmaster
    assert accept(f"ABUSE@{DOMAIN.upper()}") == postmaster
    assert refused(roles_runtime, f"postmaster@sub.{DOMAIN}")  # subdomains are not enabled
    ok(api.patch(f"/v0/domains/{DOMAIN}", json={"inbound_enabled": False}))
    assert refused(roles_runtime, f"postmaster@{DOMAIN}")


def test_role_mail_over_smtp_is_stored_in_the_postmaster_inbox(
    roles_runtime: Runtime, api: TestClient, dns_server: DnsTestServer
) -> None:
    dns_server.publish("example.org", "TXT", SPF_LOOPBACK)  # the sender passes SPF: its mail is not held back
    default = roles_runtime.settings.default_domain
    postmaster = f"postmaster@{default}"

    def talk(port: int) -> tuple[int, int, int]:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.ehlo("client.example.org")
            smtp.mail("ann@example.org")
            bare = smtp.rcpt("Postmaster")[0]
            abuse = smtp.rcpt(f"ABUSE@{default}")[0]
            body = f"From: ann@example.org\r\nTo: abuse@{default}\r\nSubject: spam report\r\n\r\nSee attached.\r\n"
            return bare, abuse, smtp.data(body.encode())[0]

    assert with_smtp(roles_runtime, options(), talk) == (250, 250, 250)
    [message] = ok(api.get(f"/v0/inboxes/{postmaster}/messages"))["messages"]
    assert message["subject"] == "spam report"  # stored once, though two role addresses named the inbox


def test_local_delivery_to_a_role_address_reaches_the_postmaster_inbox(roles_runtime: Runtime, api: TestClient) -> None:
    default = roles_runtime.settings.default_domain
    sender = ok(api.post("/v0/inboxes", json={"username": "agent"}))
    now = datetime.now(UTC)
    organization = roles_runtime.bootstrap.organization_id
    recipients = [f"Abuse@{default}", f"nobody@{default}"]
    job = OutboundJob("job_r", "msg_r", sender["inbox_id"], organization, default, "b@x", recipients, 0, now, now, now)
    raw = f"From: {sender['inbox_id']}\r\nTo: abuse@{default}\r\nSubject: local report\r\n\r\nhi\r\n".encode()
    results = roles_runtime.services.outbound.deliver_locally(job, raw, job.recipients)
    assert [(result.address, result.outcome) for result in results] == [
        (f"Abuse@{default}", "delivered"),
        (f"nobody@{default}", "permanent"),
    ]
    [message] = ok(api.get(f"/v0/inboxes/postmaster@{default}/messages"))["messages"]
    assert message["subject"] == "local report"


def test_the_operator_names_the_postmaster_inbox(
    database_url: str, tmp_path: Path, dns_server: DnsTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = start(database_url, tmp_path / "named", dns_server, postmaster_inbox="Ops@Postroom.Localhost")
    try:
        runtime.ensure_postmaster_inbox()
        assert runtime.services.receive.accept_recipient("abuse@postroom.localhost") == "ops@postroom.localhost"
        assert refused(runtime, "postmaster@postroom.localhost") is False
    finally:
        runtime.close()
    elsewhere = start(database_url, tmp_path / "elsewhere", dns_server, postmaster_inbox="ops@unverified.test")
    try:
        with caplog.at_level(logging.WARNING, logger="postroom"):
            elsewhere.ensure_postmaster_inbox()
        assert "POSTROOM_POSTMASTER_INBOX ops@unverified.test" in caplog.text
        assert refused(elsewhere, "postmaster@postroom.localhost")
    finally:
        elsewhere.close()
