"""Readable plain text from an HTML mail body, with selectolax (lexbor): no script/style, blocks on their own lines.

Walked with an explicit stack; markup nested over 5 000 deep is regex-stripped (lexbor is quadratic in depth).
"""

from __future__ import annotations

import re
from html import unescape

from selectolax.lexbor import LexborHTMLParser, LexborNode

_SKIP = frozenset({"head", "title", "script", "style", "noscript", "template", "iframe", "object", "svg", "math"})
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl", "hr"})
_BLOCK = _PARAGRAPH | frozenset(
    {
        "address", "article", "aside", "caption", "center", "dd", "details", "dialog", "div", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "header", "hgroup", "li", "main", "nav", "section", "summary",
        "tbody", "tfoot", "thead", "tr",
    }
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
_SPACES = re.compile(r"[ \t\n\r\f\v\xa0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^<>]*>")
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
MAX_NESTING = 5_000  # lexbor's time grows with the square of the nesting depth


class _Writer:
    """Collects text; block boundaries become pending newlines, written only before the next text."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.pending = 0
        self.line_start = True

    def text(self, value: str, *, pre: bool) -> None:
        if not pre:
            value = _SPACES.sub(" ", value)
        if self.pending and self.chunks:
            self.chunks.append("\n" * self.pending)
            self.line_start = True
        self.pending = 0
        if self.line_start and not pre:
            value = value.lstrip(" ")
        if value:
            self.chunks.append(value)
            self.line_start = value.endswith("\n")

    def block(self, newlines: int) -> None:
        self.pending = max(self.pending, newlines)

    def line_break(self) -> None:
        self.text("\n", pre=True)

    def result(self) -> str:
        lines = [line.rstrip() for line in "".join(self.chunks).split("\n")]
        return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _walk(root: LexborNode, out: _Writer) -> None:
    stack: list[tuple[LexborNode, bool]] = [(root, False)]
    pre_depth = 0
    while stack:
        node, leaving = stack.pop()
        tag = node.tag or ""
        if leaving:
            pre_depth -= tag == "pre"
            if tag in _BLOCK:
                out.block(2 if tag in _PARAGRAPH else 1)
            elif tag in _CELLS:
                out.text(" ", pre=False)
            continue
        if tag == "-text":
            out.text(node.text_content or "", pre=pre_depth > 0)
            continue
        if tag in _SKIP or tag.startswith(("-", "!")):
            continue
        if tag == "br":
            out.line_break()
            continue
        if tag in _BLOCK:
            out.block(2 if tag in _PARAGRAPH else 1)
        if tag == "li":
            out.text("- ", pre=True)
        pre_depth += tag == "pre"
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))


def _too_deep(html: str) -> bool:
    """Whether the markup nests deeper than MAX_NESTING elements (counted from the tags, in one linear scan)."""
    depth = 0
    for match in _TAG_NAME.finditer(html):
        if match.group(2).lower() in _VOID:
            continue
        depth = max(depth - 1, 0) if match.group(1) else depth + 1
        if depth > MAX_NESTING:
            return True
    return False


def _fallback(html: str) -> str:
    """Tags stripped by a (linear) regex: for markup selectolax refuses or would take minutes over."""
    text = unescape(_TAG.sub(" ", html)).replace("\xa0", " ")
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def html_to_text(html: str) -> str:
    """Plain text of an HTML document or fragment; links keep their text, images and scripts vanish. Never raises."""
    try:
        if _too_deep(html):
            return _fallback(html)
        tree = LexborHTMLParser(html)
        root = tree.body or tree.root
        if root is None:
            return ""
        out = _Writer()
        _walk(root, out)
        return out.result()
    except Exception:  # selectolax refuses the input: strip tags with a regex instead
        return _fallback(html)
