"""Upkeep of a running deployment: retention of finished rows and trashed mail."""
