"""Opaque, kind-prefixed, time-sortable identifiers (ULID body: 48-bit milliseconds + 80 random bits).

Written by hand: a ULID is twenty lines of base32 and not worth a dependency.
"""

from __future__ import annotations

import secrets
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """Return ``<prefix>_<26 base32 chars>``; ids made later sort after ids made earlier (to the millisecond)."""
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{_base32(millis, 10)}{_base32(secrets.randbits(80), 16)}"
