"""Rows of the messages and attachment tables (drafts' attachments too) as domain entities, for every read of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from postroom.domain.message import Attachment, Message
from postroom.storage.tables import messages

MESSAGE_COLUMNS = [column.name for column in messages.c]


def attachment_of(values: Mapping[Any, Any]) -> Attachment:
    """An attachment from a row of ``attachments`` or ``draft_attachments``, or the same fields as a JSON object."""
    return Attachment(
        attachment_id=values["attachment_id"],
        size=values["size"],
        filename=values["filename"],
        content_type=values["content_type"],
        content_disposition=values["content_disposition"],
        content_id=values["content_id"],
        blob_key=values["blob_key"],
    )


def message_of(values: Mapping[Any, Any]) -> Message:
    """A message (without its attachments) from a row holding every column of ``messages``."""
    return Message(**{name: values[name] for name in MESSAGE_COLUMNS})
