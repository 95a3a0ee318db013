"""Routing on the raw request path, so every spelling of an id reaches the same resource.

The Python SDK sends ``@ + = /`` unencoded and the TS SDK percent-encodes; a message id in angle brackets may
hold ``/``. We rebuild ``scope["path"]`` from the raw path with each segment re-quoted canonically (only ``/``,
``%`` and unsafe characters encoded) and routes decode their id segments with :func:`segment`.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, unquote

from postroom.domain.text import storable
from postroom.errors import NotFound

_SAFE = "@+=<>:!$&'()*,;~-._"


def _bracket_spans(parts: list[str]) -> list[str]:
    """Join raw segments that belong to one ``<...>`` id (a Message-ID may contain ``/``)."""
    merged: list[str] = []
    index = 0
    while index < len(parts):
        decoded = unquote(parts[index])
        if decoded.startswith("<") and not decoded.endswith(">"):
            for end in range(index + 1, len(parts)):
                if unquote(parts[end]).endswith(">"):
                    merged.append("/".join(parts[index : end + 1]))
                    index = end + 1
                    break
            else:
                merged.append(parts[index])
                index += 1
            continue
        merged.append(parts[index])
        index += 1
    return merged


@lru_cache(maxsize=4096)  # a pure function, and clients ask for the same resources again and again
def canonical_path(raw_path: bytes) -> str:
    raw = raw_path.split(b"?", 1)[0].decode("latin-1")
    segments = _bracket_spans(raw.split("/"))
    return "/".join(quote(unquote(part, errors="replace"), safe=_SAFE) for part in segments)


def segment(value: str) -> str:
    """Decode one path segment taken from a route matched against :func:`canonical_path`.

    An id no database could hold (a NUL, an unpaired surrogate) names nothing, so it is simply not found.
    """
    decoded = unquote(value)
    if not storable(decoded):
        raise NotFound("Not found")
    return decoded
