"""Parsing time of pathological inputs (deep HTML nesting, huge headers), beside a plain message in the same run.

Tests bound the work these inputs cost (call counts must grow linearly); this prints what they cost in time.
Run: .venv/bin/python bench/mime.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from postroom.mime.html import html_to_text
from postroom.mime.parse import parse_message

PLAIN = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hello\r\n\r\n" + b"A plain line of text.\r\n" * 100
HEADERS = {
    "Content-Type with 200,000 ';'": b"Content-Type: text/plain" + b";" * 200_000,
    "Content-Type with 40,000 open quotes": b"Content-Type: text/plain" + b'; a="b' * 40_000,
    "20,000 RFC 2231 filename parts": b"Content-Disposition: attachment" + b"; filename*0*=x" * 20_000,
    "From of 500,000 bytes": b"From: " + b"a" * 500_000,
    "To of 500,000 '<'": b"To: " + b"<" * 500_000,
}


def timed(work: Callable[[], object], runs: int = 3) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    baseline = timed(lambda: parse_message(PLAIN, fallback_domain="bench.test"))
    print(f"{'input':<40} {'median':>10} {'x plain message':>16}")
    print(f"{'plain 2.4 KB message (baseline)':<40} {baseline * 1000:>8.2f}ms {1.0:>16.1f}")
    for name, header in HEADERS.items():
        seconds = timed(lambda header=header: parse_message(header + b"\r\n\r\nbody\r\n", fallback_domain="bench.test"))
        print(f"{name:<40} {seconds * 1000:>8.2f}ms {seconds / baseline:>16.1f}")
    for depth in (4_000, 200_000):
        html = "<div>" * depth + "deep <b>text</b>" + "</div>" * depth
        seconds = timed(lambda html=html: html_to_text(html))
        print(f"{f'html_to_text, {depth:,} nested divs':<40} {seconds * 1000:>8.2f}ms {seconds / baseline:>16.1f}")


if __name__ == "__main__":
    main()
