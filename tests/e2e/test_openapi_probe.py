"""schemathesis against a running ``postroom serve`` from its own ``/openapi.json`` (issue 15, "make the probes
permanent"): every operation, all checks, bounded examples and a fixed seed, on SQLite with a full-access key.

Passes when the run finds 0 server errors, 0 schema violations and 0 undocumented statuses (no failure of any
check). One allowance, for POST and PATCH only: a request body that satisfies the schema may still be refused with
400 or 422 when a rule the schema does not state refuses it (an address that is not one, a send with no recipient,
``expires_at`` in the past, an event type the server does not know), and so may a list's made-up ``page_token``
(opaque and signed). Path and query parameters otherwise state their rules exactly: every other GET and every DELETE
runs without the allowance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.support.schemathesis_hooks import PROBE_KEY_ID
from tests.support.server import ServerProcess

REPO = Path(__file__).resolve().parents[2]  # where the hooks module (tests.support.schemathesis_hooks) imports from
MAX_EXAMPLES = 5
SEED = 15
ALLOWANCE = (
    'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422", "429"]'
)


def config_for(document: dict[str, Any]) -> str:
    """Bodies may fail rules the schema does not state; a made-up ``page_token`` fails its signature (a 400)."""
    listings = sorted(
        path
        for path, methods in document["paths"].items()
        if any(parameter["name"] == "page_token" for parameter in methods.get("get", {}).get("parameters", []))
    )
    return (
        f'[[operations]]\ninclude-method = ["POST", "PATCH"]\n{ALLOWANCE}\n\n'
        f'[[operations]]\ninclude-method = ["GET"]\ninclude-path = {json.dumps(listings)}\n{ALLOWANCE}\n'
    )


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "server").start()
    try:
        key = server.api_key
        me = httpx.get(f"{server.base_url}/v0/auth/me", headers={"Authorization": f"Bearer {key}"}).json()
        config = tmp_path / "schemathesis.toml"
        config.write_text(config_for(httpx.get(f"{server.base_url}/openapi.json").json()))
        report = tmp_path / "report.json"
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{server.base_url}/openapi.json",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {key}",
            "--phases",
            "coverage,fuzzing",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--workers",
            "1",  # hypothesis parses lambda sources with `ast`, which CPython 3.11 does not make thread-safe
            "--no-shrink",
            "--request-timeout",
            "60",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ]
        env = dict(
            os.environ,
            SCHEMATHESIS_HOOKS="tests.support.schemathesis_hooks",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            **{PROBE_KEY_ID: me["api_key_id"]},
        )
        run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600, check=False)
    finally:
        server.stop()
    summary = json.loads(report.read_text())
    operations, cases = summary["operations"], summary["test_cases"]
    failures = len(summary["failures"])
    print(f"schemathesis: {operations['tested']} operations, {cases['generated']} cases, {failures} failures")
    found = run.stdout.split("= FAILURES =", 1)[-1].split("= WARNINGS =", 1)[0] if "= FAILURES =" in run.stdout else ""
    assert run.returncode == 0, (found or run.stdout)[:20000] + run.stderr[-2000:]
    assert summary["failures"] == []
    assert summary["errors"] == []
    assert operations["tested"] == operations["total"] > 100
