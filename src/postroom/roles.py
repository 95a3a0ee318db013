"""The roles one ``postroom serve`` process can take (API, SMTP, workers, dispatcher) and their parsing."""

from __future__ import annotations

ROLES = ("api", "smtp", "worker", "dispatcher")
ALL_ROLES = ",".join(ROLES)


class UnknownRole(ValueError):
    """A --roles / POSTROOM_ROLES value names no role, or none at all."""


def parse_roles(value: str) -> frozenset[str]:
    """``"api,smtp"`` -> {"api", "smtp"}; an unknown or empty list raises UnknownRole naming the valid ones."""
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in ROLES]
    if unknown:
        raise UnknownRole(f"unknown role {', '.join(map(repr, unknown))}: the roles are {', '.join(ROLES)}")
    if not names:
        raise UnknownRole(f"no role given: name one or more of {', '.join(ROLES)}")
    return frozenset(names)
