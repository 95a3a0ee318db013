"""Turning command-line text into API values: ``KEY=VALUE`` metadata, permission names and ISO-8601 timestamps."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

import typer

MetadataValue = str | int | float | bool

# JSON's number grammar: "5" and "-2.5e3" are numbers, while "007", "1_000", "inf" and "nan" stay strings.
_INTEGER = re.compile(r"-?(?:0|[1-9]\d*)")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def metadata_value(text: str) -> MetadataValue:
    """``true``/``false`` become booleans, JSON-style numbers become int or float, anything else stays a string."""
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if _INTEGER.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        return float(text)
    return text


def parse_metadata(pairs: Iterable[str]) -> dict[str, MetadataValue]:
    """``KEY=VALUE`` items (split at the first ``=``) as a dict; a later item for the same key wins."""
    parsed: dict[str, MetadataValue] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="'--metadata'")
        parsed[key.strip()] = metadata_value(value)
    return parsed


def parse_permissions(names: Iterable[str], known: Iterable[str]) -> dict[str, bool]:
    """Permission names (repeated, or comma-separated) as the ``{name: true}`` whitelist of ``ApiKeyPermissions``."""
    allowed = set(known)
    granted: dict[str, bool] = {}
    for item in names:
        for raw in item.split(","):
            name = raw.strip().lower().replace("-", "_")
            if not name:
                continue
            if name not in allowed:
                choices = ", ".join(sorted(allowed))
                raise typer.BadParameter(
                    f"unknown permission {raw.strip()!r}; known: {choices}", param_hint="'--permission'"
                )
            granted[name] = True
    if not granted:
        raise typer.BadParameter("no permission names given", param_hint="'--permission'")
    return granted


def parse_timestamp(text: str) -> datetime:
    """An ISO-8601 date or date-time; one without a UTC offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"expected an ISO-8601 time such as 2030-01-31T12:00:00Z, got {text!r}", param_hint="'--expires-at'"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
