"""Labels on messages and threads: normalisation, the system labels the server alone manages (spec §5.1, §8)."""

from __future__ import annotations

from postroom.errors import InvalidInput

RECEIVED = "received"
SENT = "sent"
UNREAD = "unread"
SPAM = "spam"
BLOCKED = "blocked"
UNAUTHENTICATED = "unauthenticated"
TRASH = "trash"

SYSTEM_LABELS = frozenset(
    {
        "received",
        "sent",
        "delivered",
        "bounced",
        "complained",
        "delayed",
        "rejected",
        "opened",
        "scheduled",
        "spam",
        "blocked",
        "unauthenticated",
    }
)
# Hidden from lists and reads unless asked for with include_* and the matching label_*_read permission.
RESTRICTED_LABELS = {
    SPAM: "label_spam_read",
    BLOCKED: "label_blocked_read",
    UNAUTHENTICATED: "label_unauthenticated_read",
}
MAX_LABEL_CHARS = 256


def normalize_label(raw: str, field: str = "labels") -> str:
    label = raw.strip().lower()
    if not label or len(label) > MAX_LABEL_CHARS or any(ord(ch) < 32 for ch in label):
        raise InvalidInput(f"labels must be 1-{MAX_LABEL_CHARS} printable characters", field=field)
    return label


def normalize_labels(raw: list[str], field: str = "labels") -> list[str]:
    """Lower-cased, de-duplicated, in first-seen order."""
    return list(dict.fromkeys(normalize_label(item, field) for item in raw))
