"""Download links and the route that serves them: signed, expiring, no API key (the token is the grant)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from postroom.api.deps import AppServices
from postroom.api.rawpath import segment
from postroom.api.schemas.mail import AttachmentResponseOut
from postroom.mime.disposition import attachment_disposition
from postroom.services.mail.mailbox import DownloadLink
from postroom.wire.mail import AttachmentOut

router = APIRouter(tags=["downloads"])
CHUNK = 256 * 1024


def download_url(request: Request, link: DownloadLink) -> str:
    if link.presigned_url:
        return link.presigned_url
    return str(request.url_for("download", token=link.token))


def attachment_response(request: Request, link: DownloadLink) -> AttachmentResponseOut:
    return AttachmentResponseOut(
        **AttachmentOut.of(link.attachment).model_dump(),
        download_url=download_url(request, link),
        expires_at=link.expires_at,
    )


def _chunks(reader: BinaryIO) -> Iterator[bytes]:
    with reader:
        while chunk := reader.read(CHUNK):
            yield chunk


def download(request: Request, container: AppServices) -> StreamingResponse:
    grant, size, reader = container.mail.open_download(segment(request.path_params["token"]))
    headers = {
        "Content-Length": str(size),
        "Content-Disposition": attachment_disposition(grant.filename or "download"),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=0",
    }
    media_type = grant.content_type or "application/octet-stream"
    return StreamingResponse(_chunks(reader), media_type=media_type, headers=headers)


router.add_api_route("/downloads/{token}", download, methods=["GET"], name="download")
