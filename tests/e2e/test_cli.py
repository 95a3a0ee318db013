"""End-to-end tests of the people-facing CLI (``postroom inboxes|pods|keys|dns``), run as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import typer

from postroom.cli.parsing import metadata_value, parse_metadata, parse_permissions, parse_timestamp
from tests.support.server import ServerProcess, free_port

DOMAIN = "postroom.localhost"
SECRET_HEADING = "Secret (shown only this once; store it now):"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("cli-server")).start()
    yield process
    process.stop()


def clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("POSTROOM_")}
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "postroom.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env or clean_env(), timeout=60, check=False)


def against(server: ServerProcess, *args: str, key: str | None = None) -> list[str]:
    """Command-line arguments for the test server, authenticated with its bootstrap key (or ``key``)."""
    return [*args, "--api-url", server.base_url, "--api-key", key or server.api_key]


def cli(server: ServerProcess, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one command against the test server."""
    return run(*against(server, *args, key=key))


def run_all(*commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Independent commands side by side: each process spends most of its time starting Python."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: run(*args), commands))


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(result))


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return lines[0]


def secret_from(output: str) -> str:
    lines = output.splitlines()
    secret = lines[lines.index(SECRET_HEADING) + 1].strip()
    assert secret.startswith("pr_")
    return secret


# --- the docs page's CLI commands -----------------------------------------------------------------------------------


def test_seed_page_create_get_list(server: ServerProcess) -> None:
    inbox_id = f"docs-testing@{DOMAIN}"
    created = ok(
        cli(
            server,
            "inboxes",
            "create",
            "--username",
            "docs-testing",
            "--domain",
            DOMAIN,
            "--display-name",
            "Docs Tester",
        )
    )
    assert inbox_id in created
    assert "Docs Tester" in created

    shown, listed, as_json = run_all(
        against(server, "inboxes", "get", "--inbox-id", inbox_id),
        against(server, "inboxes", "list"),
        against(server, "inboxes", "get", "--inbox-id", inbox_id, "--json"),
    )
    assert inbox_id in ok(shown)
    assert "Docs Tester" in shown.stdout
    assert "active" in shown.stdout
    assert inbox_id in ok(listed)
    inbox = ok_json(as_json)
    assert inbox["inbox_id"] == inbox["email"] == inbox_id
    assert inbox["display_name"] == "Docs Tester"
    assert inbox["pod_id"]
    assert "status" not in inbox  # active inboxes omit it; --json leaves out nulls


def test_generated_address_list_json_and_paging(server: ServerProcess) -> None:
    generated, named = run_all(
        against(server, "inboxes", "create", "--json"),
        against(server, "inboxes", "create", "--username", "page-one"),
    )
    ok(named)
    username, _, domain = ok_json(generated)["inbox_id"].partition("@")
    assert username
    assert domain == DOMAIN

    first = ok_json(cli(server, "inboxes", "list", "--limit", "1", "--json"))
    assert first["count"] == 1
    assert len(first["inboxes"]) == 1
    token = first["next_page_token"]
    assert token

    second, table = run_all(
        against(server, "inboxes", "list", "--limit", "1", "--page-token", token, "--json"),
        against(server, "inboxes", "list", "--limit", "1"),
    )
    assert ok_json(second)["inboxes"][0]["inbox_id"] != first["inboxes"][0]["inbox_id"]
    assert f"--page-token {token}" in ok(table)


# --- metadata, status, delete ----------------------------------------------------------------------------------------


