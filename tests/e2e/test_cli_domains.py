"""``postroom domains create|list|get|zone-file|verify|delete`` as subprocesses against ``postroom serve`` with a DNS
server on loopback: the README's custom-domain flow, organization and pod scope, one-line errors."""

from __future__ import annotations

from collections.abc import Iterator

import dns.zone
import pytest

from tests.e2e.test_cli import cli, ok, ok_json, one_line_error
from tests.support.dns_server import DnsTestServer, dns_test_server
from tests.support.server import ServerProcess

MAIL_HOST = "mx.postroom.test"


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsTestServer]:
    with dns_test_server() as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dns_server: DnsTestServer) -> Iterator[ServerProcess]:
    env = {"POSTROOM_DNS_SERVERS": dns_server.address, "POSTROOM_MAIL_HOST": MAIL_HOST}
    process = ServerProcess(tmp_path_factory.mktemp("cli-domains"), extra_env=env).start()
    yield process
    process.stop()


def test_the_custom_domain_flow(server: ServerProcess, dns_server: DnsTestServer) -> None:
    created = ok(cli(server, "domains", "create", "cli.test", "--subdomains"))
    assert "NOT_STARTED" in created
    assert "postroom._domainkey.cli.test" in created  # the records to publish are shown with the domain
    zone_text = ok(cli(server, "domains", "zone-file", "cli.test"))
    zone = dns.zone.from_text(zone_text, check_origin=False)
    assert zone.origin.to_text() == "cli.test."
    assert {name.to_text() for name in zone.nodes} >= {"@", "*", "bounces", "postroom._domainkey", "_dmarc"}

    pending = ok(cli(server, "domains", "verify", "cli.test"))
    assert "PENDING" in pending
    assert "dns_records_missing" in pending
    dns_server.publish_zone(zone_text, "cli.test")
    verified = ok_json(cli(server, "domains", "verify", "cli.test", "--json"))
    assert verified["status"] == "VERIFIED"
    assert {record["status"] for record in verified["records"]} == {"VALID"}

    inbox = ok_json(cli(server, "inboxes", "create", "--username", "agent7", "--domain", "eu.cli.test", "--json"))
    assert inbox["inbox_id"] == "agent7@eu.cli.test"
    listed = ok(cli(server, "domains", "list"))
    assert "cli.test" in listed
    assert "postroom.localhost" in listed
    assert ok_json(cli(server, "domains", "get", "cli.test", "--json"))["subdomains_enabled"] is True
    assert "Deleted domain cli.test." in ok(cli(server, "domains", "delete", "cli.test"))
    assert one_line_error(cli(server, "domains", "get", "cli.test")).startswith("error: 404 not_found")


def test_pod_domains_and_errors(server: ServerProcess) -> None:
    pod = ok_json(cli(server, "pods", "create", "--name", "cli-domains", "--json"))["pod_id"]
    made = ok_json(cli(server, "domains", "create", "pod.test", "--pod-id", pod, "--no-inbound", "--json"))
    assert (made["pod_id"], made["inbound_enabled"]) == (pod, False)
    listed = ok_json(cli(server, "domains", "list", "--pod-id", pod, "--json"))["domains"]
    assert listed[0]["domain_id"] == "pod.test"
    assert "bounces.pod.test" in ok(cli(server, "domains", "zone-file", "pod.test", "--pod-id", pod))
    ok(cli(server, "domains", "delete", "pod.test", "--pod-id", pod))
    assert one_line_error(cli(server, "domains", "create", "co.uk")).startswith("error: 400 validation_error")
    refused = one_line_error(cli(server, "domains", "delete", "postroom.localhost"))
    assert refused.startswith("error: 403 cannot_delete")
