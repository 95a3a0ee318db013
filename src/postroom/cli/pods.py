"""``postroom pods``: create, list, show and delete pods (the tenant containers that hold inboxes)."""

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
    from agentmail.pods import ListPodsResponse, Pod
    from agentmail.pods.client import PodsClient

app = typer.Typer(no_args_is_help=True, help="Create and manage pods (groups of inboxes, e.g. one per tenant).")

PodIdOption = Annotated[str, typer.Option("--pod-id", help="The pod's ID.", show_default=False)]


def show_pod(pod: Pod, as_json: bool) -> None:
    if as_json:
        print_json(pod)
        return
    show_record(
        "Pod",
        [
            ("Pod ID", pod.pod_id),
            ("Name", pod.name),
            ("Client ID", pod.client_id),
            ("Created", when(pod.created_at)),
            ("Updated", when(pod.updated_at)),
        ],
    )


@app.command()
def create(
    name: Annotated[str | None, typer.Option(help="Name of the pod.", show_default=False)] = None,
    client_id: Annotated[
        str | None,
        typer.Option("--client-id", help="Idempotency key: repeating it returns the same pod.", show_default=False),
    ] = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a pod."""
    fields: dict[str, Any] = {"name": name, "client_id": client_id}
    with session(api_url, api_key) as client:
        pods: PodsClient = client.pods
        # Only the given options are sent: the SDK sends an explicit None as JSON null.
        pod = pods.create(
            **{key: value for key, value in fields.items() if value is not None}, request_options=NO_RETRIES
        )
    show_pod(pod, as_json)


@app.command("list")
def list_pods(
    limit: LimitOption = None,
    page_token: PageTokenOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List pods, newest first, one page at a time."""
    with session(api_url, api_key) as client:
        pods: PodsClient = client.pods
        page: ListPodsResponse = pods.list(limit=limit, page_token=page_token, request_options=NO_RETRIES)
    if as_json:
        print_json(page)
        return
    show_list(
        "pods",
        ["Pod ID", "Name", "Client ID", "Created"],
        [[pod.pod_id, pod.name, pod.client_id, when(pod.created_at)] for pod in page.pods],
        page.next_page_token,
    )


@app.command()
def get(
    pod_id: PodIdOption,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one pod."""
    with session(api_url, api_key) as client:
        pods: PodsClient = client.pods
        pod = pods.get(pod_id, request_options=NO_RETRIES)
    show_pod(pod, as_json)


@app.command()
def delete(
    pod_id: PodIdOption,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete an empty pod (the server refuses while it still holds inboxes or domains)."""
    with session(api_url, api_key) as client:
        pods: PodsClient = client.pods
        pods.delete(pod_id, request_options=NO_RETRIES)
    if as_json:
        print_json({"pod_id": pod_id, "deleted": True})
    else:
        show_message(f"Deleted pod {pod_id}.")
