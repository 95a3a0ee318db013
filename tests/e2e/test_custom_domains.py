"""A custom domain end to end with ``postroom serve``: registered and verified against an authoritative DNS server on
loopback, mail delivered to it (and to a subdomain inbox) with swaks, mail sent from it with the official SDK to a
sink MX, whose DKIM signature dkimpy verifies by asking that DNS server, with a return path whose SPF names the
sending host. Deleting the domain stops its inboxes; adding it back brings them back."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import dkim
import pytest
from agentmail import AgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.inboxes import CreateInboxRequest
from agentmail.messages import MessageRejectedError

from postroom.dns.resolver import DnsResolver, parse_dns_servers
from tests.support.dns_server import DnsTestServer, dns_test_server
from tests.support.sender_dns import SPF_LOOPBACK
from tests.support.server import ServerProcess, running_server
from tests.support.sink import SinkServer

DOMAIN = "example.test"
MAIL_HOST = "mx.postroom.test"
NO_RETRY = {"max_retries": 0}

pytestmark = pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is installed by `make test`")


@dataclass
class Setup:
    server: ServerProcess
    dns: DnsTestServer
    sink: SinkServer
    sdk: AgentMail


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with dns_test_server() as dns_server, SinkServer(hostname="mx.example.net") as sink:
        dns_server.publish(MAIL_HOST, "A", "127.0.0.1")
        dns_server.publish("example.net", "TXT", SPF_LOOPBACK)  # swaks's sender domain: its mail passes SPF aligned
        env = {
            "POSTROOM_DNS_SERVERS": dns_server.address,
            "POSTROOM_MAIL_HOST": MAIL_HOST,
            "POSTROOM_SMTP_HOSTNAME": MAIL_HOST,
            "POSTROOM_MX_OVERRIDES": f"example.net={sink.address}",
            "POSTROOM_DELIVERY_POLL_SECONDS": "0.2",
        }
        data_dir = tmp_path_factory.mktemp(f"custom-domains-{request.param}")
        with running_server(request.param, data_dir, extra_env=env) as server:
            sdk = AgentMail(
                api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets="")
            )
            yield Setup(server, dns_server, sink, sdk)


def swaks(server: ServerProcess, to: str, subject: str) -> subprocess.CompletedProcess[str]:
    command = ["swaks", "--to", to, "--from", "ann@example.net", "--server", f"127.0.0.1:{server.smtp_port}"]
    command += ["--header", f"Subject: {subject}", "--body", "Sent with swaks."]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def wait_for_message(sdk: AgentMail, inbox_id: str, subject: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(m.subject == subject for m in sdk.inboxes.messages.list(inbox_id).messages):
            return
        time.sleep(0.1)
    raise AssertionError(f"{subject!r} did not arrive in {inbox_id}")


def test_register_publish_verify_receive_and_send(setup: Setup) -> None:
    sdk, dns_server, sink = setup.sdk, setup.dns, setup.sink
    sdk.domains.create(domain=DOMAIN, subdomains_enabled=True, request_options=NO_RETRY)
    zone = b"".join(sdk.domains.get_zone_file(DOMAIN)).decode()
    dns_server.publish_zone(zone, DOMAIN)
    sdk.domains.verify(DOMAIN, request_options=NO_RETRY)
    assert sdk.domains.get(DOMAIN).status == "VERIFIED"
    support = sdk.inboxes.create(request=CreateInboxRequest(username="support", domain=DOMAIN)).inbox_id
    agent = sdk.inboxes.create(request=CreateInboxRequest(username="agent7", domain=f"eu.{DOMAIN}")).inbox_id

    # Receiving: swaks delivers over SMTP, as an outside sender would.
    for inbox_id in (support, agent):
        result = swaks(setup.server, inbox_id, f"hello {inbox_id}")
        assert result.returncode == 0, result.stdout + result.stderr
        wait_for_message(sdk, inbox_id, f"hello {inbox_id}")

    # Sending: the SDK sends to a sink MX; the signature and the return path check out against the DNS server.
    resolver = DnsResolver(parse_dns_servers(dns_server.address))

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        found = resolver.lookup(name.decode().rstrip("."), "TXT")
        return found[0].encode() if found else None

    sink.clear()
    for inbox_id in (support, agent):
        sdk.inboxes.messages.send(inbox_id, to=["someone@example.net"], subject=f"from {inbox_id}", text="Signed.")
    received = sink.wait_for(2, timeout=30)
    for message in received:
        assert dkim.verify(message.raw, dnsfunc=dnsfunc), message.raw[:600]
        signature = message.raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"")
        assert b"d=example.test" in signature
        local, _, bounce_host = message.mail_from.rpartition("@")
        assert local.startswith("bounces=")
        assert bounce_host == f"bounces.{DOMAIN}"
        [spf] = [txt for txt in resolver.lookup(bounce_host, "TXT") if txt.startswith("v=spf1")]
        assert f"a:{MAIL_HOST}" in spf.split()
        assert resolver.lookup(MAIL_HOST, "A") == ["127.0.0.1"]  # the host mail left from, on loopback
        assert [pref_host.split()[1].rstrip(".") for pref_host in resolver.lookup(bounce_host, "MX")] == [MAIL_HOST]
    assert {m.helo for m in received} == {MAIL_HOST}


def test_a_deleted_domain_stops_its_inboxes_until_it_is_verified_again(setup: Setup) -> None:
    sdk, dns_server = setup.sdk, setup.dns
    if not any(d.domain_id == DOMAIN for d in sdk.domains.list(limit=100).domains):
        pytest.skip("runs after the flow above, on the same server")
    support = f"support@{DOMAIN}"
    sdk.domains.delete(DOMAIN, request_options=NO_RETRY)
    refused = swaks(setup.server, support, "after delete")
    assert refused.returncode != 0
    assert "550" in refused.stdout + refused.stderr
    with pytest.raises(MessageRejectedError) as caught:
        sdk.inboxes.messages.send(support, to=["someone@example.net"], text="no", request_options=NO_RETRY)
    assert caught.value.status_code == 403
    assert sdk.inboxes.get(support).inbox_id == support  # kept, with its mail
    assert any(m.subject == f"hello {support}" for m in sdk.inboxes.messages.list(support).messages)

    sdk.domains.create(domain=DOMAIN, subdomains_enabled=True, request_options=NO_RETRY)
    dns_server.clear()
    dns_server.publish(MAIL_HOST, "A", "127.0.0.1")
    dns_server.publish("example.net", "TXT", SPF_LOOPBACK)
    dns_server.publish_zone(b"".join(sdk.domains.get_zone_file(DOMAIN)).decode(), DOMAIN)
    sdk.domains.verify(DOMAIN, request_options=NO_RETRY)
    back = swaks(setup.server, support, "back again")
    assert back.returncode == 0, back.stdout + back.stderr
    wait_for_message(sdk, support, "back again")
    sdk.inboxes.messages.send(support, to=["someone@example.net"], text="sending again")
