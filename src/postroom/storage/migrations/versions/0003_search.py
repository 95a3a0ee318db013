"""full-text search of messages: SQLite FTS5 or a PostgreSQL GIN-indexed tsvector, backfilled

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from postroom.domain.search import index_document
from postroom.mime.html import html_to_text
from postroom.storage.mail_search import index_message

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BACKFILL_BATCH = 500


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.create_table(
            "message_search",
            sa.Column("row_id", sa.String(length=64), nullable=False),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
            sa.ForeignKeyConstraint(
                ["row_id"], ["messages.row_id"], name=op.f("fk_message_search_row_id_messages"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("row_id", name=op.f("pk_message_search")),
        )
        op.create_index("ix_message_search_document", "message_search", ["document"], postgresql_using="gin")
    else:
        op.execute(
            "CREATE TABLE message_search_docs ("
            " doc_id INTEGER PRIMARY KEY,"
            " row_id VARCHAR(64) NOT NULL UNIQUE REFERENCES messages (row_id) ON DELETE CASCADE)"
        )
        op.execute(
            "CREATE VIRTUAL TABLE message_search USING fts5(document, tokenize = 'unicode61 remove_diacritics 0')"
        )
        op.execute(
            "CREATE TRIGGER message_search_docs_delete AFTER DELETE ON message_search_docs"
            " BEGIN DELETE FROM message_search WHERE rowid = old.doc_id; END"
        )
    _backfill(bind)


def _backfill(bind: sa.Connection) -> None:
    m = sa.table(
        "messages",
        *(sa.column(name) for name in ("row_id", "subject", "from_", "text", "html")),
        *(sa.column(name, sa.JSON) for name in ("to", "cc", "bcc")),
    )
    after = ""
    while True:
        query = sa.select(m).where(m.c.row_id > after).order_by(m.c.row_id).limit(_BACKFILL_BATCH)
        rows = list(bind.execute(query).mappings())
        for row in rows:
            recipients = [*(row["to"] or []), *(row["cc"] or []), *(row["bcc"] or [])]
            body = row["text"] if row["text"] is not None else (html_to_text(row["html"]) if row["html"] else None)
            document = index_document(row["subject"], row["from_"], " ".join(recipients), body)
            index_message(bind, row["row_id"], document)
        if len(rows) < _BACKFILL_BATCH:
            return
        after = rows[-1]["row_id"]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_message_search_document", table_name="message_search")
        op.drop_table("message_search")
    else:
        op.execute("DROP TRIGGER message_search_docs_delete")
        op.execute("DROP TABLE message_search")
        op.execute("DROP TABLE message_search_docs")
