"""Persistence: tables, repositories and the unit of work over SQLAlchemy (SQLite by default, PostgreSQL)."""
