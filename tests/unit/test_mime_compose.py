"""compose() round-trips through parse_message; reply and forward rules (subjects, References, recipients, quoting)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postroom.mime.compose import (
    HeaderError,
    Outgoing,
    OutgoingAttachment,
    check_custom_headers,
    compose,
    new_message_id,
)
from postroom.mime.parse import ParsedMessage, parse_message
from postroom.mime.replies import (
    forward_subject,
    forwarded_html,
    forwarded_text,
    reply_recipients,
    reply_references,
    reply_subject,
)

DATE = datetime(2026, 11, 25, 18, 27, 5, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def outgoing(**fields: object) -> Outgoing:
    values: dict[str, object] = {"message_id": "<m1@example.com>", "date": DATE, "from_": "agent@example.com"}
    values.update(fields)
    return Outgoing(**values)  # type: ignore[arg-type]


def roundtrip(message: Outgoing) -> tuple[bytes, ParsedMessage]:
    raw = compose(message)
    return raw, parse_message(raw, fallback_domain="fallback.example")


def structure(raw: bytes) -> list[str]:
    """Content types in tree order, indented by depth."""
    found: list[str] = []

    def walk(part: object, depth: int) -> None:
        assert hasattr(part, "get_content_type")
        found.append("  " * depth + part.get_content_type())
        if part.is_multipart():  # type: ignore[attr-defined]
            for child in part.get_payload():  # type: ignore[attr-defined]
                walk(child, depth + 1)

    walk(message_from_bytes(raw, policy=default), 0)
    return found


def headers_section(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def assert_wire_safe(raw: bytes) -> None:
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # every line end is CRLF
    assert b"\r" not in raw.replace(b"\r\n", b"")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998


# --- structure ------------------------------------------------------------------------------------------------


def test_text_only_is_a_single_ascii_text_part() -> None:
    raw, parsed = roundtrip(outgoing(to=["bob@example.org"], subject="Hello", text="Hi Bob,\nsee you.\n"))
    assert structure(raw) == ["text/plain"]
    assert b"Content-Transfer-Encoding: 7bit" in raw
    assert b"MIME-Version: 1.0" in headers_section(raw)
    assert parsed.text == "Hi Bob,\nsee you.\n"
    assert parsed.html is None
    assert parsed.date == DATE


def test_html_only_is_text_html() -> None:
    raw, parsed = roundtrip(outgoing(html="<p>Hi</p>"))
    assert structure(raw) == ["text/html"]
    assert parsed.html is not None
    assert parsed.html.strip() == "<p>Hi</p>"
    assert parsed.text is None


def test_text_and_html_are_alternatives_text_first() -> None:
    raw, parsed = roundtrip(outgoing(text="Hi", html="<p>Hi</p>"))
    assert structure(raw) == ["multipart/alternative", "  text/plain", "  text/html"]
    assert parsed.text is not None
    assert parsed.text.strip() == "Hi"
    assert parsed.html is not None
    assert parsed.html.strip() == "<p>Hi</p>"


def test_no_body_gives_an_empty_text_part() -> None:
    raw, parsed = roundtrip(outgoing(to=["bob@example.org"]))
    assert structure(raw) == ["text/plain"]
    assert (parsed.text or "").strip() == ""
    assert parsed.attachments == []


def test_attachments_wrap_the_body_in_mixed() -> None:
    raw, parsed = roundtrip(
        outgoing(
            text="see attached",
            html="<p>see attached</p>",
            attachments=[OutgoingAttachment(b"a,b\r\n1,2\r\n", filename="data.csv")],
        )
    )
    assert structure(raw) == [
        "multipart/mixed",
        "  multipart/alternative",
        "    text/plain",
        "    text/html",
        "  text/csv",
    ]
    [attachment] = parsed.attachments
    assert (attachment.filename, attachment.content_type, attachment.content_disposition) == (
        "data.csv",
        "text/csv",
        "attachment",
    )
    assert attachment.content == b"a,b\r\n1,2\r\n"
    assert b"Content-Transfer-Encoding: base64" in raw


def test_inline_cid_image_goes_into_related_inside_alternative_inside_mixed() -> None:
    raw, parsed = roundtrip(
        outgoing(
            text="logo below",
            html='<p>logo <img src="cid:logo@x"></p>',
            attachments=[
                OutgoingAttachment(PNG, filename="logo.png", content_disposition="inline", content_id="logo@x"),
                OutgoingAttachment(b"%PDF-1.7\n\x00\xff", filename="report.pdf"),
            ],
        )
    )
    assert structure(raw) == [
        "multipart/mixed",
        "  multipart/alternative",
        "    text/plain",
        "    multipart/related",
        "      text/html",
        "      image/png",
        "  application/pdf",
    ]
    assert b"Content-ID: <logo@x>" in raw
    by_name = {item.filename: item for item in parsed.attachments}
    assert by_name["logo.png"].content_id == "logo@x"
    assert by_name["logo.png"].content_disposition == "inline"
    assert by_name["logo.png"].content == PNG
    assert by_name["report.pdf"].content_type == "application/pdf"
    assert by_name["report.pdf"].content == b"%PDF-1.7\n\x00\xff"


def test_html_only_with_inline_image_is_related_at_the_top() -> None:
    raw, parsed = roundtrip(
        outgoing(
            html='<img src="cid:a">',
            attachments=[
                OutgoingAttachment(PNG, content_type="image/png", content_disposition="inline", content_id="<a>")
            ],
        )
    )
    assert structure(raw) == ["multipart/related", "  text/html", "  image/png"]
    assert parsed.attachments[0].content_id == "a"


def test_inline_without_html_stays_in_mixed() -> None:
    raw, parsed = roundtrip(
        outgoing(
            text="x",
            attachments=[OutgoingAttachment(PNG, filename="a.png", content_disposition="inline", content_id="a")],
        )
    )
    assert structure(raw) == ["multipart/mixed", "  text/plain", "  image/png"]
    assert parsed.attachments[0].content_disposition == "inline"


def test_attachment_content_type_guessed_or_octet_stream() -> None:
    _raw, parsed = roundtrip(
        outgoing(
            attachments=[
                OutgoingAttachment(b"1", filename="notes.txt"),
                OutgoingAttachment(b"2", filename="blob.unknownext"),
                OutgoingAttachment(b"3"),
                OutgoingAttachment(b"4", filename="x.bin", content_type="Application/JSON; charset=utf-8"),
            ]
        )
    )
    types = [item.content_type for item in parsed.attachments]
    assert types == ["text/plain", "application/octet-stream", "application/octet-stream", "application/json"]
    assert [item.content for item in parsed.attachments] == [b"1", b"2", b"3", b"4"]


# --- round trip of headers and text ----------------------------------------------------------------------------


def test_full_roundtrip_non_ascii() -> None:
    message = outgoing(
        message_id="<abc.123@example.com>",
        from_="Zoë Ünïcode <zoe@example.com>",
        to=['"Doe, John" <john@example.org>', "plain@example.net"],
        cc=["Renée <renee@example.fr>"],
        reply_to=["replies@example.com"],
        subject="Grüße 日本",
        text="Grüße aus 日本\nZweite Zeile\n",
        html="<p>Grüße aus 日本</p>",
        attachments=[OutgoingAttachment(b"%PDF", filename="résumé.pdf")],
        in_reply_to="<parent@example.org>",
        references=["<root@example.org>", "<parent@example.org>"],
    )
    raw, parsed = roundtrip(message)
    assert raw.isascii()  # RFC 2047, RFC 2231 and a transfer encoding: no 8-bit byte on the wire
    assert parsed.message_id == "<abc.123@example.com>"
    assert parsed.from_ == "Zoë Ünïcode <zoe@example.com>"
    assert parsed.from_address == "zoe@example.com"
    assert parsed.to == ['"Doe, John" <john@example.org>', "plain@example.net"]
    assert parsed.cc == ["Renée <renee@example.fr>"]
    assert parsed.reply_to == ["replies@example.com"]
    assert parsed.subject == "Grüße 日本"
    assert parsed.text == "Grüße aus 日本\nZweite Zeile\n"
    assert parsed.html is not None
    assert parsed.html.strip() == "<p>Grüße aus 日本</p>"
    assert parsed.in_reply_to == "<parent@example.org>"
    assert parsed.references == ["<root@example.org>", "<parent@example.org>"]
    [attachment] = parsed.attachments
    assert attachment.filename == "résumé.pdf"
    assert attachment.content_type == "application/pdf"
    assert b"filename*=utf-8''r%C3%A9sum%C3%A9.pdf" in raw
    assert_wire_safe(raw)


def test_long_lines_dots_and_from_lines_survive() -> None:
    text = "Start\n.leading dot\n..two dots\nFrom the top\n" + "x" * 5000 + "\nend\n"
    raw, parsed = roundtrip(outgoing(text=text, html="<p>" + "y" * 5000 + "</p>"))
    assert parsed.text == text
    assert parsed.html is not None
    assert parsed.html.strip() == "<p>" + "y" * 5000 + "</p>"
    assert_wire_safe(raw)


def test_long_non_ascii_line() -> None:
    text = "ü" * 3000 + "\n"
    raw, parsed = roundtrip(outgoing(text=text))
    assert parsed.text == text
    assert_wire_safe(raw)


def test_crlf_lf_and_cr_mixes_become_one_line_end() -> None:
    raw, parsed = roundtrip(outgoing(text="one\r\ntwo\nthree\rfour\r\n"))
    assert parsed.text == "one\ntwo\nthree\nfour\n"
    assert_wire_safe(raw)


def test_bcc_never_written() -> None:
    raw = compose(outgoing(to=["a@example.org"], bcc=["Hidden Person <hidden@example.net>", "secret@example.net"]))
    assert b"hidden" not in raw.lower()
    assert b"secret@" not in raw
    assert b"bcc" not in raw.lower()


def test_date_in_rfc5322_form_and_utc() -> None:
    paris = timezone(timedelta(hours=1))
    raw = compose(outgoing(date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=paris)))
    assert b"Date: Fri, 02 Jan 2026 02:04:05 +0000\r\n" in headers_section(raw)


def test_long_references_and_ids_stay_plain_and_folded() -> None:
    ids = [f"<{'r' * 60}.{index}@example.org>" for index in range(30)]
    long_id = "<" + "q" * 300 + "@example.org>"
    raw, parsed = roundtrip(outgoing(message_id=long_id, in_reply_to=ids[-1], references=ids))
    head = headers_section(raw)
    assert b"=?" not in head  # no encoded words: ids must stay literal
    assert parsed.message_id == long_id
    assert parsed.references == ids
    assert parsed.in_reply_to == ids[-1]
    assert_wire_safe(raw)


def test_long_subject_and_custom_headers_folded() -> None:
    subject = " ".join(f"word{index}" for index in range(200))
    token = "t" * 500
    raw, parsed = roundtrip(outgoing(subject=subject, headers={"X-Token": token, "X-Label": "Grüße " * 40}))
    assert parsed.subject == subject
    assert parsed.headers["X-Token"] == token
    assert parsed.headers["X-Label"] == ("Grüße " * 40).strip()
    assert_wire_safe(raw)


def test_subject_line_breaks_become_spaces() -> None:
    _raw, parsed = roundtrip(outgoing(subject="one\r\ntwo\nthree"))
    assert parsed.subject == "one two three"


def test_custom_headers_come_after_the_standard_ones() -> None:
    raw = compose(outgoing(subject="s", headers={"X-First": "1", "X-Second": "zwei"}))
    names = [line.split(b":", 1)[0] for line in headers_section(raw).split(b"\r\n") if not line[:1].isspace()]
    assert names.index(b"X-First") > names.index(b"MIME-Version") > names.index(b"Message-ID")
    assert names.index(b"X-Second") > names.index(b"X-First")


def test_idn_domain_is_punycoded() -> None:
    raw, parsed = roundtrip(outgoing(to=["Jörg <jorg@bücher.example>"]))
    assert b"jorg@xn--bcher-kva.example" in raw
    assert parsed.to == ["Jörg <jorg@xn--bcher-kva.example>"]


# --- refusals --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"X-Ok\r\nBcc": "x"}, "X-Ok"),
        ({"X-Bad": "a\r\nBcc: evil@example.com"}, "X-Bad"),
        ({"X-Nul": "a\x00b"}, "X-Nul"),
        ({"X-Lf": "a\nb"}, "X-Lf"),
        ({"X Space": "x"}, "X Space"),
        ({"X:Colon": "x"}, "X:Colon"),
        ({"": "x"}, "''"),
        ({"X-Ünï": "x"}, "X-Ünï"),
        ({"subject": "x"}, "subject"),
        ({"BCC": "x"}, "BCC"),
        ({"Message-Id": "<x@y>"}, "Message-Id"),
        ({"dkim-signature": "x"}, "dkim-signature"),
        ({"Return-Path": "x"}, "Return-Path"),
        ({"Content-Type": "text/plain"}, "Content-Type"),
        ({"Sender": "x@y"}, "Sender"),
    ],
)
def test_check_custom_headers_refuses(headers: dict[str, str], named: str) -> None:
    with pytest.raises(HeaderError, match=re.escape(named)):
        check_custom_headers(headers)
    with pytest.raises(HeaderError):
        compose(outgoing(headers=headers))


def test_check_custom_headers_accepts_ordinary_ones() -> None:
    check_custom_headers({"X-Agent-Run": "42", "List-Unsubscribe": "<mailto:u@example.com>", "X-Tab": "a\tb"})


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"from_": "not an address"}, "From"),
        ({"to": ["a@example.org", "two@x.org, three@x.org"]}, "To"),
        ({"cc": [""]}, "Cc"),
        ({"reply_to": ["nobody"]}, "Reply-To"),
        ({"to": ["jörg@bü..example"]}, "To"),  # a non-ASCII local part is fine (SMTPUTF8), a broken IDN is not
        ({"message_id": "no-brackets@example.com"}, "Message-ID"),
        ({"message_id": "<a b@example.com>"}, "Message-ID"),
        ({"in_reply_to": "<x>"}, "In-Reply-To"),
        ({"references": ["<ok@x.org>", "bad"]}, "References"),
        ({"attachments": [OutgoingAttachment(b"", content_type="nonsense")]}, "Content-Type"),
        ({"attachments": [OutgoingAttachment(b"", content_type="multipart/mixed")]}, "Content-Type"),
        ({"attachments": [OutgoingAttachment(b"", content_disposition="sideways")]}, "Content-Disposition"),
        ({"attachments": [OutgoingAttachment(b"", content_id="a b")]}, "Content-ID"),
    ],
)
def test_compose_refuses_bad_fields(fields: dict[str, object], named: str) -> None:
    with pytest.raises(HeaderError, match=re.escape(named)):
        compose(outgoing(**fields))


def test_new_message_id() -> None:
    first, second = new_message_id("Example.COM"), new_message_id("example.com")
    assert re.fullmatch(r"<[0-9a-f]{12}\.[0-9a-f]{16}@example\.com>", first)
    assert first != second
    assert first[:13] <= second[:13]  # the millisecond prefix sorts by creation time
    for bad in ("", "exa mple.com", "<x>", "a@b.com"):
        with pytest.raises(ValueError, match="not a domain"):
            new_message_id(bad)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(max_size=300).filter(lambda value: "\x00" not in value),
    st.text(max_size=120),
    st.lists(st.binary(max_size=200), max_size=3),
)
def test_any_text_roundtrips_within_line_limits(text: str, subject: str, blobs: list[bytes]) -> None:
    attachments = [OutgoingAttachment(blob, filename=f"f{index}.bin") for index, blob in enumerate(blobs)]
    raw, parsed = roundtrip(outgoing(text=text, subject=subject, attachments=attachments))
    assert_wire_safe(raw)
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    assert (parsed.text or "").rstrip("\n") == normalised.rstrip("\n")
    assert [item.content for item in parsed.attachments] == blobs


# --- replies.py ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Hello", "Re: Hello"),
        ("Re: Hello", "Re: Hello"),
        ("RE: Hello", "Re: Hello"),
        ("re:Hello", "Re: Hello"),
        ("Aw: Hallo", "Re: Hallo"),
        ("AW: Re: SV: Hej", "Re: Hej"),
        ("Re[2]: Hello", "Re: Hello"),
        ("Fwd: Hello", "Re: Fwd: Hello"),
        ("  Hello\r\n world ", "Re: Hello world"),
        ("Regarding: x", "Re: Regarding: x"),
        ("", "Re:"),
        (None, "Re:"),
    ],
)
def test_reply_subject(subject: str | None, expected: str) -> None:
    assert reply_subject(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Hello", "Fwd: Hello"),
        ("Fwd: Hello", "Fwd: Hello"),
        ("FW: Hello", "Fwd: Hello"),
        ("Fw: fwd: Hello", "Fwd: Hello"),
        ("Re: Hello", "Fwd: Re: Hello"),
        ("Fwdx: a", "Fwd: Fwdx: a"),
        (None, "Fwd:"),
    ],
)
def test_forward_subject(subject: str | None, expected: str) -> None:
    assert forward_subject(subject) == expected


def test_reply_references_follow_rfc5322() -> None:
    assert reply_references("<p@x>", ["<a@x>", "<b@x>"], "<b@x>") == ["<a@x>", "<b@x>", "<p@x>"]
    assert reply_references("<p@x>", [], "<b@x>") == ["<b@x>", "<p@x>"]
    assert reply_references("<p@x>", [], None) == ["<p@x>"]
    assert reply_references("<p@x>", ["<a@x>", "<a@x>", "<p@x>", "<b@x>"], None) == ["<a@x>", "<b@x>", "<p@x>"]
    assert reply_references("<p@x>", ["<a@x> <b@x>", "garbage", ""], None) == ["<a@x>", "<b@x>", "<p@x>"]


def test_reply_references_keep_first_and_last_twenty() -> None:
    chain = [f"<{index}@x>" for index in range(50)]
    result = reply_references("<p@x>", chain, None)
    assert len(result) == 21
    assert result[0] == "<0@x>"
    assert result[1:] == [*chain[-19:], "<p@x>"]


ORIGINAL = {
    "from_": '"Smith, Ann" <ann@example.org>',
    "to": ["Agent <agent@ours.example>", "bob@example.org", "ANN@example.org"],
    "cc": ["carol@example.org", "agent+sales@ours.example", "Bob <BOB@example.org>"],
    "reply_to": [],
}


def test_reply_goes_to_the_sender_only() -> None:
    result = reply_recipients(own_address="agent@ours.example", reply_all=False, sent_by_us=False, **ORIGINAL)
    assert result == (['"Smith, Ann" <ann@example.org>'], [])


def test_reply_prefers_reply_to() -> None:
    original = {**ORIGINAL, "reply_to": ["List <list@example.org>", "agent@ours.example"]}
    result = reply_recipients(own_address="agent@ours.example", reply_all=False, sent_by_us=False, **original)
    assert result == (["List <list@example.org>"], [])


def test_reply_all_adds_to_and_cc_without_us_or_duplicates() -> None:
    result = reply_recipients(own_address="Agent@Ours.example", reply_all=True, sent_by_us=False, **ORIGINAL)
    assert result == (['"Smith, Ann" <ann@example.org>', "bob@example.org"], ["carol@example.org"])


def test_reply_to_our_own_sent_message_goes_to_its_recipients() -> None:
    sent = {
        "from_": "Agent <agent@ours.example>",
        "to": ["bob@example.org", "agent@ours.example"],
        "cc": ["carol@example.org"],
        "reply_to": ["agent+replies@ours.example"],
    }
    assert reply_recipients(own_address="agent@ours.example", reply_all=False, sent_by_us=True, **sent) == (
        ["bob@example.org"],
        [],
    )
    assert reply_recipients(own_address="agent@ours.example", reply_all=True, sent_by_us=True, **sent) == (
        ["bob@example.org"],
        ["carol@example.org"],
    )


def test_reply_recipients_hostile_inputs() -> None:
    result = reply_recipients(
        own_address="agent@ours.example",
        from_="",
        to=["", "not an address", '"Weird, <Name>" <weird@example.org>'],
        cc=["agent@OURS.example"],
        reply_to=[],
        reply_all=True,
        sent_by_us=False,
    )
    assert result == (['"Weird, <Name>" <weird@example.org>'], [])
    only_us = reply_recipients(
        own_address="agent@ours.example",
        from_="agent@ours.example",
        to=[],
        cc=[],
        reply_to=[],
        reply_all=True,
        sent_by_us=False,
    )
    assert only_us == ([], [])


def test_forwarded_text_like_gmail() -> None:
    text = forwarded_text(
        text="Original body\r\nline 2",
        from_="Ann <ann@example.org>",
        to=["agent@ours.example", "bob@example.org"],
        cc=["carol@example.org"],
        subject="Quarterly",
        date=datetime(2026, 11, 25, 18, 27, tzinfo=UTC),
        note="FYI, see below.",
    )
    assert text == (
        "FYI, see below.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Ann <ann@example.org>\n"
        "Date: Wed, Nov 25, 2026 at 6:27 PM UTC\n"
        "Subject: Quarterly\n"
        "To: agent@ours.example, bob@example.org\n"
        "Cc: carol@example.org\n\n\n"
        "Original body\nline 2"
    )


def test_forwarded_text_without_note_cc_or_body() -> None:
    text = forwarded_text(
        text=None,
        from_="ann@example.org",
        to=[],
        cc=[],
        subject=None,
        date=datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
        note=None,
    )
    assert text.startswith("---------- Forwarded message ---------\nFrom: ann@example.org\n")
    assert "Date: Thu, Jan 1, 2026 at 12:05 AM UTC\n" in text
    assert "Cc:" not in text


def test_forwarded_html_escapes_and_embeds() -> None:
    html = forwarded_html(
        html="<html><head><title>t</title></head><body class='x'><p>Original</p></body></html>",
        text="Original",
        from_='"A <b>" <ann@example.org>',
        to=["bob@example.org"],
        cc=[],
        subject="<script>alert(1)</script>",
        date=DATE,
        note_html="<p>FYI</p>",
    )
    assert html is not None
    assert html.startswith("<div><p>FYI</p></div>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert "&quot;A &lt;b&gt;&quot; &lt;ann@example.org&gt;" in html
    assert 'class="gmail_quote"' in html
    assert "<p>Original</p>" in html
    assert "<title>" not in html
    assert "<body" not in html


def test_forwarded_html_from_text_only_original() -> None:
    html = forwarded_html(
        html=None,
        text="a < b\nsecond & last",
        from_="ann@example.org",
        to=[],
        cc=[],
        subject="s",
        date=DATE,
        note_html="<b>note</b>",
    )
    assert html is not None
    assert "a &lt; b<br>\nsecond &amp; last" in html


def test_forwarded_html_none_without_note_or_html() -> None:
    assert (
        forwarded_html(html=None, text="t", from_="a@x.org", to=[], cc=[], subject=None, date=DATE, note_html=None)
        is None
    )


NAMES = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(max_size=200),
    st.dictionaries(NAMES, st.text(max_size=300), max_size=3),
    st.text(max_size=300),
    st.text(max_size=60),
)
def test_hostile_fields_give_header_error_or_safe_bytes(
    subject: str, headers: dict[str, str], filename: str, display_name: str
) -> None:
    sender = display_name.replace("\\", "\\\\").replace('"', '\\"')
    message = outgoing(
        subject=subject,
        from_=f'"{sender}" <agent@example.com>',
        headers=headers,
        attachments=[OutgoingAttachment(b"x", filename=filename or None)],
    )
    try:
        raw = compose(message)
    except HeaderError:
        return
    assert_wire_safe(raw)
    parsed = parse_message(raw, fallback_domain="fallback.example")
    assert parsed.from_address == "agent@example.com"
    assert [item.content for item in parsed.attachments] == [b"x"]


def test_unicode_line_separators_refused_in_custom_headers() -> None:
    for value in ("a\u2028b", "a\x0bb", "a\x85b"):
        with pytest.raises(HeaderError, match="X-Sep"):
            check_custom_headers({"X-Sep": value})


def test_long_non_ascii_filename_and_control_characters() -> None:
    name = "Ünïcödé " * 30 + "\r\nreport.pdf"
    raw, parsed = roundtrip(outgoing(attachments=[OutgoingAttachment(b"%PDF", filename=name)]))
    assert_wire_safe(raw)
    [attachment] = parsed.attachments
    assert attachment.filename is not None
    assert attachment.filename.endswith("report.pdf")
    assert attachment.content_type == "application/pdf"
