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
    """Return ``<prefix>_<26 base32 chars>``; ids made later sort after ids made earlier (to the millisecond).

    Ids are ordered by the system time of their making, not the injected clock: they only need to be unique and
    roughly time-sortable, and reading the system clock here spares threading a clock into every constructor.
    """
    return id_at(prefix, time.time_ns() // 1_000_000)


def id_at(prefix: str, millis: int) -> str:
    """A new id made at ``millis`` (milliseconds since the epoch)."""
    return f"{prefix}_{_base32(millis, 10)}{_base32(secrets.randbits(80), 16)}"
