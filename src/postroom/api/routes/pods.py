"""Pod routes (spec §3.11): create, list, get, delete."""

from __future__ import annotations

from fastapi import APIRouter, Response

from postroom.api.deps import AppServices, Caller, Listing, PodId
from postroom.api.schemas.access import CreatePodBody, ListPodsOut, PodOut

router = APIRouter(tags=["pods"])


def list_pods(caller: Caller, container: AppServices, listing: Listing) -> ListPodsOut:
    page = container.pods.list(caller, listing)
    pods = [PodOut.of(pod) for pod in page.items]
    return ListPodsOut(count=len(pods), limit=page.limit, next_page_token=page.next_page_token, pods=pods)


def create_pod(caller: Caller, container: AppServices, body: CreatePodBody | None = None) -> PodOut:
    body = body or CreatePodBody()
    return PodOut.of(container.pods.create(caller, body.name, body.client_id))


def get_pod(caller: Caller, container: AppServices, pod_id: PodId) -> PodOut:
    return PodOut.of(container.pods.get(caller, pod_id))


def delete_pod(caller: Caller, container: AppServices, pod_id: PodId) -> Response:
    container.pods.delete(caller, pod_id)
    return Response(status_code=204)


router.add_api_route("/v0/pods", list_pods, methods=["GET"], response_model_exclude_none=True)
router.add_api_route("/v0/pods", create_pod, methods=["POST"], response_model_exclude_none=True)
router.add_api_route("/v0/pods/{pod_id}", get_pod, methods=["GET"], response_model_exclude_none=True)
router.add_api_route("/v0/pods/{pod_id}", delete_pod, methods=["DELETE"], status_code=204)
