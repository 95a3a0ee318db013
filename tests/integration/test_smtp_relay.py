"""The open-relay table over real SMTP on both databases: every relay form is refused at RCPT and leaves nothing
stored or queued, while a hosted inbox is accepted in the same transaction (issue 15, "Make the probes permanent")."""

from __future__ import annotations

import secrets
import smtplib

from fastapi.testclient import TestClient
from sqlalchemy import Table, func, select

from postroom.runtime import Runtime
from postroom.storage.tables import delivery_jobs, delivery_recipients, messages, outbox
from tests.integration.test_smtp_limits import new_inbox, options, stored, with_smtp
from tests.support.dns_server import parse_zone
from tests.support.sender_dns import sender_dns

EXTERNAL_SENDER = "ann@example.org"
UNVERIFIED = "unverified.test"  # registered through the domains service, never verified
COUNTED: tuple[Table, ...] = (messages, delivery_jobs, delivery_recipients, outbox)


def relay_forms(domain: str, local: str, muted: str) -> dict[str, str]:
    """Each relay form by name → the argument of ``RCPT TO:``: ``local`` is a real inbox's local part at ``domain``
    and at ``muted``, a verified custom domain whose inbound mail is turned off."""
    upper = domain.upper()
    mixed = domain[:1].upper() + domain[1:]
    return {
        "external": "<user@example.org>",
        "external, our local part": f"<{local}@example.org>",
        "our domain as external prefix": f"<{local}@{domain}.example.org>",
        "our domain as external suffix": f"<{local}@example.org.{domain}>",
        "subdomain of ours, not hosted": f"<{local}@sub.{domain}>",
        "percent hack": f"<user%example.org@{domain}>",
        "percent hack, our local part": f"<{local}%example.org@{domain}>",
        "source route": f"<@{domain}:user@example.org>",
        "source route, two hops": f"<@{domain},@x.example.org:user@example.org>",
        "bang path at ours": f"<example.org!user@{domain}>",
        "bang path": f"<{domain}!example.org!user>",
        "quoted external address at ours": f'<"user@example.org"@{domain}>',
        "quoted percent hack at ours": f'<"user%example.org"@{domain}>',
        "quoted our address at external": f'<"{local}@{domain}"@example.org>',
        "two @, external last": f"<{local}@{domain}@example.org>",
        "two @, ours last": f"<user@example.org@{domain}>",
        "IPv4 address literal": "<user@[127.0.0.1]>",
        "IPv6 address literal": "<user@[IPv6:::1]>",
        "IPv4 without brackets": "<user@127.0.0.1>",
        "localhost": "<user@localhost>",
        "external with trailing dot": "<user@example.org.>",
        "unknown local part at ours": f"<nobody@{domain}>",
        "unknown local part at ours, upper case": f"<nobody@{upper}>",
        "unknown local part at ours, mixed case": f"<Nobody@{mixed}>",
        "empty recipient": "<>",
        "bare local part": "<user>",
        "bare local part, our inbox's": f"<{local}>",
        "postmaster at external": "<postmaster@example.org>",
        "abuse at external": "<abuse@example.org>",
        "postmaster at an unverified domain": f"<postmaster@{UNVERIFIED}>",
        "inbox at an unverified domain": f"<{local}@{UNVERIFIED}>",
        "inbox at a verified domain not receiving": f"<{local}@{muted}>",
        "postmaster at a verified domain not receiving": f"<postmaster@{muted}>",
        "subdomain of a verified domain": f"<{local}@sub.{muted}>",
        "UTF-8 external domain": "<user@bücher.example>",
        "IDNA external domain": "<user@xn--bcher-kva.example>",
        "very long domain": "<user@" + ".".join(["a" * 63] * 3) + ".example>",
        "forged return path": "<bounces=msg_0123456789abcdefghijklmnop.0123456789abcdef@example.org>",
    }


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.engine.connect() as connection:
        return {t.name: int(connection.execute(select(func.count()).select_from(t)).scalar_one()) for t in COUNTED}


def event_inboxes(runtime: Runtime) -> set[tuple[str, str | None]]:
    """Each outbox row's event id and inbox."""
    with runtime.engine.connect() as connection:
        return {
            (row.event_id, row.inbox_id) for row in connection.execute(select(outbox.c.event_id, outbox.c.inbox_id))
        }


