"""Conformance fixtures: a real ``postroom serve`` per backend and the official SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agentmail import AgentMail, AsyncAgentMail
from agentmail.environment import AgentMailEnvironment

from tests.support.server import ServerProcess, running_server


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp(f"serve-{request.param}")
    # Webhook receivers in these tests listen on loopback, which a production server refuses.
    with running_server(request.param, data_dir, extra_env={"POSTROOM_ALLOW_PRIVATE_URLS": "true"}) as process:
        yield process


def environment(server: ServerProcess) -> AgentMailEnvironment:
    return AgentMailEnvironment(http=server.base_url, websockets=server.base_url.replace("http", "ws", 1))


@pytest.fixture
def sdk(server: ServerProcess) -> AgentMail:
    """The official sync client with the server's unrestricted organization key."""
    return AgentMail(api_key=server.api_key, environment=environment(server))


@pytest.fixture
def async_sdk(server: ServerProcess) -> AsyncAgentMail:
    return AsyncAgentMail(api_key=server.api_key, environment=environment(server))


def client_for(server: ServerProcess, api_key: str) -> AgentMail:
    return AgentMail(api_key=api_key, environment=environment(server))
