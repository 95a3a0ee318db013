"""Pure rules behind Postroom's MTA duties: trace fields, enhanced status codes, the outbound EHLO name, SMTPUTF8."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postroom.config import Settings
from postroom.delivery.transmit import needs_smtputf8
from postroom.domain.zone import is_fully_qualified
from postroom.mime.compose import Outgoing, compose
from postroom.runtime import outbound_helo_name
from postroom.services.mail.trace import SmtpHop, prepend_headers, received, return_path, trace_fields
from postroom.services.sending.outgoing import bare, check_addresses
from postroom.smtp.handler import mx_extensions
from postroom.smtp.replies import with_enhanced_code

AT = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)


def hop(**changes: object) -> SmtpHop:
    values: dict[str, object] = {
        "helo": "mail.example.org",
        "ip": "192.0.2.7",
        "by": "mx.postroom.test",
        "esmtp": True,
        "tls": True,
        "recipients": ("agent@postroom.test",),
        "transaction_id": "01abc",
    }
    values.update(changes)
    return SmtpHop(**values)  # type: ignore[arg-type]


def test_received_names_client_server_protocol_id_recipient_and_date() -> None:
    assert received(hop(), AT) == (
        "Received",
        "from mail.example.org ([192.0.2.7]) by mx.postroom.test with ESMTPS id 01abc for <agent@postroom.test>; "
        "Tue, 06 Jan 2026 10:00:00 +0000",
    )
    assert " with ESMTP id " in received(hop(tls=False), AT)[1]
    assert " with SMTP id " in received(hop(esmtp=False, tls=False), AT)[1]
    assert "([IPv6:2001:db8::1])" in received(hop(ip="2001:db8::1"), AT)[1]
    assert received(hop(helo="[192.0.2.7]"), AT)[1].startswith("from [192.0.2.7] (")
    assert received(hop(helo=None), AT)[1].startswith("from unknown (")
    assert " for " not in received(hop(recipients=("a@x.test", "b@x.test")), AT)[1]


@pytest.mark.parametrize(
    "helo",
    ["x\r\nBcc: evil@example.org", "x; Mon, 1 Jan 2024", "x (y) by z", "[10.0.0.1] x", "x\x00y", "é" * 300],
)
def test_a_hostile_helo_cannot_add_a_field_a_clause_or_an_address(helo: str) -> None:
    name, value = received(hop(helo=helo), AT)
    from_clause = value.split(" ([192.0.2.7])", 1)[0]
    assert from_clause.startswith("from ")
    assert len(from_clause) <= 5 + 255
    assert not set(from_clause[5:]) & set("\r\n\x00 ;()[]<>")
    added = prepend_headers(b"Subject: x\r\n\r\nbody", [(name, value)]).split(b"Subject: x\r\n")[0]
    first, *continued = added.removesuffix(b"\r\n").split(b"\r\n")
    assert first.startswith(b"Received: from ")
    assert all(line[:1] == b"\t" for line in continued)  # one field: any further line is a folded continuation


def test_return_path_is_the_reverse_path_or_empty_and_never_breaks_the_field() -> None:
    assert return_path("ann@example.org") == ("Return-Path", "<ann@example.org>")
    assert return_path(None) == ("Return-Path", "<>")
    assert return_path("<>") == ("Return-Path", "<>")
    assert return_path("a\r\nb>@x") == ("Return-Path", "<a??b?@x>")


def test_trace_fields_put_return_path_on_top_and_our_received_below_the_verdict() -> None:
    verdict = [("Authentication-Results", "mx; none")]
    assert [name for name, _ in trace_fields("a@b.test", hop(), AT, verdict)] == [
        "Return-Path",
        "Authentication-Results",
        "Received",
    ]
    assert [name for name, _ in trace_fields("a@b.test", None, AT, verdict)] == [
        "Return-Path",
        "Authentication-Results",
    ]
    raw = b"From: a@b.test\nSubject: bare LF\n\nbody\n"
    assert prepend_headers(raw, trace_fields(None, None, AT, [])) == b"Return-Path: <>\n" + raw


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("250 OK", "250 2.0.0 OK"),
        ("221 Bye", "221 2.0.0 Bye"),
        ("503 Error: need MAIL command", "503 5.5.1 Error: need MAIL command"),
        ("501 Syntax: RCPT TO: <address>", "501 5.5.4 Syntax: RCPT TO: <address>"),
        ('500 Error: command "X" not recognized', '500 5.5.2 Error: command "X" not recognized'),
        ("252 Cannot VRFY user, but will accept message and attempt delivery", None),
        ("220 Ready to start TLS", "220 2.0.0 Ready to start TLS"),
        ("454 TLS not available", "454 4.7.0 TLS not available"),
        ("250 2.1.5 Recipient ok", "250 2.1.5 Recipient ok"),
        ("550 5.1.1 No such mailbox here", "550 5.1.1 No such mailbox here"),
        ("354 End data with <CR><LF>.<CR><LF>", "354 End data with <CR><LF>.<CR><LF>"),
    ],
)
def test_replies_without_an_enhanced_code_get_one(reply: str, expected: str | None) -> None:
    assert with_enhanced_code(reply) == (expected or "252 2.0.0 " + reply[4:])


def test_the_mx_advertises_enhanced_status_codes_and_no_auth() -> None:
    lines = ["250-mx.test", "250-SIZE 100", "250-STARTTLS", "250-AUTH LOGIN PLAIN", "250 HELP"]
    assert mx_extensions(lines) == [
        "250-mx.test",
        "250-SIZE 100",
        "250-STARTTLS",
        "250-ENHANCEDSTATUSCODES",
        "250 HELP",
    ]


@pytest.mark.parametrize(
    ("name", "qualified"),
    [
        ("mail.example.org", True),
        ("mail.postroom.localhost", True),
        ("mx.example.org.", True),
        ("localhost", False),
        ("mail", False),
        ("192.0.2.1", False),
        ("[192.0.2.1]", False),
        ("bad_host..example", False),
        ("", False),
    ],
)
def test_fully_qualified_names(name: str, qualified: bool) -> None:
    assert is_fully_qualified(name) is qualified


def test_the_outbound_ehlo_name_is_the_mail_host_and_must_be_fully_qualified() -> None:
    assert outbound_helo_name(Settings()) == "mail.postroom.localhost"  # smtp_hostname localhost is not used
    assert outbound_helo_name(Settings(smtp_hostname="mx.example.org")) == "mx.example.org"
    assert outbound_helo_name(Settings(mail_host="out.example.org")) == "out.example.org"
    with pytest.raises(ValueError, match="POSTROOM_ALLOW_NON_FQDN_HELO"):
        outbound_helo_name(Settings(mail_host="localhost"))
    assert outbound_helo_name(Settings(mail_host="localhost", allow_non_fqdn_helo=True)) == "localhost"


def test_non_ascii_local_parts_are_accepted_and_need_smtputf8() -> None:
    assert check_addresses(["Zoë <zoë@bücher.example>"], "to") == ["Zoë <zoë@bücher.example>"]
    assert bare("Zoë <zoë@bücher.example>") == "zoë@xn--bcher-kva.example"
    for hostile in ["zo\x85ë@example.org", "zo\u2028ë@example.org", "a b@example.org"]:
        with pytest.raises(Exception, match=r"not an email address|local part"):
            check_addresses([hostile], "to")
    assert needs_smtputf8("bounces=x@a.test", ["zoë@b.test"], b"Subject: x\r\n\r\n")
    assert needs_smtputf8("bounces=x@a.test", ["ann@b.test"], "To: zoë@b.test\r\n\r\n".encode())
    assert not needs_smtputf8("bounces=x@a.test", ["ann@b.test"], "Subject: x\r\n\r\nbody ë".encode())


def test_a_message_to_a_non_ascii_local_part_has_utf8_headers_not_encoded_words() -> None:
    raw = compose(Outgoing(message_id="<m@a.test>", date=AT, from_="agent@a.test", to=["Zoë <zoë@b.test>"]))
    assert "To: Zoë <zoë@b.test>\r\n".encode() in raw
    ascii_only = compose(Outgoing(message_id="<m@a.test>", date=AT, from_="agent@a.test", to=["Zoë <zoe@b.test>"]))
    assert b"To: =?utf-8?q?Zo=C3=AB?= <zoe@b.test>\r\n" in ascii_only
