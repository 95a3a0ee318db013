"""The one DNS resolver against a real authoritative DNS server on loopback: answers, absence, failures and the
answer cache of inbound authentication (on an injected clock)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postroom.dns.cache import AnswerCache
from postroom.dns.resolver import DnsResolver, TemporaryLookupError, parse_dns_servers
from tests.support.clock import ManualClock, TestClock
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


@pytest.fixture
def dns_with_ttl() -> Iterator[DnsTestServer]:
    with dns_test_server(ttl=60) as server:
        yield server


def cached_resolver(server: DnsTestServer, clock: TestClock, max_seconds: float = 300.0) -> DnsResolver:
    cache = AnswerCache(lambda: clock.now().timestamp(), max_seconds)
    return DnsResolver(parse_dns_servers(server.address), lifetime=1.0, cache=cache)


def test_an_answer_is_reused_for_its_ttl_and_asked_again_after(dns_with_ttl: DnsTestServer) -> None:
    clock = ManualClock()
    dns_with_ttl.publish("good.test", "TXT", "v=spf1 ip4:127.0.0.1 -all")
    resolver = cached_resolver(dns_with_ttl, clock)
    assert resolver.lookup("good.test", "TXT") == ["v=spf1 ip4:127.0.0.1 -all"]
    dns_with_ttl.remove("good.test")
    dns_with_ttl.publish("good.test", "TXT", "v=spf1 -all")
    clock.advance(seconds=59)
    assert resolver.lookup("GOOD.test.", "TXT") == ["v=spf1 ip4:127.0.0.1 -all"]  # case and the root dot aside
    assert dns_with_ttl.queries.count(("good.test", "TXT")) == 1
    clock.advance(seconds=1)
    assert resolver.lookup("good.test", "TXT") == ["v=spf1 -all"]
    assert dns_with_ttl.queries.count(("good.test", "TXT")) == 2


def test_the_longest_reuse_is_capped_and_zero_turns_it_off(dns_with_ttl: DnsTestServer) -> None:
    clock = ManualClock()
    dns_with_ttl.publish("good.test", "TXT", "one")
    capped = cached_resolver(dns_with_ttl, clock, max_seconds=10)
    off = cached_resolver(dns_with_ttl, clock, max_seconds=0)
    for _ in range(3):
        capped.lookup("good.test", "TXT")
        off.lookup("good.test", "TXT")
    assert dns_with_ttl.queries.count(("good.test", "TXT")) == 1 + 3
    clock.advance(seconds=10)
    capped.lookup("good.test", "TXT")
    assert dns_with_ttl.queries.count(("good.test", "TXT")) == 1 + 3 + 1


def test_absence_failures_and_zero_ttls_are_never_reused(dns_with_ttl: DnsTestServer, dns: DnsTestServer) -> None:
    clock = ManualClock()
    resolver = cached_resolver(dns_with_ttl, clock)
    assert resolver.lookup("later.test", "TXT") == []
    dns_with_ttl.publish("later.test", "TXT", "published now")
    assert resolver.lookup("later.test", "TXT") == ["published now"]
    dns_with_ttl.publish("empty.test", "A", "127.0.0.1")
    assert resolver.lookup("empty.test", "TXT") == []  # the name exists, without TXT records
    dns_with_ttl.publish("empty.test", "TXT", "now there is one")
    assert resolver.lookup("empty.test", "TXT") == ["now there is one"]
    dns_with_ttl.fail("broken.test")
    for _ in range(2):
        with pytest.raises(TemporaryLookupError):
            resolver.lookup("broken.test", "TXT")
    assert dns_with_ttl.queries.count(("broken.test", "TXT")) >= 2
    dns.publish("zero.test", "TXT", "first")  # the default test server answers with a TTL of 0
    uncached = cached_resolver(dns, clock)
    assert uncached.lookup("zero.test", "TXT") == ["first"]
    dns.remove("zero.test")
    dns.publish("zero.test", "TXT", "second")
    assert uncached.lookup("zero.test", "TXT") == ["second"]


def test_the_cache_forgets_the_least_recently_used_answer_past_its_size() -> None:
    clock = ManualClock()
    cache = AnswerCache(lambda: clock.now().timestamp(), 300, max_entries=2)
    cache.put("a.test", "TXT", ["a"], 60)
    cache.put("b.test", "TXT", ["b"], 60)
    assert cache.get("a.test", "TXT") == ["a"]  # a is now the most recently used
    cache.put("c.test", "TXT", ["c"], 60)
    assert cache.get("b.test", "TXT") is None
    assert (cache.get("a.test", "TXT"), cache.get("c.test", "TXT")) == (["a"], ["c"])
    assert cache.get("a.test", "MX") is None  # the type is part of the key
