"""html_to_text: readable text from HTML mail bodies, never an exception."""

from __future__ import annotations

import pytest

from postroom.mime.html import html_to_text
from tests.support.work import grows_linearly


def test_blocks_become_lines_and_paragraphs() -> None:
    html = "<div>first</div><div>second</div><p>para one</p><p>para two</p><h2>Title</h2>after"
    assert html_to_text(html) == "first\nsecond\n\npara one\n\npara two\n\nTitle\n\nafter"


def test_script_style_head_and_comments_are_skipped() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<!-- hidden --><script>alert(1)</script><p>shown</p><noscript>no</noscript></body></html>"
    )
    assert html_to_text(html) == "shown"


def test_links_keep_their_text() -> None:
    html = 'Click <a href="https://example.com/very/long?tracking=1">here</a> to confirm.'
    assert html_to_text(html) == "Click here to confirm."


def test_line_breaks_lists_and_tables() -> None:
    html = "a<br>b<br><br>c<ul><li>one</li><li>two</li></ul>"
    html += "<table><tr><td>x</td><td>y</td></tr><tr><td>z</td></tr></table>"
    assert html_to_text(html) == "a\nb\n\nc\n\n- one\n- two\n\nx y\nz"


def test_whitespace_and_entities() -> None:
    html = "<p>  many \n\t spaces&nbsp;and&amp;entities &lt;tag&gt; </p>"
    assert html_to_text(html) == "many spaces and&entities <tag>"


def test_pre_keeps_its_layout() -> None:
    assert html_to_text("<pre>  indented\n    more</pre>") == "indented\n    more"
    assert html_to_text("<p>x</p><pre>a  b\n  c</pre>") == "x\n\na  b\n  c"


def test_gmail_quote_structure() -> None:
    html = (
        '<div dir="ltr">Thanks!</div><br><div class="gmail_quote"><div class="gmail_attr">On Mon, Ann wrote:</div>'
        "<blockquote>Hello<br>there</blockquote></div>"
    )
    assert html_to_text(html) == "Thanks!\n\nOn Mon, Ann wrote:\n\nHello\nthere"


def test_corpus_newsletter_reads_well() -> None:
    from tests.unit.test_mime_parse import corpus

    html = corpus("38-newsletter-tracking.eml").html
    assert html is not None
    text = html_to_text(html)
    assert text.splitlines()[-1] == "You get this email because you subscribed. Unsubscribe"
    assert "July picks\n\nHi there, here are three tools we loved this month." in text
    assert "@media" not in text
    assert "Read the article" in text


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "plain text",
        "<",
        "</p></div>",
        "<div>" * 200_000 + "deep",
        "a\ud800b",
        "\x00<p>\x00</p>",
        "<p" * 1000,
    ],
)
def test_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


def nested(depth: int) -> str:
    return "<div>" * depth + "deep <b>text</b>" + "</div>" * depth


@pytest.mark.parametrize("depth", [100, 4_000, 200_000])
def test_deep_nesting_keeps_the_text(depth: int) -> None:
    assert html_to_text(nested(depth)) == "deep text"


def test_deep_nesting_costs_work_in_proportion_to_its_depth() -> None:
    assert grows_linearly(lambda depth: lambda: html_to_text(nested(depth)), 20_000)
