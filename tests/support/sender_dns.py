"""The DNS of the outside world as the tests' senders see it: one loopback DNS server per test process.

Every server a test starts resolves through it (``POSTROOM_DNS_SERVERS``), so no lookup ever leaves the machine.
It publishes SPF for the domains test mail comes from, authorizing 127.0.0.1 (the only place test mail is sent
from): mail from those domains, with the envelope sender in the same domain, passes SPF aligned with From and is
labelled ``received``. Mail claiming any other domain is ``unauthenticated``, as it would be in production.
"""

from __future__ import annotations

import atexit
import threading

from tests.support.dns_server import DnsTestServer

SENDER_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "alpha.example",
    "beta.example",
    "gamma.example",
    "xray.example",
    "yankee.example",
    "zulu.example",
)
SPF_LOOPBACK = "v=spf1 ip4:127.0.0.1 -all"

_lock = threading.Lock()
_server: DnsTestServer | None = None


def sender_dns() -> DnsTestServer:
    """The process-wide sender DNS, started on first use and stopped when the test process exits."""
    global _server
    with _lock:
        if _server is None:
            server = DnsTestServer()
            server.start()
            for domain in SENDER_DOMAINS:
                server.publish(domain, "TXT", SPF_LOOPBACK)
            atexit.register(server.stop)
            _server = server
        return _server
