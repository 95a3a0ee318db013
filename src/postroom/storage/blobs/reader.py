"""A buffered, file-like reader over botocore's ``StreamingBody``, so an S3 object streams like an open file."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from botocore.response import StreamingBody

BUFFER_BYTES = 64 * 1024


class _RawBody(io.RawIOBase):
    def __init__(self, body: StreamingBody) -> None:
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def body_reader(body: StreamingBody) -> BinaryIO:
    """Wrap ``body``; closing the reader releases the HTTP connection."""
    return io.BufferedReader(_RawBody(body), buffer_size=BUFFER_BYTES)
