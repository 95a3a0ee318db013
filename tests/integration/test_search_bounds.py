"""Search starts from its indexes and never holds the database longer than its bound, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from postroom.errors import ServiceUnavailable
from postroom.runtime import build
from postroom.storage.bounded import bounded
from postroom.storage.engine import create_database_engine
from postroom.storage.migrate import upgrade
from tests.conftest import make_settings
from tests.integration.test_search import Mail, mail  # noqa: F401  (the fixture, for both databases)

# Runs until stopped: no database finishes it within any bound a test would wait for.
_ENDLESS = {
    "postgresql": "SELECT pg_sleep(600)",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n",
}


def test_a_statement_past_its_bound_is_stopped_and_the_connection_stays_usable(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            with pytest.raises(ServiceUnavailable) as stopped, bounded(connection, 0.05, "search"):
                connection.exec_driver_sql(_ENDLESS[connection.dialect.name])
            assert stopped.value.code == "service_unavailable"
            assert "search" in stopped.value.message
            connection.rollback()
            with bounded(connection, 5.0, "search"):
                assert connection.execute(text("SELECT 1")).scalar() == 1
            connection.rollback()
    finally:
        engine.dispose()


def test_the_bound_is_lifted_after_the_block(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            with bounded(connection, 0.001 if connection.dialect.name == "postgresql" else 5.0, "search"):
                pass
            # Slower than the bound above, and not stopped: the bound ended with the block.
            slow = "SELECT pg_sleep(0.05)" if connection.dialect.name == "postgresql" else "SELECT 1"
            connection.exec_driver_sql(slow)
            connection.rollback()
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'bounded.db'}"
    engine = create_database_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_a_search_stopped_at_its_bound_answers_503_in_the_error_shape(sqlite_database: str, tmp_path: Path) -> None:
    """A bound already spent: the first look at the clock stops the statement (SQLite checks as it runs)."""
    runtime = build(make_settings(sqlite_database, tmp_path, search_timeout_seconds=1e-9), migrate=False)
    try:
        with TestClient(runtime.api(), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {runtime.bootstrap.api_key}"
            mail = Mail(client, runtime)
            inbox = mail.inbox("bounded")
            for number in range(30):
                mail.store(inbox, f"Report {number}", "The quarterly report is attached.")
            for path in (f"/v0/inboxes/{inbox}/messages/search", f"/v0/inboxes/{inbox}/threads/search"):
                response = client.get(path, params={"q": "report"})
                assert response.status_code == 503, response.text
                body = response.json()
                assert body["name"] == "ServiceUnavailableError"
                assert body["code"] == "service_unavailable"
                assert "search" in body["message"]
                assert body["fix"]
            # Listing is not bounded this way and still works.
            assert client.get(f"/v0/inboxes/{inbox}/messages").status_code == 200
    finally:
        runtime.close()


def test_each_kind_of_match_ranks_only_its_most_recent_candidates(
    mail: Mail,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("postroom.storage.mail_search.SEARCH_CANDIDATES", 2)
    inbox = mail.inbox("candidates")
    in_subject = mail.store(inbox, "Gizmo order", "an old message")
    in_body = [mail.store(inbox, f"Note {n}", f"the gizmo number {n}") for n in range(4)]

    # The subject branch finds the oldest message, the word branch only the two newest bodies.
    assert mail.message_ids(inbox, "gizmo") == [in_subject, in_body[3], in_body[2]]
    threads = mail.search(f"/v0/inboxes/{inbox}/threads/search", "gizmo")["threads"]
    assert len(threads) == 3


def test_substring_wildcards_in_the_query_are_literal(mail: Mail) -> None:  # noqa: F811
    inbox = mail.inbox("wildcards")
    underscore = mail.store(inbox, "x_y", "nothing")
    mail.store(inbox, "xzy", "nothing")
    percent = mail.store(inbox, "1%2", "nothing")
    mail.store(inbox, "1a2", "nothing")

    assert mail.message_ids(inbox, "x_y") == [underscore]
    assert mail.message_ids(inbox, "1%2") == [percent]
