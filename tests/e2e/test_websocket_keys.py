"""An open websocket stops streaming once its API key is deleted (re-checked at a configurable interval)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets
from agentmail import AgentMail
from agentmail.api_keys import CreateApiKeyResponse, CreateBearerApiKeyRequest
from agentmail.environment import AgentMailEnvironment

from tests.support.server import running_server


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_deleted_key_is_disconnected(backend: str, tmp_path: Path) -> None:
    env = {"POSTROOM_WEBSOCKET_KEY_RECHECK_SECONDS": "0.2"}
    with running_server(backend, tmp_path, extra_env=env) as server:
        sdk = AgentMail(api_key=server.api_key, environment=AgentMailEnvironment(http=server.base_url, websockets=""))
        created = sdk.api_keys.create(request=CreateBearerApiKeyRequest(name="short-lived"))
        assert isinstance(created, CreateApiKeyResponse)
        url = server.base_url.replace("http", "ws", 1) + "/v0"
        headers = {"Authorization": f"Bearer {created.api_key}"}
        async with (
            websockets.connect(url, additional_headers=headers) as doomed,
            websockets.connect(url, additional_headers={"Authorization": f"Bearer {server.api_key}"}) as kept,
        ):
            for socket in (doomed, kept):
                await socket.send(json.dumps({"type": "subscribe"}))
                assert json.loads(await asyncio.wait_for(socket.recv(), 30)) == {"type": "subscribed"}
            await asyncio.to_thread(sdk.api_keys.delete, created.api_key_id)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(doomed.recv(), 30)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1008
            assert closed.value.rcvd.reason == "API key is no longer valid"
            await kept.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(kept.recv(), 30)) == {"type": "pong"}
