"""Argument types of the tools, named and described as in ``agentmail-toolkit`` 0.3.2 where the tools are shared."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

UTC_EXAMPLE = "ISO 8601 UTC ending in Z, e.g. 2026-04-01T09:00:00Z"

InboxId = Annotated[str, Field(description="Inbox ID: the inbox's email address, from list_inboxes")]
ThreadId = Annotated[str, Field(description="Thread ID, from list_threads or a message's thread_id")]
MessageId = Annotated[
    str, Field(description="Message ID with its angle brackets, e.g. <abc@example.org>, from get_thread")
]
DraftId = Annotated[str, Field(description="Draft ID, from create_draft or list_drafts")]
AttachmentId = Annotated[
    str, Field(description="Attachment ID, from a thread's or message's attachments in list_threads or get_thread")
]
Limit = Annotated[int | None, Field(description="Number of items per page")]
PageToken = Annotated[
    str | None, Field(description="next_page_token from the previous page's result; omit for the first page")
]
Labels = Annotated[
    list[str] | None, Field(description="Only items carrying all of these labels, such as unread or your own")
]
Before = Annotated[datetime | None, Field(description=f"Only items before this time, as {UTC_EXAMPLE}")]
After = Annotated[datetime | None, Field(description=f"Only items at or after this time, as {UTC_EXAMPLE}")]
Addresses = Annotated[list[str] | None, Field(description='Addresses, each a bare address or "Name <address>"')]
Subject = Annotated[str | None, Field(description="Subject line recipients see")]
Text = Annotated[
    str | None,
    Field(description="Plain-text body; include it even with html, since no text version is generated from html"),
]
Html = Annotated[str | None, Field(description="HTML body for formatted mail; inline images use cid:<content_id>")]
MessageLabels = Annotated[
    list[str] | None,
    Field(description="Your own labels for the message; the server sets system labels such as sent"),
]


class Attachment(BaseModel):
    filename: str | None = Field(default=None, description="File name recipients see, e.g. report.pdf")
    content_type: str | None = Field(default=None, description="MIME type, e.g. application/pdf; guessed if omitted")
    content_id: str | None = Field(
        default=None, description="ID the HTML body references as cid:<content_id> to show it inline"
    )
    content: str | None = Field(
        default=None,
        description="Base64-encoded file content: standard, padded, no data: prefix. "
        "Exactly one of content or url must be provided",
    )
    url: str | None = Field(
        default=None,
        description="Public http(s) URL the server fetches the file from. "
        "Exactly one of content or url must be provided",
    )


Attachments = Annotated[
    list[Attachment] | None,
    Field(description="Attachments. Each item must specify exactly one of content (base64) or url"),
]
