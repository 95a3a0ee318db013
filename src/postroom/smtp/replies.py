"""The one table from errors to SMTP replies (RFC 5321 codes with RFC 3463 enhanced status codes), and the
enhanced code given to every reply aiosmtpd writes without one (RFC 2034: all but the greeting and HELO/EHLO)."""

from __future__ import annotations

import re

from postroom.errors import Forbidden, InvalidInput, NotFound, Refused, TooLarge

ENHANCED_STATUS_CODES = "ENHANCEDSTATUSCODES"
SENDER_OK = "250 2.1.0 Sender ok"
STARTTLS_READY = "220 2.0.0 Ready to start TLS"
AUTH_NOT_AVAILABLE = "502 5.5.1 AUTH not available on this server (it receives mail, it takes no logins)"

ACCEPTED = "250 2.0.0 Message accepted for delivery"
RECIPIENT_OK = "250 2.1.5 Recipient ok"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
TRY_AGAIN = "451 4.3.0 Temporary failure, please try again later"
NO_RECIPIENTS = "554 5.5.1 No valid recipients"
TOO_BIG = "552 5.3.4 Message too big"
LINE_TOO_LONG = "500 5.5.2 Line too long"
SESSION_TOO_LONG = "421 4.4.2 Session time limit exceeded, closing connection"
IDLE_TIMEOUT = "421 4.4.2 Idle timeout, closing connection"
SHUTTING_DOWN = "421 4.3.2 Service shutting down, try again later"


def reply_for(error: BaseException) -> str:
    """Known refusals are permanent; anything unexpected is temporary so the sender retries."""
    if isinstance(error, NotFound):
        return "550 5.1.1 No such mailbox here"
    if isinstance(error, Refused):
        reason = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in error.message)[:400]
        return f"451 4.7.1 {reason}" if error.temporary else f"550 5.7.1 {reason}"
    if isinstance(error, Forbidden):
        return "550 5.2.1 Mailbox is not accepting mail"
    if isinstance(error, TooLarge):
        return TOO_BIG
    if isinstance(error, InvalidInput):
        return "501 5.5.4 Invalid address"
    return TRY_AGAIN


_REPLY = re.compile(r"(?P<code>[245]\d\d)(?P<sep>[ -])(?P<text>.*)", re.DOTALL)
_ENHANCED = re.compile(r"[245]\.\d{1,3}\.\d{1,3}(?: |$)")
# aiosmtpd's replies that carry no enhanced code, by their exact text where the code alone is too vague.
_KNOWN = {
    "220 Ready to start TLS": STARTTLS_READY,
    "454 TLS not available": "454 4.7.0 TLS not available",
    "500 Command line too long": "500 5.5.6 Command line too long",
    "500 Error: bad syntax": "500 5.5.2 Error: bad syntax",
    "552 Error: Too much mail data": TOO_BIG,
}
# By basic code (RFC 3463): 5.5.x are command and syntax errors, 5.7.0 security, 5.3.4 size, 5.1.3 address.
_BY_CODE = {
    "500": "5.5.2",
    "501": "5.5.4",
    "502": "5.5.1",
    "503": "5.5.1",
    "504": "5.5.4",
    "530": "5.7.0",
    "552": "5.3.4",
    "553": "5.1.3",
    "554": "5.7.0",
    "555": "5.5.4",
}


def with_enhanced_code(reply: str) -> str:
    """``reply`` with an RFC 3463 enhanced status code after its basic code, unless it has one already.

    Only for replies to commands other than HELO/EHLO (and not the greeting); 3xx replies have none.
    """
    if reply in _KNOWN:
        return _KNOWN[reply]
    match = _REPLY.fullmatch(reply)
    if match is None or _ENHANCED.match(match["text"]):
        return reply
    code = match["code"]
    return f"{code}{match['sep']}{_BY_CODE.get(code, code[0] + '.0.0')} {match['text']}"
