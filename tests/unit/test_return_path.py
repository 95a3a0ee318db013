"""Return paths name their message and carry a tag only the server can make."""

from __future__ import annotations

from postroom.domain.ids import new_id
from postroom.domain.return_path import ReturnPaths


def test_a_return_path_names_its_message_and_nothing_else() -> None:
    paths = ReturnPaths(b"k" * 32, "Postroom.Localhost")
    row_id = new_id("msg")
    address = paths.address(row_id)
    assert address.startswith(f"bounces={row_id}.")
    assert address.endswith("@postroom.localhost")
    assert paths.message_row(address) == row_id
    assert paths.message_row(address.upper()) == row_id  # mail systems may change the case
    local, domain = address.split("@")
    assert paths.message_row(f"{local[:-1]}{'0' if local[-1] != '0' else '1'}@{domain}") is None
    assert paths.message_row(f"{local}@elsewhere.example") is None
    assert paths.message_row(f"bounces={row_id}@{domain}") is None
    assert ReturnPaths(b"o" * 32, "postroom.localhost").message_row(address) is None
    assert paths.message_row("someone@postroom.localhost") is None
