"""Pods: tenant containers between the organization and its inboxes (create, list, get, delete)."""

from __future__ import annotations

from postroom.domain.access import Pod, Principal, ScopeType
from postroom.domain.ids import new_id
from postroom.domain.inbox import check_client_id
from postroom.domain.pagination import PageTokens
from postroom.errors import Conflict, Forbidden, InvalidInput
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_pod
from postroom.services.metrics import usage
from postroom.services.paging import ListParams, Page, empty_page, paginate
from postroom.services.ports import Clock, UnitOfWorkFactory

MAX_POD_NAME_CHARS = 256


class PodService:
    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: PageTokens, clock: Clock) -> None:
        self._clock = clock
        self._uow = uow_factory
        self._tokens = tokens

    def create(self, principal: Principal, name: str | None, client_id: str | None) -> Pod:
        require(principal, "pod_create")
        if principal.scope_type is not ScopeType.ORGANIZATION:
            raise Forbidden("Only an organization key can create pods")
        if client_id is not None:
            check_client_id(client_id)
        if name is not None and (len(name) > MAX_POD_NAME_CHARS or any(ord(ch) < 32 for ch in name)):
            raise InvalidInput(f"name must be at most {MAX_POD_NAME_CHARS} printable characters", field="name")
        with self._uow(write=True) as uow:
            if client_id is not None:
                existing = uow.pods.get_by_client_id(principal.organization_id, client_id)
                if existing is not None:
                    return existing
            now = self._clock.now()
            pod_id = new_id("pod")
            pod = Pod(pod_id, principal.organization_id, name or pod_id, client_id, False, now, now)
            try:
                uow.pods.add(pod)
                usage.pod_counted(uow, pod, 1, now)
                uow.commit()
            except Conflict:
                if client_id is None:
                    raise
            else:
                return pod
        with self._uow() as uow:  # lost a race to a concurrent create with the same client_id
            winner = uow.pods.get_by_client_id(principal.organization_id, client_id)
            if winner is None:
                raise Conflict("Pod could not be created, retry", code="conflict")
            return winner

    def list(self, principal: Principal, params: ListParams) -> Page[Pod]:
        require(principal, "pod_read")
        if principal.scope_type is ScopeType.INBOX:
            return empty_page(params)
        only = principal.pod_id
        with self._uow() as uow:
            return paginate(
                self._tokens,
                "pods.list",
                f"{only}|{params.ascending}",
                params,
                lambda page: uow.pods.list_page(principal.organization_id, only, page),
                lambda pod: (pod.created_at.isoformat(), pod.pod_id),
            )

    def get(self, principal: Principal, pod_id: str) -> Pod:
        require(principal, "pod_read")
        with self._uow() as uow:
            return visible_pod(uow, principal, pod_id)

    def delete(self, principal: Principal, pod_id: str) -> None:
        require(principal, "pod_delete")
        with self._uow(write=True) as uow:
            pod = visible_pod(uow, principal, pod_id)
            if pod.is_default:
                raise Conflict("The default pod cannot be deleted", code="cannot_delete")
            if uow.pods.has_inboxes(pod.pod_id):
                raise Conflict("Pod still holds inboxes", code="cannot_delete", fix="Delete the pod's inboxes first.")
            if uow.custom_domains.in_pod(pod.pod_id):
                raise Conflict("Pod still holds domains", code="cannot_delete", fix="Delete the pod's domains first.")
            uow.pods.delete(pod.pod_id)
            usage.pod_counted(uow, pod, -1, self._clock.now())
            uow.commit()
