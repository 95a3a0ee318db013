"""The console's routes on the API's app: sign-in and sign-out, the pages, live events and static files.

Pages act only through the official SDK against the app's own REST routes with the signed-in key, so every
action is scope- and permission-checked exactly like the API.
"""

from __future__ import annotations

from pathlib import Path

from agentmail.core.api_error import ApiError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from postroom.console import admin_pages, mail_pages, review_pages
from postroom.console.live import LiveEvents
from postroom.console.session import (
    COOKIE,
    LIFETIME_SECONDS,
    PRE_SESSION_COOKIE,
    Session,
    SessionSeal,
    clear_cookie,
    new_token,
    same_token,
    set_cookie,
)
from postroom.console.web import ROOT, Pages, api_error_text, client_of, cross_site, own_origin, page, refused
from postroom.loopback import Authenticate, loopback_client
from postroom.services.ports import EventStream

STATIC = Path(__file__).parent / "static"


class SignIn:
    def __init__(self, app: Starlette, seal: SessionSeal) -> None:
        self._app = app
        self._seal = seal

    async def form(self, request: Request) -> Response:
        if self._seal.from_request(request) is not None:
            return RedirectResponse(f"{ROOT}/inboxes", status_code=303)
        expired = "Your session ended: the key was revoked or expired." if request.query_params.get("expired") else None
        return self._render(request, error=expired, status=200)

    def _render(self, request: Request, error: str | None, status: int) -> Response:
        token = new_token()
        response = page(request, "sign_in.html", {"csrf": token, "error": error, "identity": None}, status)
        set_cookie(response, request, PRE_SESSION_COOKIE, token, 3600)
        return response

    async def submit(self, request: Request) -> Response:
        form = await request.form()
        token, api_key = form.get("csrf"), form.get("api_key")
        expected = request.cookies.get(PRE_SESSION_COOKIE) or ""
        if cross_site(request) or not expected or not same_token(token if isinstance(token, str) else None, expected):
            return refused(request)
        key = api_key.strip() if isinstance(api_key, str) else ""
        if not key:
            return self._render(request, "Paste an API key (it starts with pr_).", 400)
        async with loopback_client(self._app, own_origin(request), key, client_of(request)) as client:
            try:
                await client.auth.me()
            except ApiError as error:
                message, fix = api_error_text(error)
                return self._render(request, f"Sign-in failed: {message}" + (f" {fix}" if fix else ""), 401)
        response = RedirectResponse(f"{ROOT}/inboxes", status_code=303)
        set_cookie(response, request, COOKIE, self._seal.seal(Session(key, new_token())), LIFETIME_SECONDS)
        clear_cookie(response, request, PRE_SESSION_COOKIE)
        return response

    async def sign_out(self, request: Request) -> Response:
        session = self._seal.from_request(request)
        form = await request.form()
        token = form.get("csrf")
        if session is not None and (
            cross_site(request) or not same_token(token if isinstance(token, str) else None, session.csrf)
        ):
            return refused(request)
        response = RedirectResponse(f"{ROOT}/sign-in", status_code=303)
        clear_cookie(response, request, COOKIE)
        return response


async def home(request: Request) -> Response:
    return RedirectResponse(f"{ROOT}/inboxes", status_code=303)


def console_routes(app: Starlette, authenticate: Authenticate, events: EventStream, secret: bytes) -> list[BaseRoute]:
    seal = SessionSeal(secret)
    pages = Pages(app, seal)
    sign_in = SignIn(app, seal)
    inbox = f"{ROOT}/inboxes/{{inbox_id}}"
    draft = f"{inbox}/drafts/{{draft_id}}"
    get, post = ["GET"], ["POST"]
    table = [
        (f"{ROOT}/inboxes", mail_pages.inboxes, get),
        (f"{ROOT}/inboxes", mail_pages.create_inbox, post),
        (inbox, mail_pages.inbox, get),
        (f"{inbox}/status", mail_pages.set_status, post),
        (f"{inbox}/metadata", mail_pages.set_metadata, post),
        (f"{inbox}/delete", mail_pages.delete_inbox, post),
        (f"{inbox}/threads/{{thread_id}}", mail_pages.thread, get),
        (f"{inbox}/threads/{{thread_id}}/mark", mail_pages.mark, post),
        (f"{inbox}/message/html", mail_pages.message_frame, get),
        (f"{inbox}/message/raw", mail_pages.raw, get),
        (f"{inbox}/message/attachment", mail_pages.attachment, get),
        (f"{ROOT}/drafts", review_pages.drafts, get),
        (draft, review_pages.draft, get),
        (f"{draft}/save", review_pages.save, post),
        (f"{draft}/send", review_pages.send, post),
        (f"{draft}/schedule", review_pages.schedule, post),
        (f"{draft}/discard", review_pages.discard, post),
        (f"{ROOT}/webhooks", admin_pages.webhooks, get),
        (f"{ROOT}/domains", admin_pages.domains, get),
        (f"{ROOT}/keys", admin_pages.keys, get),
        (f"{ROOT}/keys", admin_pages.create_key, post),
        (f"{ROOT}/keys/{{api_key_id}}/revoke", admin_pages.revoke_key, post),
    ]
    routes: list[BaseRoute] = [
        Route(ROOT, home, methods=get),
        Route(f"{ROOT}/", home, methods=get),
        Route(f"{ROOT}/sign-in", sign_in.form, methods=get),
        Route(f"{ROOT}/sign-in", sign_in.submit, methods=post),
        Route(f"{ROOT}/sign-out", sign_in.sign_out, methods=post),
        Route(f"{ROOT}/events", LiveEvents(seal, authenticate, events).__call__, methods=get),
        Mount(f"{ROOT}/static", app=StaticFiles(directory=STATIC), name="console-static"),
    ]
    routes += [Route(path, pages.endpoint(handler), methods=methods) for path, handler, methods in table]
    return routes


def mount_console(app: Starlette, *, authenticate: Authenticate, events: EventStream, secret: bytes) -> None:
    """Serve the console under ``/console/`` on ``app``, calling ``app``'s own REST routes in-process."""
    app.router.routes.extend(console_routes(app, authenticate, events, secret))
