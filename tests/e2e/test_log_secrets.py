"""``postroom serve`` writes no API key to its log, even one sent in the websocket URL (issue 15, item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.support.log_secrets import leaks
from tests.support.server import ServerProcess

UNKNOWN_KEY = "pr_UnknownKeyThatWasNeverIssued0000000000"


async def test_websocket_query_keys_are_redacted(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, extra_env={"POSTROOM_LOG_LEVEL": "info"}).start()
    try:
        url = server.base_url.replace("http", "ws", 1) + "/v0"
        async with websockets.connect(f"{url}?api_key={server.api_key}") as socket:
            await socket.send('{"type": "ping"}')
            assert "pong" in str(await socket.recv())
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(f"{url}?api_key={UNKNOWN_KEY}"):
                pass
        assert refused.value.response.status_code == 401
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert log.count("WebSocket /v0?api_key=[redacted]") >= 2  # uvicorn's lines are there, with the keys taken out
    assert server.api_key not in log.replace(f"POSTROOM_API_KEY={server.api_key}", "")
    assert UNKNOWN_KEY not in log
    assert not [line for line in leaks() if str(server.log_path) in line]
