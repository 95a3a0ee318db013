"""Undo RFC 3676 format=flowed: soft line breaks joined, space-stuffing removed, quote depth kept."""

from __future__ import annotations

SIGNATURE_SEPARATOR = "-- "


def _split(line: str) -> tuple[int, str]:
    depth = len(line) - len(line.lstrip(">"))
    content = line[depth:]
    return depth, content[1:] if content.startswith(" ") else content


def _emit(depth: int, content: str) -> str:
    return (">" * depth + " " + content) if depth else content


def unflow(text: str, *, delsp: bool = False) -> str:
    """Plain text for a flowed body whose lines end in "\\n"."""
    out: list[str] = []
    paragraph: str | None = None
    paragraph_depth = 0
    for line in text.split("\n"):
        depth, content = _split(line)
        flowed = content.endswith(" ") and content != SIGNATURE_SEPARATOR
        if flowed and delsp:
            content = content[:-1]
        if paragraph is not None and depth != paragraph_depth:
            out.append(_emit(paragraph_depth, paragraph))
            paragraph = None
        paragraph = content if paragraph is None else paragraph + content
        paragraph_depth = depth
        if not flowed:
            out.append(_emit(depth, paragraph))
            paragraph = None
    if paragraph is not None:
        out.append(_emit(paragraph_depth, paragraph))
    return "\n".join(out)
