"""Prompts written for ``agentmail-toolkit`` 0.3.2 work unchanged: for every tool name we share, our input schema
has the toolkit's argument names and accepts every argument set the toolkit's own schema accepts."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from postroom.mcp.server import build_server

SAMPLES: dict[str, Any] = {
    "inbox_id": "agent@postroom.localhost",
    "thread_id": "thr_1",
    "message_id": "<a@example.org>",
    "attachment_id": "att_1",
    "limit": 5,
    "page_token": "tok",
    "labels": ["unread"],
    "before": "2026-04-01T09:00:00Z",
    "after": "2026-03-01T09:00:00Z",
    "ascending": True,
    "include_spam": False,
    "include_blocked": True,
    "include_trash": False,
    "username": "agent",
    "domain": "postroom.localhost",
    "display_name": "Agent",
    "to": ["Ann <ann@example.org>"],
    "cc": ["bob@example.org"],
    "bcc": ["carol@example.org"],
    "subject": "Hello",
    "text": "Hi",
    "html": "<p>Hi</p>",
    "attachments": [{"filename": "a.txt", "content": "aGk="}, {"url": "https://example.org/f.pdf", "content_id": "c1"}],
    "reply_all": True,
    "add_labels": ["done"],
    "remove_labels": ["unread"],
}


@dataclass(frozen=True)
class ToolkitTool:
    name: str
    params_schema: type[BaseModel]


def toolkit_tools_of(package: Path) -> list[ToolkitTool]:
    """The toolkit's tool names and argument schemas, read without importing its tool functions.

    The toolkit is installed without its dependencies (`make test`: pip --no-deps), because they pull in an AGPL
    PDF library and agent frameworks this project does not ship; its schemas need only pydantic, and the name to
    schema pairs are read from the ``tools`` list in ``tools.py``.
    """
    spec = importlib.util.spec_from_file_location("agentmail_toolkit_schemas", package / "schemas.py")
    assert spec is not None
    assert spec.loader is not None
    schemas: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(schemas)
    found = []
    for node in ast.walk(ast.parse((package / "tools.py").read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Tool":
            fields = {keyword.arg: keyword.value for keyword in node.keywords}
            name, schema = fields["name"], fields["params_schema"]
            assert isinstance(name, ast.Constant)
            assert isinstance(schema, ast.Name)
            found.append(ToolkitTool(str(name.value), getattr(schemas, schema.id)))
    return found


def toolkit_package() -> Path:
    spec = importlib.util.find_spec("agentmail_toolkit")  # finds the package without running its __init__
    assert spec is not None, "agentmail-toolkit 0.3.2 is installed by make test"
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


toolkit_tools = toolkit_tools_of(toolkit_package())


def our_schemas() -> dict[str, dict[str, Any]]:
    tools = asyncio.run(build_server(backend=None).list_tools())  # type: ignore[arg-type]
    return {tool.name: tool.input_schema for tool in tools}


OURS = our_schemas()
SHARED = [tool for tool in toolkit_tools if tool.name in OURS]


def test_every_toolkit_tool_but_the_hosted_sign_up_ones_is_served() -> None:
    missing = {tool.name for tool in toolkit_tools} - set(OURS)
    assert missing == {"agent_attach_human", "agent_verify"}  # hosted-service account verification only
    assert len(SHARED) == 11


@pytest.mark.parametrize("tool", SHARED, ids=lambda tool: tool.name)
def test_our_schema_accepts_the_toolkits_arguments(tool: ToolkitTool) -> None:
    theirs = tool.params_schema.model_json_schema()
    ours = OURS[tool.name]
    assert set(theirs["properties"]) <= set(ours["properties"])
    assert set(ours.get("required", [])) <= set(theirs.get("required", []))
    required = {name: SAMPLES[name] for name in theirs.get("required", [])}
    everything = {name: SAMPLES[name] for name in theirs["properties"]}
    for arguments in (required, everything):
        Draft202012Validator(theirs).validate(arguments)
        Draft202012Validator(ours).validate(arguments)
    for name in theirs.get("required", []):
        without = {key: value for key, value in everything.items() if key != name}
        assert not Draft202012Validator(ours).is_valid(without), f"{tool.name} accepts a call without {name}"