def test_metadata_values_are_typed_and_updates_merge(server: ServerProcess) -> None:
    inbox_id = f"support-agent@{DOMAIN}"
    pairs = ["tenant_id=acme", "seat_count=5", "monthly_spend=19.99", "active=true", "trial=False", "zip=007", "q=a=b"]
    options = [part for pair in pairs for part in ("--metadata", pair)]
    created = ok_json(cli(server, "inboxes", "create", "--username", "support-agent", "--json", *options))
    metadata = created["metadata"]
    assert metadata == {
        "tenant_id": "acme",
        "seat_count": 5,
        "monthly_spend": 19.99,
        "active": True,
        "trial": False,
        "zip": "007",
        "q": "a=b",
    }
    assert type(metadata["seat_count"]) is int  # sent as 5, not 5.0

    table = ok(cli(server, "inboxes", "get", "--inbox-id", inbox_id))
    assert 'tenant_id="acme"' in table
    assert "seat_count=5" in table

    changes = ["--metadata", "tier=enterprise", "--metadata", "seat_count=6", "--remove-metadata", "zip"]
    merged = ok_json(
        cli(server, "inboxes", "update", "--inbox-id", inbox_id, *changes, "--remove-metadata", "q", "--json")
    )
    assert merged["metadata"] == {
        "tenant_id": "acme",
        "seat_count": 6,
        "monthly_spend": 19.99,
        "active": True,
        "trial": False,
        "tier": "enterprise",
    }

    paused = ok(
        cli(
            server,
            "inboxes",
            "update",
            "--inbox-id",
            inbox_id,
            "--clear-metadata",
            "--status",
            "paused",
            "--display-name",
            "Zzz",
        )
    )
    assert "paused" in paused
    assert "Zzz" in paused
    assert "tenant_id" not in paused

    resumed = ok_json(cli(server, "inboxes", "update", "--inbox-id", inbox_id, "--status", "active", "--json"))
    assert "status" not in resumed
    assert "metadata" not in resumed
    assert resumed["display_name"] == "Zzz"


# --- pods ------------------------------------------------------------------------------------------------------------


def test_pods_create_list_get_delete(server: ServerProcess) -> None:
    pod = ok_json(cli(server, "pods", "create", "--name", "Acme", "--client-id", "acme-pod", "--json"))
    assert pod["name"] == "Acme"
    assert pod["client_id"] == "acme-pod"

    again, listed, shown = run_all(
        against(server, "pods", "create", "--name", "Acme", "--client-id", "acme-pod", "--json"),
        against(server, "pods", "list", "--json"),
        against(server, "pods", "get", "--pod-id", pod["pod_id"]),
    )
    assert ok_json(again)["pod_id"] == pod["pod_id"]  # client_id makes create idempotent
    assert pod["pod_id"] in [item["pod_id"] for item in ok_json(listed)["pods"]]
    assert pod["pod_id"] in ok(shown)
    assert "Acme" in shown.stdout

    deleted = ok_json(cli(server, "pods", "delete", "--pod-id", pod["pod_id"], "--json"))
    assert deleted == {"pod_id": pod["pod_id"], "deleted": True}
    assert "404 not_found" in one_line_error(cli(server, "pods", "get", "--pod-id", pod["pod_id"]))


# --- API keys --------------------------------------------------------------------------------------------------------


def test_organization_key_create_list_delete(server: ServerProcess) -> None:
    permissions = ["--permission", "inbox_read", "--permission", "pod_read,message_read"]
    expiry = ["--expires-at", "2999-01-01T00:00:00Z"]
    created = ok_json(cli(server, "keys", "create", "--name", "reader", *permissions, *expiry, "--json"))
    secret = created["api_key"]
    assert secret.startswith("pr_")
    assert created["permissions"] == {"inbox_read": True, "pod_read": True, "message_read": True}
    assert created["expires_at"].startswith("2999-01-01T00:00:00")
    assert "pod_id" not in created
    assert "inbox_id" not in created

    listed, allowed, denied = run_all(
        against(server, "keys", "list"),
        against(server, "inboxes", "list", "--json", key=secret),
        against(server, "pods", "create", "--name", "nope", key=secret),
    )
    assert created["api_key_id"] in ok(listed)
    assert created["prefix"] in listed.stdout
    assert secret not in listed.stdout  # only the prefix is ever shown again
    assert "organization" in listed.stdout
    assert "count" in ok_json(allowed)
    assert "403" in one_line_error(denied)

    assert ok(cli(server, "keys", "delete", "--api-key-id", created["api_key_id"])).strip() == (
        f"Deleted API key {created['api_key_id']}."
    )
    assert "401" in one_line_error(cli(server, "inboxes", "list", key=secret))


