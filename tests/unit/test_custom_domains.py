"""Custom domain rules without I/O: names, the records to publish, judging DNS answers, status and check schedule."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import dns.zone
import pytest

from postroom.domain.custom_domains import (
    CustomDomain,
    DomainStatus,
    ancestors,
    check_delay,
    next_check,
    settle,
    verdict,
)
from postroom.domain.domain_records import (
    CheckedRecord,
    DnsRecord,
    Purpose,
    RecordStatus,
    RecordType,
    custom_domain_records,
    judge,
    merge,
)
from postroom.domain.return_path import ReturnPaths
from postroom.domain.zone import render_zone
from postroom.errors import InvalidInput
from postroom.services.domains.names import normalize_domain_name, parse_domain_id, registrable_part

MAIL_HOST = "mx.postroom.test"
DKIM = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + "Q" * 300
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def records(*, inbound: bool = True, subdomains: bool = False) -> list[DnsRecord]:
    return custom_domain_records(
        "example.test", mail_host=MAIL_HOST, selector="postroom", dkim_txt=DKIM, inbound=inbound, subdomains=subdomains
    )


def record(purpose: Purpose, **options: bool) -> DnsRecord:
    return next(r for r in records(**options) if r.purpose is purpose)


def domain(status: DomainStatus = DomainStatus.NOT_STARTED) -> CustomDomain:
    return CustomDomain(
        domain_id="example.test",
        organization_id="org_1",
        pod_id=None,
        feedback_enabled=True,
        inbound_enabled=True,
        subdomains_enabled=False,
        tracking_enabled=False,
        client_id=None,
        status=status,
        reason=None,
        records=[],
        dkim_selector="postroom",
        dkim_private_pem=b"-----BEGIN RSA PRIVATE KEY-----",
        dkim_txt=DKIM,
        verified_at=None,
        checking_since=T0,
        next_check_at=None,
        check_lease_until=None,
        created_at=T0,
        updated_at=T0,
    )


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("eu.mail.example.co.uk", "eu.mail.example.co.uk"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("example.test", "example.test"),
        ("agents.localhost", "agents.localhost"),
        ("someone.github.io", "someone.github.io"),
    ],
)
def test_names_are_normalised(raw: str, normalised: str) -> None:
    assert normalize_domain_name(raw) == normalised
    assert parse_domain_id(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    ["", "com", "co.uk", "github.io", "test", "example", "a..b.com", "-a.com", "a_b.com", "ex ample.com",
     " example.com", "1.2.3.4", "foo.invalid", "foo.local", "foo.notarealtld", "x" * 64 + ".com", "a@b.com",
     "a" * 250 + ".com", "*.example.com"],
)  # fmt: skip
def test_names_that_are_not_registrable_host_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_domain_name(raw)
    assert caught.value.errors[0].path == "domain"
    assert parse_domain_id(raw) is None


def test_the_registrable_part_uses_the_public_suffix_list() -> None:
    assert registrable_part("eu.example.co.uk") == "example.co.uk"
    assert registrable_part("a.b.example.test") == "example.test"
    assert registrable_part("co.uk") is None
    assert ancestors("a.b.example.test") == ["a.b.example.test", "b.example.test", "example.test"]


def test_the_records_follow_the_settings() -> None:
    names = {(r.purpose, r.type, r.name) for r in records(subdomains=True)}
    assert names == {
        (Purpose.INBOUND_MX, RecordType.MX, "example.test"),
        (Purpose.SUBDOMAIN_MX, RecordType.MX, "*.example.test"),
        (Purpose.RETURN_PATH_MX, RecordType.MX, "bounces.example.test"),
        (Purpose.RETURN_PATH_SPF, RecordType.TXT, "bounces.example.test"),
        (Purpose.DKIM, RecordType.TXT, "postroom._domainkey.example.test"),
        (Purpose.DMARC, RecordType.TXT, "_dmarc.example.test"),
    }
    send_only = {r.purpose for r in records(inbound=False, subdomains=True)}
    assert Purpose.INBOUND_MX not in send_only
    assert Purpose.SUBDOMAIN_MX not in send_only
    assert record(Purpose.RETURN_PATH_SPF).value == f"v=spf1 a:{MAIL_HOST} ~all"


def test_the_zone_file_parses_into_the_same_records() -> None:
    zone = dns.zone.from_text(render_zone("example.test", records(subdomains=True)), check_origin=False)
    found = {}
    for name, _ttl, rdata in zone.iterate_rdatas():
        absolute = name.derelativize(zone.origin).to_text().rstrip(".")
        found[(absolute, rdata.rdtype.name)] = rdata
    assert found[("*.example.test", "MX")].exchange.to_text() == f"{MAIL_HOST}."
    assert found[("bounces.example.test", "MX")].preference == 10
    dkim_rdata = found[("postroom._domainkey.example.test", "TXT")]
    assert b"".join(dkim_rdata.strings).decode() == DKIM
    assert b"".join(found[("_dmarc.example.test", "TXT")].strings) == b"v=DMARC1; p=quarantine"


MX = Purpose.INBOUND_MX


@pytest.mark.parametrize(
    ("answers", "status", "reason"),
    [
        ([], RecordStatus.MISSING, None),
        ([f"10 {MAIL_HOST}."], RecordStatus.VALID, None),
        ([f"10 {MAIL_HOST.upper()}."], RecordStatus.VALID, None),
        ([f"10 {MAIL_HOST}.", "20 backup.example.net."], RecordStatus.VALID, None),
        (["10 aspmx.l.google.com."], RecordStatus.INVALID, "value_mismatch"),
        ([f"20 {MAIL_HOST}.", "10 other.example.net."], RecordStatus.INVALID, "duplicate_records"),
        ([f"10 {MAIL_HOST}.", "10 other.example.net."], RecordStatus.INVALID, "duplicate_records"),
    ],
)
def test_mx_answers(answers: list[str], status: RecordStatus, reason: str | None) -> None:
    assert judge(record(MX), answers) == CheckedRecord(record(MX), status, reason)


SPF = Purpose.RETURN_PATH_SPF


@pytest.mark.parametrize(
    ("answers", "status", "reason"),
    [
        ([], RecordStatus.MISSING, None),
        (["google-site-verification=abc"], RecordStatus.MISSING, None),
        ([f"v=spf1 a:{MAIL_HOST} ~all"], RecordStatus.VALID, None),
        ([f"v=spf1 include:relay.example.net +a:{MAIL_HOST} -all", "other=1"], RecordStatus.VALID, None),
        (["v=spf1 include:_spf.google.com ~all"], RecordStatus.INVALID, "value_mismatch"),
        ([f"v=spf1 a:{MAIL_HOST} ~all", "v=spf1 mx ~all"], RecordStatus.INVALID, "duplicate_records"),
    ],
)
def test_spf_answers(answers: list[str], status: RecordStatus, reason: str | None) -> None:
    assert judge(record(SPF), answers) == CheckedRecord(record(SPF), status, reason)


DKIM_RECORD = Purpose.DKIM


@pytest.mark.parametrize(
    ("answers", "status", "reason"),
    [
        ([], RecordStatus.MISSING, None),
        ([DKIM], RecordStatus.VALID, None),
        ([DKIM.replace("; p=", ";  p= ").replace("QQQQ", "QQ QQ", 1)], RecordStatus.VALID, None),
        (["v=DKIM1; k=rsa; p=MIIBwrongkey"], RecordStatus.INVALID, "value_mismatch"),
        ([DKIM, "v=DKIM1; k=rsa; p=MIIBother"], RecordStatus.INVALID, "duplicate_records"),
        ([DKIM.replace("k=rsa", "k=ed25519")], RecordStatus.INVALID, "value_mismatch"),
    ],
)
def test_dkim_answers(answers: list[str], status: RecordStatus, reason: str | None) -> None:
    assert judge(record(DKIM_RECORD), answers) == CheckedRecord(record(DKIM_RECORD), status, reason)


DMARC = Purpose.DMARC


@pytest.mark.parametrize(
    ("answers", "status", "reason"),
    [
        ([], RecordStatus.MISSING, None),
        (["v=DMARC1; p=quarantine"], RecordStatus.VALID, None),
        (["v=DMARC1; p=reject; rua=mailto:d@example.test"], RecordStatus.VALID, None),
        (["v=DMARC1; p=none"], RecordStatus.VALID, None),
        (["v=DMARC1; rua=mailto:d@example.test"], RecordStatus.INVALID, "value_mismatch"),
        (["v=DMARC1; p=none", "v=DMARC1; p=reject"], RecordStatus.INVALID, "duplicate_records"),
    ],
)
def test_dmarc_answers(answers: list[str], status: RecordStatus, reason: str | None) -> None:
    assert judge(record(DMARC), answers) == CheckedRecord(record(DMARC), status, reason)


def test_a_domain_is_as_good_as_its_worst_record() -> None:
    valid = [CheckedRecord(r, RecordStatus.VALID) for r in records()]
    assert verdict(valid) == (DomainStatus.VERIFIED, None)
    one_missing = [*valid[:-1], CheckedRecord(valid[-1].record, RecordStatus.MISSING)]
    assert verdict(one_missing) == (DomainStatus.PENDING, "dns_records_missing")
    one_wrong = [CheckedRecord(valid[0].record, RecordStatus.INVALID, "value_mismatch"), *one_missing[1:]]
    assert verdict(one_wrong) == (DomainStatus.INVALID, "dns_records_invalid")


def test_records_keep_their_status_only_while_they_stay_the_same() -> None:
    checked = [CheckedRecord(r, RecordStatus.VALID) for r in records()]
    merged = merge(records(subdomains=True), checked)
    assert {c.record.purpose: c.status for c in merged}[Purpose.SUBDOMAIN_MX] is RecordStatus.MISSING
    assert all(c.status is RecordStatus.VALID for c in merged if c.record.purpose is not Purpose.SUBDOMAIN_MX)


def test_checks_back_off_from_minutes_to_hourly_and_fail_after_72_hours() -> None:
    assert check_delay(timedelta(0)) == timedelta(minutes=1)
    assert check_delay(timedelta(minutes=20)) == timedelta(minutes=5)
    assert check_delay(timedelta(hours=30)) == timedelta(hours=1)
    subject = domain()
    missing = [CheckedRecord(r, RecordStatus.MISSING) for r in records()]
    moments = []
    now = T0
    while subject.status is not DomainStatus.FAILED:
        settle(subject, missing, now, checked=True)
        assert subject.next_check_at is not None or subject.status is DomainStatus.FAILED
        moments.append(now)
        if subject.next_check_at is None:
            break
        now = subject.next_check_at
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert gaps[0] == timedelta(minutes=1)
    assert gaps == sorted(gaps)
    assert max(gaps) == timedelta(hours=1)
    assert moments[-1] - T0 >= timedelta(hours=72)
    assert moments[-2] - T0 < timedelta(hours=72)
    assert subject.next_check_at is None  # never verified: nobody checks a FAILED domain until asked
    assert subject.reason == "dns_records_missing"


def test_a_verified_domain_is_checked_daily_and_a_lost_record_only_makes_it_pending() -> None:
    subject = domain()
    valid = [CheckedRecord(r, RecordStatus.VALID) for r in records()]
    assert settle(subject, valid, T0, checked=True) is True
    assert (subject.status, subject.verified_at, subject.next_check_at) == (
        DomainStatus.VERIFIED,
        T0,
        T0 + timedelta(days=1),
    )
    assert settle(subject, valid, T0 + timedelta(days=1), checked=True) is False  # no second domain.verified
    later = T0 + timedelta(days=2)
    lost = [*valid[:-1], CheckedRecord(valid[-1].record, RecordStatus.MISSING)]
    assert settle(subject, lost, later, checked=True) is False
    assert (subject.status, subject.reason) == (DomainStatus.PENDING, "dns_records_missing")
    assert subject.mail_flows
    assert subject.checking_since == later
    assert next_check(subject, later) == later + timedelta(minutes=1)
    after_window = later + timedelta(hours=73)
    settle(subject, lost, after_window, checked=True)
    assert subject.status is DomainStatus.FAILED
    assert subject.next_check_at == after_window + timedelta(days=1)  # once verified: still checked daily


def test_return_paths_of_custom_domains_are_bound_to_their_host() -> None:
    paths = ReturnPaths(b"k" * 32, "postroom.localhost")
    address = paths.address("msg_01hzzzzzzzzzzzzzzzzzzzzzzz", "bounces.example.test")
    assert address.endswith("@bounces.example.test")
    assert paths.message_row(address) == "msg_01hzzzzzzzzzzzzzzzzzzzzzzz"
    local = address.split("@")[0]
    assert paths.message_row(f"{local}@bounces.other.test") is None
    assert paths.message_row(f"{local}@postroom.localhost") is None
