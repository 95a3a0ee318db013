"""Wire shapes of message and thread lists, searches and requests (spec §3.4, §3.5, §3.7); items live in wire."""

from __future__ import annotations

from pydantic import AwareDatetime, Field, StrictStr

from postroom.api.schemas.access import PageOut, RequestBody
from postroom.domain.message import Message, Thread
from postroom.wire.base import Response
from postroom.wire.mail import AttachmentOut, MessageItemOut, MessageOut, ThreadItemOut


class AttachmentResponseOut(AttachmentOut):
    download_url: str
    expires_at: AwareDatetime


class RawMessageOut(Response):
    message_id: str
    size: int
    download_url: str
    expires_at: AwareDatetime


class ListMessagesOut(PageOut):
    messages: list[MessageItemOut]


class HighlightsOut(Response):
    """Matched fragments with the matched terms wrapped in ``**``; a key is present only when it matched."""

    from_: list[str] | None = Field(default=None, serialization_alias="from")
    recipients: list[str] | None = None
    subject: list[str] | None = None
    text: list[str] | None = None

    @classmethod
    def of(cls, highlights: dict[str, list[str]]) -> HighlightsOut:
        return cls(
            from_=highlights.get("from"),
            recipients=highlights.get("recipients"),
            subject=highlights.get("subject"),
            text=highlights.get("text"),
        )


class SearchMessageItemOut(MessageItemOut):
    highlights: HighlightsOut | None = None

    @classmethod
    def hit(cls, message: Message, highlights: dict[str, list[str]]) -> SearchMessageItemOut:
        return cls.model_validate(cls.fields_of(message) | {"highlights": HighlightsOut.of(highlights)})


class SearchMessagesOut(PageOut):
    messages: list[SearchMessageItemOut]


class BatchMessagesOut(Response):
    limit: int
    count: int
    messages: list[MessageOut]


class LabelsOut(Response):
    message_id: str
    labels: list[str]


class BatchUpdateOut(Response):
    limit: int
    count: int
    updates: list[LabelsOut]


class ThreadOut(ThreadItemOut):
    count: int
    limit: int | None = None
    next_page_token: str | None = None
    messages: list[MessageOut]


class ListThreadsOut(PageOut):
    threads: list[ThreadItemOut]


class SearchThreadItemOut(ThreadItemOut):
    highlights: HighlightsOut | None = None

    @classmethod
    def hit(cls, thread: Thread, highlights: dict[str, list[str]]) -> SearchThreadItemOut:
        return cls.model_validate(cls.fields_of(thread) | {"highlights": HighlightsOut.of(highlights)})


class SearchThreadsOut(PageOut):
    threads: list[SearchThreadItemOut]


class ThreadLabelsOut(Response):
    thread_id: str
    labels: list[str]


class MessageLabelsBody(RequestBody):
    add_labels: StrictStr | list[StrictStr] | None = None
    remove_labels: StrictStr | list[StrictStr] | None = None


class ThreadLabelsBody(RequestBody):
    add_labels: list[StrictStr] | None = None
    remove_labels: list[StrictStr] | None = None


class BatchGetBody(RequestBody):
    message_ids: list[StrictStr]


class BatchUpdateBody(MessageLabelsBody):
    message_ids: list[StrictStr]


def as_list(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