def test_pod_scoped_keys(server: ServerProcess) -> None:
    pod_id = ok_json(cli(server, "pods", "create", "--name", "Tenant", "--json"))["pod_id"]
    created = ok_json(cli(server, "keys", "create", "--pod-id", pod_id, "--name", "tenant-key", "--json"))
    assert created["pod_id"] == pod_id

    listed, own_pod = run_all(
        against(server, "keys", "list", "--pod-id", pod_id, "--json"),
        against(server, "pods", "get", "--pod-id", pod_id, "--json", key=created["api_key"]),
    )
    assert [key["api_key_id"] for key in ok_json(listed)["api_keys"]] == [created["api_key_id"]]
    assert ok_json(own_pod)["pod_id"] == pod_id

    ok(cli(server, "keys", "delete", "--pod-id", pod_id, "--api-key-id", created["api_key_id"]))
    assert "No API keys." in ok(cli(server, "keys", "list", "--pod-id", pod_id))


def test_inbox_scoped_key_works_with_inboxes_get(server: ServerProcess) -> None:
    scoped, other = run_all(
        against(server, "inboxes", "create", "--username", "scoped", "--json"),
        against(server, "inboxes", "create", "--username", "not-scoped", "--json"),
    )
    inbox_id, other_id = ok_json(scoped)["inbox_id"], ok_json(other)["inbox_id"]

    output = ok(cli(server, "keys", "create", "--inbox-id", inbox_id, "--name", "agent-key"))
    assert f"inbox {inbox_id}" in output
    secret = secret_from(output)
    assert output.count(secret) == 1

    shown, hidden, listed = run_all(
        against(server, "inboxes", "get", "--inbox-id", inbox_id, "--json", key=secret),
        against(server, "inboxes", "get", "--inbox-id", other_id, key=secret),
        against(server, "keys", "list", "--inbox-id", inbox_id, "--json"),
    )
    assert ok_json(shown)["inbox_id"] == inbox_id
    assert "not_found" in one_line_error(hidden)
    keys = ok_json(listed)["api_keys"]
    assert len(keys) == 1
    assert keys[0]["inbox_id"] == inbox_id
    key_id = keys[0]["api_key_id"]

    deleted = ok_json(cli(server, "keys", "delete", "--inbox-id", inbox_id, "--api-key-id", key_id, "--json"))
    assert deleted == {"api_key_id": key_id, "deleted": True}
    assert "401" in one_line_error(cli(server, "inboxes", "get", "--inbox-id", inbox_id, key=secret))


# --- errors and connection options -----------------------------------------------------------------------------------


def test_taken_username_is_409_already_exists_then_delete(server: ServerProcess) -> None:
    inbox_id = ok_json(cli(server, "inboxes", "create", "--username", "taken", "--json"))["inbox_id"]
    line = one_line_error(cli(server, "inboxes", "create", "--username", "taken"))
    assert line == f"error: 409 already_exists: Inbox {inbox_id} already exists"
    assert ok(cli(server, "inboxes", "delete", "--inbox-id", inbox_id)).strip() == f"Deleted inbox {inbox_id}."
    assert "not_found" in one_line_error(cli(server, "inboxes", "get", "--inbox-id", inbox_id))


