"""Fetching send attachments given by URL: http(s) only, bounded in size and time, public addresses only.

Private, loopback, link-local and other non-global targets are refused (server-side request forgery) unless the
operator allows them; every redirect hop is resolved and checked again, and each request connects to the address
that was checked (no second lookup a rebinding DNS server could answer differently).
"""

from __future__ import annotations

import time
from email.message import Message
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from postroom.errors import Forbidden
from postroom.net.pinning import PinnedRequest, UnsafeUrl, pinned_requests
from postroom.services.ports import HostResolver

MAX_REDIRECTS = 5


def _rejected(reason: str) -> Forbidden:
    return Forbidden(f"Attachment could not be fetched: {reason}", code="message_rejected")


def _filename(response: httpx.Response, url: str) -> str | None:
    disposition = response.headers.get("content-disposition")
    if disposition:
        holder = Message()
        holder["content-disposition"] = disposition
        name = holder.get_filename()
        if name:
            return name
    tail = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return tail or None


class HttpAttachmentFetcher:
    def __init__(
        self,
        resolver: HostResolver,
        *,
        allow_private: bool,
        timeout_seconds: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._timeout = timeout_seconds
        self._transport = transport

    def fetch(self, url: str, max_bytes: int) -> tuple[bytes, str | None, str | None]:
        deadline = time.monotonic() + self._timeout
        with httpx.Client(
            follow_redirects=False, timeout=self._timeout, trust_env=False, transport=self._transport
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                try:
                    candidates = pinned_requests(url, self._resolver, allow_private=self._allow_private)
                except UnsafeUrl as error:
                    raise _rejected(str(error)) from error
                try:
                    response = self._open(client, candidates)
                except httpx.HTTPError as error:
                    raise _rejected(f"{url}: {type(error).__name__}") from error
                try:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if not response.is_success:
                        raise _rejected(f"{url} answered HTTP {response.status_code}")
                    content = self._read(response, max_bytes, deadline)
                    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip() or None
                    return content, content_type, _filename(response, url)
                except httpx.HTTPError as error:
                    raise _rejected(f"{url}: {type(error).__name__}") from error
                finally:
                    response.close()
        raise _rejected("too many redirects")

    @staticmethod
    def _open(client: httpx.Client, candidates: list[PinnedRequest]) -> httpx.Response:
        """Send to the first checked address that accepts a connection."""
        for index, pinned in enumerate(candidates):
            request = client.build_request("GET", pinned.url, headers=pinned.headers, extensions=pinned.extensions)
            try:
                return client.send(request, stream=True)
            except httpx.ConnectError:
                if index == len(candidates) - 1:
                    raise
        raise httpx.ConnectError("no address to connect to")

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
