"""The web console at ``/console/``: people read mail, approve agents' drafts and manage keys over the public API."""