def test_api_and_connection_errors_are_one_line(server: ServerProcess) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    results = run_all(
        against(server, "inboxes", "get", "--inbox-id", f"nobody@{DOMAIN}"),
        ["inboxes", "list"],
        ["pods", "list", "--api-url", unreachable, "--api-key", "pr_anything"],
        ["pods", "list", "--api-url", "ftp://example", "--api-key", "pr_anything"],
        against(server, "inboxes", "list", key="pr_not_a_real_key"),
        against(server, "inboxes", "create", "--username", "Not Valid!"),
        against(server, "inboxes", "create", "--domain", "example.com"),
    )
    lines = [one_line_error(result) for result in results]
    assert lines[0] == "error: 404 not_found: Inbox not found"
    assert lines[1] == "error: no API key: pass --api-key or set POSTROOM_API_KEY"
    assert lines[2] == f"error: cannot reach Postroom at {unreachable}"
    assert lines[3].startswith("error: invalid API URL 'ftp://example'")
    assert lines[4].startswith("error: 401 unknown_api_key: ")
    assert lines[5].startswith("error: 400 validation_error: username ")
    assert lines[6].startswith("error: 422 unprocessable: ")


def test_usage_errors_exit_2(server: ServerProcess) -> None:
    nothing, both = run_all(
        against(server, "inboxes", "update", "--inbox-id", f"x@{DOMAIN}"),
        against(server, "keys", "list", "--pod-id", "pod_x", "--inbox-id", f"x@{DOMAIN}"),
    )
    for result, text in ((nothing, "nothing to change"), (both, "not both")):
        assert result.returncode == 2, result.stderr
        assert text in result.stderr
        assert "Traceback" not in result.stderr


# --- option parsing (pure functions, no process needed) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("False", False),
        ("5", 5),
        ("-12", -12),
        ("19.99", 19.99),
        ("1e3", 1000.0),
        ("007", "007"),
        ("1_000", "1_000"),
        ("nan", "nan"),
        ("inf", "inf"),
        ("yes", "yes"),
        ("", ""),
    ],
)
def test_metadata_value_types(text: str, value: object) -> None:
    parsed = metadata_value(text)
    assert parsed == value
    assert type(parsed) is type(value)


def test_parse_metadata_rejects_pairs_without_key_or_equals() -> None:
    assert parse_metadata(["a=1", "b=x=y", "a=2"]) == {"a": 2, "b": "x=y"}
    for bad in ("novalue", "=1"):
        with pytest.raises(typer.BadParameter, match="KEY=VALUE"):
            parse_metadata([bad])


def test_parse_permissions_and_timestamps() -> None:
    known = ["inbox_read", "message_read", "pod_read"]
    assert parse_permissions(["inbox_read", "message-read, pod_read"], known) == dict.fromkeys(known, True)
    with pytest.raises(typer.BadParameter, match="unknown permission"):
        parse_permissions(["read_everything"], known)
    assert parse_timestamp("2030-01-31T12:00:00Z") == datetime(2030, 1, 31, 12, tzinfo=UTC)
    assert parse_timestamp("2030-01-31") == datetime(2030, 1, 31, tzinfo=UTC)
    with pytest.raises(typer.BadParameter, match="ISO-8601"):
        parse_timestamp("tomorrow")


def test_environment_variables_configure_the_connection(server: ServerProcess) -> None:
    env = clean_env(POSTROOM_API_URL=server.base_url, POSTROOM_API_KEY=server.api_key)
    assert "count" in ok_json(run("pods", "list", "--json", env=env))


def test_dns_prints_the_zone_file_whose_dkim_key_signs_outgoing_mail(server: ServerProcess) -> None:
    import dns.zone

    zone_text, unknown = run_all(against(server, "dns"), against(server, "dns", "nowhere.example"))
    text = ok(zone_text)
    zone = dns.zone.from_text(text, check_origin=False)
    assert str(zone.origin) == f"{DOMAIN}."
    records = {str(name): {rdataset.rdtype.name for rdataset in node} for name, node in zone.nodes.items()}
    assert records["@"] == {"MX", "TXT"}
    assert records["_dmarc"] == {"TXT"}
    dkim_txt = b"".join(zone.find_rdataset("postroom._domainkey", "TXT")[0].strings)
    assert dkim_txt.startswith(b"v=DKIM1; k=rsa; p=")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: 404")
