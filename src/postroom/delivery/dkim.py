"""DKIM keys and signatures (RFC 6376) for outgoing mail: dkimpy canonicalises, OpenSSL does the RSA."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import dkim  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from postroom.delivery.dkim_rsa import use_openssl

KEY_BITS = 2048

# Headers whose change alters what a reader sees or how the message threads, in signing order.
SIGNED_HEADERS: tuple[str, ...] = (
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
)


@dataclass(frozen=True)
class DkimKey:
    domain: str
    selector: str
    private_pem: bytes = field(repr=False)  # RSA-2048, PKCS#1 or PKCS#8 PEM; kept out of logs


def new_private_pem() -> bytes:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.TraditionalOpenSSL,
        encryption_algorithm=serialization.NoEncryption(),
    )


def generate_key(domain: str, selector: str) -> DkimKey:
    return DkimKey(domain=domain.lower(), selector=selector, private_pem=new_private_pem())


def public_txt(key: DkimKey) -> str:
    """The TXT record value to publish at ``<selector>._domainkey.<domain>``."""
    return public_txt_of(key.private_pem)


def public_txt_of(private_pem: bytes) -> str:
    private_key = serialization.load_pem_private_key(private_pem, password=None)
    public_der = private_key.public_key().public_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(public_der).decode('ascii')}"


class DkimKeyMaker:
    """The DkimKeys port: new RSA-2048 keys for custom domains, with the TXT value that publishes each."""

    def new_key(self) -> tuple[bytes, str]:
        pem = new_private_pem()
        return pem, public_txt_of(pem)


def sign(raw: bytes, key: DkimKey) -> bytes:
    """Return ``raw`` with a relaxed/relaxed rsa-sha256 DKIM-Signature header prepended."""
    # The signature's folding must match the message's own line endings.
    linesep = b"\r\n" if b"\r\n" in raw else b"\n"
    use_openssl()
    signer = dkim.DKIM(raw, linesep=linesep)
    present = [name.lower() for name, _ in signer.headers]
    # Each occurrence is listed so that every copy is covered; From once more so that none can be added later.
    include = [name for wanted in SIGNED_HEADERS for name in present if name == wanted.encode("ascii")]
    include.append(b"from")
    signature: bytes = signer.sign(
        key.selector.encode("ascii"),
        key.domain.encode("ascii"),
        key.private_pem,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=include,
    )
    return signature + raw
