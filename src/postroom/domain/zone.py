"""The DNS records an operator publishes for a domain (MX, SPF, DKIM, DMARC, ...), as BIND zone text."""

from __future__ import annotations

import re
from collections.abc import Sequence

from postroom.domain.domain_records import MX_PRIORITY, DnsRecord, Purpose, RecordType

# A TXT record is a list of character-strings of at most 255 bytes each (RFC 1035 §3.3).
TXT_CHUNK = 255
DEFAULT_TTL = 3600

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*$"
)

_EXPLAINED = {
    Purpose.INBOUND_MX: "MX: mail addressed to @{domain} is delivered to {value}.",
    Purpose.SUBDOMAIN_MX: "MX: mail to any subdomain of {domain} (agent@eu.{domain}) is delivered to {value}.",
    Purpose.RETURN_PATH_MX: "MX: bounces come back to the return path, {name}.",
    Purpose.RETURN_PATH_SPF: "SPF: the hosts allowed to send mail with the return path {name} as envelope sender.",
    Purpose.APEX_SPF: "SPF: the hosts allowed to send mail with this domain in the envelope sender.",
    Purpose.DKIM: "DKIM: the public key receivers use to check signatures made with selector {selector}.",
    Purpose.DMARC: "DMARC: what receivers should do with mail that fails SPF and DKIM alignment.",
}


def zone_file(
    *,
    domain: str,
    mail_host: str,
    selector: str,
    dkim_txt: str,
    spf_include: Sequence[str] = (),
    dmarc_rua: str | None = None,
) -> str:
    """The default domain's zone: MX and SPF on the apex (its return path is on the apex), DKIM and DMARC."""
    return render_zone(domain, default_domain_records(domain, mail_host, selector, dkim_txt, spf_include, dmarc_rua))


def default_domain_records(
    domain: str,
    mail_host: str,
    selector: str,
    dkim_txt: str,
    spf_include: Sequence[str] = (),
    dmarc_rua: str | None = None,
) -> list[DnsRecord]:
    domain = _hostname(domain, "domain")
    mail_host = _hostname(mail_host, "mail_host")
    selector = _hostname(selector, "selector")
    includes = [_hostname(include, "spf_include") for include in spf_include]
    spf = " ".join(["v=spf1", "mx", f"a:{mail_host}", *(f"include:{include}" for include in includes), "~all"])
    dmarc = "v=DMARC1; p=quarantine"
    if dmarc_rua:
        dmarc += f"; rua={_mailto(dmarc_rua)}"
    return [
        DnsRecord(Purpose.INBOUND_MX, RecordType.MX, domain, mail_host, MX_PRIORITY),
        DnsRecord(Purpose.APEX_SPF, RecordType.TXT, domain, spf),
        DnsRecord(Purpose.DKIM, RecordType.TXT, f"{selector}._domainkey.{domain}", dkim_txt),
        DnsRecord(Purpose.DMARC, RecordType.TXT, f"_dmarc.{domain}", dmarc),
    ]


def render_zone(domain: str, records: Sequence[DnsRecord]) -> str:
    """BIND zone text with ``$ORIGIN <domain>.``: each record under a comment saying what it is for."""
    domain = _hostname(domain, "domain")
    lines = [
        f"; DNS records for sending and receiving mail as {domain} through Postroom.",
        f"$ORIGIN {domain}.",
        f"$TTL {DEFAULT_TTL}",
    ]
    for record in records:
        selector = record.name.split("._domainkey.", 1)[0]
        lines.append("; " + _EXPLAINED[record.purpose].format(domain=domain, **vars(record), selector=selector))
        lines.append(f"{_relative(record.name, domain)}\tIN\t{record.type.value}\t{_rdata(record)}")
    return "\n".join(lines) + "\n"


def _relative(name: str, domain: str) -> str:
    if name == domain:
        return "@"
    return name.removesuffix("." + domain)


def _rdata(record: DnsRecord) -> str:
    if record.type is RecordType.MX:
        return f"{record.priority if record.priority is not None else MX_PRIORITY} {_hostname(record.value, 'mx')}."
    if record.type is RecordType.CNAME:
        return f"{_hostname(record.value, 'cname')}."
    return _txt(record.value)


def is_fully_qualified(name: str) -> bool:
    """A dotted DNS host name whose last label is not numeric (what ``reject_non_fqdn_helo_hostname`` wants)."""
    name = name.strip().rstrip(".")
    return bool(_HOSTNAME.match(name)) and "." in name and not name.rpartition(".")[2].isdigit()


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
