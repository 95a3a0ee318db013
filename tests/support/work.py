"""Counting the work a call does (Python function calls), so tests bound work instead of timing it.

Wall time on a shared 2-core machine is noise; a call count is the same on every run. Comparing the count for an
input with the count for an input twice as big tells linear from quadratic behaviour.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any


def python_calls(work: Callable[[], Any]) -> int:
    """How many Python and C functions ``work()`` called."""
    calls = 0

    def count(_frame: FrameType, event: str, _arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls


def grows_linearly(work_for: Callable[[int], Callable[[], Any]], size: int, slack: float = 2.5) -> bool:
    """Whether doubling the input size at most ``slack``-folds the calls (a quadratic algorithm quadruples them)."""
    small = python_calls(work_for(size))
    large = python_calls(work_for(2 * size))
    return large <= slack * max(small, 1)
