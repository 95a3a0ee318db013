"""A spam engine's verdict on one message (rspamd's actions) and what Postroom does with each action."""

from __future__ import annotations

from dataclasses import dataclass

REJECT = "reject"
SOFT_REJECT = "soft reject"
# rspamd's actions that mean "deliver, but this is spam".
SPAM_ACTIONS = frozenset({"add header", "rewrite subject"})


@dataclass(frozen=True)
class SpamEnvelope:
    """What the SMTP session knew besides the message itself."""

    ip: str | None
    helo: str | None
    mail_from: str | None
    recipients: tuple[str, ...]
    hostname: str | None = None  # the client's verified host name, when known


@dataclass(frozen=True)
class SpamVerdict:
    action: str  # no action, greylist, add header, rewrite subject, soft reject, reject
    score: float
    required_score: float | None = None

    @property
    def is_spam(self) -> bool:
        return self.action in SPAM_ACTIONS

    @property
    def refuses(self) -> bool:
        return self.action == REJECT

    @property
    def defers(self) -> bool:
        return self.action == SOFT_REJECT

    def status_header(self) -> str:
        """The value of the X-Spam-Status header Postroom writes on the stored copy."""
        required = f" required={self.required_score:.2f}" if self.required_score is not None else ""
        return f"{'Yes' if self.is_spam else 'No'}, score={self.score:.2f}{required} action={self.action}"
