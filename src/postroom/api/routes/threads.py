"""Thread routes at organization, pod and inbox scope (spec §3.4): list, search, get, labels, delete, attachments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from postroom.api.deps import AppServices, Caller, Listing, RouteInboxId, RoutePodId
from postroom.api.downloads import attachment_response
from postroom.api.mail_params import ThreadFilter
from postroom.api.rawpath import segment
from postroom.api.schemas.mail import (
    AttachmentResponseOut,
    ListThreadsOut,
    SearchThreadItemOut,
    SearchThreadsOut,
    ThreadLabelsBody,
    ThreadLabelsOut,
    ThreadOut,
    as_list,
)
from postroom.api.search_params import Search
from postroom.domain.labels import LabelChange
from postroom.services.mail.mailbox import MailRoute
from postroom.wire.mail import MessageOut, ThreadItemOut

router = APIRouter(tags=["threads"])
PREFIXES = ("/v0", "/v0/pods/{pod_id}", "/v0/inboxes/{inbox_id}")


async def mail_route(pod_id: RoutePodId, inbox_id: RouteInboxId) -> MailRoute:
    return MailRoute(pod_id=pod_id, inbox_id=inbox_id)


Route = Annotated[MailRoute, Depends(mail_route)]


def _thread_id(request: Request) -> str:
    return segment(request.path_params["thread_id"])


def list_threads(
    caller: Caller, container: AppServices, route: Route, listing: Listing, mail_filter: ThreadFilter
) -> ListThreadsOut:
    page = container.mail.list_threads(caller, route, listing, mail_filter)
    items = [ThreadItemOut.of(thread) for thread in page.items]
    return ListThreadsOut(count=len(items), limit=page.limit, next_page_token=page.next_page_token, threads=items)


def search_threads(
    caller: Caller, container: AppServices, route: Route, listing: Listing, search: Search
) -> SearchThreadsOut:
    page = container.search.search_threads(caller, route, search, listing)
    items = [SearchThreadItemOut.hit(result.thread, result.highlights) for result in page.items]
    return SearchThreadsOut(count=len(items), limit=page.limit, next_page_token=page.next_page_token, threads=items)


def get_thread(request: Request, caller: Caller, container: AppServices, route: Route, listing: Listing) -> ThreadOut:
    thread, page = container.mail.get_thread(caller, route, _thread_id(request), listing)
    messages = [MessageOut.full(message) for message in page.items]
    return ThreadOut.model_validate(
        ThreadOut.fields_of(thread)
        | {"count": len(messages), "limit": page.limit, "next_page_token": page.next_page_token, "messages": messages}
    )


def update_thread(
    request: Request, caller: Caller, container: AppServices, route: Route, body: ThreadLabelsBody
) -> ThreadLabelsOut:
    change = LabelChange(as_list(body.add_labels), as_list(body.remove_labels))
    thread = container.mail.update_thread(caller, route, _thread_id(request), change)
    return ThreadLabelsOut(thread_id=thread.thread_id, labels=thread.labels)


def delete_thread(request: Request, caller: Caller, container: AppServices, route: Route) -> Response:
    container.mail.delete_thread(caller, route, _thread_id(request))
    return Response(status_code=204)


def thread_attachment(request: Request, caller: Caller, container: AppServices, route: Route) -> AttachmentResponseOut:
    attachment_id = segment(request.path_params["attachment_id"])
    link = container.mail.thread_attachment(caller, route, _thread_id(request), attachment_id)
    return attachment_response(request, link)


for prefix in PREFIXES:
    one = f"{prefix}/threads/{{thread_id}}"
    router.add_api_route(f"{prefix}/threads", list_threads, methods=["GET"], response_model_exclude_none=True)
    # Before {thread_id}, or "search" would be taken for a thread id.
    router.add_api_route(f"{prefix}/threads/search", search_threads, methods=["GET"], response_model_exclude_none=True)
    router.add_api_route(one, get_thread, methods=["GET"], response_model_exclude_none=True)
    router.add_api_route(one, update_thread, methods=["PATCH"], response_model_exclude_none=True)
    router.add_api_route(one, delete_thread, methods=["DELETE"], status_code=204)
    router.add_api_route(
        f"{one}/attachments/{{attachment_id}}", thread_attachment, methods=["GET"], response_model_exclude_none=True
    )
