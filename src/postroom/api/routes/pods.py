"""Pod routes (spec §3.11): create, list, get, delete."""

from __future__ import annotations

from fastapi import APIRouter, Response

from postroom.api.deps import AppServices, Caller, Listing, PodId
from postroom.api.schemas.access import CreatePodBody, ListPodsOut, PodOut

router = APIRouter(tags=["pods"])


@router.get("/v0/pods", response_model_exclude_none=True)
def list_pods(caller: Caller, container: AppServices, listing: Listing) -> ListPodsOut:
    page = container.pods.list(caller, listing)
    pods = [PodOut.of(pod) for pod in page.items]
    return ListPodsOut(count=len(pods), limit=page.limit, next_page_token=page.next_page_token, pods=pods)


@router.post("/v0/pods", response_model_exclude_none=True)
def create_pod(caller: Caller, container: AppServices, body: CreatePodBody | None = None) -> PodOut:
    body = body or CreatePodBody()
    return PodOut.of(container.pods.create(caller, body.name, body.client_id))


@router.get("/v0/pods/{pod_id}", response_model_exclude_none=True)
def get_pod(caller: Caller, container: AppServices, pod_id: PodId) -> PodOut:
    return PodOut.of(container.pods.get(caller, pod_id))


@router.delete("/v0/pods/{pod_id}", status_code=204)
def delete_pod(caller: Caller, container: AppServices, pod_id: PodId) -> Response:
    container.pods.delete(caller, pod_id)
    return Response(status_code=204)
