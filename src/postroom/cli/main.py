"""Entry point of the ``postroom`` command and its server-side subcommands (serve, migrate, settings)."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Annotated

import typer

from postroom.cli import api_keys, domains, inboxes, pods
from postroom.cli.dns import dns
from postroom.cli.doctor import doctor
from postroom.cli.options import DEFAULT_API_URL, ApiKeyOption, ApiUrlOption
from postroom.roles import ROLES, parse_roles

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals can hold API keys
    help="Postroom: email inboxes for AI agents.",
)
app.add_typer(inboxes.app, name="inboxes")
app.add_typer(pods.app, name="pods")
app.add_typer(api_keys.app, name="keys")
app.add_typer(domains.app, name="domains")
app.command()(dns)
app.command()(doctor)


def _configure_logging(level: str) -> None:
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")


RolesOption = Annotated[
    str | None,
    typer.Option(
        "--roles",
        help="Comma-separated roles this process runs: api, smtp, worker, dispatcher (default: POSTROOM_ROLES, "
        "else all).",
    ),
]


@app.command()
def serve(roles: RolesOption = None) -> None:
    """Migrate the database, bootstrap it on first start, and serve the API, SMTP and workers (or some roles)."""
    from postroom.config import Settings
    from postroom.redaction import install as redact_logs
    from postroom.roles import UnknownRole
    from postroom.runtime import build, outbound_helo_name  # imported here so client commands start fast

    settings = Settings()
    if roles is not None:
        settings.roles = roles
    try:
        chosen = parse_roles(settings.roles)
    except UnknownRole as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    _configure_logging(settings.log_level)
    redact_logs(settings.secret_values())
    try:
        outbound_helo_name(settings)
    except ValueError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from error
    runtime = build(settings)
    base = f"http://{settings.api_host}:{settings.api_port}"
    typer.echo(f"Roles: {', '.join(role for role in ROLES if role in chosen)}")
    typer.echo(f"Postroom API on {base}" if "api" in chosen else f"Health checks on {base}")
    typer.echo(f"Default domain: {settings.default_domain}")
    if runtime.bootstrap.api_key:
        typer.echo("First API key (unrestricted; shown once, store it now):")
        typer.echo(f"POSTROOM_API_KEY={runtime.bootstrap.api_key}")
    if "smtp" in chosen:
        typer.echo(f"SMTP on {settings.smtp_host}:{settings.smtp_port}")
    sys.stdout.flush()
    try:
        asyncio.run(runtime.serve())
    finally:
        runtime.close()


@app.command()
def mcp(api_url: ApiUrlOption = DEFAULT_API_URL, api_key: ApiKeyOption = None) -> None:
    """Serve the MCP tools over stdio for a local agent, acting with the key against the server at the URL."""
    from postroom.cli.client import fail, normalize_url
    from postroom.mcp.stdio import serve_stdio
    from postroom.redaction import install as redact_logs

    key = (api_key or "").strip()
    if not key:
        fail("no API key: pass --api-key or set POSTROOM_API_KEY")
    logging.basicConfig(stream=sys.stderr, level="WARNING", format="%(message)s")  # stdout carries the protocol
    redact_logs([key])
    asyncio.run(serve_stdio(normalize_url(api_url), key))


@app.command()
def migrate() -> None:
    """Apply database migrations (``serve`` does this too)."""
    from postroom.config import Settings
    from postroom.storage.engine import create_database_engine
    from postroom.storage.migrate import upgrade

    settings = Settings()
    engine = create_database_engine(settings.resolved_database_url())
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    typer.echo("Database is at the latest schema.")


@app.command("settings")
def show_settings() -> None:
    """Print every setting with its environment variable, default and meaning (Markdown table)."""
    from postroom.config import Settings

    typer.echo("| variable | default | meaning |")
    typer.echo("|---|---|---|")
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        typer.echo(f"| `POSTROOM_{name.upper()}` | `{default}` | {field.description} |")
