"""The inbound parser against the .eml corpus (one expected shape per file) and one test per requirement."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import pytest

from postroom.mime.parse import ParsedAttachment, ParsedMessage, parse_message
from tests.support.work import grows_linearly

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DOMAIN = "postroom.example"
GENERATED = "generated"

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"


def parse(raw: bytes) -> ParsedMessage:
    return parse_message(raw, fallback_domain=DOMAIN)


def corpus(name: str) -> ParsedMessage:
    return parse((CORPUS / name).read_bytes())


@dataclass(frozen=True)
class Expect:
    subject: str | None
    from_address: str | None
    message_id: str
    date: str | None
    text: str | None  # a fragment the text must contain; None: there is no text
    html: str | None = None  # a fragment the HTML must contain; None: there is no HTML
    attachments: tuple[tuple[str | None, str], ...] = ()  # (filename, content type) in order
    in_reply_to: str | None = None


EXPECTED: dict[str, Expect] = {
    "01-gmail-alternative-reply.eml": Expect(
        "Re: Quote for the warehouse shelving",
        "maria.lopez@gmail.example",
        "<CAGx5nR2dQ0bY6o=3vK9f4sW1tZ8pM7cL2hE6jN0aUqX5yB4rT@mail.gmail.com>",
        "2024-06-04T09:14:41+00:00",
        "Thanks \u2014 the quote works for us.",
        '<div class="gmail_quote">',
        in_reply_to="<CAF3u9fQ1x7kP0vY2c8n4M5=Hq6oV8sJdT2p1XkRzLmB7wA@mail.gmail.com>",
    ),
    "02-outlook-original-message.eml": Expect(
        "RE: Invoice 2024-117 overdue",
        "jonas.schmidt@contoso.example",
        "<DM6PR11MB45554B1E0F2B3C4D5E6F7A8B9C0DA@DM6PR11MB4555.namprd11.prod.outlook.com>",
        "2024-06-05T14:03:10+00:00",
        "this morning \u2013 you should see it within two working days.",
        "MsoNormal",
        in_reply_to="<msg-invoice-117@postroom.example>",
    ),
    "03-apple-mail-inline-image.eml": Expect(
        "Screenshot of the error",
        "tom@icloud.example",
        "<9A2B7C41-5E3D-4F60-8B1A-2C3D4E5F6A7B@icloud.example>",
        "2024-06-06T15:45:02+00:00",
        "Here is what I see when I press Save:",
        'src="cid:3C5E7A91-2B4D-4F6A-8C0E-1A3B5C7D9E2F"',
        (("error.png", PNG),),
    ),
    "04-thunderbird-flowed.eml": Expect(
        "Signed contract attached",
        "ines@mailbox.example.org",
        "<7b1c9f2e-4d3a-4b8e-9f61-2a0c5e8d7b31@mailbox.example.org>",
        "2024-06-07T17:22:40+00:00",
        "every page, as requested, and the second copy will go out by post on Monday morning.\n",
        attachments=(("contract-signed.pdf", PDF),),
    ),
    "05-mailing-list-footer.eml": Expect(
        "[devs] Release 2.4 freeze on Monday",
        "sam@carter.example",
        "<20240608060055.GA12345@carter.example>",
        "2024-06-08T06:00:55+00:00",
        "Sam\n\n_______________________________________________\ndevs mailing list",
    ),
    "06-iso-8859-1-qp.eml": Expect(
        "R\u00e9servation confirm\u00e9e pour le d\u00eener",
        "francois@levesque.example",
        "<1717956900.4711@levesque.example>",
        "2024-06-09T18:15:00+00:00",
        "table pour quatre \u00e0 20 h.\n\n\u00c0 bient\u00f4t,\nFran\u00e7ois",
    ),
    "07-windows-1252-8bit.eml": Expect(
        "Price update",
        "pat@oneill.example",
        "<000a01dabb12$4f5e6a70$ee1b3f50$@oneill.example>",
        "2024-06-10T08:30:00+00:00",
        "\u201cPremium\u201d now costs \u20ac49 \u2013 it\u2019s still the best deal.",
    ),
    "08-koi8-r.eml": Expect(
        "\u0421\u0447\u0451\u0442 \u043d\u0430 \u043e\u043f\u043b\u0430\u0442\u0443",
        "ivan@petrov.example",
        "<20240611120000.8817@petrov.example>",
        "2024-06-11T09:00:00+00:00",
        "\u0412\u044b\u0441\u044b\u043b\u0430\u044e \u0441\u0447\u0451\u0442",
    ),
    "09-shift-jis.eml": Expect(
        "\u898b\u7a4d\u66f8\u306e\u9001\u4ed8",
        "yamada@yamada.example.jp",
        "<20240612100500.ABCD1234@yamada.example.jp>",
        "2024-06-12T01:05:00+00:00",
        "\u2460\u7d0d\u671f\uff1a\uff16\u6708\uff12\uff10\u65e5",
    ),
    "10-gb2312-gbk.eml": Expect(
        "\u516d\u6708\u62a5\u4ef7\u5355",
        "liming@example.cn",
        "<202406131620001234567@example.cn>",
        "2024-06-13T08:20:00+00:00",
        "\u8bf7\u67e5\u6536\u3002\u9555",
    ),
    "11-iso-2022-jp.eml": Expect(
        "\u4f1a\u8b70\u306e\u65e5\u7a0b\u306b\u3064\u3044\u3066",
        "suzuki@example.ne.jp",
        "<20240614090000.5555@example.ne.jp>",
        "2024-06-14T00:00:00+00:00",
        "\uff76\uff80\uff76\uff85\u3082OK\u3067\u3059\u3002",
    ),
    "12-utf8-8bit-no-charset.eml": Expect(
        "Caf\u00e9 opening hours",
        "zoe@angstrom.example",
        "<a7c3e1f0-0b5d-4c2e-9d8f-3e4a5b6c7d8e@angstrom.example>",
        "2024-06-15T08:00:00+00:00",
        "cr\u00e8me br\u00fbl\u00e9e is back on the menu. Sm\u00f6rg\u00e5sbord",
    ),
    "13-lying-charset-us-ascii.eml": Expect(
        "Nightly report",
        "noreply@legacy.example",
        "<nightly-20240616@legacy.example>",
        "2024-06-16T03:00:00+00:00",
        "Job \u201csync-m\u00fcller\u201d finished in 12 s \u2014 0 errors.",
    ),
    "14-unknown-charset.eml": Expect(
        "Order confirm\u00e9d",
        "orders@widgets.example",
        "<order-88231.1718652600@widgets.example>",
        "2024-06-17T19:30:00+00:00",
        "D\u00e9livery in 3\u20135 days.",
    ),
    "15-base64-bodies.eml": Expect(
        "Base64 encoded bodies",
        "sender@bulk.example",
        "<b64.20240618111111@bulk.example>",
        "2024-06-18T11:11:11+00:00",
        "Line two with \u00fcmlauts.",
        "<b>base64</b>",
    ),
    "16-quoted-printable-html.eml": Expect(
        "Your tickets",
        "events@venue.example",
        "<tickets-4455@venue.example>",
        "2024-06-19T18:00:00+00:00",
        None,
        '<table width="100%" cellpadding="0"><tr><td style="font-family:Arial,sans-serif;font-size:14px">',
    ),
    "17-rfc2047-headers.eml": Expect(
        "[FYI] Gr\u00fc\u00dfe aus K\u00f6ln und \U0001f44b \U0001f337",
        "juergen.mueller@example.de",
        "<rfc2047.20240620074500@example.de>",
        "2024-06-20T05:45:00+00:00",
        "Viele Gr\u00fc\u00dfe aus K\u00f6ln!",
    ),
    "18-rfc2231-filename.eml": Expect(
        "Quarterly statement",
        "bot@archive.example",
        "<stmt-q2-2024@archive.example>",
        "2024-06-21T06:00:00+00:00",
        "Your statement is attached.",
        attachments=(("Kontoauszug f\u00fcr das zweite Quartal 2024 \u2013 Gesch\u00e4ftskonto.pdf", PDF),),
    ),
    "19-attachments-several-types.eml": Expect(
        "Documents for onboarding",
        "office@company.example",
        "<onboarding-docs-7781@company.example>",
        "2024-06-22T09:15:00+00:00",
        "Please find the onboarding documents attached.",
        attachments=(
            ("handbook.pdf", PDF),
            ("badge photo.jpg", JPEG),
            (
                "Arbeitsvertrag (Entwurf).docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            ("forms.zip", "application/zip"),
            ("equipment.csv", "text/csv"),
        ),
    ),
    "20-nested-four-deep.eml": Expect(
        "Nested structure",
        "deep@nest.example",
        "<nested-4@nest.example>",
        "2024-06-23T13:00:00+00:00",
        "Level four plain text.",
        "part one.</div>\n<div>Part two",
        (("logo.png", PNG), ("report.pdf", PDF)),
    ),
    "21-forwarded-rfc822.eml": Expect(
        "Fwd: Suspicious login attempt",
        "owner@company.example",
        "<fwd-attached-1@company.example>",
        "2024-06-24T06:30:00+00:00",
        "Can you check whether this is phishing?",
        attachments=(("Suspicious login attempt.eml", "message/rfc822"),),
    ),
    "22-calendar-invite.eml": Expect(
        "Invitation: Vendor sync @ Fri Jun 28, 2024 4pm - 4:30pm (CEST) (agent@postroom.example)",
        "lena@fischer.example",
        "<calendar-8f0e1c2d-3b4a-5968-7a6b-5c4d3e2f1a0b@google.com>",
        "2024-06-25T10:15:00+00:00",
        "You have been invited to the following event.",
        "<h3>Vendor sync</h3>",
        (("invite.ics", "text/calendar"), ("invite.ics", "application/ics")),
    ),
    "23-calendar-only.eml": Expect(
        "Room 4.12 booked",
        "rooms@facilities.example",
        "<room-412-20240626@facilities.example>",
        "2024-06-26T08:00:00+00:00",
        "BEGIN:VCALENDAR\nPRODID:",
        attachments=(("invite.ics", "text/calendar"),),
    ),
    "24-dsn-bounce.eml": Expect(
        "Undelivered Mail Returned to Sender",
        "mailer-daemon@mx.postroom.example",
        "<20240627090005.4W9rLk3vXYz@mx.postroom.example>",
        "2024-06-27T09:00:05+00:00",
        "your message could not\nbe delivered",
        attachments=((None, "message/delivery-status"), ("Request for quotation.eml", "message/rfc822")),
    ),
    "25-dsn-exchange-headers-only.eml": Expect(
        "Undeliverable: Meeting notes",
        "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example",
        "<ndr-6f2b7a1c@DM6PR11MB4555.namprd11.prod.outlook.com>",
        "2024-06-28T10:00:00+00:00",
        "couldn't be delivered.\nformer.employee wasn't found",
        "<b>Your message to former.employee@contoso.example couldn't be delivered.</b>",
        ((None, "message/delivery-status"), (None, "text/rfc822-headers")),
        in_reply_to="<notes-0628@postroom.example>",
    ),
    "26-html-only.eml": Expect(
        "[Resolved] API latency",
        "status@statuspage.example",
        "<incident-771-resolved@statuspage.example>",
        "2024-06-29T12:00:00+00:00",
        None,
        "<h1>API latency</h1>",
    ),
    "27-text-only.eml": Expect(
        "Cron <root@server1> /usr/local/bin/backup.sh",
        "root@server1.example",
        "<20240630020001.2F1A3C0123@server1.example>",
        "2024-06-30T02:00:01+00:00",
        "backup.sh: 42 files copied, 0 skipped.\n",
    ),
    "28-empty-body.eml": Expect(
        "(no body)", "empty@void.example", "<empty-body@void.example>", "2024-07-01T00:00:00+00:00", ""
    ),
    "29-missing-message-id.eml": Expect(
        "Disk usage warning", "script@oldhost.example", GENERATED, "2024-07-02T04:00:00+00:00", "/var is 91% full."
    ),
    "30-missing-date.eml": Expect(
        "When was this sent?", "dateless@nowhen.example", "<no-date@nowhen.example>", None, "Nobody knows."
    ),
    "31-broken-boundary.eml": Expect(
        "Broken boundary",
        "broken@mailer.example",
        "<broken-boundary@mailer.example>",
        "2024-07-03T10:00:00+00:00",
        "The real text of the message.",
    ),
    "32-no-closing-boundary.eml": Expect(
        "No closing boundary",
        "trunc@mailer.example",
        "<no-close@mailer.example>",
        "2024-07-04T10:00:00+00:00",
        "Plain version.",
        "<p>HTML version.</p>",
    ),
    "33-huge-references.eml": Expect(
        "Re: the thread that never ends",
        "long@long-thread.example",
        "<thread-02400@long-thread.example>",
        "2024-07-05T10:00:00+00:00",
        "Still going.",
        in_reply_to="<thread-02399.097114@long-thread.example>",
    ),
    "34-long-lines.eml": Expect(
        "Very long lines",
        "lines@long.example",
        "<long-lines@long.example>",
        "2024-07-06T10:00:00+00:00",
        "word word word",
        "<span>xxxx",
    ),
    "35-bcc-present.eml": Expect(
        "Your order has shipped",
        "sales@shop.example",
        "<shipped-5521@shop.example>",
        "2024-07-07T13:00:00+00:00",
        "Tracking number: 1Z999AA10123456784",
    ),
    "36-reply-chain.eml": Expect(
        "Re: Re: Re: Onboarding checklist",
        "dana@kim.example",
        "<reply-4@kim.example>",
        "2024-07-08T00:12:00+00:00",
        "> On 7/7/24 7:00 PM, Lee Park wrote:\n>> Manager approved.",
        in_reply_to="<reply-3@postroom.example>",
    ),
    "37-auto-reply.eml": Expect(
        "Automatic reply: Request for quotation",
        "chris@novak.example",
        "<oof-1720512000@novak.example>",
        "2024-07-09T08:00:00+00:00",
        "I am out of the office until 22 July",
        in_reply_to="<rfq-2024-07-09@postroom.example>",
    ),
    "38-newsletter-tracking.eml": Expect(
        "July picks \U0001f6e0\ufe0f",
        "hello@news.example",
        "<0100019099c4e0b1-4f5a6b7c-8d9e-0f1a-2b3c-4d5e6f7a8b9c-000000@email.amazonses.example>",
        "2024-07-10T14:00:00+00:00",
        "Read the article: https://click.news.example/ls/click?upn=u001.Qk9Sz-2BvT",
        'src="https://click.news.example/wf/open?upn=u001.Op3nTr4ck"',
    ),
    "39-gmail-forward.eml": Expect(
        "Fwd: Contract renewal terms",
        "priya.shah@gmail.example",
        "<CAHk7x2Lq9mR4vT1sN6pW3zY8bC5dF0gJ2kL7nM4oQ1rS8tU9v@mail.gmail.com>",
        "2024-07-11T12:10:12+00:00",
        "---------- Forwarded message ---------\nFrom: Vendor Legal <legal@vendor.example>",
        "---------- Forwarded message ---------<br>",
    ),
    "40-german-reply.eml": Expect(
        "AW: Lieferung Bestellung 4471",
        "joerg.weiss@web.example",
        "<trinity-5f1d2c3b-4a59-4867-9e8d-7c6b5a4f3e2d-1720772400000@web.example>",
        "2024-07-12T08:20:00+00:00",
        "Am Do., 11. Juli 2024 um 15:02 Uhr schrieb Procurement Agent <agent@postroom.example>:\n> Wann k\u00f6nnen",
        in_reply_to="<order-4471@postroom.example>",
    ),
    "41-french-reply.eml": Expect(
        "RE : Devis n\u00b0 2024-88",
        "amelie.dubois@orange.example",
        "<002201dad4f0$1a2b3c40$4e5f6a70$@orange.example>",
        "2024-07-13T09:00:00+00:00",
        "Le ven. 12 juil. 2024 \u00e0 18:30, Procurement Agent <agent@postroom.example> a \u00e9crit :\n>",
        in_reply_to="<devis-2024-88@postroom.example>",
    ),
    "42-text-attachment-disposition.eml": Expect(
        "Error log",
        "logs@ops.example",
        "<errlog-20240714@ops.example>",
        "2024-07-14T03:00:00+00:00",
        "Attached is last night's error log.",
        attachments=((None, "text/plain"), ("notes.txt", "text/plain")),
    ),
    "43-multiple-text-parts.eml": Expect(
        "Two photos of the damage",
        "tom@icloud.example",
        "<5C6D7E8F-9A0B-4C1D-8E2F-3A4B5C6D7E8F@icloud.example>",
        "2024-07-16T01:00:00+00:00",
        "The box arrived like this:\n\nAnd the contents were broken.",
        attachments=(("IMG_0412.jpeg", JPEG),),
    ),
    "44-outlook-tnef-winmail.eml": Expect(
        "Updated floor plan",
        "h.finch@ift.example",
        "<BN7PR04MB4212A1B2C3D4E5F6A7B8C9D0E1F2@BN7PR04MB4212.namprd04.prod.outlook.com>",
        "2024-07-16T12:00:00+00:00",
        "See the attached floor plan.",
        attachments=(("winmail.dat", "application/ms-tnef"),),
    ),
    "45-malformed-headers.eml": Expect(
        "=?utf-8?B?!!!notbase64?= =?utf-8?q?unterminated caf\u00e9ok!",
        None,
        "<malformed-id-1234@garbage.example>",
        None,
        "broken on purpose",
    ),
    "46-pgp-signed.eml": Expect(
        "Security advisory PSA-2024-03",
        "security@project.example",
        "<psa-2024-03@project.example>",
        "2024-07-17T16:00:00+00:00",
        "Versions before 3.2.1 are affected.",
        attachments=(("signature.asc", "application/pgp-signature"),),
    ),
    "47-korean-ks-c-5601.eml": Expect(
        "\ud68c\uc758 \uc77c\uc815 \ud655\uc778",
        "minsu.kim@example.co.kr",
        "<001b01dad8c4$9a8b7c60$cf7e6d50$@example.co.kr>",
        "2024-07-18T01:00:00+00:00",
        "\ud655\uc778 \ubd80\ud0c1\ub4dc\ub9bd\ub2c8\ub2e4. \ub620\ubc29\uac01\ud558",
    ),
    "48-smtputf8-headers.eml": Expect(
        "\u5173\u4e8e\u53d1\u7968\u7684\u95ee\u9898 \u2014 invoice question",
        "\u738b\u82b3@\u4f8b\u5b50.example",
        "<eai-20240719@\u4f8b\u5b50.example>",
        "2024-07-19T01:30:00+00:00",
        "\u53d1\u7968\u4e0a\u7684\u91d1\u989d\u4e0d\u5bf9",
    ),
    "49-forwarded-rfc822-base64.eml": Expect(
        "Fwd: Price list 2024",
        "buyer@company.example",
        "<fwd-b64-rfc822@company.example>",
        "2024-07-20T09:00:00+00:00",
        "FYI, see the attached mail.",
        attachments=(("Price list 2024.eml", "message/rfc822"),),
    ),
    "50-smime-signed-outlook.eml": Expect(
        "Signed purchase approval",
        "grace.hopper@navy.example",
        "<SN6PR0102MB3456ABCDEF0123456789@SN6PR0102MB3456.prod.outlook.com>",
        "2024-07-21T13:00:00+00:00",
        "Approved. Please place the order.",
        "<p>Approved. Please place the order.</p>",
        (("smime.p7s", "application/x-pkcs7-signature"),),
    ),
}


def test_corpus_is_complete_and_wire_ready() -> None:
    files = sorted(path.name for path in CORPUS.glob("*.eml"))
    assert files == sorted(EXPECTED)
    assert len(files) >= 40
    readme = (CORPUS / "README.md").read_text()
    for name in files:
        data = (CORPUS / name).read_bytes()
        assert name in readme
        assert b"\n" not in data.replace(b"\r\n", b""), f"{name}: bare LF"
        assert b"\r" not in data.replace(b"\r\n", b""), f"{name}: bare CR"
        assert b"\x00" not in data, name
        assert data.endswith(b"\r\n"), name
        assert max(len(line) for line in data.split(b"\r\n")) <= 998, name
        assert len(data) <= (110_000 if name.startswith("33-") else 10_000), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name: str) -> None:
    expected = EXPECTED[name]
    message = corpus(name)
    assert message.subject == expected.subject
    assert message.from_address == expected.from_address
    if expected.message_id == GENERATED:
        assert message.message_id_generated
        assert message.message_id.startswith("<")
        assert message.message_id.endswith(f"@{DOMAIN}>")
    else:
        assert message.message_id == expected.message_id
        assert not message.message_id_generated
    assert (message.date.isoformat() if message.date else None) == expected.date
    if expected.text is None:
        assert message.text is None
        assert message.preview is None
    else:
        assert message.text is not None
        assert expected.text in message.text
        assert message.preview == " ".join(message.text.split())[:200].rstrip()
    if expected.html is None:
        assert message.html is None
    else:
        assert message.html is not None
        assert expected.html in message.html
    assert [(item.filename, item.content_type) for item in message.attachments] == list(expected.attachments)
    assert message.in_reply_to == expected.in_reply_to


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_invariants(name: str) -> None:
    message = corpus(name)
    for value in (message.text, message.html, message.subject, message.from_, *message.headers.values()):
        if value is not None:
            assert "\x00" not in value
            value.encode("utf-8")  # no lone surrogates
    if message.text is not None:
        assert "\r" not in message.text
    if message.date is not None:
        assert message.date.tzinfo is not None
        assert message.date.utcoffset() == UTC.utcoffset(None)
    for attachment in message.attachments:
        assert isinstance(attachment, ParsedAttachment)
        assert attachment.content_type == attachment.content_type.lower()
        assert "/" in attachment.content_type
        assert attachment.content_disposition in ("inline", "attachment", None)
        assert attachment.content_id is None or not attachment.content_id.startswith("<")
        assert attachment.size == len(attachment.content)


# ---------------------------------------------------------------------------------------------- focused tests


def eml(headers: str, body: bytes | str = b"") -> bytes:
    """A message from "\\n"-separated header lines and a body, with CRLF line ends as on the wire."""
    head = headers.strip("\n").replace("\n", "\r\n").encode("utf-8")
    data = body.encode("utf-8") if isinstance(body, str) else body
    return head + b"\r\n\r\n" + data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_compat32_is_used_when_policy_default_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from email.policy import Compat32, EmailPolicy

    from postroom.mime import parse as parse_module

    real_build = parse_module._build
    used: list[str] = []

    def build(msg: Message, fallback_domain: str) -> ParsedMessage:
        used.append("default" if isinstance(msg.policy, EmailPolicy) else "compat32")
        if isinstance(msg.policy, EmailPolicy):
            raise RuntimeError("simulated header-registry bug")
        assert isinstance(msg.policy, Compat32)
        return real_build(msg, fallback_domain)

    monkeypatch.setattr(parse_module, "_build", build)
    message = corpus("01-gmail-alternative-reply.eml")
    assert used == ["default", "compat32"]
    assert message.subject == "Re: Quote for the warehouse shelving"
    assert message.html is not None
    assert message.text is not None


def test_last_resort_keeps_the_bytes_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from postroom.mime import parse as parse_module

    def build(msg: Message, fallback_domain: str) -> ParsedMessage:
        raise RuntimeError("everything fails")

    monkeypatch.setattr(parse_module, "_build", build)
    message = parse(eml("Subject: hi", "caf\u00e9\r\n"))
    assert message.message_id_generated
    assert message.message_id.endswith(f"@{DOMAIN}>")
    assert message.text == "Subject: hi\n\ncaf\u00e9\n"
    assert message.headers == {}
    assert message.attachments == []


def test_related_root_is_the_start_part() -> None:
    raw = eml(
        'Content-Type: multipart/related; boundary="r"; start="<root@x>"; type="text/html"',
        "--r\nContent-Type: image/gif\nContent-ID: <img@x>\nContent-Transfer-Encoding: base64\n\n"
        "R0lGODlhAQABAAAAACw=\n--r\nContent-Type: text/html\nContent-ID: <root@x>\n\n"
        '<img src="cid:img@x">\n--r--\n',
    )
    message = parse(raw)
    assert message.html == '<img src="cid:img@x">'
    assert message.text is None
    [image] = message.attachments
    assert (image.content_type, image.content_id, image.content_disposition) == ("image/gif", "img@x", "inline")
    assert image.content == base64.b64decode("R0lGODlhAQABAAAAACw=")


def test_alternative_drops_renditions_it_does_not_use() -> None:
    raw = eml(
        'Content-Type: multipart/alternative; boundary="a"',
        "--a\nContent-Type: text/plain\n\nplain\n--a\nContent-Type: text/enriched\n\n<bold>rich</bold>\n"
        "--a\nContent-Type: text/watch-html\n\n<b>watch</b>\n--a\nContent-Type: text/html\n\n<b>html</b>\n--a--\n",
    )
    message = parse(raw)
    assert (message.text, message.html, message.attachments) == ("plain", "<b>html</b>", [])


def test_alternative_with_only_an_unknown_rendition_keeps_it_as_attachment() -> None:
    raw = eml('Content-Type: multipart/alternative; boundary="a"', "--a\nContent-Type: text/enriched\n\nrich\n--a--\n")
    message = parse(raw)
    assert message.text is None
    assert message.html is None
    assert [item.content_type for item in message.attachments] == ["text/enriched"]


def _codecs_for_mail() -> list[str]:
    import codecs
    from encodings.aliases import aliases

    refused = {"idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined", "mbcs", "oem"}
    names = set()
    for name in set(aliases.values()):
        try:
            info = codecs.lookup(name)
        except LookupError:
            continue
        if getattr(info, "_is_text_encoding", True) and name not in refused:
            names.add(name)
    return sorted(names)


SAMPLES = (
    "caf\u00e9 cr\u00e8me",
    "\u041f\u0440\u0438\u0432\u0435\u0442",
    "\u65e5\u672c\u8a9e",
    "\u03a9\u03bc\u03ad\u03b3\u03b1",
)


@pytest.mark.parametrize("codec", _codecs_for_mail())
def test_every_charset_python_knows(codec: str) -> None:
    text = "Hello, world. " + " ".join(sample for sample in SAMPLES if _encodes(sample, codec))
    raw = eml(
        f"Content-Type: text/plain; charset={codec}\nContent-Transfer-Encoding: base64",
        base64.encodebytes(text.encode(codec)),
    )
    assert parse(raw).text == text


def _encodes(sample: str, codec: str) -> bool:
    try:
        return sample.encode(codec).decode(codec) == sample
    except (UnicodeError, LookupError):
        return False


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        ("utf-8", "caf\u00e9 \u2013 ok".encode("cp1252"), "caf\u00e9 \u2013 ok"),  # lies the other way
        ("x-unknown", "caf\u00e9".encode("cp1252"), "caf\u00e9"),
        ("unknown-8bit", "caf\u00e9".encode(), "caf\u00e9"),
        ("iso-8859-1", "caf\u00e9 \u2014 ok".encode(), "caf\u00e9 \u2014 ok"),  # UTF-8 under a western label
        ("iso-8859-1", b"price \x80 5", "price \u20ac 5"),  # windows-1252 under the latin-1 label
        ("us-ascii", b"\x81\x8d", "\ufffd\ufffd"),  # nothing fits: replacement characters, no exception
        ("shift_jis", "\u65e5\u672c".encode("cp932") + b"\x81", "\u65e5\u672c\ufffd"),  # truncated character
        ('"UTF-8"', "\u00fc".encode(), "\u00fc"),
        ("utf-8*de", "\u00fc".encode(), "\u00fc"),
        ("rot13", b"plain", "plain"),  # a codec that is not a charset is ignored
    ],
)
def test_unknown_and_lying_charsets(charset: str, body: bytes, expected: str) -> None:
    raw = eml(f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: 8bit", body)
    assert parse(raw).text == expected


def test_eight_bit_body_without_charset_in_windows_1252() -> None:
    raw = eml("Subject: x", "\u201cquoted\u201d".encode("cp1252"))
    assert parse(raw).text == "\u201cquoted\u201d"


def test_html_charset_from_meta_tag() -> None:
    html = '<html><head><meta charset="koi8-r"></head><body>\u041f\u0440\u0438\u0432\u0435\u0442</body></html>'
    raw = eml("Content-Type: text/html\nContent-Transfer-Encoding: 8bit", html.encode("koi8-r"))
    message = parse(raw)
    assert message.html == html
    assert message.text is None


def test_rfc2047_headers_with_malformed_words() -> None:
    raw = eml(
        "Subject: =?utf-8?q?caf=C3?= =?utf-8?q?=A9?= =?x-bogus?q?na=EFve?= =?utf-8?q?open\n"
        "From: =?utf-8?B?SsO2cmcsIFdlacOf?= <j@example.com>\n"
        "To: =?iso-8859-1?q?Ren=E9e?= <r@example.com>, =?utf-8?q?bad?=?= <b@example.com>\n"
        "X-Garbage: =?utf-8?B?????=",
        "x",
    )
    message = parse(raw)
    assert message.subject == "caf\u00e9na\u00efve =?utf-8?q?open"  # RFC 2047 §6.2: space between words dropped
    assert message.from_ == '"J\u00f6rg, Wei\u00df" <j@example.com>'
    assert message.to[0] == "Ren\u00e9e <r@example.com>"
    assert message.to[1].endswith("<b@example.com>")
    assert message.headers["X-Garbage"] == "=?utf-8?B?????="


def test_raw_eight_bit_headers_in_windows_1252() -> None:
    raw = eml("Subject: ", b"")
    raw = b"Subject: Gr\xfc\xdfe\r\nFrom: J\xf6rg <j@example.com>\r\n\r\nx"
    message = parse(raw)
    assert message.subject == "Gr\u00fc\u00dfe"
    assert message.from_ == "J\u00f6rg <j@example.com>"


def test_rfc2231_filename_with_language_and_latin1() -> None:
    raw = eml(
        'Content-Type: multipart/mixed; boundary="m"',
        "--m\nContent-Type: text/plain\n\nhi\n--m\nContent-Type: application/octet-stream\n"
        "Content-Disposition: attachment; filename*=iso-8859-1'fr'r%E9sum%E9%20final.pdf\n\nDATA\n--m--\n",
    )
    [attachment] = parse(raw).attachments
    assert attachment.filename == "r\u00e9sum\u00e9 final.pdf"
    assert attachment.content == b"DATA"


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="C:\\\\Users\\\\pat\\\\Desktop\\\\plan.pdf"', "plan.pdf"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ("attachment; filename=my file.pdf", "my file.pdf"),
        ('attachment; filename=""', None),
        ("attachment", None),
        ('attachment; filename="=?utf-8?q?r=C3=A9sum=C3=A9.pdf?="', "r\u00e9sum\u00e9.pdf"),
        ('attachment; filename="' + "a" * 400 + '.pdf"', "a" * 251 + ".pdf"),
    ],
)
def test_attachment_filenames(disposition: str, expected: str | None) -> None:
    raw = eml(f"Content-Type: application/pdf\nContent-Disposition: {disposition}", "%PDF")
    [attachment] = parse(raw).attachments
    assert attachment.filename == expected


def test_filename_falls_back_to_content_type_name() -> None:
    raw = eml('Content-Type: application/pdf; name="from-type.pdf"\nContent-Transfer-Encoding: base64', "JVBERg==")
    [attachment] = parse(raw).attachments
    assert (attachment.filename, attachment.content, attachment.content_disposition) == ("from-type.pdf", b"%PDF", None)


def test_inline_cid_image() -> None:
    message = corpus("03-apple-mail-inline-image.eml")
    [image] = message.attachments
    assert image.content_id == "3C5E7A91-2B4D-4F6A-8C0E-1A3B5C7D9E2F"
    assert image.content_disposition == "inline"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert message.html is not None
    assert f"cid:{image.content_id}" in message.html


def test_forwarded_rfc822_attachment_is_the_enclosed_message() -> None:
    message = corpus("21-forwarded-rfc822.eml")
    [forwarded] = message.attachments
    inner = parse(forwarded.content)
    assert inner.subject == "Suspicious login attempt"
    assert inner.message_id == "<alert-99123@bank.example>"
    assert forwarded.content.startswith(b"Return-Path: <alerts@bank.example>\r\nFrom: Bank Alerts")
    assert forwarded.content.endswith(b"If this was not you, contact us.\r\n")
    assert message.text == "Can you check whether this is phishing?\n"  # the enclosed body is not ours


def test_forwarded_rfc822_without_subject_is_message_eml() -> None:
    raw = eml(
        'Content-Type: multipart/mixed; boundary="f"',
        "--f\nContent-Type: message/rfc822\n\nFrom: a@example.com\n\nno subject here\n--f--\n",
    )
    [forwarded] = parse(raw).attachments
    assert forwarded.filename == "message.eml"
    assert forwarded.content == b"From: a@example.com\r\n\r\nno subject here\r\n"


def test_base64_encoded_rfc822_is_decoded() -> None:
    message = corpus("49-forwarded-rfc822-base64.eml")
    inner = parse(message.attachments[0].content)
    assert (inner.subject, inner.text) == ("Price list 2024", "Prices unchanged for 2024.\n")


def test_html_only_and_text_only() -> None:
    html_only = corpus("26-html-only.eml")
    assert html_only.text is None
    assert html_only.preview is None
    assert html_only.html is not None
    text_only = corpus("27-text-only.eml")
    assert text_only.html is None
    assert text_only.text == "backup.sh: 42 files copied, 0 skipped.\n"


def test_boundary_never_appearing_keeps_the_body_as_text() -> None:
    message = corpus("31-broken-boundary.eml")
    assert message.text is not None
    assert "The real text of the message." in message.text
    assert message.attachments == []


def test_multipart_without_boundary_parameter_is_text() -> None:
    message = parse(eml("Content-Type: multipart/mixed", "just some text\n"))
    assert message.text == "just some text\n"


def test_missing_closing_boundary() -> None:
    message = corpus("32-no-closing-boundary.eml")
    assert (message.text, message.html) == ("Plain version.\n", "<p>HTML version.</p>")


@pytest.mark.parametrize("header", ["", "Message-ID: \n", "Message-ID: <>\n", "Message-ID: no id here\n"])
def test_missing_or_unusable_message_id_is_generated(header: str) -> None:
    first = parse(eml(header + "Subject: x", "y"))
    second = parse(eml(header + "Subject: x", "y"))
    assert first.message_id_generated
    assert first.message_id.startswith("<")
    assert first.message_id.endswith(f"@{DOMAIN}>")
    assert first.message_id != second.message_id


def test_generated_message_id_survives_a_strange_fallback_domain() -> None:
    message = parse_message(b"Subject: x\r\n\r\ny", fallback_domain=" Mail.Example.COM> \n")
    assert message.message_id.endswith("@mail.example.com>")
    assert parse_message(b"", fallback_domain="").message_id.endswith("@localhost>")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Message-ID: <abc@example.com>", "<abc@example.com>"),
        ("Message-ID: abc@example.com", "<abc@example.com>"),
        ("Message-Id:   <abc@example.com> (added by relay)", "<abc@example.com>"),
        ("Message-ID: <abc\n @example.com>", "<abc@example.com>"),
        ("message-id: <first@x> <second@x>", "<first@x>"),
    ],
)
def test_message_id_forms(header: str, expected: str) -> None:
    assert parse(eml(header, "x")).message_id == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("Date: someday", None),
        ("Date: Tue, 4 Jun 2024 11:14:41 +0200", datetime(2024, 6, 4, 9, 14, 41, tzinfo=UTC)),
        ("Date: Tue, 4 Jun 2024 11:14:41 -0000", datetime(2024, 6, 4, 11, 14, 41, tzinfo=UTC)),
        ("Date: 4 Jun 24 11:14 EDT", datetime(2024, 6, 4, 15, 14, tzinfo=UTC)),
        ("Date: Tue, 4 Jun 2024 11:14:41 +0000 (UTC)", datetime(2024, 6, 4, 11, 14, 41, tzinfo=UTC)),
        ("Date: Fri, 31 Dec 9999 23:59:59 -2359", None),
        ("Date: Mon, 99 Foo 2024 99:99:99 +9999", None),
    ],
)
def test_dates(header: str, expected: datetime | None) -> None:
    date = parse(eml(header + "\nSubject: x", "y")).date
    assert date == expected
    if date is not None:
        assert date.tzinfo is UTC


def test_calendar_invite_beside_a_body_is_an_attachment_only() -> None:
    message = corpus("22-calendar-invite.eml")
    calendar = message.attachments[0]
    assert (calendar.filename, calendar.content_type) == ("invite.ics", "text/calendar")
    assert b"METHOD:REQUEST" in calendar.content
    assert message.text is not None
    assert "BEGIN:VCALENDAR" not in message.text


def test_calendar_as_the_only_body_is_text_and_attachment() -> None:
    message = corpus("23-calendar-only.eml")
    assert message.text is not None
    assert message.text.startswith("BEGIN:VCALENDAR\nPRODID:")
    assert [item.filename for item in message.attachments] == ["invite.ics"]


def test_dsn_bounce_parts() -> None:
    message = corpus("24-dsn-bounce.eml")
    assert message.text is not None
    assert message.text.startswith("This is the mail system at host")
    status, returned = message.attachments
    assert b"Final-Recipient: rfc822; nobody@nonexistent.example\r\n" in status.content
    assert b"Status: 5.4.4" in status.content
    assert parse(returned.content).message_id == "<rfq-2024-06-27@postroom.example>"
    assert message.headers["Auto-Submitted"] == "auto-replied"


def test_nul_bytes_in_headers_and_body() -> None:
    raw = b"Subject: hel\x00lo\r\nFrom: Ann\x00 <ann@example.com>\r\nX-N\x00ul: v\r\n\r\nbody\x00 text\r\n\x00\r"
    message = parse(raw)
    assert message.subject == "hello"
    assert message.from_address == "ann@example.com"
    assert message.text == "body text\n"


def test_trailing_nul_and_cr_are_stripped() -> None:
    assert parse(b"Subject: x\r\n\r\nhello\r\n\x00\x00\r").text == "hello\n"


def test_huge_headers() -> None:
    ids = " ".join(f"<id{i}@example.com>" for i in range(40_000))
    raw = eml(f"Subject: {'s' * 200_000}\nReferences: {ids}\nX-Long: {'x' * 1_000_000}", "body")
    message = parse(raw)
    assert len(message.references) == 40_000
    assert message.references[0] == "<id0@example.com>"
    assert message.subject == "s" * 200_000
    assert len(message.headers["X-Long"]) == 1_000_000


def test_extremely_long_lines() -> None:
    line = "y" * 500_000
    raw = eml(
        'Content-Type: multipart/alternative; boundary="b"',
        f"--b\nContent-Type: text/plain\n\n{line}\n--b\nContent-Type: text/html\n\n<p>{line}</p>\n--b--\n",
    )
    message = parse(raw)
    assert message.text == line
    assert message.html == f"<p>{line}</p>"
    assert message.preview == "y" * 200


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n",
        b"\r\n\r\nbody only",
        b"no colon header line\r\nSubject: x\r\n\r\nbody",
        b"Subject: never ends",
        b"\xff\xfe\x00\x00" * 100,
        b":\r\n:\r\n\r\n",
        b'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n\r\n----\r\n',
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n--x--\r\n",
        b"Content-Type: message/delivery-status\r\n\r\n\r\n\r\n",
        b'Content-Type: text/plain; charset="\r\n\r\nx',
        b'Content-Type: ;;;=;="\r\nContent-Disposition: =?\r\n\r\nx',
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!!====",
        b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 f\r\n#86)C\r\n`\r\nend\r\n",
        b'From: <<<>>>@@@,,,;;;\r\nTo: "unterminated\r\nCc: (comment\r\n\r\n',
        b"From: \xc3\r\nSubject: =?utf-8?b?\xff?=\r\n\r\n",
    ],
)
def test_garbage_never_raises(raw: bytes) -> None:
    message = parse(raw)
    assert message.message_id.startswith("<")
    assert message.message_id.endswith(">")


def test_deep_nesting_never_raises() -> None:
    depth = 300
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    tail = "".join(f"\r\n--b{i}--" for i in reversed(range(depth)))
    raw = b"Subject: deep\r\n" + (head + "Content-Type: text/plain\r\n\r\ndeep text" + tail + "\r\n").encode()
    message = parse(raw)
    assert message.subject == "deep"
    deep_text = message.text is not None and "deep text" in message.text
    assert deep_text or any(b"deep text" in item.content for item in message.attachments)


def test_unknown_content_type_becomes_octet_stream_attachment() -> None:
    message = parse(eml("Content-Type: garbage/\nContent-Transfer-Encoding: base64", "AAEC"))
    [attachment] = message.attachments
    assert (attachment.content_type, attachment.content) == ("application/octet-stream", b"\x00\x01\x02")
    assert message.text is None


def test_text_attachment_is_not_the_body() -> None:
    message = corpus("42-text-attachment-disposition.eml")
    assert message.text == "Attached is last night's error log.\n"
    log, notes = message.attachments
    assert (log.content_disposition, notes.content_disposition) == ("attachment", "inline")
    assert log.content.startswith(b"2024-07-14T02:59:58Z ERROR")


def test_single_part_text_attachment() -> None:
    raw = eml('Content-Type: text/plain\nContent-Disposition: attachment; filename="a.txt"', "data")
    message = parse(raw)
    assert message.text is None
    assert message.preview is None
    assert [(item.filename, item.content) for item in message.attachments] == [("a.txt", b"data")]


def test_several_text_parts_are_joined_with_a_blank_line() -> None:
    raw = eml(
        'Content-Type: multipart/mixed; boundary="m"',
        "--m\nContent-Type: text/plain\n\nfirst\n\n--m\nContent-Type: text/plain\n\n\nsecond\n--m--\n",
    )
    assert parse(raw).text == "first\n\nsecond"


def test_addresses_skip_unparseable_entries() -> None:
    raw = eml(
        'From: "Doe, John" <John.Doe@Example.COM>\n'
        'To: Team: a@example.com, "B, b" <b@example.com>;, undisclosed-recipients:;, junk, <>, c@example.com (C)\n'
        "Cc: ,,, \n"
        "Reply-To: reply@example.com\n"
        "Bcc: hidden@example.com",
        "x",
    )
    message = parse(raw)
    assert message.from_ == '"Doe, John" <John.Doe@Example.COM>'
    assert message.from_address == "john.doe@example.com"
    assert message.to == ["a@example.com", '"B, b" <b@example.com>', "C <c@example.com>"]
    assert message.cc == []
    assert message.reply_to == ["reply@example.com"]
    assert message.bcc == ["hidden@example.com"]


@pytest.mark.parametrize(
    ("header", "from_", "from_address"),
    [
        ("From: Mail Delivery System <MAILER-DAEMON>", "Mail Delivery System <MAILER-DAEMON>", None),
        ("From: Foo Bar foo@bar.example", "Foo Bar foo@bar.example", "foo@bar.example"),
        ("From: =?utf-8?q?J=C3=B6rg?=", "J\u00f6rg", None),
        ("From:   ", None, None),
        ("Subject: no from", None, None),
    ],
)
def test_garbage_from(header: str, from_: str | None, from_address: str | None) -> None:
    message = parse(eml(header, "x"))
    assert (message.from_, message.from_address) == (from_, from_address)


def test_repeated_address_headers_are_all_read() -> None:
    message = parse(eml("To: a@example.com\nTo: b@example.com", "x"))
    assert message.to == ["a@example.com", "b@example.com"]


def test_headers_map_keeps_the_first_occurrence() -> None:
    raw = eml(
        "Received: from hop2 by us\nReceived: from hop1 by hop2\nSubject: =?utf-8?q?Hi_=C3=BC?=\n"
        "X-Folded: one\n\ttwo\n   three\nMessage-Id: <a@b>",
        "x",
    )
    message = parse(raw)
    assert message.headers["Received"] == "from hop2 by us"
    assert message.headers["Subject"] == "Hi \u00fc"
    assert message.headers["X-Folded"] == "one two three"
    assert "Message-Id" in message.headers
    assert [value for name, value in message.header_items if name == "Received"] == [
        "from hop2 by us",
        "from hop1 by hop2",
    ]


def test_references_and_in_reply_to() -> None:
    raw = eml(
        "In-Reply-To: <parent@x> (Ann's message of Monday)\n"
        "References: <root@x> <mid@x>\n <mid@x> <parent@x> <\n broken>",
        "x",
    )
    message = parse(raw)
    assert message.in_reply_to == "<parent@x>"
    assert message.references == ["<root@x>", "<mid@x>", "<parent@x>", "<broken>"]


def test_references_without_brackets() -> None:
    assert parse(eml("References: a@x b@y junk", "x")).references == ["<a@x>", "<b@y>"]


def test_format_flowed_is_undone() -> None:
    raw = eml(
        "Content-Type: text/plain; format=flowed; delsp=yes",
        "Hel \nlo world, this is  \nflowed.\n> quoted  \n> line\n-- \nsig\n",
    )
    assert parse(raw).text == "Hello world, this is flowed.\n> quoted line\n-- \nsig\n"


def test_crlf_and_bare_cr_become_newlines() -> None:
    raw = b"Subject: x\r\n\r\none\r\ntwo\rthree\n"
    assert parse(raw).text == "one\ntwo\nthree\n"


def test_base64_body_with_garbage() -> None:
    raw = eml("Content-Type: text/plain\nContent-Transfer-Encoding: base64", "aGVs bG8*\nIHdv\ncmxk!!")
    message = parse(raw)
    assert message.text is not None
    assert message.text.startswith("hello")


def test_preview_is_collapsed_and_cut_at_200_characters() -> None:
    text = "word  \n\t" * 100
    message = parse(eml("Subject: x", text))
    assert message.preview == ("word " * 40).rstrip()
    assert message.preview is not None
    assert len(message.preview) <= 200


def test_signed_and_encrypted_multiparts() -> None:
    signed = corpus("46-pgp-signed.eml")
    assert signed.text == "Versions before 3.2.1 are affected. Please upgrade.\n"
    raw = eml(
        'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"',
        "--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
        "--e\nContent-Type: application/octet-stream; name=encrypted.asc\n\n-----BEGIN PGP MESSAGE-----\n--e--\n",
    )
    encrypted = parse(raw)
    assert encrypted.text is None
    assert [item.content_type for item in encrypted.attachments] == ["application/pgp-encrypted", OCTET]


OCTET = "application/octet-stream"


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Type: text/plain" + b";" * 200_000,
        b"Content-Type: text/plain" + b'; a="b' * 40_000,
        b"Content-Disposition: attachment" + b"; filename*0*=x" * 20_000,
        b"From: " + b"a" * 500_000,
        b"To: " + b"<" * 500_000,
    ],
)
def test_pathological_headers_are_parsed_with_linear_work(header: bytes) -> None:
    def parse_scaled(factor: int) -> Callable[[], object]:
        name, _, value = header.partition(b":")
        return lambda: parse(name + b":" + value * factor + b"\r\n\r\nbody\r\n")

    parse_scaled(1)()  # never raises
    assert grows_linearly(parse_scaled, 1)  # quadratic parsing would take minutes at these sizes


def test_structure_headers_are_bounded_but_real_ones_intact() -> None:
    from postroom.mime.params import MAX_PARAMETERS, bounded

    assert bounded("text/plain;\r\n charset=utf-8") == "text/plain; charset=utf-8"
    assert bounded(";" * 10_000).count(";") == MAX_PARAMETERS - 1
    long_name = "attachment; filename*0*=utf-8''" + "%E6%97%A5" * 255
    assert bounded(long_name) == long_name


@pytest.mark.parametrize(
    "raw", [bytearray(b"Subject: a\r\n\r\nb"), memoryview(b"Subject: a\r\n\r\nb"), "Subject: a\n\nb"]
)
def test_bytes_like_input(raw: object) -> None:
    message = parse_message(raw, fallback_domain=DOMAIN)  # type: ignore[arg-type]
    assert (message.subject, message.text) == ("a", "b")
