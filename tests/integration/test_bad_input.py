"""Bad input, table-driven on SQLite and PostgreSQL: each row gets its status and JSON ErrorResponse, changes nothing.

Also covers the request-size limit, rate limiting, and the spellings of an inbox id that must reach the same inbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from postroom.runtime import Runtime, build
from postroom.storage.tables import api_keys, inboxes, pods
from tests.conftest import make_settings

State = dict[str, dict[str, object]]

AUTH_CODES = ("missing_authorization", "invalid_token_type", "unknown_api_key", "unauthorized")
NOBODY = "nobody@postroom.localhost"
LONG = "x" * 5000
MALFORMED = b'{"username": '
NOT_OBJECTS = (b"[]", b'"x"', b"5", b"true")


class Unset:
    """Marks a row that sends no body at all."""


NO_BODY = Unset()


@dataclass(frozen=True)
class Bad:
    """One request and what must come back: status, error code(s) and, for a 400, the field it names."""

    method: str
    path: str
    status: int
    code: str | tuple[str, ...] | None = None
    body: object = NO_BODY
    raw: bytes | None = None
    auth: str | None = "root"
    field_name: str | None = None


def bad(method: str, path: str, body: object = NO_BODY, field_name: str | None = None, **rest: object) -> Bad:
    """A 400 validation_error that must name ``field_name`` (when given) in its errors list."""
    return Bad(method, path, 400, "validation_error", body=body, field_name=field_name, **rest)  # type: ignore[arg-type]


def missing(method: str, path: str, body: object = NO_BODY) -> Bad:
    return Bad(method, path, 404, "not_found", body=body)


def stored_state(engine: Engine) -> State:
    """Every stored pod, inbox and key (``used_at`` moves on first use and is left out)."""
    result: State = {}
    with engine.connect() as connection:
        for table, id_column in ((pods, "pod_id"), (inboxes, "inbox_id"), (api_keys, "api_key_id")):
            for row in connection.execute(select(table)).mappings():
                item = dict(row)
                item.pop("used_at", None)
                result[f"{table.name}:{item[id_column]}"] = item
    return result


def response_problems(response: Response) -> list[str]:
    """What every response of this API must satisfy: JSON (or empty), never HTML, never a traceback."""
    problems = []
    text = response.text
    if "traceback" in text.lower() or "<html" in text.lower() or 'File "' in text:
        problems.append(f"HTML or traceback in the body: {text[:200]}")
    if response.status_code != 204 and not response.headers.get("content-type", "").startswith("application/json"):
        problems.append(f"content-type {response.headers.get('content-type')!r}")
    return problems


def error_problems(response: Response, code: str | tuple[str, ...] | None, field_name: str | None) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return [f"not JSON: {response.text[:200]}"]
    if not isinstance(body, dict) or not all(isinstance(body.get(key), str) for key in ("name", "code", "message")):
        return [f"not an ErrorResponse: {body}"]
    codes = (code,) if isinstance(code, str) else code or ()
    problems = [] if not codes or body["code"] in codes else [f"code {body['code']!r}, expected {code!r}"]
    if response.status_code == 400:
        errors = body.get("errors")
        shaped = isinstance(errors, list) and errors
        shaped = shaped and all(
            isinstance(item, dict) and isinstance(item.get("path"), str) and isinstance(item.get("message"), str)
            for item in errors
        )
        if not shaped:
            problems.append(f"400 without an errors list of {{path, message}}: {body}")
        elif field_name is not None and not any(
            item["path"] == field_name or item["path"].startswith(f"{field_name}.") for item in errors
        ):
            problems.append(f"errors {errors} do not name {field_name!r}")
    return problems


class Api:
    """The root client plus the named ids, secrets and page tokens the rows refer to."""

    def __init__(self, client: TestClient, root_key: str, engine: Engine) -> None:
        self.client = client
        self.engine = engine
        self.secrets = {"root": root_key}
        self.ids: dict[str, str] = {}
        self.ids["D"] = self.ok("GET", "/v0/pods")["pods"][0]["pod_id"]
        self.ids["P"] = self.ok("POST", "/v0/pods", {"name": "P", "client_id": "cid-pod"})["pod_id"]
        target = {"username": "target", "display_name": "Target", "client_id": "cid-target", "metadata": {"k": "v"}}
        self.ids["target"] = self.ok("POST", "/v0/inboxes", target)["inbox_id"]
        self.ids["other"] = self.ok("POST", "/v0/pods/{P}/inboxes".format(**self.ids), {"username": "other"})[
            "inbox_id"
        ]
        full = {"username": "full", "metadata": {f"key{i}": i for i in range(256)}}
        self.ids["full"] = self.ok("POST", "/v0/inboxes", full)["inbox_id"]
        reader = self.ok("POST", "/v0/api-keys", {"name": "reader", "permissions": {"inbox_read": True}})
        self.ids["K"] = reader["api_key_id"]
        self.secrets["reader"] = reader["api_key"]
        self.ids["inboxes_token"] = self.token("/v0/inboxes?limit=1")
        self.ids["search_token"] = self.token("/v0/inboxes/search?q=postroom&limit=1")
        self.ids["pod_inboxes_token"] = self.token("/v0/pods/{D}/inboxes?limit=1".format(**self.ids))
        self.ids["pods_token"] = self.token("/v0/pods?limit=1")
        self.ids["keys_token"] = self.token("/v0/api-keys?limit=1")
        token = self.ids["inboxes_token"]
        middle = len(token) // 2
        self.ids["tampered_token"] = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
        self.ids["truncated_token"] = token[:-3]

    def ok(self, method: str, path: str, body: object = None) -> dict[str, object]:
        response = self.client.request(method, path, json=body)
        assert response.status_code == 200, f"setup {method} {path}: {response.status_code} {response.text}"
        result: dict[str, object] = response.json()
        return result

    def token(self, path: str) -> str:
        token = self.ok("GET", path).get("next_page_token")
        assert isinstance(token, str), f"setup {path} gave no next_page_token"
        return token

    def send(self, row: Bad) -> Response:
        headers: dict[str, str] = {}
        if row.auth in self.secrets:
            headers["Authorization"] = f"Bearer {self.secrets[row.auth]}"
        elif row.auth is not None:
            headers["Authorization"] = row.auth.format(**self.secrets)
        content = row.raw
        if not isinstance(row.body, Unset):
            content = json.dumps(row.body).encode()
        if content is not None:
            headers.setdefault("Content-Type", "application/json")
        request = self.client.build_request(row.method, row.path.format(**self.ids), content=content, headers=headers)
        if row.auth is None:
            del request.headers["Authorization"]
        return self.client.send(request)


# Targets of the body-shape rows: every write that takes a JSON object.
WRITES = (
    ("POST", "/v0/inboxes"),
    ("POST", "/v0/pods/{P}/inboxes"),
    ("PATCH", "/v0/inboxes/{target}"),
    ("PATCH", "/v0/pods/{D}/inboxes/{target}"),
    ("POST", "/v0/pods"),
    ("POST", "/v0/api-keys"),
    ("POST", "/v0/pods/{P}/api-keys"),
    ("POST", "/v0/inboxes/{target}/api-keys"),
    ("PATCH", "/v0/api-keys/{K}"),
    ("PATCH", "/v0/pods/{P}/api-keys/{K}"),
)
LISTS = (
    "/v0/inboxes",
    "/v0/inboxes/search?q=ta&",
    "/v0/pods/{P}/inboxes",
    "/v0/pods/{P}/inboxes/search?q=ot&",
    "/v0/pods",
    "/v0/api-keys",
    "/v0/pods/{P}/api-keys",
    "/v0/inboxes/{target}/api-keys",
)
HOSTILE_USERNAMES = (
    "../etc",
    "a b",
    "a@b",
    ".lead",
    "trail.",
    "dou..ble",
    "x" * 65,
    "jöhn",
    "用户",
    "\u212aelvin",
    "",
    " ",
    "a\r\nb",
    "crlf\r\n",
    "newline\n",
    " padded ",
    "tab\t",
    "a/b",
    "a+b",
    "a%b",
    "nul\x00",
    "semi;colon",
    "<script>",
)


def _lists(path: str, query: str) -> str:
    return f"{path}{query}" if path.endswith("&") else f"{path}?{query}"


ROWS: tuple[Bad, ...] = (
    # The body is not a JSON object.
    *(bad(method, path, raw=MALFORMED) for method, path in WRITES),
    *(bad(method, path, raw=raw) for method, path in WRITES for raw in NOT_OBJECTS),
    bad("POST", "/v0/inboxes", raw=b"\xff\xfe{}"),
    bad("POST", "/v0/inboxes", raw=b'{"username": "x"} trailing'),
    # Wrong JSON types.
    bad("POST", "/v0/inboxes", {"username": 5}, "username"),
    bad("POST", "/v0/inboxes", {"username": ["a"]}, "username"),
    bad("POST", "/v0/inboxes", {"display_name": True}, "display_name"),
    bad("POST", "/v0/inboxes", {"metadata": "x"}, "metadata"),
    bad("POST", "/v0/inboxes", {"metadata": []}, "metadata"),
    bad("POST", "/v0/inboxes", {"status": "sleeping"}, "status"),
    bad("POST", "/v0/inboxes", {"status": "PAUSED"}, "status"),
    bad("POST", "/v0/inboxes", {"client_id": 1}, "client_id"),
    bad("POST", "/v0/inboxes", {"domain": 7}, "domain"),
    bad("PATCH", "/v0/inboxes/{target}", {"display_name": True}, "display_name"),
    bad("PATCH", "/v0/inboxes/{target}", {"status": "sleeping"}, "status"),
    bad("PATCH", "/v0/inboxes/{target}", {"metadata": "x"}, "metadata"),
    bad("PATCH", "/v0/inboxes/{target}", {"metadata": []}, "metadata"),
    bad("PATCH", "/v0/inboxes/{target}", {"metadata": 5}, "metadata"),
    bad("POST", "/v0/pods", {"name": 5}, "name"),
    bad("POST", "/v0/pods", {"client_id": 1}, "client_id"),
    bad("POST", "/v0/api-keys", {"permissions": {"inbox_read": "yes"}}, "permissions.inbox_read"),
    bad("POST", "/v0/api-keys", {"permissions": {"inbox_read": 1}}, "permissions.inbox_read"),
    bad("POST", "/v0/api-keys", {"permissions": {"inbox_read": None}}, "permissions.inbox_read"),
    bad("POST", "/v0/api-keys", {"permissions": ["inbox_read"]}, "permissions"),
    bad("POST", "/v0/api-keys", {"permissions": "all"}, "permissions"),
    bad("POST", "/v0/api-keys", {"name": 5}, "name"),
    bad("POST", "/v0/api-keys", {"expires_at": 5}, "expires_at"),
    bad("POST", "/v0/api-keys", {"expires_at": True}, "expires_at"),
    bad("POST", "/v0/api-keys", {"expires_at": "tomorrow"}, "expires_at"),
    bad("PATCH", "/v0/api-keys/{K}", {"permissions": {"inbox_read": "yes"}}, "permissions.inbox_read"),
    bad("PATCH", "/v0/api-keys/{K}", {"name": 5}, "name"),
    bad("PATCH", "/v0/api-keys/{K}", {"name": None}, "name"),
    # Unknown fields are refused, not ignored.
    bad("POST", "/v0/inboxes", {"usernam": "x"}, "usernam"),
    bad("POST", "/v0/inboxes", {"username": "fine", "extra": 1}, "extra"),
    bad("POST", "/v0/pods/{P}/inboxes", {"pod_id": "pod_x"}, "pod_id"),
    bad("PATCH", "/v0/inboxes/{target}", {"username": "renamed"}, "username"),
    bad("PATCH", "/v0/inboxes/{target}", {"display_name": "ok", "client_id": "c"}, "client_id"),
    bad("POST", "/v0/pods", {"bogus": 1}, "bogus"),
    bad("POST", "/v0/api-keys", {"pod_id": "pod_x"}, "pod_id"),
    bad("POST", "/v0/api-keys", {"inbox_id": "x@postroom.localhost"}, "inbox_id"),
    bad("PATCH", "/v0/api-keys/{K}", {"expires_at": "2099-01-01T00:00:00Z"}, "expires_at"),
    bad("PATCH", "/v0/api-keys/{K}", {"name": "ok", "api_key": "pr_x"}, "api_key"),
    # Metadata limits: 256 keys, 256-character keys and string values, flat scalar values, never empty.
    bad("POST", "/v0/inboxes", {"metadata": {f"k{i}": i for i in range(257)}}, "metadata"),
    bad("POST", "/v0/inboxes", {"metadata": {"k" * 257: "v"}}, "metadata"),
    bad("POST", "/v0/inboxes", {"metadata": {"k": "v" * 257}}, "metadata.k"),
    bad("POST", "/v0/inboxes", {"metadata": {"k": {"a": 1}}}, "metadata.k"),
    bad("POST", "/v0/inboxes", {"metadata": {"k": [1]}}, "metadata.k"),
    bad("POST", "/v0/inboxes", {"metadata": {"k": None}}, "metadata.k"),
    bad("POST", "/v0/inboxes", {"metadata": {}}, "metadata"),
    bad("POST", "/v0/inboxes", {"metadata": {"": "v"}}, "metadata"),
    bad("POST", "/v0/inboxes", raw=b'{"metadata": {"k": NaN}}'),
    bad("POST", "/v0/inboxes", raw=b'{"metadata": {"k": Infinity}}'),
    bad("PATCH", "/v0/inboxes/{target}", {"metadata": {}}, "metadata"),
    bad("PATCH", "/v0/inboxes/{target}", {"metadata": {"k": {"a": 1}}}, "metadata.k"),
    bad("PATCH", "/v0/inboxes/{target}", {"metadata": {"k": [1]}}, "metadata.k"),
    bad("PATCH", "/v0/inboxes/{target}", {"metadata": {"k": "v" * 257}}, "metadata.k"),
    bad("PATCH", "/v0/inboxes/{target}", {"metadata": {"k" * 257: "v"}}, "metadata"),
    bad("PATCH", "/v0/inboxes/{target}", {"metadata": {f"k{i}": i for i in range(257)}}, "metadata"),
    bad("PATCH", "/v0/inboxes/{full}", {"metadata": {"one_more": 1}}, "metadata"),
    bad("PATCH", "/v0/inboxes/{target}", {"display_name": "ok", "metadata": {"k": [1]}}, "metadata.k"),
    # Updates must change something; status cannot be null.
    bad("PATCH", "/v0/inboxes/{target}", {}),
    bad("PATCH", "/v0/pods/{D}/inboxes/{target}", {}),
    bad("PATCH", "/v0/api-keys/{K}", {}),
    bad("PATCH", "/v0/pods/{P}/api-keys/{K}", {}),
    bad("PATCH", "/v0/inboxes/{target}", {"status": None}, "status"),
    bad("PATCH", "/v0/inboxes/{target}", {"status": None, "display_name": "changed"}, "status"),
    # Usernames: a-z 0-9 . _ -, 1-64 characters, no leading, trailing or doubled dot (spec section 8).
    *(bad("POST", "/v0/inboxes", {"username": name}, "username") for name in HOSTILE_USERNAMES),
    bad("POST", "/v0/pods/{P}/inboxes", {"username": "../etc"}, "username"),
    # Display names, client ids and key/pod names.
    bad("POST", "/v0/inboxes", {"display_name": "two\nlines"}, "display_name"),
    bad("POST", "/v0/inboxes", {"display_name": "carriage\rreturn"}, "display_name"),
    bad("POST", "/v0/inboxes", {"display_name": "x" * 257}, "display_name"),
    bad("PATCH", "/v0/inboxes/{target}", {"display_name": "two\nlines"}, "display_name"),
    bad("PATCH", "/v0/pods/{D}/inboxes/{target}", {"display_name": "x" * 257}, "display_name"),
    bad("POST", "/v0/inboxes", {"client_id": "a@b"}, "client_id"),
    bad("POST", "/v0/inboxes", {"client_id": ""}, "client_id"),
    bad("POST", "/v0/inboxes", {"client_id": "x" * 257}, "client_id"),
    bad("POST", "/v0/inboxes", {"client_id": "line\nbreak"}, "client_id"),
    bad("POST", "/v0/pods", {"name": "x" * 257}, "name"),
    bad("POST", "/v0/pods", {"name": "two\nlines"}, "name"),
    bad("POST", "/v0/pods", {"client_id": "a@b"}, "client_id"),
    bad("POST", "/v0/api-keys", {"name": "two\nlines", "permissions": {"inbox_read": True}}, "name"),
    bad("POST", "/v0/api-keys", {"name": "x" * 257, "permissions": {"inbox_read": True}}, "name"),
    bad("PATCH", "/v0/api-keys/{K}", {"name": "two\nlines"}, "name"),
    # Addresses already taken, and domains this server does not serve.
    Bad("POST", "/v0/inboxes", 409, "already_exists", body={"username": "target"}),
    Bad("POST", "/v0/inboxes", 409, "already_exists", body={"username": "TARGET"}),
    Bad("POST", "/v0/inboxes", 409, "already_exists", body={"username": "target", "domain": "POSTROOM.localhost"}),
    Bad("POST", "/v0/pods/{P}/inboxes", 409, "already_exists", body={"username": "other"}),
    Bad("POST", "/v0/inboxes", 422, "unprocessable", body={"domain": "example.com"}),
    Bad("POST", "/v0/inboxes", 422, "unprocessable", body={"username": "new-one", "domain": "evil.test"}),
    Bad("POST", "/v0/inboxes", 422, "unprocessable", body={"domain": "sub.postroom.localhost"}),
    Bad("POST", "/v0/pods/{P}/inboxes", 422, "unprocessable", body={"domain": "example.com"}),
    bad("POST", "/v0/inboxes", {"domain": "not a domain"}, "domain"),
    bad("POST", "/v0/inboxes", {"domain": "-bad-.com"}, "domain"),
    # Pagination: limit must be a positive integer; page tokens only work where they were issued.
    *(bad("GET", _lists(path, f"limit={value}"), field_name="limit") for path in LISTS for value in ("0", "-1", "abc")),
    bad("GET", "/v0/inboxes?limit=1.5", field_name="limit"),
    bad("GET", "/v0/inboxes?ascending=maybe", field_name="ascending"),
    bad("GET", "/v0/api-keys?type=secret", field_name="type"),
    *(
        bad("GET", _lists(path, f"page_token={token}"), field_name="page_token")
        for path in LISTS
        for token in ("garbage", "!!!!", "A" * 40, "{tampered_token}", "{truncated_token}")
    ),
    bad("GET", "/v0/inboxes?page_token={pods_token}", field_name="page_token"),
    bad("GET", "/v0/inboxes?page_token={keys_token}", field_name="page_token"),
    bad("GET", "/v0/inboxes?page_token={search_token}", field_name="page_token"),
    bad("GET", "/v0/inboxes?page_token={pod_inboxes_token}", field_name="page_token"),
    bad("GET", "/v0/inboxes?page_token={inboxes_token}&ascending=true", field_name="page_token"),
    bad("GET", "/v0/pods?page_token={inboxes_token}", field_name="page_token"),
    bad("GET", "/v0/api-keys?page_token={inboxes_token}", field_name="page_token"),
    bad("GET", "/v0/inboxes/search?q=postroom&page_token={inboxes_token}", field_name="page_token"),
    bad("GET", "/v0/inboxes/search?q=target&page_token={search_token}", field_name="page_token"),
    bad("GET", "/v0/pods/{D}/inboxes?page_token={inboxes_token}", field_name="page_token"),
    bad("GET", "/v0/pods/{P}/inboxes?page_token={pod_inboxes_token}", field_name="page_token"),
    # Search queries are 2-256 characters.
    bad("GET", "/v0/inboxes/search?q=a", field_name="q"),
    bad("GET", "/v0/inboxes/search?q=" + "a" * 257, field_name="q"),
    bad("GET", "/v0/inboxes/search?q=%20%20%20", field_name="q"),
    bad("GET", "/v0/inboxes/search", field_name="q"),
    bad("GET", "/v0/pods/{P}/inboxes/search?q=o", field_name="q"),
    bad("GET", "/v0/pods/{P}/inboxes/search", field_name="q"),
    Bad("GET", "/v0/inboxes/search?q=ta%00", 200),
    # Unknown ids, however they are spelled, are 404 and touch nothing.
    missing("GET", f"/v0/inboxes/{NOBODY}"),
    missing("PATCH", f"/v0/inboxes/{NOBODY}", {"display_name": "x"}),
    missing("DELETE", f"/v0/inboxes/{NOBODY}"),
    missing("GET", "/v0/inboxes/target"),
    missing("GET", "/v0/inboxes/target@example.com"),
    missing("GET", "/v0/inboxes/%20target@postroom.localhost"),
    missing("DELETE", "/v0/inboxes/target@postroom.localhost%20"),
    missing("GET", "/v0/inboxes/a%2Fb@postroom.localhost"),
    missing("DELETE", "/v0/inboxes/..%2Ftarget@postroom.localhost"),
    missing("GET", "/v0/inboxes/%3Cx%40y%3E"),
    missing("GET", "/v0/inboxes/<x@y>"),
    missing("GET", "/v0/inboxes/<a/b@c>"),
    missing("GET", "/v0/inboxes/%2E%2E"),
    missing("GET", "/v0/inboxes/%FF%FE"),
    missing("GET", "/v0/inboxes/target%00@postroom.localhost"),
    missing("GET", f"/v0/inboxes/{LONG}"),
    missing("PATCH", f"/v0/inboxes/{LONG}", {"display_name": "x"}),
    missing("DELETE", f"/v0/inboxes/{LONG}"),
    missing("GET", f"/v0/inboxes/{NOBODY}/api-keys"),
    missing("POST", f"/v0/inboxes/{NOBODY}/api-keys", {}),
    missing("GET", "/v0/pods/pod_nope"),
    missing("DELETE", "/v0/pods/pod_nope"),
    missing("GET", "/v0/pods/pod%2Fnope"),
    missing("GET", "/v0/pods/pod%00"),
    missing("GET", f"/v0/pods/{LONG}"),
    missing("DELETE", f"/v0/pods/{LONG}"),
    missing("GET", "/v0/pods/pod_nope/inboxes"),
    missing("POST", "/v0/pods/pod_nope/inboxes", {}),
    missing("GET", "/v0/pods/pod_nope/inboxes/{target}"),
    missing("GET", "/v0/pods/{P}/inboxes/{target}"),
    missing("DELETE", "/v0/pods/{P}/inboxes/{target}"),
    missing("GET", "/v0/pods/pod_nope/api-keys"),
    missing("GET", "/v0/api-keys/key_nope"),
    missing("PATCH", "/v0/api-keys/key_nope", {"name": "x"}),
    missing("DELETE", "/v0/api-keys/key_nope"),
    missing("GET", "/v0/api-keys/key%2Fnope"),
    missing("GET", "/v0/api-keys/key%00"),
    missing("GET", f"/v0/api-keys/{LONG}"),
    missing("DELETE", f"/v0/api-keys/{LONG}"),
    missing("DELETE", "/v0/pods/{P}/api-keys/{K}"),
    missing("PATCH", "/v0/inboxes/{target}/api-keys/{K}", {"name": "x"}),
    # Unknown routes and methods answer JSON too.
    Bad("GET", "/v0/nothing", 404, "not_found"),
    Bad("GET", "/", 404, "not_found", auth=None),
    Bad("GET", "/v1/inboxes", 404, "not_found"),
    Bad("POST", "/v0/inboxes/{target}/nothing", 404, "not_found", body={}),
    Bad("PUT", "/v0/inboxes", 405, "method_not_allowed", body={}),
    Bad("DELETE", "/v0/inboxes", 405, "method_not_allowed"),
    Bad("PUT", "/v0/inboxes/{target}", 405, "method_not_allowed", body={"display_name": "x"}),
    Bad("PATCH", "/v0/pods/{P}", 405, "method_not_allowed", body={"name": "x"}),
    Bad("PUT", "/v0/api-keys/{K}", 405, "method_not_allowed", body={}),
    Bad("GET", "/v0/pods/{P}/api-keys/{K}", 405, "method_not_allowed"),
    Bad("POST", "/v0/auth/me", 405, "method_not_allowed"),
    Bad("DELETE", "/v0/organizations", 405, "method_not_allowed"),
    Bad("POST", "/v0/inboxes/search", 405, "method_not_allowed", body={}),
    # Authentication: the Bearer scheme (case-sensitive) with a known, live key.
    Bad("GET", "/v0/inboxes", 401, "missing_authorization", auth=None),
    Bad("GET", "/v0/inboxes", 401, "missing_authorization", auth="Bearer"),
    Bad("GET", "/v0/inboxes", 401, "missing_authorization", auth="Bearer "),
    Bad("GET", "/v0/inboxes", 401, "invalid_token_type", auth="Basic x"),
    Bad("GET", "/v0/inboxes", 401, "invalid_token_type", auth="Basic {root}"),
    Bad("GET", "/v0/inboxes", 401, "unknown_api_key", auth="Bearer nope"),
    Bad("GET", "/v0/inboxes", 401, "unknown_api_key", auth="Bearer {root}x"),
    Bad("GET", "/v0/inboxes", 401, AUTH_CODES, auth="bearer {root}"),
    Bad("GET", "/v0/inboxes", 401, AUTH_CODES, auth="BEARER {root}"),
    Bad("GET", "/v0/inboxes", 401, AUTH_CODES, auth="{root}"),
    Bad("POST", "/v0/inboxes", 401, "missing_authorization", body={"username": "sneaky"}, auth=None),
    Bad("POST", "/v0/pods", 401, "unknown_api_key", body={}, auth="Bearer nope"),
    Bad("DELETE", "/v0/inboxes/{target}", 401, "unknown_api_key", auth="Bearer nope"),
    Bad("PATCH", "/v0/inboxes/{target}", 401, AUTH_CODES, body={"display_name": "x"}, auth="bearer {root}"),
    Bad("DELETE", "/v0/api-keys/{K}", 401, "invalid_token_type", auth="Basic x"),
    # Keys: expiry in the future only, known permission names only.
    bad("POST", "/v0/api-keys", {"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    bad("POST", "/v0/pods/{P}/api-keys", {"expires_at": "1970-01-01T00:00:00+00:00"}, "expires_at"),
    bad("POST", "/v0/api-keys", {"permissions": {"bogus": True}}, "permissions.bogus"),
    bad("POST", "/v0/api-keys", {"permissions": {"inbox_read": True, "send_all": False}}, "permissions.send_all"),
    bad("PATCH", "/v0/api-keys/{K}", {"permissions": {"bogus": True}}, "permissions.bogus"),
    # A restricted key's refusals change nothing either.
    Bad("POST", "/v0/inboxes", 403, "missing_permission", body={"username": "sneaky"}, auth="reader"),
    Bad("DELETE", "/v0/inboxes/{target}", 403, "missing_permission", auth="reader"),
    Bad("POST", "/v0/api-keys", 403, "missing_permission", body={}, auth="reader"),
)


def stored_problems(before: State, after: State) -> list[str]:
    changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
    return [f"stored state changed: {changed}"] if changed else []


def test_bad_input_is_refused_with_an_error_response_and_changes_nothing(
    client: TestClient, root_key: str, runtime: Runtime
) -> None:
    api = Api(client, root_key, runtime.engine)
    before = stored_state(runtime.engine)
    failures = []
    for row in ROWS:
        response = api.send(row)
        problems = response_problems(response)
        if response.status_code != row.status:
            problems.append(f"status {response.status_code}, expected {row.status}: {response.text[:300]}")
        elif row.status >= 400:
            problems += error_problems(response, row.code, row.field_name)
        after = stored_state(runtime.engine)
        problems += stored_problems(before, after)
        before = after
        body = row.raw if isinstance(row.body, Unset) else row.body
        label = f"{row.method} {row.path[:90]} {str(body)[:90] if body is not None else ''} auth={row.auth}"
        failures += [f"{label}: {problem}" for problem in problems]
    assert not failures, f"{len(failures)} of {len(ROWS)} rows failed:\n" + "\n".join(failures)


def call(client: TestClient, method: str, path: str, **kwargs: object) -> Response:
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert not response_problems(response), response_problems(response)
    return response


def test_every_spelling_of_an_inbox_id_reaches_the_same_inbox(client: TestClient) -> None:
    created = call(client, "POST", "/v0/inboxes", json={"username": "A.B", "domain": "Postroom.Localhost"}).json()
    assert created["inbox_id"] == created["email"] == "a.b@postroom.localhost"
    pod_id = created["pod_id"]
    spellings = (
        "a.b@postroom.localhost",
        "A.B@POSTROOM.LOCALHOST",
        "a.b%40postroom.localhost",
        "A.B%40Postroom.Localhost",
        "a%2Eb%40postroom%2Elocalhost",
        "%61.b@postroom.localhost",
    )
    for spelling in spellings:
        for prefix in ("/v0/inboxes", f"/v0/pods/{pod_id}/inboxes"):
            response = call(client, "GET", f"{prefix}/{spelling}")
            assert response.status_code == 200, (prefix, spelling, response.text)
            assert response.json()["inbox_id"] == "a.b@postroom.localhost"
        assert call(client, "GET", f"/v0/inboxes/{spelling}/api-keys").status_code == 200
    patched = call(client, "PATCH", "/v0/inboxes/A.B%40POSTROOM.LOCALHOST", json={"display_name": "Spelled"})
    assert patched.json()["display_name"] == "Spelled"
    assert call(client, "GET", "/v0/inboxes/a.b@postroom.localhost").json()["display_name"] == "Spelled"
    assert call(client, "DELETE", "/v0/inboxes/A.B%40postroom.localhost").status_code == 204
    assert call(client, "GET", "/v0/inboxes/a.b@postroom.localhost").status_code == 404


def test_good_input_at_the_limits_is_accepted(client: TestClient) -> None:
    username = "x" * 64
    at_limit = {f"{i:0256d}": "v" * 256 for i in range(256)}
    created = call(client, "POST", "/v0/inboxes", json={"username": username, "metadata": at_limit})
    assert created.status_code == 200, created.text
    inbox_id = created.json()["inbox_id"]
    assert inbox_id == f"{username}@postroom.localhost"
    assert created.json()["metadata"] == at_limit
    assert call(client, "POST", "/v0/inboxes", content=b"").status_code == 200  # no body, no Content-Type
    listed = call(client, "GET", "/v0/inboxes?limit=1000&page_token=").json()
    assert listed["limit"] == 100
    assert listed["count"] == 2
    for query in ("xx", "x" * 256):
        assert call(client, "GET", f"/v0/inboxes/search?q={query}").status_code == 200
    # PATCH: null clears display_name and metadata; a null metadata value removes one key.
    call(client, "PATCH", f"/v0/inboxes/{inbox_id}", json={"display_name": "Named"})
    cleared = call(client, "PATCH", f"/v0/inboxes/{inbox_id}", json={"display_name": None, "metadata": None}).json()
    assert "display_name" not in cleared
    assert "metadata" not in cleared
    call(client, "PATCH", f"/v0/inboxes/{inbox_id}", json={"metadata": {"a": 1, "b": True, "c": 1.5}})
    merged = call(client, "PATCH", f"/v0/inboxes/{inbox_id}", json={"metadata": {"a": None, "d": "x"}}).json()
    assert merged["metadata"] == {"b": True, "c": 1.5, "d": "x"}


def test_bodies_over_the_size_limit_get_413(database_url: str, tmp_path: Path) -> None:
    runtime = build(make_settings(database_url, tmp_path, max_request_bytes=1024), migrate=False)
    try:
        assert runtime.bootstrap.api_key is not None
        with TestClient(runtime.api(), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {runtime.bootstrap.api_key}"
            big = json.dumps({"username": "big", "display_name": "x" * 1100}).encode()

            def chunks() -> Iterator[bytes]:
                for start in range(0, len(big), 256):
                    yield big[start : start + 256]

            inbox = call(client, "POST", "/v0/inboxes", json={"username": "small"}).json()["inbox_id"]
            before = stored_state(runtime.engine)
            attempts = (
                ("POST", "/v0/inboxes", {"content": big}),
                ("POST", "/v0/inboxes", {"content": chunks()}),
                ("PATCH", f"/v0/inboxes/{inbox}", {"content": json.dumps({"display_name": "x" * 1100}).encode()}),
                ("POST", "/v0/pods", {"content": b"[" + b"1," * 600 + b"1]"}),
            )
            for method, path, kwargs in attempts:
                headers = {"Content-Type": "application/json"}
                response = call(client, method, path, headers=headers, **kwargs)
                assert response.status_code == 413, (method, path, response.status_code, response.text)
                assert response.json()["code"] == "payload_too_large"
                assert isinstance(response.json()["name"], str)
                assert isinstance(response.json()["message"], str)
                assert stored_state(runtime.engine) == before
            assert "chunked" in str(
                client.build_request("POST", "/v0/inboxes", content=chunks()).headers.get("transfer-encoding")
            )
            fits = call(
                client,
                "POST",
                "/v0/inboxes",
                json={"username": "fits", "metadata": {"a": "x" * 250, "b": "y" * 250, "c": "z" * 250}},
            )
            assert fits.status_code == 200, fits.text
    finally:
        runtime.close()


def test_content_length_with_transfer_encoding_is_refused_by_the_application(client: TestClient) -> None:
    """``postroom serve``'s parser refuses both framings first; under any other ASGI server the middleware does."""
    before = client.get("/v0/inboxes").json()["count"]
    headers = {"Content-Type": "application/json", "Content-Length": "20", "Transfer-Encoding": "chunked"}
    response = client.post("/v0/inboxes", content=b'{"username": "both"}', headers=headers)
    assert (response.status_code, response.headers["connection"]) == (400, "close")
    assert response.json()["message"] == "Send Content-Length or Transfer-Encoding, not both"
    assert client.get("/v0/inboxes").json()["count"] == before


