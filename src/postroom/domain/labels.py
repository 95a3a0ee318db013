"""Labels on messages and threads: normalisation, the system labels the server alone manages, which labels hide
mail from whom, and how a requested change applies (spec §1.6, §5.1, §8)."""

from __future__ import annotations

from dataclasses import dataclass

from postroom.domain.access import Principal
from postroom.errors import FieldError, InvalidInput

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
# Mail with one of these is hidden from lists and reads unless asked for with include_* (search: always) by a key
# holding the matching permission; a key without the permission never reads it.
HIDDEN = {
    SPAM: "label_spam_read",
    BLOCKED: "label_blocked_read",
    UNAUTHENTICATED: "label_unauthenticated_read",
    TRASH: "label_trash_read",
}
MAX_LABEL_CHARS = 256


def normalize_label(raw: str, field: str = "labels") -> str:
    label = raw.strip().lower()
    if not label or max(len(raw), len(label)) > MAX_LABEL_CHARS or any(ord(ch) < 32 for ch in label):
        raise InvalidInput(f"labels must be 1-{MAX_LABEL_CHARS} printable characters", field=field)
    return label


def normalize_labels(raw: list[str], field: str = "labels") -> list[str]:
    """Lower-cased, de-duplicated, in first-seen order."""
    return list(dict.fromkeys(normalize_label(item, field) for item in raw))


def hidden_for(principal: Principal, included: frozenset[str]) -> frozenset[str]:
    """Labels to hide: each hidden label stays hidden unless included AND the key may read it."""
    return frozenset(
        label for label, permission in HIDDEN.items() if not (label in included and principal.may(permission))
    )


def forbidden_labels(principal: Principal) -> frozenset[str]:
    """Labels whose mail the key may never read, whatever it asks for."""
    return frozenset(label for label, permission in HIDDEN.items() if not principal.may(permission))


@dataclass(frozen=True)
class LabelChange:
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    def checked(self, principal: Principal) -> LabelChange:
        """Normalised; 400 for a system label, except that a key allowed to read spam may remove ``spam``."""
        add = normalize_labels(list(self.add), "add_labels")
        remove = normalize_labels(list(self.remove), "remove_labels")
        errors = [
            FieldError(field, f"{label} is a system label and cannot be changed")
            for field, values in (("add_labels", add), ("remove_labels", remove))
            for label in values
            if label in SYSTEM_LABELS
            and not (field == "remove_labels" and label == SPAM and principal.may(HIDDEN[SPAM]))
        ]
        if errors:
            raise InvalidInput(errors[0].message, errors=errors)
        return LabelChange(tuple(add), tuple(remove))

    def applied_to(self, labels: list[str]) -> list[str]:
        """Add then remove (remove wins when a label is in both)."""
        return [label for label in dict.fromkeys([*labels, *self.add]) if label not in self.remove]
