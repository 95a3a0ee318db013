"""Plain-text reply extraction: cut the quoted history, then trailing quotes, signatures and mobile taglines.

Written by hand, modelled on talon's line-marker rules and email_reply_parser's trailing-fragment rule.
"""

from __future__ import annotations

from postroom.mime.quote_patterns import (
    intro_end,
    is_blank,
    is_header_block,
    is_intro,
    is_mobile_signature,
    is_quoted,
    is_separator,
    is_sig_dash,
    is_strong_intro,
    is_underscore_rule,
)

_MAX_SIGNATURE_LINES = 30  # a "-- " with more than this after it is a divider in prose, not a signature


def strip_text_quotes(text: str) -> str:
    """The new content of a plain-text body; lines are joined with "\\n", leading and trailing blank lines dropped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _find_cut(lines)
    if cut is not None:
        lines = lines[:cut]
    lines = _trim_tail(lines)
    first = _next_content(lines, 0)
    return "" if first is None else "\n".join(lines[first:]).rstrip()


def _next_content(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if not is_blank(lines[index]):
            return index
    return None


def _starts_history(lines: list[str], index: int) -> bool:
    """A separator, an underscore rule over a header block, or a header block itself begins at `index`."""
    line = lines[index]
    if is_separator(line) or is_header_block(lines, index):
        return True
    if is_underscore_rule(line):
        following = _next_content(lines, index + 1)
        return following is not None and following <= index + 3 and is_header_block(lines, following)
    return False


def _replies_after(lines: list[str]) -> list[bool]:
    """For each index, whether unquoted new text (an inline answer) follows it before the history or signature."""
    result = [False] * (len(lines) + 1)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if is_blank(line) or is_quoted(line) or is_mobile_signature(line) or is_intro(line):
            result[index] = result[index + 1]
        else:
            result[index] = not (is_sig_dash(line) or _starts_history(lines, index))
    return result


def _find_cut(lines: list[str]) -> int | None:
    """Index of the first line of quoted history that runs to the end of the message, if any."""
    replies: list[bool] | None = None
    for index, line in enumerate(lines):
        if is_blank(line) or is_quoted(line):
            continue
        if _starts_history(lines, index):
            return index
        end = intro_end(lines, index)
        if end is None:
            continue
        following = _next_content(lines, end + 1)
        if following is None:
            if is_strong_intro(" ".join(part.strip() for part in lines[index : end + 1])):
                return index
        elif is_quoted(lines[following]):
            if replies is None:
                replies = _replies_after(lines)
            if not replies[following]:
                return index
    return None


def _signature_start(lines: list[str]) -> int | None:
    for index in range(max(0, len(lines) - _MAX_SIGNATURE_LINES - 1), len(lines)):
        if is_sig_dash(lines[index]):
            tail = lines[index + 1 :]
            if len(tail) <= _MAX_SIGNATURE_LINES and not any(is_quoted(rest) for rest in tail):
                return index
    return None


def _trim_tail(lines: list[str]) -> list[str]:
    """Drop what closes the message without being new: a trailing quote block, "-- " signature, mobile taglines."""
    lines = list(lines)
    after_quote = False
    while True:
        while lines and is_blank(lines[-1]):
            lines.pop()
        if not lines:
            return lines
        last = lines[-1]
        if is_quoted(last):
            while lines and (is_quoted(lines[-1]) or is_blank(lines[-1])):
                lines.pop()
            after_quote = True
            continue
        if is_mobile_signature(last) or (after_quote and is_intro(last)):
            lines.pop()
            after_quote = False
            continue
        signature = _signature_start(lines)
        if signature is None:
            return lines
        lines = lines[:signature]
        after_quote = False
