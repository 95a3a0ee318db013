"""The console's session: the signed-in API key and a CSRF token, sealed (encrypted and authenticated, Fernet)
with a server secret into an HttpOnly, SameSite=Strict cookie. The server keeps no session state."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "postroom_console"
PRE_SESSION_COOKIE = "postroom_console_signin"
PATH = "/console"
LIFETIME_SECONDS = 12 * 3600
SECRET_NAME = "console_sessions"  # noqa: S105 - the name of a stored secret, not a secret


@dataclass(frozen=True)
class Session:
    api_key: str
    csrf: str


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class SessionSeal:
    def __init__(self, secret: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(secret[:32].ljust(32, b"\0")))

    def seal(self, session: Session) -> str:
        return self._fernet.encrypt(json.dumps({"k": session.api_key, "c": session.csrf}).encode()).decode()

    def open(self, sealed: str | None) -> Session | None:
        if not sealed:
            return None
        try:
            data = json.loads(self._fernet.decrypt(sealed.encode(), ttl=LIFETIME_SECONDS))
        except (InvalidToken, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("k"), str) or not isinstance(data.get("c"), str):
            return None
        return Session(data["k"], data["c"])

    def from_request(self, request: Request) -> Session | None:
        return self.open(request.cookies.get(COOKIE))


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path=PATH, httponly=True, samesite="strict", secure=request.url.scheme == "https")
