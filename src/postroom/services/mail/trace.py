"""Header fields Postroom adds on top of a received message (trace and verdict headers, RFC 5321 §4.4, RFC 8601).

The sender's bytes stay byte-identical after the added fields: nothing is re-encoded or re-folded below them.
"""

from __future__ import annotations

from collections.abc import Sequence

FOLD_AT = 78


def _fold(name: str, value: str, newline: bytes) -> bytes:
    """``Name: value`` folded before ``; `` clauses (RFC 5322 §2.2.3) so each line stays short where it can."""
    clauses = value.split("; ")
    lines = [f"{name}: {clauses[0]}"]
    for clause in clauses[1:]:
        if len(lines[-1]) + 2 + len(clause) > FOLD_AT:
            lines[-1] += ";"
            lines.append(f"\t{clause}")
        else:
            lines[-1] += f"; {clause}"
    return newline.join(line.encode("utf-8") for line in lines) + newline


def prepend_headers(raw: bytes, fields: Sequence[tuple[str, str]]) -> bytes:
    """``raw`` with ``fields`` on top, in the order given, using the message's own line ending."""
    if not fields:
        return raw
    end = raw.find(b"\n")
    newline = b"\n" if end > 0 and raw[end - 1 : end] != b"\r" else b"\r\n"
    added = b"".join(_fold(name, " ".join(value.split()), newline) for name, value in fields)
    return added + raw
