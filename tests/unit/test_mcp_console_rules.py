"""Pure rules of the MCP tools and the console: attachment text, compact rendering, the session seal, HTML safety."""

from __future__ import annotations

from postroom.console.safety import frame_policy, sanitize
from postroom.console.session import Session, SessionSeal
from postroom.mcp import render
from postroom.mcp.attachments import has_text, text_of

CONTENT = b"BT /F1 12 Tf 20 100 Td (Hello from a PDF) Tj ET"
OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    b"<< /Length " + str(len(CONTENT)).encode() + b" >>\nstream\n" + CONTENT + b"\nendstream",
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
]


def one_page_pdf() -> bytes:
    """A valid one-page PDF with one line of text, cross-reference table included."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(OBJECTS, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(OBJECTS) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(OBJECTS) + 1, xref)
    return bytes(out)


def test_attachment_text_from_text_parts_and_pdfs() -> None:
    assert has_text("text/csv; charset=utf-8", None)
    assert has_text("application/octet-stream", "report.PDF")
    assert not has_text("image/png", "photo.png")
    assert text_of("Grüße".encode("latin-1"), "text/plain; charset=iso-8859-1", "a.txt") == "Grüße"
    assert text_of(b"plain", "text/plain; charset=no-such-charset", None) == "plain"
    pdf_text = text_of(one_page_pdf(), "application/pdf", "hello.pdf")
    assert pdf_text is not None
    assert "Hello from a PDF" in pdf_text
    assert text_of(b"%PDF-1.4 broken", "application/pdf", "x.pdf") in (None, "")


def test_a_message_renders_its_new_text_and_attachment_names() -> None:
    message = {
        "message_id": "<m@x>",
        "thread_id": "thd_1",
        "inbox_id": "a@b",
        "from": "Ann <ann@example.org>",
        "to": ["a@b"],
        "subject": "Numbers",
        "labels": ["received", "unread"],
        "text": "Here they are.\n\nOn Monday Bob wrote:\n> send them",
        "extracted_text": "Here they are.",
        "attachments": [
            {"attachment_id": "att_1", "filename": "q3.pdf", "content_type": "application/pdf", "size": 2048}
        ],
    }
    text = render.message(message)
    assert "message_id=<m@x>" in text
    assert "From: Ann <ann@example.org>" in text
    assert "q3.pdf (application/pdf, 2 KB) attachment_id=att_1" in text
    assert "Here they are." in text
    assert "send them" not in text
    assert "send them" in render.message(message, full_text=True)
    long = render.bounded("x" * 50, 10)
    assert long.startswith("x" * 10)
    assert "40 more characters" in long


def test_the_session_seal_refuses_tampering_and_other_servers() -> None:
    seal = SessionSeal(b"s" * 32)
    sealed = seal.seal(Session("pr_key", "token"))
    assert "pr_key" not in sealed
    assert seal.open(sealed) == Session("pr_key", "token")
    # A character in the middle: every bit of it is data (the last one before the padding may carry unused bits).
    middle = len(sealed) // 2
    assert seal.open(sealed[:middle] + ("A" if sealed[middle] != "A" else "B") + sealed[middle + 1 :]) is None
    assert SessionSeal(b"t" * 32).open(sealed) is None
    assert seal.open("") is None
    assert seal.open("not a token") is None


def test_mail_html_loses_scripts_and_remote_loads_wait_for_the_reader() -> None:
    cleaned = sanitize(
        '<p onclick="x()" style="color:red">Hi<script>alert(1)</script></p><a href="javascript:x()">l</a>'
    )
    assert "script" not in cleaned
    assert "onclick" not in cleaned
    assert "javascript:" not in cleaned
    assert 'style="color:red"' in cleaned
    blocked, allowed = frame_policy(remote=False), frame_policy(remote=True)
    for policy in (blocked, allowed):
        assert "default-src 'none'" in policy
        assert "script-src" not in policy  # falls back to default-src 'none'
        assert "sandbox" in policy
    assert "img-src data:;" in blocked
    assert "https:" not in blocked
    assert "img-src data: https: http:" in allowed
