"""The MIME tree walk: which parts are the text and HTML bodies and which are attachments (RFC 2046, 2387, 3462).

Written by hand on the standard library's email package; the rules per multipart subtype are in `_multipart`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message

from postroom.mime.model import ParsedAttachment
from postroom.mime.payloads import (
    content_id,
    content_type,
    disposition,
    fallback_attachment,
    filename,
    make_attachment,
    params,
    part_text,
)

MAX_DEPTH = 40
BODY_TYPES = ("text/plain", "text/html")


@dataclass
class Body:
    """What a subtree contributes: text/plain and text/html bodies, attachments, and text/calendar texts."""

    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    calendars: list[str] = field(default_factory=list)

    def extend(self, other: Body) -> None:
        self.texts.extend(other.texts)
        self.htmls.extend(other.htmls)
        self.attachments.extend(other.attachments)
        self.calendars.extend(other.calendars)


def collect(part: Message, depth: int = 0) -> Body:
    """Bodies and attachments of `part` and everything below it; never raises."""
    try:
        return _collect(part, depth)
    except Exception:  # RecursionError, a codec or header bug: keep the part's bytes as an attachment
        return Body(attachments=[fallback_attachment(part)])


def _attachment(part: Message, *, related: bool = False) -> ParsedAttachment:
    try:
        return make_attachment(part, content_type(part), related=related)
    except Exception:  # as in collect()
        return fallback_attachment(part)


def _children(part: Message) -> list[Message] | None:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [child for child in payload if isinstance(child, Message)]
    return None


def _collect(part: Message, depth: int) -> Body:
    ctype = content_type(part)
    if depth >= MAX_DEPTH:
        return _flattened(part)
    if ctype.startswith("message/"):
        return Body(attachments=[make_attachment(part, ctype)])
    if ctype.startswith("multipart/"):
        children = _children(part)
        if children is None:  # the boundary never appeared: the body is text
            return Body(texts=[part_text(part, "text/plain")])
        return _multipart(part, ctype.removeprefix("multipart/"), children, depth + 1)
    return _leaf(part, ctype)


def _flattened(part: Message) -> Body:
    """Beyond MAX_DEPTH nesting carries no meaning: every leaf in order, as if all were in one multipart/mixed.

    Walked with an explicit stack, so no nesting depth the email package can parse exhausts the recursion limit.
    """
    body = Body()
    stack = [part]
    while stack:
        current = stack.pop()
        ctype = content_type(current)
        children = _children(current) if ctype.startswith("multipart/") else None
        if children is not None:
            stack.extend(reversed(children))
        elif ctype.startswith("multipart/"):
            body.texts.append(part_text(current, "text/plain"))
        else:
            body.extend(collect(current))  # a leaf or message/*: no recursion below it
    return body


def _leaf(part: Message, ctype: str) -> Body:
    if ctype == "text/calendar":
        return Body(attachments=[make_attachment(part, ctype)], calendars=[part_text(part, ctype)])
    if ctype in BODY_TYPES and disposition(part) != "attachment" and filename(part) is None:
        text = part_text(part, ctype)
        return Body(texts=[text]) if ctype == "text/plain" else Body(htmls=[text])
    return Body(attachments=[make_attachment(part, ctype)])


def _multipart(part: Message, subtype: str, children: list[Message], depth: int) -> Body:
    """alternative: the last text/plain and the last text/html rendering win; related: the root (the `start` part,
    else the first) is the body, the rest inline attachments; report (RFC 3462) and signed: the first part is the
    body, the rest attachments; encrypted: all attachments; mixed and anything else: everything in order.
    """
    if not children:
        return Body()
    if subtype == "alternative":
        return _alternative(children, depth)
    if subtype == "related":
        return _related(part, children, depth)
    if subtype == "encrypted":
        return Body(attachments=[_attachment(child) for child in children])
    if subtype in ("report", "signed"):
        body = collect(children[0], depth)
        body.attachments.extend(_attachment(child) for child in children[1:])
        return body
    body = Body()
    for child in children:
        body.extend(collect(child, depth))
    return body


def _is_rendition(part: Message) -> bool:
    """An alternative rendering we do not use as a body (text/enriched, text/watch-html, text/x-amp-html)."""
    ctype = content_type(part)
    return ctype.startswith("text/") and ctype not in (*BODY_TYPES, "text/calendar") and disposition(part) is None


def _alternative(children: list[Message], depth: int) -> Body:
    renditions = [child for child in children if _is_rendition(child)]
    bodies = [collect(child, depth) for child in children if not _is_rendition(child)]
    result = Body()
    result.texts = next((body.texts for body in reversed(bodies) if body.texts), [])
    result.htmls = next((body.htmls for body in reversed(bodies) if body.htmls), [])
    for body in bodies:
        result.attachments.extend(body.attachments)
        result.calendars.extend(body.calendars)
    if not (result.texts or result.htmls):
        result.attachments.extend(_attachment(child) for child in renditions)
    return result


def _related(part: Message, children: list[Message], depth: int) -> Body:
    start = params(part, "content-type")[1].get("start", "").strip("<> ")
    ids = [content_id(child) for child in children]
    root = ids.index(start) if start and start in ids else 0
    body = collect(children[root], depth)
    for index, child in enumerate(children):
        if index == root:
            continue
        if content_type(child).startswith("multipart/"):
            body.extend(collect(child, depth))
        else:
            body.attachments.append(_attachment(child, related=True))
    return body
