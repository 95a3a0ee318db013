"""The MCP tools: one method per tool, each one SDK call (or a few) with the caller's key, answered as compact
text plus the API's full JSON. Names and arguments follow ``agentmail-toolkit`` 0.3.2 where the tools are shared.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import anyio
import httpx
from agentmail.attachments import SendAttachment
from agentmail.core.api_error import ApiError
from agentmail.inboxes import CreateInboxRequest
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import Field

from postroom.mcp import render
from postroom.mcp.attachments import MAX_EXTRACT_BYTES, has_text, text_of
from postroom.mcp.backend import Backend, BackendError, Session, as_json
from postroom.mcp.errors import tool_error
from postroom.mcp.params import (
    Addresses,
    After,
    AttachmentId,
    Attachments,
    Before,
    DraftId,
    Html,
    InboxId,
    Labels,
    Limit,
    MessageId,
    MessageLabels,
    PageToken,
    Subject,
    Text,
    ThreadId,
)

MAX_WAIT_SECONDS = 600.0
JSONObject = dict[str, Any]


def _result(text: str, data: JSONObject) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _given(**values: Any) -> dict[str, Any]:
    """Keyword arguments for the SDK without the ones left out: the SDK sends an explicit None as JSON null."""
    return {key: value for key, value in values.items() if value is not None}


def _attachments(items: list[Any] | None) -> list[SendAttachment] | None:
    if items is None:
        return None
    return [SendAttachment(**item.model_dump(exclude_none=True)) for item in items]


class Tools:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    @asynccontextmanager
    async def _api(self) -> AsyncIterator[Session]:
        try:
            async with self._backend.session() as session:
                yield session
        except ToolError:
            raise
        except (ApiError, httpx.HTTPError, OSError, BackendError) as error:
            raise tool_error(error) from error

    async def list_inboxes(self, limit: Limit = 10, page_token: PageToken = None) -> CallToolResult:
        async with self._api() as api:
            page = as_json(await api.client.inboxes.list(**_given(limit=limit, page_token=page_token)))
        return _result(render.inboxes(page), page)

    async def get_inbox(self, inbox_id: InboxId) -> CallToolResult:
        async with self._api() as api:
            inbox = as_json(await api.client.inboxes.get(inbox_id))
        return _result(render.inbox(inbox), inbox)

    async def create_inbox(
        self,
        username: Annotated[
            str | None, Field(description="Part of the address before the @; a random one is generated when omitted")
        ] = None,
        domain: Annotated[
            str | None,
            Field(
                description="Domain of the address; the server's default domain when omitted. A custom domain "
                "must be verified first"
            ),
        ] = None,
        display_name: Annotated[
            str | None, Field(description="Sender name recipients see; an empty string sends none")
        ] = None,
    ) -> CallToolResult:
        request = CreateInboxRequest(**_given(username=username, domain=domain, display_name=display_name))
        async with self._api() as api:
            inbox = as_json(await api.client.inboxes.create(request=request))
        return _result("Created inbox " + render.inbox(inbox), inbox)

    async def delete_inbox(self, inbox_id: InboxId) -> CallToolResult:
        async with self._api() as api:
            await api.client.inboxes.delete(inbox_id)
        return _result(f"Deleted inbox {inbox_id} with all its threads, messages and drafts.", {"deleted": inbox_id})

    async def list_threads(
        self,
        inbox_id: InboxId,
        limit: Limit = 10,
        page_token: PageToken = None,
        labels: Labels = None,
        before: Before = None,
        after: After = None,
        ascending: Annotated[bool | None, Field(description="Sort by oldest first instead of newest first")] = None,
        include_spam: Annotated[bool | None, Field(description="Also return threads labeled spam")] = None,
        include_blocked: Annotated[bool | None, Field(description="Also return threads labeled blocked")] = None,
        include_trash: Annotated[bool | None, Field(description="Also return threads labeled trash")] = None,
    ) -> CallToolResult:
        options = _given(
            limit=limit,
            page_token=page_token,
            labels=labels,
            before=before,
            after=after,
            ascending=ascending,
            include_spam=include_spam,
            include_blocked=include_blocked,
            include_trash=include_trash,
        )
        async with self._api() as api:
            page = as_json(await api.client.inboxes.threads.list(inbox_id, **options))
        return _result(render.threads(page), page)

    async def get_thread(self, inbox_id: InboxId, thread_id: ThreadId) -> CallToolResult:
        async with self._api() as api:
            thread = as_json(await api.client.inboxes.threads.get(inbox_id, thread_id))
        return _result(render.thread(thread), thread)

    async def get_message(self, inbox_id: InboxId, message_id: MessageId) -> CallToolResult:
        async with self._api() as api:
            message = as_json(await api.client.inboxes.messages.get(inbox_id, message_id))
        return _result(render.message(message), message)

    async def search_messages(
        self,
        inbox_id: InboxId,
        q: Annotated[str, Field(description="Words to find in sender, recipients, subject and body", min_length=1)],
        limit: Limit = 10,
        page_token: PageToken = None,
        before: Before = None,
        after: After = None,
    ) -> CallToolResult:
        options = _given(q=q, limit=limit, page_token=page_token, before=before, after=after)
        async with self._api() as api:
            page = as_json(await api.client.inboxes.messages.search(inbox_id, **options))
        return _result(render.search_hits(page), page)

    async def get_attachment(
        self, inbox_id: InboxId, thread_id: ThreadId, attachment_id: AttachmentId
    ) -> CallToolResult:
        async with self._api() as api:
            found = as_json(await api.client.inboxes.threads.get_attachment(inbox_id, thread_id, attachment_id))
            text = None
            size = found.get("size")
            readable = has_text(found.get("content_type"), found.get("filename"))
            if readable and isinstance(size, int) and size <= MAX_EXTRACT_BYTES:
                data = await api.download(found["download_url"], MAX_EXTRACT_BYTES)
                text = None if data is None else text_of(data, found.get("content_type"), found.get("filename"))
        lines = [
            render.attachment(found),
            f"download_url: {found.get('download_url')} (expires {found.get('expires_at')})",
        ]
        if text is not None:
            found["text"] = text
            lines += ["", "Text:", render.bounded(text)]
        elif readable:
            lines.append("Its text could not be read (too large or unreadable).")
        return _result("\n".join(lines), found)

    async def send_message(
        self,
        inbox_id: InboxId,
        to: Annotated[
            list[str],
            Field(
                description='Recipient addresses, each a bare address or "Name <address>"; at least one of to, '
                "cc or bcc is required"
            ),
        ],
        cc: Addresses = None,
        bcc: Addresses = None,
        subject: Subject = None,
        text: Text = None,
        html: Html = None,
        labels: MessageLabels = None,
        attachments: Attachments = None,
    ) -> CallToolResult:
        body = _given(
            to=to, cc=cc, bcc=bcc, subject=subject, text=text, html=html, labels=labels,
            attachments=_attachments(attachments),
        )  # fmt: skip
        async with self._api() as api:
            sent = as_json(await api.client.inboxes.messages.send(inbox_id, **body))
        return _result(render.sent(sent, "Sent"), sent)

    async def reply_to_message(
        self,
        inbox_id: InboxId,
        message_id: MessageId,
        text: Text = None,
        html: Html = None,
        labels: MessageLabels = None,
        attachments: Attachments = None,
        reply_all: Annotated[
            bool | None,
            Field(
                description="Also reply to all original recipients; when omitted the reply goes to the "
                "original's Reply-To, else its sender"
            ),
        ] = None,
    ) -> CallToolResult:
        body = _given(text=text, html=html, labels=labels, attachments=_attachments(attachments))
        async with self._api() as api:
            messages = api.client.inboxes.messages
            if reply_all:
                result = await messages.reply_all(inbox_id, message_id, **body)
            else:
                result = await messages.reply(inbox_id, message_id, **body)
            sent = as_json(result)
        return _result(render.sent(sent, "Replied"), sent)

    async def forward_message(
        self,
        inbox_id: InboxId,
        message_id: Annotated[
            str,
            Field(
                description="ID of the message to forward, with its angle brackets; its body and all "
                "attachments are included"
            ),
        ],
        to: Annotated[list[str], Field(description='Recipient addresses, each a bare address or "Name <address>"')],
        cc: Addresses = None,
        bcc: Addresses = None,
        subject: Annotated[
            str | None, Field(description='Subject line; "Fwd: " plus the original subject when omitted')
        ] = None,
        text: Text = None,
        html: Html = None,
        labels: MessageLabels = None,
        attachments: Attachments = None,
    ) -> CallToolResult:
        body = _given(
            to=to, cc=cc, bcc=bcc, subject=subject, text=text, html=html, labels=labels,
            attachments=_attachments(attachments),
        )  # fmt: skip
        async with self._api() as api:
            sent = as_json(await api.client.inboxes.messages.forward(inbox_id, message_id, **body))
        return _result(render.sent(sent, "Forwarded"), sent)

    async def update_message(
        self,
        inbox_id: InboxId,
        message_id: MessageId,
        add_labels: Annotated[
            list[str] | None, Field(description="Labels to add to the message, e.g. unread or your own")
        ] = None,
        remove_labels: Annotated[
            list[str] | None, Field(description="Labels to remove from the message, e.g. unread to mark it read")
        ] = None,
    ) -> CallToolResult:
        changes = _given(add_labels=add_labels, remove_labels=remove_labels)
        async with self._api() as api:
            message = as_json(await api.client.inboxes.messages.update(inbox_id, message_id, **changes))
        return _result(f"Labels of {message_id} now: {', '.join(message.get('labels') or []) or 'none'}", message)

    async def list_drafts(self, inbox_id: InboxId, limit: Limit = 10, page_token: PageToken = None) -> CallToolResult:
        async with self._api() as api:
            page = as_json(await api.client.inboxes.drafts.list(inbox_id, **_given(limit=limit, page_token=page_token)))
        return _result(render.drafts(page), page)

    async def create_draft(
        self,
        inbox_id: InboxId,
        to: Addresses = None,
        cc: Addresses = None,
        bcc: Addresses = None,
        subject: Subject = None,
        text: Text = None,
        html: Html = None,
        in_reply_to: Annotated[
            str | None,
            Field(description="Message ID this draft replies to; recipients, subject and threading follow from it"),
        ] = None,
        forward_of: Annotated[
            str | None, Field(description="Message ID this draft forwards (with attachments)")
        ] = None,
        reply_all: Annotated[
            bool | None, Field(description="With in_reply_to: reply to everyone on the original message")
        ] = None,
        attachments: Attachments = None,
    ) -> CallToolResult:
        body = _given(
            to=to, cc=cc, bcc=bcc, subject=subject, text=text, html=html, in_reply_to=in_reply_to,
            forward_of=forward_of, reply_all=reply_all, attachments=_attachments(attachments),
        )  # fmt: skip
        async with self._api() as api:
            draft = as_json(await api.client.inboxes.drafts.create(inbox_id, **body))
        return _result("Draft saved for review:\n" + render.draft(draft), draft)

    async def update_draft(
        self,
        inbox_id: InboxId,
        draft_id: DraftId,
        to: Addresses = None,
        cc: Addresses = None,
        bcc: Addresses = None,
        subject: Subject = None,
        text: Text = None,
        html: Html = None,
        send_at: Annotated[
            datetime | None,
            Field(description="Schedule the send for this time (ISO 8601 UTC ending in Z); the server sends it then"),
        ] = None,
    ) -> CallToolResult:
        changes = _given(to=to, cc=cc, bcc=bcc, subject=subject, text=text, html=html, send_at=send_at)
        if not changes:
            raise ToolError("Nothing to change: pass at least one of to, cc, bcc, subject, text, html or send_at.")
        async with self._api() as api:
            draft = as_json(await api.client.inboxes.drafts.update(inbox_id, draft_id, **changes))
        return _result("Draft updated:\n" + render.draft(draft), draft)

    async def send_draft(self, inbox_id: InboxId, draft_id: DraftId) -> CallToolResult:
        async with self._api() as api:
            sent = as_json(await api.client.inboxes.drafts.send(inbox_id, draft_id))
        return _result(render.sent(sent, f"Sent draft {draft_id}"), sent)

    async def list_domains(self, limit: Limit = 10, page_token: PageToken = None) -> CallToolResult:
        async with self._api() as api:
            try:
                page = as_json(await api.client.domains.list(**_given(limit=limit, page_token=page_token)))
            except ApiError as error:
                if error.status_code in (404, 405):
                    raise ToolError(
                        "This Postroom server does not offer the Domains API yet; inboxes use its default domain."
                    ) from error
                raise
        return _result(render.domains(page), page)

    async def wait_for_message(
        self,
        ctx: Context,
        inbox_id: Annotated[
            str | None, Field(description="Only mail to this inbox (its email address); any inbox you see if omitted")
        ] = None,
        thread_id: Annotated[str | None, Field(description="Only a message in this thread, e.g. a reply")] = None,
        sender: Annotated[
            str | None, Field(description="Only mail whose From contains this text, e.g. an address or a domain")
        ] = None,
        timeout_seconds: Annotated[
            float, Field(description="Give up after this many seconds (at most 600)", gt=0, le=MAX_WAIT_SECONDS)
        ] = 60.0,
        since: Annotated[
            datetime | None,
            Field(
                description="With inbox_id: also return a matching message that arrived at or after this time "
                "(e.g. when you sent your email), even before this call"
            ),
        ] = None,
    ) -> CallToolResult:
        wanted = _Match(thread_id, sender)
        async with self._api() as api:
            async with api.new_mail([inbox_id] if inbox_id else []) as feed:
                found = await self._arrived_since(api, inbox_id, since, wanted) if since and inbox_id else None
                if found is None:
                    await ctx.report_progress(0, None, "listening for new mail")
                    found = await _next_match(feed, wanted, timeout_seconds)
            if found is None:
                return _result(f"No matching message arrived within {timeout_seconds:g} seconds.", {"message": None})
            message = as_json(await api.client.inboxes.messages.get(found[0], found[1]))
        return _result("New message:\n" + render.message(message), message)

    async def _arrived_since(
        self, api: Session, inbox_id: str, since: datetime, wanted: "_Match"
    ) -> tuple[str, str] | None:
        page = as_json(
            await api.client.inboxes.messages.list(
                inbox_id, after=since, ascending=True, labels=["received"], limit=100
            )
        )
        for item in page.get("messages") or []:
            if wanted.matches(item):
                return inbox_id, str(item["message_id"])
        return None


class _Match:
    def __init__(self, thread_id: str | None, sender: str | None) -> None:
        self.thread_id = thread_id
        self.sender = sender.lower() if sender else None

    def matches(self, message: JSONObject) -> bool:
        if self.thread_id is not None and message.get("thread_id") != self.thread_id:
            return False
        return self.sender is None or self.sender in str(message.get("from", "")).lower()


async def _next_match(feed: Any, wanted: _Match, timeout_seconds: float) -> tuple[str, str] | None:
    with anyio.move_on_after(timeout_seconds):
        while True:
            event = await feed.next()
            if event is None:
                raise ToolError("The event stream closed before a message arrived; call wait_for_message again.")
            message = event.get("message") or {}
            if wanted.matches(message):
                return str(message["inbox_id"]), str(message["message_id"])
    return None
