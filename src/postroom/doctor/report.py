"""One check's outcome: what was checked, ok/warn/fail, and a line saying what was found or what to do."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


MAX_DETAIL = 160


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


def first_line(error: BaseException) -> str:
    """An exception as one readable line (drivers put the SQL and a link on the lines after it)."""
    text = str(error).strip().splitlines()
    line = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
    return line if len(line) <= MAX_DETAIL else f"{line[: MAX_DETAIL - 3]}..."
