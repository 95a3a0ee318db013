"""Pure rules of the receive path: which inbox an address delivers to, and signed download grants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from postroom.domain.downloads import DownloadGrant, DownloadSigner
from postroom.errors import NotFound
from postroom.services.mail.receive import inbox_address

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("recipient", "inbox_id"),
    [
        ("agent@postroom.localhost", "agent@postroom.localhost"),
        ("<Agent@Postroom.Localhost>", "agent@postroom.localhost"),
        ("agent+orders@postroom.localhost", "agent@postroom.localhost"),
        ("agent+a+b@postroom.localhost", "agent@postroom.localhost"),
    ],
)
def test_recipient_addresses_map_to_inboxes(recipient: str, inbox_id: str) -> None:
    assert inbox_address(recipient) == inbox_id


@pytest.mark.parametrize("recipient", ["", "agent", "@postroom.localhost", "agent@", "<>"])
def test_addresses_without_a_mailbox_are_refused(recipient: str) -> None:
    with pytest.raises(NotFound):
        inbox_address(recipient)


def test_download_tokens_round_trip_and_expire() -> None:
    signer = DownloadSigner(b"s" * 32)
    grant = DownloadGrant("inbox/a@x/msg_1/raw.eml", NOW + timedelta(hours=1), "message.eml", "message/rfc822")
    token = signer.sign(grant)
    assert signer.verify(token, NOW) == grant
    with pytest.raises(NotFound):
        signer.verify(token, NOW + timedelta(hours=2))


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "x" + t, lambda t: "", lambda t: "a.b"]
)
def test_forged_download_tokens_are_not_found(mangle: object) -> None:
    signer = DownloadSigner(b"s" * 32)
    token = signer.sign(DownloadGrant("inbox/a@x/k", NOW + timedelta(hours=1), None, None))
    with pytest.raises(NotFound):
        signer.verify(mangle(token), NOW)  # type: ignore[operator]
    other = DownloadSigner(b"t" * 32)
    with pytest.raises(NotFound):
        other.verify(token, NOW)
