"""Hand one message to the next hop over SMTP (RFC 5321; STARTTLS RFC 3207; SIZE RFC 1870) and report what
became of each recipient. Network and SMTP failures come back as results, never as exceptions."""

from __future__ import annotations

import functools
import logging
import re
import ssl
from collections.abc import Sequence

import aiosmtplib

from postroom.delivery.connections import Session, SmtpSessions, close
from postroom.delivery.routing import Hop
from postroom.domain.outbound import DeliveryResult

log = logging.getLogger("postroom.delivery")
# A refusal naming our HELO/EHLO (Postfix: "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified
# hostname", usually delayed until RCPT) is about this server, not the recipient: retried, never a bounce.
_OUR_GREETING = re.compile(r"\b(?:helo|ehlo)\b", re.IGNORECASE)
NO_SMTPUTF8 = (
    "5.6.7 the next hop does not support SMTPUTF8, which these non-ASCII addresses need (RFC 6531); "
    "the message was not sent"
)


class _HopFailed(Exception):
    """This hop did not take the message; the next one may (internal to this module)."""

    def __init__(self, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


async def transmit(
    hops: Sequence[Hop],
    *,
    mail_from: str,
    recipients: Sequence[str],
    raw: bytes,
    helo_name: str,
    timeout: float = 60.0,
    tls_context: ssl.SSLContext | None = None,
    sessions: SmtpSessions | None = None,
) -> list[DeliveryResult]:
    """Try ``hops`` in order until one answers the transaction; one result per recipient, in order.

    ``tls_context`` replaces the default contexts: verified for a relay or implicit TLS, unverified for
    opportunistic STARTTLS to an MX host (as MTAs do, since MX certificates rarely match). With ``sessions``, an
    open session to the hop is used when there is one, and the session is kept open for the next message.
    """
    if not recipients:
        return []
    failures: list[str] = []
    last_code: int | None = None
    for hop in hops:
        try:
            results = await _deliver_via(hop, mail_from, recipients, raw, helo_name, timeout, tls_context, sessions)
            return [_blame_our_greeting(result, hop, helo_name) for result in results]
        except _HopFailed as failure:
            failures.append(f"{hop.host}:{hop.port}: {failure.detail}")
            last_code = failure.code
    detail = "; ".join(failures) or "no hop to try"
    return [DeliveryResult(address, "temporary", last_code, detail) for address in recipients]


def _blame_our_greeting(result: DeliveryResult, hop: Hop, helo_name: str) -> DeliveryResult:
    """A refusal of our own HELO name is this server's fault: temporary for the recipient, and an error to log."""
    if result.outcome != "permanent" or not _OUR_GREETING.search(result.detail or ""):
        return result
    log.error(
        "%s:%d refused our EHLO name %r (%s): fix POSTROOM_MAIL_HOST; the mail is retried, not bounced",
        hop.host,
        hop.port,
        helo_name,
        result.detail,
    )
    return DeliveryResult(result.address, "temporary", result.code, f"our EHLO name was refused: {result.detail}")


class _OpportunisticTlsFailed(Exception):
    """The TLS handshake after STARTTLS failed on a hop where TLS is only opportunistic."""


async def _deliver_via(
    hop: Hop,
    mail_from: str,
    recipients: Sequence[str],
    raw: bytes,
    helo_name: str,
    timeout: float,
    tls_context: ssl.SSLContext | None,
    sessions: SmtpSessions | None,
) -> list[DeliveryResult]:
    envelope = (mail_from, recipients, raw)
    try:
        return await _deliver_once(hop, envelope, helo_name, timeout, tls_context, sessions, starttls=True)
    except _OpportunisticTlsFailed:
        # As MTAs do: a host whose TLS is broken still gets the mail in plain text rather than none at all.
        return await _deliver_once(hop, envelope, helo_name, timeout, tls_context, sessions, starttls=False)


_Envelope = tuple[str, Sequence[str], bytes]


class _SessionLost(Exception):
    """A kept session turned out closed before the message was handed over: try again on a new one."""


async def _deliver_once(
    hop: Hop,
    envelope: _Envelope,
    helo_name: str,
    timeout: float,
    tls_context: ssl.SSLContext | None,
    sessions: SmtpSessions | None,
    *,
    starttls: bool,
) -> list[DeliveryResult]:
    key = (hop, tls_context, starttls)
    if sessions is not None and (kept := sessions.take(key)) is not None:
        try:
            results = await _on_kept_session(kept.client, envelope)
        except _SessionLost:
            kept.client.close()
        except BaseException:
            await close(kept.client)
            raise
        else:
            await sessions.park(key, kept)
            return results
    client = _new_client(hop, helo_name, timeout, tls_context)
    results = await _on_new_session(client, hop, envelope, tls_context, starttls=starttls)
    if sessions is not None:
        await sessions.park(key, Session(client))
    else:
        await close(client)
    return results


async def _on_kept_session(client: aiosmtplib.SMTP, envelope: _Envelope) -> list[DeliveryResult]:
    """RSET, then the transaction; a peer that dropped the session before DATA raises _SessionLost.

    Nothing was handed over until DATA (whose own failures come back as temporary results), so sending the
    message again on a new session neither loses it nor delivers it twice.
    """
    try:
        await client.rset()
        return await _transaction(client, *envelope)
    except aiosmtplib.SMTPResponseException as error:
        if error.code == 421:  # the server is closing this session (RFC 5321 §3.8)
            raise _SessionLost(str(error)) from error
        raise _hop_failure(error) from error
    except aiosmtplib.SMTPTimeoutError as error:
        raise _hop_failure(error) from error
    except (aiosmtplib.SMTPServerDisconnected, OSError) as error:
        raise _SessionLost(str(error)) from error
    except aiosmtplib.SMTPException as error:
        raise _hop_failure(error) from error


def _new_client(hop: Hop, helo_name: str, timeout: float, tls_context: ssl.SSLContext | None) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=hop.host,
        port=hop.port,
        local_hostname=helo_name,
        timeout=timeout,
        use_tls=hop.implicit_tls,
        start_tls=False,
        tls_context=_context(hop, tls_context),
    )


