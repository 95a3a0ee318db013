"""Showing mail HTML without trusting it: sanitised (nh3), served into a sandboxed frame whose Content Security
Policy forbids scripts and, until the reader asks, every remote load (tracking pixels included)."""

from __future__ import annotations

import nh3

ALLOWED_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
for _tag in ALLOWED_ATTRIBUTES:
    ALLOWED_ATTRIBUTES[_tag] |= {"style", "align", "width", "height", "bgcolor", "color"}
ALLOWED_ATTRIBUTES.setdefault("*", set()).update({"style", "align"})
ALLOWED_ATTRIBUTES.setdefault("img", set()).update({"src", "alt", "title", "width", "height"})
ALLOWED_ATTRIBUTES.setdefault("td", set()).update({"colspan", "rowspan", "valign"})

_BLOCKED = "img-src data:; media-src 'none'"
_REMOTE = "img-src data: https: http:; media-src https: http:"
_BASE = "default-src 'none'; style-src 'unsafe-inline'; font-src data:; form-action 'none'; frame-ancestors 'self'"

# The page around the frame: its own script and styles only, nothing inline, nothing remote.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def sanitize(html: str) -> str:
    return nh3.clean(html, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto", "cid", "data"})


def frame_policy(remote: bool) -> str:
    """CSP of the message frame: never scripts or connections, remote images only when asked; ``sandbox`` gives the
    document an opaque origin even if a browser ignores the iframe's own sandbox attribute."""
    return f"{_BASE}; {_REMOTE if remote else _BLOCKED}; sandbox allow-popups allow-popups-to-escape-sandbox"


def frame_document(html: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"><base target="_blank">'
        "<style>body{font-family:system-ui,sans-serif;margin:8px;overflow-wrap:anywhere}img{max-width:100%}</style>"
        f"</head><body>{sanitize(html)}</body></html>"
    )
