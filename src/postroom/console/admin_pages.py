"""Console pages for the organization's plumbing: webhooks, domains and API keys (create with a permission picker,
revoke). Each shows exactly what the signed-in key may see."""

from __future__ import annotations

from typing import Any

from agentmail.api_keys import ApiKeyPermissions, CreateBearerApiKeyRequest
from agentmail.core.api_error import ApiError
from starlette.responses import Response

from postroom.console.web import View, api_error_text, path_id, redirect
from postroom.domain.access import OPT_IN_PERMISSIONS, PERMISSIONS

JSONObject = dict[str, Any]
PERMISSION_GROUPS: dict[str, list[str]] = {}
for _name in PERMISSIONS:
    PERMISSION_GROUPS.setdefault(_name.split("_")[0], []).append(_name)


def _json(model: Any) -> JSONObject:
    dumped: JSONObject = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


async def webhooks(view: View) -> Response:
    page = _json(await view.client.webhooks.list(limit=100))
    return view.render("webhooks.html", page=page)


async def domains(view: View) -> Response:
    try:
        page: JSONObject | None = _json(await view.client.domains.list(limit=100))
        unavailable = None
    except ApiError as error:
        if error.status_code not in (404, 405):
            raise
        page, unavailable = None, api_error_text(error)[0]
    return view.render("domains.html", page=page, unavailable=unavailable)


async def _keys_context(view: View) -> JSONObject:
    inbox_id = view.identity.get("inbox_id")
    if inbox_id:
        page = _json(await view.client.inboxes.api_keys.list(inbox_id, limit=100))
        inboxes: list[JSONObject] = []
    else:
        page = _json(await view.client.api_keys.list(limit=100))
        inboxes = _json(await view.client.inboxes.list(limit=100)).get("inboxes") or []
    return {"page": page, "inboxes": inboxes, "groups": PERMISSION_GROUPS, "opt_in": OPT_IN_PERMISSIONS}


async def keys(view: View) -> Response:
    return view.render("keys.html", created=None, **await _keys_context(view))


async def create_key(view: View) -> Response:
    """Create a key (unrestricted, or only the permissions ticked) and show its secret this once."""
    assert view.form is not None
    permissions = None
    if view.field("restricted") == "1":
        chosen = {name: True for name in view.form.getlist("permission") if name in PERMISSIONS}
        permissions = ApiKeyPermissions(**chosen)
    request = CreateBearerApiKeyRequest(name=view.field("name") or "console key", permissions=permissions)
    scope_inbox = view.identity.get("inbox_id") or view.field("inbox_id")
    if scope_inbox:
        created = _json(await view.client.inboxes.api_keys.create(scope_inbox, request=request))
    else:
        created = _json(await view.client.api_keys.create(request=request))
    return view.render("keys.html", created=created, **await _keys_context(view))


async def revoke_key(view: View) -> Response:
    api_key_id = path_id(view.request, "api_key_id")
    inbox_id = view.identity.get("inbox_id")
    if inbox_id:
        await view.client.inboxes.api_keys.delete(inbox_id, api_key_id)
    else:
        await view.client.api_keys.delete(api_key_id)
    return redirect("/keys", f"Revoked {api_key_id}")
