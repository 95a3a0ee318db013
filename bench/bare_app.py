"""A bare FastAPI app returning an inbox-sized JSON dict: the baseline that bench/api.py measures Postroom against."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


def _inbox(inbox_id: str) -> dict[str, str]:
    """The same fields and roughly the same size (~235 bytes) as Postroom's inbox JSON."""
    return {
        "pod_id": "pod_01m89qkmx6qfj8wnfze3brdr6y",
        "inbox_id": inbox_id,
        "email": inbox_id,
        "display_name": "Bench Inbox",
        "updated_at": "2026-01-01T00:00:00.000000Z",
        "created_at": "2026-01-01T00:00:00.000000Z",
    }


@app.get("/inboxes/{inbox_id}")
def get_inbox(inbox_id: str) -> dict[str, str]:
    """A plain ``def`` like Postroom's routes, so FastAPI runs it in the threadpool too."""
    return _inbox(inbox_id)


@app.get("/async/inboxes/{inbox_id}")
async def get_inbox_async(inbox_id: str) -> dict[str, str]:
    """The cheapest FastAPI endpoint: runs on the event loop, no threadpool hop."""
    return _inbox(inbox_id)