def _context(hop: Hop, tls_context: ssl.SSLContext | None) -> ssl.SSLContext:
    verified = hop.implicit_tls or hop.require_tls
    return tls_context or (_verified_context() if verified else _unverified_context())


async def _on_new_session(
    client: aiosmtplib.SMTP, hop: Hop, envelope: _Envelope, tls_context: ssl.SSLContext | None, *, starttls: bool
) -> list[DeliveryResult]:
    """Connect, greet, secure, authenticate and run the transaction; the client is closed when this raises."""
    try:
        await _open(client, hop, _context(hop, tls_context), starttls=starttls)
        return await _transaction(client, *envelope)
    except BaseException as error:
        await close(client)
        failure = _hop_failure(error)
        if failure is error:
            raise
        raise failure from error


def _hop_failure(error: BaseException) -> BaseException:
    """What a failed session means for the hop: _HopFailed for SMTP and network errors, anything else as it is."""
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _HopFailed(f"{error.code} {error.message}", error.code)
    if isinstance(error, aiosmtplib.SMTPTimeoutError):
        return _HopFailed(f"timeout: {error}")
    if isinstance(error, (aiosmtplib.SMTPException, OSError)):
        return _HopFailed(_reason(error))
    return error


async def _open(client: aiosmtplib.SMTP, hop: Hop, context: ssl.SSLContext, *, starttls: bool = True) -> None:
    """Connect, greet, secure and authenticate; raises (aiosmtplib or _HopFailed) when the hop is unusable."""
    await client.connect()
    await _greet(client)
    if not hop.implicit_tls:
        if client.supports_extension("starttls") and (starttls or hop.require_tls):
            try:
                await client.starttls(server_hostname=hop.host, tls_context=context)
            except aiosmtplib.SMTPResponseException as error:
                if hop.require_tls:
                    raise _HopFailed(f"STARTTLS refused: {error.code} {error.message}", error.code) from error
                # Opportunistic: a refused STARTTLS leaves the plain session usable.
            except (aiosmtplib.SMTPException, ssl.SSLError, OSError) as error:
                if hop.require_tls:
                    raise
                raise _OpportunisticTlsFailed(str(error)) from error
            else:
                await _greet(client)  # RFC 3207 §4.2: forget what was learnt before TLS
        elif hop.require_tls:
            raise _HopFailed("the relay does not offer STARTTLS, which it is configured to require")
    if hop.username is not None:
        try:
            await client.login(hop.username, hop.password or "")
        except aiosmtplib.SMTPAuthenticationError as error:
            raise _HopFailed(f"authentication failed: {error.code} {error.message}", error.code) from error


