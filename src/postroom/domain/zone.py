"""The DNS records an operator publishes for a sending domain (MX, SPF, DKIM, DMARC), as BIND zone text."""

from __future__ import annotations

import re
from collections.abc import Sequence

# A TXT record is a list of character-strings of at most 255 bytes each (RFC 1035 §3.3).
TXT_CHUNK = 255
DEFAULT_TTL = 3600

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*$"
)


def zone_file(
    *,
    domain: str,
    mail_host: str,
    selector: str,
    dkim_txt: str,
    spf_include: Sequence[str] = (),
    dmarc_rua: str | None = None,
) -> str:
    domain = _hostname(domain, "domain")
    mail_host = _hostname(mail_host, "mail_host")
    selector = _hostname(selector, "selector")
    includes = [_hostname(include, "spf_include") for include in spf_include]
    spf = " ".join(["v=spf1", "mx", f"a:{mail_host}", *(f"include:{include}" for include in includes), "~all"])
    dmarc = "v=DMARC1; p=quarantine"
    if dmarc_rua:
        dmarc += f"; rua={_mailto(dmarc_rua)}"
    lines = [
        f"; DNS records for sending and receiving mail as {domain} through Postroom.",
        f"$ORIGIN {domain}.",
        f"$TTL {DEFAULT_TTL}",
        f"; MX: mail addressed to @{domain} is delivered to {mail_host}.",
        f"@\tIN\tMX\t10 {mail_host}.",
        "; SPF: the hosts allowed to send mail with this domain in the envelope sender.",
        f"@\tIN\tTXT\t{_txt(spf)}",
        f"; DKIM: the public key receivers use to check signatures made with selector {selector}.",
        f"{selector}._domainkey\tIN\tTXT\t{_txt(dkim_txt)}",
        "; DMARC: what receivers should do with mail that fails SPF and DKIM alignment.",
        f"_dmarc\tIN\tTXT\t{_txt(dmarc)}",
    ]
    return "\n".join(lines) + "\n"


def _hostname(value: str, field: str) -> str:
    name = value.strip().rstrip(".").lower()
    if not _HOSTNAME.match(name):
        raise ValueError(f"{field} is not a valid DNS name: {value!r}")
    return name


def _mailto(address: str) -> str:
    target = address.removeprefix("mailto:")
    if "@" not in target or any(char.isspace() or char in '";\\' for char in target):
        raise ValueError(f"dmarc_rua is not a mail address: {address!r}")
    return f"mailto:{target}"


def _txt(value: str) -> str:
    """Quote a TXT value, split into character-strings BIND accepts (parenthesised when more than one)."""
    if any(ord(char) < 0x20 or ord(char) > 0x7E for char in value):
        raise ValueError("TXT values must be printable ASCII")
    chunks = [value[start : start + TXT_CHUNK] for start in range(0, len(value), TXT_CHUNK)] or [""]
    quoted = ['"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks]
    if len(quoted) == 1:
        return quoted[0]
    return "( " + "\n\t\t\t".join(quoted) + " )"
