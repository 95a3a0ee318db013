"""`postroom serve` refuses to start sending with an EHLO name receivers refuse, unless explicitly allowed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("POSTROOM_")}
    environment.update(POSTROOM_DATA_DIR=str(tmp_path), **env)
    command = [sys.executable, "-m", "postroom.cli", "serve"]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60, check=False)


def test_serve_refuses_a_mail_host_that_is_not_fully_qualified(tmp_path: Path) -> None:
    result = serve(tmp_path, POSTROOM_MAIL_HOST="localhost")
    assert result.returncode == 2
    assert "the outbound EHLO name 'localhost' (mail_host) is not a fully-qualified domain name" in result.stderr
    assert "POSTROOM_ALLOW_NON_FQDN_HELO=true" in result.stderr
    assert not (tmp_path / "postroom.db").exists()  # refused before anything was set up
