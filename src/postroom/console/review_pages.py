"""Console pages for drafts awaiting review: list, edit, approve (send now or at a time) and discard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from postroom.console.web import View, path_id, redirect

JSONObject = dict[str, Any]


def _json(model: Any) -> JSONObject:
    dumped: JSONObject = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def _addresses(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]


def _draft_path(inbox_id: str, draft_id: str) -> str:
    return f"/inboxes/{quote(inbox_id, safe='@')}/drafts/{quote(draft_id, safe='')}"


async def drafts(view: View) -> Response:
    token = view.request.query_params.get("page_token")
    page = _json(await view.client.drafts.list(limit=50, **({"page_token": token} if token else {})))
    return view.render("drafts.html", page=page)


async def draft(view: View) -> Response:
    inbox_id, draft_id = path_id(view.request, "inbox_id"), path_id(view.request, "draft_id")
    found = _json(await view.client.inboxes.drafts.get(inbox_id, draft_id))
    return view.render("draft.html", draft=found)


async def save(view: View) -> Response:
    inbox_id, draft_id = path_id(view.request, "inbox_id"), path_id(view.request, "draft_id")
    await _save(view, inbox_id, draft_id)
    return redirect(_draft_path(inbox_id, draft_id), "Draft saved")


async def _save(view: View, inbox_id: str, draft_id: str) -> None:
    current = _json(await view.client.inboxes.drafts.get(inbox_id, draft_id))
    changes: JSONObject = {}
    for name in ("to", "cc", "bcc"):
        addresses = _addresses(view.field(name))
        if addresses != (current.get(name) or []):
            changes[name] = addresses
    for name in ("subject", "text"):
        value = view.field(name)
        if value != (current.get(name) or ""):
            changes[name] = value
    if changes:
        await view.client.inboxes.drafts.update(inbox_id, draft_id, **changes)


async def send(view: View) -> Response:
    """Approve: save the edits shown in the form, then send now."""
    inbox_id, draft_id = path_id(view.request, "inbox_id"), path_id(view.request, "draft_id")
    await _save(view, inbox_id, draft_id)
    sent = _json(await view.client.inboxes.drafts.send(inbox_id, draft_id))
    return redirect("/drafts", f"Sent as {sent.get('message_id')}")


async def schedule(view: View) -> Response:
    """Approve for later: save the edits, then let the server send the draft at the chosen time (UTC)."""
    inbox_id, draft_id = path_id(view.request, "inbox_id"), path_id(view.request, "draft_id")
    try:
        when = datetime.fromisoformat(view.field("send_at")).replace(tzinfo=UTC)
    except ValueError:
        return redirect(_draft_path(inbox_id, draft_id), "Choose a date and time to send at")
    await _save(view, inbox_id, draft_id)
    await view.client.inboxes.drafts.update(inbox_id, draft_id, send_at=when)
    return redirect(_draft_path(inbox_id, draft_id), f"Scheduled for {when.isoformat()}")


async def discard(view: View) -> Response:
    inbox_id, draft_id = path_id(view.request, "inbox_id"), path_id(view.request, "draft_id")
    await view.client.inboxes.drafts.delete(inbox_id, draft_id)
    return redirect("/drafts", "Draft discarded")
