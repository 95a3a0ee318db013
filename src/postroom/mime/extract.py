"""Reply extraction (spec §5.3): the new content of a message body, quoted history and signatures stripped.

Written by hand, modelled on mailgun talon's quotation rules, GitHub's email_reply_parser and AgentMail's
agentextract; never raises, and leaves a body it recognises nothing in as it was.
"""

from __future__ import annotations

from postroom.mime.quote_html import strip_html_quotes
from postroom.mime.quote_text import strip_text_quotes


def extract_text(text: str) -> str:
    """New content of a plain-text body: "\\n" line ends, no leading or trailing blank lines."""
    try:
        return strip_text_quotes(text)
    except Exception:  # a heuristic must never fail a message; hand back the body as it came
        return text.strip() if isinstance(text, str) else ""


def extract_html(html: str) -> str:
    """New content of an HTML body as HTML (inner markup of <body>); the input itself when nothing was recognised."""
    try:
        stripped = strip_html_quotes(html)
    except Exception:  # malformed markup or text the parser cannot encode: keep the body whole
        return html if isinstance(html, str) else ""
    return html if stripped is None else stripped
