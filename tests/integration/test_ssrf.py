"""The SSRF address table: every form of a private target is refused by webhooks and attachment fetches alike.

Refusals only: the HTTP transports given to the sender and the fetcher record what they are asked to connect to
and answer nothing real, so no packet goes anywhere. Names resolve through the tests' loopback DNS server. The
rebinding tests check that the connection is aimed at the address that was checked (with the name kept for Host
and TLS), and the TLS test proves the certificate is still verified against the name on a pinned connection.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import trustme
from fastapi.testclient import TestClient

from postroom.delivery.fetch import HttpAttachmentFetcher
from postroom.dns.resolver import DnsResolver, parse_dns_servers
from postroom.domain.network import blocked_address
from postroom.domain.webhooks import DeliveryStatus, Webhook, WebhookDelivery
from postroom.errors import Forbidden
from postroom.events.sender import WebhookSender
from postroom.net.hosts import HostAddresses
from postroom.services.events.dispatch import Attempt
from postroom.services.ports import HostResolver
from tests.support.clock import TestClock
from tests.support.sender_dns import sender_dns

PUBLIC = "93.184.215.14"  # never contacted: only ever handed to a recording transport

# Names the table uses, published in the tests' DNS: each resolves (at least partly) to a non-public address.
NAMES: list[tuple[str, str, str]] = [
    ("loopback.ssrf.test", "A", "127.0.0.1"),
    ("loopback-other.ssrf.test", "A", "127.0.0.53"),
    ("internal.ssrf.test", "A", "10.1.2.3"),
    ("home.ssrf.test", "A", "192.168.1.1"),
    ("docker.ssrf.test", "A", "172.17.0.1"),
    ("cgnat.ssrf.test", "A", "100.64.0.1"),
    ("metadata.ssrf.test", "A", "169.254.169.254"),
    ("metadata.google.internal", "A", "169.254.169.254"),
    ("zero.ssrf.test", "A", "0.0.0.0"),
    ("v6-loopback.ssrf.test", "AAAA", "::1"),
    ("v6-ula.ssrf.test", "AAAA", "fd00:ec2::254"),
    ("v6-sixtofour.ssrf.test", "AAAA", "2002:a9fe:a9fe::"),
    ("v6-nat64.ssrf.test", "AAAA", "64:ff9b::7f00:1"),
    ("v6-mapped.ssrf.test", "AAAA", "::ffff:7f00:1"),
    ("mixed.ssrf.test", "A", PUBLIC),
    ("mixed.ssrf.test", "A", "127.0.0.1"),
    ("mixed-family.ssrf.test", "A", PUBLIC),
    ("mixed-family.ssrf.test", "AAAA", "::1"),
    ("public.ssrf.test", "A", PUBLIC),
]

SSRF_TABLE: list[str] = [
    # Issue 15 item 5: IPv6 forms carrying a private IPv4 address.
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::]/",  # 6to4 of 169.254.169.254
    "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
    "http://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of 169.254.169.254
    "http://[64:ff9b::10.0.0.1]/",  # NAT64, dotted form
    "http://[64:ff9b:1::a00:1]/",  # local-use NAT64 (RFC 8215)
    "http://[64:ff9b:1::808:808]/",  # local-use NAT64, whatever it carries
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
    "http://[2001:0:4136:e378:8000:63bf:5601:5601]/",  # Teredo, client 169.254.169.254
    "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",  # Teredo, client 10.0.0.1
    "http://[2001:0:a00:1:8000:63bf:f7f7:f7f7]/",  # Teredo, server 10.0.0.1 (client 8.8.8.8)
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:7f00:1]/",  # IPv4-mapped, hex
    "http://[::ffff:a9fe:a9fe]/",  # IPv4-mapped metadata
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible (deprecated)
    "http://[::a9fe:a9fe]/",
    "http://[::8.8.8.8]/",  # IPv4-compatible is never routable, whatever it carries
    # Loopback.
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/hook",
    "http://127.0.0.2/",
    "http://127.255.255.254/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://localhost/",
    "http://LOCALHOST:8000/",
    "http://localhost./",
    "http://app.localhost/",
    # Link-local and cloud metadata.
    "http://169.254.0.1/",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud metadata (CGNAT range)
    "http://metadata.google.internal/computeMetadata/v1/",
    # RFC 1918, CGNAT, unique local, site-local.
    "http://10.0.0.1/",
    "http://10.255.255.255/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.0.1/",
    "http://192.168.255.255/",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://[fc00::1]/",
    "http://[fd12:3456:789a::1]/",
    "http://[fec0::1]/",
    # Multicast, unspecified, broadcast, reserved and special-purpose.
    "http://224.0.0.1/",
    "http://239.255.255.250:1900/",
    "http://[ff02::1]/",
    "http://[ff05::1:3]/",
    "http://0.0.0.0/",
    "http://0.0.0.0:8080/",
    "http://[::]/",
    "http://0.1.2.3/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://198.18.0.1/",
    "http://192.0.0.8/",
    "http://192.0.2.1/",
    "http://[2001:db8::1]/",
    "http://[100::1]/",
    # Decimal, hex, octal and short IPv4 forms.
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://0177.1/",
    "http://017700000001/",
    "http://127.1/",
    "http://127.0.1/",
    "http://3232235521/",  # 192.168.0.1
    "http://2852039166/",  # 169.254.169.254
    "http://0xa9fea9fe/",
    "http://0251.0376.0251.0376/",
    "http://10.1/",
    # Userinfo, fragment and backslash tricks.
    "http://public.example@127.0.0.1/",
    "http://user:password@169.254.169.254/",
    "http://example.com@10.0.0.1:80/",
    "http://127.0.0.1#@example.com/",
    "http://127.0.0.1:80#@example.com/",
    "http://[::1]#@example.com/",
    "http://example.com\\@127.0.0.1/",
    "http://127.0.0.1\\@example.com/",
    "http://example.com\\.127.0.0.1/",
    "http://example.com:80\\@127.0.0.1/",
    "http://127.0.0.1 /",
    "http://127.0.0.1\t.example.com/",
    "http:/127.0.0.1/",
    "http:///127.0.0.1/",
    # Schemes other than http(s).
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "gopher://127.0.0.1:25/_HELO%20x",
    "ftp://127.0.0.1/",
    "ftp://example.com/file",
    "data:text/plain,hello",
    "dict://127.0.0.1:11211/stat",
    "ldap://127.0.0.1/",
    "sftp://127.0.0.1/",
    "ws://127.0.0.1/",
    "javascript:alert(1)",
    # Names that resolve to non-public addresses (every answer counts, A and AAAA alike).
    "http://loopback.ssrf.test/",
    "http://loopback-other.ssrf.test:8080/",
    "http://internal.ssrf.test/",
    "http://home.ssrf.test/",
    "http://docker.ssrf.test/",
    "http://cgnat.ssrf.test/",
    "http://metadata.ssrf.test/latest/meta-data/",
    "http://zero.ssrf.test/",
    "http://v6-loopback.ssrf.test/",
    "http://v6-ula.ssrf.test/",
    "http://v6-sixtofour.ssrf.test/",
    "http://v6-nat64.ssrf.test/",
    "http://v6-mapped.ssrf.test/",
    "http://mixed.ssrf.test/",
    "http://mixed-family.ssrf.test/",
    "https://loopback.ssrf.test/",
    "http://LOOPBACK.SSRF.TEST./",
    "http://unpublished.ssrf.test/",  # does not resolve
]


@pytest.fixture(scope="module")
def names() -> HostAddresses:
    dns = sender_dns()
    for name, _, _ in NAMES:
        dns.remove(name)
    for name, rtype, value in NAMES:
        dns.publish(name, rtype, value)
    return HostAddresses(DnsResolver(parse_dns_servers(dns.address)))


class Recorder:
    """Stands in for the network: remembers each request it is given and answers with a canned response."""

    def __init__(self, answer: httpx.Response | None = None, redirects: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer
        self._redirects = redirects or {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        location = self._redirects.get(request.headers["host"])
        if location is not None:
            return httpx.Response(302, headers={"location": location})
        return self._answer if self._answer is not None else httpx.Response(200, content=b"leaked")

    def sync(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def attempt(url: str) -> Attempt:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    webhook = Webhook(
        webhook_id="wh_1",
        organization_id="org_1",
        pod_id=None,
        inbox_id=None,
        url=url,
        event_types=["message.received"],
        pod_ids=[],
        inbox_ids=[],
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        enabled=True,
        client_id=None,
        headers={},
        failing_since=None,
        enabled_at=now,
        created_at=now,
        updated_at=now,
    )
    delivery = WebhookDelivery("whd_1", "wh_1", "evt_1", now, DeliveryStatus.PENDING, 0, now, None, None, now)
    return Attempt(delivery, webhook, '{"event_id": "evt_1"}')


def send_webhook(
    url: str, resolver: HostResolver, recorder: Recorder | None, allow_private: bool = False
) -> str | None:
    """The error of one webhook attempt (None when it succeeded); ``recorder`` None means the real network."""

    async def run() -> str | None:
        transport = httpx.MockTransport(recorder.handle) if recorder is not None else None
        sender = WebhookSender(resolver, 2.0, allow_private, TestClock(), transport=transport)
        try:
            outcome = await sender.send(attempt(url))
        finally:
            await sender.close()
        return None if outcome.ok else outcome.error

    return asyncio.run(run())


def _fetch_refusal(fetcher: HttpAttachmentFetcher, url: str) -> str | None:
    try:
        fetcher.fetch(url, 1000)
    except Forbidden as error:
        return error.message if error.code == "message_rejected" else f"wrong code {error.code}"
    return None


def test_the_table_is_refused_by_attachment_fetches_and_webhook_posts_without_a_connection(
    names: HostAddresses,
) -> None:
    recorder = Recorder()
    fetcher = HttpAttachmentFetcher(names, allow_private=False, timeout_seconds=2.0, transport=recorder.sync())
    accepted = []
    for url in SSRF_TABLE:
        refusal = _fetch_refusal(fetcher, url)
        host = url.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower().rstrip(".")
        published = host.endswith(".ssrf.test") and host != "unpublished.ssrf.test"
        if refusal is None or (published and "resolves to a private" not in refusal):
            accepted.append(("fetch", url))

    async def post_all() -> None:
        sender = WebhookSender(names, 2.0, False, TestClock(), transport=httpx.MockTransport(recorder.handle))
        for url in SSRF_TABLE:
            outcome = await sender.send(attempt(url))
            if outcome.ok or not (outcome.error or "").startswith("refused: "):
                accepted.append(("webhook", url))
        await sender.close()

    asyncio.run(post_all())
    assert accepted == []
    assert [str(request.url) for request in recorder.requests] == []
    assert len(SSRF_TABLE) >= 48 + 9


def test_the_table_is_refused_when_webhooks_are_created_and_nothing_is_stored(
    names: HostAddresses, client: TestClient
) -> None:
    accepted = []
    for url in SSRF_TABLE:
        response = client.post("/v0/webhooks", json={"url": url, "event_types": ["message.received"]})
        if response.status_code != 400 or response.json()["code"] != "validation_error":
            accepted.append((url, response.status_code))
    assert accepted == []
    assert client.get("/v0/webhooks").json()["webhooks"] == []


@pytest.mark.parametrize(
    "address",
    ["2002:7f00:1::", "64:ff9b::a9fe:a9fe", "64:ff9b:1::808:808", "2001:0:4136:e378:8000:63bf:80ff:fffe"],
)
def test_ipv6_forms_carrying_private_ipv4_are_blocked(address: str) -> None:
    assert blocked_address(address)


@pytest.mark.parametrize(
    "address",
    [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "2002:5db8:d70e::", "64:ff9b::5db8:d70e"],
)
def test_public_addresses_and_forms_carrying_public_ipv4_are_allowed(address: str) -> None:
    assert not blocked_address(address)


class Rebinding:
    """A DNS answer that changes: public the first time, loopback every time after."""

    def __init__(self) -> None:
        self.calls = 0

    def addresses(self, host: str) -> list[str]:
        self.calls += 1
        return [PUBLIC] if self.calls == 1 else ["127.0.0.1"]


def test_a_fetch_connects_to_the_checked_address_keeping_the_name_for_host_and_tls() -> None:
    resolver = Rebinding()
    recorder = Recorder(httpx.Response(200, content=b"data", headers={"content-type": "text/plain"}))
    fetcher = HttpAttachmentFetcher(resolver, allow_private=False, timeout_seconds=2.0, transport=recorder.sync())
    content, content_type, filename = fetcher.fetch("https://rebind.example:8443/files/a.txt?v=1", 100)
    assert (content, content_type, filename) == (b"data", "text/plain", "a.txt")
    assert resolver.calls == 1
    [request] = recorder.requests
    assert request.url.host == PUBLIC
    assert request.url.port == 8443
    assert request.url.raw_path == b"/files/a.txt?v=1"
    assert request.headers["host"] == "rebind.example:8443"
    assert request.extensions["sni_hostname"] == "rebind.example"


def test_a_webhook_post_connects_to_the_checked_address() -> None:
    resolver = Rebinding()
    recorder = Recorder(httpx.Response(204))
    assert send_webhook("https://hooks.rebind.example/in", resolver, recorder) is None
    assert resolver.calls == 1
    [request] = recorder.requests
    assert request.url.host == PUBLIC
    assert request.headers["host"] == "hooks.rebind.example"
    assert request.extensions["sni_hostname"] == "hooks.rebind.example"
    assert request.headers["svix-id"] == "evt_1"
    # The next attempt resolves again, gets loopback this time, and sends nothing.
    assert send_webhook("https://hooks.rebind.example/in", resolver, recorder) == (
        "refused: hooks.rebind.example resolves to a private, loopback or link-local address"
    )
    assert len(recorder.requests) == 1


def test_every_redirect_hop_is_checked_and_pinned(names: HostAddresses) -> None:
    recorder = Recorder(
        httpx.Response(200, content=b"x"),
        redirects={"public.ssrf.test": "http://loopback.ssrf.test/secret", "start.ssrf.test": "/next"},
    )
    fetcher = HttpAttachmentFetcher(names, allow_private=False, timeout_seconds=2.0, transport=recorder.sync())
    with pytest.raises(Forbidden, match=r"loopback\.ssrf\.test resolves to a private"):
        fetcher.fetch("http://public.ssrf.test/start", 100)
    assert [(r.url.host, r.headers["host"]) for r in recorder.requests] == [(PUBLIC, "public.ssrf.test")]


def test_private_urls_work_when_the_operator_allows_them(names: HostAddresses) -> None:
    with _http_server() as port:
        fetcher = HttpAttachmentFetcher(names, allow_private=True, timeout_seconds=5.0)
        for host in ("127.0.0.1", "localhost", "loopback.ssrf.test"):
            content, _, _ = fetcher.fetch(f"http://{host}:{port}/file.txt", 100)
            assert content == b"hello from loopback"
        assert send_webhook(f"http://loopback.ssrf.test:{port}/hook", names, None, allow_private=True) is None


def test_tls_on_a_pinned_connection_is_verified_against_the_name(names: HostAddresses) -> None:
    authority = trustme.CA()
    sender_dns().publish("pinned.ssrf.test", "A", "127.0.0.1")
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    for certified, ok in (("pinned.ssrf.test", True), ("someone-else.ssrf.test", False)):
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(certified).configure_cert(server_context)
        with _http_server(server_context) as port:
            transport = httpx.HTTPTransport(verify=client_context)
            fetcher = HttpAttachmentFetcher(names, allow_private=True, timeout_seconds=5.0, transport=transport)
            if ok:
                assert fetcher.fetch(f"https://pinned.ssrf.test:{port}/f", 100)[0] == b"hello from loopback"
            else:
                with pytest.raises(Forbidden, match="ConnectError"):
                    fetcher.fetch(f"https://pinned.ssrf.test:{port}/f", 100)


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self._answer()

    def _answer(self) -> None:
        body = b"hello from loopback"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def _http_server(context: ssl.SSLContext | None = None) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
