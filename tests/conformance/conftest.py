"""Conformance fixtures: a real ``postroom serve`` per backend and the official SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agentmail import AgentMail, AsyncAgentMail
from agentmail.environment import AgentMailEnvironment

from tests.support.server import ServerProcess, running_server
from tests.support.sink import SinkServer

# Mail to these domains goes to the session's sink instead of the internet (POSTROOM_MX_OVERRIDES).
SINK_DOMAINS = ("example.org", "example.net", "example.com")


@pytest.fixture(scope="session")
def sink() -> Iterator[SinkServer]:
    """The stand-in for every remote MX host; tests ``sink.clear()`` it and script its replies as they need."""
    with SinkServer() as server:
        yield server


def outbound_env(sink: SinkServer) -> dict[str, str]:
    """Settings under which a test server delivers to the sink, fetches loopback URLs and retries quickly."""
    return {
        "POSTROOM_MX_OVERRIDES": ",".join(f"{domain}={sink.address}" for domain in SINK_DOMAINS),
        "POSTROOM_ALLOW_PRIVATE_URLS": "true",  # attachment URLs and webhook receivers live on loopback in tests
        "POSTROOM_DELIVERY_RETRY_BASE_SECONDS": "0.5",
        "POSTROOM_DELIVERY_RETRY_MAX_SECONDS": "1",
        "POSTROOM_DELIVERY_POLL_SECONDS": "0.2",
    }


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sink: SinkServer
) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp(f"serve-{request.param}")
    with running_server(request.param, data_dir, extra_env=outbound_env(sink)) as process:
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
