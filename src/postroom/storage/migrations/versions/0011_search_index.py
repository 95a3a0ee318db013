"""search starts from an index: pg_trgm GIN indexes for the substrings (PostgreSQL), an FTS5 trigram table (SQLite)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Each expression is exactly what postroom.storage.mail_search compares, so the planner can use the index.
_POSTGRES_INDEXES = {
    "ix_messages_subject_trgm": "lower(CAST(subject AS VARCHAR))",
    "ix_messages_from_trgm": "lower(CAST(from_ AS VARCHAR))",
    "ix_messages_recipients_trgm": (
        "lower(CAST(\"to\" AS VARCHAR) || E'\\n' || CAST(cc AS VARCHAR) || E'\\n' || CAST(bcc AS VARCHAR))"
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in _POSTGRES_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON messages USING gin (({expression}) gin_trgm_ops)")
        return
    op.execute("CREATE VIRTUAL TABLE message_fields USING fts5(subject, sender, recipients, tokenize = 'trigram')")
    op.execute(
        "INSERT INTO message_fields (rowid, subject, sender, recipients)"
        ' SELECT d.doc_id, m.subject, m.from_, m."to" || char(10) || m.cc || char(10) || m.bcc'
        " FROM message_search_docs AS d JOIN messages AS m ON m.row_id = d.row_id"
    )
    op.execute("DROP TRIGGER message_search_docs_delete")
    op.execute(
        "CREATE TRIGGER message_search_docs_delete AFTER DELETE ON message_search_docs BEGIN"
        " DELETE FROM message_search WHERE rowid = old.doc_id;"
        " DELETE FROM message_fields WHERE rowid = old.doc_id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in _POSTGRES_INDEXES:
            op.execute(f"DROP INDEX {name}")
        return
    op.execute("DROP TRIGGER message_search_docs_delete")
    op.execute(
        "CREATE TRIGGER message_search_docs_delete AFTER DELETE ON message_search_docs"
        " BEGIN DELETE FROM message_search WHERE rowid = old.doc_id; END"
    )
    op.execute("DROP TABLE message_fields")
