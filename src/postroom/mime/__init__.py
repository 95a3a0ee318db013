"""Pure MIME functions: parse raw bytes, compose outgoing MIME, reply extraction, HTML to text (no I/O)."""
