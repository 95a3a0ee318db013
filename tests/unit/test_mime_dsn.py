"""parse_dsn on hand-written bounces in the shapes Postfix, Exim and Gmail send; it never raises on anything."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postroom.mime.compose import Outgoing, compose
from postroom.mime.dsn import Dsn, DsnRecipient, is_permanent_failure, parse_dsn

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


POSTFIX = crlf("""\
Return-Path: <>
Received: by mx.sender.example (Postfix) id 3F1A2C0123; Wed, 25 Nov 2026 18:30:02 +0000 (UTC)
Date: Wed, 25 Nov 2026 18:30:02 +0000 (UTC)
From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: agent@sender.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="3F1A2C0123.1764095402/mx.sender.example"
Message-Id: <20261125183002.3F1A2C0123@mx.sender.example>

This is a MIME-encapsulated message.

--3F1A2C0123.1764095402/mx.sender.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.sender.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<nobody@receiver.example>: host mx.receiver.example[192.0.2.25] said: 550 5.1.1
    <nobody@receiver.example>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

--3F1A2C0123.1764095402/mx.sender.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example
X-Postfix-Queue-ID: 3F1A2C0123
X-Postfix-Sender: rfc822; agent@sender.example
Arrival-Date: Wed, 25 Nov 2026 18:30:01 +0000 (UTC)

Final-Recipient: rfc822; Nobody@Receiver.example
Original-Recipient: rfc822;nobody@receiver.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.receiver.example
Diagnostic-Code: smtp; 550 5.1.1 <nobody@receiver.example>: Recipient address
    rejected: User unknown in virtual mailbox table

--3F1A2C0123.1764095402/mx.sender.example
Content-Description: Undelivered Message
Content-Type: message/rfc822

Message-ID: <01a2b3c4d5e6.0011223344556677@sender.example>
Date: Wed, 25 Nov 2026 18:30:00 +0000
From: agent@sender.example
To: nobody@receiver.example
Subject: Hello

Hello there.

--3F1A2C0123.1764095402/mx.sender.example--
""")

EXIM = crlf("""\
Return-path: <>
From: Mail Delivery System <Mailer-Daemon@mail.exim.example>
To: agent@sender.example
References: <orig-exim@sender.example>
Content-Type: multipart/report; report-type=delivery-status; boundary=1764095402-eximdsn-1804289383
MIME-Version: 1.0
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1vNxyz-000123-AB@mail.exim.example>
Date: Wed, 25 Nov 2026 18:30:02 +0000

--1764095402-eximdsn-1804289383
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  someone@exim.example
    host mx.exim.example [198.51.100.7]
    SMTP error from remote mail server after RCPT TO:<someone@exim.example>:
    550 No Such User Here

--1764095402-eximdsn-1804289383
Content-type: message/delivery-status

Reporting-MTA: dns; mail.exim.example

Action: failed
Final-Recipient: rfc822;someone@exim.example
Status: 5.0.0
Remote-MTA: dns; mx.exim.example
Diagnostic-Code: smtp; 550 No Such User Here

--1764095402-eximdsn-1804289383
Content-type: message/rfc822

Return-path: <agent@sender.example>
Message-ID: <orig-exim@sender.example>
From: agent@sender.example
To: someone@exim.example
Subject: Hi

Hi.

--1764095402-eximdsn-1804289383--
""")

GMAIL = crlf("""\
Delivered-To: agent@sender.example
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: agent@sender.example
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
References: <gmail-orig@sender.example>
In-Reply-To: <gmail-orig@sender.example>
X-Failed-Recipients: missing.person@gmail.com
Message-ID: <6565a1b2.a70a0220.1234.abcd.GMR@mx.google.com>
Date: Wed, 25 Nov 2026 10:30:02 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000aa11bb22cc33dd44"; report-type=delivery-status

--000000000000aa11bb22cc33dd44
Content-Type: multipart/related; boundary="000000000000aa11bb22cc33dd45"

--000000000000aa11bb22cc33dd45
Content-Type: text/html; charset="UTF-8"

<html><body><h2>Address not found</h2>
<p>Your message wasn't delivered to <a>missing.person@gmail.com</a></p></body></html>

--000000000000aa11bb22cc33dd45
Content-Type: image/png; name="icon.png"
Content-Disposition: attachment; filename="icon.png"
Content-Transfer-Encoding: base64
Content-ID: <icon.png>

iVBORw0KGgo=
--000000000000aa11bb22cc33dd45--

--000000000000aa11bb22cc33dd44
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; agent@sender.example
Arrival-Date: Wed, 25 Nov 2026 10:30:01 -0800 (PST)
X-Original-Message-ID: <gmail-orig@sender.example>

Final-Recipient: rfc822; missing.person@gmail.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.1.26, the server for the
 domain gmail.com.)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.
 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser - gsmtp
