"""The application's routes as one flat list, whatever nesting the FastAPI version keeps for included routers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from starlette.routing import BaseRoute


def flat_routes(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, with included routers opened (our routers are included without a prefix, so paths are whole)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from flat_routes(included.routes)
        else:
            yield route
