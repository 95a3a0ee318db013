"""The official SDK's domain calls at organization and pod scope (spec §3.9) against ``postroom serve`` on SQLite
and PostgreSQL, with a real DNS server on loopback: shapes, verification, zone files, scopes and errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import dns.zone
import pytest
from agentmail import AgentMail
from agentmail.domains import Domain
from agentmail.errors import NotFoundError, UnprocessableError, ValidationError
from agentmail.inboxes import CreateInboxRequest

from tests.conformance.conftest import environment
from tests.conformance.helpers import NO_RETRY, expect_error
from tests.support.dns_server import DnsTestServer, dns_test_server
from tests.support.receiver import running_receiver
from tests.support.server import ServerProcess, running_server

MAIL_HOST = "mx.postroom.test"
DEFAULT = "postroom.localhost"


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsTestServer]:
    with dns_test_server() as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def domains_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, dns_server: DnsTestServer
) -> Iterator[ServerProcess]:
    env = {
        "POSTROOM_DNS_SERVERS": dns_server.address,
        "POSTROOM_MAIL_HOST": MAIL_HOST,
        "POSTROOM_ALLOW_PRIVATE_URLS": "true",  # the webhook receiver is on loopback
    }
    with running_server(request.param, tmp_path_factory.mktemp(f"domains-{request.param}"), extra_env=env) as server:
        yield server


@pytest.fixture
def client(domains_server: ServerProcess) -> AgentMail:
    return AgentMail(api_key=domains_server.api_key, environment=environment(domains_server))


def name(prefix: str = "d") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}.test"


def zone_text(client: AgentMail, domain: str, pod_id: str | None = None) -> str:
    chunks = (
        client.pods.domains.get_zone_file(pod_id, domain, request_options=NO_RETRY)
        if pod_id
        else client.domains.get_zone_file(domain, request_options=NO_RETRY)
    )
    return b"".join(chunks).decode()


def publish(client: AgentMail, dns_server: DnsTestServer, domain: str, pod_id: str | None = None) -> None:
    dns_server.publish_zone(zone_text(client, domain, pod_id), domain)


def test_every_organization_domain_call(client: AgentMail, dns_server: DnsTestServer) -> None:
    domain = name()
    created = client.domains.create(domain=domain.upper() + ".", request_options=NO_RETRY)
    assert isinstance(created, Domain)
    assert (created.domain_id, created.domain, created.status, created.pod_id) == (domain, domain, "NOT_STARTED", None)
    assert (created.feedback_enabled, created.inbound_enabled, created.subdomains_enabled) == (True, True, False)
    assert created.tracking_enabled is False
    assert {(r.type, r.name) for r in created.records} == {
        ("MX", domain),
        ("MX", f"bounces.{domain}"),
        ("TXT", f"bounces.{domain}"),
        ("TXT", f"postroom._domainkey.{domain}"),
        ("TXT", f"_dmarc.{domain}"),
    }
    assert all(r.status == "MISSING" for r in created.records)
    assert next(r for r in created.records if r.type == "MX").priority == 10

    zone = dns.zone.from_text(zone_text(client, domain), check_origin=False)
    assert zone.origin.to_text() == f"{domain}."
    assert client.domains.verify(domain, request_options=NO_RETRY) is None
    pending = client.domains.get(domain)
    assert (pending.status, pending.reason) == ("PENDING", "dns_records_missing")

    publish(client, dns_server, domain)
    client.domains.verify(domain, request_options=NO_RETRY)
    verified = client.domains.get(domain)
    assert verified.status == "VERIFIED"
    assert verified.reason is None
    assert {r.status for r in verified.records} == {"VALID"}

    updated = client.domains.update(domain, subdomains_enabled=True, request_options=NO_RETRY)
    assert updated.subdomains_enabled is True
    assert updated.status == "PENDING"
    wildcard = next(r for r in updated.records if r.name == f"*.{domain}")
    assert (wildcard.type, wildcard.value, wildcard.status) == ("MX", MAIL_HOST, "MISSING")
    dns_server.publish(f"*.{domain}", "MX", MAIL_HOST, priority=10)
    client.domains.verify(domain, request_options=NO_RETRY)
    assert client.domains.get(domain).status == "VERIFIED"

    listed = client.domains.list(limit=100)
    item = next(d for d in listed.domains if d.domain_id == domain)
    assert item.subdomains_enabled is True
    assert "records" not in item.model_dump(exclude_none=True)
    assert "status" not in item.model_dump(exclude_none=True)
    assert listed.count == len(listed.domains)
    assert any(d.domain_id == DEFAULT for d in listed.domains)

    client.domains.delete(domain, request_options=NO_RETRY)
    expect_error(lambda: client.domains.get(domain, request_options=NO_RETRY), 404, "not_found", NotFoundError)


def test_every_pod_domain_call(client: AgentMail, dns_server: DnsTestServer) -> None:
    pod = client.pods.create(name="domains").pod_id
    domain = name("pod")
    created = client.pods.domains.create(pod, domain=domain, inbound_enabled=False, request_options=NO_RETRY)
    assert (created.pod_id, created.inbound_enabled) == (pod, False)
    assert [r.name for r in created.records if r.type == "MX"] == [f"bounces.{domain}"]  # send-only: no apex MX
    assert client.pods.domains.get(pod, domain).domain_id == domain
    assert next(d.domain_id for d in client.pods.domains.list(pod).domains) == domain
    publish(client, dns_server, domain, pod)
    assert client.pods.domains.verify(pod, domain, request_options=NO_RETRY) is None
    assert client.pods.domains.get(pod, domain).status == "VERIFIED"
    updated = client.pods.domains.update(pod, domain, feedback_enabled=False, request_options=NO_RETRY)
    assert (updated.feedback_enabled, updated.status) == (False, "VERIFIED")
    inbox = client.pods.inboxes.create(pod, username="agent", domain=domain)
    assert inbox.inbox_id == f"agent@{domain}"
    expect_error(
        lambda: client.inboxes.create(request=CreateInboxRequest(username="elsewhere", domain=domain)),
        422,
        "unprocessable",
        UnprocessableError,
    )  # the default pod may not use another pod's domain
    expect_error(lambda: client.pods.delete(pod, request_options=NO_RETRY), 409, "cannot_delete")
    client.pods.domains.delete(pod, domain, request_options=NO_RETRY)
    expect_error(lambda: client.pods.domains.get(pod, domain, request_options=NO_RETRY), 404, "not_found")
    assert client.inboxes.get(inbox.inbox_id).inbox_id == inbox.inbox_id  # the inbox stays


def test_inboxes_on_custom_domains_and_subdomains(client: AgentMail, dns_server: DnsTestServer) -> None:
    domain = name("inboxes")
    client.domains.create(domain=domain, request_options=NO_RETRY)
    expect_error(
        lambda: client.inboxes.create(request=CreateInboxRequest(username="support", domain=domain)),
        422,
        "unprocessable",
        UnprocessableError,
    )
    publish(client, dns_server, domain)
    client.domains.verify(domain, request_options=NO_RETRY)
    support = client.inboxes.create(request=CreateInboxRequest(username="support", domain=domain))
    assert support.email == f"support@{domain}"
    body = expect_error(
        lambda: client.inboxes.create(request=CreateInboxRequest(username="agent7", domain=f"eu.{domain}")),
        422,
        "unprocessable",
        UnprocessableError,
    )
    assert "subdomains_enabled" in body["fix"]
    client.domains.update(domain, subdomains_enabled=True)
    dns_server.publish(f"*.{domain}", "MX", MAIL_HOST, priority=10)
    client.domains.verify(domain, request_options=NO_RETRY)
    agent = client.inboxes.create(request=CreateInboxRequest(username="agent7", domain=f"EU.{domain}"))
    assert agent.inbox_id == f"agent7@eu.{domain}"
    assert all(d.domain_id != f"eu.{domain}" for d in client.domains.list(limit=100).domains)


def test_a_wrong_key_and_duplicate_spf_show_in_the_records(client: AgentMail, dns_server: DnsTestServer) -> None:
    domain = name("wrong")
    client.domains.create(domain=domain)
    publish(client, dns_server, domain)
    dns_server.remove(f"postroom._domainkey.{domain}")
    dns_server.publish(f"postroom._domainkey.{domain}", "TXT", "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A")
    dns_server.publish(f"bounces.{domain}", "TXT", "v=spf1 include:_spf.example.net ~all")
    client.domains.verify(domain, request_options=NO_RETRY)
    checked = client.domains.get(domain)
    assert (checked.status, checked.reason) == ("INVALID", "dns_records_invalid")
    by_name = {(r.type, r.name): r for r in checked.records}
    assert (by_name[("TXT", f"postroom._domainkey.{domain}")].reason) == "value_mismatch"
    assert (by_name[("TXT", f"bounces.{domain}")].reason) == "duplicate_records"
    assert by_name[("MX", domain)].status == "VALID"


def test_scopes_keep_domains_apart(client: AgentMail, domains_server: ServerProcess, dns_server: DnsTestServer) -> None:
    from agentmail.api_keys import CreateBearerApiKeyRequest

    pod_a = client.pods.create(name="a").pod_id
    pod_b = client.pods.create(name="b").pod_id
    domain_b = name("b")
    client.pods.domains.create(pod_b, domain=domain_b)
    org_domain = name("org")
    client.domains.create(domain=org_domain)
    key_a = client.pods.api_keys.create(pod_a, request=CreateBearerApiKeyRequest(name="a")).api_key
    as_a = AgentMail(api_key=key_a, environment=environment(domains_server))
    visible = [d.domain_id for d in as_a.domains.list(limit=100).domains]
    assert org_domain in visible
    assert domain_b not in visible
    assert DEFAULT in visible
    expect_error(lambda: as_a.domains.get(domain_b, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    expect_error(lambda: as_a.domains.delete(domain_b, request_options=NO_RETRY), 404, "not_found")
    expect_error(lambda: as_a.domains.verify(domain_b, request_options=NO_RETRY), 404, "not_found")
    expect_error(lambda: b"".join(as_a.domains.get_zone_file(domain_b, request_options=NO_RETRY)), 404, "not_found")
    expect_error(lambda: as_a.pods.domains.list(pod_b, request_options=NO_RETRY), 404, "not_found")
    expect_error(lambda: as_a.domains.delete(org_domain, request_options=NO_RETRY), 403, "forbidden")
    expect_error(lambda: as_a.domains.create(domain=f"x.{domain_b}", request_options=NO_RETRY), 409, "already_exists")
    publish(client, dns_server, domain_b, pod_b)
    client.pods.domains.verify(pod_b, domain_b)
    expect_error(
        lambda: as_a.inboxes.create(request=CreateInboxRequest(username="intruder", domain=domain_b)),
        422,
        "unprocessable",
        UnprocessableError,
    )
    own = as_a.domains.create(domain=name("mine"), request_options=NO_RETRY)
    assert own.pod_id == pod_a  # a pod key's organization route makes the pod's domain
    inbox = client.pods.inboxes.create(pod_a, username="reader")
    inbox_key = client.inboxes.api_keys.create(inbox.inbox_id, request=CreateBearerApiKeyRequest(name="i")).api_key
    as_inbox = AgentMail(api_key=inbox_key, environment=environment(domains_server))
    assert as_inbox.domains.list().domains == []
    expect_error(lambda: as_inbox.domains.get(org_domain, request_options=NO_RETRY), 404, "not_found")
    expect_error(lambda: as_inbox.domains.create(domain=name(), request_options=NO_RETRY), 403, "forbidden")


def test_bad_input_through_the_sdk_changes_nothing(client: AgentMail) -> None:
    before = [d.domain_id for d in client.domains.list(limit=100).domains]
    for bad in ("com", "not a domain", "co.uk", "-x.test", "x.notarealtld"):
        expect_error(
            lambda bad=bad: client.domains.create(domain=bad, request_options=NO_RETRY),
            400,
            "validation_error",
            ValidationError,
        )
    expect_error(
        lambda: client.domains.create(domain=name(), tracking_enabled=True, request_options=NO_RETRY),
        422,
        "unprocessable",
        UnprocessableError,
    )
    expect_error(lambda: client.domains.update(DEFAULT, inbound_enabled=False, request_options=NO_RETRY), 403)
    expect_error(lambda: client.domains.delete(DEFAULT, request_options=NO_RETRY), 403, "cannot_delete")
    expect_error(lambda: client.domains.get("unknown.test", request_options=NO_RETRY), 404, "not_found", NotFoundError)
    expect_error(lambda: client.domains.update("unknown.test", inbound_enabled=False, request_options=NO_RETRY), 404)
    expect_error(lambda: client.domains.delete("unknown.test", request_options=NO_RETRY), 404, "not_found")
    expect_error(lambda: client.domains.verify("unknown.test", request_options=NO_RETRY), 404, "not_found")
    expect_error(
        lambda: b"".join(client.domains.get_zone_file("unknown.test", request_options=NO_RETRY)), 404, "not_found"
    )
    existing = name("exists")
    client.domains.create(domain=existing)
    expect_error(lambda: client.domains.update(existing, request_options=NO_RETRY), 400, "validation_error")
    assert [d.domain_id for d in client.domains.list(limit=100).domains] == [existing, *before]


def test_the_default_domain_is_listed_verified(client: AgentMail) -> None:
    default = client.domains.get(DEFAULT)
    assert default.status == "VERIFIED"
    assert {r.status for r in default.records} == {"VALID"}
    client.domains.verify(DEFAULT)
    assert "postroom._domainkey" in zone_text(client, DEFAULT)
    assert client.organizations.get().domain_count >= 1


def test_domain_verified_reaches_a_signed_webhook(client: AgentMail, dns_server: DnsTestServer) -> None:
    domain = name("hook")
    with running_receiver() as receiver:
        webhook = client.webhooks.create(url=receiver.url, event_types=["domain.verified"])
        receiver.secrets.append(webhook.secret)
        client.domains.create(domain=domain)
        publish(client, dns_server, domain)
        client.domains.verify(domain)
        deadline_hits = [
            item for item in receiver.wait_for(1) if item.event.get("domain", {}).get("domain_id") == domain
        ]
        client.webhooks.delete(webhook.webhook_id)
    [arrived] = deadline_hits
    assert arrived.verified_for == webhook.secret
    event = arrived.event
    assert (event["type"], event["event_type"]) == ("event", "domain.verified")
    assert event["event_id"] == arrived.svix_id
    assert (event["domain"]["domain"], event["domain"]["status"]) == (domain, "VERIFIED")
    assert all(record["status"] == "VALID" for record in event["domain"]["records"])
