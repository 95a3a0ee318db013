"""The index document of a long body, tokenised a slice at a time, is the one tokenising it whole gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postroom.domain import search
from postroom.domain.search import MAX_DOCUMENT_CHARS, MAX_WORD_CHARS, index_document


def whole(*texts: str | None) -> str:
    """The document as made before slicing: every text lower-cased and split in one go."""
    found: list[str] = []
    size = 0
    for text in texts:
        for word in search._WORD.findall((text or "").lower()):
            if len(word) > MAX_WORD_CHARS:
                continue
            size += len(word) + 1
            if size > MAX_DOCUMENT_CHARS:
                return " ".join(found)
            found.append(word)
    return " ".join(found)


TRICKY = st.text(alphabet=st.sampled_from(list("aΣ\u03c3ςİI\u0131 Ǆ\u0307'.\t\n_-9\u00a0\u2028ß")), max_size=300)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), TRICKY, st.text(max_size=200)), max_size=4))
def test_slices_give_the_whole_document(texts: list[str | None]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "SLICE_CHARS", 5)
        assert index_document(*texts) == whole(*texts)


def test_a_long_body_is_capped_like_before() -> None:
    body = "Über ΟΔΟΣ straße " * 50_000
    assert index_document("subject", body) == whole("subject", body)
    assert len(index_document("subject", body)) <= MAX_DOCUMENT_CHARS
