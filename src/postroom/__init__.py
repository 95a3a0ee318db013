"""Postroom: self-hostable email inboxes for AI agents, speaking the AgentMail REST API."""
