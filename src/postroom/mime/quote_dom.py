"""Small selectolax helpers for reply extraction: visible text, text lines, content tests, cutting a document."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from selectolax.lexbor import LexborNode

BLOCKS = frozenset({"p", "div", "li", "tr", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr"})
_MEDIA_TAGS = ("img", "video", "audio", "iframe", "object", "embed", "svg", "canvas", "input")
_MEDIA = ", ".join(_MEDIA_TAGS)
_SCAN_NODES = 150  # how far into an element the line helpers look; bounds work on hostile input


def visible(text: str) -> str:
    """Text as a reader sees it: no-break spaces are spaces, surrounding whitespace dropped."""
    return text.replace("\u00a0", " ").strip()


def head(node: LexborNode) -> Iterator[LexborNode]:
    """The first nodes of `node`'s subtree (itself included), in document order."""
    return itertools.islice(node.traverse(include_text=True), _SCAN_NODES)


def lines(node: LexborNode) -> list[str]:
    """The node's text split at <br> and block boundaries (from the head of its subtree only)."""
    parts: list[str] = []
    for child in head(node):
        if child.is_text_node:
            parts.append(child.text(deep=False))
        elif child.tag == "br" or child.tag in BLOCKS:
            parts.append("\n")
    return [" ".join(line.split()) for line in "".join(parts).replace("\u00a0", " ").split("\n") if line.strip()]


def first_text(node: LexborNode) -> str:
    """The first visible text inside `node` (within the scanned head of its subtree)."""
    for child in head(node):
        if child.is_text_node and visible(child.text(deep=False)):
            return visible(child.text(deep=False))
    return ""


def single_line(node: LexborNode) -> str | None:
    """The node's whole text when it is one line (no <br> or block break inside), else None."""
    found = lines(node)
    if len(found) != 1:
        return None
    whole = " ".join(node.text(deep=True).replace("\u00a0", " ").split())
    return whole if whole == found[0] else None


def last_text(root: LexborNode) -> LexborNode | None:
    """The last text node under `root` that holds visible text."""
    last: LexborNode | None = None
    for node in root.traverse(include_text=True):
        if node.is_text_node and visible(node.text(deep=False)):
            last = node
    return last


def has_content(node: LexborNode) -> bool:
    """Whether the node shows anything: visible text or an image-like element."""
    if node.is_comment_node:
        return False
    if visible(node.text(deep=True)):
        return True
    return node.is_element_node and (node.tag in _MEDIA_TAGS or node.css_first(_MEDIA) is not None)


def has_content_after(node: LexborNode) -> bool:
    """Whether anything visible follows `node` in document order."""
    current: LexborNode | None = node
    while current is not None and current.tag not in ("body", "html"):
        sibling = current.next
        while sibling is not None:
            if has_content(sibling):
                return True
            sibling = sibling.next
        current = current.parent
    return False


def inside_blockquote(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag == "blockquote":
            return True
        parent = parent.parent
    return False


def cut_from(node: LexborNode) -> None:
    """Remove `node` and everything after it in document order."""
    current: LexborNode | None = node
    while current is not None and current.tag not in ("body", "html"):
        sibling = current.next
        while sibling is not None:
            following = sibling.next
            sibling.decompose()
            sibling = following
        current = current.parent
    node.decompose()
