"""Wire shapes of sending (spec §3.5): send, reply, reply-all and forward bodies and their common response."""

from __future__ import annotations

from pydantic import StrictBool, StrictStr

from postroom.api.schemas.access import RequestBody
from postroom.api.schemas.mail import as_list
from postroom.errors import InvalidInput
from postroom.services.sending.outgoing import AttachmentInput, SendRequest
from postroom.wire.base import Response

Recipients = StrictStr | list[StrictStr] | None


class SendAttachmentBody(RequestBody):
    filename: StrictStr | None = None
    content_type: StrictStr | None = None
    content_disposition: StrictStr | None = None
    content_id: StrictStr | None = None
    content: StrictStr | None = None
    url: StrictStr | None = None

    def to_input(self) -> AttachmentInput:
        return AttachmentInput(
            filename=self.filename,
            content_type=self.content_type,
            content_disposition=self.content_disposition,
            content_id=self.content_id,
            content=self.content,
            url=self.url,
        )


class _OutgoingBody(RequestBody):
    reply_to: Recipients = None
    text: StrictStr | None = None
    html: StrictStr | None = None
    labels: list[StrictStr] | None = None
    attachments: list[SendAttachmentBody] | None = None
    headers: dict[StrictStr, StrictStr] | None = None
    track_opens: StrictBool | None = None

    def request(self, **fields: object) -> SendRequest:
        if self.track_opens:
            raise InvalidInput(
                "track_opens needs a custom domain with tracking enabled, which this server does not have",
                field="track_opens",
            )
        values: dict[str, object] = {
            "reply_to": list(as_list(self.reply_to)),
            "text": self.text,
            "html": self.html,
            "labels": list(self.labels or []),
            "attachments": [attachment.to_input() for attachment in self.attachments or []],
            "headers": dict(self.headers or {}),
        }
        values.update(fields)
        return SendRequest(**values)  # type: ignore[arg-type]


class SendMessageBody(_OutgoingBody):
    to: Recipients = None
    cc: Recipients = None
    bcc: Recipients = None
    subject: StrictStr | None = None

    def to_request(self) -> SendRequest:
        return self.request(
            to=list(as_list(self.to)), cc=list(as_list(self.cc)), bcc=list(as_list(self.bcc)), subject=self.subject
        )


class ReplyBody(_OutgoingBody):
    to: Recipients = None
    cc: Recipients = None
    bcc: Recipients = None
    reply_all: StrictBool | None = None

    def to_request(self) -> SendRequest:
        return self.request(to=list(as_list(self.to)), cc=list(as_list(self.cc)), bcc=list(as_list(self.bcc)))


class ReplyAllBody(_OutgoingBody):
    def to_request(self) -> SendRequest:
        return self.request()


class ForwardBody(SendMessageBody):
    pass


class SendMessageOut(Response):
    message_id: str
    thread_id: str
