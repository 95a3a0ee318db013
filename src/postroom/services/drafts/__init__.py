"""Drafts: editing, human review, sending on request and at their scheduled time."""
