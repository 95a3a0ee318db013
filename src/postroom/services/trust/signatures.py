"""DKIM (RFC 6376: every signature of a message) and ARC (RFC 8617: the chain) verified by dkimpy.

dkimpy takes the TXT lookup as its ``dnsfunc`` argument; ours answers from the ``DnsLookup`` port, so key lookups
go through Postroom's resolver. A lookup DNS could not answer is a temperror, never a pass or a fail.
"""

from __future__ import annotations

import logging
import re

import dkim  # type: ignore[import-untyped]

from postroom.domain.authentication import ArcResult, DkimResult
from postroom.errors import TemporaryLookupError
from postroom.mime.header_section import header_section
from postroom.services.ports import DnsLookup

# dkimpy logs every failed signature at ERROR; the verdict carries the reason instead.
_QUIET = logging.getLogger("postroom.trust.dkimpy")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False
_TAG = re.compile(rb"(?:^|;)\s*([a-z]+)\s*=\s*([^;]*)", re.IGNORECASE)


class _Lookups:
    """dkimpy's ``dnsfunc``: the first TXT record at a name as bytes, None when there is none."""

    def __init__(self, dns: DnsLookup) -> None:
        self._dns = dns

    def __call__(self, name: bytes | str, timeout: float = 5) -> bytes | None:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        records = self._dns.lookup(text.rstrip("."), "TXT")
        return records[0].encode("utf-8", "surrogateescape") if records else None


def _tags(value: bytes) -> dict[str, str]:
    """d= and s= read leniently, for reporting a signature dkimpy could not even parse."""
    flat = b"".join(value.split())
    return {m.group(1).decode().lower(): m.group(2).decode("ascii", "replace") for m in _TAG.finditer(flat)}


def _read_whole_if(raw: bytes, prefix: bytes) -> bytes:
    """``raw`` when its header section may hold a header whose name starts with ``prefix`` (lower case), else the
    header section alone: all dkimpy needs to find that there is nothing to verify."""
    head = header_section(raw)
    return raw if prefix in head.lower() else head


class SignatureVerifier:
    def __init__(self, dns: DnsLookup) -> None:
        self._lookups = _Lookups(dns)

    def dkim(self, raw: bytes) -> list[DkimResult]:
        """One result per DKIM-Signature header, topmost first.

        dkimpy splits and joins the whole message as it reads it: an unsigned one is read up to its headers only.
        """
        try:
            verifier = dkim.DKIM(_read_whole_if(raw, b"dkim-signature"), logger=_QUIET)
        except Exception as error:  # dkimpy's parser on arbitrary bytes: anything it cannot read is a permerror
            return [DkimResult("", "", "permerror", f"message could not be parsed: {error}")]
        signatures = [value for name, value in verifier.headers if name.lower() == b"dkim-signature"]
        results = []
        for index, value in enumerate(signatures):
            tags = _tags(value)
            domain, selector = tags.get("d", "").lower(), tags.get("s", "")
            results.append(self._verify(verifier, index, domain, selector))
        return results

    def _verify(self, verifier: object, index: int, domain: str, selector: str) -> DkimResult:
        try:
            passed = verifier.verify(idx=index, dnsfunc=self._lookups)  # type: ignore[attr-defined]
            if passed:
                return DkimResult(domain, selector, "pass")
            # dkimpy answers False both for a missing or broken key and for a signature that does not verify.
            key = self._lookups(f"{selector}._domainkey.{domain}")
        except TemporaryLookupError as error:
            return DkimResult(domain, selector, "temperror", f"DNS did not answer: {error}")
        except dkim.ValidationError as error:
            if "body hash mismatch" in str(error):
                return DkimResult(domain, selector, "fail", "body hash did not verify")
            return DkimResult(domain, selector, "permerror", str(error))
        except Exception as error:  # a malformed signature dkimpy trips over is a permerror, never a lost message
            return DkimResult(domain, selector, "permerror", str(error))
        if key is None:
            return DkimResult(domain, selector, "permerror", "no key published for the selector")
        return DkimResult(domain, selector, "fail", "signature did not verify")

    def arc(self, raw: bytes) -> tuple[ArcResult, list[dict[str, object]]]:
        """The chain validation status and dkimpy's per-instance results (newest first)."""
        try:
            chain = dkim.ARC(_read_whole_if(raw, b"arc-"), logger=_QUIET)
            status, instances, comment = chain.verify(dnsfunc=self._lookups)
        except TemporaryLookupError as error:
            return ArcResult("fail", reason=f"DNS did not answer: {error}"), []
        except Exception as error:  # a malformed ARC set dkimpy trips over fails the chain
            return ArcResult("fail", reason=str(error)), []
        word = status.decode() if isinstance(status, bytes) else "fail"
        sealer = instances[0].get("as-domain") if instances else None
        sealer_name = sealer.decode("ascii", "replace").lower() if isinstance(sealer, bytes) else None
        reason = "" if comment == "success" else str(comment)
        return ArcResult(word, sealer=sealer_name, reason=reason), list(instances)
