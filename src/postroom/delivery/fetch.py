"""Fetching send attachments given by URL: http(s) only, bounded in size and time, public addresses only.

Private, loopback, link-local and other non-global targets are refused (server-side request forgery) unless the
operator allows them; every redirect hop is checked again.
"""

from __future__ import annotations

import socket
import time
from email.message import Message
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from postroom.domain.network import blocked_address
from postroom.errors import Forbidden

MAX_REDIRECTS = 5


def _rejected(reason: str) -> Forbidden:
    return Forbidden(f"Attachment could not be fetched: {reason}", code="message_rejected")


def check_public_url(url: str, *, allow_private: bool) -> None:
    """Raise ``message_rejected`` unless ``url`` is http(s) and every address its host resolves to is public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _rejected("only http and https URLs are allowed")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        raise _rejected(f"{parts.hostname} does not resolve") from error
    if any(blocked_address(str(info[4][0])) for info in infos):
        raise _rejected(f"{parts.hostname} is not a public address")


def _filename(response: httpx.Response) -> str | None:
    disposition = response.headers.get("content-disposition")
    if disposition:
        holder = Message()
        holder["content-disposition"] = disposition
        name = holder.get_filename()
        if name:
            return name
    tail = unquote(urlsplit(str(response.url)).path.rsplit("/", 1)[-1])
    return tail or None


class HttpAttachmentFetcher:
    def __init__(self, *, allow_private: bool, timeout_seconds: float) -> None:
        self._allow_private = allow_private
        self._timeout = timeout_seconds

    def fetch(self, url: str, max_bytes: int) -> tuple[bytes, str | None, str | None]:
        deadline = time.monotonic() + self._timeout
        with httpx.Client(follow_redirects=False, timeout=self._timeout) as client:
            for _ in range(MAX_REDIRECTS + 1):
                check_public_url(url, allow_private=self._allow_private)
                try:
                    with client.stream("GET", url) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = urljoin(url, response.headers["location"])
                            continue
                        if not response.is_success:
                            raise _rejected(f"{url} answered HTTP {response.status_code}")
                        content = self._read(response, max_bytes, deadline)
                        content_type = response.headers.get("content-type", "").split(";", 1)[0].strip() or None
                        return content, content_type, _filename(response)
                except httpx.HTTPError as error:
                    raise _rejected(f"{url}: {type(error).__name__}") from error
        raise _rejected("too many redirects")

    @staticmethod
    def _read(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
        chunks = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise _rejected(f"attachments fetched by URL exceed {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise _rejected("fetching took too long")
            chunks.append(chunk)
        return b"".join(chunks)
