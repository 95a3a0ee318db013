"""Custom domain names: normalised (IDNA 2008 A-labels via ``idna``, lower case, no trailing dot) and required to be
registrable host names, judged by the Public Suffix List (``publicsuffixlist``'s bundled copy; never fetched).

The reserved top-level names of RFC 2606 and RFC 6761 -- ``test``, ``example``, ``localhost`` -- are not in the
list; they are accepted as if each were a public suffix, so development and test setups can register
``example.test``. They never resolve on the internet: such a domain verifies only against a DNS server that
``POSTROOM_DNS_SERVERS`` names. ``invalid`` and ``local`` (mDNS) names are refused like unknown suffixes.
"""

from __future__ import annotations

import functools
import re

import idna
from publicsuffixlist import PublicSuffixList

from postroom.errors import InvalidInput

RESERVED_SUFFIXES = frozenset({"test", "example", "localhost"})
MAX_NAME_CHARS = 253
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@functools.cache
def _suffixes() -> PublicSuffixList:
    # accept_unknown=False: a name under a top-level domain the list does not know is not registrable.
    return PublicSuffixList(accept_unknown=False)


def _ascii(raw: str) -> str | None:
    text = raw.removesuffix(".")
    if not text or text != text.strip() or len(text) > MAX_NAME_CHARS * 4:
        return None
    try:
        name = idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return None
    labels = name.split(".")
    if len(name) > MAX_NAME_CHARS or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():
        return None  # an IP address, not a host name
    return name


def registrable_part(name: str) -> str | None:
    """The registrable domain a normalised name is, or is under (``eu.example.co.uk`` → ``example.co.uk``)."""
    labels = name.split(".")
    if labels[-1] in RESERVED_SUFFIXES:
        return ".".join(labels[-2:]) if len(labels) >= 2 else None
    found: str | None = _suffixes().privatesuffix(name)
    return found


def normalize_domain_name(raw: str, field: str = "domain") -> str:
    """The normalised name; 400 when it is no host name, or is a public suffix (``com``, ``co.uk``, ``github.io``)."""
    name = _ascii(raw)
    if name is None:
        raise InvalidInput(
            f"{field} is not a valid domain name: letters, digits and hyphens in dot-separated labels",
            field=field,
        )
    if registrable_part(name) is None:
        raise InvalidInput(
            f"{field} {name} is not a registrable domain (a public suffix, or under an unknown top-level domain)",
            field=field,
            fix="Use a domain you own, such as example.com or mail.example.com.",
        )
    return name


def parse_domain_id(raw: str) -> str | None:
    """A domain id from a path, normalised; None when it cannot name any domain (the caller answers 404)."""
    name = _ascii(raw)
    return name if name is not None and registrable_part(name) is not None else None