async def _greet(client: aiosmtplib.SMTP) -> None:
    try:
        await client.ehlo()
    except aiosmtplib.SMTPHeloError:
        try:
            await client.helo()
        except aiosmtplib.SMTPHeloError as error:
            log.error(
                "%s:%s refused our HELO name %r: %s %s: fix POSTROOM_MAIL_HOST; the mail is retried",
                client.hostname,
                client.port,
                client.local_hostname,
                error.code,
                error.message,
            )
            raise _HopFailed(f"our HELO name was refused: {error.code} {error.message}", error.code) from error


async def _transaction(
    client: aiosmtplib.SMTP, mail_from: str, recipients: Sequence[str], raw: bytes
) -> list[DeliveryResult]:
    size = _wire_size(raw)
    limit = client.esmtp_extensions.get("size", "")
    if limit.isdigit() and 0 < int(limit) < size:
        detail = f"message too large: {size} bytes, the server accepts at most {limit}"
        return [DeliveryResult(address, "permanent", None, detail) for address in recipients]
    internationalised = needs_smtputf8(mail_from, recipients, raw)
    if internationalised and not client.supports_extension("smtputf8"):
        return [DeliveryResult(address, "permanent", None, NO_SMTPUTF8) for address in recipients]
    options, encoding = _mail_options(client, raw, size, internationalised=internationalised)
    try:
        await client.mail(mail_from, options=options, encoding=encoding)
    except aiosmtplib.SMTPSenderRefused as error:
        if error.code >= 500:
            return [_refused(address, error.code, error.message) for address in recipients]
        raise
    results: dict[str, DeliveryResult] = {}
    accepted: list[str] = []
    for address in recipients:
        try:
            await client.rcpt(address, encoding=encoding)
        except aiosmtplib.SMTPRecipientRefused as error:
            results[address] = _refused(address, error.code, error.message)
        else:
            accepted.append(address)
    if accepted:
        for address, result in (await _data(client, accepted, raw)).items():
            results[address] = result
    return [results[address] for address in recipients]


async def _data(client: aiosmtplib.SMTP, accepted: list[str], raw: bytes) -> dict[str, DeliveryResult]:
    try:
        reply = await client.data(raw)
    except aiosmtplib.SMTPDataError as error:
        return {address: _refused(address, error.code, error.message) for address in accepted}
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as error:
        # The server may have queued the message before the line dropped; retrying risks a duplicate,
        # which beats losing the message.
        return {address: DeliveryResult(address, "temporary", None, _reason(error)) for address in accepted}
    return {address: DeliveryResult(address, "delivered", reply.code, reply.message) for address in accepted}


def needs_smtputf8(mail_from: str, recipients: Sequence[str], raw: bytes) -> bool:
    """Non-ASCII envelope addresses or UTF-8 header fields (RFC 6531 §3.4, RFC 6532) need SMTPUTF8."""
    header_end = raw.find(b"\r\n\r\n")
    header = raw if header_end < 0 else raw[:header_end]
    return not all(address.isascii() for address in (mail_from, *recipients)) or not header.isascii()


def _mail_options(client: aiosmtplib.SMTP, raw: bytes, size: int, *, internationalised: bool) -> tuple[list[str], str]:
    options: list[str] = []
    if client.supports_extension("size"):
        options.append(f"SIZE={size}")
    if client.supports_extension("8bitmime") and not raw.isascii():
        options.append("BODY=8BITMIME")
    encoding = "ascii"
    if internationalised:
        options.append("SMTPUTF8")
        encoding = "utf-8"
    return options, encoding


def _refused(address: str, code: int, message: str) -> DeliveryResult:
    return DeliveryResult(address, "permanent" if code >= 500 else "temporary", code, message)


def _wire_size(raw: bytes) -> int:
    # Bare LFs become CRLF on the wire.
    return len(raw) + raw.count(b"\n") - raw.count(b"\r\n")


def _reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError) or isinstance(error.__cause__, ConnectionRefusedError):
        return f"connection refused ({error})"
    return str(error) or type(error).__name__


@functools.cache
def _verified_context() -> ssl.SSLContext:
    """Made once: loading the system's CA certificates costs milliseconds, too much per message."""
    return ssl.create_default_context()


@functools.cache
def _unverified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
