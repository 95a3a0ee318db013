"""Text from an attachment's bytes, for a model to read: text/* decoded by its charset, PDF pages via pypdf."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PyPdfError

MAX_EXTRACT_BYTES = 10 * 1024 * 1024
log = logging.getLogger(__name__)


def has_text(content_type: str | None, filename: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    name = (filename or "").lower()
    return kind.startswith("text/") or kind == "application/pdf" or name.endswith((".pdf", ".txt", ".csv", ".md"))


def _charset(content_type: str | None) -> str:
    for parameter in (content_type or "").split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"


def _pdf_text(data: bytes) -> str | None:
    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        log.info("pdf text extraction failed: %s", error)
        return None


def text_of(data: bytes, content_type: str | None, filename: str | None) -> str | None:
    """The attachment's text, or None when it has none this server can read."""
    if data.startswith(b"%PDF-") or (content_type or "").lower().startswith("application/pdf"):
        return _pdf_text(data)
    try:
        return data.decode(_charset(content_type), errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")
