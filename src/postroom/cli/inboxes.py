"""``postroom inboxes``: create, show, list, update and delete inboxes through the AgentMail API."""

from __future__ import annotations

import json
import warnings
from enum import StrEnum
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
from postroom.cli.output import Cell, print_json, show_list, show_message, show_record, when
from postroom.cli.parsing import parse_metadata

if TYPE_CHECKING:
    from agentmail.inboxes import Inbox, ListInboxesResponse
    from agentmail.inboxes.client import InboxesClient

app = typer.Typer(no_args_is_help=True, help="Create and manage inboxes (email addresses for agents).")

InboxIdOption = Annotated[str, typer.Option("--inbox-id", help="The inbox's email address.", show_default=False)]
MetadataOption = Annotated[
    list[str] | None,
    typer.Option(
        "--metadata",
        metavar="KEY=VALUE",
        help="Metadata entry; repeat for more. true/false become booleans, numbers become numbers.",
        show_default=False,
    ),
]


class Status(StrEnum):
    active = "active"
    paused = "paused"


def _status(inbox: Inbox) -> str:
    return "paused" if inbox.status == "paused" else "active"


def _metadata(metadata: dict[str, Any] | None) -> Cell:
    if not metadata:
        return None
    return "\n".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in metadata.items())


def show_inbox(inbox: Inbox, as_json: bool) -> None:
    if as_json:
        print_json(inbox)
        return
    show_record(
        "Inbox",
        [
            ("Inbox ID", inbox.inbox_id),
            ("Email", inbox.email if inbox.email != inbox.inbox_id else None),
            ("Display name", inbox.display_name),
            ("Status", _status(inbox)),
            ("Pod", inbox.pod_id),
            ("Client ID", inbox.client_id),
            ("Metadata", _metadata(inbox.metadata)),
            ("Created", when(inbox.created_at)),
            ("Updated", when(inbox.updated_at)),
        ],
    )


@app.command()
def create(
    username: Annotated[
        str | None, typer.Option(help="Local part of the address; random if omitted.", show_default=False)
    ] = None,
    domain: Annotated[
        str | None, typer.Option(help="Domain of the address; the server's default domain if omitted.")
    ] = None,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Name shown in the From header.", show_default=False)
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option("--client-id", help="Idempotency key: repeating it returns the same inbox.", show_default=False),
    ] = None,
    metadata: MetadataOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an inbox."""
    from agentmail.inboxes import CreateInboxRequest

    fields: dict[str, Any] = {"username": username, "domain": domain, "display_name": display_name}
    fields.update(client_id=client_id, metadata=parse_metadata(metadata) if metadata else None)
    # Built unvalidated: validating against the SDK's ``Union[str, float, bool]`` would send metadata 5 as 5.0.
    request = CreateInboxRequest.model_construct(**{key: value for key, value in fields.items() if value is not None})
    with session(api_url, api_key) as client, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Pydantic serializer warnings", category=UserWarning)
        inboxes: InboxesClient = client.inboxes
        inbox = inboxes.create(request=request, request_options=NO_RETRIES)
    show_inbox(inbox, as_json)


@app.command()
def get(
    inbox_id: InboxIdOption,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one inbox."""
    with session(api_url, api_key) as client:
        inboxes: InboxesClient = client.inboxes
        inbox = inboxes.get(inbox_id, request_options=NO_RETRIES)
    show_inbox(inbox, as_json)


@app.command("list")
def list_inboxes(
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List inboxes, newest first, one page at a time."""
    with session(api_url, api_key) as client:
        inboxes: InboxesClient = client.inboxes
        page: ListInboxesResponse = inboxes.list(limit=limit, page_token=page_token, request_options=NO_RETRIES)
    if as_json:
        print_json(page)
        return
    show_list(
        "inboxes",
        ["Inbox ID", "Display name", "Status", "Pod", "Created"],
        [
            [inbox.inbox_id, inbox.display_name, _status(inbox), inbox.pod_id, when(inbox.created_at)]
            for inbox in page.inboxes
        ],
        page.next_page_token,
    )


@app.command()
def update(
    inbox_id: InboxIdOption,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="New display name.", show_default=False)
    ] = None,
    status: Annotated[
        Status | None, typer.Option(help="'paused' stops sending and receiving; 'active' resumes.")
    ] = None,
    metadata: MetadataOption = None,
    remove_metadata: Annotated[
        list[str] | None,
        typer.Option("--remove-metadata", metavar="KEY", help="Metadata key to remove; repeat for more."),
    ] = None,
    clear_metadata: Annotated[bool, typer.Option("--clear-metadata", help="Remove all metadata.")] = False,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an inbox's display name, status or metadata (metadata entries merge into the existing ones)."""
    changes: dict[str, Any] = {}
    if display_name is not None:
        changes["display_name"] = display_name
    if status is not None:
        changes["status"] = status.value
    if clear_metadata:
        if metadata or remove_metadata:
            raise typer.BadParameter(
                "cannot be combined with --metadata or --remove-metadata", param_hint="'--clear-metadata'"
            )
        changes["metadata"] = None
    elif metadata or remove_metadata:
        merged: dict[str, Any] = parse_metadata(metadata or [])
        for key in remove_metadata or []:
            if key in merged:
                raise typer.BadParameter(f"{key!r} is also set with --metadata", param_hint="'--remove-metadata'")
            merged[key] = None  # null removes the key; the others merge into the stored metadata
        changes["metadata"] = merged
    if not changes:
        raise typer.BadParameter(
            "nothing to change: pass --display-name, --status, --metadata, --remove-metadata or --clear-metadata"
        )
    with session(api_url, api_key) as client:
        inboxes: InboxesClient = client.inboxes
        inbox = inboxes.update(inbox_id, **changes, request_options=NO_RETRIES)
    show_inbox(inbox, as_json)


@app.command()
def delete(
    inbox_id: InboxIdOption,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete an inbox with all its threads, messages and drafts."""
    with session(api_url, api_key) as client:
        inboxes: InboxesClient = client.inboxes
        inboxes.delete(inbox_id, request_options=NO_RETRIES)
    if as_json:
        print_json({"inbox_id": inbox_id, "deleted": True})
    else:
        show_message(f"Deleted inbox {inbox_id}.")
