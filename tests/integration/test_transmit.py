"""Outbound SMTP against a real sink server on loopback, and routing with a fake DNS resolver."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from postroom.delivery.routing import (
    Hop,
    NoRoute,
    TemporaryLookupError,
    hops_for,
    parse_mx_overrides,
    parse_relay_url,
)
from postroom.delivery.transmit import DeliveryResult, transmit
from tests.support.sink import GreetingRefuser, SinkServer, free_port

RETURN_PATH = "bounces+m_01jd9x@agents.example.org"  # a VERP return path, as the send service builds it
HELO = "mail.agents.example.org"
RAW = (
    b"From: Agent <agent@agents.example.org>\r\n"
    b"To: alice@b.test, bob@b.test\r\n"
    b"Subject: Hello from the agent\r\n"
    b"Message-ID: <m1@agents.example.org>\r\n"
    b"\r\n"
    b"Hi there.\r\n"
    b".A line that starts with a dot survives dot-stuffing.\r\n"
)


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as server:
        yield server


def hop(server: SinkServer) -> Hop:
    return Hop(server.host, server.port)


async def send(hops: list[Hop], recipients: list[str], **options: object) -> list[DeliveryResult]:
    return await transmit(
        hops, mail_from=RETURN_PATH, recipients=recipients, raw=RAW, helo_name=HELO, timeout=10, **options
    )  # type: ignore[arg-type]


async def test_a_message_is_delivered_with_the_return_path_as_envelope_sender(sink: SinkServer) -> None:
    results = await send([hop(sink)], ["alice@b.test", "bob@b.test"])

    assert [(r.address, r.outcome, r.code) for r in results] == [
        ("alice@b.test", "delivered", 250),
        ("bob@b.test", "delivered", 250),
    ]
    [message] = sink.wait_for(1)
    assert message.mail_from == RETURN_PATH
    assert message.rcpt_tos == ["alice@b.test", "bob@b.test"]
    assert message.raw == RAW
    assert message.helo == HELO
    assert not message.tls


async def test_a_temporary_refusal_is_temporary_and_the_next_call_delivers(sink: SinkServer) -> None:
    sink.script_rcpt("alice@b.test", "451 4.3.0 try later")

    [first] = await send([hop(sink)], ["alice@b.test"])
    [second] = await send([hop(sink)], ["alice@b.test"])

    assert first == DeliveryResult("alice@b.test", "temporary", 451, "4.3.0 try later")
    assert second.outcome == "delivered"
    assert len(sink.wait_for(1)) == 1


async def test_an_unknown_user_is_permanent_while_the_other_recipient_is_delivered(sink: SinkServer) -> None:
    sink.script_rcpt("ghost@b.test", "550 5.1.1 no such user", always=True)

    results = await send([hop(sink)], ["ghost@b.test", "bob@b.test"])

    assert results[0] == DeliveryResult("ghost@b.test", "permanent", 550, "5.1.1 no such user")
    assert (results[1].address, results[1].outcome) == ("bob@b.test", "delivered")
    [message] = sink.wait_for(1)
    assert message.rcpt_tos == ["bob@b.test"]


async def test_a_rejected_data_phase_fails_every_accepted_recipient(sink: SinkServer) -> None:
    sink.script_rcpt("ghost@b.test", "450 4.2.1 mailbox busy")
    sink.script_data("554 5.7.1 message refused")

    results = await send([hop(sink)], ["alice@b.test", "bob@b.test", "ghost@b.test"])

    assert [(r.outcome, r.code, r.detail) for r in results] == [
        ("permanent", 554, "5.7.1 message refused"),
        ("permanent", 554, "5.7.1 message refused"),
        ("temporary", 450, "4.2.1 mailbox busy"),
    ]
    assert sink.messages == []


async def test_a_refused_connection_moves_on_to_the_next_hop(sink: SinkServer) -> None:
    down = Hop("127.0.0.1", free_port())

    [result] = await send([down, hop(sink)], ["alice@b.test"])

    assert result.outcome == "delivered"
    assert len(sink.wait_for(1)) == 1


async def test_a_421_greeting_moves_on_to_the_next_hop(sink: SinkServer) -> None:
    with GreetingRefuser("421 4.3.2 too busy") as busy:
        [result] = await send([Hop("127.0.0.1", busy.port), hop(sink)], ["alice@b.test"])

        assert busy.connections == 1
    assert result.outcome == "delivered"


async def test_when_every_hop_is_down_every_recipient_is_temporary() -> None:
    first, second = free_port(), free_port()
    with GreetingRefuser("421 4.3.2 too busy") as busy:
        results = await send(
            [Hop("127.0.0.1", first), Hop("127.0.0.1", second), Hop("127.0.0.1", busy.port)],
            ["alice@b.test", "bob@b.test"],
        )

    assert [r.outcome for r in results] == ["temporary", "temporary"]
    assert results[0].code == 421  # the last hop's reply code; every hop is named in the detail
    detail = results[0].detail
    assert f"127.0.0.1:{first}: connection refused" in detail
    assert f"127.0.0.1:{busy.port}: 421 4.3.2 too busy" in detail
    assert f"127.0.0.1:{second}: connection refused" in detail


async def test_starttls_is_used_when_the_server_offers_it() -> None:
    with SinkServer(starttls=True) as sink:
        # The sink's certificate is self-signed: opportunistic TLS to an MX host does not verify it.
        [result] = await send([hop(sink)], ["alice@b.test"])

        assert result.outcome == "delivered"
        [message] = sink.wait_for(1)
    assert message.tls


async def test_a_failed_opportunistic_tls_handshake_falls_back_to_plain_text() -> None:
    with SinkServer(starttls=True) as sink:
        # A verifying context that does not trust the sink's certificate makes the handshake fail.
        [result] = await send([hop(sink)], ["alice@b.test"], tls_context=ssl.create_default_context())

        assert result.outcome == "delivered"
        [message] = sink.wait_for(1)
    assert not message.tls


async def test_a_relay_gets_auth_over_starttls_with_percent_decoded_credentials() -> None:
    with SinkServer(starttls=True, auth=("relay user", "p@ss:w/rd")) as sink:
        relay = parse_relay_url(f"smtp://relay%20user:p%40ss%3Aw%2Frd@127.0.0.1:{sink.port}")
        assert relay is not None

        [result] = await send([relay], ["alice@b.test"], tls_context=sink.client_context())

        assert result.outcome == "delivered"
        [message] = sink.wait_for(1)
    assert message.tls
    assert message.auth_login == "relay user"


async def test_wrong_relay_credentials_are_temporary_not_a_bounce() -> None:
    with SinkServer(starttls=True, auth=("relay", "right")) as sink:
        relay = Hop("127.0.0.1", sink.port, require_tls=True, username="relay", password="wrong")

        [result] = await send([relay], ["alice@b.test"], tls_context=sink.client_context())

        assert result.outcome == "temporary"
        assert result.code == 535
        assert "authentication failed" in result.detail
        assert sink.messages == []


async def test_a_relay_that_requires_tls_but_offers_none_is_temporary(sink: SinkServer) -> None:
    relay = Hop(sink.host, sink.port, require_tls=True)

    [result] = await send([relay], ["alice@b.test"])

    assert result.outcome == "temporary"
    assert "STARTTLS" in result.detail
    assert sink.messages == []


async def test_a_relay_whose_certificate_does_not_verify_is_temporary() -> None:
    with SinkServer(starttls=True) as sink:
        # No tls_context: the default trust store does not know the sink's private CA.
        [result] = await send([Hop(sink.host, sink.port, require_tls=True)], ["alice@b.test"])

        assert result.outcome == "temporary"
        assert sink.messages == []


async def test_implicit_tls_relay_delivers() -> None:
    with SinkServer(implicit_tls=True, auth=("relay", "pw")) as sink:
        relay = parse_relay_url(f"smtps://relay:pw@localhost:{sink.port}")
        assert relay is not None
        assert relay.implicit_tls

        [result] = await send([relay], ["alice@b.test"], tls_context=sink.client_context())

        assert result.outcome == "delivered"
        [message] = sink.wait_for(1)
    assert message.tls
    assert message.auth_login == "relay"


async def test_a_message_larger_than_the_advertised_size_is_permanent() -> None:
    with SinkServer(size_limit=len(RAW) - 1) as sink:
        results = await send([hop(sink)], ["alice@b.test", "bob@b.test"])

        assert [r.outcome for r in results] == ["permanent", "permanent"]
        assert results[0].detail.startswith("message too large")
        assert sink.messages == []
        assert sink.rcpt_log == []


async def test_a_message_exactly_the_advertised_size_is_delivered() -> None:
    # Without a leading-dot line: aiosmtpd counts the stuffed dot against its limit, RFC 1870 does not.
    raw = RAW.replace(b".A line", b"A line")
    with SinkServer(size_limit=len(raw)) as sink:
        [result] = await transmit(
            [hop(sink)], mail_from=RETURN_PATH, recipients=["alice@b.test"], raw=raw, helo_name=HELO, timeout=10
        )

    assert result.outcome == "delivered"


async def test_no_recipients_means_no_connection(sink: SinkServer) -> None:
    assert await send([hop(sink)], []) == []


# Routing


class FakeResolver:
    def __init__(
        self, mx: dict[str, list[tuple[int, str]]], addresses: dict[str, list[str]], failing: bool = False
    ) -> None:
        self._mx = mx
        self._addresses = addresses
        self._failing = failing

    async def mx(self, domain: str) -> list[tuple[int, str]]:
        if self._failing:
            raise TemporaryLookupError(f"MX lookup for {domain} timed out")
        return self._mx.get(domain, [])

    async def addresses(self, host: str) -> list[str]:
        return self._addresses.get(host, [])


RESOLVER = FakeResolver(
    mx={
        "b.test": [(20, "backup.b.test."), (10, "mx2.b.test."), (10, "mx1.b.test."), (30, "MX1.b.test.")],
        "null.test": [(0, ".")],
    },
    addresses={"implicit.test": ["192.0.2.7"]},
)


async def test_mx_hosts_come_in_preference_order_with_ties_shuffled() -> None:
    orders = set()
    for _ in range(64):
        hops = await hops_for("B.test", overrides={}, relay=None, resolver=RESOLVER)
        assert {h.host for h in hops[:2]} == {"mx1.b.test", "mx2.b.test"}
        assert hops[2:] == [Hop("backup.b.test", 25)]  # the duplicate MX1 at 30 is tried once, at 10
        orders.add(tuple(h.host for h in hops[:2]))
    assert len(orders) == 2  # 64 draws of a fair coin land on both sides (chance of not: 2 in 10^19)


async def test_a_domain_without_mx_but_with_an_address_is_its_own_mx() -> None:
    hops = await hops_for("implicit.test", overrides={}, relay=None, resolver=RESOLVER, port=2525)

    assert hops == [Hop("implicit.test", 2525)]


async def test_a_domain_with_neither_mx_nor_address_has_no_route() -> None:
    with pytest.raises(NoRoute) as raised:
        await hops_for("nowhere.test", overrides={}, relay=None, resolver=RESOLVER)

    assert raised.value.permanent


async def test_a_null_mx_is_a_permanent_no_route() -> None:
    with pytest.raises(NoRoute, match="does not accept mail") as raised:
        await hops_for("null.test", overrides={}, relay=None, resolver=RESOLVER)

    assert raised.value.permanent


async def test_a_dns_timeout_is_a_temporary_no_route() -> None:
    with pytest.raises(NoRoute, match="timed out") as raised:
        await hops_for("b.test", overrides={}, relay=None, resolver=FakeResolver({}, {}, failing=True))

    assert not raised.value.permanent


async def test_an_override_beats_the_relay_which_beats_mx() -> None:
    overrides = parse_mx_overrides("B.Test=127.0.0.1:2600, v6.test=[::1]:2525")
    relay = parse_relay_url("smtp+insecure://relay.example.net:2525")

    assert await hops_for("b.test", overrides=overrides, relay=relay, resolver=RESOLVER) == [Hop("127.0.0.1", 2600)]
    assert await hops_for("v6.test", overrides=overrides, relay=relay, resolver=RESOLVER) == [Hop("::1", 2525)]
    assert await hops_for("null.test", overrides=overrides, relay=relay, resolver=RESOLVER) == [
        Hop("relay.example.net", 2525)
    ]
    assert (await hops_for("b.test", overrides={}, relay=None, resolver=RESOLVER))[0].host.startswith("mx")


def test_relay_urls_parse_into_hops() -> None:
    assert parse_relay_url(None) is None
    assert parse_relay_url("  ") is None
    assert parse_relay_url("smtp://u:p@relay.example.net") == Hop(
        "relay.example.net", 587, require_tls=True, username="u", password="p"
    )
    assert parse_relay_url("smtps://u:p@relay.example.net") == Hop(
        "relay.example.net", 465, implicit_tls=True, username="u", password="p"
    )
    assert parse_relay_url("smtp+insecure://127.0.0.1:2525") == Hop("127.0.0.1", 2525)
    assert "p@ss" not in repr(parse_relay_url("smtp://u:p%40ss@relay.example.net"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://relay.example.net", "must start with smtp://"),
        ("relay.example.net:587", "must start with smtp://"),
        ("smtp://relay.example.net:notaport", "port"),
        ("smtp://relay.example.net:70000", "port"),
        ("smtp://", "no host"),
        ("smtp://relay.example.net/path", "no path"),
        ("smtp://:secret@relay.example.net", "no user name"),
    ],
)
def test_malformed_relay_urls_are_refused_clearly(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_relay_url(value)


def test_mx_overrides_parse_into_hops() -> None:
    assert parse_mx_overrides(None) == {}
    assert parse_mx_overrides("") == {}
    assert parse_mx_overrides("a.test=mx.a.test, b.test=[2001:db8::1]:2600,") == {
        "a.test": Hop("mx.a.test", 25),
        "b.test": Hop("2001:db8::1", 2600),
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a.test", "domain=host:port"),
        ("=127.0.0.1:25", "domain=host:port"),
        ("a.test=", "domain=host:port"),
        ("a.test=127.0.0.1:x", "port must be a number"),
        ("a.test=127.0.0.1:0", "port must be a number"),
        ("a.test=::1:25", r"\[addr\]:port"),
        ("a.test=[::1", r"\[addr\]:port"),
        ("a.test=:25", "host is missing"),
    ],
)
def test_malformed_mx_overrides_are_refused_clearly(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_mx_overrides(value)
