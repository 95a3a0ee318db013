"""``postroom dns``: print the DNS records (BIND zone text) to publish for a sending domain."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from postroom.cli.client import NO_RETRIES, session
from postroom.cli.options import DEFAULT_API_URL, ApiKeyOption, ApiUrlOption


def dns(
    domain: Annotated[
        str | None,
        typer.Argument(
            help="The domain (default: POSTROOM_DEFAULT_DOMAIN, else postroom.localhost).", show_default=False
        ),
    ] = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Print the MX, SPF, DKIM and DMARC records to publish for DOMAIN, as a BIND zone file."""
    name = domain or os.environ.get("POSTROOM_DEFAULT_DOMAIN", "postroom.localhost")
    with session(api_url, api_key) as client:
        zone = b"".join(client.domains.get_zone_file(name.strip().lower(), request_options=NO_RETRIES))
    typer.echo(zone.decode(), nl=False)
