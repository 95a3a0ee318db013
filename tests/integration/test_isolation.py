"""Scope isolation matrix: every implemented endpoint called with organization, pod and inbox keys, on both backends.

Each caller gets a fresh world and walks the whole table in order; one run reports every mismatched cell at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from postroom.runtime import Runtime
from postroom.storage.tables import api_keys, inboxes, pods
from tests.support.clock import TestClock

State = dict[str, dict[str, object]]
Cell = int | tuple[int, str] | list[str] | dict[str, object]

RO = ("inbox_read", "pod_read", "api_key_read")
ADMIN = (*RO, "api_key_create", "api_key_update", "api_key_delete")
CALLERS = ("org", "org_ro", "pod_a", "pod_a_ro", "pod_a_admin", "inbox_a1")
ITEM_IDS = {"pods": "pod_id", "inboxes": "inbox_id", "api_keys": "api_key_id"}

OK = 200
GONE = 204
NF = (404, "not_found")
MP = (403, "missing_permission")
FB = (403, "forbidden")
ESC = (403, "permission_escalation")
URQ = (403, "unrestricted_key_required")
BUSY = (409, "cannot_delete")
TAKEN = (409, "already_exists")
DEAD = (401, "unknown_api_key")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class World:
    """Pods A and B with two inboxes each, the callers' keys and a few target keys, made with the root key."""

    def __init__(self, client: TestClient, root_key: str, engine: Engine) -> None:
        self.client = client
        self.engine = engine
        self.secrets: dict[str, str] = {"root": root_key}
        self.ids: dict[str, str] = {}
        self.ids["ORG"] = self.ok("GET", "/v0/organizations")["organization_id"]
        self.ids["root"] = self.ok("GET", "/v0/auth/me")["api_key_id"]
        (default,) = self.ok("GET", "/v0/pods")["pods"]
        self.ids["D"] = default["pod_id"]
        for pod in ("A", "B"):
            self.pod(pod)
        for inbox, pod in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B")):
            self.inbox(inbox, pod)
        self.key("org")
        self.key("org_ro", permissions=("inbox_read",))
        self.key("pod_a", pod="A")
        self.key("pod_a_ro", pod="A", permissions=RO)
        self.key("pod_a_admin", pod="A", permissions=ADMIN)
        self.key("inbox_a1", inbox="a1")
        self.key("pod_b", pod="B")
        self.key("inbox_a2", inbox="a2")
        self.key("inbox_b1", inbox="b1")

    def ok(self, method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        response = self.client.request(method, path, json=body)
        assert response.status_code == 200, f"setup {method} {path}: {response.status_code} {response.text}"
        result: dict[str, object] = response.json()
        return result

    def pod(self, name: str) -> None:
        self.ids[name] = str(self.ok("POST", "/v0/pods", {"name": f"Pod {name}"})["pod_id"])

    def inbox(self, name: str, pod: str) -> None:
        body = {"username": f"team-{name}", "display_name": f"Team {name}", "client_id": f"cid-{name}"}
        self.ids[name] = str(self.ok("POST", f"/v0/pods/{self.ids[pod]}/inboxes", body)["inbox_id"])

    def key(
        self, name: str, *, pod: str | None = None, inbox: str | None = None, permissions: tuple[str, ...] | None = None
    ) -> None:
        route = "/v0"
        if inbox is not None:
            route = f"/v0/inboxes/{self.ids[inbox]}"
        elif pod is not None:
            route = f"/v0/pods/{self.ids[pod]}"
        body: dict[str, object] = {"name": name}
        if permissions is not None:
            body["permissions"] = dict.fromkeys(permissions, True)
        created = self.ok("POST", f"{route}/api-keys", body)
        self.ids[name] = str(created["api_key_id"])
        self.secrets[name] = str(created["api_key"])

    def resolve(self, value: object) -> object:
        return self.ids.get(value, value) if isinstance(value, str) else value

    def name(self, real_id: object) -> str:
        names = {value: key for key, value in self.ids.items()}
        return names.get(str(real_id), str(real_id))

    def state(self) -> State:
        """Every stored pod, inbox and key, read straight from the database (``used_at`` moves on first use)."""
        result: State = {}
        with self.engine.connect() as connection:
            for table, id_column in ((pods, "pod_id"), (inboxes, "inbox_id"), (api_keys, "api_key_id")):
                for row in connection.execute(select(table)).mappings():
                    item = dict(row)
                    item.pop("used_at", None)
                    result[f"{table.name}:{item[id_column]}"] = item
        return result


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    cells: tuple[Cell, ...]
    body: dict[str, object] | None = None
    items: str | None = None
    prepare: Callable[[World], None] | None = None

    def __post_init__(self) -> None:
        assert len(self.cells) == len(CALLERS), f"{self.method} {self.path} needs one cell per caller"


def get(path: str, *cells: Cell, items: str | None = None) -> Row:
    return Row("GET", path, cells, items=items)


def write(
    method: str,
    path: str,
    *cells: Cell,
    body: dict[str, object] | None = None,
    prepare: Callable[[World], None] | None = None,
) -> Row:
    return Row(method, path, cells, body=body, prepare=prepare)


def victim_inbox(name: str, pod: str) -> Callable[[World], None]:
    return lambda world: world.inbox(name, pod)


def victim_pod(name: str) -> Callable[[World], None]:
    return lambda world: world.pod(name)


def victim_key(
    name: str,
    *,
    pod: str | None = None,
    inbox: str | None = None,
    permissions: tuple[str, ...] | None = ("inbox_read",),
) -> Callable[[World], None]:
    return lambda world: world.key(name, pod=pod, inbox=inbox, permissions=permissions)


def me(caller: str, scope: str, scope_id: str, pod: str | None, inbox: str | None) -> dict[str, object]:
    return {
        "scope_type": scope,
        "scope_id": scope_id,
        "organization_id": "ORG",
        "pod_id": pod,
        "inbox_id": inbox,
        "api_key_id": caller,
    }


def organization(inbox_count: int, domain_count: int = 1) -> dict[str, object]:
    """``domain_count``: the default domain, for every key that may see domains at all."""
    return {"organization_id": "ORG", "inbox_count": inbox_count, "domain_count": domain_count}


ALL_KEYS = ["root", "org", "org_ro", "pod_a", "pod_a_ro", "pod_a_admin", "inbox_a1", "pod_b", "inbox_a2", "inbox_b1"]
POD_A_KEYS = ["pod_a", "pod_a_ro", "pod_a_admin"]
IN_POD_A = [*POD_A_KEYS, "inbox_a1", "inbox_a2"]
A1 = {"inbox_id": "a1", "pod_id": "A"}
READ = {"permissions": {"inbox_read": True}}
NEW_A = {"pod_id": "A", "inbox_id": None}
NEW_A1 = {"pod_id": "A", "inbox_id": "a1"}
RENAME = {"display_name": "Renamed"}
KEY_RENAME = {"name": "renamed"}
NOBODY = "nobody@postroom.localhost"

# Columns:  org,  org_ro,  pod_a,  pod_a_ro,  pod_a_admin,  inbox_a1
TABLE: tuple[Row, ...] = (
    # Identity and organization: no permission needed; inbox_count counts only what the key can see.
    get(
        "/v0/auth/me",
        me("org", "organization", "ORG", None, None),
        me("org_ro", "organization", "ORG", None, None),
        me("pod_a", "pod", "A", "A", None),
        me("pod_a_ro", "pod", "A", "A", None),
        me("pod_a_admin", "pod", "A", "A", None),
        me("inbox_a1", "inbox", "a1", "A", "a1"),
    ),
    get("/v0/organizations", organization(4), organization(4), *[organization(2)] * 3, organization(1, 0)),
    # Pods: reads.
    get("/v0/pods", ["D", "A", "B"], MP, ["A"], ["A"], ["A"], [], items="pods"),
    get("/v0/pods/{A}", {"pod_id": "A"}, MP, {"pod_id": "A"}, OK, OK, NF),
    get("/v0/pods/{B}", {"pod_id": "B"}, MP, NF, NF, NF, NF),
    get("/v0/pods/{D}", {"pod_id": "D"}, MP, NF, NF, NF, NF),
    get("/v0/pods/pod_01unknown", NF, MP, NF, NF, NF, NF),
    # Inboxes: lists and searches at organization and pod scope.
    get("/v0/inboxes", *[["a1", "a2", "b1", "b2"]] * 2, *[["a1", "a2"]] * 3, ["a1"], items="inboxes"),
    get("/v0/inboxes/search?q=team", *[["a1", "a2", "b1", "b2"]] * 2, *[["a1", "a2"]] * 3, ["a1"], items="inboxes"),
    get("/v0/inboxes/search?q=team-b1", ["b1"], ["b1"], [], [], [], [], items="inboxes"),
    get("/v0/pods/{A}/inboxes", *[["a1", "a2"]] * 5, NF, items="inboxes"),
    get("/v0/pods/{B}/inboxes", ["b1", "b2"], ["b1", "b2"], NF, NF, NF, NF, items="inboxes"),
    get("/v0/pods/{D}/inboxes", [], [], NF, NF, NF, NF, items="inboxes"),
    get("/v0/pods/{A}/inboxes/search?q=team", *[["a1", "a2"]] * 5, NF, items="inboxes"),
    get("/v0/pods/{B}/inboxes/search?q=team", ["b1", "b2"], ["b1", "b2"], NF, NF, NF, NF, items="inboxes"),
    get("/v0/pods/{A}/inboxes/search?q=team-b1", [], [], [], [], [], NF, items="inboxes"),
    # Inboxes: get by id.
    get("/v0/inboxes/{a1}", *[A1] * 6),
    get("/v0/inboxes/{a2}", OK, OK, OK, OK, OK, NF),
    get("/v0/inboxes/{b1}", {"inbox_id": "b1", "pod_id": "B"}, OK, NF, NF, NF, NF),
    get(f"/v0/inboxes/{NOBODY}", NF, NF, NF, NF, NF, NF),
    get("/v0/pods/{A}/inboxes/{a1}", *[A1] * 5, NF),
    get("/v0/pods/{A}/inboxes/{a2}", OK, OK, OK, OK, OK, NF),
    get("/v0/pods/{B}/inboxes/{b1}", OK, OK, NF, NF, NF, NF),
    get("/v0/pods/{A}/inboxes/{b1}", NF, NF, NF, NF, NF, NF),
    get("/v0/pods/{B}/inboxes/{a1}", NF, NF, NF, NF, NF, NF),
    get("/v0/pods/{D}/inboxes/{a1}", NF, NF, NF, NF, NF, NF),
    # API keys: lists at the three scopes (pod routes list pod keys only) and get by id.
    get("/v0/api-keys", ALL_KEYS, MP, IN_POD_A, IN_POD_A, IN_POD_A, ["inbox_a1"], items="api_keys"),
    get("/v0/pods/{A}/api-keys", POD_A_KEYS, MP, POD_A_KEYS, POD_A_KEYS, POD_A_KEYS, NF, items="api_keys"),
    get("/v0/pods/{B}/api-keys", ["pod_b"], MP, NF, NF, NF, NF, items="api_keys"),
    get("/v0/pods/{D}/api-keys", [], MP, NF, NF, NF, NF, items="api_keys"),
    get("/v0/inboxes/{a1}/api-keys", ["inbox_a1"], MP, *[["inbox_a1"]] * 4, items="api_keys"),
    get("/v0/inboxes/{a2}/api-keys", ["inbox_a2"], MP, ["inbox_a2"], ["inbox_a2"], ["inbox_a2"], NF, items="api_keys"),
    get("/v0/inboxes/{b1}/api-keys", ["inbox_b1"], MP, NF, NF, NF, NF, items="api_keys"),
    get("/v0/api-keys/{root}", {"api_key_id": "root"}, MP, NF, NF, NF, NF),
    get("/v0/api-keys/{org_ro}", {"permissions": {"inbox_read": True}}, MP, NF, NF, NF, NF),
    get("/v0/api-keys/{pod_a_ro}", {"pod_id": "A", "inbox_id": None}, MP, OK, OK, OK, NF),
    get("/v0/api-keys/{inbox_a1}", {"pod_id": "A", "inbox_id": "a1"}, MP, OK, OK, OK, OK),
    get("/v0/api-keys/{inbox_a2}", OK, MP, OK, OK, OK, NF),
    get("/v0/api-keys/{pod_b}", {"pod_id": "B"}, MP, NF, NF, NF, NF),
    get("/v0/api-keys/{inbox_b1}", OK, MP, NF, NF, NF, NF),
    get("/v0/api-keys/key_01unknown", NF, MP, NF, NF, NF, NF),
    # Pods: writes.
    write("POST", "/v0/pods", {"name": "New pod"}, MP, FB, MP, MP, FB, body={"name": "New pod"}),
    write("DELETE", "/v0/pods/{vp}", GONE, MP, NF, MP, MP, NF, prepare=victim_pod("vp")),
    write("DELETE", "/v0/pods/{A}", BUSY, MP, BUSY, MP, MP, NF),
    write("DELETE", "/v0/pods/{B}", BUSY, MP, NF, MP, MP, NF),
    write("DELETE", "/v0/pods/{D}", BUSY, MP, NF, MP, MP, NF),
    write("DELETE", "/v0/pods/pod_01unknown", NF, MP, NF, MP, MP, NF),
    # Inboxes: creates land in the route's pod, the key's pod, or the default pod; client_id never crosses scopes.
    write("POST", "/v0/inboxes", {"pod_id": "D"}, MP, {"pod_id": "A"}, MP, MP, FB, body={}),
    write("POST", "/v0/inboxes", {"inbox_id": "b1"}, MP, TAKEN, MP, MP, FB, body={"client_id": "cid-b1"}),
    write("POST", "/v0/inboxes", A1, MP, A1, MP, MP, FB, body={"client_id": "cid-a1"}),
    write("POST", "/v0/inboxes", TAKEN, MP, TAKEN, MP, MP, FB, body={"username": "team-b2"}),
    write("POST", "/v0/pods/{A}/inboxes", {"pod_id": "A"}, MP, {"pod_id": "A"}, MP, MP, NF, body={}),
    write("POST", "/v0/pods/{B}/inboxes", {"pod_id": "B"}, MP, NF, MP, MP, NF, body={}),
    write("POST", "/v0/pods/{D}/inboxes", {"pod_id": "D"}, MP, NF, MP, MP, NF, body={}),
    # Inboxes: updates.
    write("PATCH", "/v0/inboxes/{a1}", OK, MP, OK, MP, MP, OK, body=RENAME),
    write("PATCH", "/v0/inboxes/{a2}", OK, MP, OK, MP, MP, NF, body={"status": "paused"}),
    write("PATCH", "/v0/inboxes/{b1}", OK, MP, NF, MP, MP, NF, body={"metadata": {"x": 1}}),
    write("PATCH", "/v0/pods/{A}/inboxes/{a1}", OK, MP, OK, MP, MP, NF, body=RENAME),
    write("PATCH", "/v0/pods/{B}/inboxes/{b2}", OK, MP, NF, MP, MP, NF, body=RENAME),
    write("PATCH", "/v0/pods/{A}/inboxes/{b1}", NF, MP, NF, MP, MP, NF, body=RENAME),
    write("PATCH", "/v0/pods/{B}/inboxes/{a1}", NF, MP, NF, MP, MP, NF, body=RENAME),
    write("PATCH", f"/v0/inboxes/{NOBODY}", NF, MP, NF, MP, MP, NF, body=RENAME),
    # API keys: creates. The route picks the scope; nobody grants more than it holds.
    write("POST", "/v0/api-keys", {"pod_id": None, **READ}, MP, FB, MP, FB, FB, body=READ),
    write("POST", "/v0/api-keys", {"permissions": None}, MP, FB, MP, FB, FB, body={"name": "full"}),
    write("POST", "/v0/pods/{A}/api-keys", {**NEW_A, **READ}, MP, NEW_A, MP, NEW_A, NF, body=READ),
    write("POST", "/v0/pods/{A}/api-keys", NEW_A, MP, NEW_A, MP, URQ, NF, body={}),
    write(
        "POST",
        "/v0/pods/{A}/api-keys",
        OK,
        MP,
        OK,
        MP,
        ESC,
        NF,
        body={"permissions": {"inbox_read": True, "inbox_delete": True}},
    ),
    write("POST", "/v0/pods/{A}/api-keys", ESC, MP, ESC, MP, ESC, NF, body={"permissions": {"app_connect": True}}),
    write("POST", "/v0/pods/{B}/api-keys", {"pod_id": "B"}, MP, NF, MP, NF, NF, body=READ),
    write("POST", "/v0/pods/pod_01unknown/api-keys", NF, MP, NF, MP, NF, NF, body=READ),
    write("POST", "/v0/inboxes/{a1}/api-keys", NEW_A1, MP, NEW_A1, MP, NEW_A1, NEW_A1, body=READ),
    write("POST", "/v0/inboxes/{a1}/api-keys", NEW_A1, MP, NEW_A1, MP, URQ, NEW_A1, body={}),
    write("POST", "/v0/inboxes/{a2}/api-keys", OK, MP, OK, MP, OK, NF, body=READ),
    write("POST", "/v0/inboxes/{b1}/api-keys", {"pod_id": "B", "inbox_id": "b1"}, MP, NF, MP, NF, NF, body=READ),
    # API keys: updates. A restricted key cannot touch a more powerful key, nor widen or clear permissions.
    write("PATCH", "/v0/pods/{A}/api-keys/{pod_a_ro}", OK, MP, OK, MP, OK, NF, body=KEY_RENAME),
    write("PATCH", "/v0/api-keys/{pod_a_ro}", OK, MP, OK, MP, OK, NF, body=KEY_RENAME),
    write("PATCH", "/v0/pods/{A}/api-keys/{pod_a}", OK, MP, OK, MP, ESC, NF, body=KEY_RENAME),
    write("PATCH", "/v0/api-keys/{pod_a}", OK, MP, OK, MP, ESC, NF, body=KEY_RENAME),
    write("PATCH", "/v0/api-keys/{org_ro}", OK, MP, NF, MP, NF, NF, body=KEY_RENAME),
    write("PATCH", "/v0/pods/{B}/api-keys/{pod_b}", OK, MP, NF, MP, NF, NF, body=KEY_RENAME),
    write("PATCH", "/v0/pods/{B}/api-keys/{pod_a_ro}", NF, MP, NF, MP, NF, NF, body=KEY_RENAME),
    write("PATCH", "/v0/pods/{A}/api-keys/{inbox_a2}", NF, MP, NF, MP, NF, NF, body=KEY_RENAME),
    write("PATCH", "/v0/inboxes/{a2}/api-keys/{inbox_a2}", OK, MP, OK, MP, ESC, NF, body=KEY_RENAME),
    write("PATCH", "/v0/inboxes/{a1}/api-keys/{inbox_a2}", NF, MP, NF, MP, NF, NF, body=KEY_RENAME),
    write("PATCH", "/v0/inboxes/{a1}/api-keys/{inbox_a1}", OK, MP, OK, MP, ESC, OK, body=KEY_RENAME),
    write("PATCH", "/v0/inboxes/{b1}/api-keys/{inbox_b1}", OK, MP, NF, MP, NF, NF, body=KEY_RENAME),
    write("PATCH", "/v0/api-keys/key_01unknown", NF, MP, NF, MP, NF, NF, body=KEY_RENAME),
    write(
        "PATCH",
        "/v0/pods/{A}/api-keys/{vk1}",
        OK,
        MP,
        OK,
        MP,
        OK,
        NF,
        body={"permissions": {"inbox_read": True, "pod_read": True}},
        prepare=victim_key("vk1", pod="A"),
    ),
    write(
        "PATCH",
        "/v0/pods/{A}/api-keys/{vk2}",
        OK,
        MP,
        OK,
        MP,
        ESC,
        NF,
        body={"permissions": {"inbox_read": True, "inbox_delete": True}},
        prepare=victim_key("vk2", pod="A"),
    ),
    write(
        "PATCH",
        "/v0/pods/{A}/api-keys/{vk3}",
        OK,
        MP,
        OK,
        MP,
        URQ,
        NF,
        body={"permissions": None},
        prepare=victim_key("vk3", pod="A"),
    ),
    # API keys: deletes, each on a fresh victim.
    write("DELETE", "/v0/api-keys/{vk4}", GONE, MP, NF, MP, NF, NF, prepare=victim_key("vk4")),
    write("DELETE", "/v0/api-keys/{vk5}", GONE, MP, GONE, MP, GONE, NF, prepare=victim_key("vk5", pod="A")),
    write("DELETE", "/v0/pods/{A}/api-keys/{vk6}", GONE, MP, GONE, MP, GONE, NF, prepare=victim_key("vk6", pod="A")),
    write(
        "DELETE",
        "/v0/pods/{A}/api-keys/{vk7}",
        GONE,
        MP,
        GONE,
        MP,
        ESC,
        NF,
        prepare=victim_key("vk7", pod="A", permissions=None),
    ),
    write("DELETE", "/v0/pods/{B}/api-keys/{vk8}", GONE, MP, NF, MP, NF, NF, prepare=victim_key("vk8", pod="B")),
    write("DELETE", "/v0/pods/{B}/api-keys/{vk9}", NF, MP, NF, MP, NF, NF, prepare=victim_key("vk9", pod="A")),
    write("DELETE", "/v0/pods/{A}/api-keys/{vk10}", NF, MP, NF, MP, NF, NF, prepare=victim_key("vk10", inbox="a1")),
    write(
        "DELETE",
        "/v0/inboxes/{a1}/api-keys/{vk11}",
        GONE,
        MP,
        GONE,
        MP,
        GONE,
        GONE,
        prepare=victim_key("vk11", inbox="a1"),
    ),
    write("DELETE", "/v0/inboxes/{a2}/api-keys/{vk12}", NF, MP, NF, MP, NF, NF, prepare=victim_key("vk12", inbox="a1")),
    write(
        "DELETE", "/v0/inboxes/{b1}/api-keys/{vk13}", GONE, MP, NF, MP, NF, NF, prepare=victim_key("vk13", inbox="b1")
    ),
    write("DELETE", "/v0/api-keys/{vk14}", GONE, MP, NF, MP, NF, NF, prepare=victim_key("vk14", inbox="b1")),
    write("DELETE", "/v0/api-keys/key_01unknown", NF, MP, NF, MP, NF, NF),
    # Inboxes: deletes, each on a fresh victim, then the real inboxes (their keys go with them).
    write("DELETE", "/v0/inboxes/{va}", GONE, MP, GONE, MP, MP, NF, prepare=victim_inbox("va", "A")),
    write("DELETE", "/v0/inboxes/{vb}", GONE, MP, NF, MP, MP, NF, prepare=victim_inbox("vb", "B")),
    write("DELETE", "/v0/pods/{A}/inboxes/{va2}", GONE, MP, GONE, MP, MP, NF, prepare=victim_inbox("va2", "A")),
    write("DELETE", "/v0/pods/{B}/inboxes/{vb2}", GONE, MP, NF, MP, MP, NF, prepare=victim_inbox("vb2", "B")),
    write("DELETE", "/v0/pods/{A}/inboxes/{vb3}", NF, MP, NF, MP, MP, NF, prepare=victim_inbox("vb3", "B")),
    write("DELETE", "/v0/pods/{B}/inboxes/{va3}", NF, MP, NF, MP, MP, NF, prepare=victim_inbox("va3", "A")),
    write("DELETE", f"/v0/inboxes/{NOBODY}", NF, MP, NF, MP, MP, NF),
    write("DELETE", "/v0/inboxes/{a2}", GONE, MP, GONE, MP, MP, NF),
    write("DELETE", "/v0/inboxes/{a1}", GONE, MP, GONE, MP, MP, GONE),
    # An inbox key dies with its inbox, at once.
    get(
        "/v0/auth/me",
        {"api_key_id": "org"},
        {"api_key_id": "org_ro"},
        {"api_key_id": "pod_a"},
        {"api_key_id": "pod_a_ro"},
        {"api_key_id": "pod_a_admin"},
        DEAD,
    ),
)


def expected_status(cell: Cell) -> tuple[int, str | None]:
    if isinstance(cell, tuple):
        return cell
    if isinstance(cell, int):
        return cell, None
    return 200, None


def check_response(world: World, row: Row, cell: Cell, response: Response) -> list[str]:
    status, code = expected_status(cell)
    if "html" in response.headers.get("content-type", "") or "Traceback" in response.text:
        return [f"HTML or traceback in the response: {response.text[:200]}"]
    if response.status_code != status:
        return [f"status {response.status_code}, expected {status} {code or ''}: {response.text[:300]}"]
    if status == 204:
        return [] if not response.content else [f"204 with a body: {response.text[:200]}"]
    body = response.json()
    if status >= 400:
        shape = all(isinstance(body.get(name), str) for name in ("name", "code", "message"))
        if not shape or body["code"] != code:
            return [f"error body {body}, expected code {code}"]
        return []
    problems = []
    if row.method == "GET" and "api-keys" in row.path and '"api_key":' in response.text:
        problems.append("a key listing or get reveals a secret")
    if isinstance(cell, list):
        assert row.items is not None
        got = sorted(world.name(item[ITEM_IDS[row.items]]) for item in body[row.items])
        if got != sorted(cell):
            problems.append(f"returned {got}, expected {sorted(cell)}")
        if body.get("count") != len(body[row.items]):
            problems.append(f"count {body.get('count')} for {len(body[row.items])} items")
    elif isinstance(cell, dict):
        for name, value in cell.items():
            if body.get(name) != world.resolve(value):
                problems.append(f"{name}={world.name(body.get(name))!r}, expected {value!r}")
    return problems


def target_kind(path: str) -> str:
    if "/api-keys" in path:
        return "api_keys"
    if "/inboxes" in path:
        return "inboxes"
    return "pods"


def check_effect(world: World, row: Row, path: str, response: Response, before: State, after: State) -> list[str]:
    """A refused write changes nothing; a successful one changes its target (and what cascades from it) only."""
    kind = target_kind(path)
    expected = before
    if response.status_code < 400 and row.method == "DELETE":
        target = path.rsplit("/", 1)[1]
        expected = {
            name: item
            for name, item in before.items()
            if name != f"{kind}:{target}"
            and not (name.startswith("api_keys:") and target in (item.get("inbox_id"), item.get("pod_id")))
        }
    elif response.status_code < 400:
        body = response.json()
        entry = f"{kind}:{body[ITEM_IDS[kind]]}"
        if entry not in after:
            return [f"{world.name(body[ITEM_IDS[kind]])} is not stored"]
        if row.method == "PATCH":
            expected = {**before, entry: after[entry]}
            sent = {name: value for name, value in (row.body or {}).items() if name != "metadata"}
            stored = {name: after[entry].get(name) for name in sent}
            if stored != sent:
                return [f"PATCH stored {stored}, sent {sent}"]
        elif entry not in before:  # a POST made one new resource; a repeated client_id returns the old one
            expected = {**before, entry: after[entry]}
    if after == expected:
        return []
    changed = sorted(
        world.name(name.split(":", 1)[1])
        for name in set(after) | set(expected)
        if after.get(name) != expected.get(name)
    )
    verb = "a refused" if response.status_code >= 400 else "the"
    return [f"{verb} {row.method} changed the stored state of {changed}"]


def walk(world: World, caller: str) -> list[str]:
    index = CALLERS.index(caller)
    problems: list[str] = []
    before: State | None = None  # the stored state, kept between writes; reads leave it as it is
    for row in TABLE:
        if row.prepare is not None:
            row.prepare(world)
            before = None
        path = row.path.format(**world.ids)
        if row.method != "GET" and before is None:
            before = world.state()
        response = world.client.request(row.method, path, json=row.body, headers=bearer(world.secrets[caller]))
        found = check_response(world, row, row.cells[index], response)
        if before is not None and row.method != "GET":
            after = world.state()
            if not found:
                found = check_effect(world, row, path, response, before, after)
            before = after
        problems += [f"{row.method} {row.path} {row.body or ''}: {problem}" for problem in found]
    return problems


@pytest.mark.parametrize("caller", CALLERS)
def test_isolation_matrix(client: TestClient, root_key: str, runtime: Runtime, caller: str) -> None:
    world = World(client, root_key, runtime.engine)
    problems = walk(world, caller)
    assert not problems, f"{len(problems)} mismatch(es) for the {caller} key:\n" + "\n".join(problems)


def test_paging_never_crosses_scopes(client: TestClient, root_key: str, runtime: Runtime) -> None:
    """Page by page (limit=1) each key still sees only its scope, and a wider key's page token is refused."""
    world = World(client, root_key, runtime.engine)
    expected = {
        ("org_ro", "/v0/inboxes"): ["a1", "a2", "b1", "b2"],
        ("pod_a", "/v0/inboxes"): ["a1", "a2"],
        ("pod_a_ro", "/v0/inboxes/search?q=team&"): ["a1", "a2"],
        ("inbox_a1", "/v0/inboxes"): ["a1"],
        ("pod_a", "/v0/pods"): ["A"],
        ("pod_a_ro", "/v0/api-keys"): IN_POD_A,
        ("inbox_a1", "/v0/api-keys"): ["inbox_a1"],
    }
    for (caller, path), names in expected.items():
        seen: list[str] = []
        items = "api_keys" if "api-keys" in path else "pods" if "pods" in path else "inboxes"
        token = ""
        for _ in range(20):
            separator = "" if path.endswith("&") else "?"
            response = client.get(f"{path}{separator}limit=1&page_token={token}", headers=bearer(world.secrets[caller]))
            assert response.status_code == 200, (caller, path, response.text)
            seen += [world.name(item[ITEM_IDS[items]]) for item in response.json()[items]]
            token = response.json().get("next_page_token") or ""
            if not token:
                break
        assert sorted(seen) == sorted(names), (caller, path, seen)
    wide = client.get("/v0/inboxes?limit=1").json()["next_page_token"]
    for caller in ("pod_a", "inbox_a1"):
        response = client.get(f"/v0/inboxes?limit=1&page_token={wide}", headers=bearer(world.secrets[caller]))
        assert response.status_code == 400, (caller, response.text)
        assert response.json()["code"] == "validation_error"


def test_a_deleted_key_is_refused_at_once(client: TestClient) -> None:
    created = client.post("/v0/api-keys", json={"permissions": {"inbox_read": True}}).json()
    assert client.get("/v0/inboxes", headers=bearer(created["api_key"])).status_code == 200
    assert client.delete(f"/v0/api-keys/{created['api_key_id']}").status_code == 204
    for _ in range(2):
        response = client.get("/v0/inboxes", headers=bearer(created["api_key"]))
        assert response.status_code == 401
        assert response.json()["code"] == "unknown_api_key"
    assert client.get(f"/v0/api-keys/{created['api_key_id']}").status_code == 404


def test_an_expired_key_is_refused(client: TestClient, clock: TestClock) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    body = {"permissions": {"inbox_read": True, "api_key_create": True}, "expires_at": expires.isoformat()}
    parent = client.post("/v0/api-keys", json=body).json()
    headers = bearer(parent["api_key"])
    assert client.get("/v0/auth/me", headers=headers).status_code == 200
    # A key made by an expiring key inherits its expiry and may not outlive it.
    later = (expires + timedelta(minutes=1)).isoformat()
    outliving = client.post(
        "/v0/api-keys", json={"permissions": {"inbox_read": True}, "expires_at": later}, headers=headers
    )
    assert outliving.status_code == 403
    assert outliving.json()["code"] == "permission_escalation"
    child = client.post("/v0/api-keys", json={"permissions": {"inbox_read": True}}, headers=headers).json()
    assert child["expires_at"] == parent["expires_at"]

    clock.advance(hours=2)
    for secret in (parent["api_key"], child["api_key"]):
        response = client.get("/v0/auth/me", headers=bearer(secret))
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
    assert client.get("/v0/auth/me").status_code == 200  # the root key never expires


def test_the_key_of_a_deleted_inbox_is_refused(client: TestClient) -> None:
    inbox = client.post("/v0/inboxes", json={"username": "short-lived"}).json()
    key = client.post(f"/v0/inboxes/{inbox['inbox_id']}/api-keys", json={}).json()
    assert client.get("/v0/auth/me", headers=bearer(key["api_key"])).json()["inbox_id"] == inbox["inbox_id"]
    assert client.delete(f"/v0/inboxes/{inbox['inbox_id']}").status_code == 204
    response = client.get("/v0/auth/me", headers=bearer(key["api_key"]))
    assert response.status_code == 401
    assert response.json()["code"] == "unknown_api_key"
    # A new inbox at the same address does not bring the old key back.
    assert client.post("/v0/inboxes", json={"username": "short-lived"}).status_code == 200
    assert client.get("/v0/inboxes", headers=bearer(key["api_key"])).status_code == 401
    assert client.get(f"/v0/api-keys/{key['api_key_id']}").status_code == 404


def test_the_key_of_a_deleted_pod_is_refused(client: TestClient) -> None:
    pod = client.post("/v0/pods", json={"name": "short-lived"}).json()
    key = client.post(f"/v0/pods/{pod['pod_id']}/api-keys", json={}).json()
    assert client.get("/v0/pods", headers=bearer(key["api_key"])).json()["count"] == 1
    assert client.delete(f"/v0/pods/{pod['pod_id']}").status_code == 204
    response = client.get("/v0/pods", headers=bearer(key["api_key"]))
    assert response.status_code == 401
    assert response.json()["code"] == "unknown_api_key"
