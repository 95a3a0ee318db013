"""Connecting CLI commands to a Postroom server through the official ``agentmail`` SDK client, with a one-line
error and exit status 1 for every API or connection failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

import typer

if TYPE_CHECKING:
    from agentmail import AgentMail
    from agentmail.core.api_error import ApiError
    from agentmail.core.request_options import RequestOptions

TIMEOUT_SECONDS = 30.0

# The CLI is interactive: a failed call should surface at once instead of after the SDK's back-off retries.
NO_RETRIES: RequestOptions = {"max_retries": 0}


def fail(message: str) -> NoReturn:
    """Print ``error: <message>`` on one line to stderr and exit with status 1."""
    one_line = " ".join(message.split())
    typer.echo(f"error: {one_line}", err=True)
    raise typer.Exit(1)


def normalize_url(api_url: str) -> str:
    """The server URL without a trailing slash; refuses anything that is not ``http(s)://host[:port][/path]``."""
    url = api_url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        fail(f"invalid API URL {api_url!r}: expected http(s)://host[:port]")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        fail(f"invalid API URL {api_url!r}: expected http(s)://host[:port]")
    return url


def websocket_url(http_url: str) -> str:
    """The WebSocket base for an HTTP base URL: Postroom serves both on the same host and port."""
    scheme, rest = http_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}"


def describe_api_error(error: ApiError) -> str:
    """``<status> <code>: <message>`` (plus the server's suggested fix) from an SDK ``ApiError``."""
    body: object = error.body
    dump = getattr(body, "model_dump", None)
    if callable(dump):  # typed SDK errors carry a parsed ErrorResponse model, the generic ApiError a dict
        body = dump(mode="json", exclude_none=True)
    status = "" if error.status_code is None else f"{error.status_code} "
    if isinstance(body, dict):
        code = body.get("code") or body.get("name") or "error"
        message = body.get("message") or "no message"
        fix = body.get("fix")
        return f"{status}{code}: {message}" + (f" ({fix})" if fix else "")
    if isinstance(body, str) and body.strip():
        first = body.strip().splitlines()[0]
        return f"{status}unexpected response: {first[:200]}"
    return f"{status}request failed"


@contextmanager
def session(api_url: str, api_key: str | None) -> Iterator[AgentMail]:
    """An SDK client for the server; any API or connection failure inside the block ends the command with one line."""
    import httpx  # imported here so ``postroom --help`` does not load the SDK
    from agentmail import AgentMail
    from agentmail.core.api_error import ApiError
    from agentmail.environment import AgentMailEnvironment

    url = normalize_url(api_url)
    key = (api_key or "").strip()  # a key read from a file often ends in a newline
    if not key:
        fail("no API key: pass --api-key or set POSTROOM_API_KEY")
    http = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=True)
    environment = AgentMailEnvironment(http=url, websockets=websocket_url(url))
    try:
        yield AgentMail(api_key=key, environment=environment, httpx_client=http, timeout=TIMEOUT_SECONDS)
    except ApiError as error:
        fail(describe_api_error(error))
    except httpx.ConnectError:
        fail(f"cannot reach Postroom at {url}")
    except httpx.TimeoutException:
        fail(f"Postroom at {url} did not answer within {TIMEOUT_SECONDS:g} s")
    except httpx.HTTPError as error:
        fail(f"request to Postroom at {url} failed: {error or type(error).__name__}")
    finally:
        http.close()
