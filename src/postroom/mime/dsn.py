"""parse_dsn: a delivery status notification (RFC 3464, in a multipart/report of RFC 6522) to per-recipient results.

Reads the message/delivery-status fields as text blocks itself, so base64-encoded or sloppy reports still parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message

from postroom.mime.headers import collapse, message_ids, unfold
from postroom.mime.payloads import params, payload_bytes
from postroom.mime.policies import COMPAT32

__all__ = ["Dsn", "DsnRecipient", "is_permanent_failure", "parse_dsn"]

ACTIONS = frozenset({"failed", "delayed", "delivered", "relayed", "expanded"})
STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
RETURNED_TYPES = ("message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers")
MAX_RECIPIENTS = 1000
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_FIELD = re.compile(r"([!-9;-~]+)[ \t]*:(.*)")
_ACTION_BY_CLASS = {"2": "delivered", "4": "delayed", "5": "failed"}
_CLASS_BY_ACTION = {
    "failed": "5.0.0",
    "delayed": "4.0.0",
    "delivered": "2.0.0",
    "relayed": "2.0.0",
    "expanded": "2.0.0",
}


@dataclass(frozen=True)
class DsnRecipient:
    address: str  # Final-Recipient (else Original-Recipient) bare address, lower-cased
    action: str  # failed / delayed / delivered / relayed / expanded
    status: str  # e.g. "5.1.1"
    diagnostic: str | None  # Diagnostic-Code text without its type ("smtp;"), if any


@dataclass(frozen=True)
class Dsn:
    recipients: list[DsnRecipient]
    original_message_id: str | None  # of the returned message or headers, with angle brackets
    envelope_id: str | None  # Original-Envelope-Id, if present


def is_permanent_failure(recipient: DsnRecipient) -> bool:
    """Failed for good: action "failed" with a 5.x.x status (a failed 4.x.x gave up on a temporary error)."""
    return recipient.action == "failed" and recipient.status.startswith("5.")


def _blocks(text: str) -> list[dict[str, str]]:
    """The status body's header-like blocks (RFC 3464 §2.1), blank-line separated, each field name lower-cased."""
    blocks: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    name = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            if fields:
                blocks.append(fields)
            fields, name = {}, ""
        elif line[0] in " \t" and name:
            fields[name] += " " + line.strip()
        elif found := _FIELD.match(line):
            name = found.group(1).lower()
            fields.setdefault(name, "")
            fields[name] = fields[name] or found.group(2).strip()
        else:
            name = ""
    if fields:
        blocks.append(fields)
    return blocks


def _typed_value(value: str | None) -> str:
    """ "rfc822; user@example.com" -> "user@example.com"; the address-type or diagnostic-type is dropped."""
    if not value:
        return ""
    kind, semicolon, rest = value.partition(";")
    return collapse(rest if semicolon else kind)


def _address(fields: dict[str, str]) -> str | None:
    for name in ("final-recipient", "original-recipient"):
        address = _typed_value(fields.get(name)).strip("<> ").lower()
        if "@" in address and " " not in address:
            return address
    return None


def _recipient(fields: dict[str, str]) -> DsnRecipient | None:
    address = _address(fields)
    if address is None:
        return None
    diagnostic = _typed_value(fields.get("diagnostic-code")) or None
    status_found = _STATUS.search(fields.get("status", "")) or _STATUS.search(diagnostic or "")
    action = collapse(fields.get("action", "")).lower().split(" ")[0]
    if action not in ACTIONS:
        action = _ACTION_BY_CLASS.get(status_found.group(1), "") if status_found else ""
    if not action:
        return None  # neither an action nor a status: nothing to report for this address
    status = ".".join(status_found.groups()) if status_found else _CLASS_BY_ACTION[action]
    return DsnRecipient(address=address, action=action, status=status, diagnostic=diagnostic)


def _returned_message_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        headers = payload[0]
    else:
        headers = message_from_bytes(payload_bytes(part).lstrip(), policy=COMPAT32)
    values = [unfold(value) for key, value in headers.raw_items() if key.strip().lower() == "message-id"]
    found = message_ids(values[0]) if values else []
    return found[0] if found else None


def _parse(raw: bytes) -> Dsn | None:
    report = message_from_bytes(raw, policy=COMPAT32)
    main, type_params = params(report, "content-type")
    if main.lower() != "multipart/report" or not isinstance(report.get_payload(), list):
        return None
    report_type = type_params.get("report-type", "").lower()
    parts = [part for part in report.get_payload() if isinstance(part, Message)]
    status_parts = [part for part in parts if part.get_content_type() in STATUS_TYPES]
    if report_type not in ("delivery-status", "") or not status_parts:
        return None
    blocks = _blocks(payload_bytes(status_parts[0]).decode("utf-8", "replace"))
    recipients = [found for block in blocks if (found := _recipient(block)) is not None][:MAX_RECIPIENTS]
    envelope_ids = [collapse(block["original-envelope-id"]) for block in blocks if "original-envelope-id" in block]
    returned = [part for part in parts if part.get_content_type() in RETURNED_TYPES]
    return Dsn(
        recipients=recipients,
        original_message_id=_returned_message_id(returned[0]) if returned else None,
        envelope_id=envelope_ids[0] if envelope_ids and envelope_ids[0] else None,
    )


def parse_dsn(raw: bytes) -> Dsn | None:
    """A DSN's per-recipient results; None when the bytes are not a multipart/report of delivery status.

    Never raises. Recipient blocks without an address, or with neither an Action nor a Status, are skipped; a
    missing Status is taken from the Diagnostic-Code ("550 5.1.1 ...") or else from the Action's class.
    """
    try:
        return _parse(bytes(raw))
    except Exception:  # the email package or a codec failed on hostile input: not a DSN we can read
        return None
