"""The DNS records a custom domain publishes (spec §2 VerificationRecord), and how DNS answers are judged.

``judge`` compares what DNS returned at a record's name with the record Postroom asks for:

- MX (apex, ``*`` for subdomains, the return-path host): our mail host must be there, with the best (lowest)
  preference and no other host sharing it (backup MX hosts with a higher preference are fine).
- SPF (TXT at the return-path host): exactly one ``v=spf1`` record, holding every mechanism of ours
  (``a:<mail host>``); more mechanisms and any ``all`` qualifier are the owner's business.
- DKIM (TXT at ``<selector>._domainkey``): exactly one key record, whose ``p=`` is our public key.
- DMARC (TXT at ``_dmarc``): exactly one ``v=DMARC1`` record with a policy ``p=`` of none, quarantine or reject.

Nothing at the name is MISSING; a wrong value is INVALID ``value_mismatch``; two SPF, DKIM or DMARC records (or
another MX host as preferred as ours) are INVALID ``duplicate_records``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

RETURN_PATH_LABEL = "bounces"  # the return-path (bounce) host is bounces.<domain>: its own MX and SPF record
MX_PRIORITY = 10
VALUE_MISMATCH = "value_mismatch"
DUPLICATE_RECORDS = "duplicate_records"
DMARC_POLICIES = frozenset({"none", "quarantine", "reject"})


class RecordType(enum.StrEnum):
    MX = "MX"
    TXT = "TXT"
    CNAME = "CNAME"


class RecordStatus(enum.StrEnum):
    MISSING = "MISSING"
    INVALID = "INVALID"
    VALID = "VALID"


class Purpose(enum.StrEnum):
    INBOUND_MX = "inbound_mx"  # mail to @domain comes here
    SUBDOMAIN_MX = "subdomain_mx"  # mail to @any.sub.domain comes here
    RETURN_PATH_MX = "return_path_mx"  # bounces to the return path come here
    RETURN_PATH_SPF = "return_path_spf"  # this server may send with the return path as envelope sender
    APEX_SPF = "apex_spf"  # the default domain's own SPF (its return path is on the apex)
    DKIM = "dkim"
    DMARC = "dmarc"


@dataclass(frozen=True)
class DnsRecord:
    purpose: Purpose
    type: RecordType
    name: str  # fully qualified, lower case, no trailing dot
    value: str
    priority: int | None = None

    def same_as(self, other: DnsRecord) -> bool:
        return (self.type, self.name, self.value, self.priority) == (
            other.type,
            other.name,
            other.value,
            other.priority,
        )


@dataclass(frozen=True)
class CheckedRecord:
    record: DnsRecord
    status: RecordStatus
    reason: str | None = None


def return_path_host(domain: str) -> str:
    return f"{RETURN_PATH_LABEL}.{domain}"


def spf_value(mail_host: str) -> str:
    return f"v=spf1 a:{mail_host} ~all"


def custom_domain_records(
    domain: str, *, mail_host: str, selector: str, dkim_txt: str, inbound: bool, subdomains: bool
) -> list[DnsRecord]:
    """What a custom domain publishes: MX (apex and ``*`` when receiving), the return-path host, DKIM, DMARC."""
    records = []
    if inbound:
        records.append(DnsRecord(Purpose.INBOUND_MX, RecordType.MX, domain, mail_host, MX_PRIORITY))
        if subdomains:
            records.append(DnsRecord(Purpose.SUBDOMAIN_MX, RecordType.MX, f"*.{domain}", mail_host, MX_PRIORITY))
    bounce_host = return_path_host(domain)
    records += [
        DnsRecord(Purpose.RETURN_PATH_MX, RecordType.MX, bounce_host, mail_host, MX_PRIORITY),
        DnsRecord(Purpose.RETURN_PATH_SPF, RecordType.TXT, bounce_host, spf_value(mail_host)),
        DnsRecord(Purpose.DKIM, RecordType.TXT, f"{selector}._domainkey.{domain}", dkim_txt),
        DnsRecord(Purpose.DMARC, RecordType.TXT, f"_dmarc.{domain}", "v=DMARC1; p=quarantine"),
    ]
    return records


def merge(expected: Sequence[DnsRecord], checked: Sequence[CheckedRecord]) -> list[CheckedRecord]:
    """The expected records with the status each had when last checked (MISSING when never checked as it is)."""
    merged = []
    for record in expected:
        found = next((c for c in checked if c.record.same_as(record)), None)
        merged.append(CheckedRecord(record, found.status, found.reason) if found else missing(record))
    return merged


def missing(record: DnsRecord) -> CheckedRecord:
    return CheckedRecord(record, RecordStatus.MISSING)


def judge(record: DnsRecord, answers: Sequence[str]) -> CheckedRecord:
    """The status of ``record`` given every record of its type DNS returned at its name (TXT strings joined)."""
    if record.type is RecordType.MX:
        status, reason = _judge_mx(record.value, answers)
    elif record.purpose in (Purpose.RETURN_PATH_SPF, Purpose.APEX_SPF):
        status, reason = _judge_spf(record.value, answers)
    elif record.purpose is Purpose.DKIM:
        status, reason = _judge_dkim(record.value, answers)
    elif record.purpose is Purpose.DMARC:
        status, reason = _judge_dmarc(answers)
    else:
        status, reason = _judge_exact(record.value, answers)
    return CheckedRecord(record, status, reason)


Verdict = tuple[RecordStatus, str | None]
_VALID: Verdict = (RecordStatus.VALID, None)
_MISSING: Verdict = (RecordStatus.MISSING, None)
_MISMATCH: Verdict = (RecordStatus.INVALID, VALUE_MISMATCH)
_DUPLICATES: Verdict = (RecordStatus.INVALID, DUPLICATE_RECORDS)


def _host(text: str) -> str:
    return text.strip().rstrip(".").lower()


def _judge_mx(mail_host: str, answers: Sequence[str]) -> Verdict:
    hosts = []
    for answer in answers:
        preference, _, exchange = answer.strip().partition(" ")
        if preference.isdigit():
            hosts.append((int(preference), _host(exchange)))
    if not hosts:
        return _MISSING
    ours = [preference for preference, host in hosts if host == _host(mail_host)]
    if not ours:
        return _MISMATCH
    best = min(ours)
    if any(preference <= best for preference, host in hosts if host != _host(mail_host)):
        return _DUPLICATES  # another host takes all or part of the mail
    return _VALID


def _spf_terms(text: str) -> set[str]:
    return {term.lower().lstrip("+") for term in text.split()[1:]}


def _is_spf(text: str) -> bool:
    words = text.strip().split()
    return bool(words) and words[0].lower() == "v=spf1"


def _judge_spf(expected: str, answers: Sequence[str]) -> Verdict:
    published = [answer for answer in answers if _is_spf(answer)]
    if not published:
        return _MISSING
    if len(published) > 1:
        return _DUPLICATES  # RFC 7208 §4.5: two SPF records are a permanent error for every receiver
    required = {term for term in _spf_terms(expected) if not term.endswith("all")}
    return _VALID if required <= _spf_terms(published[0]) else _MISMATCH


def tags(text: str) -> dict[str, str]:
    """``k=v; k=v`` tag lists of DKIM (RFC 6376 §3.2) and DMARC (RFC 7489 §6.4) records; keys lower-cased."""
    found = {}
    for part in text.split(";"):
        key, equals, value = part.partition("=")
        if equals:
            found[key.strip().lower()] = value.strip()
    return found


def _dkim_key(text: str) -> str | None:
    values = tags(text)
    if "p" not in values or values.get("k", "rsa").lower() != "rsa":
        return None
    return "".join(values["p"].split())


def _is_dkim(text: str) -> bool:
    values = tags(text)
    return "p" in values or values.get("v", "").upper() == "DKIM1"


def _judge_dkim(expected: str, answers: Sequence[str]) -> Verdict:
    published = [answer for answer in answers if _is_dkim(answer)]
    if not published:
        return _MISSING
    ours = _dkim_key(expected)
    matching = [answer for answer in published if ours is not None and _dkim_key(answer) == ours]
    if not matching:
        return _MISMATCH
    return _DUPLICATES if len(published) > 1 else _VALID


def _judge_dmarc(answers: Sequence[str]) -> Verdict:
    published = [answer for answer in answers if tags(answer).get("v", "").upper() == "DMARC1"]
    if not published:
        return _MISSING
    if len(published) > 1:
        return _DUPLICATES  # RFC 7489 §6.6.3: more than one record means no DMARC at all
    return _VALID if tags(published[0]).get("p", "").lower() in DMARC_POLICIES else _MISMATCH


def _judge_exact(expected: str, answers: Sequence[str]) -> Verdict:
    if not answers:
        return _MISSING
    if _host(expected) not in {_host(answer) for answer in answers}:
        return _MISMATCH
    return _DUPLICATES if len(answers) > 1 else _VALID
