"""Console pages for mail: inboxes (list, search, create, pause, delete, metadata), an inbox's threads, a thread's
messages with their sanitised HTML, attachments, raw source and extracted text."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from agentmail.inboxes import CreateInboxRequest
from starlette.responses import HTMLResponse, RedirectResponse, Response

from postroom.console.safety import frame_document, frame_policy
from postroom.console.web import View, path_id, redirect

JSONObject = dict[str, Any]


def _json(model: Any) -> JSONObject:
    dumped: JSONObject = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def _inbox_path(inbox_id: str) -> str:
    from urllib.parse import quote

    return "/inboxes/" + quote(inbox_id, safe="@")


async def inboxes(view: View) -> Response:
    query = view.request.query_params.get("q", "").strip()
    token = view.request.query_params.get("page_token") or None
    options = {"limit": 50} | ({"page_token": token} if token else {})
    if query:
        page = _json(await view.client.inboxes.search(q=query, **options))
    else:
        page = _json(await view.client.inboxes.list(**options))
    return view.render("inboxes.html", page=page, query=query)


async def create_inbox(view: View) -> Response:
    fields = {name: view.field(name) for name in ("username", "domain", "display_name")}
    request = CreateInboxRequest(**{name: value for name, value in fields.items() if value})
    inbox = _json(await view.client.inboxes.create(request=request))
    return redirect(_inbox_path(inbox["inbox_id"]), f"Created {inbox['inbox_id']}")


async def inbox(view: View) -> Response:
    inbox_id = path_id(view.request, "inbox_id")
    found = _json(await view.client.inboxes.get(inbox_id))
    params = view.request.query_params
    options: JSONObject = {"limit": 50}
    if params.get("page_token"):
        options["page_token"] = params["page_token"]
    if params.get("label"):
        options["labels"] = [params["label"]]
    threads = _json(await view.client.inboxes.threads.list(inbox_id, **options))
    template = "_threads.html" if params.get("fragment") == "threads" else "inbox.html"
    metadata = json.dumps(found.get("metadata") or {}, indent=2, ensure_ascii=False)
    return view.render(template, inbox=found, threads=threads, metadata=metadata, label=params.get("label"))


async def set_status(view: View) -> Response:
    inbox_id = path_id(view.request, "inbox_id")
    status = "paused" if view.field("status") == "paused" else "active"
    await view.client.inboxes.update(inbox_id, status=status)
    return redirect(_inbox_path(inbox_id), "Inbox paused" if status == "paused" else "Inbox active again")


async def set_metadata(view: View) -> Response:
    inbox_id = path_id(view.request, "inbox_id")
    try:
        metadata = json.loads(view.field("metadata") or "{}")
    except ValueError:
        return redirect(_inbox_path(inbox_id), "Metadata must be a JSON object")
    if not isinstance(metadata, dict):
        return redirect(_inbox_path(inbox_id), "Metadata must be a JSON object")
    current = _json(await view.client.inboxes.get(inbox_id)).get("metadata") or {}
    removed = {key: None for key in current if key not in metadata}  # PATCH merges: null removes a key
    if metadata or removed:
        await view.client.inboxes.update(inbox_id, metadata=metadata | removed)
    return redirect(_inbox_path(inbox_id), "Metadata saved")


async def delete_inbox(view: View) -> Response:
    inbox_id = path_id(view.request, "inbox_id")
    if view.field("confirm") != inbox_id:
        return redirect(_inbox_path(inbox_id), "Type the inbox address to confirm deletion")
    await view.client.inboxes.delete(inbox_id)
    return redirect("/inboxes", f"Deleted {inbox_id}")


async def thread(view: View) -> Response:
    inbox_id, thread_id = path_id(view.request, "inbox_id"), path_id(view.request, "thread_id")
    found = _json(await view.client.inboxes.threads.get(inbox_id, thread_id))
    return view.render("thread.html", inbox_id=inbox_id, thread=found)


async def mark(view: View) -> Response:
    inbox_id, thread_id = path_id(view.request, "inbox_id"), path_id(view.request, "thread_id")
    if view.field("read") == "1":
        await view.client.inboxes.threads.update(inbox_id, thread_id, remove_labels=["unread"])
    else:
        await view.client.inboxes.threads.update(inbox_id, thread_id, add_labels=["unread"])
    return redirect(f"{_inbox_path(inbox_id)}/threads/{thread_id}")


async def message_frame(view: View) -> Response:
    inbox_id = path_id(view.request, "inbox_id")
    message = _json(await view.client.inboxes.messages.get(inbox_id, view.request.query_params.get("id", "")))
    remote = view.request.query_params.get("remote") == "1"
    response = HTMLResponse(frame_document(message.get("html") or ""))
    response.headers.update(
        {
            "Content-Security-Policy": frame_policy(remote),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        }
    )
    return response


def _same_site_link(url: str) -> str:
    """A signed download link on this server as a path, so the browser fetches it from the origin it is on."""
    parts = urlsplit(url)
    if parts.path.startswith("/downloads/"):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url


async def raw(view: View) -> Response:
    inbox_id = path_id(view.request, "inbox_id")
    found = _json(await view.client.inboxes.messages.get_raw(inbox_id, view.request.query_params.get("id", "")))
    return RedirectResponse(_same_site_link(found["download_url"]), status_code=303)


async def attachment(view: View) -> Response:
    inbox_id = path_id(view.request, "inbox_id")
    params = view.request.query_params
    client = view.client.inboxes.messages
    found = _json(await client.get_attachment(inbox_id, params.get("id", ""), params.get("attachment_id", "")))
    return RedirectResponse(_same_site_link(found["download_url"]), status_code=303)
