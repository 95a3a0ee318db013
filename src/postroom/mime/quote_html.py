"""HTML reply extraction: remove the quote containers mail clients mark, keep the rest as HTML (selectolax).

Written by hand; the markers (gmail_quote, divRplyFwdMsg, blockquote type=cite, moz-cite-prefix, …) are those
talon's html_quotations and AgentMail's agentextract recognise.
"""

from __future__ import annotations

from collections.abc import Callable

from selectolax.lexbor import LexborHTMLParser, LexborNode

from postroom.mime.quote_dom import (
    BLOCKS,
    cut_from,
    first_text,
    has_content,
    has_content_after,
    inside_blockquote,
    last_text,
    lines,
    single_line,
    visible,
)
from postroom.mime.quote_patterns import is_from_line, is_header_block, is_intro, is_mobile_signature, is_separator

# Containers that hold nothing but history, wherever they sit (Gmail, Yahoo, Proton, Thunderbird forwards).
_HISTORY = (
    "div.gmail_quote, blockquote.gmail_quote, div.gmail_attr, div.yahoo_quoted, div.protonmail_quote,"
    " blockquote.protonmail_quote, div.moz-forward-container"
)
# Outlook markers: everything from here to the end of the document is history (unless inside a quote already).
_CUT_IDS = frozenset({"appendonsend", "divrplyfwdmsg", "stopspelling", "mail-editor-reference-message-container"})
# Trailing signature containers (the HTML counterpart of a "-- " block).
_SIGNATURES = (
    "div.gmail_signature, .gmail_signature_prefix, div.moz-signature, pre.moz-signature,"
    " div#ms-outlook-mobile-signature"
)
# Bounds on the work hostile input can cause: header-block checks, removal rounds.
_HEADER_CHECKS = 100
_MAX_ROUNDS = 20


def strip_html_quotes(html: str) -> str | None:
    """The new content of an HTML body as HTML, or None when no quote structure was recognised."""
    body = LexborHTMLParser(html).body
    if body is None:
        return None
    changed = _remove_outermost(body.css(_HISTORY))
    marker = _find_cut_marker(body)
    if marker is not None:
        cut_from(marker)
        changed = True
    if _remove_trailing_cites(body):
        _remove_last_line(body, is_intro)
        changed = True
    changed = _remove_trailing_signatures(body) or changed
    if not changed:
        return None
    _trim_trailing(body)
    return (body.inner_html or "").strip()


def _remove_outermost(nodes: list[LexborNode]) -> bool:
    """Decompose each node not nested in another one of `nodes` (nested ones go with their container)."""
    ids = {node.mem_id for node in nodes}
    outermost = [node for node in nodes if not _has_ancestor_in(node, ids)]
    for node in outermost:
        node.decompose()
    return bool(outermost)


def _has_ancestor_in(node: LexborNode, ids: set[int]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id in ids:
            return True
        parent = parent.parent
    return False


def _find_cut_marker(body: LexborNode) -> LexborNode | None:
    """The first Outlook marker, separator line or header block outside any blockquote."""
    header_checks = _HEADER_CHECKS
    for node in body.traverse(include_text=True):
        if node.is_text_node:
            found = is_separator(node.text(deep=False).replace("\u00a0", " "))
        elif (node.attributes.get("id") or "").lower() in _CUT_IDS:
            found = True
        elif header_checks > 0 and node.tag in ("div", "p") and is_from_line(first_text(node)):
            header_checks -= 1
            found = _is_header(node)
        elif header_checks > 0 and node.tag == "div" and _is_empty_border_top(node):
            header_checks -= 1
            following = node.next
            while following is not None and not has_content(following):
                following = following.next
            found = following is not None and is_from_line(first_text(following))
        else:
            found = False
        if found and not inside_blockquote(node):
            return node
    return None


def _is_header(node: LexborNode) -> bool:
    """A From:/Sent:/To: block, or Outlook's border-top divider whose text opens with From:."""
    found = lines(node)
    style = (node.attributes.get("style") or "").lower()
    return bool(found) and (("border-top" in style and is_from_line(found[0])) or is_header_block(found, 0))


def _is_empty_border_top(node: LexborNode) -> bool:
    return "border-top" in (node.attributes.get("style") or "").lower() and not has_content(node)


def _attribution(node: LexborNode) -> LexborNode | None:
    """The Thunderbird cite prefix or "On … wrote:" line in `node` (the sibling right before a quote), if any."""
    if "moz-cite-prefix" in (node.attributes.get("class") or "").split():
        return node
    line = single_line(node)
    if line is not None:
        return node if is_intro(line) else None
    last = last_text(node)
    return last if last is not None and is_intro(visible(last.text(deep=False))) else None


def _remove_trailing_cites(body: LexborNode) -> bool:
    """Remove the last top-level blockquote while nothing visible follows it (inline answers stay).

    A blockquote type="cite" always qualifies; a bare blockquote only with an attribution line right before it.
    """
    removed = False
    for _ in range(_MAX_ROUNDS):
        quote = next((quote for quote in reversed(body.css("blockquote")) if not inside_blockquote(quote)), None)
        if quote is None or has_content_after(quote):
            return removed
        before = quote.prev
        while before is not None and not has_content(before):
            before = before.prev
        attribution = _attribution(before) if before is not None else None
        if attribution is None and (quote.attributes.get("type") or "").lower() != "cite":
            return removed
        if attribution is not None:
            attribution.decompose()
        quote.decompose()
        removed = True
    return removed


def _remove_trailing_signatures(body: LexborNode) -> bool:
    removed = False
    for _ in range(_MAX_ROUNDS):
        signatures = body.css(_SIGNATURES)
        if signatures and not has_content_after(signatures[-1]):
            signatures[-1].decompose()
        elif not _remove_last_line(body, is_mobile_signature):
            return removed
        removed = True
    return removed


def _remove_last_line(body: LexborNode, matches: Callable[[str], bool]) -> bool:
    """Remove the document's last visible line when `matches` accepts it: its own block if the line fills it."""
    last = last_text(body)
    if last is None:
        return False
    block = last.parent
    while block is not None and block.tag not in BLOCKS and block.tag not in ("body", "html"):
        block = block.parent
    if block is not None and block.tag in BLOCKS:
        line = single_line(block)
        if line is not None and matches(line):
            block.decompose()
            return True
    if matches(visible(last.text(deep=False))):
        last.decompose()
        return True
    return False


def _trim_trailing(node: LexborNode) -> None:
    """Drop trailing whitespace, <br>, <hr> and empty elements left behind by the removals, at every depth."""
    while (last := node.last_child) is not None:
        if last.is_element_node and last.tag not in ("br", "hr") and has_content(last):
            node = last
        elif last.is_text_node and visible(last.text(deep=False)):
            return
        else:
            last.decompose()
