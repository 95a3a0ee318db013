"""Compact text a model reads well from API JSON: ids first, then who, what and when; bodies last and bounded.

Every tool also returns the API's full JSON as structured content, so nothing is lost by leaving fields out here.
"""

from __future__ import annotations

from typing import Any

MAX_BODY_CHARS = 20_000
JSONObject = dict[str, Any]


def _labels(item: JSONObject) -> str:
    labels = item.get("labels") or []
    return f" [{', '.join(labels)}]" if labels else ""


def _more(page: JSONObject) -> str:
    token = page.get("next_page_token")
    return f"\nMore results: call again with page_token={token!r}" if token else ""


def _size(size: object) -> str:
    if not isinstance(size, int):
        return "?"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def bounded(text: str, limit: int = MAX_BODY_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters; the full text is in the JSON result]"


def inbox(item: JSONObject) -> str:
    name = f" ({item['display_name']})" if item.get("display_name") else ""
    paused = " [paused]" if item.get("status") == "paused" else ""
    metadata = item.get("metadata")
    extra = f" metadata={metadata}" if metadata else ""
    return f"{item['inbox_id']}{name}{paused} created {item.get('created_at', '?')}{extra}"


def inboxes(page: JSONObject) -> str:
    items = page.get("inboxes") or []
    lines = [f"{len(items)} inbox(es):"] + [f"- {inbox(item)}" for item in items]
    return "\n".join(lines) + _more(page)


def attachment(item: JSONObject) -> str:
    name = item.get("filename") or "(no name)"
    kind = item.get("content_type") or "?"
    return f"{name} ({kind}, {_size(item.get('size'))}) attachment_id={item.get('attachment_id')}"


def thread_item(item: JSONObject) -> str:
    senders = ", ".join(item.get("senders") or [])
    lines = [
        f"- thread_id={item['thread_id']}{_labels(item)}",
        f"  subject: {item.get('subject') or '(no subject)'}",
        f"  from: {senders}; {item.get('message_count', '?')} message(s); last {item.get('timestamp', '?')}",
    ]
    if item.get("preview"):
        lines.append(f"  preview: {bounded(item['preview'], 300)}")
    if item.get("attachments"):
        lines.append("  attachments: " + "; ".join(attachment(a) for a in item["attachments"]))
    return "\n".join(lines)


def threads(page: JSONObject) -> str:
    items = page.get("threads") or []
    return "\n".join([f"{len(items)} thread(s):", *(thread_item(item) for item in items)]) + _more(page)


def message(item: JSONObject, *, full_text: bool = False) -> str:
    lines = [
        f"message_id={item['message_id']} thread_id={item.get('thread_id')} inbox_id={item.get('inbox_id')}",
        f"From: {item.get('from', '?')}",
        f"To: {', '.join(item.get('to') or [])}",
    ]
    if item.get("cc"):
        lines.append(f"Cc: {', '.join(item['cc'])}")
    lines += [f"Date: {item.get('timestamp', '?')}", f"Subject: {item.get('subject') or '(no subject)'}"]
    if item.get("labels"):
        lines.append(f"Labels: {', '.join(item['labels'])}")
    for attached in item.get("attachments") or []:
        lines.append(f"Attachment: {attachment(attached)}")
    extracted, text = item.get("extracted_text"), item.get("text")
    if extracted and not full_text:
        lines += ["", "New text (quoted history and signature removed):", bounded(extracted)]
    elif text:
        lines += ["", bounded(text)]
    elif item.get("preview"):
        lines += ["", bounded(item["preview"])]
    elif item.get("html"):
        lines += ["", "(HTML-only message; its html is in the JSON result)"]
    return "\n".join(lines)


def thread(item: JSONObject) -> str:
    header = [
        f"thread_id={item['thread_id']} inbox_id={item.get('inbox_id')}{_labels(item)}",
        f"Subject: {item.get('subject') or '(no subject)'}; {item.get('message_count', '?')} message(s), oldest first",
    ]
    blocks = [message(m) for m in item.get("messages") or []]
    older = "\nOlder messages exist: call get_thread's API with page_token." if item.get("next_page_token") else ""
    return "\n\n".join(["\n".join(header), *blocks]) + older


def search_hits(page: JSONObject) -> str:
    items = page.get("messages") or []
    lines = [f"{len(items)} matching message(s):"]
    for item in items:
        lines.append(
            f"- message_id={item['message_id']} thread_id={item.get('thread_id')}{_labels(item)}\n"
            f"  from {item.get('from', '?')} at {item.get('timestamp', '?')}: {item.get('subject') or '(no subject)'}"
        )
        for field, fragments in (item.get("highlights") or {}).items():
            lines.append(f"  {field}: {' … '.join(fragments)}")
    return "\n".join(lines) + _more(page)


def draft(item: JSONObject) -> str:
    lines = [f"draft_id={item['draft_id']} inbox_id={item.get('inbox_id')}{_labels(item)}"]
    for field in ("to", "cc", "bcc"):
        if item.get(field):
            lines.append(f"{field.capitalize()}: {', '.join(item[field])}")
    lines.append(f"Subject: {item.get('subject') or '(no subject)'}")
    for field in ("in_reply_to", "forward_of", "send_at", "send_status"):
        if item.get(field):
            lines.append(f"{field}: {item[field]}")
    for attached in item.get("attachments") or []:
        lines.append(f"Attachment: {attachment(attached)}")
    body = item.get("text") or item.get("preview")
    if body:
        lines += ["", bounded(body)]
    return "\n".join(lines)


def drafts(page: JSONObject) -> str:
    items = page.get("drafts") or []
    return "\n\n".join([f"{len(items)} draft(s):", *(draft(item) for item in items)]) + _more(page)


def domains(page: JSONObject) -> str:
    items = page.get("domains") or []
    lines = [f"{len(items)} domain(s):"]
    for item in items:
        status = f" {item['status']}" if item.get("status") else ""
        lines.append(f"- {item.get('domain') or item.get('domain_id')}{status}")
    return "\n".join(lines) + _more(page)


def sent(result: JSONObject, verb: str) -> str:
    return f"{verb}: message_id={result.get('message_id')} thread_id={result.get('thread_id')}"
