"""The typer options shared by the ``inboxes``, ``pods`` and ``keys`` commands: connection, output and paging."""

from __future__ import annotations

from typing import Annotated

import typer

DEFAULT_API_URL = "http://127.0.0.1:8080"
CONNECTION_PANEL = "Connection"

ApiUrlOption = Annotated[
    str,
    typer.Option(
        "--api-url",
        envvar="POSTROOM_API_URL",
        help="Base URL of the Postroom server.",
        rich_help_panel=CONNECTION_PANEL,
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="POSTROOM_API_KEY",
        help="API key to authenticate with.",
        show_default=False,
        rich_help_panel=CONNECTION_PANEL,
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print the API response as JSON instead of a table.", rich_help_panel="Output"),
]
LimitOption = Annotated[int | None, typer.Option("--limit", min=1, help="Items per page (server maximum 100).")]
PageTokenOption = Annotated[
    str | None,
    typer.Option("--page-token", help="Token printed with the previous page.", show_default=False),
]
