"""rspamd over its HTTP API (``POST /checkv2``): the spam engine behind POSTROOM_RSPAMD_URL.

A failing or slow rspamd never holds mail back: after a short timeout the message is stored unclassified, and the
incident is logged and counted (``failures``), so /readyz can show it.
"""

from __future__ import annotations

import logging
import threading

import httpx

from postroom.domain.spam import SpamEnvelope, SpamVerdict

log = logging.getLogger("postroom.spam")


class RspamdClassifier:
    def __init__(self, url: str, password: str | None = None, timeout_seconds: float = 5.0) -> None:
        self._url = url.rstrip("/") + "/checkv2"
        self._base = url
        self._password = password
        self._client = httpx.Client(timeout=timeout_seconds, trust_env=False)
        self._lock = threading.Lock()
        self.failures = 0

    @property
    def description(self) -> str:
        return f"rspamd at {self._base}"

    def _headers(self, envelope: SpamEnvelope) -> list[tuple[str, str]]:
        headers = []
        if envelope.ip:
            headers.append(("IP", envelope.ip))
        if envelope.helo:
            headers.append(("Helo", envelope.helo))
        if envelope.hostname:
            headers.append(("Hostname", envelope.hostname))
        if envelope.mail_from:
            headers.append(("From", envelope.mail_from))
        headers += [("Rcpt", recipient) for recipient in envelope.recipients]
        if self._password:
            headers.append(("Password", self._password))
        return [(name, "".join(ch for ch in value if 32 <= ord(ch) < 127)) for name, value in headers]

    def classify(self, raw: bytes, envelope: SpamEnvelope) -> SpamVerdict | None:
        try:
            response = self._client.post(self._url, content=raw, headers=self._headers(envelope))
            response.raise_for_status()
            body = response.json()
            verdict = SpamVerdict(
                action=str(body["action"]),
                score=float(body["score"]),
                required_score=float(body["required_score"]) if "required_score" in body else None,
            )
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            with self._lock:
                self.failures += 1
                count = self.failures
            log.warning("rspamd did not classify a message (stored unclassified; %d so far): %s", count, error)
            return None
        return verdict

    def close(self) -> None:
        self._client.close()


class NoSpamClassifier:
    """No spam engine configured: nothing is classified as spam."""

    failures = 0

    @property
    def description(self) -> str:
        return "off: POSTROOM_RSPAMD_URL is not set, so no mail is classified as spam"

    def classify(self, raw: bytes, envelope: SpamEnvelope) -> SpamVerdict | None:
        return None
