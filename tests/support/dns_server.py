"""An authoritative DNS server on loopback (dnslib) that serves whatever records a test publishes.

UDP and TCP on the same port of 127.0.0.1; Postroom is pointed at it with ``POSTROOM_DNS_SERVERS``. Names are
case-insensitive and stored without the trailing dot. A name that is not published is NXDOMAIN; a published name
without records of the asked type is an empty NOERROR answer. ``fail(name)`` answers SERVFAIL for a name and
``drop(name)`` never answers (a timeout), so tests can reach the temporary-error paths.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dns.rdatatype
import dns.zone
from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSServer

# Answers carry no TTL by default: a test that changes a record sees the change at once, even through Postroom's
# answer cache. A server made with a TTL (the cache's tests, the ingest benchmark) is cached like real DNS.
DEFAULT_TTL = 0


def _key(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _rdata(rtype: str, value: str, priority: int | None) -> Any:
    if rtype == "A":
        return A(value)
    if rtype == "AAAA":
        return AAAA(value)
    if rtype == "MX":
        return MX(value, priority if priority is not None else 10)
    if rtype == "CNAME":
        return CNAME(value)
    if rtype == "TXT":
        # Long values are split into 255-byte strings, as zone files and DNS hosting providers do.
        data = value.encode()
        return TXT([data[i : i + 255] for i in range(0, len(data), 255)] or [b""])
    raise ValueError(f"unsupported record type {rtype}")


class _Zone(BaseResolver):  # type: ignore[misc]
    def __init__(self, ttl: int) -> None:
        self.ttl = ttl
        self.records: dict[str, list[tuple[str, str, int | None]]] = {}
        self.failing: set[str] = set()
        self.dropped: set[str] = set()
        self.queries: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord | None:
        name = _key(str(request.q.qname))
        rtype = QTYPE[request.q.qtype]
        reply = request.reply()
        with self.lock:
            self.queries.append((name, rtype))
            if name in self.dropped:
                return None
            if name in self.failing:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            found = self.records.get(name)
            if found is None:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            for kind, value, priority in found:
                if kind == rtype or (kind == "CNAME" and rtype != "CNAME"):
                    reply.add_answer(
                        RR(str(request.q.qname), QTYPE.reverse[kind], ttl=self.ttl, rdata=_rdata(kind, value, priority))
                    )
        return reply


class _QuietHandler(DNSHandler):  # type: ignore[misc]
    def handle(self) -> None:
        try:
            super().handle()
        except Exception:  # a dropped query ends in an exception inside dnslib; the client times out as intended
            return


class DnsTestServer:
    def __init__(self, ttl: int = DEFAULT_TTL) -> None:
        self._zone = _Zone(ttl)
        self.port = _free_udp_tcp_port()
        self._udp = DNSServer(self._zone, address="127.0.0.1", port=self.port, handler=_QuietHandler, logger=_Silent())
        self._tcp = DNSServer(
            self._zone, address="127.0.0.1", port=self.port, tcp=True, handler=_QuietHandler, logger=_Silent()
        )

    @property
    def address(self) -> str:
        """What to put in POSTROOM_DNS_SERVERS."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self._udp.start_thread()
        self._tcp.start_thread()

    def stop(self) -> None:
        self._udp.stop()
        self._tcp.stop()

    def publish(self, name: str, rtype: str, value: str, *, priority: int | None = None) -> None:
        with self._zone.lock:
            self._zone.records.setdefault(_key(name), []).append((rtype.upper(), value, priority))

    def remove(self, name: str, rtype: str | None = None) -> None:
        """Remove the name's records of ``rtype`` (all of them when None); the name itself stays published."""
        with self._zone.lock:
            kept = [r for r in self._zone.records.get(_key(name), []) if rtype is not None and r[0] != rtype.upper()]
            if _key(name) in self._zone.records:
                self._zone.records[_key(name)] = kept

    def publish_zone(self, zone: str, origin: str) -> None:
        """Publish every record of a BIND zone text (the format of Postroom's zone files): MX, TXT, CNAME, A."""
        for name, rtype, value, priority in parse_zone(zone, origin):
            self.publish(name, rtype, value, priority=priority)

    def fail(self, name: str) -> None:
        with self._zone.lock:
            self._zone.failing.add(_key(name))

    def drop(self, name: str) -> None:
        with self._zone.lock:
            self._zone.dropped.add(_key(name))

    def clear(self) -> None:
        with self._zone.lock:
            self._zone.records.clear()
            self._zone.failing.clear()
            self._zone.dropped.clear()
            self._zone.queries.clear()

    @property
    def queries(self) -> list[tuple[str, str]]:
        with self._zone.lock:
            return list(self._zone.queries)


def parse_zone(zone: str, origin: str) -> Iterator[tuple[str, str, str, int | None]]:
    """(name, type, value, priority) of each record of a BIND zone text (dnspython reads it: TXT values split
    into several character-strings, in parentheses over several lines, come back joined)."""
    parsed = dns.zone.from_text(zone, origin=_key(origin) + ".", check_origin=False, relativize=False)
    for name, _ttl, rdata in parsed.iterate_rdatas():
        full = _key(name.to_text())
        rtype = dns.rdatatype.to_text(rdata.rdtype)
        if rtype == "MX":
            yield full, rtype, _key(rdata.exchange.to_text()), int(rdata.preference)
        elif rtype == "TXT":
            yield full, rtype, b"".join(rdata.strings).decode(), None
        else:
            yield full, rtype, _key(rdata.to_text()), None


class _Silent:
    def __getattr__(self, _name: str) -> Any:
        return lambda *args, **kwargs: None


def _free_udp_tcp_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


@contextmanager
def dns_test_server(ttl: int = DEFAULT_TTL) -> Iterator[DnsTestServer]:
    server = DnsTestServer(ttl)
    server.start()
    try:
        yield server
    finally:
        server.stop()
