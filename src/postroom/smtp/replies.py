"""The one table from errors to SMTP replies (RFC 5321 codes with RFC 3463 enhanced status codes)."""

from __future__ import annotations

from postroom.errors import Forbidden, InvalidInput, NotFound, Refused, TooLarge

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
