"""Blob key rules shared by every store: "/"-separated relative paths, at most 1024 bytes, nothing ambiguous.

Segments starting with "." are reserved for a store's own bookkeeping (temporary and trash files).
"""

from __future__ import annotations

MAX_KEY_BYTES = 1024


def check_key(key: str) -> str:
    """Return ``key`` unchanged, or raise ``ValueError`` naming what is wrong with it."""
    if not key:
        raise ValueError("blob key is empty")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        raise ValueError(f"blob key {key!r} contains a control character")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"blob key {key!r} is not valid Unicode") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise ValueError(f"blob key is longer than {MAX_KEY_BYTES} bytes")
    for segment in key.split("/"):
        if not segment:
            raise ValueError(f"blob key {key!r} has an empty segment (a leading, trailing or doubled '/')")
        if segment.startswith("."):
            raise ValueError(f"blob key {key!r} has a segment starting with '.'")
    return key


def check_prefix(prefix: str) -> str:
    """A "folder" prefix (one trailing "/" allowed) as a key without the trailing "/"; ``ValueError`` if invalid."""
    return check_key(prefix.removesuffix("/"))
