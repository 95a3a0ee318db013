"""SMTP transport: the inbound server that accepts mail for this server's inboxes (aiosmtpd)."""
