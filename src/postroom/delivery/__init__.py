"""Outbound delivery: routing a recipient domain to its next hop, DKIM signing and the SMTP hand-off."""
