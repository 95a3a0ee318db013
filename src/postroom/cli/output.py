"""Printing command results: readable rich tables for people, or the SDK models' JSON with ``--json`` for scripts."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console

Cell = str | None


def console() -> Console:
    """A console for stdout; when output is piped, lines are never wrapped, so IDs stay whole for grep and copy."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=1000, no_color=True)


def print_json(data: BaseModel | dict[str, Any]) -> None:
    """Print a model as its wire JSON (``null`` fields left out) or a plain dict, indented."""
    if isinstance(data, dict):
        payload = data
    else:
        with warnings.catch_warnings():
            # The SDK declares metadata values as ``Union[str, float, bool]``, so an integer value would warn.
            warnings.filterwarnings("ignore", message="Pydantic serializer warnings", category=UserWarning)
            payload = data.model_dump(mode="json", by_alias=True, exclude_none=True)
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def when(moment: datetime | None) -> Cell:
    """A timestamp as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def show_record(title: str, rows: Iterable[tuple[str, Cell]]) -> None:
    """A two-column field/value table; fields without a value are left out."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_header=False, box=box.SIMPLE)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for field, value in rows:
        if value is not None and value != "":
            table.add_row(field, Text(value))  # Text: values are shown literally, never read as rich markup
    console().print(table)


def show_list(
    noun: str, columns: Sequence[str], rows: Iterable[Sequence[Cell]], next_page_token: str | None = None
) -> None:
    """A table with one row per item, then the token for the next page when there is one."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out = console()
    table = Table(box=box.SIMPLE_HEAD)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(value or "") for value in row))
    if table.row_count:
        out.print(table)
    else:
        out.print(f"No {noun}.")
    if next_page_token:
        out.print(Text(f"More {noun}: pass --page-token {next_page_token}"), soft_wrap=True)


def show_message(message: str) -> None:
    """A plain confirmation line (for commands whose API call returns nothing)."""
    from rich.text import Text

    console().print(Text(message), soft_wrap=True)
