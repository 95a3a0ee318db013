"""Outbound HTTP to addresses users give us (webhooks, attachment URLs): resolve once, check, connect to that."""