def test_rate_limit_answers_429_with_retry_after(database_url: str, tmp_path: Path) -> None:
    runtime = build(make_settings(database_url, tmp_path, rate_limit_per_second=1, rate_limit_burst=2), migrate=False)
    try:
        assert runtime.bootstrap.api_key is not None
        with TestClient(runtime.api(), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {runtime.bootstrap.api_key}"
            other = call(client, "POST", "/v0/api-keys", json={"name": "other"}).json()["api_key"]
            assert call(client, "GET", "/v0/auth/me").status_code == 200
            limited = call(client, "POST", "/v0/inboxes", json={"username": "limited"})
            assert limited.status_code == 429, limited.text
            body = limited.json()
            assert body["code"] == "rate_limit_exceeded"
            assert isinstance(body["name"], str)
            assert isinstance(body["message"], str)
            assert int(limited.headers["Retry-After"]) >= 1
            assert call(client, "GET", "/v0/auth/me").status_code == 429
            # Buckets are per key: another key still gets through (and sees that the refused create made nothing).
            seen = call(client, "GET", "/v0/inboxes", headers={"Authorization": f"Bearer {other}"})
            assert seen.status_code == 200
            assert seen.json()["count"] == 0
            assert call(client, "GET", "/v0/inboxes", headers={"Authorization": "Bearer nope"}).status_code == 401
    finally:
        runtime.close()
