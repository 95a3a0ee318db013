"""The official npm SDK (agentmail 0.5.20) runs the "Inboxes" page's TypeScript snippets against ``postroom serve``.

Runs ``node/inboxes.mjs`` against the server fixture and asserts the ``label: value`` lines it prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from agentmail import AgentMail

from tests.conformance.helpers import DEFAULT_DOMAIN
from tests.support.server import ServerProcess

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "inboxes.mjs"


def run_script(server: ServerProcess) -> str:
    if not (NODE_DIR / "node_modules" / "agentmail").is_dir():
        pytest.fail(f"{NODE_DIR}/node_modules/agentmail is missing: run `make test` (it runs `npm ci` there)")
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: install Node.js 18+ and run `make test`")
    env = {**os.environ, "POSTROOM_BASE_URL": server.base_url, "POSTROOM_API_KEY": server.api_key}
    result = subprocess.run(
        [node, SCRIPT.name], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, (
        f"node exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result.stdout


def labelled(stdout: str) -> dict[str, str]:
    """``label: value`` lines; indented lines and braces (Node's own object printing) are skipped."""
    values: dict[str, str] = {}
    for line in stdout.splitlines():
        if not line or line[0] in " {}" or ": " not in line:
            continue
        label, value = line.split(": ", 1)
        assert label not in values, f"duplicate line label {label!r}"
        values[label] = value
    return values


def as_json(value: str) -> Any:
    return json.loads(value)


def test_typescript_snippets_of_the_inboxes_page(server: ServerProcess, sdk: AgentMail) -> None:
    stdout = run_script(server)
    out = labelled(stdout)
    assert out["Done"] == "ok"

    # Create / retrieve / list. The page prints `newInbox.id` and `retrievedInbox.inbox_id`, neither of which the
    # TS SDK has (its field is `inboxId`), so the page's own lines print "undefined"; the corrected lines work.
    assert out["Created Inbox"] == "undefined"
    assert out["Retrieved Inbox"] == "undefined"
    inbox_id = out["Created Inbox (inboxId)"]
    assert re.fullmatch(rf"docs-testing-[0-9a-f]{{10}}@{re.escape(DEFAULT_DOMAIN)}", inbox_id)
    assert out["Retrieved Inbox (inboxId)"] == inbox_id
    assert out["Retrieved displayName"] == "Docs Tester"
    assert 1 <= int(out["Total Inboxes"]) <= 50
    assert out["Total Inboxes"] == out["Listed page size"]
    assert out["Walked includes new inbox"] == "true"
    assert out["Walked duplicates"] == "0"

    # Metadata: console.log(inbox.metadata) as on the page, then the merge / remove-one / clear updates.
    expected = {"tenant_id": "acme", "seat_count": 5, "monthly_spend": 19.99, "active": True}
    assert "{tenant_id:'acme',seat_count:5,monthly_spend:19.99,active:true}" in re.sub(r"\s+", "", stdout)
    assert as_json(out["Created metadata"]) == expected
    assert as_json(out["Metadata after add"]) == {**expected, "tier": "enterprise"}
    assert as_json(out["Metadata after remove"]) == expected
    assert as_json(out["Metadata after clear"]) is None
    assert out["Empty metadata update"] == "400 validation_error"
    assert out["Empty update"] == "400 validation_error"
    assert sdk.inboxes.get(out["Support agent inbox"]).metadata is None

    # Inbox-scoped key: printed once, scoped to its inbox, revoked by delete.
    assert re.search(r"^pr_[A-Za-z0-9]{32,}$", stdout, re.MULTILINE)
    assert out["Key inboxId"] == inbox_id
    assert out["Key prefix matches"] == "true"
    assert as_json(out["Inbox key names"]) == ["support-agent-key"]
    assert out["Listed key has secret"] == "false"
    assert as_json(out["Scoped list"]) == [inbox_id]
    assert out["Scoped get own"] == inbox_id
    assert out["Scoped get other"] == "404 not_found"
    assert out["Scoped me"] == "inbox"
    assert out["Scoped after key delete"] == "401"

    # The "Copy for Cursor" snippet, through a client built with `environment: {http, websockets}`.
    assert 1 <= int(out["Total"]) <= 20
    assert out["Cursor retrieved clientId"] == "my-inbox-v1"
    assert out["Cursor client_id retry same inbox"] == "true"
    assert out["Environment me"] == "organization"

    # Percent-encoded paths (%40 for "@"), upper case, punctuation and "+".
    assert out["Upper-case get"] == inbox_id
    assert out["Upper-case update"] == "Renamed"
    punctuated = out["Punctuated create"]
    assert punctuated.startswith("a.b-c_d-")
    assert out["Punctuated get"] == punctuated
    assert out["Punctuated key list count"] == "0"
    assert out["Plus address get"] == "404 not_found"
    assert out["Plus username create"] == "400 validation_error"  # "+" is not a username character (spec §8)
    assert out["Taken username create"] == "409 already_exists"
    assert out["Unknown domain create"] == "422 unprocessable"
    assert out["Get after delete"] == "404 not_found"

    # What Node did is visible to the Python SDK too.
    assert sdk.inboxes.get(punctuated).inbox_id == punctuated
    assert sdk.inboxes.get(punctuated.upper()).inbox_id == punctuated
