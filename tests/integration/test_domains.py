"""Custom domains on both databases against a real authoritative DNS server on loopback: verification, the
background checker (time moved by the test clock), domain.verified events, and what a domain's state means for its
inboxes (create, send, receive)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postroom.dns.resolver import DnsResolver, parse_dns_servers
from postroom.domain.events import DOMAIN_VERIFIED
from postroom.domain.subscriptions import for_principal
from postroom.errors import NotFound
from postroom.events import payloads
from postroom.runtime import Runtime, build
from postroom.services.mail.receive import FromInbox, InboundMessage
from postroom.storage.tables import outbox
from tests.conftest import make_settings
from tests.support.clock import TestClock
from tests.support.dns_server import DnsTestServer, dns_test_server

LOCAL = FromInbox("colleague@postroom.localhost")  # mail from an inbox here: authenticated by construction

MAIL_HOST = "mx.postroom.test"
DOMAIN = "example.test"


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsTestServer]:
    with dns_test_server() as server:
        yield server


@pytest.fixture
def zone(dns_server: DnsTestServer) -> DnsTestServer:
    dns_server.clear()
    return dns_server


@pytest.fixture
def frozen() -> TestClock:
    return TestClock(frozen=True)


@pytest.fixture
def domains_runtime(database_url: str, tmp_path: Path, zone: DnsTestServer, frozen: TestClock) -> Iterator[Runtime]:
    settings = make_settings(
        database_url, tmp_path, dns_servers=zone.address, mail_host=MAIL_HOST, allow_private_urls=True
    )
    runtime = build(settings, migrate=False, clock=frozen)
    yield runtime
    runtime.close()


@pytest.fixture
def api(domains_runtime: Runtime) -> Iterator[TestClient]:
    assert domains_runtime.bootstrap.api_key is not None
    with TestClient(domains_runtime.api(), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {domains_runtime.bootstrap.api_key}"
        yield client


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def publish(api: TestClient, zone: DnsTestServer, name: str = DOMAIN) -> str:
    text = api.get(f"/v0/domains/{name}/zone-file")
    assert text.status_code == 200, text.text
    assert text.headers["content-type"].startswith("text/plain")
    zone.publish_zone(text.text, name)
    return text.text


def records_by_purpose(domain: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(record["type"], record["name"]): record for record in domain["records"]}


def verified_events(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(outbox).where(outbox.c.event_type == DOMAIN_VERIFIED)).mappings()
        return [dict(row) for row in rows]


def test_published_records_verify_and_emit_domain_verified_once(
    api: TestClient, zone: DnsTestServer, domains_runtime: Runtime
) -> None:
    created = ok(api.post("/v0/domains", json={"domain": "Example.TEST."}))
    assert (created["domain_id"], created["domain"], created["status"]) == (DOMAIN, DOMAIN, "NOT_STARTED")
    assert {record["status"] for record in created["records"]} == {"MISSING"}
    assert (created["feedback_enabled"], created["inbound_enabled"], created["subdomains_enabled"]) == (
        True,
        True,
        False,
    )
    publish(api, zone)
    ok(api.post(f"/v0/domains/{DOMAIN}/verify"))
    domain = ok(api.get(f"/v0/domains/{DOMAIN}"))
    assert domain["status"] == "VERIFIED"
    assert "reason" not in domain
    assert {record["status"] for record in domain["records"]} == {"VALID"}
    assert records_by_purpose(domain)[("MX", f"bounces.{DOMAIN}")]["value"] == MAIL_HOST
    assert records_by_purpose(domain)[("TXT", f"bounces.{DOMAIN}")]["value"] == f"v=spf1 a:{MAIL_HOST} ~all"
    ok(api.post(f"/v0/domains/{DOMAIN}/verify"))  # still VERIFIED: no second event
    [event] = verified_events(domains_runtime)
    assert (event["inbox_id"], event["message_row_id"], event["pod_id"]) == (None, None, None)
    assert event["data"] == {"domain_id": DOMAIN}
    view = domains_runtime.services.dispatch.domain_of(
        next(e for e, _ in domains_runtime.services.dispatch.events([event["event_id"]]))
    )
    assert view is not None
    assert view.domain.domain_id == DOMAIN


def test_a_wrong_dkim_key_is_invalid_with_value_mismatch(api: TestClient, zone: DnsTestServer) -> None:
    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    text = publish(api, zone)
    dkim_name = f"postroom._domainkey.{DOMAIN}"
    zone.remove(dkim_name, "TXT")
    zone.publish(dkim_name, "TXT", "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwrong")
    assert "_domainkey" in text
    domain = ok(api.post(f"/v0/domains/{DOMAIN}/verify"))
    assert (domain["status"], domain["reason"]) == ("INVALID", "dns_records_invalid")
    dkim = records_by_purpose(domain)[("TXT", dkim_name)]
    assert (dkim["status"], dkim["reason"]) == ("INVALID", "value_mismatch")
    assert {r["status"] for r in domain["records"] if r["name"] != dkim_name} == {"VALID"}


def test_nothing_published_is_pending_with_records_missing(api: TestClient, zone: DnsTestServer) -> None:
    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    domain = ok(api.post(f"/v0/domains/{DOMAIN}/verify"))
    assert (domain["status"], domain["reason"]) == ("PENDING", "dns_records_missing")
    assert {(r["status"], r.get("reason")) for r in domain["records"]} == {("MISSING", None)}
    assert (f"bounces.{DOMAIN}", "TXT") in zone.queries


def test_two_spf_records_are_duplicate_records(api: TestClient, zone: DnsTestServer) -> None:
    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    publish(api, zone)
    zone.publish(f"bounces.{DOMAIN}", "TXT", "v=spf1 include:_spf.elsewhere.test ~all")
    domain = ok(api.post(f"/v0/domains/{DOMAIN}/verify"))
    spf = records_by_purpose(domain)[("TXT", f"bounces.{DOMAIN}")]
    assert (spf["status"], spf["reason"]) == ("INVALID", "duplicate_records")
    assert domain["status"] == "INVALID"


def test_a_subdomain_without_dmarc_of_its_own_takes_the_organizational_one(
    api: TestClient, zone: DnsTestServer
) -> None:
    ok(api.post("/v0/domains", json={"domain": f"mail.{DOMAIN}"}))
    publish(api, zone, f"mail.{DOMAIN}")
    zone.remove(f"_dmarc.mail.{DOMAIN}")
    zone.publish(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=reject")
    assert ok(api.post(f"/v0/domains/mail.{DOMAIN}/verify"))["status"] == "VERIFIED"


def test_a_dns_outage_changes_nothing(api: TestClient, zone: DnsTestServer) -> None:
    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    publish(api, zone)
    zone.fail(f"_dmarc.{DOMAIN}")
    body = ok(api.post(f"/v0/domains/{DOMAIN}/verify"), 503)
    assert body["code"] == "service_unavailable"
    assert ok(api.get(f"/v0/domains/{DOMAIN}"))["status"] == "NOT_STARTED"


def inbox(api: TestClient, username: str, domain: str, status: int = 200, pod: str | None = None) -> Any:
    path = f"/v0/pods/{pod}/inboxes" if pod else "/v0/inboxes"
    return ok(api.post(path, json={"username": username, "domain": domain}), status)


def raw_mail(to: str, n: int) -> bytes:
    return (
        f"From: a@example.net\r\nTo: {to}\r\nSubject: s{n}\r\nMessage-ID: <m{n}@example.net>\r\n\r\nbody\r\n".encode()
    )


def test_inboxes_live_on_verified_domains_and_their_subdomains_only(
    api: TestClient, zone: DnsTestServer, domains_runtime: Runtime
) -> None:
    refused = inbox(api, "support", DOMAIN, 422)
    assert refused["code"] == "unprocessable"
    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    refused = inbox(api, "support", DOMAIN, 422)
    assert "verify" in refused["fix"]
    publish(api, zone)
    ok(api.post(f"/v0/domains/{DOMAIN}/verify"))
    support = inbox(api, "support", DOMAIN)
    assert support["inbox_id"] == f"support@{DOMAIN}"
    assert "subdomains_enabled" in inbox(api, "agent7", f"eu.{DOMAIN}", 422)["fix"]
    updated = ok(api.patch(f"/v0/domains/{DOMAIN}", json={"subdomains_enabled": True}))
    assert updated["status"] == "PENDING"  # the wildcard MX is new: sending goes on, new inboxes wait
    assert records_by_purpose(updated)[("MX", f"*.{DOMAIN}")]["status"] == "MISSING"
    inbox(api, "agent7", f"eu.{DOMAIN}", 422)
    assert domains_runtime.services.receive.accept_recipient(f"support@{DOMAIN}") == f"support@{DOMAIN}"
    zone.publish(f"*.{DOMAIN}", "MX", MAIL_HOST, priority=10)
    assert ok(api.post(f"/v0/domains/{DOMAIN}/verify"))["status"] == "VERIFIED"
    assert len(verified_events(domains_runtime)) == 2
    agent = inbox(api, "agent7", f"eu.{DOMAIN}")
    receive = domains_runtime.services.receive
    assert receive.accept_recipient(f"Agent7+tag@EU.{DOMAIN}") == agent["inbox_id"]
    stored = receive.store(InboundMessage(raw_mail(agent["inbox_id"], 1), "a@example.net", [agent["inbox_id"]], LOCAL))
    assert len(stored) == 1


def test_deleting_a_domain_stops_its_inboxes_until_it_is_back_and_verified(
    api: TestClient, zone: DnsTestServer, domains_runtime: Runtime
) -> None:
    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    publish(api, zone)
    ok(api.post(f"/v0/domains/{DOMAIN}/verify"))
    address = inbox(api, "support", DOMAIN)["inbox_id"]
    receive = domains_runtime.services.receive
    receive.store(InboundMessage(raw_mail(address, 1), "a@example.net", [address], LOCAL))
    send = {"to": "someone@example.net", "subject": "hi", "text": "hello"}
    ok(api.post(f"/v0/inboxes/{address}/messages/send", json=send))
    ok(api.delete(f"/v0/domains/{DOMAIN}"), 204)
    with pytest.raises(NotFound):
        receive.accept_recipient(address)
    refused = ok(api.post(f"/v0/inboxes/{address}/messages/send", json=send), 403)
    assert refused["code"] == "message_rejected"
    assert ok(api.get(f"/v0/inboxes/{address}/messages"))["count"] == 2  # the mail stays
    assert ok(api.get(f"/v0/domains/{DOMAIN}"), 404)["code"] == "not_found"
    readded = ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    assert readded["status"] == "NOT_STARTED"
    with pytest.raises(NotFound):
        receive.accept_recipient(address)  # a new key: nothing flows until it is published and verified
    zone.clear()
    publish(api, zone)
    ok(api.post(f"/v0/domains/{DOMAIN}/verify"))
    assert receive.accept_recipient(address) == address
    ok(api.post(f"/v0/inboxes/{address}/messages/send", json=send))


def test_a_removed_record_sends_the_domain_back_to_pending_without_stopping_mail(
    api: TestClient, zone: DnsTestServer, domains_runtime: Runtime, frozen: TestClock
) -> None:
    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    publish(api, zone)
    ok(api.post(f"/v0/domains/{DOMAIN}/verify"))
    address = inbox(api, "support", DOMAIN)["inbox_id"]
    zone.remove(f"_dmarc.{DOMAIN}")
    checker = domains_runtime.services.domain_checks
    frozen.advance(hours=23)
    assert checker.check_due(10) == 0  # VERIFIED domains are re-checked daily
    frozen.advance(hours=1, seconds=1)
    assert checker.check_due(10) == 1
    domain = ok(api.get(f"/v0/domains/{DOMAIN}"))
    assert (domain["status"], domain["reason"]) == ("PENDING", "dns_records_missing")
    assert records_by_purpose(domain)[("TXT", f"_dmarc.{DOMAIN}")]["status"] == "MISSING"
    assert domains_runtime.services.receive.accept_recipient(address) == address
    ok(api.post(f"/v0/inboxes/{address}/messages/send", json={"to": "x@example.net", "text": "still flowing"}))
    assert inbox(api, "another", DOMAIN, 422)["code"] == "unprocessable"
    zone.publish(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=none")
    frozen.advance(minutes=1, seconds=1)  # back to frequent checks after the regression
    assert checker.check_due(10) == 1
    assert ok(api.get(f"/v0/domains/{DOMAIN}"))["status"] == "VERIFIED"
    assert len(verified_events(domains_runtime)) == 2


def next_check_at(runtime: Runtime) -> datetime | None:
    with runtime.factory() as uow:
        domain = uow.custom_domains.get(DOMAIN)
    assert domain is not None
    return domain.next_check_at


def test_the_checker_starts_soon_backs_off_and_fails_after_72_hours(
    api: TestClient, zone: DnsTestServer, domains_runtime: Runtime, frozen: TestClock
) -> None:
    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    checker = domains_runtime.services.domain_checks
    assert checker.check_due(10) == 0
    frozen.advance(seconds=61)
    assert checker.check_due(10) == 1
    assert checker.check_due(10) == 0  # the next check is a minute away
    assert ok(api.get(f"/v0/domains/{DOMAIN}"))["status"] == "PENDING"
    created = frozen.now()
    gaps = []
    for _ in range(200):
        due = next_check_at(domains_runtime)
        if due is None:
            break
        gaps.append(due - frozen.now())
        frozen.advance(seconds=(due - frozen.now()).total_seconds() + 1)
        assert checker.check_due(10) == 1
    assert ok(api.get(f"/v0/domains/{DOMAIN}"))["status"] == "FAILED"
    assert frozen.now() - created > timedelta(hours=72)
    assert gaps[0] < timedelta(minutes=2)
    assert max(gaps) == timedelta(hours=1)  # minutes apart at first, then hourly
    assert 70 < len(gaps) < 150
    frozen.advance(days=3)
    assert checker.check_due(10) == 0  # never verified and FAILED: no more checks until someone asks
    changed = ok(api.patch(f"/v0/domains/{DOMAIN}", json={"subdomains_enabled": True}))
    assert changed["status"] == "PENDING"  # a change of settings opens a new window of checks
    frozen.advance(seconds=61)
    assert checker.check_due(10) == 1
    assert ok(api.get(f"/v0/domains/{DOMAIN}"))["status"] == "PENDING"
    publish(api, zone)
    assert ok(api.post(f"/v0/domains/{DOMAIN}/verify"))["status"] == "VERIFIED"


def test_the_checker_verifies_in_the_background_and_a_dns_outage_postpones(
    api: TestClient, zone: DnsTestServer, domains_runtime: Runtime, frozen: TestClock
) -> None:
    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    publish(api, zone)
    zone.drop(f"bounces.{DOMAIN}")
    checker = domains_runtime.services.domain_checks
    frozen.advance(minutes=2)
    assert checker.check_due(10) == 1
    assert ok(api.get(f"/v0/domains/{DOMAIN}"))["status"] == "NOT_STARTED"  # nothing known: nothing changed
    zone.clear()
    publish(api, zone)
    assert checker.check_due(10) == 0  # postponed, not retried at once
    frozen.advance(minutes=2)
    assert checker.check_due(10) == 1
    assert ok(api.get(f"/v0/domains/{DOMAIN}"))["status"] == "VERIFIED"
    assert len(verified_events(domains_runtime)) == 1


def test_two_checkers_never_check_the_same_domain_at_once(
    api: TestClient, zone: DnsTestServer, domains_runtime: Runtime, frozen: TestClock
) -> None:
    for n in range(3):
        ok(api.post("/v0/domains", json={"domain": f"d{n}.{DOMAIN}"}))
    frozen.advance(minutes=2)
    now = frozen.now()
    with domains_runtime.factory(write=True) as uow:
        first = uow.custom_domains.claim_due(now, now.replace(year=now.year + 1), 2)
        uow.commit()
    with domains_runtime.factory(write=True) as uow:
        second = uow.custom_domains.claim_due(now, now.replace(year=now.year + 1), 10)
        uow.commit()
    assert len(first) == 2
    assert len(second) == 1
    assert {d.domain_id for d in first}.isdisjoint(d.domain_id for d in second)


def test_conflicting_google_workspace_mx_needs_the_explicit_flag(api: TestClient, zone: DnsTestServer) -> None:
    zone.publish(DOMAIN, "MX", "aspmx.l.google.com", priority=1)
    assert ok(api.post("/v0/domains", json={"domain": DOMAIN}), 422)["code"] == "conflicting_provider"
    send_only = ok(api.post("/v0/domains", json={"domain": DOMAIN, "inbound_enabled": False}))
    assert [r["name"] for r in send_only["records"] if r["type"] == "MX"] == [f"bounces.{DOMAIN}"]
    ok(api.delete(f"/v0/domains/{DOMAIN}"), 204)
    ok(api.post("/v0/domains", json={"domain": DOMAIN, "allow_conflicting_provider": True}))


def test_sending_from_a_custom_domain_signs_with_its_key_and_bounces_to_its_host(
    api: TestClient, zone: DnsTestServer, domains_runtime: Runtime
) -> None:
    import dkim

    ok(api.post("/v0/domains", json={"domain": DOMAIN}))
    publish(api, zone)
    ok(api.post(f"/v0/domains/{DOMAIN}/verify"))
    address = inbox(api, "support", DOMAIN)["inbox_id"]
    sent = ok(api.post(f"/v0/inboxes/{address}/messages/send", json={"to": "x@example.net", "text": "signed"}))
    outbound = domains_runtime.services.outbound
    [job] = outbound.claim(10)
    raw = outbound.prepare(job).raw
    assert raw is not None
    assert job.mail_from.endswith(f"@bounces.{DOMAIN}")
    assert domains_runtime.services.receive.returned_message(job.mail_from) == job.row_id
    assert b"d=example.test" in raw.split(b"\r\n\r\n")[0].replace(b"\r\n", b"")

    resolver = DnsResolver(parse_dns_servers(zone.address))

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        found = resolver.lookup(name.decode().rstrip("."), "TXT")
        return found[0].encode() if found else None

    assert dkim.verify(raw, dnsfunc=dnsfunc)
    assert sent["message_id"].endswith(f"@{DOMAIN}>")


def test_domain_verified_reaches_the_webhooks_and_sockets_whose_scope_covers_the_domain(
    api: TestClient, zone: DnsTestServer, domains_runtime: Runtime
) -> None:
    pod_a = ok(api.post("/v0/pods", json={"name": "a"}))["pod_id"]
    pod_b = ok(api.post("/v0/pods", json={"name": "b"}))["pod_id"]
    address = inbox(api, "watcher", "postroom.localhost", pod=pod_a)["inbox_id"]
    hook = {"url": "http://127.0.0.1:9/hook", "event_types": ["domain.verified"]}
    hooks = {
        "org": ok(api.post("/v0/webhooks", json=hook)),
        "org_messages_only": ok(api.post("/v0/webhooks", json={**hook, "event_types": ["message.received"]})),
        "pod_a": ok(api.post(f"/v0/pods/{pod_a}/webhooks", json=hook)),
        "pod_b": ok(api.post(f"/v0/pods/{pod_b}/webhooks", json=hook)),
        "inbox": ok(api.post(f"/v0/inboxes/{address}/webhooks", json=hook)),
    }
    ok(api.post(f"/v0/pods/{pod_a}/domains", json={"domain": DOMAIN}))
    ok(api.post("/v0/domains", json={"domain": "org-wide.test"}))
    for name in (DOMAIN, "org-wide.test"):
        publish(api, zone, name)
        ok(api.post(f"/v0/domains/{name}/verify"))
    dispatch = domains_runtime.services.dispatch
    events = dispatch.claim_events(10)
    assert [event.event_type for event in events] == [DOMAIN_VERIFIED, DOMAIN_VERIFIED]
    rendered = []
    for event in events:
        view = dispatch.domain_of(event)
        assert view is not None
        rendered.append((event, payloads.domain_verified(event, view)))
    dispatch.dispatch(rendered)
    got = {
        name: sorted(d.event_id for d in dispatch.webhook_deliveries(webhook["webhook_id"]))
        for name, webhook in hooks.items()
    }
    pod_event, org_event = events
    assert pod_event.pod_id == pod_a
    assert org_event.pod_id is None
    assert got == {
        "org": sorted([pod_event.event_id, org_event.event_id]),
        "org_messages_only": [],
        "pod_a": [pod_event.event_id],
        "pod_b": [],
        "inbox": [],
    }
    body = json.loads(rendered[0][1])
    assert (body["type"], body["event_type"], body["event_id"]) == ("event", "domain.verified", pod_event.event_id)
    assert (body["domain"]["domain_id"], body["domain"]["status"], body["domain"]["pod_id"]) == (
        DOMAIN,
        "VERIFIED",
        pod_a,
    )
    access = domains_runtime.services.access
    pod_key = ok(api.post(f"/v0/pods/{pod_a}/api-keys", json={"name": "a"}))["api_key"]
    socket_a = for_principal(access.authenticate(f"Bearer {pod_key}"), ["domain.verified"], [], [])
    socket_org = for_principal(access.authenticate(api.headers["Authorization"]), [], [], [])
    assert socket_a.wants(pod_event)
    assert not socket_a.wants(org_event)
    assert socket_org.wants(pod_event)
    assert socket_org.wants(org_event)
