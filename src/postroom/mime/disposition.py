"""The ``Content-Disposition`` of a download (RFC 6266), with the exact filename in RFC 8187 ``filename*`` form."""

from __future__ import annotations

from urllib.parse import quote


def attachment_disposition(filename: str) -> str:
    """``attachment`` naming ``filename``: a printable-ASCII fallback for old clients, the UTF-8 name for the rest."""
    fallback = "".join(char if " " <= char <= "~" and char not in '"\\' else "_" for char in filename)
    encoded = quote(filename, safe="", errors="replace")
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{encoded}"
