"""Checks of the listeners: each configured port is free to bind or already served by Postroom, and the STARTTLS
certificate loads, matches its key and is not about to expire."""

from __future__ import annotations

import errno
import socket
import ssl
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from cryptography import x509

from postroom.config import Settings
from postroom.doctor.report import Check, Status, first_line

PROBE_TIMEOUT_SECONDS = 3.0
RENEW_WITHIN = timedelta(days=21)


def _reachable(host: str) -> str:
    """Where to connect to reach a listener on ``host`` (a wildcard address is reached on loopback)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104 - compared, not bound


def _bind_error(host: str, port: int) -> OSError | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            return error
    return None


def _api_answers(host: str, port: int) -> str | None:
    authority = f"[{host}]" if ":" in host else host
    try:
        response = httpx.get(f"http://{authority}:{port}/healthz", timeout=PROBE_TIMEOUT_SECONDS)
    except httpx.HTTPError:
        return None
    return "/healthz answers 200" if response.status_code == 200 else None


def _smtp_answers(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_SECONDS) as sock:
            banner = sock.recv(512).decode("ascii", "replace").strip()
            sock.sendall(b"QUIT\r\n")
    except OSError:
        return None
    return f"greets with {banner[:60]!r}" if banner.startswith("220") else None


def check_port(label: str, host: str, port: int) -> Check:
    """Free to bind (``postroom serve`` can listen), or in use by a listener that answers as Postroom does."""
    name = f"{label} port"
    error = _bind_error(host, port)
    if error is None:
        return Check(name, Status.OK, f"{host}:{port} is free: `postroom serve` can listen there")
    if error.errno == errno.EACCES:
        return Check(
            name,
            Status.FAIL,
            f"{host}:{port} may not be bound by this user (ports below 1024 need CAP_NET_BIND_SERVICE)",
        )
    if error.errno != errno.EADDRINUSE:
        return Check(name, Status.FAIL, f"{host}:{port} cannot be bound: {first_line(error)}")
    probe = _api_answers if label == "API" else _smtp_answers
    answer = probe(_reachable(host), port)
    if answer is None:
        return Check(name, Status.FAIL, f"{host}:{port} is in use by something that does not answer as {label}")
    return Check(name, Status.OK, f"{host}:{port} is served: {answer}")


def check_certificate(settings: Settings, now: datetime) -> Check:
    """The STARTTLS certificate: present with its key, the pair loads, and it expires in more than 21 days."""
    cert, key = settings.smtp_tls_cert, settings.smtp_tls_key
    if cert is None and key is None:
        return Check("TLS certificate", Status.WARN, "none configured: SMTP offers no STARTTLS")
    if cert is None or key is None:
        return Check("TLS certificate", Status.FAIL, "set both POSTROOM_SMTP_TLS_CERT and POSTROOM_SMTP_TLS_KEY")
    try:
        certificate = x509.load_pem_x509_certificate(Path(cert).read_bytes())
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ValueError, ssl.SSLError) as error:
        return Check("TLS certificate", Status.FAIL, f"{cert}: {first_line(error)}")
    expires = certificate.not_valid_after_utc
    day = expires.date().isoformat()
    if expires <= now:
        return Check("TLS certificate", Status.FAIL, f"{cert} expired on {day}: renew it")
    left = expires - now
    if left < RENEW_WITHIN:
        return Check("TLS certificate", Status.WARN, f"{cert} expires in {left.days} days ({day}): renew it soon")
    return Check("TLS certificate", Status.OK, f"{cert} is valid until {day} ({left.days} days)")
