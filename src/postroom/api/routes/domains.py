"""Domain routes served so far (spec §3.9): the zone file of the default domain, at organization and pod scope."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from postroom.api.deps import AppServices, Caller, PodId
from postroom.api.rawpath import segment

router = APIRouter(tags=["domains"])
ZONE_TYPE = "text/plain; charset=utf-8"


def zone_file(request: Request, caller: Caller, container: AppServices) -> Response:
    text = container.dns.zone_file(caller, segment(request.path_params["domain_id"]))
    return Response(text, media_type=ZONE_TYPE)


def pod_zone_file(request: Request, caller: Caller, container: AppServices, pod_id: PodId) -> Response:
    text = container.dns.zone_file(caller, segment(request.path_params["domain_id"]), pod_id)
    return Response(text, media_type=ZONE_TYPE)


router.add_api_route("/v0/domains/{domain_id}/zone-file", zone_file, methods=["GET"])
router.add_api_route("/v0/pods/{pod_id}/domains/{domain_id}/zone-file", pod_zone_file, methods=["GET"])
