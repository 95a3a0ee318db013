"""The console's request plumbing: who is signed in, CSRF checks on every form, the SDK client for the request,
pages rendered from templates with a strict Content Security Policy, and API errors shown as pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from agentmail import AsyncAgentMail
from agentmail.core.api_error import ApiError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from postroom.console.safety import PAGE_POLICY
from postroom.console.session import COOKIE, Session, SessionSeal, clear_cookie, same_token
from postroom.loopback import loopback_client

ROOT = "/console"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["q"] = lambda value: quote(str(value), safe="@")
TEMPLATES.env.globals["qs"] = lambda **values: urlencode({k: v for k, v in values.items() if v is not None})
SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on our own form posts.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def client_of(request: Request) -> tuple[str, int] | None:
    """The browser's address, handed to the API behind the console (failed authentications count per address)."""
    return (request.client.host, request.client.port) if request.client else None


def cross_site(request: Request) -> bool:
    """A form posted from another origin: its Origin (or Referer) names a different scheme, host or port."""
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return False
        origin = "/".join(referer.split("/", 3)[:3])
    return origin != own_origin(request)


def path_id(request: Request, name: str) -> str:
    return unquote(str(request.path_params[name]))


def api_error_text(error: ApiError) -> tuple[str, str | None]:
    body: Any = error.body
    dump = getattr(body, "model_dump", None)
    if callable(dump):
        body = dump(mode="json", exclude_none=True)
    if isinstance(body, dict):
        return str(body.get("message") or "Request failed"), body.get("fix")
    return f"Request failed (HTTP {error.status_code})", None


def page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(request, template, {"root": ROOT, **context}, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(path: str, notice: str | None = None) -> RedirectResponse:
    target = ROOT + path + (("&" if "?" in path else "?") + urlencode({"notice": notice}) if notice else "")
    return RedirectResponse(target, status_code=303)


@dataclass
class View:
    """One signed-in request: the SDK client acting with the session's key, and who that key is."""

    request: Request
    session: Session
    client: AsyncAgentMail
    identity: dict[str, Any]
    form: FormData | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        base = {
            "identity": self.identity,
            "csrf": self.session.csrf,
            "notice": self.request.query_params.get("notice"),
        }
        return page(self.request, template, base | context, status)


Handler = Callable[[View], Awaitable[Response]]


class Pages:
    """Turns a handler into a console endpoint: sign-in required, forms checked, API errors shown as pages."""

    def __init__(self, app: ASGIApp, seal: SessionSeal) -> None:
        self.app = app
        self.seal = seal

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            session = self.seal.from_request(request)
            if session is None:
                return RedirectResponse(f"{ROOT}/sign-in", status_code=303)
            form = None
            if request.method == "POST":
                form = await request.form()
                token = form.get("csrf")
                if cross_site(request) or not same_token(token if isinstance(token, str) else None, session.csrf):
                    return refused(request)
            async with loopback_client(self.app, own_origin(request), session.api_key, client_of(request)) as client:
                try:
                    identity = (await client.auth.me()).model_dump(mode="json", exclude_none=True)
                except ApiError as error:
                    if error.status_code == 401:
                        response = RedirectResponse(f"{ROOT}/sign-in?expired=1", status_code=303)
                        clear_cookie(response, request, COOKIE)
                        return response
                    raise
                view = View(request, session, client, identity, form)
                try:
                    return await handler(view)
                except ApiError as error:
                    message, fix = api_error_text(error)
                    status = error.status_code if error.status_code and 400 <= error.status_code < 600 else 502
                    return view.render("error.html", status=status, message=message, fix=fix)

        return serve


def refused(request: Request) -> HTMLResponse:
    context = {"message": "This form did not come from this console page, so it was refused.", "fix": None}
    return page(request, "error.html", context | {"identity": None, "csrf": None}, status=403)