def muted_domain(client: TestClient, local: str) -> str:
    """A custom domain, verified through the loopback DNS, holding an inbox at ``local``, then inbound turned off."""
    domain = f"muted-{secrets.token_hex(4)}.test"
    assert client.post("/v0/domains", json={"domain": domain}).status_code == 200
    zone = list(parse_zone(client.get(f"/v0/domains/{domain}/zone-file").text, domain))
    ours = {name for name, *_ in zone if name == domain or name.endswith(f".{domain}")}
    dns = sender_dns()
    for name, rtype, value, priority in zone:
        dns.publish(name, rtype, value, priority=priority)
    try:
        verified = client.post(f"/v0/domains/{domain}/verify")
        assert verified.json()["status"] == "VERIFIED", verified.text
    finally:
        for name in ours:  # the records stay in the process-wide DNS otherwise; the domain stays verified here
            dns.remove(name)
    made = client.post("/v0/inboxes", json={"username": local, "domain": domain})
    assert made.status_code == 200, made.text
    muted = client.patch(f"/v0/domains/{domain}", json={"inbound_enabled": False})
    assert muted.status_code == 200, muted.text
    return domain


def test_no_relay_form_is_accepted_and_a_hosted_inbox_is(runtime: Runtime, client: TestClient) -> None:
    runtime.ensure_postmaster_inbox()  # as `postroom serve` does: role addresses are live
    domain = runtime.settings.default_domain
    control = new_inbox(client, "agent")
    local = control.partition("@")[0]
    response = client.post("/v0/domains", json={"domain": UNVERIFIED})
    assert response.status_code == 200, response.text
    unverified_inbox = client.post("/v0/inboxes", json={"username": local, "domain": UNVERIFIED})
    assert unverified_inbox.status_code == 422, unverified_inbox.text  # no inbox until the domain is verified
    forms = relay_forms(domain, local, muted_domain(client, local))
    senders = {"external sender": EXTERNAL_SENDER, "spoofed local sender": control}
    before = counts(runtime)
    events_before = event_inboxes(runtime)

    def talk(port: int) -> tuple[dict[tuple[str, str], tuple[int, int]], tuple[int, bytes]]:
        replies: dict[tuple[str, str], tuple[int, int]] = {}
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo("client.example.org")
            assert smtp.has_extn("smtputf8")
            smtp.command_encoding = "utf-8"  # the UTF-8 domain goes out as UTF-8, its MAIL declaring SMTPUTF8
            for sender_name, sender in senders.items():
                for name, argument in forms.items():
                    smtp.rset()
                    assert smtp.mail(sender, ["SMTPUTF8"])[0] == 250
                    refused = smtp.docmd("RCPT", f"TO:{argument}")[0]
                    accepted = smtp.rcpt(control)[0]  # the same transaction still takes a hosted inbox
                    replies[(sender_name, name)] = (refused, accepted)
            assert counts(runtime) == before, "a refused RCPT wrote something"
            # Last, one transaction naming every form and the control: only the control's copy is stored.
            smtp.rset()
            smtp.mail(EXTERNAL_SENDER, ["SMTPUTF8"])
            for argument in forms.values():
                smtp.docmd("RCPT", f"TO:{argument}")
            smtp.rcpt(control)
            body = f"From: {EXTERNAL_SENDER}\r\nTo: {control}\r\nSubject: relay table\r\n\r\nhello\r\n"
            return replies, smtp.data(body.encode())

    replies, data_reply = with_smtp(runtime, options(max_recipients=len(forms) + 1), talk)
    open_relay = {form: codes for form, codes in replies.items() if not 500 <= codes[0] < 600}
    control_refused = {form: codes for form, codes in replies.items() if codes[1] != 250}
    print(
        f"relay table: {len(forms)} forms x {len(senders)} senders = {len(replies)} RCPTs, "
        f"accepted = {len(open_relay)}, control refused = {len(control_refused)}"
    )
    assert open_relay == {}
    assert control_refused == {}
    assert data_reply[0] == 250, data_reply
    after = counts(runtime)
    assert after["delivery_jobs"] == before["delivery_jobs"]  # nothing queued for delivery elsewhere
    assert after["delivery_recipients"] == before["delivery_recipients"]
    assert after["messages"] == before["messages"] + 1  # the control's copy, and no other
    assert [m["subject"] for m in stored(client, control)] == ["relay table"]
    new_events = event_inboxes(runtime) - events_before
    assert new_events
    assert {inbox for _, inbox in new_events} == {control}  # the stored copy's events, and no other
