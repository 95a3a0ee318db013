"""``postroom keys``: create, list and delete API keys for the organization, one pod or one inbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

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
from postroom.cli.output import Cell, print_json, show_list, show_message, show_record, when
from postroom.cli.parsing import parse_permissions, parse_timestamp

if TYPE_CHECKING:
    from agentmail.api_keys import ApiKey, ApiKeyPermissions, CreateApiKeyResult, ListApiKeysResponse
    from agentmail.api_keys.client import ApiKeysClient as OrganizationKeys
    from agentmail.inboxes.api_keys.client import ApiKeysClient as InboxKeys
    from agentmail.pods.api_keys.client import ApiKeysClient as PodKeys

app = typer.Typer(
    no_args_is_help=True,
    help="Create and manage API keys. Without --inbox-id or --pod-id a command acts on organization keys.",
)

SCOPE_PANEL = "Scope"
InboxScopeOption = Annotated[
    str | None,
    typer.Option("--inbox-id", help="Keys of this inbox.", show_default=False, rich_help_panel=SCOPE_PANEL),
]
PodScopeOption = Annotated[
    str | None,
    typer.Option("--pod-id", help="Keys of this pod.", show_default=False, rich_help_panel=SCOPE_PANEL),
]


def _one_scope(inbox_id: str | None, pod_id: str | None) -> None:
    if inbox_id and pod_id:
        raise typer.BadParameter("pass --inbox-id or --pod-id, not both", param_hint="'--inbox-id' / '--pod-id'")


def _scope(inbox_id: str | None, pod_id: str | None) -> str:
    if inbox_id:
        return f"inbox {inbox_id}"
    if pod_id:
        return f"pod {pod_id}"
    return "organization"


def _permissions(permissions: ApiKeyPermissions | None) -> str:
    if permissions is None:
        return "all (unrestricted)"
    granted = sorted(name for name, value in permissions.model_dump(exclude_none=True).items() if value is True)
    return ", ".join(granted) if granted else "none"


def show_created(result: CreateApiKeyResult, as_json: bool) -> None:
    from agentmail.api_keys import CreateApiKeyResponse

    if as_json:
        print_json(result)
        return
    secret = result.api_key if isinstance(result, CreateApiKeyResponse) else None
    show_record(
        "API key",
        [
            ("Key ID", result.api_key_id),
            ("Name", result.name),
            ("Prefix", getattr(result, "prefix", None)),
            ("Scope", _scope(result.inbox_id, result.pod_id)),
            ("Permissions", _permissions(result.permissions)),
            ("Expires", when(result.expires_at) or "never"),
            ("Created", when(result.created_at)),
        ],
    )
    if secret:
        typer.echo("Secret (shown only this once; store it now):")
        typer.echo(secret)


@app.command()
def create(
    name: Annotated[str | None, typer.Option(help="Name to recognise the key by.", show_default=False)] = None,
    inbox_id: Annotated[
        str | None,
        typer.Option(
            "--inbox-id", help="Restrict the key to this inbox.", show_default=False, rich_help_panel=SCOPE_PANEL
        ),
    ] = None,
    pod_id: Annotated[
        str | None,
        typer.Option("--pod-id", help="Restrict the key to this pod.", show_default=False, rich_help_panel=SCOPE_PANEL),
    ] = None,
    permission: Annotated[
        list[str] | None,
        typer.Option(
            "--permission",
            metavar="NAME",
            help="Grant only this permission (e.g. inbox_read); repeat for more. Omitted: every permission.",
            show_default=False,
        ),
    ] = None,
    expires_at: Annotated[
        str | None,
        typer.Option(
            "--expires-at",
            metavar="ISO-8601",
            help="Expiry time, e.g. 2030-01-31T12:00:00Z (UTC when no offset is given).",
            show_default=False,
        ),
    ] = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key and print its secret (the only time the secret is shown)."""
    from agentmail.api_keys import ApiKeyPermissions, CreateBearerApiKeyRequest

    _one_scope(inbox_id, pod_id)
    request = CreateBearerApiKeyRequest(
        **({"name": name} if name is not None else {}),
        **({"permissions": parse_permissions(permission, ApiKeyPermissions.model_fields)} if permission else {}),
        **({"expires_at": parse_timestamp(expires_at)} if expires_at is not None else {}),
    )
    with session(api_url, api_key) as client:
        result: CreateApiKeyResult
        if inbox_id:
            inbox_keys: InboxKeys = client.inboxes.api_keys
            result = inbox_keys.create(inbox_id, request=request, request_options=NO_RETRIES)
        elif pod_id:
            pod_keys: PodKeys = client.pods.api_keys
            result = pod_keys.create(pod_id, request=request, request_options=NO_RETRIES)
        else:
            organization_keys: OrganizationKeys = client.api_keys
            result = organization_keys.create(request=request, request_options=NO_RETRIES)
    show_created(result, as_json)


def _key_row(key: ApiKey) -> list[Cell]:
    return [
        key.api_key_id,
        key.name,
        getattr(key, "prefix", None),
        _scope(key.inbox_id, key.pod_id),
        _permissions(key.permissions),
        when(key.used_at),
        when(key.expires_at) or "never",
    ]


@app.command("list")
def list_keys(
    inbox_id: InboxScopeOption = None,
    pod_id: PodScopeOption = None,
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List API keys (secrets are never shown again, only their prefix)."""
    _one_scope(inbox_id, pod_id)
    with session(api_url, api_key) as client:
        page: ListApiKeysResponse
        if inbox_id:
            inbox_keys: InboxKeys = client.inboxes.api_keys
            page = inbox_keys.list(inbox_id, limit=limit, page_token=page_token, request_options=NO_RETRIES)
        elif pod_id:
            pod_keys: PodKeys = client.pods.api_keys
            page = pod_keys.list(pod_id, limit=limit, page_token=page_token, request_options=NO_RETRIES)
        else:
            organization_keys: OrganizationKeys = client.api_keys
            page = organization_keys.list(limit=limit, page_token=page_token, request_options=NO_RETRIES)
    if as_json:
        print_json(page)
        return
    show_list(
        "API keys",
        ["Key ID", "Name", "Prefix", "Scope", "Permissions", "Last used", "Expires"],
        [_key_row(key) for key in page.api_keys],
        page.next_page_token,
    )


@app.command()
def delete(
    api_key_id: Annotated[str, typer.Option("--api-key-id", help="ID of the key to delete.", show_default=False)],
    inbox_id: InboxScopeOption = None,
    pod_id: PodScopeOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete (revoke) an API key; requests made with it fail from then on."""
    _one_scope(inbox_id, pod_id)
    with session(api_url, api_key) as client:
        if inbox_id:
            inbox_keys: InboxKeys = client.inboxes.api_keys
            inbox_keys.delete(inbox_id, api_key_id, request_options=NO_RETRIES)
        elif pod_id:
            pod_keys: PodKeys = client.pods.api_keys
            pod_keys.delete(pod_id, api_key_id, request_options=NO_RETRIES)
        else:
            organization_keys: OrganizationKeys = client.api_keys
            organization_keys.delete(api_key_id, request_options=NO_RETRIES)
    if as_json:
        print_json({"api_key_id": api_key_id, "deleted": True})
    else:
        show_message(f"Deleted API key {api_key_id}.")
