"""``postroom domains``: add custom domains, print the DNS records to publish, verify them, list and delete them.

With ``--pod-id`` a command works on the pod's domains (``/v0/pods/{pod_id}/domains``), else on the
organization's (or, with a pod key, its pod's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from postroom.cli.client import NO_RETRIES, session
from postroom.cli.options import (
    DEFAULT_API_URL,
    ApiKeyOption,
    ApiUrlOption,
    JsonOption,
    LimitOption,
    PageTokenOption,
)
from postroom.cli.output import print_json, show_list, show_message, show_record, when

if TYPE_CHECKING:
    from agentmail import AgentMail
    from agentmail.domains import Domain, ListDomainsResponse

app = typer.Typer(
    no_args_is_help=True,
    help="Add custom domains, print the DNS records to publish, verify them, and manage them.",
)

NameArgument = Annotated[str, typer.Argument(help="The domain name, e.g. example.com.", show_default=False)]
PodIdOption = Annotated[
    str | None,
    typer.Option("--pod-id", help="Work on this pod's domains instead of the organization's.", show_default=False),
]


def call(client: AgentMail, pod_id: str | None, method: str, *args: Any, **kwargs: Any) -> Any:
    """``client.domains.<method>(...)``, or ``client.pods.domains.<method>(pod_id, ...)`` with ``pod_id``."""
    kwargs["request_options"] = NO_RETRIES
    if pod_id is None:
        return getattr(client.domains, method)(*args, **kwargs)
    return getattr(client.pods.domains, method)(pod_id, *args, **kwargs)


def show_domain(domain: Domain, as_json: bool) -> None:
    if as_json:
        print_json(domain)
        return
    show_record(
        "Domain",
        [
            ("Domain", domain.domain),
            ("Status", domain.status),
            ("Reason", domain.reason),
            ("Pod", domain.pod_id or "(every pod)"),
            ("Receives mail", "yes" if domain.inbound_enabled is not False else "no"),
            ("Subdomains", "yes" if domain.subdomains_enabled else "no"),
            ("Created", when(domain.created_at)),
            ("Updated", when(domain.updated_at)),
        ],
    )
    show_list(
        "records",
        ["Type", "Name", "Value", "Priority", "Status"],
        [
            [
                record.type,
                record.name,
                record.value,
                str(record.priority) if record.priority is not None else None,
                f"{record.status} ({record.reason})" if record.reason else record.status,
            ]
            for record in domain.records
        ],
    )


@app.command()
def create(
    name: NameArgument,
    pod_id: PodIdOption = None,
    inbound: Annotated[
        bool, typer.Option("--inbound/--no-inbound", help="Receive mail for the domain (publish its MX).")
    ] = True,
    subdomains: Annotated[
        bool, typer.Option("--subdomains", help="Allow inboxes on any subdomain (publish a wildcard MX).")
    ] = False,
    allow_conflicting_provider: Annotated[
        bool,
        typer.Option("--allow-conflicting-provider", help="Register it even if its MX points at Google Workspace."),
    ] = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a domain; then publish its records (``zone-file``) and run ``verify``."""
    options: dict[str, Any] = {"inbound_enabled": inbound, "subdomains_enabled": subdomains}
    if allow_conflicting_provider:
        options["allow_conflicting_provider"] = True
    with session(api_url, api_key) as client:
        domain = call(client, pod_id, "create", domain=name, **options)
    show_domain(domain, as_json)


@app.command("list")
def list_domains(
    pod_id: PodIdOption = None,
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List domains (the server's default domain included), newest first, one page at a time."""
    with session(api_url, api_key) as client:
        page: ListDomainsResponse = call(client, pod_id, "list", limit=limit, page_token=page_token)
    if as_json:
        print_json(page)
        return
    show_list(
        "domains",
        ["Domain", "Pod", "Receives", "Subdomains", "Created"],
        [
            [
                item.domain,
                item.pod_id or "(every pod)",
                "yes" if item.inbound_enabled is not False else "no",
                "yes" if item.subdomains_enabled else "no",
                when(item.created_at),
            ]
            for item in page.domains
        ],
        page.next_page_token,
    )


@app.command()
def get(
    name: NameArgument,
    pod_id: PodIdOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a domain, its status and every record with its status."""
    with session(api_url, api_key) as client:
        domain = call(client, pod_id, "get", name)
    show_domain(domain, as_json)


@app.command()
def verify(
    name: NameArgument,
    pod_id: PodIdOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the domain's records in DNS now and show the outcome (VERIFIED once every record is VALID)."""
    with session(api_url, api_key) as client:
        call(client, pod_id, "verify", name)
        domain = call(client, pod_id, "get", name)
    show_domain(domain, as_json)


@app.command("zone-file")
def zone_file(
    name: NameArgument,
    pod_id: PodIdOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Print the records to publish for the domain, as a BIND zone file."""
    with session(api_url, api_key) as client:
        zone = b"".join(call(client, pod_id, "get_zone_file", name))
    typer.echo(zone.decode(), nl=False)


@app.command()
def delete(
    name: NameArgument,
    pod_id: PodIdOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a domain: its inboxes keep their mail but stop sending and receiving until it is added back."""
    with session(api_url, api_key) as client:
        call(client, pod_id, "delete", name)
    if as_json:
        print_json({"domain_id": name, "deleted": True})
    else:
        show_message(f"Deleted domain {name}.")
