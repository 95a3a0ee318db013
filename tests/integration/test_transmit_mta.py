"""Outbound duties towards a peer MTA, against the loopback sink: a refusal of our own HELO name is retried (never
a bounce of the recipient), and non-ASCII addresses go with SMTPUTF8 where offered and bounce 5.6.7 where not."""

from __future__ import annotations

import logging

import pytest

from postroom.delivery.routing import Hop
from postroom.delivery.transmit import transmit
from postroom.domain.outbound import DeliveryResult, enhanced_status
from tests.support.sink import SinkServer

HELO = "mail.agents.example.org"
RETURN_PATH = "bounces=msg_01jd9x@agents.example.org"


def raw(to: str) -> bytes:
    return f"From: agent@agents.example.org\r\nTo: {to}\r\nSubject: Hi\r\n\r\nHello.\r\n".encode()


async def send(sink: SinkServer, recipients: list[str], helo: str = HELO) -> list[DeliveryResult]:
    return await transmit(
        [Hop(sink.host, sink.port)],
        mail_from=RETURN_PATH,
        recipients=recipients,
        raw=raw(recipients[0]),
        helo_name=helo,
        timeout=10,
    )


async def test_a_refusal_naming_our_helo_is_temporary_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with SinkServer() as sink:
        # As Postfix answers with reject_non_fqdn_helo_hostname (its HELO check is delayed until RCPT).
        sink.script_rcpt("alice@b.test", "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")
        sink.script_rcpt("bob@b.test", "550 5.1.1 No such user")
        with caplog.at_level(logging.ERROR, logger="postroom.delivery"):
            alice, bob = await send(sink, ["alice@b.test", "bob@b.test"], helo="localhost")
    assert (alice.outcome, alice.code) == ("temporary", 504)
    assert alice.detail.startswith("our EHLO name was refused: ")
    assert (bob.outcome, bob.code) == ("permanent", 550)  # a refusal of the recipient stays a bounce
    assert any("refused our EHLO name 'localhost'" in record.getMessage() for record in caplog.records)


async def test_non_ascii_addresses_go_with_smtputf8_where_the_next_hop_offers_it() -> None:
    with SinkServer(smtputf8=True) as sink:
        [result] = await send(sink, ["zoë@b.test"])
        [message] = sink.wait_for(1)
    assert result.outcome == "delivered", result
    assert message.rcpt_tos == ["zoë@b.test"]
    assert message.raw.startswith(b"From: agent@agents.example.org\r\nTo: zo\xc3\xab@b.test\r\n")


async def test_non_ascii_addresses_bounce_5_6_7_where_the_next_hop_lacks_smtputf8() -> None:
    with SinkServer() as sink:
        results = await send(sink, ["zoë@b.test", "ann@b.test"])
        assert sink.messages == []
    assert [r.outcome for r in results] == ["permanent", "permanent"]
    assert [enhanced_status(r) for r in results] == ["5.6.7", "5.6.7"]
    assert "does not support SMTPUTF8" in results[0].detail


async def test_utf8_header_fields_alone_need_smtputf8_too() -> None:
    with SinkServer() as sink:
        [result] = await transmit(
            [Hop(sink.host, sink.port)],
            mail_from=RETURN_PATH,
            recipients=["ann@b.test"],
            raw=raw("zoë@c.test, ann@b.test"),
            helo_name=HELO,
            timeout=10,
        )
    assert (result.outcome, enhanced_status(result)) == ("permanent", "5.6.7")
