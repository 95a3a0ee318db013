"""RSA signing for dkimpy through OpenSSL (``cryptography``): dkimpy still canonicalises and hashes, OpenSSL signs.

dkimpy signs with pure-Python modular exponentiation (about 12 ms per 2048-bit signature). RSASSA-PKCS1-v1_5 is
deterministic, so OpenSSL produces the very same signature bytes, in a fraction of the time.
"""

from __future__ import annotations

import functools
from typing import Any

import dkim  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

_PURE_PYTHON_SIGN = dkim.RSASSA_PKCS1_v1_5_sign
# dkimpy parses the PEM key in pure Python on every signature (about a fifth of a signature's cost); the parsed
# numbers are only read, so one parse per key serves every message.
_parsed_pem_key = functools.lru_cache(maxsize=256)(dkim.parse_pem_private_key)
_ALGORITHMS: dict[str, hashes.HashAlgorithm] = {"sha256": hashes.SHA256(), "sha1": hashes.SHA1()}  # noqa: S303
_NUMBERS = ("prime1", "prime2", "privateExponent", "exponent1", "exponent2", "coefficient", "publicExponent", "modulus")


@functools.lru_cache(maxsize=256)
def _openssl_key(p: int, q: int, d: int, dmp1: int, dmq1: int, iqmp: int, e: int, n: int) -> rsa.RSAPrivateKey:
    """The key as OpenSSL holds it; building one checks it, so each key is built once per process."""
    return rsa.RSAPrivateNumbers(p, q, d, dmp1, dmq1, iqmp, rsa.RSAPublicNumbers(e, n)).private_key()


def rsa_sign(digest: Any, private_key: dict[str, int]) -> bytes:
    """dkimpy's ``RSASSA_PKCS1_v1_5_sign(hash, private_key)``, computed by OpenSSL."""
    algorithm = _ALGORITHMS.get(digest.name)
    if algorithm is None:
        signature: bytes = _PURE_PYTHON_SIGN(digest, private_key)
        return signature
    key = _openssl_key(*(int(private_key[name]) for name in _NUMBERS))
    return key.sign(digest.digest(), padding.PKCS1v15(), utils.Prehashed(algorithm))


def use_openssl() -> None:
    """Make dkimpy sign RSA through OpenSSL in this process (idempotent)."""
    dkim.RSASSA_PKCS1_v1_5_sign = rsa_sign
    dkim.parse_pem_private_key = _parsed_pem_key
