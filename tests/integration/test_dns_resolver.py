"""The one DNS resolver against a real authoritative DNS server on loopback: answers, absence and failures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postroom.dns.resolver import DnsResolver, TemporaryLookupError, parse_dns_servers
from tests.support.dns_server import DnsTestServer, dns_test_server


@pytest.fixture
def dns() -> Iterator[DnsTestServer]:
    with dns_test_server() as server:
        yield server


def resolver_for(server: DnsTestServer) -> DnsResolver:
    return DnsResolver(parse_dns_servers(server.address), lifetime=1.0)


def test_records_are_read_from_the_configured_server(dns: DnsTestServer) -> None:
    dns.publish("example.test", "MX", "mx2.example.test", priority=20)
    dns.publish("example.test", "MX", "mx1.example.test.", priority=10)
    dns.publish("example.test", "TXT", "v=spf1 ip4:127.0.0.1 -all")
    long_key = "v=DKIM1; k=rsa; p=" + "A" * 400
    dns.publish("sel._domainkey.example.test", "TXT", long_key)
    dns.publish("mx1.example.test", "A", "127.0.0.1")
    dns.publish("mx1.example.test", "AAAA", "::1")
    resolver = resolver_for(dns)
    assert sorted(resolver.lookup("Example.TEST.", "MX")) == ["10 mx1.example.test.", "20 mx2.example.test."]
    assert resolver.lookup("example.test", "TXT") == ["v=spf1 ip4:127.0.0.1 -all"]
    assert resolver.lookup("sel._domainkey.example.test", "TXT") == [long_key]  # 255-byte strings joined


async def test_the_async_side_answers_alike(dns: DnsTestServer) -> None:
    dns.publish("example.test", "MX", "mx1.example.test", priority=10)
    dns.publish("mx1.example.test", "A", "127.0.0.1")
    resolver = resolver_for(dns)
    assert await resolver.mx("example.test") == [(10, "mx1.example.test")]
    assert await resolver.addresses("mx1.example.test") == ["127.0.0.1"]
    assert await resolver.mx("nowhere.test") == []


def test_absence_is_an_empty_answer_and_failures_are_temporary(dns: DnsTestServer) -> None:
    dns.publish("example.test", "A", "127.0.0.1")
    dns.fail("broken.test")
    dns.drop("silent.test")
    resolver = resolver_for(dns)
    assert resolver.lookup("nowhere.test", "TXT") == []  # NXDOMAIN
    assert resolver.lookup("example.test", "TXT") == []  # the name exists, no TXT
    with pytest.raises(TemporaryLookupError):
        resolver.lookup("broken.test", "TXT")  # SERVFAIL
    with pytest.raises(TemporaryLookupError):
        resolver.lookup("silent.test", "TXT")  # no answer at all
    assert ("silent.test", "TXT") in dns.queries


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        (" ", []),
        ("127.0.0.1", [("127.0.0.1", 53)]),
        ("127.0.0.1:5353, ::1", [("127.0.0.1", 5353), ("::1", 53)]),
        ("[::1]:5353", [("::1", 5353)]),
    ],
)
def test_dns_servers_setting_is_parsed(value: str | None, expected: list[tuple[str, int]]) -> None:
    assert parse_dns_servers(value) == expected


@pytest.mark.parametrize("value", ["dns.example.org", "127.0.0.1:0", "127.0.0.1:99999", "[::1", "1.2.3.4:x"])
def test_bad_dns_servers_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="DNS server"):
        parse_dns_servers(value)
