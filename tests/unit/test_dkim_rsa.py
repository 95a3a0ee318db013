"""DKIM signatures made through OpenSSL are byte for byte dkimpy's own, and dkimpy verifies them."""

from __future__ import annotations

import dkim
import pytest

from postroom.delivery import dkim_rsa
from postroom.delivery.dkim import DkimKey, generate_key, public_txt, sign

DOMAIN = "agents.example.org"
SELECTOR = "pr2026"
RAW = (
    b"From: Agent <agent@agents.example.org>\r\nTo: someone@example.net\r\nSubject: Hello\r\n"
    b"Date: Tue, 01 Oct 2024 10:00:00 +0000\r\nMessage-ID: <rsa@agents.example.org>\r\n\r\nBody line.\r\n"
)


@pytest.fixture(scope="module")
def key() -> DkimKey:
    return generate_key(DOMAIN, SELECTOR)


def _dns(key: DkimKey) -> object:
    def lookup(name: bytes, timeout: int = 5) -> bytes:
        assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
        return public_txt(key).encode()

    return lookup


def test_openssl_signs_the_same_bytes_as_dkimpy(key: DkimKey, monkeypatch: pytest.MonkeyPatch) -> None:
    # The signature's t= tag reads the time: both signatures must see the same second.
    monkeypatch.setattr(dkim.time, "time", lambda: 1_767_225_600.0)
    fast = sign(RAW, key)
    assert dkim.RSASSA_PKCS1_v1_5_sign is dkim_rsa.rsa_sign
    monkeypatch.setattr(dkim_rsa, "use_openssl", lambda: None)
    monkeypatch.setattr("postroom.delivery.dkim.use_openssl", lambda: None)
    monkeypatch.setattr(dkim, "RSASSA_PKCS1_v1_5_sign", dkim_rsa._PURE_PYTHON_SIGN)
    assert sign(RAW, key) == fast


def test_dkimpy_verifies_what_openssl_signed(key: DkimKey) -> None:
    signed = sign(RAW, key)
    assert dkim.verify(signed, dnsfunc=_dns(key))
    assert not dkim.verify(signed.replace(b"Body line.", b"Body lime."), dnsfunc=_dns(key))


def test_other_hashes_fall_back_to_dkimpy(key: DkimKey) -> None:
    dkim_rsa.use_openssl()
    signer = dkim.DKIM(RAW)
    signature = signer.sign(SELECTOR.encode(), DOMAIN.encode(), key.private_pem, signature_algorithm=b"rsa-sha1")
    assert dkim.verify(signature + RAW, dnsfunc=_dns(key))
