"""Pure rules of inbound trust: DMARC records and alignment, list evaluation, Received parsing, header prepending."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postroom.domain.authentication import DmarcResult, Verdict
from postroom.domain.dmarc import InvalidRecord, aligned, applicable_policy, parse_record, sampled_policy
from postroom.domain.lists import ListEntry, decide, match_keys, normalize_entry
from postroom.domain.spam import SpamEnvelope, SpamVerdict
from postroom.errors import InvalidInput, Refused
from postroom.mime.received import received_from
from postroom.services.mail.trace import prepend_headers
from postroom.services.trust.authentication import Connection, InboundAuthenticator
from postroom.services.trust.dmarc import organizational_domain
from postroom.services.trust.relays import parse_networks
from postroom.services.trust.screening import Screening
from postroom.smtp.replies import reply_for

NOW = datetime(2025, 1, 6, tzinfo=UTC)


def test_dmarc_record_tags() -> None:
    record = parse_record("v=DMARC1; p=reject; sp=none; pct=25; adkim=s; aspf=s; rua=mailto:d@example.org")
    assert (record.policy, record.subdomain_policy, record.percent, record.dkim_mode, record.spf_mode) == (
        "reject",
        "none",
        25,
        "s",
        "s",
    )
    assert parse_record("v=DMARC1;p=quarantine").percent == 100
    assert parse_record("v=DMARC1; rua=mailto:d@example.org").policy == "none"  # RFC 7489 §6.6.3 step 6
    for broken in ("v=DMARC1; p=maybe", "v=DMARC1; p", "p=reject"):
        with pytest.raises(InvalidRecord):
            parse_record(broken)


def test_policy_for_the_from_domain_and_its_subdomains() -> None:
    record = parse_record("v=DMARC1; p=none; sp=reject")
    assert applicable_policy(record, found_at_from_domain=True) == "none"
    assert applicable_policy(record, found_at_from_domain=False) == "reject"
    assert applicable_policy(parse_record("v=DMARC1; p=quarantine"), found_at_from_domain=False) == "quarantine"


def test_pct_samples_and_falls_back_one_step() -> None:
    assert sampled_policy("reject", 100, 0.999) == "reject"
    assert sampled_policy("reject", 0, 0.0) == "quarantine"
    assert sampled_policy("reject", 50, 0.49) == "reject"
    assert sampled_policy("reject", 50, 0.5) == "quarantine"
    assert sampled_policy("quarantine", 0, 0.1) == "none"


def test_alignment_relaxed_and_strict() -> None:
    assert organizational_domain("mail.example.co.uk") == "example.co.uk"
    assert organizational_domain("a.b.example.test") == "example.test"
    assert aligned("bounce.example.org", "example.org", "r", organizational_domain)
    assert not aligned("bounce.example.org", "example.org", "s", organizational_domain)
    assert not aligned("example.co.uk", "other.co.uk", "r", organizational_domain)  # a public suffix is no org
    assert not aligned("", "example.org", "r", organizational_domain)


def test_what_counts_as_authenticated() -> None:
    assert Verdict(local_sender="a@postroom.localhost").authenticated
    assert Verdict(dmarc=DmarcResult("pass", "x.test")).authenticated
    assert Verdict(aligned_pass=True, dmarc=DmarcResult("none", "x.test")).authenticated
    assert not Verdict(aligned_pass=True, dmarc=DmarcResult("temperror", "x.test")).authenticated
    assert not Verdict(dmarc=DmarcResult("none", "x.test")).authenticated
    rejecting = Verdict(dmarc=DmarcResult("fail", "x.test", policy="reject", disposition="reject"))
    assert rejecting.refusal is not None
    assert "x.test" in rejecting.refusal
    sampled_out = Verdict(dmarc=DmarcResult("fail", "x.test", policy="reject", disposition="quarantine"))
    assert sampled_out.refusal is None


def entry(scope: str, list_type: str, value: str, direction: str = "receive") -> ListEntry:
    pod_id = "pod_1" if scope in ("pod", "inbox") else None
    inbox_id = "agent@postroom.localhost" if scope == "inbox" else None
    kind = "email" if "@" in value else "domain"
    return ListEntry("org_1", pod_id, inbox_id, direction, list_type, value, kind, None, False, NOW)  # type: ignore[arg-type]


SCOPES = ["agent@postroom.localhost", "pod_1", "org_1"]


def judge(address: str, *entries: ListEntry) -> bool:
    keys = set(match_keys(address))
    matches = [item for item in entries if item.entry in keys]
    allow = {item.scope_id for item in entries if item.list_type == "allow"}
    return decide(address, "receive", SCOPES, matches, allow).allowed


@pytest.mark.parametrize(
    ("address", "entries", "allowed"),
    [
        ("a@x.test", [], True),
        ("a@x.test", [entry("org", "block", "a@x.test")], False),
        ("a@x.test", [entry("org", "block", "x.test")], False),
        ("a@mail.x.test", [entry("org", "block", "x.test")], False),  # a domain entry covers subdomains
        ("a@notx.test", [entry("org", "block", "x.test")], True),
        ("a+news@x.test", [entry("org", "block", "a@x.test")], False),  # +tag addresses match the untagged entry
        ("a@x.test", [entry("org", "block", "a+news@x.test")], True),  # a tagged entry only matches that tag
        ("A@X.TEST", [entry("org", "block", "a@x.test")], False),  # case-insensitive
        # the narrowest scope with a match decides
        ("a@x.test", [entry("org", "block", "x.test"), entry("inbox", "allow", "a@x.test")], True),
        ("a@x.test", [entry("org", "allow", "x.test"), entry("pod", "block", "a@x.test")], False),
        ("a@x.test", [entry("pod", "allow", "x.test"), entry("inbox", "block", "x.test")], False),
        # inside one scope the most specific entry wins, block beats allow at the same rank
        ("a@x.test", [entry("org", "block", "x.test"), entry("org", "allow", "a@x.test")], True),
        ("a@x.test", [entry("org", "allow", "x.test"), entry("org", "block", "a@x.test")], False),
        ("a@x.test", [entry("org", "allow", "a@x.test"), entry("org", "block", "a@x.test")], False),
        # a non-empty allow list admits only its entries
        ("a@x.test", [entry("inbox", "allow", "b@x.test")], False),
        ("a@x.test", [entry("org", "allow", "y.test")], False),
        ("a@y.test", [entry("org", "allow", "y.test")], True),
    ],
)
def test_list_evaluation_table(address: str, entries: list[ListEntry], allowed: bool) -> None:
    assert judge(address, *entries) is allowed


def test_entries_are_normalised_addresses_or_domains() -> None:
    assert normalize_entry(" Bob@Example.ORG ") == ("bob@example.org", "email")
    assert normalize_entry("Example.org.") == ("example.org", "domain")
    assert normalize_entry("bücher.example") == ("xn--bcher-kva.example", "domain")
    for bad in ("", "nodots", "a@b", "@x.test", "a b@x.test", "-x.test", "a@@x.test"):
        with pytest.raises(InvalidInput):
            normalize_entry(bad)


def test_received_from_clauses() -> None:
    raw = (
        b"Received: from mx.sender.test (mx.sender.test [192.0.2.7])\r\n\tby relay.example.net; Mon, 6 Jan 2025\r\n"
        b"Received: from [IPv6:2001:db8::1] (unknown [IPv6:2001:db8::1]) by mx.sender.test\r\n"
        b"Received: by internal.host with local\r\n"
        b"From: a@sender.test\r\n\r\nbody\r\n"
    )
    first, second, third = received_from(raw)
    assert (first.helo, first.ip) == ("mx.sender.test", "192.0.2.7")
    assert (second.helo, second.ip) == ("IPv6:2001:db8::1", "2001:db8::1")
    assert (third.helo, third.ip) == (None, None)


def test_trusted_relay_networks() -> None:
    assert [str(n) for n in parse_networks("10.0.0.5, 192.0.2.0/24 ,::1")] == ["10.0.0.5/32", "192.0.2.0/24", "::1/128"]
    with pytest.raises(ValueError, match=r"relay\.example"):
        parse_networks("relay.example")


def test_prepended_headers_keep_the_message_bytes_and_its_line_endings() -> None:
    raw = b"From: a@x.test\r\nSubject: hi\r\n\r\nbody\r\n"
    long_value = "mx.test; spf=pass smtp.mailfrom=a@x.test; dkim=pass header.d=x.test; dmarc=pass header.from=x.test"
    stored = prepend_headers(raw, [("Authentication-Results", long_value), ("X-Spam-Status", "No, score=0.00")])
    assert stored.endswith(raw)
    added = stored[: -len(raw)]
    assert all(len(line) <= 80 for line in added.split(b"\r\n"))
    assert added.startswith(b"Authentication-Results: mx.test; spf=pass smtp.mailfrom=a@x.test;\r\n\tdkim=pass")
    assert added.endswith(b"X-Spam-Status: No, score=0.00\r\n")
    assert prepend_headers(b"From: a@x.test\n\nbody\n", [("A", "b")]) == b"A: b\nFrom: a@x.test\n\nbody\n"


class NoRecords:
    def lookup(self, name: str, rdtype: str) -> list[str]:
        return []


class FixedSpam:
    failures = 0
    description = "fixed"

    def __init__(self, verdict: SpamVerdict | None) -> None:
        self.verdict = verdict

    def classify(self, raw: bytes, envelope: SpamEnvelope) -> SpamVerdict | None:
        return self.verdict


@pytest.mark.parametrize(
    ("action", "reply"),
    [("reject", "550 5.7.1 Message classified as spam"), ("soft reject", "451 4.7.1 Message looks suspicious")],
)
def test_rspamd_refusals_become_smtp_replies(action: str, reply: str) -> None:
    screening = Screening(InboundAuthenticator(NoRecords(), "mx.test"), FixedSpam(SpamVerdict(action, 20.0, 15.0)))
    with pytest.raises(Refused) as refused:
        screening.from_smtp(b"From: a@x.test\r\n\r\nhi\r\n", "a@x.test", ["b@y.test"], Connection("127.0.0.1", None))
    assert reply_for(refused.value).startswith(reply)


def test_spam_actions_and_the_status_header() -> None:
    assert SpamVerdict("add header", 7.5, 15.0).is_spam
    assert SpamVerdict("rewrite subject", 9.0).is_spam
    assert not SpamVerdict("greylist", 4.0).is_spam  # Postroom does not greylist: delivered as usual
    assert SpamVerdict("add header", 7.5, 15.0).status_header() == "Yes, score=7.50 required=15.00 action=add header"
    screening = Screening(InboundAuthenticator(NoRecords(), "mx.test"), FixedSpam(None))
    screened = screening.from_smtp(b"From: a@x.test\r\n\r\nhi\r\n", None, ["b@y.test"], Connection("::1", "h"))
    assert [name for name, _ in screened.trace] == ["Authentication-Results"]  # unclassified: no spam header
    assert not screened.verdict.authenticated
