"""Role addresses every hosted domain must receive: postmaster (RFC 5321 §4.5.1) and abuse (RFC 2142).

Mail to them, at the default domain or any verified custom domain that receives mail, goes to one inbox the operator
names, whatever inbox a tenant may have created at such an address.
"""

from __future__ import annotations

ROLE_LOCAL_PARTS = frozenset({"postmaster", "abuse"})
BARE_POSTMASTER = "postmaster"  # RFC 5321 §4.1.1.3: "RCPT TO:<Postmaster>" without a domain must be accepted


def role_address(address: str) -> bool:
    """``address`` (lower case, tag removed) is a role address, or the bare ``postmaster``."""
    local, at, _ = address.rpartition("@")
    return (local if at else address) in ROLE_LOCAL_PARTS


def recipient_key(recipient: str) -> str | None:
    """The bare postmaster recipient in canonical form, or None for any other recipient."""
    bare = recipient.strip().removeprefix("<").removesuffix(">").strip().lower()
    return BARE_POSTMASTER if bare == BARE_POSTMASTER else None
