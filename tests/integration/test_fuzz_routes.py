"""A hypothesis fuzzer over every JSON body, query parameter and path id of every route: no answer is ever a 5xx.

The routes come from the application's own route table, so a route added later is fuzzed without editing this
file. Path parameters are a real id of a populated scope or hostile text; query parameters are the route's
declared ones plus the list filters read from the raw query; bodies draw the field names of every request model
with hostile values. Examples per route are bounded so the probe stays within CI's time on two cores.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from postroom.runtime import Runtime, build
from tests.conftest import make_settings
from tests.support.clock import TestClock
from tests.support.routes import Operation, models_in, operations
from tests.support.scopes import populate

EXAMPLES_PER_OPERATION = {"sqlite": 8, "postgresql": 4}  # per route and method; PostgreSQL is slower
LIST_FILTERS = ("labels", "from", "to", "subject", "senders", "recipients")
EDGE_TEXT = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff\ud800",
    "x" * 300,
    "é" * 70,
    "\r\nBcc: x@example.org",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2026-01-01T00:00:00Z",
    "99999-01-01",
    "-1",
    "0",
    "1e400",
    "true",
    "null",
    "[]",
    '["a","b"]',
    '[1,{"a":2}]',
    "x@postroom.localhost",
    "<a/b@c>",
    "../../postroom.db",
    "%00",
    "%ED%A0%80",
    "http://127.0.0.1:9/x",
    "inbox_read",
    "received",
    "spam",
    "message.received",
)
HOSTILE_CHARACTERS = st.one_of(
    st.characters(exclude_categories=()),
    st.sampled_from(["\ud800", "\udfff", "\x00", "\r", "\n", "/", "%", "+", "<", ">", "@", "é", "\U0001f48c"]),
)
HOSTILE_TEXT = st.text(alphabet=HOSTILE_CHARACTERS, max_size=30)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)


def _model_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for info in model.model_fields.values():
        for inner in models_in(info.annotation):
            names |= _model_fields(inner, seen)
    return names


def body_fields(operation: Operation) -> list[str]:
    model = operation.body_model
    return [] if model is None else sorted(_model_fields(model, set()))


def query_names(operation: Operation) -> list[str]:
    def walk(dependant: Dependant) -> Iterator[str]:
        for param in dependant.query_params:
            yield param.alias
        for inner in dependant.dependencies:
            yield from walk(inner)

    return sorted({*walk(operation.route.dependant), *LIST_FILTERS})


@dataclass
class Probe:
    client: TestClient
    ids: dict[str, str]
    budget: int
    examples: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def text(self) -> st.SearchStrategy[str]:
        known = sorted(set(self.ids.values()))
        return st.one_of(st.sampled_from(EDGE_TEXT), st.sampled_from(known), HOSTILE_TEXT)

    def json_values(self, keys: list[str]) -> st.SearchStrategy[object]:
        scalars = st.one_of(st.none(), st.booleans(), NUMBERS, self.text())
        hostile_key = st.one_of(st.sampled_from(EDGE_TEXT), HOSTILE_TEXT)
        key = st.one_of(st.sampled_from(keys), hostile_key) if keys else hostile_key
        return st.recursive(
            scalars,
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(key, inner, max_size=4),
            max_leaves=8,
        )

    def body(self, operation: Operation) -> st.SearchStrategy[bytes | None]:
        if not operation.has_body:
            return st.none()
        names = body_fields(operation)
        values = self.json_values(names)
        objects = st.fixed_dictionaries({}, optional=dict.fromkeys(names, values))
        encoded = st.one_of(objects, values).map(lambda value: json.dumps(value).encode())
        return st.one_of(encoded, st.binary(max_size=40))

    def query(self, operation: Operation) -> st.SearchStrategy[str]:
        value = st.one_of(
            st.sampled_from(EDGE_TEXT).map(lambda text: quote(text.encode("utf-8", "surrogatepass"), safe="")),
            self.text().map(lambda text: quote(text.encode("utf-8", "surrogatepass"), safe="")),
            st.binary(max_size=12).map(lambda raw: quote_from_bytes(raw, safe="")),
            NUMBERS.map(str),
        )
        pairs = st.lists(st.tuples(st.sampled_from(query_names(operation)), value), max_size=5)
        return pairs.map(lambda items: "&".join(f"{name}={text}" for name, text in items))

    def path(self, operation: Operation) -> st.SearchStrategy[str]:
        segments = {}
        for name in operation.path_names:
            hostile = self.text().map(lambda text: quote(text.encode("utf-8", "surrogatepass"), safe=""))
            real = st.just(quote(self.ids[name], safe="@<>")) if name in self.ids else hostile
            segments[name] = st.one_of(real, real, real, hostile)
        return st.fixed_dictionaries(segments).map(lambda values: operation.path.format(**values))

    def run(self, operation: Operation) -> None:
        @settings(
            max_examples=self.budget,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(path=self.path(operation), query=self.query(operation), body=self.body(operation))
        def probe(path: str, query: str, body: bytes | None) -> None:
            self.examples += 1
            url = f"{path}?{query}" if query else path
            headers = {"Content-Type": "application/json"} if body is not None else {}
            response = self.client.request(operation.method, url, content=body, headers=headers)
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.failures.append(f"{operation}: {operation.method} {url} {body!r} -> {response.status_code}")

        probe()


def _numeric_only(host: object, *args: Any, **kwargs: Any) -> Any:
    """No name lookup leaves the machine, whatever URL a fuzzed body names: only address literals resolve."""
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in str(host) else socket.AF_INET, str(host))
    except (OSError, ValueError):
        raise socket.gaierror(socket.EAI_NONAME, "name lookups are off in the fuzzer") from None
    return _real_getaddrinfo(host, *args, **kwargs)


_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def fuzzed(database_url: str, tmp_path: Path, clock: TestClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setattr(socket, "getaddrinfo", _numeric_only)
    runtime = build(make_settings(database_url, tmp_path, allow_private_urls=True), migrate=False, clock=clock)
    yield runtime
    runtime.close()


def test_no_route_answers_a_server_error(fuzzed: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    app = fuzzed.api()
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {fuzzed.bootstrap.api_key}"
        backend = fuzzed.settings.resolved_database_url().split(":", 1)[0].split("+", 1)[0]
        probe = Probe(client, populate(client, fuzzed, "fuzz"), EXAMPLES_PER_OPERATION[backend])
        every = operations(app)
        # Deletes last, so the other routes still find the populated resources.
        for operation in sorted(every, key=lambda operation: operation.method == "DELETE"):
            probe.run(operation)
    with capsys.disabled():
        answers = dict(sorted(probe.statuses.items()))
        print(f"\nfuzzer: {len(every)} operations, {probe.examples} examples, answers {answers}")
    assert len(every) > 100
    assert probe.examples >= len(every)
    assert not probe.failures, "\n".join(probe.failures[:40])
