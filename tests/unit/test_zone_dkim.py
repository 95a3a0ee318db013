"""DKIM keys published through the zone text verify the signatures Postroom makes."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import dkim
import dns.name
import dns.rdatatype
import dns.zone
import pytest

from postroom.delivery.dkim import DkimKey, generate_key, public_txt, sign
from postroom.domain.zone import zone_file

DOMAIN = "agents.example.org"
SELECTOR = "pr2026"


@pytest.fixture(scope="module")
def key() -> DkimKey:
    return generate_key(DOMAIN, SELECTOR)


@pytest.fixture(scope="module")
def zone_text(key: DkimKey) -> str:
    return zone_file(
        domain=DOMAIN,
        mail_host="mx.agents.example.org",
        selector=SELECTOR,
        dkim_txt=public_txt(key),
        spf_include=["_spf.mailer.example.net"],
        dmarc_rua="dmarc-reports@example.org",
    )


def txt_records(zone_text: str) -> dict[str, list[bytes]]:
    """Every TXT record in the zone text, by absolute name, each as its joined character-strings."""
    zone = dns.zone.from_text(zone_text, check_origin=False)
    found: dict[str, list[bytes]] = {}
    for name, _ttl, rdata in zone.iterate_rdatas(dns.rdatatype.TXT):
        absolute = name.derelativize(zone.origin).to_text()
        found.setdefault(absolute, []).append(b"".join(rdata.strings))
    return found


def compose() -> bytes:
    message = EmailMessage()
    message["From"] = f"Support Agent <support@{DOMAIN}>"
    message["To"] = "Customer <customer@example.net>"
    message["Cc"] = "audit@example.net"
    message["Subject"] = "Your order 4711 has shipped"
    message["Date"] = format_datetime(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    message["Message-ID"] = make_msgid(domain=DOMAIN)
    message.set_content("Hello,\n\nyour parcel is on its way.\n.\nA line starting with a dot, too.\n")
    message.add_alternative("<p>Hello,</p><p>your parcel is on its way.</p>", subtype="html")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def dns_from_zone(zone_text: str):  # type: ignore[no-untyped-def]
    records = txt_records(zone_text)

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        values = records.get(name.decode("ascii").lower())
        return values[0] if values else None

    return lookup


def test_a_signature_verifies_against_the_key_published_in_the_zone(key: DkimKey, zone_text: str) -> None:
    signed = sign(compose(), key)

    assert signed.startswith(b"DKIM-Signature: ")
    assert dkim.verify(signed, dnsfunc=dns_from_zone(zone_text))


def test_one_changed_body_byte_breaks_the_signature(key: DkimKey, zone_text: str) -> None:
    signed = sign(compose(), key)
    tampered = signed.replace(b"parcel", b"parceL", 1)

    assert tampered != signed
    assert not dkim.verify(tampered, dnsfunc=dns_from_zone(zone_text))


def test_a_signature_from_another_key_does_not_verify(zone_text: str) -> None:
    impostor = generate_key(DOMAIN, SELECTOR)

    assert not dkim.verify(sign(compose(), impostor), dnsfunc=dns_from_zone(zone_text))


def test_present_headers_are_signed_relaxed_and_from_is_oversigned(key: DkimKey) -> None:
    signed = sign(compose(), key)
    signature = dkim.util.parse_tag_value(signed.split(b"\r\n\r\n", 1)[0].split(b"DKIM-Signature:", 1)[1])
    signed_headers = [name.strip() for name in signature[b"h"].split(b":")]

    assert signature[b"c"] == b"relaxed/relaxed"
    assert signature[b"a"] == b"rsa-sha256"
    assert signature[b"d"] == DOMAIN.encode()
    assert signature[b"s"] == SELECTOR.encode()
    assert signed_headers == [
        b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"mime-version", b"content-type", b"from",
    ]  # fmt: skip


def test_a_message_with_bare_newlines_is_signed_in_kind(key: DkimKey, zone_text: str) -> None:
    raw = compose().replace(b"\r\n", b"\n")
    signed = sign(raw, key)

    assert b"\r\n" not in signed
    assert dkim.verify(signed, dnsfunc=dns_from_zone(zone_text))


def test_the_zone_parses_into_the_records_an_operator_needs(key: DkimKey, zone_text: str) -> None:
    zone = dns.zone.from_text(zone_text, check_origin=False)
    records = txt_records(zone_text)

    assert zone.origin == dns.name.from_text(DOMAIN)
    [mx] = zone.find_rdataset("@", "MX")
    assert (mx.preference, mx.exchange.derelativize(zone.origin).to_text()) == (10, "mx.agents.example.org.")
    assert records[f"{DOMAIN}."] == [b"v=spf1 mx a:mx.agents.example.org include:_spf.mailer.example.net ~all"]
    assert records[f"_dmarc.{DOMAIN}."] == [b"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.org"]
    assert records[f"{SELECTOR}._domainkey.{DOMAIN}."] == [public_txt(key).encode()]
    assert "; DKIM" in zone_text
    assert "; MX" in zone_text


def test_the_dkim_key_is_split_into_character_strings_bind_accepts(key: DkimKey) -> None:
    text = zone_file(domain=DOMAIN, mail_host="mx.example.org", selector=SELECTOR, dkim_txt=public_txt(key))
    zone = dns.zone.from_text(text, check_origin=False)
    [record] = zone.find_rdataset(f"{SELECTOR}._domainkey", "TXT")

    assert len(public_txt(key)) > 255
    assert len(record.strings) > 1
    assert all(len(part) <= 255 for part in record.strings)


def test_without_a_report_address_dmarc_has_no_rua() -> None:
    text = zone_file(domain="b.test", mail_host="mail.b.test", selector="s1", dkim_txt="v=DKIM1; k=rsa; p=AAAA")

    assert txt_records(text)["_dmarc.b.test."] == [b"v=DMARC1; p=quarantine"]
    assert txt_records(text)["b.test."] == [b"v=spf1 mx a:mail.b.test ~all"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("domain", "bad domain"), ("mail_host", "mail..b.test"), ("selector", 's1"; evil'), ("dmarc_rua", "nobody")],
)
def test_malformed_names_are_refused_with_the_field_named(field: str, value: str) -> None:
    arguments = {"domain": "b.test", "mail_host": "mail.b.test", "selector": "s1", "dkim_txt": "v=DKIM1; p=AA"}
    arguments[field] = value

    with pytest.raises(ValueError, match=field):
        zone_file(**arguments)  # type: ignore[arg-type]


def test_a_pkcs8_key_signs_as_well(key: DkimKey, zone_text: str) -> None:
    from cryptography.hazmat.primitives import serialization

    loaded = serialization.load_pem_private_key(key.private_pem, password=None)
    pkcs8 = loaded.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    same_key = DkimKey(domain=DOMAIN, selector=SELECTOR, private_pem=pkcs8)

    assert public_txt(same_key) == public_txt(key)
    assert dkim.verify(sign(compose(), same_key), dnsfunc=dns_from_zone(zone_text))


def test_the_private_key_stays_out_of_repr(key: DkimKey) -> None:
    assert "PRIVATE" not in repr(key)
