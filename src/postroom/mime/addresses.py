"""Address headers (From, To, Cc, Bcc, Reply-To) to display forms "Name <addr>" or "addr" (RFC 5322 §3.4).

`email.utils.getaddresses` splits the undecoded value (an encoded comma cannot split a name); names decoded after.
"""

from __future__ import annotations

import re
from email.utils import getaddresses

from postroom.mime.encoded_words import decode_words
from postroom.mime.headers import collapse

_ATOM = r"[^\s@<>()\[\],;:\"\\]+"
_ADDRESS = re.compile(rf"{_ATOM}@(?:{_ATOM}|\[[^\s\[\]\\]+\])")
_DELIMITERS = re.compile(r"[\s<>()\[\],;:\"\\]+")
_NEEDS_QUOTES = re.compile(r"[()<>\[\]:;@\\,.\"]")
MAX_ADDRESS_LENGTH = 320
MAX_HEADER_LENGTH = 256 * 1024  # about 6000 recipients; the parser's time grows with the value


def _split(value: str) -> list[tuple[str, str]]:
    try:
        return getaddresses([value], strict=False)
    except TypeError:  # Python before the 2023 security releases has no `strict` and is never strict
        return getaddresses([value])


def parse_addresses(values: list[str]) -> list[tuple[str, str]]:
    """(decoded display name, address) for every usable address in the raw header values, in order."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        try:
            found = _split(value[:MAX_HEADER_LENGTH])
        except Exception:  # the parser gave up on this value; the others may still be fine
            found = []
        for name, address in found:
            address = collapse(address)
            if len(address) <= MAX_ADDRESS_LENGTH and _ADDRESS.fullmatch(address):
                pairs.append((collapse(decode_words(name)), address))
    return pairs


def display_form(name: str, address: str) -> str:
    """ "Name <addr>" with the name quoted when RFC 5322 needs it, or the bare address when there is no name."""
    if not name or name == address:
        return address
    if _NEEDS_QUOTES.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def display_list(values: list[str]) -> list[str]:
    """Display forms of every usable address in the raw header values."""
    return [display_form(name, address) for name, address in parse_addresses(values)]


def sender(values: list[str]) -> tuple[str | None, str | None]:
    """(display form, lower-cased bare address) of the first From address.

    When nothing parses, the display form is the decoded header text as written and the address is the first
    thing in it that looks like one (or None); (None, None) when there is no From header or it is blank.
    """
    pairs = parse_addresses(values)
    if pairs:
        name, address = pairs[0]
        return display_form(name, address), address.lower()
    text = collapse(decode_words(" ".join(values)))
    if not text:
        return None, None
    found = next((token for token in _DELIMITERS.split(text) if _ADDRESS.fullmatch(token)), None)
    return text, (found.rstrip(".").lower() if found else None)
