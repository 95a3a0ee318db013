"""The loopback DNS server of the ingest benchmark, in a process of its own (not competing with the load generator).

Usage: ``ingest_dns.py '<json list of [name, type, value]>'``; prints its address, serves until stdin closes.
Records carry a TTL of 300 s, as real senders' SPF, DKIM and DMARC records usually do.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.dns_server import dns_test_server  # noqa: E402

RECORD_TTL = 300


def main() -> None:
    records = json.loads(sys.argv[1])
    with dns_test_server(ttl=RECORD_TTL) as dns:
        for name, rtype, value in records:
            dns.publish(name, rtype, value)
        print(dns.address, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
