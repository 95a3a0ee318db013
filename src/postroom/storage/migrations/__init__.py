"""Alembic migration scripts for the Postroom schema."""