Last-Attempt-Date: Wed, 25 Nov 2026 10:30:02 -0800 (PST)

--000000000000aa11bb22cc33dd44
Content-Type: text/rfc822-headers

Return-Path: <agent@sender.example>
Received: from sender.example by mx.google.com; Wed, 25 Nov 2026 10:30:01 -0800 (PST)
Message-ID: <gmail-orig@sender.example>
From: Agent <agent@sender.example>
To: missing.person@gmail.com
Subject: Hello Gmail

--000000000000aa11bb22cc33dd44--
""")


def report(status: str, *, returned: str = "", extra_params: str = "", status_headers: str = "") -> bytes:
    """A minimal multipart/report around the given delivery-status text (and optional returned headers)."""
    parts = [
        "--XYZ\nContent-Type: text/plain\n\nReport.\n",
        f"--XYZ\nContent-Type: message/delivery-status\n{status_headers}\n{status}\n",
    ]
    if returned:
        parts.append(f"--XYZ\nContent-Type: text/rfc822-headers\n\n{returned}\n")
    head = (
        "From: MAILER-DAEMON@mta.example\nTo: agent@sender.example\nSubject: report\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="XYZ"{extra_params}\n\n'
    )
    return crlf(head + "".join(parts) + "--XYZ--\n")


def test_postfix_bounce() -> None:
    assert parse_dsn(POSTFIX) == Dsn(
        recipients=[
            DsnRecipient(
                address="nobody@receiver.example",
                action="failed",
                status="5.1.1",
                diagnostic="550 5.1.1 <nobody@receiver.example>: Recipient address rejected: User unknown in"
                " virtual mailbox table",
            )
        ],
        original_message_id="<01a2b3c4d5e6.0011223344556677@sender.example>",
        envelope_id=None,
    )
    assert is_permanent_failure(parse_dsn(POSTFIX).recipients[0])  # type: ignore[union-attr]


def test_exim_bounce_with_lowercase_content_type_headers() -> None:
    dsn = parse_dsn(EXIM)
    assert dsn is not None
    assert dsn.recipients == [
        DsnRecipient(
            address="someone@exim.example", action="failed", status="5.0.0", diagnostic="550 No Such User Here"
        )
    ]
    assert dsn.original_message_id == "<orig-exim@sender.example>"


def test_gmail_bounce_with_rfc822_headers_part() -> None:
    dsn = parse_dsn(GMAIL)
    assert dsn is not None
    [recipient] = dsn.recipients
    assert recipient.address == "missing.person@gmail.com"
    assert (recipient.action, recipient.status) == ("failed", "5.1.1")
    assert recipient.diagnostic is not None
    assert recipient.diagnostic.startswith("550-5.1.1 The email account that you tried to reach does not exist.")
    assert recipient.diagnostic.endswith("NoSuchUser - gsmtp")
    assert dsn.original_message_id == "<gmail-orig@sender.example>"
    assert dsn.envelope_id is None


def test_delayed_is_not_permanent() -> None:
    raw = report(
        "Reporting-MTA: dns; relay.example\nOriginal-Envelope-Id: 01a2b3c4.env\n\n"
        "Final-Recipient: rfc822; slow@far.example\nAction: delayed\nStatus: 4.4.1\n"
        "Diagnostic-Code: smtp; 421 4.4.1 Connection timed out\nWill-Retry-Until: Thu, 26 Nov 2026 18:30:00 +0000\n",
        returned="Message-ID: <delayed@sender.example>\nSubject: x\n",
    )
    dsn = parse_dsn(raw)
    assert dsn == Dsn(
        recipients=[
            DsnRecipient(
                address="slow@far.example",
                action="delayed",
                status="4.4.1",
                diagnostic="421 4.4.1 Connection timed out",
            )
        ],
        original_message_id="<delayed@sender.example>",
        envelope_id="01a2b3c4.env",
    )
    assert not is_permanent_failure(dsn.recipients[0])


def test_multiple_recipients_in_order() -> None:
    raw = report(
        "Reporting-MTA: dns; relay.example\n\n"
        "Final-Recipient: rfc822; gone@a.example\nAction: failed\nStatus: 5.1.1\n\n"
        "Final-Recipient: rfc822; ok@b.example\nAction: delivered\nStatus: 2.0.0\n\n"
        "Final-Recipient: rfc822; later@c.example\nAction: delayed\nStatus: 4.2.2 (mailbox full)\n\n"
        "Final-Recipient: rfc822; <quota@d.example>\nAction: FAILED\nStatus: 4.2.2\n"
    )
    dsn = parse_dsn(raw)
    assert dsn is not None
    assert [(item.address, item.action, item.status) for item in dsn.recipients] == [
        ("gone@a.example", "failed", "5.1.1"),
        ("ok@b.example", "delivered", "2.0.0"),
        ("later@c.example", "delayed", "4.2.2"),
        ("quota@d.example", "failed", "4.2.2"),
    ]
    assert [is_permanent_failure(item) for item in dsn.recipients] == [True, False, False, False]
    assert dsn.original_message_id is None
    assert all(item.diagnostic is None for item in dsn.recipients)


def test_missing_per_recipient_fields() -> None:
    raw = report(
        "Reporting-MTA: dns; relay.example\n\n"
        # no Status: taken from the Diagnostic-Code
        "Final-Recipient: rfc822; a@x.example\nAction: failed\nDiagnostic-Code: smtp; 550 5.7.1 Blocked by policy\n\n"
        # no Action: taken from the Status class
        "Final-Recipient: rfc822; b@x.example\nStatus: 5.2.2\n\n"
        # no Final-Recipient: the Original-Recipient
        "Original-Recipient: rfc822; C@X.example\nAction: failed\nStatus: 5.1.10\n\n"
        # no Status anywhere: the Action's class
        "Final-Recipient: rfc822; d@x.example\nAction: failed\n\n"
        # neither Action nor Status: nothing to report
        "Final-Recipient: rfc822; e@x.example\n\n"
        # no address at all
        "Action: failed\nStatus: 5.0.0\n\n"
        # an address that is not one
        "Final-Recipient: rfc822; not an address\nAction: failed\nStatus: 5.0.0\n"
    )
    dsn = parse_dsn(raw)
    assert dsn is not None
    assert dsn.recipients == [
        DsnRecipient("a@x.example", "failed", "5.7.1", "550 5.7.1 Blocked by policy"),
        DsnRecipient("b@x.example", "failed", "5.2.2", None),
        DsnRecipient("c@x.example", "failed", "5.1.10", None),
        DsnRecipient("d@x.example", "failed", "5.0.0", None),
    ]


def test_base64_encoded_status_part() -> None:
    status = crlf(
        "Reporting-MTA: dns; x.example\n\nFinal-Recipient: rfc822; b64@x.example\nAction: failed\nStatus: 5.1.1\n"
    )
    raw = report(base64.encodebytes(status).decode(), status_headers="Content-Transfer-Encoding: base64\n")
    dsn = parse_dsn(raw)
    assert dsn is not None
    assert dsn.recipients == [DsnRecipient("b64@x.example", "failed", "5.1.1", None)]


def test_report_type_missing_still_reads_a_status_part() -> None:
    raw = report("Final-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 5.1.1\n").replace(
        b"report-type=delivery-status; ", b""
    )
    dsn = parse_dsn(raw)
    assert dsn is not None
    assert [item.address for item in dsn.recipients] == ["a@x.example"]


def test_not_a_delivery_status_report() -> None:
    mdn = report("Final-Recipient: rfc822; a@x.example\nDisposition: manual-action/MDN-sent-manually; displayed\n")
    assert parse_dsn(mdn.replace(b"report-type=delivery-status", b"report-type=disposition-notification")) is None
    no_status_part = report("x").replace(b"message/delivery-status", b"text/plain")
    assert parse_dsn(no_status_part) is None
    ordinary = compose(Outgoing(message_id="<m@x.example>", date=datetime.now(UTC), from_="a@x.example", text="hi"))
    assert parse_dsn(ordinary) is None
    assert parse_dsn(b"") is None
    assert parse_dsn(b"\x00\xff\xfe garbage \r\n\r\n\x80") is None
    assert parse_dsn(b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno boundary") is None


def test_empty_report_has_no_recipients() -> None:
    dsn = parse_dsn(report("Reporting-MTA: dns; x.example\n"))
    assert dsn == Dsn(recipients=[], original_message_id=None, envelope_id=None)


@FUZZ
@given(st.binary(max_size=4096))
def test_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    result = parse_dsn(raw)
    assert result is None or isinstance(result, Dsn)


SAMPLES = [POSTFIX, EXIM, GMAIL]


@FUZZ
@given(st.sampled_from(SAMPLES), st.data())
def test_never_raises_on_damaged_reports(raw: bytes, data: st.DataObject) -> None:
    mutable = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 12), label="edits")):
        start = data.draw(st.integers(0, len(mutable)), label="start")
        end = data.draw(st.integers(start, min(len(mutable), start + 200)), label="end")
        mutable[start:end] = data.draw(st.binary(max_size=40), label="junk")
    result = parse_dsn(bytes(mutable))
    if result is not None:
        for recipient in result.recipients:
            assert "@" in recipient.address
            assert recipient.address == recipient.address.lower()
            assert recipient.action in ("failed", "delayed", "delivered", "relayed", "expanded")
            assert recipient.status[0] in "245"


@FUZZ
@given(st.text(max_size=1500).filter(lambda text: "XYZ" not in text))
def test_never_raises_on_arbitrary_status_text(status: str) -> None:
    result = parse_dsn(report(status))
    assert result is not None
    assert all("@" in item.address for item in result.recipients)
